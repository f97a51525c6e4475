//! How the tasks of a run (or of one group) ended, counted once.
//!
//! Every view of a run prints its numbers from [`Counts`]: the group line,
//! the summary table and line, the group report's Totals, the notify
//! environment, `--json`, `status`, the API and the dashboard. Each source
//! (the run's task summaries, `tasks.jsonl`, a group report's input) turns
//! its rows into [`Entry`]s and calls [`Counts::of`]; nothing else counts.

use super::records::{Record, TaskRecord, runner_attempts, task_attempts};
use crate::agent::TaskOutcome;
use crate::roadmap::GroupKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who an agent worked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A roadmap task.
    #[default]
    Task,
    /// Mending a failed gate (or a reviewer's requested changes).
    Repair,
    /// Reviewing a group's diff.
    Review,
}

impl Role {
    /// The `role` of its records; none for a roadmap task.
    pub fn record_name(self) -> Option<&'static str> {
        match self {
            Role::Task => None,
            Role::Repair => Some("repair"),
            Role::Review => Some("review"),
        }
    }

    /// The role a record's `role` names (a roadmap task when none).
    pub fn from_record(name: Option<&str>) -> Role {
        match name {
            Some("repair") => Role::Repair,
            Some("review") => Role::Review,
            _ => Role::Task,
        }
    }
}

/// What a cost says when the agents that ran reported none.
pub const COST_NOT_REPORTED: &str = "cost not reported";

/// Dollars spent, by role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Spent {
    pub tasks: f64,
    pub repairs: f64,
    pub reviews: f64,
    /// Agents that ran and reported no cost (Codex, Gemini, Copilot, a
    /// plain command): their spending is unknown, not zero.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unreported: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Spent {
    pub fn total(&self) -> f64 {
        self.tasks + self.repairs + self.reviews
    }

    /// Adds what one agent of `role` cost (nothing when it reported none).
    pub fn add(&mut self, role: Role, cost: Option<f64>) {
        let c = cost.unwrap_or(0.0).max(0.0);
        match role {
            Role::Task => self.tasks += c,
            Role::Repair => self.repairs += c,
            Role::Review => self.reviews += c,
        }
    }
}

/// Where one roadmap task stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ended<'a> {
    /// Its last attempt ended so.
    Ran(&'a TaskOutcome),
    /// Queued but stopped before its agent started (signal, budget, fail-fast).
    NotStarted,
    /// Not run: marked done in the roadmap or succeeded in an earlier run.
    Skipped,
}

/// One row of whatever is counted: a task, a repair or a review agent.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub role: Role,
    /// For a roadmap task; ignored for repairs and reviews.
    pub ended: Ended<'a>,
    /// Every attempt together.
    pub cost_usd: Option<f64>,
}

/// A run's or a group's tasks by how they ended, and what they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    pub succeeded: usize,
    /// Failed, timed out, not logged in, usage limit, worker lost.
    pub failed: usize,
    /// Started and stopped by a signal (or fail-fast) before they finished.
    pub interrupted: usize,
    /// Queued, never started.
    pub not_started: usize,
    /// Stopped at the agent's own spending cap.
    pub over_budget: usize,
    /// Not run: done in the roadmap or in an earlier run.
    pub skipped: usize,
    /// Repair agents that ran.
    pub repairs: usize,
    /// Review agents that ran.
    pub reviews: usize,
    pub cost: Spent,
}

