//! Runs the tasks of one group in parallel: at most `max_parallel` agents at
//! once, a freed slot refilled at once (the loop wakes on every exit, never
//! polls), retries, usage-limit pauses, fail-fast and auth stops.

use super::attempt::{AttemptJob, AttemptMsg, AttemptResult, run_attempt};
use super::budget::Budget;
use crate::agent::TaskOutcome;
use crate::events::{Event, Reporter, TaskSummary};
use crate::exec::StopLevel;
use crate::roadmap::GroupKey;
use crate::status::{Store, TaskRecord};
use chrono::{DateTime, Local, Utc};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// A task waiting for a slot.
#[derive(Debug, Clone)]
pub struct QueuedTask {
    pub task_id: String,
    pub title: String,
    pub attempt: u32,
    /// Session to resume (after a usage limit, or a failed attempt).
    pub resume: Option<String>,
    pub limit_hits: u32,
    /// How the previous attempt ended, when it failed: the retry is told.
    pub previous: Option<String>,
    /// Which agent runs it: 0 the run's, `n` the n-th of `[agent] fallback`.
    pub profile: usize,
    /// How long it is expected to take ([`crate::plan::order`]): the
    /// group's queue starts with the longest.
    pub expected: Option<Duration>,
}

impl QueuedTask {
    /// A first attempt.
    pub fn new(task_id: impl Into<String>, title: impl Into<String>) -> Self {
        QueuedTask {
            task_id: task_id.into(),
            title: title.into(),
            attempt: 1,
            resume: None,
            limit_hits: 0,
            previous: None,
            profile: 0,
            expected: None,
        }
    }
}

/// Builds the job for a queued task (prompt, command line, log path).
pub trait JobFactory {
    fn job(&mut self, task: &QueuedTask) -> AttemptJob;

    /// A task succeeded and its attempt is recorded, while the group's
    /// other agents may still run (worktree mode merges it now).
    fn succeeded(&mut self, _task_id: &str, _io: &mut GroupIo<'_, '_>) {}

    /// Every slot is busy and `next` starts when one frees up: what can be
    /// made for it now (worktree mode makes its worktree).
    fn ahead(&mut self, _next: &QueuedTask) {}
}

#[derive(Debug, Clone)]
pub struct GroupLimits {
    pub max_parallel: usize,
    pub retries: u32,
    pub max_wait: Duration,
    pub fail_fast: bool,
    /// The `[agent] fallback` profiles a usage limit moves a task to, in order.
    pub fallbacks: Vec<String>,
}

/// How the group ended.
#[derive(Debug, Clone)]
pub struct GroupRun {
    pub tasks: Vec<TaskSummary>,
    /// The agent is not logged in: the run must stop.
    pub auth_failure: Option<String>,
    /// Tasks were left unstarted because the run's budget was spent.
    pub budget_stopped: bool,
}

impl GroupRun {
    pub fn all_succeeded(&self) -> bool {
        self.tasks.iter().all(|t| t.outcome.is_success())
    }
}

/// A usage limit hit this many times in a row on one task stops trying.
const MAX_LIMIT_HITS: u32 = 10;
/// How long to wait when the agent did not say when its limit resets.
const UNKNOWN_RESET_WAIT: Duration = Duration::from_secs(30 * 60);

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

