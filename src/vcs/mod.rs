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

mod publish;
mod push;
mod rebase;
mod snapshot;
pub mod transfer;

pub use publish::{Published, UnpushedCommit, name_commits};
pub use push::PushOutcome;
pub use rebase::{Integrate, Integration};
pub use snapshot::{DELETED, LeftOut, Snapshot, index_entry};

use crate::roadmap::PhaseId;
use crate::roadmap::model::Phase;
use git2::{
    DiffOptions, ErrorCode, IndexAddOption, Oid, Repository, RepositoryState, Status, StatusOptions,
};
use std::path::{Path, PathBuf};

/// What the runner itself writes into the project: never a reason to call the
/// tree dirty. Anchored at the project directory (see [`path_matches`]).
pub const RUNNER_FILES: &[&str] = &["status/", "logs/", "PHASE*-GROUP-*-STATUS.md"];

/// The runner's status files that describe one moment of one run: never
/// committed (`completed_tasks.txt`, `tasks.jsonl` and the reports are).
pub const TRANSIENT_FILES: &[&str] = &["status/in_progress_tasks.txt", "status/pending_tasks.txt"];

/// How far back [`Repo::find_phase_commit`] looks.
pub const HISTORY_LIMIT: usize = 10_000;

/// The commit trailer that marks a phase commit.
pub const PHASE_TRAILER: &str = "Roadmap-Phase";

/// The commit trailer of the runner's other commits (a merge of a diverged
/// remote): with [`PHASE_TRAILER`], what tells the runner's commits from the
/// user's own.
pub const RUNNER_TRAILER: &str = "Roadmap-Runner";

#[derive(Debug, thiserror::Error)]
pub enum VcsError {
    #[error(
        "not a git repository: {dir} — run `git init` there and commit the project once \
         (`git add -A && git commit -m 'Initial commit'`), or turn commits off with \
         [git] commit = false in roadmap-runner.toml / --no-commit"
    )]
    NotARepo { dir: PathBuf },
    #[error("{dir} is inside a bare git repository, which has no work tree to run in")]
    Bare { dir: PathBuf },
    #[error(
        "git has no author identity for commits in {dir} ({message}). Set one for this \
         repository:\n  git -C {dir} config user.name \"Your Name\"\n  git -C {dir} config \
         user.email \"you@example.com\"\n(or use `git config --global ...` for the user cron \
         runs as)"
    )]
    NoIdentity { dir: PathBuf, message: String },
    #[error(
        "HEAD is detached in {dir}: the runner commits and pushes on a branch — check one out \
         (`git -C {dir} switch <branch>`) and rerun"
    )]
    DetachedHead { dir: PathBuf },
    #[error(
        "a {state} is in progress in {dir}: finish or abort it (`git status` says how), then rerun"
    )]
    Busy { dir: PathBuf, state: String },
    #[error("branch `{branch}` has no commits yet: nothing to push")]
    Unborn { branch: String },
    #[error(
        "no local branch `{branch}` to push (from [git] branch in roadmap-runner.toml or the \
         current branch); create it or fix the setting"
    )]
    NoBranch { branch: String },
    #[error("unknown commit `{rev}`: {message}")]
    UnknownCommit { rev: String, message: String },
    #[error(
        "git remote `{remote}` does not exist in {dir}: add it (`git -C {dir} remote add \
         {remote} <url>`), name another with [git] remote in roadmap-runner.toml, or turn \
         pushing off with [git] push = false / --no-push"
    )]
    NoRemote { remote: String, dir: PathBuf },
    #[error(
        "push of `{branch}` to `{remote}` was rejected: {reason}. The phase commit is kept \
         locally. Bring the branch up to date — `git pull --rebase {remote} {branch}` (and \
         resolve any conflicts) — then rerun roadmap-runner: it pushes committed phases \
         before it starts new work"
    )]
    PushRejected {
        remote: String,
        branch: String,
        reason: String,
    },
    #[error(
        "cannot authenticate to `{remote}` ({url}) for {action}; tried: {tried}. {hint} The \
         phase commit is kept locally and is pushed by the next run"
    )]
    PushAuth {
        remote: String,
        url: String,
        tried: String,
        hint: String,
        /// `push`, or `fetch` (of a diverged remote branch).
        action: &'static str,
    },
    #[error(
        "push of `{branch}` to `{remote}` ({url}) failed: {message}. The phase commit is kept \
         locally and is pushed by the next run"
    )]
    Push {
        remote: String,
        url: String,
        branch: String,
        message: String,
    },
    #[error(
        "fetch of `{branch}` from `{remote}` ({url}) failed: {message}. The phase commit is kept \
         locally and is pushed by the next run"
    )]
    Fetch {
        remote: String,
        url: String,
        branch: String,
        message: String,
    },
    #[error(
        "`{branch}` has commits that are not on `{remote}` and that roadmap-runner did not \
         make: {commits}. They are not pushed, nor is anything after them ([git] push_foreign \
         = \"refuse\"); the phase commit is kept locally. Either push them yourself when they \
         are ready (`git push {remote} {branch}`, which sends the phase commits too), or set \
         push_foreign = \"allow\" under [git] in roadmap-runner.toml to let the runner push \
         them"
    )]
    ForeignCommits {
        remote: String,
        branch: String,
        /// `abc1234 subject`, newest first, joined with `, `.
        commits: String,
    },
    #[error(
        "`{upstream}` has commits that `{branch}` does not, and {how} conflicts in {files}. \
         Nothing was changed: the phase commit is kept locally and the working tree is \
         untouched. Bring the branch up to date by hand (`git pull --rebase {remote} {branch}`, \
         resolve the conflicts, `git rebase --continue`), then run roadmap-runner again: it \
         pushes committed phases before it starts new work"
    )]
    Conflict {
        remote: String,
        branch: String,
        upstream: String,
        /// `replaying abc1234 Complete Phase 2 onto them`, `merging them`.
        how: String,
        files: String,
    },
    #[error(
        "`{upstream}` has commits that `{branch}` does not, and {how} would overwrite local \
         changes to {files}. Nothing was changed: commit or stash those changes, then run \
         roadmap-runner again"
    )]
    WorktreeInTheWay {
        branch: String,
        upstream: String,
        how: String,
        files: String,
    },
    #[error(
        "`{upstream}` has commits that `{branch}` does not, and the unpushed commits include \
         the merge commit {commit}, which the runner does not rebase. Nothing was changed: \
         bring the branch up to date by hand (`git pull {remote} {branch}`), or set diverged = \
         \"merge\" under [git] in roadmap-runner.toml, then run again"
    )]
    MergeInRebase {
        remote: String,
        branch: String,
        upstream: String,
        commit: String,
    },
    #[error("git: {context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
}