impl Counts {
    /// The one count every view prints from.
    pub fn of<'a>(entries: impl IntoIterator<Item = Entry<'a>>) -> Counts {
        let mut c = Counts::default();
        for e in entries {
            c.cost.add(e.role, e.cost_usd);
            let ran = e.role != Role::Task || matches!(e.ended, Ended::Ran(_));
            if ran && e.cost_usd.is_none() {
                c.cost.unreported += 1;
            }
            match e.role {
                Role::Repair => c.repairs += 1,
                Role::Review => c.reviews += 1,
                Role::Task => *c.slot(e.ended) += 1,
            }
        }
        c
    }

    fn slot(&mut self, ended: Ended<'_>) -> &mut usize {
        match ended {
            Ended::NotStarted => &mut self.not_started,
            Ended::Skipped => &mut self.skipped,
            // A split task's work is counted in its sub-tasks; the split itself succeeded.
            Ended::Ran(TaskOutcome::Succeeded | TaskOutcome::Split { .. }) => &mut self.succeeded,
            Ended::Ran(TaskOutcome::Interrupted) => &mut self.interrupted,
            Ended::Ran(TaskOutcome::OverBudget { .. }) => &mut self.over_budget,
            Ended::Ran(_) => &mut self.failed,
        }
    }

    /// Roadmap tasks this run (or group) was to run: all but the skipped.
    pub fn tasks(&self) -> usize {
        self.succeeded + self.did_not_succeed()
    }

    /// Tasks to run that did not succeed, for whatever reason.
    pub fn did_not_succeed(&self) -> usize {
        self.failed + self.interrupted + self.not_started + self.over_budget
    }

    /// What did not succeed, by why: `[(1, "failed"), (2, "not started")]`,
    /// the parts that are not zero.
    pub fn unsuccessful_parts(&self) -> Vec<(usize, &'static str)> {
        [
            (self.failed, "failed"),
            (self.over_budget, "over budget"),
            (self.interrupted, "interrupted"),
            (self.not_started, "not started"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect()
    }

    /// A group's line: `3 succeeded, 1 not started` (`0 succeeded, 0
    /// failed` for a group that ran nothing).
    pub fn group_line(&self) -> String {
        let mut s = format!("{} succeeded", self.succeeded);
        let parts = self.unsuccessful_parts();
        if parts.is_empty() && self.succeeded == 0 {
            s.push_str(", 0 failed");
        }
        for (n, what) in parts {
            s.push_str(&format!(", {n} {what}"));
        }
        s
    }

    /// A run's line: `3/4 tasks succeeded, 1 not started, 2 skipped (done
    /// earlier)`; `no task ran, 3 skipped (done earlier)` for a gate-only run.
    pub fn tasks_line(&self) -> String {
        let mut s = if self.tasks() == 0 {
            "no task ran".to_string()
        } else {
            format!(
                "{}/{} succeeded",
                self.succeeded,
                crate::text::plural(self.tasks(), "task")
            )
        };
        for (n, what) in self.unsuccessful_parts() {
            s.push_str(&format!(", {n} {what}"));
        }
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped (done earlier)", self.skipped));
        }
        s
    }

    /// `, 2 repairs, 1 review`: the runner's own agents, when any ran.
    pub fn helpers_line(&self) -> String {
        let mut s = String::new();
        for (n, what) in [(self.repairs, "repair"), (self.reviews, "review")] {
            if n > 0 {
                s.push_str(&format!(", {}", crate::text::plural(n, what)));
            }
        }
        s
    }

    /// `$0.0369` or `$0.0369: tasks $0.0246, repairs $0.0123` when repairs
    /// or reviews spent anything; "cost not reported" when agents ran and
    /// none reported a cost (Codex, Gemini, Copilot): not `$0.00`.
    pub fn cost_line(&self) -> String {
        let c = &self.cost;
        if c.unreported > 0 && c.total() == 0.0 {
            return COST_NOT_REPORTED.into();
        }
        let mut s = usd(c.total());
        if c.repairs == 0.0 && c.reviews == 0.0 {
            return s;
        }
        s.push_str(&format!(": tasks {}", usd(c.tasks)));
        if c.repairs > 0.0 {
            s.push_str(&format!(", repairs {}", usd(c.repairs)));
        }
        if c.reviews > 0.0 {
            s.push_str(&format!(", reviews {}", usd(c.reviews)));
        }
        s
    }
}

/// One roadmap task's attempts in `tasks.jsonl`, since its group's latest
/// reset (over all runs).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskHistory {
    pub last: TaskRecord,
    pub attempts: usize,
    /// Every attempt together; `None` when none reported a cost.
    pub cost_usd: Option<f64>,
}

impl TaskHistory {
    /// The group's tasks that have attempts, by task id.
    pub fn of_group(records: &[Record], key: &GroupKey) -> BTreeMap<String, TaskHistory> {
        task_attempts(records, key)
            .into_iter()
            .filter_map(|(id, list)| {
                let last = (*list.last()?).clone();
                let cost_usd = list.iter().filter_map(|a| a.cost_usd).reduce(|a, b| a + b);
                let attempts = list.len();
                Some((
                    id,
                    TaskHistory {
                        last,
                        attempts,
                        cost_usd,
                    },
                ))
            })
            .collect()
    }
}

