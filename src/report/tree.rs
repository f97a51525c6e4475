//! The roadmap as a tree of phases → groups → tasks, each with its state
//! from the records, a split task's sub-roadmap beneath it: the one model
//! behind `status` (and `status --json`, so the API's status), the group
//! report's sub-roadmaps and the dashboard's first draw.

use crate::plan::{GroupState, group_state};
use crate::roadmap::{Group, GroupKey, Phase, PhaseId, Roadmap};
use crate::status::counts::{Counts, TaskHistory};
use crate::status::{CompletedGroups, InProgress, Record, SubGroupReport, SubTaskReport};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "StatusPhase")]
pub struct PhaseDoc {
    /// `1`, `4b`, `12.1`: a number when it is a plain number.
    #[schemars(with = "serde_json::Value")]
    pub number: PhaseId,
    pub title: String,
    pub groups: Vec<GroupDoc>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "StatusGroup")]
pub struct GroupDoc {
    /// `A`; a sub-roadmap's group in its task's scope (`B:B2/1:A`).
    pub id: String,
    /// `PHASE_1:A`, `PHASE_1:B:B2/1:A`.
    pub key: String,
    pub title: String,
    pub annotation: Option<String>,
    pub state: GroupState,
    /// A run holds the lock and is working on this group now.
    pub running: bool,
    /// Its tasks by latest outcome, repairs, reviews and cost, from the
    /// records; none when nothing of it ran yet.
    pub counts: Option<Counts>,
    pub tasks: Vec<TaskDoc>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "StatusTask")]
pub struct TaskDoc {
    pub id: String,
    pub title: String,
    pub done_in_roadmap: bool,
    /// `running`, `queued` (in the group running now), or its latest
    /// attempt's outcome (`succeeded`, `failed`, `split`...); none before it ran.
    pub state: Option<String>,
    /// The latest outcome as a sentence (`failed: exit code 1`).
    pub detail: Option<String>,
    /// Attempts over all runs since the group's latest reset.
    pub attempts: usize,
    pub cost_usd: Option<f64>,
    /// The latest attempt's log (or the running one's).
    pub log: Option<String>,
    /// Running: for how long.
    pub elapsed_secs: Option<i64>,
    /// The task split: its sub-roadmap's groups (`status/sub/`), each as a
    /// group of the tree, keyed in the task's scope (`PHASE_1:B:B2/1:A`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(default)]
    pub sub: Vec<GroupDoc>,
}

impl TaskDoc {
    /// `(done, total)` of a split task's sub-tasks (a sub-task that split
    /// counts once: done when its own sub-roadmap is).
    pub fn sub_progress(&self) -> (usize, usize) {
        let tasks = self.sub.iter().flat_map(|g| &g.tasks);
        let done = tasks
            .clone()
            .filter(|t| t.done_in_roadmap || t.state.as_deref() == Some("succeeded"))
            .count();
        (done, tasks.count())
    }
}

impl GroupDoc {
    /// A sub-roadmap's group of phase `phase` as its parent task's section
    /// of the group report shows it, ids scoped (`1:A:A2/1:A`).
    pub fn report(&self, phase: &PhaseId) -> SubGroupReport {
        let id = format!("{phase}:{}", self.id);
        SubGroupReport {
            tasks: self
                .tasks
                .iter()
                .map(|t| SubTaskReport {
                    id: format!("{id}:{}", t.id),
                    title: t.title.clone(),
                    outcome: match (&t.detail, t.done_in_roadmap) {
                        (_, true) => "done in roadmap".into(),
                        (Some(d), _) => d.clone(),
                        (None, _) => "not run".into(),
                    },
                    attempts: t.attempts,
                    cost_usd: t.cost_usd,
                    sub: t.sub.iter().map(|g| g.report(phase)).collect(),
                })
                .collect(),
            id,
            title: self.title.clone(),
            annotation: self.annotation.clone(),
            state: self.state.label().to_string(),
        }
    }
}

