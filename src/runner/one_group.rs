//! One group of a run from its start to its end: the agents, the split
//! tasks' sub-roadmaps, the gate with repair and review, and the records of
//! its completion.

use super::finish::GateOutcome;
use super::group::{self, GroupIo, GroupLimits, QueuedTask, run_group};
use super::{Ctx, advice, finish, split, write_pending_file};
use crate::events::{Event, Reporter, RunSummary};
use crate::exit;
use crate::gate;
use crate::resume::{GroupAction, GroupStep};
use crate::roadmap::GroupKey;
use crate::status::GroupBase;
use crate::status::counts::usd;
use crate::vcs::Repo;
use std::time::Instant;

impl Ctx<'_, '_, '_> {
    /// One group from agents to completion. Returns false when the run must stop.
    pub(super) async fn run_one_group(
        &mut self,
        planned: &GroupAction<'_>,
        reporter: &mut dyn Reporter,
    ) -> bool {
        let key = &planned.key;
        let to_run = planned.tasks();
        tracing::info!(group = %key, tasks = to_run.len(), "group");
        if !planned.partial {
            self.run.skipped += planned.group.tasks.len().saturating_sub(to_run.len());
        }
        match planned.step {
            GroupStep::RecordComplete => {
                reporter.report(&Event::Note {
                    message: format!(
                        "{key}: its gate passed in a run that stopped before recording the group complete: recording it now"
                    ),
                });
                return self.complete(planned, &[], reporter);
            }
            GroupStep::DoneInRoadmap => {
                reporter.report(&Event::GroupSkipped {
                    key: key.clone(),
                    reason: "every task is marked done in the roadmap".into(),
                });
                return self.complete(planned, &[], reporter);
            }
            GroupStep::Run { .. } | GroupStep::GateOnly => {}
        }
        self.group_started(planned, reporter);
        if let GroupStep::Run { succeeded, .. } = &planned.step
            && !succeeded.is_empty()
        {
            let ids: Vec<&str> = to_run.iter().map(|t| t.id.as_str()).collect();
            reporter.report(&Event::Note {
                message: format!(
                    "{key}: resuming: {} succeeded in an earlier run; running {}",
                    succeeded.join(", "),
                    ids.join(", ")
                ),
            });
        }
        let splits_left =
            matches!(&planned.step, GroupStep::Run { split, .. } if !split.is_empty());
        if to_run.is_empty() && !splits_left {
            reporter.report(&Event::GroupSkipped {
                key: key.clone(),
                reason: "every task succeeded in an earlier run, only the gate runs again (--rerun-tasks runs the agents again)".into(),
            });
        } else if !to_run.is_empty() && !self.run_agents(planned, reporter).await {
            self.group_ended(reporter);
            return false;
        }
        // The split tasks' sub-roadmaps run in their place, before the gate.
        if !self.run_splits(planned, reporter).await {
            self.group_ended(reporter);
            return false;
        }
        if planned.partial {
            // One task run alone (`--task`) does not complete its group.
            self.group_ended(reporter);
            return true;
        }
        // Worktree mode: every task's change merged into the tree the gate checks.
        if !self.integrate(planned, reporter).await {
            self.group_ended(reporter);
            return false;
        }
        let gate_steps = self.gate(planned, reporter).await;
        let ok = match gate_steps {
            Some(steps) => self.complete(planned, &steps, reporter),
            None => false,
        };
        self.group_ended(reporter);
        ok
    }

    fn group_started(&mut self, planned: &GroupAction<'_>, reporter: &mut dyn Reporter) {
        let key = &planned.key;
        let restart = matches!(planned.step, GroupStep::Run { restart: true, .. });
        let first = restart || self.store.view().base(key).is_none();
        let base = first.then(|| group_base_now(self.inputs.repo));
        self.snapshot(key, crate::status::SnapshotPoint::Start, reporter);
        if restart {
            reporter.report(&Event::Note {
                message: format!(
                    "{key} completed in an earlier run but is not in status/completed_tasks.txt (removed by hand?): running it again"
                ),
            });
        }
        self.isolation = self.group_isolation(planned, restart, reporter);
        if let Err(e) = self.store.group_started(key, restart, base, self.isolation) {
            reporter.report(&Event::Warning {
                message: format!("cannot record the start of {key}: {e}"),
            });
        }
    }

    /// The run's budget is spent: it stops here, and the next run goes on.
    pub(super) fn budget_spent(&mut self) {
        let limit = self.budget.limit.unwrap_or_default();
        self.run.fail(
            exit::BUDGET_SPENT,
            format!(
                "The run's budget is spent: {} of {} (--max-cost); no agent was started after that",
                usd(self.budget.spent.total()),
                usd(limit)
            ),
            vec![
                "run roadmap-runner again (with a new --max-cost or [run] max_cost) to go on: what succeeded is not run again".into(),
            ],
        );
    }

    fn group_ended(&mut self, reporter: &mut dyn Reporter) {
        if let Err(e) = self.store.group_ended() {
            reporter.report(&Event::Warning {
                message: format!("cannot clear the in-progress file: {e}"),
            });
        }
    }

    /// The group's agents; false when the run must stop (a task failed, the
    /// agent is not logged in, or a signal).
    async fn run_agents(&mut self, planned: &GroupAction<'_>, reporter: &mut dyn Reporter) -> bool {
        let inputs = self.inputs;
        let settings = inputs.settings;
        let key = &planned.key;
        let group_started = Instant::now();
        // Queued longest expected first, from the records of earlier runs.
        let records = &inputs.state.records;
        let order =
            crate::plan::order::group_order(records, key, planned.tasks(), settings.max_parallel);
        let queued: Vec<QueuedTask> = planned
            .tasks()
            .iter()
            .zip(&order.expected)
            .map(|(t, e)| QueuedTask {
                expected: e.duration,
                ..QueuedTask::new(t.id.clone(), t.title.clone())
            })
            .collect();
        // Run elsewhere, every task is handed over at once: the slots there decide.
        let remote = inputs.executor.remote();
        let max_parallel = if remote {
            queued.len().max(1)
        } else {
            settings.max_parallel
        };
        reporter.report(&Event::GroupStarted {
            key: key.clone(),
            phase_title: planned.phase.title.clone(),
            title: planned.group.title.clone(),
            annotation: planned.group.annotation.clone(),
            tasks: queued.len(),
            parallel: max_parallel.min(queued.len()),
            task_ids: queued.iter().map(|t| t.task_id.clone()).collect(),
        });
        let isolation = self.task_isolation(key);
        let mut jobs = inputs.jobs(planned, isolation, self.isolation);
        jobs.remote = remote;
        match self.dispatch(planned) {
            Ok(runner) => jobs.runner = runner,
            Err(refusal) => {
                let message = format!("{key}: {}", refusal.message);
                self.run.fail(exit::VCS_FAILED, message, refusal.next_steps);
                return false;
            }
        }
        let limits = GroupLimits {
            max_parallel,
            retries: settings.retries,
            max_wait: settings.max_wait,
            fail_fast: settings.fail_fast,
            fallbacks: settings
                .agent_fallback
                .iter()
                .map(|a| a.kind().to_string())
                .collect(),
        };
        let mut io = GroupIo {
            reporter: &mut *reporter,
            store: &mut self.store,
            project_dir: &inputs.project.dir,
            budget: &mut self.budget,
        };
        let group = run_group(key, queued, &limits, &mut jobs, self.stop.clone(), &mut io).await;
        let counts = RunSummary::count(&group.tasks, 0);
        let failed = counts.did_not_succeed();
        self.run.group_times.push(crate::events::GroupTime {
            key: key.clone(),
            expected: order.makespan,
            duration: group_started.elapsed(),
        });
        reporter.report(&Event::GroupFinished {
            key: key.clone(),
            counts,
            duration: group_started.elapsed(),
        });
        self.run.tasks.extend(group.tasks.iter().cloned());
        self.agents_ended(key, &group, failed)
    }

    /// After the group's agents: false (with the run failed) when the run
    /// must stop.
    fn agents_ended(&mut self, key: &GroupKey, group: &group::GroupRun, failed: usize) -> bool {
        let settings = self.inputs.settings;
        if self.signals.received().is_some() {
            return false;
        }
        if group.budget_stopped {
            self.budget_spent();
            return false;
        }
        if let Some(auth) = &group.auth_failure {
            self.run.fail(
                exit::PREFLIGHT_FAILED,
                format!("The agent is not logged in: {auth}"),
                vec![
                    settings.agent.kind().login_advice().into(),
                    "then run roadmap-runner again".into(),
                ],
            );
            return false;
        }
        if failed > 0 {
            let mut next = advice::after_failed_tasks(&group.tasks, settings.timeout);
            next.extend(self.kept_worktrees(key, &group.tasks));
            self.run.fail(
                exit::TASK_FAILED,
                format!(
                    "Phase {} Group {}: {failed} of {} did not succeed",
                    key.phase,
                    key.group,
                    crate::text::plural(group.tasks.len(), "task")
                ),
                next,
            );
            return false;
        }
        true
    }

    /// One run of the group's gate.
    pub(super) async fn gate_once(
        &mut self,
        planned: &GroupAction<'_>,
        reporter: &mut dyn Reporter,
    ) -> GateOutcome {
        finish::run_group_gate(
            self.inputs.project,
            planned,
            self.inputs.settings,
            self.stop.clone(),
            &mut finish::GateIo {
                reporter: &mut *reporter,
                store: &mut self.store,
                noted_no_gate: &mut self.run.noted_no_gate,
            },
        )
        .await
    }

    /// Records the group complete: report, `completed_tasks.txt`, record.
    fn complete(
        &mut self,
        planned: &GroupAction<'_>,
        gate_steps: &[gate::StepResult],
        reporter: &mut dyn Reporter,
    ) -> bool {
        let key = &planned.key;
        // A sub-roadmap's tasks are not in the roadmap file.
        if self.inputs.settings.write_back && key.depth() == 0 {
            match finish::write_back(self.inputs.project, planned) {
                Ok(0) => {}
                Ok(n) => reporter.report(&Event::Note {
                    message: format!(
                        "{key}: ticked {} in the roadmap",
                        crate::text::plural(n, "task")
                    ),
                }),
                Err(e) => reporter.report(&Event::Warning {
                    message: format!("{key}: cannot tick its tasks in the roadmap: {e}"),
                }),
            }
        }
        // A group none of whose tasks ran (all ticked in the roadmap) gets no report.
        let report_dir = match key.depth() {
            0 => crate::status::report_dir(
                &self.inputs.project.dir,
                &self.inputs.settings.report_dir,
                self.inputs.roadmap.dialect,
            ),
            _ => self.inputs.project.status.file("reports"),
        };
        let ran = !matches!(planned.step, GroupStep::DoneInRoadmap);
        match finish::record_completion(
            self.inputs.repo,
            ran.then_some(report_dir.as_path()),
            planned,
            gate_steps,
            &mut self.store,
            &|key, task| split::load(self.inputs.project, key, task).ok(),
        ) {
            Ok(report) => {
                reporter.report(&Event::GroupCompleted {
                    key: key.clone(),
                    report,
                });
                self.run.completed.push(key.clone());
                write_pending_file(self.inputs, &self.store, reporter);
                true
            }
            Err(e) => {
                self.run.fail(
                    exit::PREFLIGHT_FAILED,
                    format!("{key}: cannot record the group as complete: {e}"),
                    vec!["fix the status directory (permissions, disk space), then run again: only the gate reruns".into()],
                );
                false
            }
        }
    }
}

/// HEAD and the blob ids of the files that differ from it now.
fn group_base_now(repo: Option<&Repo>) -> GroupBase {
    let Some(repo) = repo else {
        return GroupBase::default();
    };
    let files = repo
        .changed_files_since(None)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| !crate::vcs::is_runner_file(f))
        .map(|f| {
            let id = repo.file_id(&f);
            (f, id)
        })
        .collect();
    GroupBase {
        head: repo.head_commit_id(),
        files,
    }
}
