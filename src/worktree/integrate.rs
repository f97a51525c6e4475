//! Integration: a task's worktree committed on its branch, then merged
//! (three-way, git2 `merge_commits`: the merge base is the task's own base)
//! into the group's merged state, and the result written into the project's
//! working tree without touching HEAD or the index.
//!
//! Crash safety is the caller's order (see `crate::runner::isolation`):
//! record `integrating {from, to}`, [`finish_integration`] (write `to` into
//! the tree, move the merged ref), record `integrated`. A run killed in
//! between calls [`finish_integration`] again: writing the same files twice
//! gives the same tree.

use super::base::{commit, set_ref, snapshot_tree, tree_of};
use super::check::{Dropped, dropped_changes};
use super::{
    Context, TRAILER, TaskWorktree, WorktreeError, Worktrees, base_ref, create_task_worktree,
    merged_ref, resolver_name,
};
use crate::roadmap::GroupKey;
use crate::vcs::Repo;
use git2::{FileMode, Index, IndexEntry, MergeFileOptions, Oid, Repository};
use std::path::Path;

/// A clean merge: the merged state before and with the task's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub from: Oid,
    pub to: Oid,
}

/// The task's change conflicts with the merged state.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub from: Oid,
    pub task_commit: Oid,
    /// Conflicted paths, relative to the repository's work tree.
    pub files: Vec<String>,
    /// Each conflicted file as the resolver sees it, with its markers.
    pub hunks: Vec<(String, String)>,
}

/// Commits the task's worktree on its branch ("A1: title"), runner files
/// and links left out; the branch tip when nothing changed since it.
pub fn commit_task(
    wts: &Worktrees,
    key: &GroupKey,
    task: &str,
    message: &str,
) -> Result<Oid, WorktreeError> {
    let path = wts.task_path(key, task);
    if !path.join(".git").exists() {
        return Err(WorktreeError::Missing {
            task: task.to_string(),
            group: format!("{}:{}", key.phase, key.group),
            path,
        });
    }
    commit_worktree(wts, &path, message)
}

/// The worktree's state (HEAD's tree with its changes, like the group's
/// base) committed on its branch, and its index set to it, so `git status`
/// and a hand merge there see a clean checkout. Built from the changed files
/// only: staging the whole checkout costs a path lookup per file.
pub fn commit_worktree(wts: &Worktrees, path: &Path, message: &str) -> Result<Oid, WorktreeError> {
    let repo = Repo::open(&wts.cwd_in(path))?;
    let git = repo.git2();
    // A hand merge left half done would commit its conflict markers.
    if git.state() != git2::RepositoryState::Clean {
        return Err(WorktreeError::Busy {
            path: path.to_path_buf(),
        });
    }
    let head = git
        .head()
        .and_then(|h| h.peel_to_commit())
        .context(|| format!("cannot read the branch of {}", path.display()))?;
    let tree = snapshot_tree(&repo, &wts.excluded())?;
    if head.tree_id() == tree {
        return Ok(head.id());
    }
    let id = commit(&repo, tree, &[head.id()], message)?;
    git.head()
        .and_then(|mut h| {
            h.set_target(id, "roadmap-runner: the task's work")
                .map(|_| ())
        })
        .context(|| format!("cannot move the branch of {}", path.display()))?;
    let mut index = git
        .index()
        .context(|| "cannot open the worktree's index".into())?;
    let tree = git
        .find_tree(tree)
        .context(|| "cannot read the task's tree".into())?;
    index
        .read_tree(&tree)
        .and_then(|_| index.write())
        .context(|| "cannot update the worktree's index".into())?;
    Ok(id)
}

/// Merges the task's commit into the merged state (the project's tree as it
/// is now, which may hold hand edits since the last integration).
pub fn merge_task(
    repo: &Repo,
    wts: &Worktrees,
    key: &GroupKey,
    task_commit: Oid,
    message: &str,
) -> Result<Result<Merged, Conflict>, WorktreeError> {
    let git = repo.git2();
    let from = current_state(repo, wts, key)?;
    let mut index = merge_index(git, from, task_commit)?;
    if index.has_conflicts() {
        let hunks = conflict_texts(git, &index, message)?;
        return Ok(Err(Conflict {
            from,
            task_commit,
            files: hunks.iter().map(|(p, _)| p.clone()).collect(),
            hunks,
        }));
    }
    let tree = index
        .write_tree_to(git)
        .context(|| "cannot write the merged tree".into())?;
    let to = commit(repo, tree, &[from, task_commit], &merge_message(message))?;
    Ok(Ok(Merged { from, to }))
}

fn merge_message(task_message: &str) -> String {
    format!("Integrate {task_message}\n\n{TRAILER}: integrate\n")
}

