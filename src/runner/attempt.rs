//! One attempt at one task: spawn the agent, stream its output to the log and
//! the observer, classify how it ended.

use crate::agent::classify::classify;
use crate::agent::command::AgentInvocation;
use crate::agent::stream_json::StreamObserver;
use crate::agent::{AgentReport, TaskOutcome};
use crate::config::{CommandSpec, OutputFormat};
use crate::exec::{
    ExecError, ExitStatusKind, OutputStream, ProcessEvent, ProcessSpec, StdinSource, StopLevel,
    run_process,
};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

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

/// Everything an attempt needs, owned, so it can run on its own task.
#[derive(Debug, Clone)]
pub struct AttemptJob {
    pub task_id: String,
    pub attempt: u32,
    pub invocation: AgentInvocation,
    pub cwd: PathBuf,
    pub log_path: PathBuf,
    pub timeout: Duration,
    pub grace: Duration,
    pub output: OutputFormat,
    /// Who the agent works for (a task, a repair, a review).
    pub role: super::budget::Role,
    /// A repair: the fingerprint of the failure it was given.
    pub fingerprint: Option<String>,
    /// With `--isolation worktree`: what runs in the worktree before the agent.
    pub setup: Option<Setup>,
    /// With `--isolation worktree`: the worktree the attempt runs in.
    pub worktree: Option<PathBuf>,
}

/// `[worktree] setup` commands, run in the attempt's cwd before its agent
/// starts, through the same process control. A failure ends the attempt as
/// failed with a reason starting `setup failed:`, never as an agent failure.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub commands: Vec<CommandSpec>,
    pub env: Vec<(OsString, OsString)>,
    /// Their output, beside the agent's log.
    pub log_path: PathBuf,
    /// The worktree could not be made: the attempt fails with this.
    pub error: Option<String>,
}

/// The reason of a setup failure, as `TaskOutcome::Failed` carries it.
pub const SETUP_FAILED: &str = "setup failed";

/// What a running attempt tells the group loop.
#[derive(Debug)]
pub enum AttemptMsg {
    Started {
        task_id: String,
        pid: u32,
    },
    Activity {
        task_id: String,
        text: String,
    },
    /// A setup command spawned: named in the in-progress file (so a run
    /// killed meanwhile kills it), with no event.
    SetupStarted {
        task_id: String,
        pid: u32,
    },
    /// Run elsewhere: something the user must hear (no worker is live).
    Warning {
        message: String,
    },
    /// Run elsewhere: a worker took the attempt (again on a redelivery).
    Claimed {
        task_id: String,
        worker: String,
        delivery: u64,
    },
}

#[derive(Debug)]
pub struct AttemptResult {
    pub job: AttemptJob,
    pub outcome: TaskOutcome,
    pub report: AgentReport,
    pub duration: Duration,
    pub tail: Vec<String>,
    /// Run elsewhere (see [`super::executor`]): by whom, and the branch it pushed.
    pub remote: Option<Ran>,
}

/// What the worker that ran an attempt left: for the record and the merge.
#[derive(Debug, Clone, PartialEq)]
pub struct Ran {
    pub worker: String,
    pub branch: Option<String>,
    pub commit: Option<String>,
}

/// How long a grandchild may hold the output pipes after the agent exited.
const LEAK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn run_attempt(
    job: AttemptJob,
    stop: watch::Receiver<StopLevel>,
    tx: mpsc::UnboundedSender<AttemptMsg>,
) -> AttemptResult {
    let started = Instant::now();
    if let Some(setup) = &job.setup
        && let Err(reason) = run_setup(setup, &job, stop.clone(), &tx).await
    {
        tracing::error!(task = %job.task_id, %reason, "setup failed");
        return failed(job, started, format!("{SETUP_FAILED}: {reason}"));
    }
    tracing::info!(
        task = %job.task_id,
        attempt = job.attempt,
        log = %job.log_path.display(),
        command = %crate::agent::display_command(&job.invocation),
        "starting agent"
    );
    let spec = job.invocation.clone().into_spec(
        job.cwd.clone(),
        Some(job.log_path.clone()),
        Some(job.timeout),
        job.grace,
        LEAK_TIMEOUT,
    );
    let mut relay = Relay {
        observer: StreamObserver::for_output(job.output),
        last_activity: None,
        task_id: job.task_id.clone(),
        tx: &tx,
    };
    let result = run_process(spec, stop, &mut |event| relay.event(event)).await;
    let observer = relay.observer;
    match result {
        Ok(proc) => {
            let (outcome, report) = classify(&proc, &observer, job.output, job.timeout);
            tracing::info!(
                task = %job.task_id,
                pid = proc.pid,
                status = ?proc.status,
                timed_out = proc.timed_out,
                leaked = proc.leaked,
                outcome = outcome.label(),
                "agent ended"
            );
            AttemptResult {
                tail: proc.tail.clone(),
                duration: proc.duration,
                job,
                outcome,
                report,
                remote: None,
            }
        }
        Err(e) => {
            tracing::error!(task = %job.task_id, error = %e, "agent could not run");
            let reason = match &e {
                ExecError::Spawn { .. } => e.to_string(),
                _ => format!("runner error: {e}"),
            };
            failed(job, started, reason)
        }
    }
}

