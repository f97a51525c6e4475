//! The events every part of a run emits. One owner (the runner) sends them to
//! the reporters; nothing else writes to stdout.

use crate::agent::{AgentReport, TaskOutcome};
use crate::roadmap::{GroupKey, PhaseId};
use crate::status::counts::Role;
use crate::status::counts::{Counts, Ended, Entry};
use chrono::{DateTime, Local};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// Bumped when a field of the JSON event stream changes meaning or goes away.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

// Events are made, reported by reference and dropped: their size is no cost.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        roadmap: String,
        groups: usize,
        tasks: usize,
        max_parallel: usize,
        #[serde(with = "secs")]
        timeout: Duration,
        dry_run: bool,
        /// The run's `--max-cost`, when one is set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_cost: Option<f64>,
    },
    /// Something the user should look at (e.g. a status-file warning).
    Warning {
        message: String,
    },
    /// Information, not a problem (e.g. what a resumed group runs again).
    Note {
        message: String,
    },
    GroupStarted {
        key: GroupKey,
        /// The phase heading's title (`Foundation Layer`); may be empty.
        phase_title: String,
        title: String,
        /// The group heading's note without parentheses (`Parallel, after A`).
        annotation: Option<String>,
        tasks: usize,
        parallel: usize,
        /// The group's tasks to run, in launch order: all queued at this point.
        task_ids: Vec<String>,
    },
    TaskStarted {
        key: GroupKey,
        task: String,
        title: String,
        attempt: u32,
        pid: u32,
        log: PathBuf,
        #[serde(with = "secs")]
        timeout: Duration,
        /// With `--nats`: the worker running it (`pid` is 0 then).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worker: Option<String>,
    },
    /// The agent's latest activity (a tool call, a line of text).
    TaskActivity {
        key: GroupKey,
        task: String,
        text: String,
    },
    TaskFinished {
        key: GroupKey,
        task: String,
        title: String,
        attempt: u32,
        outcome: TaskOutcome,
        #[serde(with = "secs")]
        duration: Duration,
        report: AgentReport,
        log: PathBuf,
        /// The last lines of output when the task did not succeed.
        tail: Vec<String>,
    },
    /// A failed task will be tried again.
    TaskRetry {
        key: GroupKey,
        task: String,
        attempt: u32,
        of: u32,
    },
    /// The agent hit its usage limit; nothing new starts until `until`.
    UsageLimitWait {
        key: GroupKey,
        task: String,
        until: DateTime<Local>,
        resets_at: Option<DateTime<Local>>,
    },
    UsageLimitResume {
        key: GroupKey,
        task: String,
    },
    GroupFinished {
        key: GroupKey,
        /// How the group's tasks ended (`succeeded`, `failed`, `interrupted`,
        /// `not_started`, ... as fields of the event).
        #[serde(flatten)]
        counts: Counts,
        #[serde(with = "secs")]
        duration: Duration,
    },
    /// The group needs no agents: done in the roadmap, or only its gate reruns.
    GroupSkipped {
        key: GroupKey,
        reason: String,
    },
    /// A split task's sub-roadmap starts (or resumes) in its place: how
    /// many tasks it has and how many of them are done already, so a view
    /// of a resumed run knows as much as one that saw the split.
    SubRoadmapStarted {
        /// The group of the task that split.
        key: GroupKey,
        task: String,
        title: String,
        tasks: usize,
        done: usize,
        /// Its groups still to run.
        groups: usize,
    },
    GateStarted {
        key: GroupKey,
        steps: Vec<String>,
        log: PathBuf,
    },
    GateStepStarted {
        key: GroupKey,
        step: String,
        command: String,
    },
    GateStepFinished {
        key: GroupKey,
        step: String,
        /// `passed`, `failed`, `warning` (a non-fatal step failed), `timed out`, `interrupted`.
        status: String,
        #[serde(with = "secs")]
        duration: Duration,
        /// The last lines of output when the step did not pass.
        tail: Vec<String>,
    },
    GateFinished {
        key: GroupKey,
        passed: bool,
        log: PathBuf,
    },
    /// The group is recorded complete (`completed_tasks.txt`, its report).
    GroupCompleted {
        key: GroupKey,
        report: Option<PathBuf>,
    },
    PhaseCommitted {
        phase: PhaseId,
        title: String,
        commit: String,
    },
    /// Commits went out (`commits` > 0; a push that sent nothing is not
    /// reported). `phase` is `None` for commits of an earlier run.
    PhasePushed {
        phase: Option<PhaseId>,
        remote: String,
        branch: String,
        commits: usize,
    },
    /// The runner was asked to stop (signal); `level` is `terminate` or `kill`.
    Stopping {
        reason: String,
    },
    RunFinished {
        summary: RunSummary,
    },
}

