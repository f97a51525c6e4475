//! One task message on a worker: claim it, keep it alive with `AckProgress`,
//! check out the base, run the agent through the same attempt code as a
//! local run (setup, timeouts, process groups, classification, usage-limit
//! waits); then [`super::report`] pushes the branch, stores the log,
//! publishes the result and acks.
//!
//! The order makes every crash safe: the result is published before the
//! ack, so a worker killed between the two leaves a message that the next
//! worker finds done (result and branch exist) and acks without running
//! anything. A worker killed earlier simply stops acking, and the message
//! is redelivered after `ack_wait`.

use super::checkout;
use super::timings::Marks;
use super::{WorkerCtx, report};
use crate::agent::TaskOutcome;
use crate::agent::command::{TaskEnv, build_invocation};
use crate::cluster::protocol::{self, ClaimMsg, TaskMsg};
use crate::config::{AgentSettings, CommandSpec};
use crate::exec::StopLevel;
use crate::roadmap::PhaseId;
use crate::runner::attempt::{AttemptJob, AttemptMsg, AttemptResult, Setup, run_attempt};
use crate::runner::group::limit_wait;
use crate::status::counts::Role;
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Usage limits in a row on one attempt before it is given up.
const MAX_LIMIT_HITS: u32 = 10;

pub async fn handle(
    ctx: Arc<WorkerCtx>,
    msg: jetstream::Message,
    worker_stop: watch::Receiver<StopLevel>,
    slot: tokio::sync::OwnedSemaphorePermit,
    mut marks: Marks,
) {
    marks.mark("received");
    let delivery = msg.info().map(|i| i.delivered.max(1) as u64).unwrap_or(1);
    let (message, acker) = msg.split();
    let acker = Arc::new(acker);
    let task: TaskMsg = match serde_json::from_slice(&message.payload) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(subject = %message.subject, error = %e, "a task message that cannot be read: dropped");
            let _ = acker.ack_with(AckKind::Term).await;
            return;
        }
    };
    if task.v != protocol::VERSION {
        ctx.say(&format!(
            "{}: protocol version {} (this worker speaks {}): left for another worker",
            task.key.name,
            task.v,
            protocol::VERSION
        ));
        let _ = acker
            .ack_with(AckKind::Nak(Some(Duration::from_secs(5))))
            .await;
        return;
    }
    if let Some(what) = report::already_done(&ctx, &task).await {
        ctx.say(&format!(
            "{} attempt {}: {what}: nothing to run",
            task.key.name, task.key.attempt
        ));
        let _ = acker.double_ack().await;
        return;
    }
    let label = format!("{}/{}#{}", task.key.run, task.key.name, task.key.attempt);
    // A second delivery of an attempt still in flight here (a server that
    // forgot a delivery; the first one's slot is free once it committed)
    // gets a worktree and log of its own.
    let copy = ctx.running_add(&label);
    claim(&ctx, &task, delivery).await;
    ctx.say(&format!(
        "took {} ({}: {}), attempt {}, delivery {delivery}",
        task.key.name, task.task, task.title, task.key.attempt
    ));
    let progress = tokio::spawn(keep_alive(acker.clone(), ctx.ack_wait().await));
    let (task_stop, cancelled) = task_stop(&ctx, &task, worker_stop.clone()).await;
    let log = log_path(&ctx, &task, copy);
    let live = crate::cluster::live_log::Tail::start(
        ctx.client.clone(),
        &task.key,
        format!("worker {} (delivery {delivery})", ctx.name),
        vec![log.with_extension("setup.log"), log],
    );
    marks.mark("claimed");
    let mut ran = run(&ctx, &task, copy, task_stop, marks).await;
    ran.slot = Some(slot);
    live.finish().await;
    ran.marks.mark("log_streamed");
    report::finish(&ctx, &task, ran, &acker, &worker_stop, &cancelled).await;
    progress.abort();
    ctx.running_remove(&label);
}

async fn claim(ctx: &WorkerCtx, task: &TaskMsg, delivery: u64) {
    let claim = ClaimMsg {
        worker: ctx.name.clone(),
        host: ctx.host.clone(),
        delivery,
        at: chrono::Utc::now(),
    };
    let payload = serde_json::to_vec(&claim).expect("a claim serialises");
    let sent = ctx
        .queues
        .js
        .publish(task.key.claim_subject(), payload.into())
        .await;
    if let Ok(ack) = sent
        && ack.await.is_ok()
    {
        return;
    }
    tracing::warn!(task = %task.key.name, "cannot publish the claim (the coordinator shows the task as queued)");
}

