//! The runner's side of `--isolation worktree` (the git side is
//! [`crate::worktree`]): each attempt's worktree made as its job is built,
//! the group's tasks integrated before the gate (a resolver agent on a
//! conflict, through the same attempt code as tasks), kept worktrees named
//! in the summary, branches released once the phase commit is out.
//!
//! Retries start clean from the group's base: a failed attempt's worktree
//! is kept for inspection until the retry replaces it. Only a session
//! resumed after a usage limit continues in its own worktree.

use super::Ctx;
use resolve::{Resolving, lost_changes};

mod resolve;
mod task;

use super::merging::fetched_commit;
use crate::agent::prompt::WORKTREE_NOTE;
use crate::config::{Isolation, Resolve};
use crate::events::{Event, Reporter, TaskSummary};
use crate::exit;
use crate::resume::GroupAction;
use crate::roadmap::{GroupKey, Task};
use crate::status::{IntegrationRecord, IntegrationState, RunView, TaskRecord};
use crate::vcs::Repo;
use crate::worktree::{self, Conflict, Merged, Worktrees, task_name};
use git2::Oid;
pub use task::TaskIsolation;

/// The `{{isolation}}` prompt text for tasks working so.
pub fn prompt_note(isolation: Isolation) -> &'static str {
    match isolation {
        Isolation::Worktree => WORKTREE_NOTE,
        Isolation::Shared => "",
    }
}

/// The rendered prompt with the worktree note: where the template put
/// `{{isolation}}`, else appended, so a custom template without it still
/// tells the agent.
pub fn with_note(mut prompt: String, isolation: Isolation) -> String {
    let note = prompt_note(isolation);
    if !note.is_empty() && !prompt.contains(note) {
        prompt.truncate(prompt.trim_end().len());
        prompt.push_str("\n\n");
        prompt.push_str(note);
        prompt.push('\n');
    }
    prompt
}

/// A group's integration stopped: what to tell the user.
struct Stop {
    message: String,
    next_steps: Vec<String>,
}

/// The repository and worktrees of a group (or run) in worktree mode.
fn worktrees_of<'a>(
    inputs: &super::RunInputs<'a>,
    isolation: Isolation,
) -> Option<(&'a Repo, Worktrees)> {
    let settings = inputs.settings;
    let repo = inputs.repo?;
    (isolation == Isolation::Worktree).then(|| {
        let wts = Worktrees::new(&inputs.project.dir, repo.workdir(), &settings.worktree);
        (repo, wts)
    })
}

/// The repository and worktrees when, in shared mode, a task's latest
/// attempt ran in a worktree and is not merged yet.
fn leftover_worktrees<'a>(
    inputs: &super::RunInputs<'a>,
    view: &RunView,
    planned: &GroupAction<'_>,
) -> Option<(&'a Repo, Worktrees)> {
    let repo = inputs.repo?;
    let waiting = view.unmerged_worktrees(&planned.key);
    let wts = Worktrees::new(
        &inputs.project.dir,
        repo.workdir(),
        &inputs.settings.worktree,
    );
    waiting.then_some((repo, wts))
}

