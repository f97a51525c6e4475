//! The run's state in memory: every record of `tasks.jsonl` and the
//! completed set of `completed_tasks.txt`, read once by [`RunView::load`]
//! (the one reader of both files), and the questions the runner and the
//! commands ask of them. [`super::Store`] keeps one up to date with its own
//! writes; read-only commands load one and drop it.

use super::records::{
    IntegrationState, Record, RecordStore, StartRecord, TaskRecord, group_base, group_isolation,
    group_run_time, latest_task_outcomes, runner_attempts, task_attempts, task_integrations,
};
use super::{CompletedGroups, LineWarning, StatusDir, StatusError};
use crate::config::Isolation;
use crate::roadmap::GroupKey;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct RunView {
    records: Vec<Record>,
    completed: CompletedGroups,
}

/// A loaded view, and what loading skipped on the way.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub view: RunView,
    pub record_warnings: Vec<String>,
    pub completed_warnings: Vec<LineWarning>,
}

impl RunView {
    pub fn new(records: Vec<Record>, completed: CompletedGroups) -> Self {
        RunView { records, completed }
    }

    /// Reads `completed_tasks.txt` and `tasks.jsonl`; missing files hold
    /// nothing, unreadable lines become warnings.
    pub fn load(status: &StatusDir) -> Result<Loaded, StatusError> {
        let (completed, completed_warnings) = status.load_completed()?;
        let (records, record_warnings) = RecordStore::new(status).load()?;
        Ok(Loaded {
            view: RunView { records, completed },
            record_warnings,
            completed_warnings,
        })
    }

    pub fn into_parts(self) -> (Vec<Record>, CompletedGroups) {
        (self.records, self.completed)
    }

    /// Every record, in file order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The groups `completed_tasks.txt` lists.
    pub fn completed(&self) -> &CompletedGroups {
        &self.completed
    }

    /// A record just appended to the file.
    pub(super) fn push(&mut self, record: Record) {
        self.records.push(record);
    }

    /// The completed set just written.
    pub(super) fn set_completed(&mut self, completed: CompletedGroups) {
        self.completed = completed;
    }

    /// The base the group's first start (since its latest reset) recorded.
    pub fn base<'a>(&'a self, key: &'a GroupKey) -> Option<&'a StartRecord> {
        group_base(&self.records, key)
    }

    /// HEAD when the group first started.
    pub fn base_head(&self, key: &GroupKey) -> Option<String> {
        self.base(key).and_then(|b| b.head.clone())
    }

    /// The isolation the group began with, until it is complete.
    pub fn isolation(&self, key: &GroupKey) -> Option<Isolation> {
        group_isolation(&self.records, key)
    }

    /// The latest attempt of every task of the group since its latest reset.
    pub fn latest_outcomes(&self, key: &GroupKey) -> BTreeMap<String, TaskRecord> {
        latest_task_outcomes(&self.records, key)
    }

    /// The latest record of `task` (a roadmap task or one of the runner's
    /// agents, `repair-1`...) in the group, over all runs.
    pub fn latest_record(&self, key: &GroupKey, task: &str) -> Option<&TaskRecord> {
        self.records.iter().rev().find_map(|r| match r {
            Record::Task(t) if t.is_for_group(key) && t.task == task => Some(t),
            _ => None,
        })
    }

    /// How far each task's latest attempt got into the project tree.
    pub fn integrations(&self, key: &GroupKey) -> BTreeMap<String, IntegrationState> {
        task_integrations(&self.records, key)
    }

    /// Every attempt of every roadmap task of the group, by task id.
    pub fn attempts<'a>(&'a self, key: &'a GroupKey) -> BTreeMap<String, Vec<&'a TaskRecord>> {
        task_attempts(&self.records, key)
    }

    /// The runner's own agents of the group (repairs, reviews), in order.
    pub fn runner_attempts<'a>(&'a self, key: &'a GroupKey) -> Vec<&'a TaskRecord> {
        runner_attempts(&self.records, key)
    }

    /// The wall-clock time the group ran, summed over runs.
    pub fn run_time(&self, key: &GroupKey) -> std::time::Duration {
        group_run_time(&self.records, key)
    }

    /// Whether some task's latest attempt ran in a worktree (or on a
    /// worker) and is not merged into the project tree yet.
    pub fn unmerged_worktrees(&self, key: &GroupKey) -> bool {
        let done = self.integrations(key);
        self.latest_outcomes(key).values().any(|r| {
            (r.worktree.is_some() || r.commit.is_some())
                && !matches!(done.get(&r.task), Some(IntegrationState::Done(_)))
        })
    }

    /// The latest attempt whose log file is named `name`.
    pub fn record_of_log(&self, name: &OsStr) -> Option<&TaskRecord> {
        self.records.iter().rev().find_map(|r| match r {
            Record::Task(t)
                if t.log.as_deref().and_then(|l| Path::new(l).file_name()) == Some(name) =>
            {
                Some(t)
            }
            _ => None,
        })
    }

    /// How many attempts each worker ran (`--nats`).
    pub fn attempts_per_worker(&self) -> BTreeMap<String, usize> {
        let mut per = BTreeMap::new();
        for r in &self.records {
            if let Record::Task(t) = r
                && let Some(w) = &t.worker
            {
                *per.entry(w.clone()).or_default() += 1;
            }
        }
        per
    }
}
