//! Runs the sub-roadmaps of a group's split tasks in their place: after the
//! group's agents, before its gate, each one group by group through the
//! same path as any group (agents, gate, repair, review, records), decided
//! by the one resume decision over the run's records. In worktree mode the
//! split tasks' own worktrees are merged first: their work is the base.

use super::{Ctx, split};
use crate::agent::{AgentReport, TaskOutcome};
use crate::events::{Event, Reporter};
use crate::exec::StopLevel;
use crate::exit;
use crate::resume::{Action, GroupAction, RunState, decide_sub};
use crate::status::TaskRecord;
use chrono::Utc;

impl Ctx<'_, '_, '_> {
    /// The group's tasks whose latest attempt split them, in roadmap order.
    fn split_tasks(&self, planned: &GroupAction<'_>) -> Vec<String> {
        let latest = self.store.view().latest_outcomes(&planned.key);
        planned
            .group
            .tasks
            .iter()
            .filter(|t| {
                latest
                    .get(&t.id)
                    .is_some_and(|r| matches!(r.outcome, TaskOutcome::Split { .. }))
            })
            .map(|t| t.id.clone())
            .collect()
    }

    /// Every split task's sub-roadmap to its end; false when the run must stop.
    pub(super) async fn run_splits(
        &mut self,
        planned: &GroupAction<'_>,
        reporter: &mut dyn Reporter,
    ) -> bool {
        let split = self.split_tasks(planned);
        if split.is_empty() {
            return true;
        }
        // Worktree mode: what the split tasks' agents did before writing
        // their plans (scaffolding, a shared interface) is merged first, so
        // every sub-task's worktree and every sub-group's gate builds on it.
        if !self.integrate_tasks(planned, Some(&split), reporter).await {
            return false;
        }
        for task in &split {
            if !self.run_sub_roadmap(planned, task, reporter).await {
                return false;
            }
        }
        if let Err(e) = self.store.group_resumed(&planned.key) {
            reporter.report(&Event::Warning {
                message: format!("cannot record the return to {}: {e}", planned.key),
            });
        }
        true
    }

    async fn run_sub_roadmap(
        &mut self,
        planned: &GroupAction<'_>,
        task: &str,
        reporter: &mut dyn Reporter,
    ) -> bool {
        let key = &planned.key;
        let id = key.task_ref(task);
        let sub = match split::load(self.inputs.project, key, task) {
            Ok(sub) => sub,
            Err(e) => {
                self.run.fail(
                    exit::TASK_FAILED,
                    format!("{id}: its sub-roadmap cannot be read: {e}"),
                    vec![format!(
                        "fix or delete the file, then run again (`roadmap-runner edit rollback {key}` runs the group again)"
                    )],
                );
                return false;
            }
        };
        let view = self.store.view();
        let state = RunState {
            completed: view.completed().clone(),
            records: view.records().to_vec(),
            ..RunState::default()
        };
        let decision = decide_sub(&sub, &state);
        let title = (planned.group.tasks.iter().find(|t| t.id == task))
            .map_or_else(String::new, |t| t.title.clone());
        reporter.report(&Event::SubRoadmapStarted {
            key: key.clone(),
            task: task.to_string(),
            title,
            tasks: sub.task_count(),
            done: self.sub_tasks_done(&sub),
            groups: decision.groups().count(),
        });
        for action in &decision.actions {
            if *self.stop.borrow() > StopLevel::Run {
                return false;
            }
            let ok = match action {
                Action::Group(g) => {
                    let ok = Box::pin(self.run_one_group(g, reporter)).await;
                    self.snapshot(&g.key, crate::status::SnapshotPoint::End, reporter);
                    ok
                }
                Action::Stop { reason, .. } => {
                    self.run
                        .fail(exit::ROADMAP_INVALID, format!("{id}: {reason}"), Vec::new());
                    false
                }
                // Never decided for a sub-roadmap (see `decide_sub`).
                Action::CommitPhase { .. } | Action::Push => true,
            };
            if !ok {
                return false;
            }
        }
        self.sub_roadmap_done(planned, task, reporter)
    }

    /// The sub-roadmap's tasks whose latest attempt succeeded (a split one
    /// is recorded so once its own sub-roadmap is done).
    fn sub_tasks_done(&self, sub: &crate::roadmap::Roadmap) -> usize {
        let view = self.store.view();
        sub.groups()
            .map(|(p, g)| {
                let latest = view.latest_outcomes(&g.key(p));
                (g.tasks.iter())
                    .filter(|t| latest.get(&t.id).is_some_and(|r| r.outcome.is_success()))
                    .count()
            })
            .sum()
    }

    /// Every group of the sub-roadmap is complete: the task succeeded.
    fn sub_roadmap_done(
        &mut self,
        planned: &GroupAction<'_>,
        task: &str,
        reporter: &mut dyn Reporter,
    ) -> bool {
        let key = &planned.key;
        let attempt = self
            .store
            .view()
            .latest_record(key, task)
            .map_or(1, |r| r.attempt);
        let now = Utc::now();
        // The group's report shows the sub-tasks under their parent.
        let file = split::sub_file(self.inputs.project, key, task);
        let summary = format!(
            "Its sub-roadmap ({}) is complete:\n\n{}",
            crate::project::relative_display(&self.inputs.project.dir, &file),
            split::sub_task_list(self.inputs.project, key, task).join("\n")
        );
        let record = TaskRecord::new(
            key,
            task,
            attempt,
            TaskOutcome::Succeeded,
            &AgentReport {
                result_text: Some(summary),
                ..AgentReport::default()
            },
            now,
            now,
            std::time::Duration::ZERO,
            None,
        );
        if let Err(e) = self.store.task_finished(&record) {
            self.run.fail(
                exit::PREFLIGHT_FAILED,
                format!("{key}: cannot record {task} as succeeded: {e}"),
                vec!["fix the status directory (permissions, disk space), then run again".into()],
            );
            return false;
        }
        for t in self.run.tasks.iter_mut() {
            if &t.key == key && t.task == task {
                t.outcome = TaskOutcome::Succeeded;
            }
        }
        reporter.report(&Event::Note {
            message: format!(
                "{}: its sub-roadmap is complete, so it succeeded",
                key.task_ref(task)
            ),
        });
        true
    }
}
