//! Commits on the current branch, and finding the phase commits in history.

use super::error::Context;
use super::{PathPatterns, Repo, VcsError, phase_of_message};
use crate::roadmap::PhaseId;
use git2::{IndexAddOption, Oid, RepositoryState};
use std::path::Path;

/// How far back [`Repo::find_phase_commit`] looks.
pub const HISTORY_LIMIT: usize = 10_000;

impl Repo {
    /// The author and committer for the runner's commits, from git config.
    pub fn signature(&self) -> Result<git2::Signature<'static>, VcsError> {
        self.repo.signature().map_err(|e| VcsError::NoIdentity {
            dir: self.workdir.clone(),
            message: e.message().to_string(),
        })
    }

    /// Stages everything (new, changed and deleted files; `.gitignore`
    /// respected) and commits it on the current branch. `Ok(None)` when
    /// nothing changed: no empty commit.
    pub fn commit_all(&self, message: &str) -> Result<Option<String>, VcsError> {
        self.commit_all_except(message, &[])
    }

    /// [`commit_all`](Self::commit_all), leaving files matching `exclude`
    /// (project-relative patterns, see [`path_matches`]) out of the commit.
    pub fn commit_all_except(
        &self,
        message: &str,
        exclude: &[&str],
    ) -> Result<Option<String>, VcsError> {
        // Everything that can refuse the commit is checked before the index changes.
        let sig = self.signature()?;
        self.check_ready_to_commit()?;

        let mut index = self
            .repo
            .index()
            .context(|| "cannot open the git index".into())?;
        let exclude = PathPatterns::new(exclude);
        let mut filter = |path: &Path, _spec: &[u8]| -> i32 {
            let p = path.to_string_lossy().replace('\\', "/");
            if self.ignored(&p, &exclude) { 1 } else { 0 }
        };
        index
            .add_all(["*"], IndexAddOption::DEFAULT, Some(&mut filter))
            .context(|| "cannot stage the changes (git add)".into())?;
        index
            .update_all(["*"], Some(&mut filter))
            .context(|| "cannot stage the changes (git add -u)".into())?;
        index
            .write()
            .context(|| "cannot write the git index".into())?;
        let tree_id = index.write_tree().map_err(|e| VcsError::Git {
            context: if index.has_conflicts() {
                "the index has unresolved conflicts (see `git status`)".into()
            } else {
                "cannot write the tree to commit".into()
            },
            source: e,
        })?;
        self.commit_tree(&sig, tree_id, message, || Ok(()))
    }

    /// Commits `tree_id` on the current branch, `prepare` run just before
    /// (once it is known a commit is due). `Ok(None)` when the tree is
    /// HEAD's: no empty commit.
    pub(crate) fn commit_tree(
        &self,
        sig: &git2::Signature<'_>,
        tree_id: Oid,
        message: &str,
        prepare: impl FnOnce() -> Result<(), VcsError>,
    ) -> Result<Option<String>, VcsError> {
        let parent = self.head_commit()?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .context(|| "cannot read the tree to commit".into())?;
        let unchanged = match &parent {
            Some(p) => p.tree_id() == tree_id,
            None => tree.is_empty(),
        };
        if unchanged {
            return Ok(None);
        }
        prepare()?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self
            .repo
            .commit(Some("HEAD"), sig, sig, message, &tree, &parents)
            .context(|| "cannot create the commit".into())?;
        Ok(Some(id.to_string()))
    }

    pub(super) fn check_ready_to_commit(&self) -> Result<(), VcsError> {
        let state = self.repo.state();
        if state != RepositoryState::Clean {
            return Err(VcsError::Busy {
                dir: self.workdir.clone(),
                state: state_name(state).into(),
            });
        }
        if self.repo.head_detached().unwrap_or(false) {
            return Err(VcsError::DetachedHead {
                dir: self.workdir.clone(),
            });
        }
        Ok(())
    }

    /// The newest commit (searching back from HEAD, at most [`HISTORY_LIMIT`]
    /// commits) whose message carries the trailer `Roadmap-Phase: <phase>`.
    pub fn find_phase_commit(&self, phase: &PhaseId) -> Result<Option<String>, VcsError> {
        let mut walk = self
            .repo
            .revwalk()
            .context(|| "cannot walk the history".into())?;
        let Some(head) = self.head_commit()? else {
            return Ok(None);
        };
        walk.push(head.id())
            .context(|| "cannot walk the history".into())?;
        let wanted = phase.to_string();
        for oid in walk.take(HISTORY_LIMIT) {
            let oid = oid.context(|| "cannot walk the history".into())?;
            let commit = self
                .repo
                .find_commit(oid)
                .context(|| format!("cannot read commit {oid}"))?;
            let message = String::from_utf8_lossy(commit.message_bytes());
            if phase_of_message(&message).as_deref() == Some(wanted.as_str()) {
                return Ok(Some(oid.to_string()));
            }
        }
        Ok(None)
    }

    /// The phase commits reachable from HEAD (at most [`HISTORY_LIMIT`]
    /// commits back), newest first: `(phase, first parent)` of each commit
    /// with a `Roadmap-Phase` trailer.
    pub fn phase_commits(&self) -> Result<Vec<(String, Option<String>)>, VcsError> {
        let mut walk = self
            .repo
            .revwalk()
            .context(|| "cannot walk the history".into())?;
        let Some(head) = self.head_commit()? else {
            return Ok(Vec::new());
        };
        walk.push(head.id())
            .context(|| "cannot walk the history".into())?;
        let mut phases = Vec::new();
        for oid in walk.take(HISTORY_LIMIT) {
            let oid = oid.context(|| "cannot walk the history".into())?;
            let commit = self
                .repo
                .find_commit(oid)
                .context(|| format!("cannot read commit {oid}"))?;
            let message = String::from_utf8_lossy(commit.message_bytes());
            if let Some(phase) = phase_of_message(&message) {
                phases.push((phase, commit.parent_id(0).ok().map(|p| p.to_string())));
            }
        }
        Ok(phases)
    }
}

fn state_name(state: RepositoryState) -> &'static str {
    match state {
        RepositoryState::Clean => "nothing",
        RepositoryState::Merge => "merge",
        RepositoryState::Revert | RepositoryState::RevertSequence => "revert",
        RepositoryState::CherryPick | RepositoryState::CherryPickSequence => "cherry-pick",
        RepositoryState::Bisect => "bisect",
        RepositoryState::Rebase
        | RepositoryState::RebaseInteractive
        | RepositoryState::RebaseMerge => "rebase",
        RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => "git am",
    }
}
