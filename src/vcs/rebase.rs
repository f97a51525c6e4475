//! Bringing the branch up to date with a remote branch that moved on: the
//! unpushed commits replayed onto it (rebase) or a merge commit, built in
//! memory. Only when that worked without a conflict are the working tree,
//! the index and the branch moved, so a conflict leaves the repository
//! exactly as it was: never a rebase in progress, never conflict markers.

use super::{Context, RUNNER_TRAILER, Repo, VcsError};
use git2::build::CheckoutBuilder;
use git2::{CheckoutNotificationType, Commit, Index, Oid, Sort};
use serde::Serialize;

/// How to integrate the remote branch's new commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Integrate {
    Rebase,
    Merge,
}

/// What [`Repo::integrate`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Integration {
    pub how: Integrate,
    /// The remote-tracking ref integrated, e.g. `origin/main`.
    pub upstream: String,
    /// Commits of the upstream that the branch did not have.
    pub upstream_commits: usize,
    /// Local commits replayed onto the upstream (rebase), or 1 (the merge
    /// commit); 0 for a fast-forward.
    pub new_commits: usize,
    /// Commits left out because the upstream already had their changes.
    pub dropped: usize,
    /// The branch's new tip.
    pub head: String,
}

/// The branch being integrated, for the error messages.
struct Names<'a> {
    remote: &'a str,
    branch: &'a str,
    upstream: String,
}

impl Repo {
    /// Integrates `upstream` (a ref such as `refs/remotes/origin/main`) into
    /// the local `branch` of `remote`. The working tree is updated when the
    /// branch is checked out; local changes are kept, and a change that the
    /// update would overwrite refuses it ([`VcsError::WorktreeInTheWay`]).
    pub fn integrate(
        &self,
        remote: &str,
        branch: &str,
        upstream: &str,
        how: Integrate,
    ) -> Result<Integration, VcsError> {
        let names = Names {
            remote,
            branch,
            upstream: upstream
                .strip_prefix("refs/remotes/")
                .unwrap_or(upstream)
                .to_string(),
        };
        let local_ref = format!("refs/heads/{branch}");
        let local = self.commit_at(&local_ref)?;
        let theirs = self.commit_at(upstream)?;
        let (_, upstream_commits) = self
            .repo
            .graph_ahead_behind(local.id(), theirs.id())
            .context(|| format!("cannot compare `{branch}` with `{}`", names.upstream))?;
        let checked_out = self.current_branch().as_deref() == Some(branch);
        if checked_out {
            self.check_ready_to_commit()?;
        }

        let (head, new_commits, dropped) = if upstream_commits == 0 {
            (local.id(), 0, 0)
        } else if self.is_ancestor(local.id(), theirs.id())? {
            (theirs.id(), 0, 0)
        } else {
            match how {
                Integrate::Rebase => self.replay(&local, &theirs, &names)?,
                Integrate::Merge => (self.merge(&local, &theirs, &names)?, 1, 0),
            }
        };
        if head != local.id() {
            let what = match how {
                Integrate::Rebase => "updating the working tree after the rebase",
                Integrate::Merge => "updating the working tree after the merge",
            };
            self.move_branch(&local_ref, local.id(), head, checked_out, what, &names)?;
        }
        Ok(Integration {
            how,
            upstream: names.upstream,
            upstream_commits,
            new_commits,
            dropped,
            head: head.to_string(),
        })
    }

