//! The group's base: the project's state at group start as a commit object,
//! made from HEAD's tree and the work tree's changes in an index of our own
//! (never the user's), without moving HEAD.

use super::{Context, TRAILER, WorktreeError, base_ref, merged_ref};
use crate::roadmap::GroupKey;
use crate::vcs::Repo;
use git2::{Index, Oid, Repository};
use std::path::Path;

/// The tree of the work tree as it is now: HEAD's tree with every changed,
/// deleted and untracked (not ignored) file, leaving out what matches
/// `exclude` (project-relative patterns: the runner's files, links).
pub fn snapshot_tree(repo: &Repo, exclude: &[&str]) -> Result<Oid, WorktreeError> {
    let git = repo.git2();
    let mut index = Index::new().context(|| "cannot make an in-memory index".into())?;
    if let Ok(head) = git.head().and_then(|h| h.peel_to_tree()) {
        index
            .read_tree(&head)
            .context(|| "cannot read HEAD's tree".into())?;
    }
    for path in repo.dirty_files(exclude)? {
        add_from_workdir(git, &mut index, repo.workdir(), &path)?;
    }
    index
        .write_tree_to(git)
        .context(|| "cannot write the snapshot tree".into())
}

/// Puts the work tree's `path` into `index` (or takes it out when deleted).
pub(crate) fn add_from_workdir(
    git: &Repository,
    index: &mut Index,
    workdir: &Path,
    path: &str,
) -> Result<(), WorktreeError> {
    let full = workdir.join(path);
    let meta = match std::fs::symlink_metadata(&full) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Not in the index is fine too: it was never there.
            let _ = index.remove_path(Path::new(path));
            return Ok(());
        }
        Err(e) => return Err(e).context(|| format!("cannot read {}", full.display())),
    };
    let (id, mode) = if meta.file_type().is_symlink() {
        let target = std::fs::read_link(&full).context(|| format!("cannot read link {path}"))?;
        let bytes = target.as_os_str().as_encoded_bytes().to_vec();
        (git.blob(&bytes), 0o120000)
    } else if meta.is_file() {
        use std::os::unix::fs::PermissionsExt;
        let exec = meta.permissions().mode() & 0o111 != 0;
        (git.blob_path(&full), if exec { 0o100755 } else { 0o100644 })
    } else {
        // A directory (a submodule or a nested repository): not ours to snapshot.
        return Ok(());
    };
    let id = id.context(|| format!("cannot store {path}"))?;
    index
        .add(&crate::vcs::index_entry(path, id, mode))
        .context(|| format!("cannot add {path} to the snapshot"))
}

/// Makes (or reuses) the group's base and points the base and merged refs
/// at it. Its parent is the group's merged state if there is one (so a
/// task made from an earlier base still merges from its own base), else
/// HEAD; a state equal to the current base is reused as it is.
pub fn make_base(repo: &Repo, key: &GroupKey, exclude: &[&str]) -> Result<Oid, WorktreeError> {
    let git = repo.git2();
    let tree_id = snapshot_tree(repo, exclude)?;
    let existing = git.refname_to_id(&base_ref(key)).ok();
    let merged = git.refname_to_id(&merged_ref(key)).ok();
    let base = match merged.or(existing) {
        Some(id) if tree_of(git, id)? == tree_id => id,
        parent => {
            let parent =
                parent.or_else(|| repo.head_commit_id().and_then(|h| Oid::from_str(&h).ok()));
            let message = format!(
                "roadmap-runner: base of Phase {} Group {}\n\n{TRAILER}: base\n",
                key.phase, key.group
            );
            commit(repo, tree_id, parent.as_slice(), &message)?
        }
    };
    set_ref(git, &base_ref(key), base, "group base")?;
    set_ref(git, &merged_ref(key), base, "group base")?;
    Ok(base)
}

pub(crate) fn tree_of(git: &Repository, commit: Oid) -> Result<Oid, WorktreeError> {
    git.find_commit(commit)
        .map(|c| c.tree_id())
        .context(|| format!("cannot read commit {commit}"))
}

/// A commit object on no branch, by the configured identity.
pub(crate) fn commit(
    repo: &Repo,
    tree: Oid,
    parents: &[Oid],
    message: &str,
) -> Result<Oid, WorktreeError> {
    let git = repo.git2();
    let sig = repo.signature()?;
    let tree = git
        .find_tree(tree)
        .context(|| format!("cannot read tree {tree}"))?;
    let parents = parents
        .iter()
        .map(|p| git.find_commit(*p))
        .collect::<Result<Vec<_>, _>>()
        .context(|| "cannot read a parent commit".into())?;
    let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    git.commit(None, &sig, &sig, message, &tree, &refs)
        .context(|| "cannot create a commit".into())
}

pub(crate) fn set_ref(
    git: &Repository,
    name: &str,
    id: Oid,
    why: &str,
) -> Result<(), WorktreeError> {
    git.reference(name, id, true, &format!("roadmap-runner: {why}"))
        .map(|_| ())
        .context(|| format!("cannot set {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with_commit(dir: &Path) -> Repo {
        super::super::test_repo(dir)
    }

    fn file_in(git: &Repository, commit: Oid, path: &str) -> Option<String> {
        let tree = git.find_commit(commit).unwrap().tree().unwrap();
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = entry.to_object(git).unwrap().peel_to_blob().unwrap();
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    }

    #[test]
    fn the_base_holds_uncommitted_work_and_moves_neither_head_nor_the_index() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = repo_with_commit(tmp.path());
        let git = repo.git2();
        std::fs::write(tmp.path().join("a.txt"), "changed\n").unwrap();
        std::fs::write(tmp.path().join("new.txt"), "new\n").unwrap();
        std::fs::create_dir(tmp.path().join("status")).unwrap();
        std::fs::write(tmp.path().join("status/tasks.jsonl"), "{}\n").unwrap();
        let head = repo.head_commit_id();
        let index_before = std::fs::read(git.path().join("index")).unwrap();

        let key = GroupKey::new(1, "A");
        let base = make_base(&repo, &key, crate::vcs::RUNNER_FILES).unwrap();
        assert_eq!(file_in(git, base, "a.txt").as_deref(), Some("changed\n"));
        assert_eq!(file_in(git, base, "new.txt").as_deref(), Some("new\n"));
        assert_eq!(
            file_in(git, base, "status/tasks.jsonl"),
            None,
            "runner files left out"
        );
        assert_eq!(repo.head_commit_id(), head);
        assert_eq!(
            std::fs::read(git.path().join("index")).unwrap(),
            index_before
        );
        assert_eq!(git.refname_to_id(&base_ref(&key)).unwrap(), base);
        assert_eq!(git.refname_to_id(&merged_ref(&key)).unwrap(), base);
        // Nothing changed since: the same base again.
        assert_eq!(
            make_base(&repo, &key, crate::vcs::RUNNER_FILES).unwrap(),
            base
        );
        // A change since: a new base on top of the old one.
        std::fs::remove_file(tmp.path().join("new.txt")).unwrap();
        let next = make_base(&repo, &key, crate::vcs::RUNNER_FILES).unwrap();
        assert_ne!(next, base);
        assert_eq!(file_in(git, next, "new.txt"), None);
        assert_eq!(git.find_commit(next).unwrap().parent_id(0).unwrap(), base);
    }
}
