//! Snapshots of the whole working tree as git tree objects, and the phase
//! commit made from one.
//!
//! A snapshot is built in a temporary index (a copy of the real one, for its
//! stat cache): `add -A` of the work tree (`.gitignore` respected), then
//! `write-tree`. It costs no checkout and leaves the real index alone. The
//! user's changes found at the start of a run ([`LeftOut`]) get the entries
//! of the runner's last snapshot back, so they never enter a commit.

use super::{Context, PathPatterns, Repo, VcsError};
use git2::{IndexAddOption, IndexEntry, Oid, Repository};
use std::collections::BTreeMap;
use std::path::Path;

/// The content id of a path that is not in the tree.
pub const DELETED: &str = "deleted";

/// The user's changes kept out of the runner's snapshots and commits: each
/// path with the content (git blob id, or [`DELETED`]) it held when found;
/// while it still holds that, it gets its entry in the tree `line` back
/// (or none). A path changed again after it was found was changed by the
/// run's own agents, on top of the user's change: it is the run's work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftOut {
    pub line: String,
    pub paths: BTreeMap<String, String>,
}

/// A snapshot of the working tree.
pub struct Snapshot {
    /// The git tree object.
    pub tree: String,
    /// The left-out paths that got the line's entry back.
    pub restored: Vec<String>,
    /// The index the tree was written from (stat data included).
    entries: Vec<IndexEntry>,
}

impl Repo {
    /// The working tree as a tree object: everything `git add -A` would
    /// take, except paths matching `drop` (project-relative patterns) and
    /// the unchanged paths of `left_out`, which keep the line's entry.
    pub fn snapshot(
        &self,
        left_out: Option<&LeftOut>,
        drop: &[&str],
    ) -> Result<Snapshot, VcsError> {
        let temp = self.repo.path().join("roadmap-runner-snapshot.index");
        let _ = std::fs::remove_file(&temp);
        let real = self.repo.path().join("index");
        if real.exists() {
            std::fs::copy(&real, &temp).map_err(|e| VcsError::Git {
                context: format!("cannot copy the git index to {}", temp.display()),
                source: git2::Error::from_str(&e.to_string()),
            })?;
        }
        let made = self.snapshot_in(&temp, left_out, drop);
        let _ = std::fs::remove_file(&temp);
        made
    }

    fn snapshot_in(
        &self,
        temp: &Path,
        left_out: Option<&LeftOut>,
        drop: &[&str],
    ) -> Result<Snapshot, VcsError> {
        // A second handle on the repository owns the temporary index, so this
        // one's index stays the real one.
        let own = Repository::open(self.repo.path())
            .context(|| "cannot open the repository for a snapshot".into())?;
        let mut index =
            git2::Index::open(temp).context(|| "cannot open a temporary git index".into())?;
        own.set_index(&mut index)
            .context(|| "cannot use a temporary git index".into())?;
        let drop = PathPatterns::new(drop);
        let mut filter = |path: &Path, _spec: &[u8]| -> i32 {
            let p = path.to_string_lossy().replace('\\', "/");
            i32::from(self.ignored(&p, &drop))
        };
        index
            .add_all(["*"], IndexAddOption::DEFAULT, Some(&mut filter))
            .context(|| "cannot take the working tree into a snapshot (git add)".into())?;
        index
            .update_all(["*"], Some(&mut filter))
            .context(|| "cannot take the working tree into a snapshot (git add -u)".into())?;
        let dropped: Vec<String> = index
            .iter()
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .filter(|p| self.ignored(p, &drop))
            .collect();
        for p in dropped {
            index
                .remove_path(Path::new(&p))
                .context(|| format!("cannot leave {p} out of a snapshot"))?;
        }
        let restored = match left_out {
            Some(l) => self.restore(&mut index, l)?,
            None => Vec::new(),
        };
        let tree = index.write_tree().map_err(|e| VcsError::Git {
            context: if index.has_conflicts() {
                "the index has unresolved conflicts (see `git status`)".into()
            } else {
                "cannot write the snapshot's tree".into()
            },
            source: e,
        })?;
        Ok(Snapshot {
            tree: tree.to_string(),
            restored,
            entries: index.iter().collect(),
        })
    }

