//! Where a sub-roadmap's events go in a view of the run: beneath the task
//! that split, indented by depth, that task's line saying how far its
//! sub-roadmap got (`split: 2/3 sub-tasks done`). Learnt from the events
//! alone: a task's split (`TaskFinished` with `split`) gives its title and
//! how many sub-tasks it has; each sub-task that succeeds counts one, and a
//! sub-task that split counts once its own sub-tasks are all done.

use crate::agent::TaskOutcome;
use crate::events::Event;
use crate::roadmap::GroupKey;
use std::collections::BTreeMap;

/// A task that split, as far as this run has seen it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parent {
    /// `A2`, of `key`.
    pub task: String,
    pub key: GroupKey,
    /// Unknown when it split in an earlier run (only its sub-groups are seen).
    pub title: Option<String>,
    pub total: Option<usize>,
    pub done: usize,
}

impl Parent {
    /// `A2 Task A2`.
    pub fn label(&self) -> String {
        match &self.title {
            Some(t) if !t.is_empty() => format!("{} {t}", self.task),
            _ => self.task.clone(),
        }
    }

    /// `split: 2/3 sub-tasks done`; without the total when the split
    /// happened in an earlier run (`split: 2 sub-tasks done in this run`).
    pub fn progress(&self) -> String {
        match self.total {
            Some(total) => progress(self.done, total),
            None => format!(
                "split: {} done in this run",
                crate::text::plural(self.done, "sub-task")
            ),
        }
    }
}

/// `split: 2/3 sub-tasks done`: where a split task stands, in every view.
pub fn progress(done: usize, total: usize) -> String {
    format!("split: {done}/{total} sub-tasks done")
}

/// The splits of a run, by the parent's scoped id (`1:A:A2`).
#[derive(Debug, Default)]
pub struct Splits {
    parents: BTreeMap<String, Parent>,
}

/// Two spaces per sub-roadmap level.
pub fn indent(key: &GroupKey) -> String {
    "  ".repeat(key.depth())
}

/// The group an event is about, if any.
pub fn key_of(event: &Event) -> Option<&GroupKey> {
    match event {
        Event::GroupStarted { key, .. }
        | Event::TaskStarted { key, .. }
        | Event::TaskActivity { key, .. }
        | Event::TaskFinished { key, .. }
        | Event::TaskRetry { key, .. }
        | Event::UsageLimitWait { key, .. }
        | Event::UsageLimitResume { key, .. }
        | Event::GroupFinished { key, .. }
        | Event::GroupSkipped { key, .. }
        | Event::GateStarted { key, .. }
        | Event::GateStepStarted { key, .. }
        | Event::GateStepFinished { key, .. }
        | Event::GateFinished { key, .. }
        | Event::GroupCompleted { key, .. } => Some(key),
        _ => None,
    }
}

