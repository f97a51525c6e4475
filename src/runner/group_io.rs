//! What a group's run tells the store and the reporter: each attempt's
//! record, the in-progress file, and the events of running attempts.

use crate::events::{Event, Reporter};
use crate::roadmap::GroupKey;
use crate::runner::attempt::{AttemptMsg, AttemptResult, QueuedTask};
use crate::runner::budget::{Budget, Role};
use crate::status::{Store, TaskRecord};
use chrono::Utc;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Running attempts: the queued task with its log path and timeout.
pub(super) type InFlight = HashMap<String, (QueuedTask, PathBuf, Duration)>;

/// Where a group's run goes: the store records it, the reporter shows it.
pub struct GroupIo<'r, 's> {
    pub reporter: &'r mut dyn Reporter,
    pub store: &'r mut Store<'s>,
    /// Log paths in records and the in-progress file are relative to it.
    pub project_dir: &'r std::path::Path,
    /// The run's spending: no agent starts once its cap is reached.
    pub budget: &'r mut Budget,
}

impl GroupIo<'_, '_> {
    fn warn_on_err(&mut self, what: &str, r: Result<(), crate::status::StatusError>) {
        if let Err(e) = r {
            self.reporter.report(&Event::Warning {
                message: format!("cannot {what}: {e}"),
            });
        }
    }
}

/// The attempt's `tasks.jsonl` record (and the in-progress file without it).
pub(super) fn record_attempt(
    key: &GroupKey,
    res: &AttemptResult,
    started: Option<chrono::DateTime<Utc>>,
    finished: chrono::DateTime<Utc>,
    io: &mut GroupIo<'_, '_>,
) {
    let started = started
        .unwrap_or_else(|| finished - chrono::Duration::from_std(res.duration).unwrap_or_default());
    let record = TaskRecord::new(
        key,
        &res.job.task_id,
        res.job.attempt,
        res.outcome.clone(),
        &res.report,
        started,
        finished,
        res.duration,
        Some(crate::project::relative_display(
            io.project_dir,
            &res.job.log_path,
        )),
    );
    let record = TaskRecord {
        role: res.job.role.record_name().map(str::to_string),
        fingerprint: res.job.fingerprint.clone(),
        verdict: res
            .report
            .structured_output
            .clone()
            .filter(|_| res.job.role == Role::Review),
        worktree: res.job.worktree.as_ref().map(|w| w.display().to_string()),
        worker: res.remote.as_ref().map(|r| r.worker.clone()),
        branch: res.remote.as_ref().and_then(|r| r.branch.clone()),
        commit: res.remote.as_ref().and_then(|r| r.commit.clone()),
        agent: Some(crate::agent::AgentKind::of_output(res.job.output).to_string()),
        ..record
    };
    let written = io.store.task_finished(&record);
    io.warn_on_err(
        &format!("record the attempt of {}", res.job.task_id),
        written,
    );
}

pub(super) fn report_msg(
    msg: AttemptMsg,
    key: &GroupKey,
    in_flight: &InFlight,
    started_at: &mut HashMap<String, chrono::DateTime<Utc>>,
    io: &mut GroupIo<'_, '_>,
) {
    match msg {
        AttemptMsg::Started { task_id, pid } => {
            if let Some((t, log, timeout)) = in_flight.get(&task_id) {
                started_at.insert(task_id.clone(), Utc::now());
                let rel = crate::project::relative_display(io.project_dir, log);
                let written = io.store.task_started(&task_id, pid, Some(rel));
                io.warn_on_err("update the in-progress file", written);
                io.reporter.report(&Event::TaskStarted {
                    key: key.clone(),
                    task: task_id.clone(),
                    title: t.title.clone(),
                    attempt: t.attempt,
                    pid,
                    log: log.clone(),
                    timeout: *timeout,
                    worker: None,
                });
            }
        }
        AttemptMsg::Warning { message } => {
            io.reporter.report(&Event::Warning {
                message: format!("{key}: {message}"),
            });
        }
        AttemptMsg::Claimed {
            task_id,
            worker,
            delivery,
        } => {
            if let Some((t, log, timeout)) = in_flight.get(&task_id) {
                started_at.entry(task_id.clone()).or_insert_with(Utc::now);
                let rel = crate::project::relative_display(io.project_dir, log);
                let written = io.store.task_claimed(&task_id, &worker, Some(rel));
                io.warn_on_err("update the in-progress file", written);
                if delivery > 1 {
                    io.reporter.report(&Event::Note {
                        message: format!(
                            "{key}: {task_id} redelivered to worker {worker} (delivery {delivery}: the previous worker went silent)"
                        ),
                    });
                }
                io.reporter.report(&Event::TaskStarted {
                    key: key.clone(),
                    task: task_id.clone(),
                    title: t.title.clone(),
                    attempt: t.attempt,
                    pid: 0,
                    log: log.clone(),
                    timeout: *timeout,
                    worker: Some(worker),
                });
            }
        }
        AttemptMsg::SetupStarted { task_id, pid } => {
            let written = io.store.task_started(&task_id, pid, None);
            io.warn_on_err("update the in-progress file", written);
        }
        AttemptMsg::Activity { task_id, text } => {
            io.reporter.report(&Event::TaskActivity {
                key: key.clone(),
                task: task_id,
                text,
            });
        }
    }
}
