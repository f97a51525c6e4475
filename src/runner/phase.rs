//! A finished phase: commit it and push it.

use crate::config::GitSettings;
use crate::events::{Event, Reporter};
use crate::roadmap::{Phase, PhaseId};
use crate::status::Store;
use crate::vcs::{Repo, commit_message};

/// Why the phase could not be committed or pushed, and what to do.
pub struct VcsFailure {
    pub message: String,
    pub next_steps: Vec<String>,
}

/// Commits the phase: the `commit` record first (HEAD is its parent; the
/// commit holds it), then the commit. A later run tells whether it was made
/// from the history: a commit of the phase on that parent.
pub fn commit_phase(
    repo: &Repo,
    phase: &Phase,
    store: &mut Store<'_>,
    reporter: &mut dyn Reporter,
) -> Result<(), VcsFailure> {
    let fail = |what: String| {
        VcsFailure {
        message: what,
        next_steps: vec!["fix the cause, then run roadmap-runner again: it commits the phase before any new work".into()],
    }
    };
    let parent = repo.head_commit_id();
    store
        .commit_intended(&phase.number, parent.clone())
        .map_err(|e| {
            fail(format!(
                "Phase {} is complete but its commit cannot be recorded: {e}",
                phase.number
            ))
        })?;
    match repo.commit_all(&commit_message(phase)) {
        Ok(Some(commit)) => {
            reporter.report(&Event::PhaseCommitted {
                phase: phase.number.clone(),
                title: phase.title.clone(),
                commit,
            });
            Ok(())
        }
        Ok(None) => {
            reporter.report(&Event::Warning {
                message: format!(
                    "Phase {}: nothing changed in the working tree, so there is nothing to commit",
                    phase.number
                ),
            });
            Ok(())
        }
        Err(e) => Err(fail(format!(
            "Phase {} is complete but could not be committed: {e}",
            phase.number
        ))),
    }
}

pub fn push(
    repo: &Repo,
    phase: Option<&PhaseId>,
    git: &GitSettings,
    reporter: &mut dyn Reporter,
) -> Result<(), VcsFailure> {
    match repo.push(git) {
        Ok(out) => {
            if out.commits_pushed > 0 || phase.is_some() {
                reporter.report(&Event::PhasePushed {
                    phase: phase.cloned(),
                    remote: out.remote,
                    branch: out.branch,
                });
            }
            Ok(())
        }
        Err(e) => {
            let what = phase.map_or("Earlier commits".to_string(), |p| {
                format!("Phase {p} is committed but")
            });
            Err(VcsFailure {
                message: format!("{what} could not be pushed: {e}"),
                next_steps: vec![
                    "the commit is kept; once the cause is fixed, the next run pushes it before any new work (or push it yourself)".into(),
                    "to run without pushing: --no-push, or push = false under [git] in roadmap-runner.toml".into(),
                ],
            })
        }
    }
}