/// Adds what the operation was to a git2 error.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, VcsError>;
}

impl<T> Context<T> for Result<T, git2::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, VcsError> {
        self.map_err(|source| VcsError::Git {
            context: what(),
            source,
        })
    }
}

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
    fn ignored(&self, path: &str, patterns: &[&str]) -> bool {
        if patterns.is_empty() {
            return false;
        }
        let Some(rel) = path.strip_prefix(self.project_prefix.as_str()) else {
            return false;
        };
        patterns.iter().any(|p| path_matches(rel, p))
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
        let mut files: Vec<String> = statuses
            .iter()
            .filter(|e| e.status() != Status::CURRENT && !e.status().contains(Status::IGNORED))
            .map(|e| String::from_utf8_lossy(e.path_bytes()).into_owned())
            .filter(|p| !self.ignored(p, ignore))
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
        let mut filter = |path: &Path, _spec: &[u8]| -> i32 {
            let p = path.to_string_lossy().replace('\\', "/");
            if self.ignored(&p, exclude) { 1 } else { 0 }
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

    fn check_ready_to_commit(&self) -> Result<(), VcsError> {
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

/// The value of the `Roadmap-Phase` trailer of a commit message, if any.
pub fn phase_of_message(message: &str) -> Option<String> {
    trailer(message, PHASE_TRAILER)
}

/// Whether roadmap-runner made the commit with this message.
pub fn made_by_runner(message: &str) -> bool {
    trailer(message, PHASE_TRAILER).is_some() || trailer(message, RUNNER_TRAILER).is_some()
}

fn trailer(message: &str, key: &str) -> Option<String> {
    let trailers = git2::message_trailers_strs(message).ok()?;
    trailers
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
}

/// The commit message of a finished phase:
///
/// ```text
/// Complete Phase 1: Foundation Layer
///
/// Group A: Database (Parallel)
/// - A1: Schema
/// - A2: Migrations
///
/// Roadmap-Phase: 1
/// ```
pub fn commit_message(phase: &Phase) -> String {
    phase_commit_message(phase, &[])
}

/// [`commit_message`], with the groups of `skipped` (group ids) marked as
/// skipped by hand: they are complete without having run.
pub fn phase_commit_message(phase: &Phase, skipped: &[String]) -> String {
    let mut msg = format!("Complete Phase {}", phase.number);
    let title = crate::text::squash_whitespace(&phase.title);
    if !title.is_empty() {
        msg.push_str(": ");
        msg.push_str(&title);
    }
    msg.push_str("\n\n");
    for group in &phase.groups {
        msg.push_str(&crate::text::squash_whitespace(&group.label()));
        if let Some(a) = group
            .annotation
            .as_deref()
            .map(crate::text::squash_whitespace)
            && !a.is_empty()
        {
            msg.push_str(&format!(" ({a})"));
        }
        if skipped.contains(&group.id) {
            msg.push_str(" [skipped by hand: not run]");
        }
        msg.push('\n');
        for task in &group.tasks {
            msg.push_str(&format!(
                "- {}: {}\n",
                task.id,
                crate::text::squash_whitespace(&task.title)
            ));
        }
        msg.push('\n');
    }
    msg.push_str(&format!("{PHASE_TRAILER}: {}\n", phase.number));
    msg
}

/// Whether `path` is one of the runner's own files ([`RUNNER_FILES`]).
pub fn is_runner_file(path: &str) -> bool {
    RUNNER_FILES.iter().any(|p| path_matches(path, p))
}

/// Whether a '/'-separated path matches a pattern. Patterns are anchored at
/// the start of the path (`status/` does not match `src/status/x`):
///
/// * `dir/` matches everything under `dir`;
/// * otherwise the whole path must match, where `*` stands for any run of
///   characters except '/' and `?` for one such character:
///   `PHASE*-GROUP-*-STATUS.md`, `logs/*.log`.
pub fn path_matches(path: &str, pattern: &str) -> bool {
    let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
    if pattern.is_empty() {
        return false;
    }
    if let Some(dir) = pattern.strip_suffix('/') {
        // `dir/` may itself hold wildcards: match its components against the
        // path's leading components.
        let depth = dir.split('/').count();
        let parts: Vec<&str> = path.split('/').collect();
        return parts.len() > depth && glob(&parts[..depth].join("/"), dir);
    }
    glob(path, pattern)
}

/// `*` and `?` matching within path components.
fn glob(text: &str, pattern: &str) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = (text.chars().collect(), pattern.chars().collect());
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == t[ti] && p[pi] != '*' || p[pi] == '?' && t[ti] != '/') {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star
            && t[st] != '/'
        {
            // let the last star swallow one more character (never a '/')
            star = Some((sp, st + 1));
            ti = st + 1;
            pi = sp + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(path_matches("status/completed_tasks.txt", "status/"));
        assert!(path_matches("status/a/b.txt", "status/"));
        assert!(!path_matches("src/status/mod.rs", "status/"));
        assert!(!path_matches("status", "status/"));
        assert!(!path_matches("statusx/a", "status/"));
        assert!(path_matches(
            "PHASE1-GROUP-A-STATUS.md",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(path_matches(
            "PHASE12-GROUP-AA-STATUS.md",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(!path_matches(
            "docs/PHASE1-GROUP-A-STATUS.md",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(!path_matches(
            "PHASE1-GROUP-A-STATUS.md.bak",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(path_matches("logs/x.log", "logs/*.log"));
        assert!(!path_matches("logs/a/x.log", "logs/*.log"));
        assert!(path_matches("a.txt", "?.txt"));
        assert!(path_matches("out/run-1/x", "out/run-*/"));
        assert!(path_matches("roadmap-runner.toml", "./roadmap-runner.toml"));
        assert!(!path_matches("x", ""));
    }

    #[test]
    fn trailer_parsing() {
        assert_eq!(
            phase_of_message("Complete Phase 2\n\nbody\n\nRoadmap-Phase: 2\n").as_deref(),
            Some("2")
        );
        assert_eq!(phase_of_message("Roadmap-Phase: 2"), None);
        assert_eq!(
            phase_of_message("x\n\nroadmap-phase:  7\nCo-authored-by: a <b@c>\n").as_deref(),
            Some("7")
        );
    }
}