pub async fn run_group(
    key: &GroupKey,
    tasks: Vec<QueuedTask>,
    limits: &GroupLimits,
    factory: &mut dyn JobFactory,
    mut global_stop: watch::Receiver<StopLevel>,
    io: &mut GroupIo<'_, '_>,
) -> GroupRun {
    let order: Vec<String> = tasks.iter().map(|t| t.task_id.clone()).collect();
    let titles: HashMap<String, String> = tasks
        .iter()
        .map(|t| (t.task_id.clone(), t.title.clone()))
        .collect();
    let mut queue: VecDeque<QueuedTask> =
        crate::plan::order::longest_first(tasks, |t| t.expected).into();
    let mut running: JoinSet<AttemptResult> = JoinSet::new();
    // Running attempts: the queued task with its log path and timeout.
    let mut in_flight: InFlight = HashMap::new();
    let mut finished: HashMap<String, TaskSummary> = HashMap::new();
    let mut attempts: HashMap<String, Attempts> = HashMap::new();
    // Attempts that ended, recorded once the freed slot is refilled.
    let mut to_record: Vec<(AttemptResult, chrono::DateTime<Utc>)> = Vec::new();
    let mut started_at: HashMap<String, chrono::DateTime<Utc>> = HashMap::new();
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    // The group's own stop: raised by fail-fast and auth failure, and by the
    // runner's signals, forwarded below.
    let (group_stop_tx, group_stop_rx) = watch::channel(*global_stop.borrow());
    let mut paused_until: Option<Instant> = None;
    let mut auth_failure: Option<String> = None;
    let mut failed = false;
    let mut budget_stopped = false;
    let retries = limits.retries;

    loop {
        let stopping = *group_stop_tx.borrow() > StopLevel::Run;
        let halted = stopping || auth_failure.is_some() || (limits.fail_fast && failed);
        while !halted && paused_until.is_none() && running.len() < limits.max_parallel {
            if queue.is_empty() {
                break;
            }
            if io.budget.reached() {
                budget_stopped = true;
                break;
            }
            let Some(task) = queue.pop_front() else { break };
            let job = factory.job(&task);
            if let (Some(path), None) = (&job.worktree, &job.remote) {
                io.reporter.report(&Event::Note {
                    message: format!(
                        "{key}: {} works in its own worktree {}",
                        task.task_id,
                        path.display()
                    ),
                });
            }
            in_flight.insert(
                task.task_id.clone(),
                (task, job.log_path.clone(), job.timeout),
            );
            running.spawn(run_attempt(job, group_stop_rx.clone(), msg_tx.clone()));
        }
        // The next agent is already running: now the fsyncs of the ones that ended.
        for (res, finished) in to_record.drain(..) {
            let start = started_at.remove(&res.job.task_id);
            record_attempt(key, &res, start, finished, io);
            if res.outcome == TaskOutcome::Succeeded {
                factory.succeeded(&res.job.task_id, io);
            }
        }
        if let Some(next) = queue
            .front()
            .filter(|_| running.len() >= limits.max_parallel && !halted)
        {
            factory.ahead(next);
        }
        if running.is_empty() && (queue.is_empty() || halted || budget_stopped) {
            break;
        }
        let pause = paused_until;
        tokio::select! {
            biased;
            Some(msg) = msg_rx.recv() => report_msg(msg, key, &in_flight, &mut started_at, io),
            Some(joined) = running.join_next() => {
                let res = match joined {
                    Ok(r) => r,
                    // A panicking attempt is a bug; the group cannot tell which task it was.
                    Err(e) => panic!("task attempt crashed: {e}"),
                };
                // Drain messages the attempt sent before it ended, so events stay in order.
                while let Ok(msg) = msg_rx.try_recv() {
                    report_msg(msg, key, &in_flight, &mut started_at, io);
                }
                let reporter = &mut *io.reporter;
                let (task, _, _) = in_flight.remove(&res.job.task_id).expect("attempt for a queued task");
                let entry = attempts.entry(task.task_id.clone()).or_default();
                entry.add(&res);
                io.budget.spend(res.job.role, res.report.cost_usd);
                reporter.report(&Event::TaskFinished {
                    key: key.clone(),
                    task: task.task_id.clone(),
                    title: task.title.clone(),
                    attempt: task.attempt,
                    outcome: res.outcome.clone(),
                    duration: res.duration,
                    report: res.report.clone(),
                    log: res.job.log_path.clone(),
                    tail: if res.outcome.is_success() { Vec::new() } else { res.tail.clone() },
                });
                let summary = |outcome: TaskOutcome| TaskSummary {
                    key: key.clone(),
                    task: task.task_id.clone(),
                    title: task.title.clone(),
                    outcome,
                    attempts: entry.count,
                    duration: entry.duration,
                    cost_usd: entry.cost_usd,
                    log: Some(res.job.log_path.clone()),
                    role: res.job.role,
                };
                match &res.outcome {
                    TaskOutcome::Succeeded | TaskOutcome::Interrupted => {
                        finished.insert(task.task_id.clone(), summary(res.outcome.clone()));
                    }
                    TaskOutcome::Failed { .. } | TaskOutcome::TimedOut { .. } | TaskOutcome::WorkerLost { .. } => {
                        if task.attempt <= retries && *group_stop_tx.borrow() == StopLevel::Run {
                            reporter.report(&Event::TaskRetry {
                                key: key.clone(),
                                task: task.task_id.clone(),
                                attempt: task.attempt + 1,
                                of: retries + 1,
                            });
                            queue.push_back(retry_of(task, &res));
                        } else {
                            failed = true;
                            finished.insert(task.task_id.clone(), summary(res.outcome.clone()));
                            if limits.fail_fast {
                                group_stop_tx.send_if_modified(|l| raise(l, StopLevel::Terminate));
                            }
                        }
                    }
                    TaskOutcome::OverBudget { .. } => {
                        failed = true;
                        finished.insert(task.task_id.clone(), summary(res.outcome.clone()));
                    }
                    TaskOutcome::AuthFailure { message } => {
                        auth_failure.get_or_insert_with(|| message.clone());
                        finished.insert(task.task_id.clone(), summary(res.outcome.clone()));
                        group_stop_tx.send_if_modified(|l| raise(l, StopLevel::Terminate));
                    }
                    TaskOutcome::UsageLimit { .. } if task.profile < limits.fallbacks.len() => {
                        // A fallback agent takes over at once, in a fresh
                        // session (another CLI cannot resume this one's).
                        reporter.report(&Event::Note {
                            message: format!(
                                "{key}: {} hit the agent's usage limit: its next attempt runs on {} ([agent] fallback)",
                                task.task_id,
                                limits.fallbacks[task.profile]
                            ),
                        });
                        queue.push_front(QueuedTask {
                            resume: None,
                            profile: task.profile + 1,
                            ..task
                        });
                    }
                    TaskOutcome::UsageLimit { resets_at, .. } => {
                        if task.limit_hits + 1 >= MAX_LIMIT_HITS {
                            failed = true;
                            finished.insert(task.task_id.clone(), summary(res.outcome.clone()));
                        } else {
                            let wait = limit_wait(*resets_at, limits.max_wait);
                            let until = Instant::now() + wait;
                            paused_until = Some(paused_until.map_or(until, |p| p.max(until)));
                            let local_until = Local::now()
                                + chrono::Duration::from_std(wait).unwrap_or_default();
                            reporter.report(&Event::UsageLimitWait {
                                key: key.clone(),
                                task: task.task_id.clone(),
                                until: local_until,
                                resets_at: resets_at.map(|r| r.with_timezone(&Local)),
                            });
                            let resume = res.report.session_id.clone().or(task.resume.clone());
                            queue.push_front(QueuedTask {
                                resume,
                                limit_hits: task.limit_hits + 1,
                                ..task
                            });
                        }
                    }
                }
                to_record.push((res, Utc::now()));
            },
            _ = sleep_until_opt(pause), if pause.is_some() => {
                paused_until = None;
                if let Some(next) = queue.front() {
                    io.reporter.report(&Event::UsageLimitResume { key: key.clone(), task: next.task_id.clone() });
                }
            },
            changed = global_stop.changed() => {
                if changed.is_ok() {
                    let level = *global_stop.borrow();
                    if group_stop_tx.send_if_modified(|l| raise(l, level)) {
                        let reason = match level {
                            StopLevel::Kill => "second signal: killing every agent now",
                            _ => "signal received: no new task starts, every running agent gets SIGTERM (SIGKILL after the grace period; a second signal kills at once)",
                        };
                        io.reporter.report(&Event::Stopping { reason: reason.into() });
                    }
                }
            },
        }
    }

    for (res, finished) in to_record.drain(..) {
        let start = started_at.remove(&res.job.task_id);
        record_attempt(key, &res, start, finished, io);
        if res.outcome == TaskOutcome::Succeeded {
            factory.succeeded(&res.job.task_id, io);
        }
    }
    // Tasks never started (stopped, failed fast, auth) are listed as such.
    let tasks = order
        .iter()
        .map(|id| {
            finished.remove(id).unwrap_or_else(|| TaskSummary {
                key: key.clone(),
                task: id.clone(),
                title: titles.get(id).cloned().unwrap_or_default(),
                outcome: TaskOutcome::Interrupted,
                attempts: attempts.get(id).map_or(0, |a| a.count),
                duration: attempts.get(id).map_or(Duration::ZERO, |a| a.duration),
                cost_usd: attempts.get(id).and_then(|a| a.cost_usd),
                log: None,
                role: Default::default(),
            })
        })
        .collect();
    GroupRun {
        tasks,
        auth_failure,
        budget_stopped,
    }
}