impl Ctx<'_, '_, '_> {
    fn worktrees(&self) -> Option<(&Repo, Worktrees)> {
        worktrees_of(self.inputs, self.isolation)
    }

    pub(super) fn task_isolation(&self, key: &GroupKey) -> Option<TaskIsolation> {
        TaskIsolation::new(
            self.inputs.project,
            self.inputs.settings,
            self.isolation,
            key,
            self.inputs.executor.remote(),
        )
    }

    /// The isolation a group works in: the one its first start recorded,
    /// until it is complete (a rerun without `--isolation worktree` must
    /// not finish a group begun in worktrees in the shared tree), else the
    /// run's. With `--nats` the run's always.
    pub(super) fn group_isolation(
        &self,
        planned: &GroupAction<'_>,
        restart: bool,
        reporter: &mut dyn Reporter,
    ) -> Isolation {
        let run = self.inputs.settings.isolation;
        let began = self
            .store
            .view()
            .isolation(&planned.key)
            .filter(|_| !restart && !self.inputs.executor.remote());
        match began {
            Some(began) if began != run => {
                reporter.report(&Event::Note {
                    message: format!(
                        "{}: begun with --isolation {} in an earlier run: finished so (--isolation {} applies from the next group on)",
                        planned.key,
                        isolation_name(began),
                        isolation_name(run)
                    ),
                });
                began
            }
            _ => run,
        }
    }

    /// For the summary: where the failed tasks' worktrees are kept.
    pub(super) fn kept_worktrees(&self, key: &GroupKey, tasks: &[TaskSummary]) -> Vec<String> {
        let Some((_, wts)) = self.worktrees() else {
            return Vec::new();
        };
        tasks
            .iter()
            // A task never started may have a worktree made ahead: nothing to inspect.
            .filter(|t| !t.outcome.is_success() && t.attempts > 0)
            .map(|t| (t, wts.task_path(key, &t.task)))
            .filter(|(_, p)| p.exists())
            .map(|(t, p)| {
                format!(
                    "{}'s worktree is kept for inspection at {} (its changes are not in the project; a retry starts clean from the group's base)",
                    t.task,
                    p.display()
                )
            })
            .collect()
    }

    /// Once a phase commit is out (on the remote, or made with push off):
    /// the task branches and runner refs of every such phase go.
    pub(super) fn release_committed(&mut self, reporter: &mut dyn Reporter) {
        // Whatever this run's isolation: an earlier run's worktree group
        // (or one killed during its push) may have left refs behind.
        let Some(repo) = self.inputs.repo else {
            return;
        };
        if !worktree::has_runner_refs(repo) {
            return;
        }
        let wts = Worktrees::new(
            &self.inputs.project.dir,
            repo.workdir(),
            &self.inputs.settings.worktree,
        );
        let completed = self.store.view().completed();
        let git = &self.inputs.settings.git;
        for phase in worktree::committed_phases(repo, self.inputs.roadmap, completed, git) {
            if let Err(e) = worktree::release_phase(repo, &wts, phase) {
                reporter.report(&Event::Warning {
                    message: format!("cannot delete the task branches of Phase {phase}: {e}"),
                });
            }
            // Run elsewhere: what the executor left on the remote.
            if let Err(message) = self.inputs.executor.release_phase(repo, git, phase) {
                reporter.report(&Event::Warning { message });
            }
        }
    }

    /// Before the gate: merges every task whose latest attempt succeeded and
    /// is not integrated yet into the project tree, in roadmap order, then
    /// removes the group's worktrees. False when the run must stop.
    pub(super) async fn integrate(
        &mut self,
        planned: &GroupAction<'_>,
        reporter: &mut dyn Reporter,
    ) -> bool {
        self.integrate_tasks(planned, None, reporter).await
    }

    /// [`Self::integrate`] of the tasks `only` names (all when `None`):
    /// their merges, then their worktrees removed.
    pub(super) async fn integrate_tasks(
        &mut self,
        planned: &GroupAction<'_>,
        only: Option<&[String]>,
        reporter: &mut dyn Reporter,
    ) -> bool {
        let Some((repo, wts)) = worktrees_of(self.inputs, self.isolation).or_else(|| {
            // Run shared now, but tasks of this group succeeded in worktrees
            // earlier: their work is merged all the same, never left behind.
            let found = leftover_worktrees(self.inputs, self.store.view(), planned)?;
            reporter.report(&Event::Warning {
                message: format!(
                    "{}: some of its tasks ran with --isolation worktree in an earlier run: merging their worktrees before the gate",
                    planned.key
                ),
            });
            Some(found)
        }) else {
            return true;
        };
        match self
            .integrate_all(repo, &wts, planned, only, reporter)
            .await
        {
            Ok(()) => {
                let ids: Vec<&str> = planned
                    .group
                    .tasks
                    .iter()
                    .map(|t| t.id.as_str())
                    .filter(|id| only.is_none_or(|o| o.iter().any(|x| x == id)))
                    .collect();
                if let Err(e) = worktree::remove_group_worktrees(repo, &wts, &planned.key, &ids) {
                    reporter.report(&Event::Warning {
                        message: format!("{}: cannot remove its worktrees: {e}", planned.key),
                    });
                }
                true
            }
            Err(stop) => {
                self.run
                    .fail(exit::MERGE_CONFLICT, stop.message, stop.next_steps);
                false
            }
        }
    }

    async fn integrate_all(
        &mut self,
        repo: &Repo,
        wts: &Worktrees,
        planned: &GroupAction<'_>,
        only: Option<&[String]>,
        reporter: &mut dyn Reporter,
    ) -> Result<(), Stop> {
        let key = &planned.key;
        let failed = |e: &dyn std::fmt::Display| Stop {
            message: format!(
                "Phase {} Group {}: integration failed: {e}",
                key.phase, key.group
            ),
            next_steps: vec![
                "fix the cause, then run again: what is integrated stays, the rest is merged"
                    .into(),
            ],
        };
        let states = self.store.view().integrations(key);
        let latest = self.store.view().latest_outcomes(key);
        // Tasks run on workers: their branches, fetched in one go.
        let remote: Vec<&TaskRecord> = planned
            .group
            .tasks
            .iter()
            .filter(|t| !states.contains_key(&t.id))
            .filter_map(|t| latest.get(&t.id))
            .filter(|r| r.commit.is_some())
            .collect();
        self.fetch_task_branches(repo, &remote)
            .map_err(|e| failed(&e))?;
        // (task, files it changed) of what is merged so far, for conflict messages.
        let mut merged: Vec<(&Task, Vec<String>)> = Vec::new();
        for task in planned.group.tasks.iter().filter(|t| !t.done_in_roadmap) {
            match states.get(&task.id) {
                Some(IntegrationState::Done(rec)) => merged.push((task, rec.files.clone())),
                Some(IntegrationState::Pending(rec)) => {
                    // A run killed while writing the tree: write the same result again.
                    let m = parse_merged(rec).map_err(|e| failed(&e))?;
                    worktree::finish_integration(repo, key, m).map_err(|e| failed(&e))?;
                    self.store.integrated(rec).map_err(|e| failed(&e))?;
                    merged.push((task, rec.files.clone()));
                }
                // Its latest attempt ran in the project tree: nothing to merge.
                None if latest
                    .get(&task.id)
                    .is_none_or(|r| r.worktree.is_none() && r.commit.is_none()) => {}
                // Not asked for now: merged before the gate.
                None if only.is_some_and(|o| !o.contains(&task.id)) => {}
                None => {
                    let fetched = latest.get(&task.id).and_then(fetched_commit);
                    let files = self
                        .integrate_task(repo, wts, planned, task, fetched, &merged, reporter)
                        .await?;
                    merged.push((task, files));
                }
            }
        }
        Ok(())
    }

    /// The branches workers pushed for these attempts, fetched from the
    /// project's remote (one fetch for the group).
    fn fetch_task_branches(&self, repo: &Repo, records: &[&TaskRecord]) -> Result<(), String> {
        super::merging::fetch_branches(repo, &self.inputs.settings.git, records)
    }

    /// One task: its commit, the merge (or its resolution), the tree written
    /// between the `integrating` and `integrated` records. Its files.
    #[allow(clippy::too_many_arguments)]
    async fn integrate_task(
        &mut self,
        repo: &Repo,
        wts: &Worktrees,
        planned: &GroupAction<'_>,
        task: &Task,
        fetched: Option<Oid>,
        merged: &[(&Task, Vec<String>)],
        reporter: &mut dyn Reporter,
    ) -> Result<Vec<String>, Stop> {
        let key = &planned.key;
        let failed = |e: &dyn std::fmt::Display| Stop {
            message: format!(
                "Phase {} Group {}: cannot integrate {}: {e}",
                key.phase, key.group, task.id
            ),
            next_steps: vec![
                "fix the cause, then run again: what is integrated stays, the rest is merged"
                    .into(),
            ],
        };
        let message = super::merging::task_message(task);
        let commit = match fetched {
            // A worker's commit, fetched with its branch.
            Some(c) => {
                repo.git2().find_commit(c).map_err(|e| {
                    failed(&format!("the worker's commit {c} was not fetched: {e}"))
                })?;
                c
            }
            None => worktree::commit_task(wts, key, &task.id, &message).map_err(|e| failed(&e))?,
        };
        let result =
            worktree::merge_task(repo, wts, key, commit, &message).map_err(|e| failed(&e))?;
        let m = match result {
            Ok(m) => m,
            Err(conflict) => {
                let others = conflicting_tasks(merged, &conflict.files);
                let resolved = match self.inputs.settings.worktree.resolve {
                    Resolve::Agent => {
                        let r = Resolving {
                            repo,
                            wts,
                            planned,
                            task,
                            others: others.clone(),
                            merged,
                            conflict: &conflict,
                        };
                        self.resolve(&r, reporter).await
                    }
                    Resolve::Stop => Err(Vec::new()),
                };
                match resolved {
                    Ok(to) => Merged {
                        from: conflict.from,
                        to,
                    },
                    Err(dropped) => {
                        let lost = lost_changes(&dropped, task, merged);
                        return Err(conflict_stop(key, task, &others, &conflict, wts, &lost));
                    }
                }
            }
        };
        let files = super::merging::record_merge(repo, &mut self.store, key, &task.id, commit, m)
            .map_err(|e| failed(&e))?;
        super::merging::note(reporter, key, &task.id, files.len());
        Ok(files)
    }
}

