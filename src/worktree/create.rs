//! A task's worktree: on its own branch at the group's base, outside the
//! project, the `link` paths symlinked from the project. Whatever a killed
//! run or an earlier attempt left under the same name is removed first, so
//! creating is safe to repeat (a retry starts clean from the base).

use super::archive::archive_if_unique;
use super::{Context, WorktreeError, Worktrees, branch_name};
use git2::{Oid, Repository, WorktreeAddOptions, WorktreePruneOptions};
use std::path::{Path, PathBuf};

/// A worktree ready for its agent.
#[derive(Debug, Clone)]
pub struct TaskWorktree {
    /// The git worktree name, also its directory's name.
    pub name: String,
    pub path: PathBuf,
    /// The project directory inside it: the agent's cwd.
    pub cwd: PathBuf,
    pub branch: String,
}

/// Creates the worktree `name` at `base` on branch `roadmap-runner/<name>`.
pub fn create_task_worktree(
    wts: &Worktrees,
    git: &Repository,
    name: &str,
    base: Oid,
) -> Result<TaskWorktree, WorktreeError> {
    let path = wts.root.join(name);
    remove_worktree(git, name, &path)?;
    let branch = branch_name(name);
    archive_if_unique(git, &branch, Some(base))?;
    let commit = git
        .find_commit(base)
        .context(|| format!("cannot read the base {base}"))?;
    let reference = git
        .branch(&branch, &commit, true)
        .context(|| format!("cannot create branch {branch}"))?
        .into_reference();
    std::fs::create_dir_all(&wts.root)
        .context(|| format!("cannot create {}", wts.root.display()))?;
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(&reference));
    git.worktree(name, &path, Some(&opts))
        .context(|| format!("cannot create the worktree {}", path.display()))?;
    let cwd = wts.cwd_in(&path);
    link_paths(wts, git, &cwd)?;
    Ok(TaskWorktree {
        name: name.to_string(),
        path,
        cwd,
        branch,
    })
}

/// Removes the worktree `name` (its directory, its admin entry) and its
/// Cargo target dir, whatever state a killed run left them in.
pub fn remove_worktree(git: &Repository, name: &str, path: &Path) -> Result<(), WorktreeError> {
    let dir = git
        .find_worktree(name)
        .map(|w| w.path().to_path_buf())
        .unwrap_or_else(|_| path.to_path_buf());
    for d in [dir.clone(), path.to_path_buf(), target_dir_of(&dir)] {
        remove_dir(&d)?;
    }
    if let Ok(wt) = git.find_worktree(name) {
        let mut opts = WorktreePruneOptions::new();
        opts.valid(true).locked(true).working_tree(true);
        wt.prune(Some(&mut opts))
            .context(|| format!("cannot prune the worktree {name}"))?;
    }
    // An entry half made by a killed `worktree add` is not found by name.
    remove_dir(&git.commondir().join("worktrees").join(name))
}

/// `<root>/<name>.target`, beside the worktree.
pub(crate) fn target_dir_of(worktree: &Path) -> PathBuf {
    let mut name = worktree.file_name().unwrap_or_default().to_os_string();
    name.push(".target");
    worktree.with_file_name(name)
}

fn remove_dir(d: &Path) -> Result<(), WorktreeError> {
    // remove_dir_all removes symlinks, never what they point to.
    match std::fs::remove_dir_all(d) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).context(|| format!("cannot remove {}", d.display()))
        }
        _ => Ok(()),
    }
}

/// Symlinks each `link` path that exists in the project into the worktree,
/// and makes sure git ignores it: `/node_modules` without a trailing slash,
/// since `node_modules/` matches a directory and not the symlink.
fn link_paths(wts: &Worktrees, git: &Repository, cwd: &Path) -> Result<(), WorktreeError> {
    if wts.settings.link.is_empty() {
        return Ok(());
    }
    for link in &wts.settings.link {
        let source = wts.project_dir.join(link);
        let target = cwd.join(link);
        if !source.exists() || std::fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .context(|| format!("cannot create {}", parent.display()))?;
        }
        let source = std::fs::canonicalize(&source).unwrap_or(source);
        std::os::unix::fs::symlink(&source, &target)
            .context(|| format!("cannot link {} into the worktree", source.display()))?;
    }
    let patterns: Vec<String> = wts
        .settings
        .link
        .iter()
        .map(|l| format!("/{}{l}", wts.prefix))
        .collect();
    ensure_excluded(&git.commondir().join("info").join("exclude"), &patterns)
}

/// Adds the missing patterns to `info/exclude` (shared by every worktree).
fn ensure_excluded(path: &Path, patterns: &[String]) -> Result<(), WorktreeError> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let missing: Vec<&String> = patterns
        .iter()
        .filter(|p| !text.lines().any(|l| l.trim() == p.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut out = text;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(
        "# roadmap-runner [worktree] link (no trailing slash: the symlink is ignored too)\n",
    );
    for p in missing {
        out.push_str(p);
        out.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::status::write_atomic(path, out.as_bytes())
        .context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WorktreeSettings;
    use crate::roadmap::GroupKey;
    use crate::vcs::Repo;

    fn repo(dir: &Path) -> Repo {
        super::super::test_repo(dir)
    }

    #[test]
    fn what_a_killed_creation_left_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("p");
        std::fs::create_dir(&project).unwrap();
        let repo = repo(&project);
        let settings = WorktreeSettings {
            dir: Some(tmp.path().join("wts")),
            ..WorktreeSettings::default()
        };
        let wts = Worktrees::new(&project, repo.workdir(), &settings);
        let key = GroupKey::new(1, "A");
        let name = super::super::task_name(&key, "A1");
        let base = Oid::from_str(&repo.head_commit_id().unwrap()).unwrap();
        // A directory half checked out and an admin entry half written.
        std::fs::create_dir_all(wts.root.join(&name).join("junk")).unwrap();
        let admin = repo.git2().commondir().join("worktrees").join(&name);
        std::fs::create_dir_all(&admin).unwrap();
        std::fs::write(admin.join("gitdir"), "nowhere\n").unwrap();

        let wt = create_task_worktree(&wts, repo.git2(), &name, base).unwrap();
        assert!(wt.cwd.join("a.txt").exists());
        assert!(!wt.cwd.join("junk").exists());
        assert_eq!(wt.branch, "roadmap-runner/1-A-A1");
        // Made again over a complete one (a retry): clean from the base.
        std::fs::write(wt.cwd.join("mess.txt"), "x\n").unwrap();
        let again = create_task_worktree(&wts, repo.git2(), &name, base).unwrap();
        assert!(!again.cwd.join("mess.txt").exists());
        remove_worktree(repo.git2(), &name, &again.path).unwrap();
        assert!(!again.path.exists());
        assert!(repo.git2().find_worktree(&name).is_err());
    }
}