/// `AckProgress` at a third of `ack_wait` (at least every 10 s), while the
/// attempt runs.
async fn keep_alive(acker: Arc<jetstream::message::Acker>, ack_wait: Duration) {
    let every = (ack_wait / 3).clamp(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = acker.ack_with(AckKind::Progress).await {
            tracing::debug!(error = %e, "cannot send AckProgress");
        }
    }
}

/// The attempt's own stop: the worker's, raised by a cancel from the
/// coordinator too. The second value tells whether the coordinator cancelled.
async fn task_stop(
    ctx: &WorkerCtx,
    task: &TaskMsg,
    mut worker_stop: watch::Receiver<StopLevel>,
) -> (
    watch::Receiver<StopLevel>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let (tx, rx) = watch::channel(*worker_stop.borrow());
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut cancel = ctx.client.subscribe(task.key.cancel_subject()).await.ok();
    let flag = cancelled.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = worker_stop.changed() => {
                    if changed.is_err() { return; }
                    let level = *worker_stop.borrow();
                    tx.send_if_modified(|l| { let up = level > *l; if up { *l = level; } up });
                }
                Some(_) = async { match &mut cancel { Some(s) => s.next().await, None => std::future::pending().await } } => {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    tx.send_if_modified(|l| { let up = *l < StopLevel::Terminate; if up { *l = StopLevel::Terminate; } up });
                }
                _ = tx.closed() => return,
            }
        }
    });
    (rx, cancelled)
}

async fn run(
    ctx: &Arc<WorkerCtx>,
    task: &TaskMsg,
    copy: usize,
    stop: watch::Receiver<StopLevel>,
    mut marks: Marks,
) -> report::Ran {
    let started_at = chrono::Utc::now();
    let clock = std::time::Instant::now();
    let made = {
        // One fetch, `worktree add` or removal at a time (they make and
        // delete refs); commits and pushes run side by side.
        let _lock = ctx.mirror_lock(&task.remote).await;
        let (dir, t) = (ctx.work_dir.clone(), task.clone());
        tokio::task::spawn_blocking(move || checkout::prepare(&dir, &t, copy))
            .await
            .unwrap_or_else(|e| Err(format!("checkout crashed: {e}")))
    };
    tracing::debug!(task = %task.key.name, ms = clock.elapsed().as_millis() as u64, "checkout");
    marks.mark("checked_out");
    let (checkout, error) = match made {
        Ok(co) => (Some(co), None),
        Err(e) => {
            ctx.say(&format!("{}: {e}", task.key.name));
            (None, Some(e))
        }
    };
    let mut job = job(ctx, task, copy, checkout.as_ref());
    if let (Some(s), Some(e)) = (&mut job.setup, error) {
        s.error = Some(e);
    }
    let res = run_agent(ctx, task, job, stop).await;
    marks.mark("agent_returned");
    report::Ran {
        res,
        checkout,
        started_at,
        marks,
        slot: None,
    }
}

/// The agent, waiting out usage limits in its own session as a local run does.
async fn run_agent(
    ctx: &Arc<WorkerCtx>,
    task: &TaskMsg,
    mut job: AttemptJob,
    stop: watch::Receiver<StopLevel>,
) -> AttemptResult {
    let mut hits = 0;
    loop {
        let (tx, rx) = mpsc::unbounded_channel();
        let forward = tokio::spawn(forward_activity(
            ctx.clone(),
            task.key.activity_subject(),
            rx,
        ));
        let res = run_attempt(job.clone(), stop.clone(), tx).await;
        forward.abort();
        let TaskOutcome::UsageLimit { resets_at, .. } = &res.outcome else {
            return res;
        };
        hits += 1;
        let session = res.report.session_id.clone();
        if hits >= MAX_LIMIT_HITS || session.is_none() || *stop.borrow() > StopLevel::Run {
            return res;
        }
        let wait = limit_wait(*resets_at, Duration::from_secs(6 * 3600));
        ctx.say(&format!(
            "{}: usage limit: waiting {}s, then resuming its session",
            task.key.name,
            wait.as_secs()
        ));
        let mut s = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = s.changed() => return res,
        }
        let cwd = job.worktree.as_ref().map(|_| job.cwd.as_path());
        let split = split_target(task, cwd);
        job.invocation = invocation(ctx, task, session.as_deref(), &job.log_path, split);
        job.setup = None;
    }
}