impl Counts {
    /// A group's counts from its records: each of `tasks` (id, done in the
    /// roadmap) by its latest attempt (not started without one), and the
    /// group's repairs and reviews.
    pub fn of_records<'a>(
        records: &[Record],
        key: &GroupKey,
        tasks: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> Counts {
        let history = TaskHistory::of_group(records, key);
        let helpers = runner_attempts(records, key);
        let task_rows = tasks.into_iter().map(|(id, done)| {
            let h = history.get(id);
            Entry {
                role: Role::Task,
                ended: match h {
                    _ if done => Ended::Skipped,
                    Some(h) => Ended::Ran(&h.last.outcome),
                    None => Ended::NotStarted,
                },
                cost_usd: h.and_then(|h| h.cost_usd),
            }
        });
        let helper_rows = helpers.iter().map(|r| Entry {
            role: Role::from_record(r.role.as_deref()),
            ended: Ended::NotStarted,
            cost_usd: r.cost_usd,
        });
        // Collected first: `history` must outlive the rows borrowing it.
        let rows: Vec<Entry<'_>> = task_rows.chain(helper_rows).collect();
        Counts::of(rows)
    }
}

/// Dollars with enough digits to tell small amounts apart: `$0.26`,
/// `$0.0123`, `$0.001`, `$1.50` (two decimals at least, four at most).
pub fn usd(amount: f64) -> String {
    // Adding +0.0 turns -0.0 (an empty f64 sum) into 0.0.
    let mut s = format!("{:.4}", amount + 0.0);
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) > 3 {
        s.pop();
    }
    format!("${s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(ended: Ended<'_>, cost: f64) -> Entry<'_> {
        Entry {
            role: Role::Task,
            ended,
            cost_usd: Some(cost),
        }
    }

    #[test]
    fn dollars_keep_the_digits_that_tell_amounts_apart() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(-0.0), "$0.00");
        assert_eq!(usd(0.26), "$0.26");
        assert_eq!(usd(0.0123), "$0.0123");
        assert_eq!(usd(0.001), "$0.001");
        assert_eq!(usd(1.5), "$1.50");
        assert_eq!(usd(0.0369), "$0.0369");
    }

    #[test]
    fn agents_that_report_no_cost_are_not_a_zero_cost() {
        let ok = TaskOutcome::Succeeded;
        let unreported = |ended| Entry {
            role: Role::Task,
            ended,
            cost_usd: None,
        };
        // Not started and skipped tasks spent nothing: they are no unknown.
        let c = Counts::of([unreported(Ended::NotStarted), unreported(Ended::Skipped)]);
        assert_eq!(c.cost_line(), "$0.00");
        let c = Counts::of([unreported(Ended::Ran(&ok)), unreported(Ended::Ran(&ok))]);
        assert_eq!(c.cost.unreported, 2);
        assert_eq!(c.cost_line(), COST_NOT_REPORTED);
        // Some cost reported: that is the figure.
        let c = Counts::of([unreported(Ended::Ran(&ok)), task(Ended::Ran(&ok), 0.01)]);
        assert_eq!(c.cost_line(), "$0.01");
    }

    #[test]
    fn not_started_tasks_are_not_interrupted_ones() {
        let ok = TaskOutcome::Succeeded;
        let int = TaskOutcome::Interrupted;
        let c = Counts::of([
            task(Ended::Ran(&ok), 0.01),
            task(Ended::Ran(&int), 0.0),
            task(Ended::NotStarted, 0.0),
            task(Ended::Skipped, 0.0),
            Entry {
                role: Role::Repair,
                ended: Ended::NotStarted,
                cost_usd: Some(0.02),
            },
        ]);
        assert_eq!(c.group_line(), "1 succeeded, 1 interrupted, 1 not started");
        assert_eq!(
            c.tasks_line(),
            "1/3 tasks succeeded, 1 interrupted, 1 not started, 1 skipped (done earlier)"
        );
        assert_eq!(c.helpers_line(), ", 1 repair");
        assert_eq!(c.cost_line(), "$0.03: tasks $0.01, repairs $0.02");
    }

    #[test]
    fn a_gate_only_run_says_no_task_ran() {
        let c = Counts::of([task(Ended::Skipped, 0.0), task(Ended::Skipped, 0.0)]);
        assert_eq!(c.tasks_line(), "no task ran, 2 skipped (done earlier)");
        assert_eq!(Counts::default().group_line(), "0 succeeded, 0 failed");
    }
}