fn merge_index(git: &Repository, ours: Oid, theirs: Oid) -> Result<Index, WorktreeError> {
    let (a, b) = (git.find_commit(ours), git.find_commit(theirs));
    let (a, b) = (
        a.context(|| format!("cannot read {ours}"))?,
        b.context(|| format!("cannot read {theirs}"))?,
    );
    git.merge_commits(&a, &b, None)
        .context(|| "cannot merge the task's change".into())
}

/// The merged ref, with a commit on top when the project tree differs from
/// it (hand edits): the merge must start from what the tree holds.
fn current_state(repo: &Repo, wts: &Worktrees, key: &GroupKey) -> Result<Oid, WorktreeError> {
    let git = repo.git2();
    let merged = git
        .refname_to_id(&merged_ref(key))
        .or_else(|_| git.refname_to_id(&base_ref(key)))
        .map_err(|_| WorktreeError::NoBase {
            group: format!("{}:{}", key.phase, key.group),
        })?;
    let now = snapshot_tree(repo, &wts.excluded())?;
    if tree_of(git, merged)? == now {
        return Ok(merged);
    }
    let message =
        format!("roadmap-runner: the project tree before an integration\n\n{TRAILER}: base\n");
    let id = commit(repo, now, &[merged], &message)?;
    set_ref(git, &merged_ref(key), id, "project tree")?;
    Ok(id)
}

/// Each conflicted file merged with markers (`<<<<<<< merged`, `>>>>>>> A2: ...`).
fn conflict_texts(
    git: &Repository,
    index: &Index,
    task_label: &str,
) -> Result<Vec<(String, String)>, WorktreeError> {
    let mut out = Vec::new();
    let conflicts = index
        .conflicts()
        .context(|| "cannot read the conflicts".into())?;
    for c in conflicts {
        let c = c.context(|| "cannot read a conflict".into())?;
        let Some(any) = c.our.as_ref().or(c.their.as_ref()) else {
            continue;
        };
        let path = String::from_utf8_lossy(&any.path).into_owned();
        let bytes = match (&c.our, &c.their) {
            (Some(ours), Some(theirs)) => {
                let ancestor = match c.ancestor {
                    Some(a) => a,
                    None => empty_entry(git, ours)?,
                };
                let mut opts = MergeFileOptions::new();
                opts.our_label("merged").their_label(first_line(task_label));
                git.merge_file_from_index(&ancestor, ours, theirs, Some(&mut opts))
                    .context(|| format!("cannot merge {path}"))?
                    .content()
                    .to_vec()
            }
            // Changed on one side, deleted on the other: the change is shown.
            (Some(e), None) | (None, Some(e)) => blob_bytes(git, e.id)?,
            (None, None) => continue,
        };
        out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(out)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn empty_entry(git: &Repository, like: &IndexEntry) -> Result<IndexEntry, WorktreeError> {
    let id = git
        .blob(b"")
        .context(|| "cannot store an empty blob".into())?;
    Ok(IndexEntry {
        ctime: like.ctime,
        mtime: like.mtime,
        dev: 0,
        ino: 0,
        mode: like.mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: like.flags,
        flags_extended: like.flags_extended,
        path: like.path.clone(),
    })
}

fn blob_bytes(git: &Repository, id: Oid) -> Result<Vec<u8>, WorktreeError> {
    git.find_blob(id)
        .map(|b| b.content().to_vec())
        .context(|| format!("cannot read blob {id}"))
}

/// Writes `to` into the project's work tree (only the files that differ
/// from `from`) and moves the merged ref to it. Safe to repeat.
pub fn finish_integration(
    repo: &Repo,
    key: &GroupKey,
    merged: Merged,
) -> Result<(), WorktreeError> {
    let git = repo.git2();
    write_diff(git, repo.workdir(), merged.from, merged.to, &[])?;
    set_ref(git, &merged_ref(key), merged.to, "integrated")
}

/// Makes the files under `root` that differ between the trees of commits
/// `from` and `to` hold `to`'s version (skipping `skip`).
fn write_diff(
    git: &Repository,
    root: &Path,
    from: Oid,
    to: Oid,
    skip: &[String],
) -> Result<(), WorktreeError> {
    let (a, b) = (tree_of(git, from)?, tree_of(git, to)?);
    let (a, b) = (
        git.find_tree(a).context(|| "cannot read a tree".into())?,
        git.find_tree(b).context(|| "cannot read a tree".into())?,
    );
    let diff = git
        .diff_tree_to_tree(Some(&a), Some(&b), None)
        .context(|| "cannot compare the merged trees".into())?;
    for delta in diff.deltas() {
        let new = delta.new_file();
        let Some(path) = new.path().or_else(|| delta.old_file().path()) else {
            continue;
        };
        if skip.iter().any(|s| Path::new(s) == path) {
            continue;
        }
        let full = root.join(path);
        if delta.status() == git2::Delta::Deleted {
            remove_file(&full)?;
        } else {
            write_blob(git, &full, new.id(), new.mode())?;
        }
    }
    Ok(())
}

fn remove_file(path: &Path) -> Result<(), WorktreeError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

fn write_blob(git: &Repository, path: &Path, id: Oid, mode: FileMode) -> Result<(), WorktreeError> {
    use std::os::unix::fs::PermissionsExt;
    if matches!(
        mode,
        FileMode::Commit | FileMode::Tree | FileMode::Unreadable
    ) {
        return Ok(());
    }
    let bytes = blob_bytes(git, id)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
        remove_file(path)?;
    }
    if mode == FileMode::Link {
        remove_file(path)?;
        let target = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&bytes);
        return std::os::unix::fs::symlink(target, path)
            .context(|| format!("cannot write link {}", path.display()));
    }
    std::fs::write(path, &bytes).context(|| format!("cannot write {}", path.display()))?;
    let bits = if mode == FileMode::BlobExecutable {
        0o755
    } else {
        0o644
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits))
        .context(|| format!("cannot set the mode of {}", path.display()))
}

