//! Whether a conflict's resolution holds both sides' changes: an agent
//! that resolves a conflict can silently keep only one side.
//!
//! A side's change is held when a three-way merge of the side into the
//! resolution (the sides' merge base as the ancestor, git2 `merge_trees`)
//! is clean and changes nothing. git calls edits on touching lines a
//! conflict, so a resolution that joins two edits of neighbouring lines
//! fails that test while it holds both: for each file where the merge does
//! not hold, the side's change is then checked line by line: every line
//! the side added is still in the resolution, and every line it removed is
//! removed there too.

use super::Context;
use super::WorktreeError;
use super::base::tree_of;
use git2::{DiffOptions, Oid, Patch, Repository, Tree};
use std::collections::BTreeSet;
use std::path::Path;

/// The two sides of a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// What was merged before (the group's earlier tasks, hand edits).
    Merged,
    /// The task whose change conflicted.
    Task,
}

/// A file whose resolution lost (part of) one side's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub file: String,
    pub side: Side,
}

/// The files of each side whose change the resolution `resolved` (a
/// commit) does not hold; empty when it holds both. `merged` and
/// `task_commit` are the conflict's two sides.
pub fn dropped_changes(
    git: &Repository,
    merged: Oid,
    task_commit: Oid,
    resolved: Oid,
) -> Result<Vec<Dropped>, WorktreeError> {
    let base = git
        .merge_base(merged, task_commit)
        .context(|| "cannot find where the merged state and the task meet".into())?;
    let tree = |c: Oid| -> Result<Tree<'_>, WorktreeError> {
        let id = tree_of(git, c)?;
        git.find_tree(id)
            .context(|| format!("cannot read tree {id}"))
    };
    let (base, resolution) = (tree(base)?, tree(resolved)?);
    let mut out = Vec::new();
    for (side, commit) in [(Side::Merged, merged), (Side::Task, task_commit)] {
        let side_tree = tree(commit)?;
        for file in missing_in(git, &base, &resolution, &side_tree)? {
            out.push(Dropped { file, side });
        }
    }
    Ok(out)
}

/// The files whose change from `base` to `side` is not in `resolution`.
fn missing_in(
    git: &Repository,
    base: &Tree<'_>,
    resolution: &Tree<'_>,
    side: &Tree<'_>,
) -> Result<Vec<String>, WorktreeError> {
    let index = git
        .merge_trees(base, resolution, side, None)
        .context(|| "cannot merge a side into the resolution".into())?;
    if !index.has_conflicts() {
        let mut index = index;
        let merged = index
            .write_tree_to(git)
            .context(|| "cannot write a merged tree".into())?;
        if merged == resolution.id() {
            return Ok(Vec::new());
        }
    }
    let diff = git
        .diff_tree_to_tree(Some(base), Some(side), None)
        .context(|| "cannot diff a side's change".into())?;
    let mut missing = BTreeSet::new();
    for delta in diff.deltas() {
        let Some(path) = delta.new_file().path().or_else(|| delta.old_file().path()) else {
            continue;
        };
        let text = |t: &Tree<'_>| blob_at(git, t, path);
        if !change_held(&text(base)?, &text(side)?, &text(resolution)?) {
            missing.insert(path.to_string_lossy().into_owned());
        }
    }
    Ok(missing.into_iter().collect())
}

/// The file's bytes in the tree (empty when it is not there).
fn blob_at(git: &Repository, tree: &Tree<'_>, path: &Path) -> Result<Vec<u8>, WorktreeError> {
    let Ok(entry) = tree.get_path(path) else {
        return Ok(Vec::new());
    };
    git.find_blob(entry.id())
        .map(|b| b.content().to_vec())
        .context(|| format!("cannot read {}", path.display()))
}

/// Whether `resolution` holds the change from `base` to `side`: each line
/// the side added is kept and each line it removed is gone. Binary files
/// hold it only when equal to the side.
fn change_held(base: &[u8], side: &[u8], resolution: &[u8]) -> bool {
    if side == resolution {
        return true;
    }
    if [base, side, resolution].iter().any(|b| b.contains(&0)) {
        return false;
    }
    let changed = line_changes(base, side);
    let (removed_from_side, _) = line_changes(side, resolution);
    let (removed_from_base, _) = line_changes(base, resolution);
    changed.1.is_disjoint(&removed_from_side) && changed.0.is_subset(&removed_from_base)
}

/// The line numbers removed from `old` and added in `new` (1-based).
fn line_changes(old: &[u8], new: &[u8]) -> (BTreeSet<u32>, BTreeSet<u32>) {
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    let (mut removed, mut added) = (BTreeSet::new(), BTreeSet::new());
    let Ok(patch) = Patch::from_buffers(old, None, new, None, Some(&mut opts)) else {
        return (removed, added);
    };
    for h in 0..patch.num_hunks() {
        for l in 0..patch.num_lines_in_hunk(h).unwrap_or(0) {
            let Ok(line) = patch.line_in_hunk(h, l) else {
                continue;
            };
            match line.origin() {
                '-' => removed.extend(line.old_lineno()),
                '+' => added.extend(line.new_lineno()),
                _ => {}
            }
        }
    }
    (removed, added)
}

#[cfg(test)]
mod tests {
    use super::change_held;

    const BASE: &str = "one\ntwo\nthree\nfour\nfive\n";

    #[test]
    fn a_resolution_with_both_edits_of_one_line_holds_both() {
        let a1 = "one\ntwo\nthree-A1\nfour\nfive\n";
        let a2 = "one\ntwo\nthree-A2\nfour\nfive\n";
        let both = "one\ntwo\nthree-A1\nthree-A2\nfour\nfive\n";
        for side in [a1, a2] {
            assert!(change_held(
                BASE.as_bytes(),
                side.as_bytes(),
                both.as_bytes()
            ));
        }
        // Only A2's line: A1's change is lost.
        assert!(!change_held(BASE.as_bytes(), a1.as_bytes(), a2.as_bytes()));
    }

    #[test]
    fn edits_of_neighbouring_lines_joined_hold_both() {
        let a = "one\nTWO\nthree\nfour\nfive\n";
        let b = "one\ntwo\nTHREE\nfour\nfive\n";
        let both = "one\nTWO\nTHREE\nfour\nfive\n";
        assert!(change_held(BASE.as_bytes(), a.as_bytes(), both.as_bytes()));
        assert!(change_held(BASE.as_bytes(), b.as_bytes(), both.as_bytes()));
        // A line the side removed, put back: its change is lost.
        assert!(!change_held(BASE.as_bytes(), a.as_bytes(), b.as_bytes()));
    }

    #[test]
    fn a_deleted_file_or_binary_change_must_be_kept_exactly() {
        assert!(!change_held(BASE.as_bytes(), b"", BASE.as_bytes()));
        assert!(change_held(BASE.as_bytes(), b"", b""));
        assert!(!change_held(b"a\0", b"b\0", b"c\0"));
    }
}
