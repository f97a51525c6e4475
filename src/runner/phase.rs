//! A finished phase: commit it and push it.

use crate::config::{Diverged, GitSettings, PushForeign};
use crate::events::{Event, Reporter};
use crate::roadmap::{Phase, PhaseId};
use crate::status::Store;
use crate::text::plural;
use crate::vcs::{Integrate, Integration, LeftOut, Repo, TRANSIENT_FILES, VcsError};

/// Why the phase could not be committed or pushed, and what to do.
pub struct VcsFailure {
    pub message: String,
    pub next_steps: Vec<String>,
}

/// What a phase commit is made of.
pub struct PhaseCommit<'a> {
    pub phase: &'a Phase,
    /// The user's changes it leaves out.
    pub left_out: Option<&'a LeftOut>,
    /// Its groups marked complete by hand.
    pub skipped: &'a [String],
    /// The tasks that split: `- A2: ` (their line) and their sub-tasks' lines.
    pub splits: Vec<(String, Vec<String>)>,
}

/// The phase commit message with each split task's sub-tasks beneath it.
fn with_sub_tasks(message: String, splits: &[(String, Vec<String>)]) -> String {
    let mut out = String::with_capacity(message.len());
    for line in message.lines() {
        out.push_str(line);
        out.push('\n');
        if let Some((_, lines)) = splits.iter().find(|(p, _)| line.starts_with(p.as_str())) {
            for l in lines {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

/// Commits the phase: the `commit` record first (HEAD is its parent; the
/// commit holds it), then the commit of a snapshot of the working tree as
/// the runner holds it: everything but the user's changes since the runner
/// last held it and the transient status files. A later run tells whether
/// it was made from the history: a commit of the phase on that parent.
pub fn commit_phase(
    repo: &Repo,
    what: &PhaseCommit<'_>,
    store: &mut Store<'_>,
    reporter: &mut dyn Reporter,
) -> Result<(), VcsFailure> {
    let phase = what.phase;
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
    let message = with_sub_tasks(
        crate::vcs::phase_commit_message(phase, what.skipped),
        &what.splits,
    );
    // A snapshot now, with the run's left-out set, is the last group's
    // snapshot plus the status files written since (this commit's own
    // `commit` record among them).
    let made = repo
        .snapshot(what.left_out, TRANSIENT_FILES)
        .and_then(|snapshot| repo.commit_snapshot(&snapshot, &message));
    crate::status::store::crash_point("committed");
    match made {
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

/// At the start of a run: pushes what an earlier run committed but could not
/// push, after saying which unpushed commits are not the runner's. While
/// such commits are there and `push_foreign` refuses them, nothing is pushed
/// (the next phase's push fails and says why).
pub fn push_pending(
    repo: &Repo,
    git: &GitSettings,
    reporter: &mut dyn Reporter,
) -> Result<(), VcsFailure> {
    // Without a remote or a branch there is nothing to push yet; the phase's
    // push reports the cause.
    let Ok(unpushed) = repo.unpushed(git) else {
        return Ok(());
    };
    let foreign: Vec<_> = unpushed.iter().filter(|c| !c.by_runner).cloned().collect();
    if !foreign.is_empty() {
        let names = crate::vcs::name_commits(&foreign);
        let what = match git.push_foreign {
            PushForeign::Refuse => {
                "nothing is pushed while they are there ([git] push_foreign = \"refuse\"): push them yourself when they are ready, or set push_foreign = \"allow\""
            }
            PushForeign::Allow => {
                "they are pushed with the runner's commits ([git] push_foreign = \"allow\")"
            }
        };
        reporter.report(&Event::Warning {
            message: format!("unpushed commits that roadmap-runner did not make: {names}; {what}"),
        });
        if git.push_foreign == PushForeign::Refuse {
            return Ok(());
        }
    }
    if unpushed.is_empty() {
        return Ok(());
    }
    push(repo, None, git, reporter)
}

pub fn push(
    repo: &Repo,
    phase: Option<&PhaseId>,
    git: &GitSettings,
    reporter: &mut dyn Reporter,
) -> Result<(), VcsFailure> {
    match repo.publish(git) {
        Ok(out) => {
            if out.already_there {
                reporter.report(&Event::Note {
                    message: format!(
                        "the push of `{}` was refused, but `{}/{}` already holds {}: an earlier push (of a run stopped during it) completed, nothing is left to push",
                        out.push.branch,
                        out.push.remote,
                        out.push.branch,
                        &out.push.commit[..out.push.commit.len().min(7)]
                    ),
                });
            }
            if let Some(integrated) = &out.integrated {
                reporter.report(&Event::Warning {
                    message: integration_note(integrated, &out.push.branch),
                });
            }
            if out.push.commits_pushed > 0 {
                reporter.report(&Event::PhasePushed {
                    phase: phase.cloned(),
                    remote: out.push.remote,
                    branch: out.push.branch,
                    commits: out.push.commits_pushed,
                });
            }
            Ok(())
        }
        Err(e) => {
            let what = phase.map_or("Earlier commits".to_string(), |p| {
                format!("Phase {p} is committed but")
            });
            let message = match &e {
                // Short where the next steps say what to do.
                VcsError::ForeignCommits {
                    branch, commits, ..
                } => format!(
                    "{what} not pushed: `{branch}` has commits that roadmap-runner did not make, which it does not publish ([git] push_foreign = \"refuse\"): {commits}"
                ),
                VcsError::Conflict {
                    branch,
                    upstream,
                    how,
                    files,
                    ..
                } => format!(
                    "{what} could not be pushed: `{upstream}` has commits that `{branch}` does not, and {how} conflicts in {files}"
                ),
                _ => format!("{what} could not be pushed: {e}"),
            };
            Err(VcsFailure {
                next_steps: next_steps(&e, git),
                message,
            })
        }
    }
}

/// `origin/main had 1 commit that main did not: replayed 2 commits onto it`.
fn integration_note(i: &Integration, branch: &str) -> String {
    let action = match (i.how, i.new_commits) {
        (_, 0) => "fast-forwarded to it".to_string(),
        (Integrate::Rebase, n) => format!("replayed {} onto it", plural(n, "local commit")),
        (Integrate::Merge, _) => "merged it ([git] diverged = \"merge\")".to_string(),
    };
    let dropped = match i.dropped {
        0 => String::new(),
        n => format!(
            "; left out {} whose changes it already had",
            plural(n, "commit")
        ),
    };
    format!(
        "{} had {} that {branch} did not: {action}{dropped}",
        i.upstream,
        plural(i.upstream_commits, "commit")
    )
}

fn next_steps(e: &VcsError, git: &GitSettings) -> Vec<String> {
    let kept =
        "the commit is kept locally; the branch and the working tree are as they were".to_string();
    match e {
        VcsError::ForeignCommits { remote, branch, .. } => vec![
            format!("push those commits yourself when they are ready (`git push {remote} {branch}`, which sends the phase commits too)"),
            "or set push_foreign = \"allow\" under [git] in roadmap-runner.toml to let the runner push them".into(),
        ],
        VcsError::Conflict { remote, branch, .. } => vec![
            kept,
            format!("bring the branch up to date by hand: `git pull --rebase {remote} {branch}`, resolve the conflicts, `git rebase --continue`"),
            "then run roadmap-runner again: it pushes committed phases before any new work".into(),
        ],
        VcsError::WorktreeInTheWay { .. } | VcsError::MergeInRebase { .. } => vec![
            kept,
            "then run roadmap-runner again: it pushes committed phases before any new work".into(),
        ],
        VcsError::PushRejected { .. } if git.diverged == Diverged::Stop => vec![
            "the commit is kept; once the branch is up to date, the next run pushes it before any new work".into(),
            "or set diverged = \"rebase\" under [git] in roadmap-runner.toml to let the runner rebase its commits onto the remote branch".into(),
        ],
        _ => vec![
            "the commit is kept; once the cause is fixed, the next run pushes it before any new work (or push it yourself)".into(),
            "to run without pushing: --no-push, or push = false under [git] in roadmap-runner.toml".into(),
        ],
    }
}
