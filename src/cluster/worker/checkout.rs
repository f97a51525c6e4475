//! A worker's git: a bare mirror of each remote under `--work-dir`
//! (fetched only when a group's base is new to it), a worktree per attempt
//! made from the base through the same code as `--isolation worktree`, and
//! the attempt's commit pushed as the task's branch.

use crate::cluster::protocol::TaskMsg;
use crate::config::{GitSettings, WorktreeSettings};
use crate::vcs::transfer::{fetch_refspecs, push_refspecs, remote_ref};
use crate::worktree::{self, Worktrees, create_task_worktree};
use git2::{Oid, Repository};
use std::path::{Path, PathBuf};

/// An attempt's worktree.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub mirror: PathBuf,
    /// The git worktree name (`<run>-<name>-<attempt>`).
    pub name: String,
    pub path: PathBuf,
    /// Where the agent works: the project directory inside the worktree.
    pub cwd: PathBuf,
    pub wts: Worktrees,
}

/// `<work-dir>/mirrors/<host-and-path>-<hash>.git`.
pub fn mirror_path(work_dir: &Path, url: &str) -> PathBuf {
    let tail: String = url
        .rsplit(['/', ':'])
        .find(|s| !s.is_empty())
        .unwrap_or("repo")
        .trim_end_matches(".git")
        .to_string();
    let hash = worktree::fnv1a(url.as_bytes()) & 0xffff_ffff;
    work_dir
        .join("mirrors")
        .join(format!("{}-{hash:08x}.git", crate::roadmap::slug(&tail)))
}

fn open_mirror(path: &Path) -> Result<Repository, String> {
    match Repository::open_bare(path) {
        Ok(r) => Ok(r),
        Err(_) => Repository::init_bare(path)
            .map_err(|e| format!("cannot make the mirror {}: {e}", path.display())),
    }
}

/// `""` for an attempt's first delivery in flight on this worker, `-copy1`,
/// ... for the ones that arrive while it still runs: their worktrees and
/// logs are their own.
pub fn copy_suffix(copy: usize) -> String {
    match copy {
        0 => String::new(),
        n => format!("-copy{n}"),
    }
}

/// The attempt's worktree at the group's base, fetching the base first
/// when the mirror lacks it (`copy`: see [`copy_suffix`]). The caller holds
/// the mirror's lock.
pub fn prepare(work_dir: &Path, task: &TaskMsg, copy: usize) -> Result<Checkout, String> {
    let mirror = mirror_path(work_dir, &task.remote);
    let git = open_mirror(&mirror)?;
    let base = Oid::from_str(&task.base).map_err(|e| format!("bad base {}: {e}", task.base))?;
    if git.find_commit(base).is_err() {
        fetch_refspecs(
            &git,
            &task.remote,
            &[format!("+{0}:{0}", task.base_ref)],
            &GitSettings::default(),
        )
        .map_err(|e| e.to_string())?;
        git.find_commit(base)
            .map_err(|e| format!("the remote's {} lacks the base {base}: {e}", task.base_ref))?;
    }
    let wts = Worktrees {
        root: work_dir.join("worktrees"),
        project_dir: work_dir.to_path_buf(),
        prefix: task.prefix.clone(),
        settings: WorktreeSettings::default(),
    };
    let name = format!(
        "{}-{}-{}{}",
        task.key.run,
        task.key.name,
        task.key.attempt,
        copy_suffix(copy)
    );
    let wt = create_task_worktree(&wts, &git, &name, base)
        .map_err(|e| format!("cannot make the task's worktree: {e}"))?;
    Ok(Checkout {
        mirror,
        name,
        path: wt.path,
        cwd: wt.cwd,
        wts,
    })
}

/// Commits what the agent left in the worktree (nothing else uses the
/// worktree after this, so the slot may take its next task).
pub fn commit(task: &TaskMsg, co: &Checkout) -> Result<Oid, String> {
    let message = format!("{}: {}", task.task, task.title);
    worktree::commit_worktree(&co.wts, &co.path, &message)
        .map_err(|e| format!("cannot commit the task's work: {e}"))
}

/// The refspec that pushes `commit` as the task's branch for that commit
/// (never forced: a branch of that name can only hold that commit); the
/// branch.
pub fn branch_refspec(task: &TaskMsg, commit: Oid) -> (String, String) {
    let commit = commit.to_string();
    let branch = task.key.branch_for(&commit);
    (format!("{commit}:refs/heads/{branch}"), branch)
}

/// Pushes `refspecs` from the mirror at `mirror` to `remote` in one push.
pub fn push(mirror: &Path, remote: &str, refspecs: &[String]) -> Result<(), String> {
    let git = open_mirror(mirror)?;
    push_refspecs(&git, remote, refspecs, &GitSettings::default())
        .map_err(|e| format!("cannot push the task's branch: {e}"))
}

/// Whether the remote's `branch` holds `commit` (a stored result names
/// them: the attempt is done, whoever did it).
pub fn branch_holds(
    work_dir: &Path,
    task: &TaskMsg,
    branch: &str,
    commit: &str,
) -> Result<bool, String> {
    remote_holds(
        &mirror_path(work_dir, &task.remote),
        &task.remote,
        branch,
        commit,
    )
}

/// Whether `remote`'s `branch` holds `commit`, asked through the mirror.
pub fn remote_holds(
    mirror: &Path,
    remote: &str,
    branch: &str,
    commit: &str,
) -> Result<bool, String> {
    let git = open_mirror(mirror)?;
    remote_ref(
        &git,
        remote,
        &format!("refs/heads/{branch}"),
        &GitSettings::default(),
    )
    .map(|r| r.is_some_and(|id| id.to_string() == commit))
    .map_err(|e| e.to_string())
}

/// Removes the attempt's worktree and its branch in the mirror.
pub fn remove(co: &Checkout) {
    let Ok(git) = Repository::open_bare(&co.mirror) else {
        return;
    };
    if let Err(e) = worktree::remove_worktree(&git, &co.name, &co.path) {
        tracing::warn!(worktree = %co.path.display(), error = %e, "cannot remove the worktree");
    }
    if let Ok(mut b) = git.find_branch(&worktree::branch_name(&co.name), git2::BranchType::Local) {
        let _ = b.delete();
    }
}
