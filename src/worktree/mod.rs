//! `--isolation worktree`: every task of a group works in a git worktree of
//! its own, made from the group's base, and its change is merged back into
//! the project's working tree with a three-way merge before the gate.
//!
//! This module owns every worktree, branch and runner ref, all through git2:
//!
//! * [`base`]: the group's base, a commit of the project's state (HEAD plus
//!   the uncommitted changes) under `refs/roadmap-runner/base/<phase>-<group>`,
//!   made without moving HEAD or touching the index;
//! * [`create`]: a task's worktree on branch `roadmap-runner/<phase>-<group>-<task>`,
//!   outside the project (jest would crawl one inside, cargo would take its
//!   `Cargo.toml` for a workspace member), with the `link` paths symlinked;
//! * [`integrate`]: the task's commit on its branch, merged into the merged
//!   state (`refs/roadmap-runner/merged/<phase>-<group>`) and written into the
//!   project tree, or its conflicts;
//! * [`clean`]: removing worktrees, deleting task branches once their phase
//!   commit is out, archiving work found nowhere else.
//!
//! Every name goes through [`crate::roadmap::slug`]: ids are untrusted text.
//! A phase or group slug never holds a `-` (phase ids are numbers, group ids
//! letters), so `<phase>-<group>-<task>` cannot collide.

pub mod archive;
pub mod base;
pub mod check;
pub mod clean;
pub mod create;
pub mod integrate;

use crate::config::WorktreeSettings;
use crate::roadmap::{GroupKey, slug};
use crate::vcs::VcsError;
use std::path::{Path, PathBuf};

pub use base::{make_base, snapshot_tree};
pub use check::{Dropped, Side, dropped_changes};
pub use clean::{
    CleanReport, WorktreeInfo, clean, committed_phases, has_runner_refs, list_worktrees,
    project_worktrees, release_phase, remove_group_worktrees,
};
pub use create::{TaskWorktree, create_task_worktree, remove_worktree};
pub use integrate::{
    Conflict, Merged, Unresolved, commit_task, commit_worktree, finish_integration, merge_task,
    resolved_merge, start_resolver, task_files,
};

/// Task branches: `roadmap-runner/1-A-A1`.
pub const BRANCH_PREFIX: &str = "roadmap-runner/";
/// The group's base: `refs/roadmap-runner/base/1-A`.
pub const BASE_REF_PREFIX: &str = "refs/roadmap-runner/base/";
/// The group's merged state so far: `refs/roadmap-runner/merged/1-A`.
pub const MERGED_REF_PREFIX: &str = "refs/roadmap-runner/merged/";
/// Work `clean` found nowhere else: `refs/roadmap-runner/archive/1-A-A1-<time>`.
pub const ARCHIVE_REF_PREFIX: &str = "refs/roadmap-runner/archive/";
/// The trailer of the runner's bookkeeping commits (bases, merges).
pub const TRAILER: &str = "Roadmap-Runner";

#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("git: {context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Vcs(#[from] VcsError),
    #[error(
        "the worktree of {task} ({}) is gone, so its work cannot be merged: run the task again \
         (`roadmap-runner rollback {group}`, then run)",
        path.display()
    )]
    Missing {
        task: String,
        group: String,
        path: PathBuf,
    },
    #[error(
        "a merge (or another git operation) is in progress in {}: finish it (`git commit`) or \
         abort it (`git merge --abort`) there, then run again",
        path.display()
    )]
    Busy { path: PathBuf },
    #[error(
        "{group} has no base ref ({BASE_REF_PREFIX}...): run its tasks again (`roadmap-runner rollback {group}`)"
    )]
    NoBase { group: String },
}

/// Adds what the operation was to a git2 or io error.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, WorktreeError>;
}

impl<T> Context<T> for Result<T, git2::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, WorktreeError> {
        self.map_err(|source| WorktreeError::Git {
            context: what(),
            source,
        })
    }
}

impl<T> Context<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, WorktreeError> {
        self.map_err(|source| WorktreeError::Io {
            context: what(),
            source,
        })
    }
}

/// `1-A`: the group part of every name.
pub fn group_name(key: &GroupKey) -> String {
    format!("{}-{}", slug(key.phase.as_str()), slug(&key.group))
}

/// `1-A-A1`: the task's worktree directory, git worktree name and branch tail.
pub fn task_name(key: &GroupKey, task: &str) -> String {
    format!("{}-{}", group_name(key), slug(task))
}

/// `1-A-+resolve`: the resolver's worktree (`+` followed by letters that are
/// not two hex digits never comes out of `slug`, so no task id maps here).
pub fn resolver_name(key: &GroupKey) -> String {
    format!("{}-+resolve", group_name(key))
}

pub fn branch_name(name: &str) -> String {
    format!("{BRANCH_PREFIX}{name}")
}

pub fn base_ref(key: &GroupKey) -> String {
    format!("{BASE_REF_PREFIX}{}", group_name(key))
}