/// A task's kept sub-roadmap, its groups keyed in the task's scope (the
/// runner's `split::load`, which lives above this layer); `None` when the
/// task did not split.
pub type SubRoadmaps<'a> = &'a dyn Fn(&GroupKey, &str) -> Option<Roadmap>;

/// What the tree is drawn from.
pub struct Tree<'a> {
    pub records: &'a [Record],
    pub completed: &'a CompletedGroups,
    /// A live run's in-progress file: its group's tasks are `running` or
    /// `queued`.
    pub live: Option<&'a InProgress>,
    pub now: DateTime<Utc>,
    pub sub_roadmap: SubRoadmaps<'a>,
}

impl Tree<'_> {
    pub fn phases(&self, roadmap: &Roadmap) -> Vec<PhaseDoc> {
        roadmap
            .phases
            .iter()
            .map(|phase| PhaseDoc {
                number: phase.number.clone(),
                title: phase.title.clone(),
                groups: phase.groups.iter().map(|g| self.group(phase, g)).collect(),
            })
            .collect()
    }

    /// A group of the tree with each task's latest state, from the records
    /// (and, for the group a live run works on, from its in-progress file).
    pub fn group(&self, phase: &Phase, group: &Group) -> GroupDoc {
        let key = group.key(phase);
        let history = TaskHistory::of_group(self.records, &key);
        let running_since = self
            .live
            .and_then(|p| p.group.as_ref())
            .filter(|g| g.key == key)
            .map(|g| g.started);
        let ids = group
            .tasks
            .iter()
            .map(|t| (t.id.as_str(), t.done_in_roadmap));
        let counts = (!history.is_empty()).then(|| Counts::of_records(self.records, &key, ids));
        let tasks = group
            .tasks
            .iter()
            .map(|t| {
                let h = history.get(&t.id);
                let mut doc = TaskDoc {
                    id: t.id.clone(),
                    title: t.title.clone(),
                    done_in_roadmap: t.done_in_roadmap,
                    state: h.map(|h| h.last.outcome.label().to_string()),
                    detail: h.map(|h| crate::status::report_md::outcome_detail(&h.last.outcome)),
                    attempts: h.map_or(0, |h| h.attempts),
                    cost_usd: h.and_then(|h| h.cost_usd),
                    log: h.and_then(|h| h.last.log.clone()),
                    elapsed_secs: None,
                    sub: self.sub_groups(&key, &t.id),
                };
                if let Some(since) = running_since.filter(|_| !t.done_in_roadmap) {
                    self.live_task_state(&mut doc, h, since);
                }
                doc
            })
            .collect();
        GroupDoc {
            id: group.id.clone(),
            key: key.to_string(),
            title: group.title.clone(),
            annotation: group.annotation.clone(),
            state: group_state(&key, phase, group, self.completed),
            running: running_since.is_some(),
            counts,
            tasks,
        }
    }

    /// The groups of a task's sub-roadmap, if it split.
    pub fn sub_groups(&self, key: &GroupKey, task: &str) -> Vec<GroupDoc> {
        let Some(sub) = (self.sub_roadmap)(key, task) else {
            return Vec::new();
        };
        sub.groups().map(|(p, g)| self.group(p, g)).collect()
    }

    /// A task of the group running now: running (its agent is in the
    /// in-progress file), its outcome in this run, succeeded earlier, or queued.
    fn live_task_state(
        &self,
        doc: &mut TaskDoc,
        history: Option<&TaskHistory>,
        since: DateTime<Utc>,
    ) {
        let agent = self
            .live
            .and_then(|p| p.tasks.iter().find(|r| r.task_id == doc.id));
        if let Some(a) = agent {
            doc.state = Some("running".into());
            doc.detail = None;
            doc.elapsed_secs = Some((self.now - a.started).num_seconds());
            doc.log = a.log.clone().or(doc.log.take());
            return;
        }
        let ended_now = history.is_some_and(|h| h.last.finished_at >= since);
        let succeeded = history.is_some_and(|h| h.last.outcome.is_success());
        if !ended_now && !succeeded {
            doc.state = Some("queued".into());
            doc.detail = None;
        }
    }
}
