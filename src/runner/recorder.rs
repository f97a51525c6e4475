//! Persists what the events say while a group runs: `in_progress_tasks.txt`
//! as agents start and end, one `tasks.jsonl` record per finished attempt.
//! It wraps the user-facing reporter so the status files and the output can
//! never disagree; a write failure becomes a warning on that reporter.

use crate::events::{Event, Reporter};
use crate::project::relative_display;
use crate::roadmap::GroupKey;
use crate::status::{InProgress, RecordStore, RunningGroup, RunningTask, StatusDir, TaskRecord};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::Path;

pub struct Recorder<'a> {
    inner: &'a mut dyn Reporter,
    status: &'a StatusDir,
    store: RecordStore,
    project_dir: &'a Path,
    in_progress: InProgress,
    started: HashMap<String, DateTime<Utc>>,
}

impl<'a> Recorder<'a> {
    pub fn new(
        inner: &'a mut dyn Reporter,
        status: &'a StatusDir,
        project_dir: &'a Path,
        key: &GroupKey,
    ) -> Self {
        let mut r = Recorder {
            inner,
            status,
            store: RecordStore::new(status),
            project_dir,
            in_progress: InProgress::new(RunningGroup::this_process(key.clone())),
            started: HashMap::new(),
        };
        r.save_progress();
        r
    }

    fn save_progress(&mut self) {
        if let Err(e) = self.in_progress.write(self.status) {
            self.warn(format!("cannot update the in-progress file: {e}"));
        }
    }

    fn warn(&mut self, message: String) {
        self.inner.report(&Event::Warning { message });
    }

    /// The group ended: nothing of it runs any more.
    pub fn finish(mut self) {
        if let Err(e) = InProgress::clear(self.status) {
            self.warn(format!("cannot clear the in-progress file: {e}"));
        }
    }
}

impl Reporter for Recorder<'_> {
    fn report(&mut self, event: &Event) {
        match event {
            Event::TaskStarted { task, pid, log, .. } => {
                self.started.insert(task.clone(), Utc::now());
                let log = relative_display(self.project_dir, log);
                self.in_progress
                    .task_started(RunningTask::new(task.clone(), *pid, Some(log)));
                self.save_progress();
            }
            Event::TaskFinished {
                key,
                task,
                attempt,
                outcome,
                duration,
                report,
                log,
                ..
            } => {
                let finished = Utc::now();
                let started = self.started.remove(task).unwrap_or_else(|| {
                    finished - chrono::Duration::from_std(*duration).unwrap_or_default()
                });
                let record = TaskRecord::new(
                    key,
                    task,
                    *attempt,
                    outcome.clone(),
                    report,
                    started,
                    finished,
                    *duration,
                    Some(relative_display(self.project_dir, log)),
                );
                if let Err(e) = self.store.append_task(&record) {
                    self.warn(format!("cannot record the attempt of {task}: {e}"));
                }
                self.in_progress.task_finished(task);
                self.save_progress();
            }
            _ => {}
        }
        self.inner.report(event);
    }
}