/// An attempt that failed before its agent could end on its own.
fn failed(job: AttemptJob, started: Instant, reason: String) -> AttemptResult {
    AttemptResult {
        outcome: TaskOutcome::Failed {
            exit_code: None,
            signal: None,
            reason,
        },
        report: AgentReport::default(),
        duration: started.elapsed(),
        tail: Vec::new(),
        remote: None,
        job,
    }
}

/// The agent's process events as the group loop hears them: its start, and
/// its activity each time the output says it changed.
struct Relay<'t> {
    observer: StreamObserver,
    last_activity: Option<String>,
    task_id: String,
    tx: &'t mpsc::UnboundedSender<AttemptMsg>,
}

impl Relay<'_> {
    fn event(&mut self, event: ProcessEvent<'_>) {
        match event {
            ProcessEvent::Started { pid } => {
                let _ = self.tx.send(AttemptMsg::Started {
                    task_id: self.task_id.clone(),
                    pid,
                });
            }
            ProcessEvent::Line(OutputStream::Stdout, line) => {
                self.observer.observe(line);
                if self.observer.last_activity() != self.last_activity.as_deref() {
                    self.last_activity = self.observer.last_activity().map(str::to_string);
                    if let Some(text) = &self.last_activity {
                        let _ = self.tx.send(AttemptMsg::Activity {
                            task_id: self.task_id.clone(),
                            text: text.clone(),
                        });
                    }
                }
            }
            ProcessEvent::Line(OutputStream::Stderr, line) => self.observer.observe_stderr(line),
        }
    }
}

/// Runs the setup commands in order; the first failure says what and why.
async fn run_setup(
    setup: &Setup,
    job: &AttemptJob,
    stop: watch::Receiver<StopLevel>,
    tx: &mpsc::UnboundedSender<AttemptMsg>,
) -> Result<(), String> {
    if let Some(e) = &setup.error {
        return Err(e.clone());
    }
    for cmd in &setup.commands {
        let mut argv = cmd.argv().into_iter().map(OsString::from);
        let spec = ProcessSpec {
            program: argv.next().unwrap_or_default(),
            args: argv.collect(),
            env: setup.env.clone(),
            cwd: job.cwd.clone(),
            stdin: StdinSource::Null,
            log_path: Some(setup.log_path.clone()),
            timeout: Some(job.timeout),
            grace: job.grace,
            leak_timeout: LEAK_TIMEOUT,
        };
        let shown = cmd.display();
        let log = setup.log_path.display();
        let proc = run_process(spec, stop.clone(), &mut |event| {
            if let ProcessEvent::Started { pid } = event {
                let _ = tx.send(AttemptMsg::SetupStarted {
                    task_id: job.task_id.clone(),
                    pid,
                });
            }
        })
        .await
        .map_err(|e| format!("`{shown}`: {e}"))?;
        let how = match proc.status {
            _ if proc.timed_out => "timed out".to_string(),
            _ if proc.stopped.is_some() => "was stopped".to_string(),
            ExitStatusKind::Code(0) => continue,
            ExitStatusKind::Code(c) => format!("exited with {c}"),
            ExitStatusKind::Signal(s) => format!("was killed by signal {s}"),
        };
        let last = proc
            .tail
            .last()
            .map(|l| format!(": {l}"))
            .unwrap_or_default();
        return Err(format!("`{shown}` {how} (output in {log}){last}"));
    }
    Ok(())
}