/// The files a task changed itself: from where its branch and the merged
/// state meet to its commit. Repository-relative.
pub fn task_files(repo: &Repo, from: Oid, task_commit: Oid) -> Result<Vec<String>, WorktreeError> {
    let git = repo.git2();
    let base = git.merge_base(from, task_commit).unwrap_or(from);
    let (a, b) = (tree_of(git, base)?, tree_of(git, task_commit)?);
    let (a, b) = (
        git.find_tree(a).context(|| "cannot read a tree".into())?,
        git.find_tree(b).context(|| "cannot read a tree".into())?,
    );
    let diff = git
        .diff_tree_to_tree(Some(&a), Some(&b), None)
        .context(|| "cannot diff the task's change".into())?;
    let mut files: Vec<String> = diff
        .deltas()
        .filter_map(|d| d.new_file().path().or_else(|| d.old_file().path()))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// A worktree for the resolver: the merged state with the task's clean
/// changes written in and each conflicted file with its markers.
pub fn start_resolver(
    repo: &Repo,
    wts: &Worktrees,
    key: &GroupKey,
    conflict: &Conflict,
) -> Result<TaskWorktree, WorktreeError> {
    let git = repo.git2();
    let wt = create_task_worktree(wts, repo.git2(), &resolver_name(key), conflict.from)?;
    let mut index = merge_index(git, conflict.from, conflict.task_commit)?;
    for f in &conflict.files {
        let _ = index.conflict_remove(Path::new(f));
    }
    let clean = index
        .write_tree_to(git)
        .context(|| "cannot write the merge's clean part".into())?;
    let message = format!("roadmap-runner: clean part of a merge\n\n{TRAILER}: base\n");
    let clean = commit(repo, clean, &[conflict.from], &message)?;
    write_diff(git, &wt.path, conflict.from, clean, &conflict.files)?;
    for (path, text) in &conflict.hunks {
        let full = wt.path.join(path);
        std::fs::write(&full, text).context(|| format!("cannot write {}", full.display()))?;
    }
    Ok(wt)
}

/// Why a resolver's result is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// Conflict markers are left in these files.
    Marked(Vec<String>),
    /// The result lost (part of) a side's change in these files.
    Dropped(Vec<Dropped>),
}

/// The resolver's result: the merge commit when no conflict marker is
/// left and it holds both sides' changes ([`dropped_changes`]).
pub fn resolved_merge(
    repo: &Repo,
    wts: &Worktrees,
    resolver: &TaskWorktree,
    conflict: &Conflict,
    message: &str,
) -> Result<Result<Oid, Unresolved>, WorktreeError> {
    let marked: Vec<String> = conflict
        .files
        .iter()
        .filter(|f| has_markers(&resolver.path.join(f)))
        .cloned()
        .collect();
    if !marked.is_empty() {
        return Ok(Err(Unresolved::Marked(marked)));
    }
    let resolved = commit_worktree(wts, &resolver.path, message)?;
    let dropped = dropped_changes(repo.git2(), conflict.from, conflict.task_commit, resolved)?;
    if !dropped.is_empty() {
        return Ok(Err(Unresolved::Dropped(dropped)));
    }
    let tree = tree_of(repo.git2(), resolved)?;
    let to = commit(
        repo,
        tree,
        &[conflict.from, conflict.task_commit],
        &merge_message(message),
    )?;
    Ok(Ok(to))
}

/// A line that starts a conflict marker (`<<<<<<< `, `=======`, `>>>>>>> `).
fn has_markers(path: &Path) -> bool {
    let Ok(text) = std::fs::read(path) else {
        return false;
    };
    String::from_utf8_lossy(&text)
        .lines()
        .any(|l| l.starts_with("<<<<<<<") || l.starts_with(">>>>>>>") || l.trim_end() == "=======")
}
