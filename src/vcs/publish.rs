//! Publishing the runner's commits: what a push would send, the refusal to
//! send the user's own unpushed commits (`[git] push_foreign`), and a remote
//! branch that moved on (`[git] diverged`).

use super::push::Target;
use super::{Context, HISTORY_LIMIT, Integrate, Integration, PushOutcome, Repo, VcsError};
use crate::config::{Diverged, GitSettings, PushForeign};
use serde::Serialize;

/// At most this many foreign commits are named in a message.
const NAMED_COMMITS: usize = 10;

/// A commit on the local branch that its remote-tracking branch lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnpushedCommit {
    pub id: String,
    pub subject: String,
    /// Made by roadmap-runner (see [`super::made_by_runner`]).
    pub by_runner: bool,
}

impl UnpushedCommit {
    /// `abc1234 Subject`.
    pub fn describe(&self) -> String {
        short_and_subject(&self.id, &self.subject)
    }
}

/// What [`Repo::publish`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    pub push: PushOutcome,
    /// The remote branch had moved on and was integrated first.
    pub integrated: Option<Integration>,
    /// The push was refused, yet the remote branch already held the local
    /// commit: an earlier push (of a run killed during it) had completed.
    pub already_there: bool,
}

impl Repo {
    /// The commits the next push would send (as far as the remote-tracking
    /// branch knows), newest first, at most [`HISTORY_LIMIT`].
    pub fn unpushed(&self, settings: &GitSettings) -> Result<Vec<UnpushedCommit>, VcsError> {
        let target = self.push_target(settings)?;
        self.find_remote(&target.remote)?;
        self.unpushed_to(&target)
    }

    pub(super) fn unpushed_to(&self, target: &Target) -> Result<Vec<UnpushedCommit>, VcsError> {
        let Some(local) = self.oid(&format!("refs/heads/{}", target.branch)) else {
            return Ok(Vec::new());
        };
        let walk_err = || "cannot walk the unpushed commits".to_string();
        let mut walk = self.repo.revwalk().context(walk_err)?;
        walk.push(local).context(walk_err)?;
        if let Some(tracking) = self.oid(&target.tracking_ref()) {
            walk.hide(tracking).context(walk_err)?;
        }
        walk.take(HISTORY_LIMIT)
            .map(|oid| {
                let oid = oid.context(walk_err)?;
                let commit = self
                    .repo
                    .find_commit(oid)
                    .context(|| format!("cannot read commit {oid}"))?;
                let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
                Ok(UnpushedCommit {
                    id: oid.to_string(),
                    subject: subject(&commit),
                    by_runner: super::made_by_runner(&message),
                })
            })
            .collect()
    }

    /// Pushes the branch, unless it holds commits the runner did not make and
    /// `push_foreign` refuses them. A push rejected because the remote branch
    /// moved on is retried once after integrating it as `diverged` says.
    pub fn publish(&self, settings: &GitSettings) -> Result<Published, VcsError> {
        let target = self.push_target(settings)?;
        self.refuse_foreign(settings, &target)?;
        let rejected = match self.push(settings) {
            Err(e @ VcsError::PushRejected { .. }) => e,
            other => {
                return other.map(|push| Published {
                    push,
                    integrated: None,
                    already_there: false,
                });
            }
        };
        // What the remote branch holds now decides; a failed fetch leaves
        // the refusal as it was.
        let Ok(upstream) = self.fetch_upstream(settings) else {
            return Err(rejected);
        };
        let local = self.oid(&format!("refs/heads/{}", target.branch));
        let theirs = self.oid(&upstream);
        if let (Some(l), Some(t)) = (local, theirs)
            && l == t
        {
            return Ok(Published {
                push: self.already_pushed(&target, l)?,
                integrated: None,
                already_there: true,
            });
        }
        let diverged = match (local, theirs) {
            (Some(l), Some(t)) => !self.is_ancestor(t, l)?,
            _ => false,
        };
        if !diverged || settings.diverged == Diverged::Stop {
            // Rejected for another reason (a hook, a protected branch), or
            // told not to integrate.
            return Err(rejected);
        }
        // What is unpushed is now known exactly: check it again.
        self.refuse_foreign(settings, &target)?;
        let how = match settings.diverged {
            Diverged::Merge => Integrate::Merge,
            _ => Integrate::Rebase,
        };
        let integrated = self.integrate(&target.remote, &target.branch, &upstream, how)?;
        let push = self.push(settings)?;
        Ok(Published {
            push,
            integrated: Some(integrated),
            already_there: false,
        })
    }

    /// The outcome of a push the remote had already received.
    fn already_pushed(&self, target: &Target, commit: git2::Oid) -> Result<PushOutcome, VcsError> {
        let remote = self.find_remote(&target.remote)?;
        Ok(PushOutcome {
            remote: target.remote.clone(),
            url: super::push::remote_url(&remote),
            branch: target.branch.clone(),
            commit: commit.to_string(),
            commits_pushed: 0,
            upstream_set: false,
        })
    }

    /// The remote pushes would go to, when the repository has no remote at
    /// all and none is named in the settings: there is nothing to push to.
    pub fn missing_remote(&self, settings: &GitSettings) -> Option<String> {
        let named = settings
            .remote
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty());
        let none = self.repo.remotes().is_ok_and(|r| r.is_empty());
        if named || !none {
            return None;
        }
        Some(
            self.push_target(settings)
                .map_or_else(|_| "origin".into(), |t| t.remote),
        )
    }

    /// Whether `commit` is on the remote: the remote-tracking branch holds it.
    pub fn is_on_remote(&self, settings: &GitSettings, commit: &str) -> bool {
        let Ok(target) = self.push_target(settings) else {
            return false;
        };
        let (Some(tracking), Ok(id)) = (
            self.oid(&target.tracking_ref()),
            git2::Oid::from_str(commit),
        ) else {
            return false;
        };
        self.is_ancestor(id, tracking).unwrap_or(false)
    }

    fn refuse_foreign(&self, settings: &GitSettings, target: &Target) -> Result<(), VcsError> {
        if settings.push_foreign == PushForeign::Allow {
            return Ok(());
        }
        let foreign: Vec<UnpushedCommit> = self
            .unpushed_to(target)?
            .into_iter()
            .filter(|c| !c.by_runner)
            .collect();
        if foreign.is_empty() {
            return Ok(());
        }
        Err(VcsError::ForeignCommits {
            remote: target.remote.clone(),
            branch: target.branch.clone(),
            commits: name_commits(&foreign),
        })
    }
}

/// `abc1234 wip, def5678 more` — the first few, then how many more.
pub fn name_commits(commits: &[UnpushedCommit]) -> String {
    let mut names: Vec<String> = commits
        .iter()
        .take(NAMED_COMMITS)
        .map(UnpushedCommit::describe)
        .collect();
    if commits.len() > NAMED_COMMITS {
        names.push(format!("and {} more", commits.len() - NAMED_COMMITS));
    }
    names.join(", ")
}

/// The first line of a commit's message.
pub(super) fn subject(commit: &git2::Commit<'_>) -> String {
    commit
        .summary_bytes()
        .map(|s| String::from_utf8_lossy(s).trim().to_string())
        .unwrap_or_else(|| "(no subject)".into())
}

/// `abc1234 Subject`: how a commit is named in messages.
pub(super) fn short_and_subject(id: &str, subject: &str) -> String {
    format!("{} {}", &id[..id.len().min(7)], subject)
}
