//! git, through git2: the clean-tree check, the phase commit, history, push.
//!
//! The runner commits each finished phase with a `Roadmap-Phase: <n>` trailer
//! ([`commit_message`]) so a later run can see that the phase is committed
//! ([`Repo::find_phase_commit`]) and never commits it twice; a commit that
//! could not be pushed stays local and is pushed by the next run
//! ([`Repo::unpushed_commits`], [`Repo::push`]).
//!
//! Paths are '/'-separated and relative to the repository's work tree; ignore
//! patterns ([`path_matches`]) are relative to the project directory, which may
//! be a subdirectory of the work tree.

mod commit;
mod error;
mod message;
mod paths;
mod publish;
mod push;
mod rebase;
mod snapshot;
pub mod transfer;

pub use commit::HISTORY_LIMIT;
use error::Context;
pub use error::VcsError;
pub use message::{
    PHASE_TRAILER, RUNNER_TRAILER, commit_message, made_by_runner, phase_commit_message,
    phase_of_message,
};
pub use paths::{PathPatterns, RUNNER_FILES, TRANSIENT_FILES, is_runner_file, path_matches};
pub use publish::{Published, UnpushedCommit, name_commits};
pub use push::PushOutcome;
pub use rebase::{Integrate, Integration};
pub use snapshot::{DELETED, LeftOut, Snapshot, index_entry};

use git2::{DiffOptions, ErrorCode, Oid, Repository, Status, StatusOptions};
use std::path::{Path, PathBuf};

/// A git work tree the runner works in.
pub struct Repo {
    repo: Repository,
    workdir: PathBuf,
    /// The project directory relative to the work tree, '/'-separated, with a
    /// trailing '/' (empty when they are the same).
    project_prefix: String,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("workdir", &self.workdir)
            .field("project_prefix", &self.project_prefix)
            .finish()
    }
}

impl Repo {
    /// Opens the repository containing `project_dir` (which may be a
    /// subdirectory of the work tree).
    pub fn open(project_dir: &Path) -> Result<Repo, VcsError> {
        let repo = Repository::discover(project_dir).map_err(|e| match e.code() {
            ErrorCode::NotFound => VcsError::NotARepo {
                dir: project_dir.to_path_buf(),
            },
            _ => VcsError::Git {
                context: format!(
                    "cannot open the git repository at {}",
                    project_dir.display()
                ),
                source: e,
            },
        })?;
        // libgit2 gives the work tree with a trailing '/'; messages read better without.
        let Some(workdir) = repo.workdir().map(|w| w.components().collect::<PathBuf>()) else {
            return Err(VcsError::Bare {
                dir: project_dir.to_path_buf(),
            });
        };
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let project_prefix = canon(project_dir)
            .strip_prefix(canon(&workdir))
            .ok()
            .map(|rel| {
                let mut s = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                if !s.is_empty() {
                    s.push('/');
                }
                s
            })
            .unwrap_or_default();
        Ok(Repo {
            repo,
            workdir,
            project_prefix,
        })
    }

    /// The root of the work tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The underlying git2 repository, for what this type does not cover.
    pub fn git2(&self) -> &Repository {
        &self.repo
    }

    /// Whether a work-tree path is matched by one of the patterns, which are
    /// relative to the project directory.
    fn ignored(&self, path: &str, patterns: &PathPatterns) -> bool {
        if patterns.is_empty() {
            return false;
        }
        let Some(rel) = path.strip_prefix(self.project_prefix.as_str()) else {
            return false;
        };
        patterns.matches(rel)
    }

    /// Changed, staged, deleted and untracked files (untracked directories
    /// listed file by file; `.gitignore`d files left out), except those
    /// matching `ignore` (see [`path_matches`]; pass [`RUNNER_FILES`] for the
    /// clean-tree check). Sorted.
    pub fn dirty_files(&self, ignore: &[&str]) -> Result<Vec<String>, VcsError> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(false);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .context(|| format!("cannot read the status of {}", self.workdir.display()))?;
        let ignore = PathPatterns::new(ignore);
        let mut files: Vec<String> = statuses
            .iter()
            .filter(|e| e.status() != Status::CURRENT && !e.status().contains(Status::IGNORED))
            .map(|e| String::from_utf8_lossy(e.path_bytes()).into_owned())
            .filter(|p| !self.ignored(p, &ignore))
            .collect();
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// The commit HEAD points at; `None` before the first commit.
    pub fn head_commit_id(&self) -> Option<String> {
        let commit = self.repo.head().ok()?.peel_to_commit().ok()?;
        Some(commit.id().to_string())
    }

