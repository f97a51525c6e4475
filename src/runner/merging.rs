//! Merges as results arrive (`--isolation worktree`): each task's change is
//! merged into the project tree as soon as its attempt succeeds and is
//! recorded, while the group's other agents run, so the tail after the last
//! agent is at most one merge.
//!
//! The order is the order tasks succeed in, and the crash protocol records
//! it (`integrating`, the tree written, `integrated`, as at the end). A
//! three-way merge of changes that touch different lines gives the same
//! tree in any order, so the result depends on the finishing order only
//! through the lines two tasks both changed. Those conflict: the first
//! conflict (or error) leaves that task and every later one to the merge
//! before the gate ([`super::Ctx::integrate`]), which handles it exactly as
//! it always has, in roadmap order, skipping what is integrated.
//!
//! With `--nats` the task's commit is a worker's: its branch is fetched from
//! the project's remote as its result arrives (the records name it), then
//! merged the same way.

use super::group::GroupIo;
use crate::config::GitSettings;
use crate::events::{Event, Reporter};
use crate::roadmap::{GroupKey, Task};
use crate::status::{IntegrationRecord, Store, TaskRecord};
use crate::vcs::Repo;
use crate::worktree::{self, Merged, Worktrees};
use git2::Oid;

/// A group's merges as its tasks succeed.
#[derive(Debug, Default)]
pub struct Arriving {
    /// A merge conflicted or failed: the rest waits for the end.
    deferred: bool,
    /// Run on workers (`--nats`): their branches are fetched through these.
    remote: Option<GitSettings>,
}

impl Arriving {
    /// Merges of workers' branches (`--nats`), fetched with `git`.
    pub fn remote(git: GitSettings) -> Arriving {
        Arriving {
            deferred: false,
            remote: Some(git),
        }
    }

    /// Merges the task's worktree now, or leaves it (and every later
    /// task) to the merge before the gate.
    pub fn merge(
        &mut self,
        repo: &Repo,
        wts: &Worktrees,
        key: &GroupKey,
        task: &Task,
        io: &mut GroupIo<'_, '_>,
    ) {
        if self.deferred {
            return;
        }
        let message = task_message(task);
        let commit = match &self.remote {
            None => worktree::commit_task(wts, key, &task.id, &message).map_err(|e| e.to_string()),
            Some(git) => worker_commit(repo, git, io.store, key, &task.id),
        };
        let merged = commit.and_then(|commit| {
            match worktree::merge_task(repo, wts, key, commit, &message) {
                Ok(Ok(m)) => record_merge(repo, io.store, key, &task.id, commit, m).map(Some),
                // Handled before the gate, where a resolver may run.
                Ok(Err(_conflict)) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        });
        match merged {
            Ok(Some(files)) => io.reporter.report(&merged_note(key, &task.id, files.len())),
            Ok(None) => {
                tracing::info!(group = %key, task = %task.id, "conflict: merged before the gate");
                self.deferred = true;
            }
            Err(e) => {
                tracing::warn!(group = %key, task = %task.id, error = %e, "merged before the gate");
                self.deferred = true;
            }
        }
    }
}

/// The commit a worker pushed for the task's latest attempt, fetched from
/// the project's remote unless it is here already.
fn worker_commit(
    repo: &Repo,
    git: &GitSettings,
    store: &Store<'_>,
    key: &GroupKey,
    task_id: &str,
) -> Result<Oid, String> {
    let latest = store.view().latest_outcomes(key);
    let rec = latest
        .get(task_id)
        .ok_or_else(|| format!("no record of {task_id}'s attempt"))?;
    let commit =
        fetched_commit(rec).ok_or_else(|| format!("{task_id}'s result names no commit"))?;
    fetch_branches(repo, git, &[rec])?;
    repo.git2()
        .find_commit(commit)
        .map(|c| c.id())
        .map_err(|e| format!("the worker's commit {commit} was not fetched: {e}"))
}

/// The commit a worker pushed for the attempt (`--nats`).
pub fn fetched_commit(rec: &TaskRecord) -> Option<Oid> {
    rec.commit.as_deref().and_then(|c| Oid::from_str(c).ok())
}

/// The branches workers pushed for these attempts whose commits are not
/// here yet, fetched from the project's remote in one go.
pub fn fetch_branches(
    repo: &Repo,
    git: &GitSettings,
    records: &[&TaskRecord],
) -> Result<(), String> {
    let specs: Vec<String> = records
        .iter()
        .filter(|r| fetched_commit(r).is_none_or(|c| repo.git2().find_commit(c).is_err()))
        .filter_map(|r| r.branch.as_deref())
        .map(branch_refspec)
        .collect();
    if specs.is_empty() {
        return Ok(());
    }
    let url = repo.push_url(git).map_err(|e| e.to_string())?;
    crate::vcs::transfer::fetch_refspecs(repo.git2(), &url, &specs, git)
        .map_err(|e| format!("cannot fetch the workers' task branches: {e}"))
}

/// Where a worker's branch is fetched to: `refs/<branch>`.
pub fn branch_refspec(branch: &str) -> String {
    format!("+refs/heads/{branch}:refs/{branch}")
}

/// The task's commit message (`A1: title`), also its merge's.
pub fn task_message(task: &Task) -> String {
    format!("{}: {}", task.id, task.title)
}

/// A clean merge written into the project tree between the `integrating`
/// and `integrated` records. The files the task changed.
pub fn record_merge(
    repo: &Repo,
    store: &mut Store<'_>,
    key: &GroupKey,
    task_id: &str,
    commit: Oid,
    m: Merged,
) -> Result<Vec<String>, String> {
    let files = worktree::task_files(repo, m.from, commit).map_err(|e| e.to_string())?;
    let rec = IntegrationRecord {
        phase: key.phase.clone(),
        group: key.group.clone(),
        task: task_id.to_string(),
        commit: commit.to_string(),
        from: m.from.to_string(),
        to: m.to.to_string(),
        files: files.clone(),
        at: chrono::Utc::now(),
    };
    store.integrating(&rec).map_err(|e| e.to_string())?;
    worktree::finish_integration(repo, key, m).map_err(|e| e.to_string())?;
    store.integrated(&rec).map_err(|e| e.to_string())?;
    // Between two merges: where a kill must resume to the same result.
    crate::status::store::crash_point("integrated");
    tracing::info!(group = %key, task = %task_id, files = files.len(), "integrated");
    Ok(files)
}

pub fn merged_note(key: &GroupKey, task_id: &str, files: usize) -> Event {
    Event::Note {
        message: format!(
            "{key}: {task_id}'s worktree merged into the project tree ({})",
            crate::text::plural(files, "file")
        ),
    }
}

/// Reports through a reporter alone (the merge before the gate).
pub fn note(reporter: &mut dyn Reporter, key: &GroupKey, task_id: &str, files: usize) {
    reporter.report(&merged_note(key, task_id, files));
}