    fn commit_at(&self, refname: &str) -> Result<Commit<'_>, VcsError> {
        self.repo
            .revparse_single(refname)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| VcsError::UnknownCommit {
                rev: refname.to_string(),
                message: e.message().to_string(),
            })
    }

    /// `ancestor` is `of` or one of its ancestors.
    pub(super) fn is_ancestor(&self, ancestor: Oid, of: Oid) -> Result<bool, VcsError> {
        Ok(ancestor == of
            || self
                .repo
                .graph_descendant_of(of, ancestor)
                .context(|| "cannot compare commits".into())?)
    }

    /// Cherry-picks the commits of `local` that `theirs` lacks onto it, oldest
    /// first, keeping each author and message. Returns the new tip, how many
    /// commits were made and how many were left out as already upstream.
    fn replay(
        &self,
        local: &Commit<'_>,
        theirs: &Commit<'_>,
        names: &Names<'_>,
    ) -> Result<(Oid, usize, usize), VcsError> {
        let committer = self.signature()?;
        let mut onto = theirs.clone();
        let (mut made, mut dropped) = (0, 0);
        for commit in self.commits_between(local.id(), theirs.id())? {
            if commit.parent_count() > 1 {
                return Err(VcsError::MergeInRebase {
                    remote: names.remote.into(),
                    branch: names.branch.into(),
                    upstream: names.upstream.clone(),
                    commit: describe(&commit),
                });
            }
            let mut index = self
                .repo
                .cherrypick_commit(&commit, &onto, 0, None)
                .context(|| format!("cannot replay {}", describe(&commit)))?;
            let how = || format!("replaying {} onto them", describe(&commit));
            let tree = self.conflict_free_tree(&mut index, names, how)?;
            if tree.id() == onto.tree_id() {
                // The upstream already has this change: nothing of it is lost.
                dropped += 1;
                continue;
            }
            let id = self
                .repo
                .commit(
                    None,
                    &commit.author(),
                    &committer,
                    &String::from_utf8_lossy(commit.message_raw_bytes()),
                    &tree,
                    &[&onto],
                )
                .context(|| format!("cannot write the replayed {}", describe(&commit)))?;
            onto = self
                .repo
                .find_commit(id)
                .context(|| format!("cannot read commit {id}"))?;
            made += 1;
        }
        Ok((onto.id(), made, dropped))
    }

    /// The commits reachable from `tip` but not from `base`, oldest first.
    fn commits_between(&self, tip: Oid, base: Oid) -> Result<Vec<Commit<'_>>, VcsError> {
        let walk_err = || "cannot walk the unpushed commits".to_string();
        let mut walk = self.repo.revwalk().context(walk_err)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .context(walk_err)?;
        walk.push(tip).context(walk_err)?;
        walk.hide(base).context(walk_err)?;
        walk.map(|oid| {
            let oid = oid.context(walk_err)?;
            self.repo
                .find_commit(oid)
                .context(|| format!("cannot read commit {oid}"))
        })
        .collect()
    }

    /// A merge commit of `theirs` into `local`, marked as the runner's.
    fn merge(
        &self,
        local: &Commit<'_>,
        theirs: &Commit<'_>,
        names: &Names<'_>,
    ) -> Result<Oid, VcsError> {
        let sig = self.signature()?;
        let mut index = self
            .repo
            .merge_commits(local, theirs, None)
            .context(|| format!("cannot merge `{}`", names.upstream))?;
        let tree = self.conflict_free_tree(&mut index, names, || "merging them".into())?;
        let message = format!(
            "Merge {} into {}\n\n{RUNNER_TRAILER}: merge\n",
            names.upstream, names.branch
        );
        self.repo
            .commit(None, &sig, &sig, &message, &tree, &[local, theirs])
            .context(|| "cannot write the merge commit".into())
    }

    /// The tree of an in-memory merge result, or the conflict it holds.
    fn conflict_free_tree(
        &self,
        index: &mut Index,
        names: &Names<'_>,
        how: impl FnOnce() -> String,
    ) -> Result<git2::Tree<'_>, VcsError> {
        if index.has_conflicts() {
            let mut files: Vec<String> = index
                .conflicts()
                .context(|| "cannot read the conflicts".into())?
                .filter_map(Result::ok)
                .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            files.sort();
            files.dedup();
            return Err(VcsError::Conflict {
                remote: names.remote.into(),
                branch: names.branch.into(),
                upstream: names.upstream.clone(),
                how: how(),
                files: files.join(", "),
            });
        }
        let id = index
            .write_tree_to(&self.repo)
            .context(|| "cannot write the merged tree".into())?;
        self.repo
            .find_tree(id)
            .context(|| "cannot read the merged tree".into())
    }

    /// Points the branch at `new` (only if it still points at `old`); when it
    /// is checked out, first updates the working tree and the index, which
    /// refuses before writing anything if a local change would be lost.
    fn move_branch(
        &self,
        local_ref: &str,
        old: Oid,
        new: Oid,
        checked_out: bool,
        what: &str,
        names: &Names<'_>,
    ) -> Result<(), VcsError> {
        if checked_out {
            self.checkout_safely(new, what, names)?;
        }
        let message = format!("roadmap-runner: {what} onto {}", names.upstream);
        self.repo
            .reference_matching(local_ref, new, true, old, &message)
            .context(|| format!("cannot move `{}` to {new}", names.branch))?;
        Ok(())
    }

    fn checkout_safely(&self, new: Oid, what: &str, names: &Names<'_>) -> Result<(), VcsError> {
        let commit = self
            .repo
            .find_commit(new)
            .context(|| format!("cannot read commit {new}"))?;
        let mut in_the_way: Vec<String> = Vec::new();
        let result = {
            let mut checkout = CheckoutBuilder::new();
            checkout
                .safe()
                .notify_on(CheckoutNotificationType::CONFLICT)
                .notify(|_, path, _, _, _| {
                    if let Some(p) = path {
                        in_the_way.push(p.to_string_lossy().into_owned());
                    }
                    true
                });
            self.repo
                .checkout_tree(commit.as_object(), Some(&mut checkout))
        };
        match result {
            Ok(()) => Ok(()),
            Err(_) if !in_the_way.is_empty() => {
                in_the_way.sort();
                Err(VcsError::WorktreeInTheWay {
                    branch: names.branch.into(),
                    upstream: names.upstream.clone(),
                    how: what.into(),
                    files: in_the_way.join(", "),
                })
            }
            Err(e) => Err(e).context(|| what.to_string()),
        }
    }
}