impl Splits {
    /// Takes in what the event says about splits.
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::TaskFinished {
                key,
                task,
                title,
                outcome,
                ..
            } => match outcome {
                TaskOutcome::Split { tasks } => self.known(key, task, title, *tasks, 0),
                o if o.is_success() => self.one_done(key),
                _ => {}
            },
            // The sub-roadmap starts, or resumes after an earlier run.
            Event::SubRoadmapStarted {
                key,
                task,
                title,
                tasks,
                done,
                ..
            } => self.known(key, task, title, *tasks, *done),
            Event::GroupStarted { key, .. } => {
                // A split of an earlier run: known from here on.
                let mut at = key.clone();
                while let Some((parent, task)) = at.parent_task() {
                    self.entry(&parent, &task);
                    at = parent;
                }
            }
            _ => {}
        }
    }

    /// What a split (or its sub-roadmap's start) says of the task.
    fn known(&mut self, key: &GroupKey, task: &str, title: &str, total: usize, done: usize) {
        let p = self.entry(key, task);
        p.title = Some(title.to_string());
        p.total = Some(total);
        p.done = done;
    }

    fn entry(&mut self, key: &GroupKey, task: &str) -> &mut Parent {
        self.parents
            .entry(key.task_ref(task))
            .or_insert_with(|| Parent {
                task: task.to_string(),
                key: key.clone(),
                title: None,
                total: None,
                done: 0,
            })
    }

    /// A task of the sub-roadmap holding `key` is done; its parent may be
    /// done with it, which counts for the grandparent.
    fn one_done(&mut self, key: &GroupKey) {
        let Some((parent, task)) = key.parent_task() else {
            return;
        };
        let p = self.entry(&parent, &task);
        p.done += 1;
        if p.total == Some(p.done) {
            self.one_done(&parent);
        }
    }

    /// The tasks whose sub-roadmaps hold `key`, outermost first.
    pub fn ancestors(&self, key: &GroupKey) -> Vec<&Parent> {
        let mut out = Vec::new();
        let mut at = key.clone();
        while let Some((parent, task)) = at.parent_task() {
            if let Some(p) = self.parents.get(&parent.task_ref(&task)) {
                out.push(p);
            }
            at = parent;
        }
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentReport;
    use std::time::Duration;

    fn finished(key: &GroupKey, task: &str, outcome: TaskOutcome) -> Event {
        Event::TaskFinished {
            key: key.clone(),
            task: task.into(),
            title: format!("Task {task}"),
            attempt: 1,
            outcome,
            duration: Duration::ZERO,
            report: AgentReport::default(),
            log: "x.log".into(),
            tail: Vec::new(),
        }
    }

    /// A resumed run never sees the split: the sub-roadmap's start says it.
    #[test]
    fn a_resumed_sub_roadmap_starts_from_what_is_done() {
        let top = GroupKey::new(1, "A");
        let sub = GroupKey::parse_cli("1:A:A2/1:B").unwrap();
        let mut s = Splits::default();
        s.observe(&Event::SubRoadmapStarted {
            key: top.clone(),
            task: "A2".into(),
            title: "Task A2".into(),
            tasks: 3,
            done: 2,
            groups: 1,
        });
        s.observe(&finished(&sub, "B1", TaskOutcome::Succeeded));
        let p = s.ancestors(&sub)[0];
        assert_eq!(p.progress(), "split: 3/3 sub-tasks done");
        assert_eq!(p.label(), "A2 Task A2");
    }

    #[test]
    fn sub_tasks_count_for_their_parent_and_a_done_split_for_its_own() {
        let top = GroupKey::new(1, "A");
        let sub = GroupKey::parse_cli("1:A:A2/1:A").unwrap();
        let deeper = GroupKey::parse_cli("1:A:A2/1:A:A1/1:A").unwrap();
        let mut s = Splits::default();
        s.observe(&finished(&top, "A2", TaskOutcome::Split { tasks: 2 }));
        s.observe(&finished(&sub, "A1", TaskOutcome::Split { tasks: 1 }));
        s.observe(&finished(&sub, "A2", TaskOutcome::Succeeded));
        let line = |s: &Splits, k: &GroupKey| {
            s.ancestors(k)
                .iter()
                .map(|p| format!("{}: {}", p.label(), p.progress()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            line(&s, &deeper),
            [
                "A2 Task A2: split: 1/2 sub-tasks done",
                "A1 Task A1: split: 0/1 sub-tasks done"
            ]
        );
        s.observe(&finished(&deeper, "A1", TaskOutcome::Succeeded));
        assert_eq!(
            line(&s, &deeper),
            [
                "A2 Task A2: split: 2/2 sub-tasks done",
                "A1 Task A1: split: 1/1 sub-tasks done"
            ]
        );
        assert_eq!(indent(&deeper), "    ");
        assert!(s.ancestors(&top).is_empty());
    }

    #[test]
    fn a_split_of_an_earlier_run_shows_what_this_run_did() {
        let sub = GroupKey::parse_cli("1:B:B2/1:A").unwrap();
        let mut s = Splits::default();
        s.observe(&Event::GroupStarted {
            key: sub.clone(),
            phase_title: String::new(),
            title: String::new(),
            annotation: None,
            tasks: 1,
            parallel: 1,
            task_ids: vec!["A1".into()],
        });
        s.observe(&finished(&sub, "A1", TaskOutcome::Succeeded));
        let p = s.ancestors(&sub)[0];
        assert_eq!(
            (p.label(), p.progress()),
            ("B2".into(), "split: 1 sub-task done in this run".into())
        );
    }
}