async fn forward_activity(
    ctx: Arc<WorkerCtx>,
    subject: String,
    mut rx: mpsc::UnboundedReceiver<AttemptMsg>,
) {
    while let Some(m) = rx.recv().await {
        if let AttemptMsg::Activity { text, .. } = m {
            let _ = ctx.client.publish(subject.clone(), text.into()).await;
        }
    }
}

/// Where the worker keeps the attempt's agent log (its setup's beside it).
fn log_path(ctx: &WorkerCtx, task: &TaskMsg, copy: usize) -> PathBuf {
    ctx.work_dir.join("logs").join(&task.key.run).join(format!(
        "{}-{}{}.log",
        task.key.name,
        task.key.attempt,
        checkout::copy_suffix(copy)
    ))
}

/// The attempt's job, as a local run builds it, in the checkout when it
/// could be made.
fn job(
    ctx: &WorkerCtx,
    task: &TaskMsg,
    copy: usize,
    checkout: Option<&checkout::Checkout>,
) -> AttemptJob {
    let log_path = log_path(ctx, task, copy);
    if let Some(d) = log_path.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    let split = split_target(task, checkout.map(|co| co.cwd.as_path()));
    if let Some(dir) = split.as_deref().and_then(Path::parent) {
        let _ = std::fs::create_dir_all(dir);
    }
    let invocation = invocation(ctx, task, None, &log_path, split);
    AttemptJob {
        task_id: task.task.clone(),
        attempt: task.key.attempt,
        setup: Some(Setup {
            commands: task.setup.iter().cloned().map(CommandSpec::Argv).collect(),
            env: invocation.env.clone(),
            log_path: log_path.with_extension("setup.log"),
            error: None,
        }),
        invocation,
        cwd: checkout.map_or_else(|| ctx.work_dir.clone(), |co| co.cwd.clone()),
        log_path,
        timeout: Duration::from_secs(task.timeout_secs.max(1)),
        grace: Duration::from_secs(task.grace_secs),
        output: task.agent.output,
        role: Role::Task,
        fingerprint: None,
        worktree: checkout.map(|co| co.path.clone()),
    }
}

/// What `ROADMAP_RUNNER_SPLIT_FILE` names when the task may split: its
/// split file in the checkout's project directory `cwd` (absolute, as on
/// the coordinator). None without a checkout.
fn split_target(task: &TaskMsg, cwd: Option<&Path>) -> Option<PathBuf> {
    let rel = task.split_file.as_deref().filter(|_| task.may_split)?;
    Some(cwd?.join(rel))
}

fn invocation(
    ctx: &WorkerCtx,
    task: &TaskMsg,
    resume: Option<&str>,
    log_path: &Path,
    split_file: Option<PathBuf>,
) -> crate::agent::command::AgentInvocation {
    let a = &task.agent;
    let mut command = a.command.clone();
    // The worker's own agent binary wins: the coordinator's path means nothing here.
    if let (Some(bin), Some(first)) = (&ctx.agent_bin, command.first_mut()) {
        *first = bin.clone();
    }
    let settings = AgentSettings {
        command,
        extra_args: a.extra_args.clone(),
        env: a.env.clone(),
        prompt_template: None,
        output: a.output,
        resume_args: a.resume_args.clone(),
        max_budget_usd: a.max_budget_usd,
    };
    let env = TaskEnv {
        phase: PhaseId::parse(&task.phase).unwrap_or_else(|| PhaseId::from(0)),
        group: task.group.clone(),
        task_id: task.task.clone(),
        task_title: task.title.clone(),
        log_file: log_path.to_path_buf(),
        split_file,
    };
    let mut inv = build_invocation(&settings, &task.prompt, resume, &env);
    if let Some(program) = ctx.resolve_program(&inv.program) {
        inv.program = program;
    }
    inv
}