/// The next attempt after a failure. A failed agent's own session goes on,
/// told how the attempt ended, instead of starting cold; a timed-out one
/// starts afresh (its session may be what hung).
fn retry_of(task: QueuedTask, res: &AttemptResult) -> QueuedTask {
    let (resume, previous) = match &res.outcome {
        TaskOutcome::Failed { reason, .. } => (res.report.session_id.clone(), Some(reason.clone())),
        _ => (None, None),
    };
    QueuedTask {
        attempt: task.attempt + 1,
        resume,
        previous,
        ..task
    }
}

type InFlight = HashMap<String, (QueuedTask, std::path::PathBuf, Duration)>;

/// A task's attempts in this run, summed.
#[derive(Debug, Default)]
struct Attempts {
    count: u32,
    duration: Duration,
    cost_usd: Option<f64>,
}

impl Attempts {
    fn add(&mut self, res: &AttemptResult) {
        self.count += 1;
        self.duration += res.duration;
        if let Some(c) = res.report.cost_usd {
            self.cost_usd = Some(self.cost_usd.unwrap_or(0.0) + c);
        }
    }
}

/// The attempt's `tasks.jsonl` record (and the in-progress file without it).
fn record_attempt(
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
            .filter(|_| res.job.role == super::budget::Role::Review),
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

fn report_msg(
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

fn raise(current: &mut StopLevel, to: StopLevel) -> bool {
    if to > *current {
        *current = to;
        true
    } else {
        false
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Until the limit resets (a few seconds' slack), capped by `max_wait`.
pub fn limit_wait(resets_at: Option<DateTime<Utc>>, max_wait: Duration) -> Duration {
    let wait = match resets_at {
        Some(at) => (at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .saturating_add(Duration::from_secs(2)),
        None => UNKNOWN_RESET_WAIT,
    };
    wait.min(max_wait)
}