/// `abc1234 Subject line`.
fn describe(commit: &Commit<'_>) -> String {
    super::publish::short_and_subject(&commit.id().to_string(), &super::publish::subject(commit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcs::{PHASE_TRAILER, made_by_runner};
    use git2::{Repository, RepositoryInitOptions, Signature};
    use std::path::Path;
    use tempfile::TempDir;

    /// A repository on `main` with one commit (`a.txt`), an identity and no
    /// remote: the "upstream" is a plain ref, `refs/remotes/origin/main`.
    fn repo() -> (TempDir, Repository) {
        let tmp = tempfile::tempdir().unwrap();
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(tmp.path(), &opts).unwrap();
        let mut config = repo.config().unwrap();
        config.set_str("user.name", "Tester").unwrap();
        config
            .set_str("user.email", "tester@example.invalid")
            .unwrap();
        let base = commit_on(&repo, None, &[("a.txt", "line\n")], "base");
        repo.reference("refs/heads/main", base, true, "init")
            .unwrap();
        checkout_main(&repo);
        (tmp, repo)
    }

    fn sig() -> Signature<'static> {
        Signature::now("Someone Else", "else@example.invalid").unwrap()
    }

    /// A commit of `parent`'s tree with `files` (top-level) written, no ref moved.
    fn commit_on(repo: &Repository, parent: Option<Oid>, files: &[(&str, &str)], msg: &str) -> Oid {
        let parent = parent.map(|p| repo.find_commit(p).unwrap());
        let base = parent.as_ref().map(|p| p.tree().unwrap());
        let mut builder = repo.treebuilder(base.as_ref()).unwrap();
        for (path, text) in files {
            let blob = repo.blob(text.as_bytes()).unwrap();
            builder.insert(path, blob, 0o100644).unwrap();
        }
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let parents: Vec<&Commit<'_>> = parent.iter().collect();
        repo.commit(None, &sig(), &sig(), msg, &tree, &parents)
            .unwrap()
    }

    fn checkout_main(repo: &Repository) {
        repo.set_head("refs/heads/main").unwrap();
        repo.checkout_head(Some(CheckoutBuilder::new().force()))
            .unwrap();
    }

    fn main_tip(repo: &Repository) -> Oid {
        repo.refname_to_id("refs/heads/main").unwrap()
    }

    /// Commits `files` on main and checks them out, as the runner's commit would.
    fn commit_main(repo: &Repository, files: &[(&str, &str)], msg: &str) -> Oid {
        let id = commit_on(repo, Some(main_tip(repo)), files, msg);
        repo.reference("refs/heads/main", id, true, "test").unwrap();
        checkout_main(repo);
        id
    }

    fn set_upstream(repo: &Repository, id: Oid) {
        repo.reference("refs/remotes/origin/main", id, true, "test")
            .unwrap();
    }

    fn read(dir: &Path, path: &str) -> String {
        std::fs::read_to_string(dir.join(path)).unwrap_or_default()
    }

    fn integrate(dir: &Path, how: Integrate) -> Result<Integration, VcsError> {
        Repo::open(dir)
            .unwrap()
            .integrate("origin", "main", "refs/remotes/origin/main", how)
    }

    fn clean(repo: &Repository) -> bool {
        repo.state() == git2::RepositoryState::Clean
            && repo
                .statuses(None)
                .unwrap()
                .iter()
                .all(|s| s.status().is_ignored())
    }

    fn phase_msg(n: u32) -> String {
        format!("Complete Phase {n}\n\n{PHASE_TRAILER}: {n}\n")
    }

    #[test]
    fn rebase_replays_the_local_commits_onto_the_upstream() {
        let (tmp, repo) = repo();
        let base = main_tip(&repo);
        let theirs = commit_on(&repo, Some(base), &[("theirs.txt", "t\n")], "Their work");
        set_upstream(&repo, theirs);
        commit_main(&repo, &[("one.txt", "1\n")], &phase_msg(1));
        commit_main(&repo, &[("two.txt", "2\n")], &phase_msg(2));

        let done = integrate(tmp.path(), Integrate::Rebase).unwrap();
        assert_eq!(
            (
                done.upstream.as_str(),
                done.upstream_commits,
                done.new_commits,
                done.dropped
            ),
            ("origin/main", 1, 2, 0)
        );
        let head = repo.find_commit(main_tip(&repo)).unwrap();
        assert_eq!(done.head, head.id().to_string());
        assert_eq!(head.message().ok(), Some(phase_msg(2).as_str()));
        assert_eq!(
            head.author().name().ok(),
            Some("Someone Else"),
            "the author is kept"
        );
        assert_eq!(head.committer().name().ok(), Some("Tester"));
        let first = head.parent(0).unwrap();
        assert_eq!(first.message().ok(), Some(phase_msg(1).as_str()));
        assert_eq!(first.parent_id(0).unwrap(), theirs);
        // Both sides are in the working tree, which is clean, on the branch.
        for (f, text) in [
            ("theirs.txt", "t\n"),
            ("one.txt", "1\n"),
            ("two.txt", "2\n"),
        ] {
            assert_eq!(read(tmp.path(), f), text, "{f}");
        }
        assert!(clean(&repo));
        assert_eq!(repo.head().unwrap().name().ok(), Some("refs/heads/main"));
    }

    #[test]
    fn local_changes_the_update_does_not_touch_are_kept() {
        let (tmp, repo) = repo();
        let theirs = commit_on(
            &repo,
            Some(main_tip(&repo)),
            &[("theirs.txt", "t\n")],
            "Theirs",
        );
        set_upstream(&repo, theirs);
        commit_main(&repo, &[("one.txt", "1\n")], &phase_msg(1));
        std::fs::write(tmp.path().join("a.txt"), "edited by hand\n").unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "untracked\n").unwrap();

        integrate(tmp.path(), Integrate::Rebase).unwrap();
        assert_eq!(read(tmp.path(), "a.txt"), "edited by hand\n");
        assert_eq!(read(tmp.path(), "notes.txt"), "untracked\n");
        assert_eq!(read(tmp.path(), "theirs.txt"), "t\n");
    }

    #[test]
    fn a_conflict_changes_nothing() {
        let (tmp, repo) = repo();
        let base = main_tip(&repo);
        let theirs = commit_on(&repo, Some(base), &[("a.txt", "theirs\n")], "Theirs");
        set_upstream(&repo, theirs);
        let ours = commit_main(&repo, &[("a.txt", "ours\n")], &phase_msg(1));

        for how in [Integrate::Rebase, Integrate::Merge] {
            let err = integrate(tmp.path(), how).unwrap_err();
            match &err {
                VcsError::Conflict {
                    files, upstream, ..
                } => {
                    assert_eq!(
                        (files.as_str(), upstream.as_str()),
                        ("a.txt", "origin/main")
                    );
                }
                other => panic!("expected a conflict, got {other:?}"),
            }
            let msg = err.to_string();
            assert!(msg.contains("git pull --rebase origin main"), "{msg}");
            assert!(msg.contains("Nothing was changed"), "{msg}");
            assert_eq!(main_tip(&repo), ours);
            assert_eq!(read(tmp.path(), "a.txt"), "ours\n");
            assert!(clean(&repo), "{how:?} left the repository changed");
            assert!(!tmp.path().join(".git/rebase-merge").exists());
            assert!(!tmp.path().join(".git/MERGE_HEAD").exists());
        }
        let err = integrate(tmp.path(), Integrate::Rebase).unwrap_err();
        assert!(
            err.to_string().contains("Complete Phase 1"),
            "names the commit: {err}"
        );
    }

    #[test]
    fn merge_makes_a_merge_commit_marked_as_the_runners() {
        let (tmp, repo) = repo();
        let theirs = commit_on(
            &repo,
            Some(main_tip(&repo)),
            &[("theirs.txt", "t\n")],
            "Theirs",
        );
        set_upstream(&repo, theirs);
        let ours = commit_main(&repo, &[("one.txt", "1\n")], &phase_msg(1));

        let done = integrate(tmp.path(), Integrate::Merge).unwrap();
        assert_eq!((done.upstream_commits, done.new_commits), (1, 1));
        let head = repo.find_commit(main_tip(&repo)).unwrap();
        assert_eq!(head.parent_ids().collect::<Vec<_>>(), [ours, theirs]);
        assert!(
            made_by_runner(head.message().unwrap()),
            "{:?}",
            head.message()
        );
        assert_eq!(read(tmp.path(), "theirs.txt"), "t\n");
        assert_eq!(read(tmp.path(), "one.txt"), "1\n");
        assert!(clean(&repo));
    }

    #[test]
    fn a_local_change_in_the_way_refuses_before_anything_moves() {
        let (tmp, repo) = repo();
        let theirs = commit_on(
            &repo,
            Some(main_tip(&repo)),
            &[("a.txt", "theirs\n")],
            "Theirs",
        );
        set_upstream(&repo, theirs);
        let ours = commit_main(&repo, &[("one.txt", "1\n")], &phase_msg(1));
        std::fs::write(tmp.path().join("a.txt"), "mine, not committed\n").unwrap();

        let err = integrate(tmp.path(), Integrate::Rebase).unwrap_err();
        match &err {
            VcsError::WorktreeInTheWay { files, .. } => assert_eq!(files, "a.txt"),
            other => panic!("expected WorktreeInTheWay, got {other:?}"),
        }
        assert!(err.to_string().contains("commit or stash"), "{err}");
        assert_eq!(main_tip(&repo), ours);
        assert_eq!(read(tmp.path(), "a.txt"), "mine, not committed\n");
        assert_eq!(read(tmp.path(), "one.txt"), "1\n");
    }

    #[test]
    fn a_change_the_upstream_already_has_is_left_out_and_behind_fast_forwards() {
        let (tmp, repo) = repo();
        let base = main_tip(&repo);
        let theirs = commit_on(&repo, Some(base), &[("one.txt", "1\n")], "Same change");
        set_upstream(&repo, theirs);
        commit_main(&repo, &[("one.txt", "1\n")], &phase_msg(1));
        let done = integrate(tmp.path(), Integrate::Rebase).unwrap();
        assert_eq!((done.new_commits, done.dropped), (0, 1));
        assert_eq!(main_tip(&repo), theirs);

        // Only behind: the branch fast-forwards.
        let newer = commit_on(&repo, Some(theirs), &[("more.txt", "m\n")], "More");
        set_upstream(&repo, newer);
        let done = integrate(tmp.path(), Integrate::Merge).unwrap();
        assert_eq!((done.upstream_commits, done.new_commits), (1, 0));
        assert_eq!(main_tip(&repo), newer);
        assert_eq!(read(tmp.path(), "more.txt"), "m\n");
        assert!(clean(&repo));
    }

    #[test]
    fn a_merge_among_the_local_commits_is_not_rebased() {
        let (tmp, repo) = repo();
        let base = main_tip(&repo);
        let side = commit_on(&repo, Some(base), &[("side.txt", "s\n")], "Side");
        let ours = commit_main(&repo, &[("one.txt", "1\n")], &phase_msg(1));
        let tree = repo.find_commit(ours).unwrap().tree().unwrap();
        let (o, s) = (
            repo.find_commit(ours).unwrap(),
            repo.find_commit(side).unwrap(),
        );
        let merge = repo
            .commit(None, &sig(), &sig(), "Merge side", &tree, &[&o, &s])
            .unwrap();
        repo.reference("refs/heads/main", merge, true, "test")
            .unwrap();
        let theirs = commit_on(&repo, Some(base), &[("theirs.txt", "t\n")], "Theirs");
        set_upstream(&repo, theirs);

        let err = integrate(tmp.path(), Integrate::Rebase).unwrap_err();
        assert!(matches!(err, VcsError::MergeInRebase { .. }), "{err:?}");
        assert!(err.to_string().contains("Merge side"), "{err}");
        assert_eq!(main_tip(&repo), merge);
    }
}