/// One task's final line in the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSummary {
    pub key: GroupKey,
    pub task: String,
    pub title: String,
    pub outcome: TaskOutcome,
    pub attempts: u32,
    #[serde(with = "secs")]
    pub duration: Duration,
    pub cost_usd: Option<f64>,
    pub log: Option<PathBuf>,
    /// A roadmap task, or one of the runner's repair or review agents.
    #[serde(default, skip_serializing_if = "is_task")]
    pub role: Role,
}

impl TaskSummary {
    /// Its row in the run's [`Counts`]: a task with no attempt never started.
    pub fn entry(&self) -> Entry<'_> {
        Entry {
            role: self.role,
            ended: if self.attempts == 0 {
                Ended::NotStarted
            } else {
                Ended::Ran(&self.outcome)
            },
            cost_usd: self.cost_usd,
        }
    }

    /// The table's word for how it ended (`not started` with no attempt).
    pub fn outcome_label(&self) -> &'static str {
        if self.attempts == 0 {
            "not started"
        } else {
            self.outcome.label()
        }
    }
}

/// A group's agents: how long longest-first expected them to take (none
/// when no task's duration was known) and how long they took.
#[derive(Debug, Clone, Serialize)]
pub struct GroupTime {
    pub key: GroupKey,
    #[serde(with = "opt_secs")]
    pub expected: Option<Duration>,
    #[serde(with = "secs")]
    pub duration: Duration,
}

fn is_task(r: &Role) -> bool {
    *r == Role::Task
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub exit_code: i32,
    /// One line: what happened.
    pub message: String,
    /// What to do next, when the run did not finish cleanly.
    pub next_steps: Vec<String>,
    pub tasks: Vec<TaskSummary>,
    pub groups_completed: Vec<GroupKey>,
    #[serde(with = "secs")]
    pub duration: Duration,
    /// `counts.cost`'s total.
    pub cost_usd: f64,
    /// `cost_usd` split into tasks, repairs and reviews (`counts.cost`).
    pub costs: crate::status::counts::Spent,
    /// How the run's tasks ended: what every view of the run prints.
    pub counts: Counts,
    /// Each group whose agents ran: expected against actual.
    pub group_times: Vec<GroupTime>,
}

impl RunSummary {
    /// The run's counts: its tasks' rows, and `skipped` tasks it did not run
    /// because they were done (in the roadmap or an earlier run).
    pub fn count(tasks: &[TaskSummary], skipped: usize) -> Counts {
        let skip = Entry {
            role: Role::Task,
            ended: Ended::Skipped,
            cost_usd: None,
        };
        Counts::of(
            tasks
                .iter()
                .map(TaskSummary::entry)
                .chain(std::iter::repeat_n(skip, skipped)),
        )
    }
}

/// Durations travel as fractional seconds in JSON.
mod secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
    }
}

mod opt_secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::secs::serialize(d, s),
            None => s.serialize_none(),
        }
    }
}

/// Anything that shows events to the user.
pub trait Reporter: Send {
    fn report(&mut self, event: &Event);
}