    /// Gives each left-out path that still holds what it held when found
    /// the line's entry back (or removes it). Returns those paths.
    fn restore(
        &self,
        index: &mut git2::Index,
        left_out: &LeftOut,
    ) -> Result<Vec<String>, VcsError> {
        let line = Oid::from_str(&left_out.line)
            .and_then(|id| self.repo.find_tree(id))
            .context(|| format!("cannot read the runner's last snapshot {}", left_out.line))?;
        let mut restored = Vec::new();
        for (path, found) in &left_out.paths {
            let p = Path::new(path);
            let now = index
                .get_path(p, 0)
                .map_or_else(|| DELETED.to_string(), |e| e.id.to_string());
            if &now != found {
                continue;
            }
            match line.get_path(p) {
                Ok(entry) => index
                    .add(&index_entry(path, entry.id(), entry.filemode() as u32))
                    .context(|| format!("cannot keep {path} out of a snapshot"))?,
                Err(_) if now == DELETED => {}
                Err(_) => index
                    .remove_path(p)
                    .context(|| format!("cannot keep {path} out of a snapshot"))?,
            }
            restored.push(path.clone());
        }
        Ok(restored)
    }

    /// Paths whose entries differ between two trees, each with its blob id
    /// in `to` ([`DELETED`] when `to` lacks it); paths matching `ignore`
    /// (project-relative patterns) left out.
    pub fn tree_changes(
        &self,
        from: &str,
        to: &str,
        ignore: &[&str],
    ) -> Result<BTreeMap<String, String>, VcsError> {
        let tree = |id: &str| {
            Oid::from_str(id)
                .and_then(|oid| self.repo.find_tree(oid))
                .context(|| format!("cannot read the snapshot {id}"))
        };
        let (a, b) = (tree(from)?, tree(to)?);
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&a), Some(&b), None)
            .context(|| "cannot compare two snapshots".into())?;
        let ignore = PathPatterns::new(ignore);
        let mut out = BTreeMap::new();
        for d in diff.deltas() {
            let Some(path) = d.new_file().path().or_else(|| d.old_file().path()) else {
                continue;
            };
            let path = path.to_string_lossy().replace('\\', "/");
            if self.ignored(&path, &ignore) {
                continue;
            }
            let id = match d.status() {
                git2::Delta::Deleted => DELETED.to_string(),
                _ => d.new_file().id().to_string(),
            };
            out.insert(path, id);
        }
        Ok(out)
    }

    /// Commits the snapshot's tree on the current branch. The real index
    /// becomes that tree, except for the `restored` paths, whose entries
    /// stay as they were (what the user staged is still staged). `Ok(None)`
    /// when the tree is HEAD's: no empty commit.
    pub fn commit_snapshot(
        &self,
        snapshot: &Snapshot,
        message: &str,
    ) -> Result<Option<String>, VcsError> {
        let sig = self.signature()?;
        self.check_ready_to_commit()?;
        let tree_id = Oid::from_str(&snapshot.tree)
            .context(|| format!("bad snapshot id {}", snapshot.tree))?;
        // The index first: a crash before the commit leaves the phase staged
        // and uncommitted, which the next run commits again.
        self.commit_tree(&sig, tree_id, message, || self.reset_index(snapshot))
    }

    fn reset_index(&self, snapshot: &Snapshot) -> Result<(), VcsError> {
        let mut index = self
            .repo
            .index()
            .context(|| "cannot open the git index".into())?;
        let kept: Vec<(String, Option<IndexEntry>)> = snapshot
            .restored
            .iter()
            .map(|p| (p.clone(), index.get_path(Path::new(p), 0)))
            .collect();
        index
            .clear()
            .context(|| "cannot update the git index".into())?;
        for e in &snapshot.entries {
            index
                .add(e)
                .context(|| "cannot update the git index".into())?;
        }
        for (path, entry) in kept {
            let _ = index.remove_path(Path::new(&path));
            if let Some(e) = entry {
                index
                    .add(&e)
                    .context(|| format!("cannot keep {path} in the git index"))?;
            }
        }
        index
            .write()
            .context(|| "cannot write the git index".into())
    }
}

/// An index entry for a stored blob, without stat data (git compares the
/// file's content then): how snapshots and worktree bases fill an index
/// that no checkout backs.
pub fn index_entry(path: &str, id: Oid, mode: u32) -> IndexEntry {
    IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}