/// `shared` or `worktree`, as `--isolation` takes it.
fn isolation_name(isolation: Isolation) -> &'static str {
    Isolation::CHOICES
        .iter()
        .find(|(_, i)| *i == isolation)
        .map_or("shared", |(n, _)| n)
}

fn parse_merged(rec: &IntegrationRecord) -> Result<Merged, git2::Error> {
    Ok(Merged {
        from: Oid::from_str(&rec.from)?,
        to: Oid::from_str(&rec.to)?,
    })
}

/// The merged tasks whose own changes touch the conflicted files.
fn conflicting_tasks<'t>(merged: &[(&'t Task, Vec<String>)], files: &[String]) -> Vec<&'t Task> {
    merged
        .iter()
        .filter(|(_, f)| f.iter().any(|x| files.contains(x)))
        .map(|(t, _)| *t)
        .collect()
}

pub(super) fn names(tasks: &[&Task]) -> String {
    if tasks.is_empty() {
        return "the project tree's own changes".into();
    }
    tasks
        .iter()
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run stops on an unresolved conflict: the files, the two tasks, what
/// a rejected resolution lost, and how to resolve by hand.
fn conflict_stop(
    key: &GroupKey,
    task: &Task,
    others: &[&Task],
    conflict: &Conflict,
    wts: &Worktrees,
    lost: &[String],
) -> Stop {
    let branch = |t: &str| worktree::branch_name(&task_name(key, t));
    let mut branches: Vec<String> = others.iter().map(|t| branch(&t.id)).collect();
    branches.push(branch(&task.id));
    let path = wts.task_path(key, &task.id);
    let rejected = match lost.is_empty() {
        true => String::new(),
        false => format!(
            "; the resolver's result was not taken: it lost {}",
            lost.join("; ")
        ),
    };
    Stop {
        message: format!(
            "Phase {} Group {}: {} and {} changed the same lines of {}{rejected}: the project tree is as it was before {}'s merge (no conflict markers), and both branches are kept ({})",
            key.phase,
            key.group,
            task.id,
            names(others),
            conflict.files.join(", "),
            task.id,
            branches.join(", ")
        ),
        next_steps: vec![
            format!(
                "resolve by hand in {}'s worktree: `cd {}`, `git merge {}`, fix the conflicts, `git commit -a`",
                task.id,
                path.display(),
                worktree::merged_ref(key)
            ),
            "then run roadmap-runner again: it merges the resolved branch and runs the gate".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::prompt::{DEFAULT_TEMPLATE, PromptVars, render_prompt};
    use crate::config::{FileConfig, Overrides, Settings};

    fn settings(isolation: Isolation) -> Settings {
        let over = Overrides {
            isolation: Some(isolation),
            ..Default::default()
        };
        Settings::resolve(&FileConfig::default(), &over).unwrap()
    }

    #[test]
    fn the_prompt_says_the_agent_works_alone_only_with_worktrees() {
        let worktree = settings(Isolation::Worktree);
        let shared = settings(Isolation::Shared);
        let vars = |s: &Settings| PromptVars {
            task_id: "A1".into(),
            isolation: prompt_note(s.isolation).into(),
            ..PromptVars::default()
        };
        let with = render_prompt(DEFAULT_TEMPLATE, &vars(&worktree)).unwrap();
        let with = with_note(with, worktree.isolation);
        assert_eq!(with.matches(WORKTREE_NOTE).count(), 1, "{with}");
        let without = with_note(
            render_prompt(DEFAULT_TEMPLATE, &vars(&shared)).unwrap(),
            shared.isolation,
        );
        assert!(!without.contains("own checkout"), "{without}");
        // A custom template without the placeholder gets it at the end.
        let custom = with_note(
            "Do {{task_id}}.".replace("{{task_id}}", "A1"),
            worktree.isolation,
        );
        assert_eq!(custom, format!("Do A1.\n\n{WORKTREE_NOTE}\n"));
    }
}
