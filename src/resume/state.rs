//! The one run state: everything the decision reads, loaded once.

use crate::config::GitSettings;
use crate::roadmap::PhaseId;
use crate::status::{
    CommitState, CompletedGroups, InProgress, LineWarning, Record, RunView, StatusDir, StatusError,
    kill_leftovers, phase_commit_state, recover_in_progress,
};
use crate::vcs::Repo;
use std::collections::BTreeMap;

/// What git says, as far as the decision needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitState {
    /// Commits on the branch the remote does not have.
    pub unpushed: usize,
    /// `(phase, parent)` of the phase commits in HEAD's recent history.
    pub phase_commits: Vec<(String, Option<String>)>,
    /// How many records HEAD's committed `status/tasks.jsonl` holds (a
    /// phase commit holds its own `commit` record; a rebase keeps it).
    pub committed_records: Option<usize>,
    /// The working tree against the runner's latest snapshot (loaded for a
    /// run only: `status` and `--dry-run` leave it out).
    pub line: Option<LineState>,
}

/// What changed since the runner last held the tree: its latest snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineState {
    /// The snapshot's tree.
    pub tree: String,
    /// Taken after a group ended. `false`: before a group that never ended
    /// (its run was killed), so what changed since is that group's.
    pub ended: bool,
    /// The user's changes that snapshot left out, with their content then.
    pub left_out: BTreeMap<String, String>,
    /// The paths that differ now from the snapshot, with their content now
    /// (the runner's own files and the run's inputs not among them).
    pub changed: BTreeMap<String, String>,
}

impl GitState {
    pub fn read(repo: &Repo, git: &GitSettings) -> GitState {
        let records = format!("status/{}", crate::status::records::RECORDS_FILE);
        let committed_records = repo
            .head_file(&records)
            .map(|bytes| crate::status::records::parse_records(&bytes).0.len());
        GitState {
            unpushed: repo.unpushed_commits(git).unwrap_or(0),
            phase_commits: repo.phase_commits().unwrap_or_default(),
            committed_records,
            line: None,
        }
    }
}

/// The working tree against the latest snapshot in `records`, paths
/// matching `own` (project-relative patterns) left out. `Ok(None)` when
/// the runner never took one.
fn read_line(
    repo: &Repo,
    records: &[Record],
    own: &[&str],
) -> Result<Option<LineState>, crate::vcs::VcsError> {
    let Some(last) = crate::status::latest_snapshot(records) else {
        return Ok(None);
    };
    let now = repo.snapshot(None, crate::vcs::TRANSIENT_FILES)?;
    Ok(Some(LineState {
        changed: repo.tree_changes(&last.tree, &now.tree, own)?,
        tree: last.tree.clone(),
        ended: last.point == crate::status::SnapshotPoint::End,
        left_out: last.left_out.clone(),
    }))
}

/// `completed_tasks.txt` (the authority, hand edits included), every record
/// of `tasks.jsonl`, what a dead run left in `in_progress_tasks.txt`, and
/// the git state.
#[derive(Debug, Clone, Default)]
pub struct RunState {
    pub completed: CompletedGroups,
    pub completed_warnings: Vec<LineWarning>,
    pub records: Vec<Record>,
    pub record_warnings: Vec<String>,
    /// The in-progress file of a run that died (its runner is gone).
    pub interrupted: Option<InProgress>,
    /// Process groups of that run found alive and killed on load.
    pub killed: Vec<u32>,
    /// `None` without a repository.
    pub git: Option<GitState>,
}

impl RunState {
    /// Reads the state without changing anything (for `status`): a dead
    /// run's leftovers are reported, not killed.
    pub fn read(
        status: &StatusDir,
        repo: Option<&Repo>,
        git: &GitSettings,
    ) -> Result<RunState, StatusError> {
        let mut state = Self::files(status)?;
        state.interrupted = recover_in_progress(status, false);
        state.git = repo.map(|r| GitState::read(r, git));
        Ok(state)
    }

    /// Loads the state for a run, under the run lock: a dead run's agents and
    /// gate processes are killed first (so nothing writes to the tree while
    /// it is checked), its in-progress file is cleared, then everything is
    /// read, the working tree compared with the runner's latest snapshot
    /// too (`own`: the paths that are never the user's change).
    pub fn recover(
        status: &StatusDir,
        repo: Option<&Repo>,
        git: &GitSettings,
        own: &[&str],
    ) -> Result<RunState, StatusError> {
        let interrupted = recover_in_progress(status, true);
        let killed = interrupted.as_ref().map(kill_leftovers).unwrap_or_default();
        if interrupted.is_some() {
            InProgress::clear(status)?;
        }
        let mut state = Self::files(status)?;
        state.interrupted = interrupted;
        state.killed = killed;
        state.git = repo.map(|r| GitState::read(r, git));
        if let (Some(repo), Some(g)) = (repo, state.git.as_mut()) {
            match read_line(repo, &state.records, own) {
                Ok(line) => g.line = line,
                Err(e) => state.record_warnings.push(format!(
                    "{}: cannot compare the working tree with the runner's last snapshot ({e}): what changed since the last run is taken into the phase commit",
                    crate::status::records::RECORDS_FILE
                )),
            }
        }
        Ok(state)
    }

    fn files(status: &StatusDir) -> Result<RunState, StatusError> {
        let loaded = RunView::load(status)?;
        let (records, completed) = loaded.view.into_parts();
        Ok(RunState {
            completed,
            completed_warnings: loaded.completed_warnings,
            records,
            record_warnings: loaded.record_warnings,
            ..RunState::default()
        })
    }

    /// The records and completed set as a view, for the run's store.
    pub fn view(&self) -> RunView {
        RunView::new(self.records.clone(), self.completed.clone())
    }

    pub fn commit_state(&self, phase: &PhaseId) -> CommitState {
        phase_commit_state(&self.records, phase)
    }

    /// `the previous run was interrupted during PHASE_1:B (...)`, with what
    /// recovery killed.
    pub fn interruption_note(&self) -> Option<String> {
        let ip = self.interrupted.as_ref()?;
        let mut message = ip.describe_interruption();
        if !self.killed.is_empty() {
            message.push_str(&format!(
                "; stopped its leftover processes (groups {:?})",
                self.killed
            ));
        }
        Some(message)
    }
}
