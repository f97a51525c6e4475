//! What can go wrong with git, each error saying what to do about it.

use std::path::PathBuf;

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
pub(super) trait Context<T> {
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