    /// The content of `relative` (to the project directory) in HEAD's tree.
    pub fn head_file(&self, relative: &str) -> Option<Vec<u8>> {
        let tree = self.head_commit().ok()??.tree().ok()?;
        let path = format!("{}{relative}", self.project_prefix);
        let entry = tree.get_path(Path::new(&path)).ok()?;
        let blob = entry.to_object(&self.repo).ok()?.peel_to_blob().ok()?;
        Some(blob.content().to_vec())
    }

    /// What a file of the work tree holds: git's blob id of it (`git
    /// hash-object`), or `deleted` when it cannot be read.
    pub fn file_id(&self, relative: &str) -> String {
        let path = self.workdir.join(relative);
        Oid::hash_file(git2::ObjectType::Blob, path)
            .map_or_else(|_| "deleted".into(), |o| o.to_string())
    }

    /// The diff from commit `base` (default HEAD; none before the first
    /// commit) to the work tree with the index, untracked files included
    /// (with their content when `contents`, for a patch).
    fn workdir_diff(&self, base: Option<&str>, contents: bool) -> Result<git2::Diff<'_>, VcsError> {
        let unknown = |rev: &str, e: git2::Error| VcsError::UnknownCommit {
            rev: rev.to_string(),
            message: e.message().to_string(),
        };
        let tree = match base {
            Some(rev) => {
                let object = self
                    .repo
                    .revparse_single(rev)
                    .map_err(|e| unknown(rev, e))?;
                Some(object.peel_to_tree().map_err(|e| unknown(rev, e))?)
            }
            None => match self.head_commit()? {
                Some(c) => Some(c.tree().context(|| "cannot read the HEAD tree".into())?),
                None => None,
            },
        };
        let mut opts = DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .show_untracked_content(contents);
        self.repo
            .diff_tree_to_workdir_with_index(tree.as_ref(), Some(&mut opts))
            .context(|| "cannot compare the work tree with the base commit".into())
    }

    /// The change from commit `base` (default HEAD) to the work tree, as a
    /// stat and a patch cut at `max_bytes` (untracked files included, the
    /// runner's own files left out): what a reviewer reads.
    pub fn diff_text(&self, base: Option<&str>, max_bytes: usize) -> Result<String, VcsError> {
        let diff = self.workdir_diff(base, true)?;
        let path_of = |d: &git2::DiffDelta<'_>| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let mut out = String::new();
        for d in diff.deltas() {
            let path = path_of(&d);
            if !is_runner_file(&path) {
                let status = match d.status() {
                    git2::Delta::Added | git2::Delta::Untracked => "added",
                    git2::Delta::Deleted => "deleted",
                    git2::Delta::Renamed => "renamed",
                    _ => "modified",
                };
                out.push_str(&format!(" {status}: {path}\n"));
            }
        }
        out.push('\n');
        let mut cut = false;
        let _ = diff.print(git2::DiffFormat::Patch, |delta, _, line| {
            if is_runner_file(&path_of(&delta)) {
                return true;
            }
            if out.len() >= max_bytes {
                cut = true;
                return false;
            }
            if matches!(line.origin(), '+' | '-' | ' ') {
                out.push(line.origin());
            }
            out.push_str(&String::from_utf8_lossy(line.content()));
            true
        });
        if cut {
            out.push_str("\n... (the rest of the patch is left out)\n");
        }
        Ok(out)
    }

    /// Files that differ between commit `base` (default HEAD) and the work
    /// tree with the index, untracked files included: what a group changed
    /// when `base` is the commit the group started from (commits made in
    /// between count too). Sorted.
    pub fn changed_files_since(&self, base: Option<&str>) -> Result<Vec<String>, VcsError> {
        let diff = self.workdir_diff(base, false)?;
        let mut files: Vec<String> = diff
            .deltas()
            .filter_map(|d| {
                d.new_file()
                    .path_bytes()
                    .or_else(|| d.old_file().path_bytes())
                    .map(|p| String::from_utf8_lossy(p).into_owned())
            })
            .collect();
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// The branch HEAD is on (also before its first commit); `None` when detached.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.repo.find_reference("HEAD").ok()?;
        let target = head.symbolic_target().ok()??;
        target.strip_prefix("refs/heads/").map(str::to_string)
    }

    /// The HEAD commit; `None` on an unborn branch.
    fn head_commit(&self) -> Result<Option<git2::Commit<'_>>, VcsError> {
        match self.repo.head() {
            Ok(head) => head
                .peel_to_commit()
                .map(Some)
                .context(|| "cannot read the HEAD commit".into()),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(e).context(|| "cannot read HEAD".into()),
        }
    }

    fn oid(&self, refname: &str) -> Option<Oid> {
        self.repo.refname_to_id(refname).ok()
    }
}
