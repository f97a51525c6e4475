//! Runs the tasks of one group in parallel: at most `max_parallel` agents at
//! once, a freed slot refilled at once (the loop wakes on every exit, never
//! polls), retries, usage-limit pauses, fail-fast and auth stops.

pub use super::attempt::QueuedTask;
use super::attempt::{AttemptJob, AttemptMsg, AttemptResult};
use super::executor::{self, TaskRunner};
use crate::agent::TaskOutcome;
use crate::events::{Event, Reporter, TaskSummary};
use crate::exec::StopLevel;
use crate::roadmap::GroupKey;
use chrono::{DateTime, Local, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use super::group_io::GroupIo;
use super::group_io::{InFlight, record_attempt, report_msg};

/// Builds the job for a queued task (prompt, command line, log path).
pub trait JobFactory {
    fn job(&mut self, task: &QueuedTask) -> AttemptJob;

    /// What runs the jobs: processes here unless the group has another
    /// executor (see [`super::executor`]).
    fn runner(&self) -> Arc<dyn TaskRunner> {
        Arc::new(executor::Local)
    }

    /// A task succeeded (or split) and its attempt is recorded, while the
    /// group's other agents may still run (worktree mode merges it now).
    fn succeeded(&mut self, _task_id: &str, _io: &mut GroupIo<'_, '_>) {}

    /// Every slot is busy and `next` starts when one frees up: what can be
    /// made for it now (worktree mode makes its worktree).
    fn ahead(&mut self, _next: &QueuedTask) {}

    /// An attempt ended: what it left beside its outcome may change it (a
    /// task's sub-roadmap, see [`super::split`]).
    fn examine(&mut self, _res: &mut AttemptResult, _reporter: &mut dyn Reporter) {}
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

pub async fn run_group(
    key: &GroupKey,
    tasks: Vec<QueuedTask>,
    limits: &GroupLimits,
    factory: &mut dyn JobFactory,
    mut global_stop: watch::Receiver<StopLevel>,
    io: &mut GroupIo<'_, '_>,
) -> GroupRun {
    let mut g = GroupLoop::new(key, tasks, limits, *global_stop.borrow());
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let runner = factory.runner();
    loop {
        let halted = g.halted();
        g.fill(halted, factory, &*runner, &msg_tx, io);
        // The next agent is already running: now the fsyncs of the ones that ended.
        g.record_ended(factory, io);
        if let Some(next) = g
            .queue
            .front()
            .filter(|_| g.running.len() >= limits.max_parallel && !halted)
        {
            factory.ahead(next);
        }
        if g.running.is_empty() && (g.queue.is_empty() || halted || g.budget_stopped) {
            break;
        }
        let pause = g.paused_until;
        tokio::select! {
            biased;
            Some(msg) = msg_rx.recv() => report_msg(msg, key, &g.in_flight, &mut g.started_at, io),
            Some(joined) = g.running.join_next() => {
                let res = match joined {
                    Ok(r) => r,
                    // A panicking attempt is a bug; the group cannot tell which task it was.
                    Err(e) => panic!("task attempt crashed: {e}"),
                };
                // Drain messages the attempt sent before it ended, so events stay in order.
                while let Ok(msg) = msg_rx.try_recv() {
                    report_msg(msg, key, &g.in_flight, &mut g.started_at, io);
                }
                let mut res = res;
                factory.examine(&mut res, io.reporter);
                g.ended(res, io);
            },
            _ = sleep_until_opt(pause), if pause.is_some() => g.pause_over(io),
            changed = global_stop.changed() => {
                if changed.is_ok() {
                    g.stop_with(*global_stop.borrow(), io);
                }
            },
        }
    }
    g.record_ended(factory, io);
    g.finish()
}

/// One group's run as it goes: what waits, runs, ended, and why it stops.
struct GroupLoop<'k, 'l> {
    key: &'k GroupKey,
    limits: &'l GroupLimits,
    order: Vec<String>,
    titles: HashMap<String, String>,
    queue: VecDeque<QueuedTask>,
    running: JoinSet<AttemptResult>,
    // Running attempts: the queued task with its log path and timeout.
    in_flight: InFlight,
    finished: HashMap<String, TaskSummary>,
    attempts: HashMap<String, Attempts>,
    // Attempts that ended, recorded once the freed slot is refilled.
    to_record: Vec<(AttemptResult, chrono::DateTime<Utc>)>,
    started_at: HashMap<String, chrono::DateTime<Utc>>,
    // The group's own stop: raised by fail-fast and auth failure, and by the
    // runner's signals, forwarded by `stop_with`.
    stop_tx: watch::Sender<StopLevel>,
    stop_rx: watch::Receiver<StopLevel>,
    paused_until: Option<Instant>,
    auth_failure: Option<String>,
    failed: bool,
    budget_stopped: bool,
}

impl<'k, 'l> GroupLoop<'k, 'l> {
    fn new(
        key: &'k GroupKey,
        tasks: Vec<QueuedTask>,
        limits: &'l GroupLimits,
        level: StopLevel,
    ) -> Self {
        let (stop_tx, stop_rx) = watch::channel(level);
        GroupLoop {
            key,
            limits,
            order: tasks.iter().map(|t| t.task_id.clone()).collect(),
            titles: tasks
                .iter()
                .map(|t| (t.task_id.clone(), t.title.clone()))
                .collect(),
            queue: crate::plan::order::longest_first(tasks, |t| t.expected).into(),
            running: JoinSet::new(),
            in_flight: HashMap::new(),
            finished: HashMap::new(),
            attempts: HashMap::new(),
            to_record: Vec::new(),
            started_at: HashMap::new(),
            stop_tx,
            stop_rx,
            paused_until: None,
            auth_failure: None,
            failed: false,
            budget_stopped: false,
        }
    }

    /// No new attempt starts: stopping, not logged in, or failed fast.
    fn halted(&self) -> bool {
        let stopping = *self.stop_tx.borrow() > StopLevel::Run;
        stopping || self.auth_failure.is_some() || (self.limits.fail_fast && self.failed)
    }

    /// Starts queued tasks into the free slots.
    fn fill(
        &mut self,
        halted: bool,
        factory: &mut dyn JobFactory,
        runner: &dyn TaskRunner,
        tx: &mpsc::UnboundedSender<AttemptMsg>,
        io: &mut GroupIo<'_, '_>,
    ) {
        while !halted
            && self.paused_until.is_none()
            && self.running.len() < self.limits.max_parallel
        {
            if self.queue.is_empty() {
                break;
            }
            if io.budget.reached() {
                self.budget_stopped = true;
                break;
            }
            let Some(task) = self.queue.pop_front() else {
                break;
            };
            let job = factory.job(&task);
            if let Some(path) = &job.worktree {
                io.reporter.report(&Event::Note {
                    message: format!(
                        "{}: {} works in its own worktree {}",
                        self.key,
                        task.task_id,
                        path.display()
                    ),
                });
            }
            let (log, timeout) = (job.log_path.clone(), job.timeout);
            let attempt = runner.run(&task, job, self.stop_rx.clone(), tx.clone());
            self.in_flight
                .insert(task.task_id.clone(), (task, log, timeout));
            self.running.spawn(attempt);
        }
    }

    fn record_ended(&mut self, factory: &mut dyn JobFactory, io: &mut GroupIo<'_, '_>) {
        for (res, finished) in self.to_record.drain(..) {
            let start = self.started_at.remove(&res.job.task_id);
            record_attempt(self.key, &res, start, finished, io);
            // A split's own work is merged as a success's is: its sub-roadmap builds on it.
            if matches!(
                res.outcome,
                TaskOutcome::Succeeded | TaskOutcome::Split { .. }
            ) {
                factory.succeeded(&res.job.task_id, io);
            }
        }
    }

    /// An attempt ended: reported, summed, and what comes next decided.
    fn ended(&mut self, res: AttemptResult, io: &mut GroupIo<'_, '_>) {
        let key = self.key;
        let (task, _, _) = self
            .in_flight
            .remove(&res.job.task_id)
            .expect("attempt for a queued task");
        self.attempts
            .entry(task.task_id.clone())
            .or_default()
            .add(&res);
        io.budget.spend(res.job.role, res.report.cost_usd);
        io.reporter.report(&Event::TaskFinished {
            key: key.clone(),
            task: task.task_id.clone(),
            title: task.title.clone(),
            attempt: task.attempt,
            outcome: res.outcome.clone(),
            duration: res.duration,
            report: res.report.clone(),
            log: res.job.log_path.clone(),
            tail: if res.outcome.is_success() {
                Vec::new()
            } else {
                res.tail.clone()
            },
        });
        self.next_after(task, &res, io.reporter);
        self.to_record.push((res, Utc::now()));
    }

    /// The task is done with, tried again, or moved on by its outcome.
    fn next_after(&mut self, task: QueuedTask, res: &AttemptResult, reporter: &mut dyn Reporter) {
        let key = self.key;
        match &res.outcome {
            // A split task is done here: its sub-roadmap runs after the group's agents.
            TaskOutcome::Succeeded | TaskOutcome::Interrupted | TaskOutcome::Split { .. } => {
                self.done(task, res)
            }
            TaskOutcome::Failed { .. }
            | TaskOutcome::TimedOut { .. }
            | TaskOutcome::WorkerLost { .. } => {
                let retries = self.limits.retries;
                if task.attempt <= retries && *self.stop_tx.borrow() == StopLevel::Run {
                    reporter.report(&Event::TaskRetry {
                        key: key.clone(),
                        task: task.task_id.clone(),
                        attempt: task.attempt + 1,
                        of: retries + 1,
                    });
                    self.queue.push_back(retry_of(task, res));
                } else {
                    self.failed = true;
                    self.done(task, res);
                    if self.limits.fail_fast {
                        self.raise(StopLevel::Terminate);
                    }
                }
            }
            TaskOutcome::OverBudget { .. } => {
                self.failed = true;
                self.done(task, res);
            }
            TaskOutcome::AuthFailure { message } => {
                self.auth_failure.get_or_insert_with(|| message.clone());
                self.done(task, res);
                self.raise(StopLevel::Terminate);
            }
            TaskOutcome::UsageLimit { .. } if task.profile < self.limits.fallbacks.len() => {
                // A fallback agent takes over at once, in a fresh
                // session (another CLI cannot resume this one's).
                reporter.report(&Event::Note {
                    message: format!(
                        "{key}: {} hit the agent's usage limit: its next attempt runs on {} ([agent] fallback)",
                        task.task_id, self.limits.fallbacks[task.profile]
                    ),
                });
                self.queue.push_front(QueuedTask {
                    resume: None,
                    profile: task.profile + 1,
                    ..task
                });
            }
            TaskOutcome::UsageLimit { resets_at, .. } => {
                if task.limit_hits + 1 >= MAX_LIMIT_HITS {
                    self.failed = true;
                    self.done(task, res);
                } else {
                    self.wait_for_limit(task, *resets_at, res, reporter);
                }
            }
        }
    }

    /// A usage limit: the group pauses until it resets, the task first in line.
    fn wait_for_limit(
        &mut self,
        task: QueuedTask,
        resets_at: Option<DateTime<Utc>>,
        res: &AttemptResult,
        reporter: &mut dyn Reporter,
    ) {
        let wait = limit_wait(resets_at, self.limits.max_wait);
        let until = Instant::now() + wait;
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
        let local_until = Local::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        reporter.report(&Event::UsageLimitWait {
            key: self.key.clone(),
            task: task.task_id.clone(),
            until: local_until,
            resets_at: resets_at.map(|r| r.with_timezone(&Local)),
        });
        let resume = res.report.session_id.clone().or(task.resume.clone());
        self.queue.push_front(QueuedTask {
            resume,
            limit_hits: task.limit_hits + 1,
            ..task
        });
    }

    /// The task's summary, as its latest attempt ended.
    fn done(&mut self, task: QueuedTask, res: &AttemptResult) {
        let entry = &self.attempts[&task.task_id];
        let summary = TaskSummary {
            key: self.key.clone(),
            task: task.task_id.clone(),
            title: task.title,
            outcome: res.outcome.clone(),
            attempts: entry.count,
            duration: entry.duration,
            cost_usd: entry.cost_usd,
            log: Some(res.job.log_path.clone()),
            role: res.job.role,
        };
        self.finished.insert(task.task_id, summary);
    }

    fn raise(&self, level: StopLevel) -> bool {
        self.stop_tx.send_if_modified(|l| raise(l, level))
    }

    fn pause_over(&mut self, io: &mut GroupIo<'_, '_>) {
        self.paused_until = None;
        if let Some(next) = self.queue.front() {
            io.reporter.report(&Event::UsageLimitResume {
                key: self.key.clone(),
                task: next.task_id.clone(),
            });
        }
    }

    /// The runner's signal, passed on to the group's attempts.
    fn stop_with(&mut self, level: StopLevel, io: &mut GroupIo<'_, '_>) {
        if self.raise(level) {
            let reason = match level {
                StopLevel::Kill => "second signal: killing every agent now",
                _ => {
                    "signal received: no new task starts, every running agent gets SIGTERM (SIGKILL after the grace period; a second signal kills at once)"
                }
            };
            io.reporter.report(&Event::Stopping {
                reason: reason.into(),
            });
        }
    }

    /// Every task in roadmap order; those never started (stopped, failed
    /// fast, auth) are listed as such.
    fn finish(mut self) -> GroupRun {
        let (key, attempts) = (self.key, &self.attempts);
        let tasks = self
            .order
            .iter()
            .map(|id| {
                self.finished.remove(id).unwrap_or_else(|| TaskSummary {
                    key: key.clone(),
                    task: id.clone(),
                    title: self.titles.get(id).cloned().unwrap_or_default(),
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
            auth_failure: self.auth_failure,
            budget_stopped: self.budget_stopped,
        }
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