pub fn merged_ref(key: &GroupKey) -> String {
    format!("{MERGED_REF_PREFIX}{}", group_name(key))
}

/// Where a project's worktrees live, and what goes into each.
#[derive(Debug, Clone)]
pub struct Worktrees {
    pub root: PathBuf,
    pub project_dir: PathBuf,
    /// The project directory inside the repository's work tree (`""` or
    /// `sub/dir/`), since a worktree holds the whole repository.
    pub prefix: String,
    pub settings: WorktreeSettings,
}

impl Worktrees {
    pub fn new(project_dir: &Path, workdir: &Path, settings: &WorktreeSettings) -> Worktrees {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let project = canon(project_dir);
        let prefix = project
            .strip_prefix(canon(workdir))
            .ok()
            .map(|rel| {
                let s = rel.to_string_lossy().replace('\\', "/");
                if s.is_empty() { s } else { format!("{s}/") }
            })
            .unwrap_or_default();
        let root = match &settings.dir {
            Some(d) => project_dir.join(d),
            None => default_root(&project),
        };
        Worktrees {
            root,
            project_dir: project_dir.to_path_buf(),
            prefix,
            settings: settings.clone(),
        }
    }

    /// The worktree directory of a task (it may not exist).
    pub fn task_path(&self, key: &GroupKey, task: &str) -> PathBuf {
        self.root.join(task_name(key, task))
    }

    /// The project directory inside a worktree: where its agent works.
    pub fn cwd_in(&self, worktree: &Path) -> PathBuf {
        worktree.join(self.prefix.trim_end_matches('/'))
    }

    /// Project-relative patterns never taken from a worktree: the runner's
    /// own files and the linked paths.
    pub fn excluded(&self) -> Vec<&str> {
        let mut v: Vec<&str> = crate::vcs::RUNNER_FILES.to_vec();
        v.extend(self.settings.link.iter().map(String::as_str));
        v
    }

    /// `CARGO_TARGET_DIR` for a worktree of a Cargo project: one per
    /// worktree (a shared one serves stale artifacts), outside it so it is
    /// never committed, removed with it.
    pub fn cargo_target_dir(&self, name: &str) -> Option<PathBuf> {
        if !self.project_dir.join("Cargo.toml").exists() {
            return None;
        }
        Some(match &self.settings.cargo_target_dir {
            Some(d) => self.project_dir.join(d),
            None => self.root.join(format!("{name}.target")),
        })
    }
}

/// `$XDG_CACHE_HOME/roadmap-runner/worktrees/<project>-<hash>` (or under
/// `~/.cache`): the hash of the project's path keeps two checkouts of one
/// project apart.
fn default_root(project: &Path) -> PathBuf {
    let name = project
        .file_name()
        .map(|n| slug(&n.to_string_lossy()))
        .unwrap_or_else(|| "project".into());
    let hash = fnv1a(project.as_os_str().as_encoded_bytes());
    crate::project::cache_dir()
        .join("worktrees")
        .join(format!("{name}-{:012x}", hash & 0xffff_ffff_ffff))
}

/// FNV-1a, 64 bits: stable across builds (std's hasher is not).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A repository in `dir` with one commit of `a.txt`, for the unit tests.
#[cfg(test)]
pub(crate) fn test_repo(dir: &std::path::Path) -> crate::vcs::Repo {
    let git = git2::Repository::init(dir).unwrap();
    let mut cfg = git.config().unwrap();
    cfg.set_str("user.name", "T").unwrap();
    cfg.set_str("user.email", "t@example.invalid").unwrap();
    std::fs::write(dir.join("a.txt"), "a\n").unwrap();
    let mut index = git.index().unwrap();
    index.add_path(std::path::Path::new("a.txt")).unwrap();
    index.write().unwrap();
    let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git.signature().unwrap();
    git.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
        .unwrap();
    crate::vcs::Repo::open(dir).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_slugs_and_never_collide() {
        let key = GroupKey::new(1, "A");
        assert_eq!(task_name(&key, "A1"), "1-A-A1");
        assert_eq!(branch_name(&task_name(&key, "A1")), "roadmap-runner/1-A-A1");
        assert_eq!(base_ref(&key), "refs/roadmap-runner/base/1-A");
        let hostile = task_name(&key, "../../x y/-z");
        assert!(
            !hostile.contains('/') && !hostile.contains(".."),
            "{hostile}"
        );
        assert_ne!(task_name(&key, "resolve"), resolver_name(&key));
        assert_ne!(task_name(&key, "+resolve"), resolver_name(&key));
        git2::Reference::is_valid_name(&branch_name(&hostile))
            .then_some(())
            .expect("a valid ref name");
    }

    #[test]
    fn default_root_is_outside_the_project_and_per_path() {
        let a = default_root(Path::new("/srv/a/shop"));
        let b = default_root(Path::new("/srv/b/shop"));
        assert_ne!(a, b);
        assert!(!a.starts_with("/srv/a/shop"));
        assert!(
            a.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("shop-")
        );
    }
}
