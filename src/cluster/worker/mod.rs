//! `roadmap-runner worker`: pulls task messages while it has free slots
//! (never more: a message held without a slot would wait out `ack_wait`),
//! runs each in [`task::handle`], heartbeats into the workers' bucket. A
//! slot is free again once its agent's work is committed: the push and the
//! result go on beside the next agent (at most one such per slot).
//!
//! SIGTERM (or SIGINT) drains: no new pull, running attempts finish within
//! the stop grace, a message that arrives meanwhile is given back at once
//! (nak), then the heartbeat is deleted and the worker exits 0. After the
//! grace, or on a second signal, the agents are stopped and their messages
//! given back.

pub mod checkout;
pub mod pushes;
pub mod report;
pub mod task;
pub mod timings;

use super::protocol::{Heartbeat, worker_key};
use super::queues::{HEARTBEAT_EVERY, Queues};
use super::{ClusterError, NatsTarget};
use crate::exec::StopLevel;
use async_nats::jetstream::{AckKind, consumer};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

/// `roadmap-runner worker`'s options.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub target: NatsTarget,
    pub name: String,
    pub max_parallel: usize,
    pub work_dir: PathBuf,
    pub stop_grace: Duration,
    /// `CLAUDE_BIN`: this machine's agent program, instead of the coordinator's.
    pub agent_bin: Option<String>,
    /// Drains like SIGTERM when it turns true (a worker inside another
    /// program: `demo --workers`); signals drain it all the same.
    pub drain: Option<watch::Receiver<bool>>,
    /// Its lines go to the log (tracing) instead of stdout.
    pub quiet: bool,
}

/// What every task handler of the worker shares.
pub struct WorkerCtx {
    pub name: String,
    pub host: String,
    pub slots: usize,
    pub work_dir: PathBuf,
    pub queues: Queues,
    pub client: async_nats::Client,
    /// The consumer's `ack_wait` when the worker started (a coordinator may
    /// change it since: [`WorkerCtx::ack_wait`] asks again).
    pub ack_wait: Duration,
    pub agent_bin: Option<String>,
    quiet: bool,
    /// Moves on every reconnection to the server.
    reconnects: watch::Receiver<u64>,
    started_at: chrono::DateTime<chrono::Utc>,
    /// The attempts in flight here, each with how many of its deliveries.
    running: Mutex<BTreeMap<String, usize>>,
    /// Attempts pushing and publishing after their slot was given up: at
    /// most one per slot (a slow remote holds the slots back, not ever
    /// more messages).
    publishing: Arc<Semaphore>,
    mirrors: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The pushes to each remote.
    pushes: Mutex<HashMap<String, Arc<pushes::Pushes>>>,
}

impl WorkerCtx {
    /// A line on stdout, which a service manager's journal keeps.
    pub fn say(&self, text: &str) {
        if self.quiet {
            tracing::info!(worker = %self.name, "{text}");
            return;
        }
        println!(
            "{} {}: {text}",
            chrono::Local::now().format("%H:%M:%S"),
            self.name
        );
    }

    /// A delivery of the attempt `label` starts here: how many of its
    /// deliveries were in flight here already (0 for the first).
    fn running_add(&self, label: &str) -> usize {
        let mut running = self.running.lock().expect("running");
        let n = running.entry(label.into()).or_default();
        *n += 1;
        *n - 1
    }

    fn running_remove(&self, label: &str) {
        let mut running = self.running.lock().expect("running");
        if let Some(n) = running.get_mut(label) {
            *n -= 1;
            if *n == 0 {
                running.remove(label);
            }
        }
    }

    /// A place among the attempts publishing (see [`WorkerCtx::publishing`]).
    async fn publishing(&self) -> Option<OwnedSemaphorePermit> {
        self.publishing.clone().acquire_owned().await.ok()
    }

    /// One git operation at a time on a mirror (fetch, worktree add, push).
    async fn mirror_lock(&self, remote: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .mirrors
            .lock()
            .expect("mirrors")
            .entry(remote.to_string())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    /// The pushes to `remote`.
    fn pushes(&self, remote: &str) -> Arc<pushes::Pushes> {
        self.pushes
            .lock()
            .expect("pushes")
            .entry(remote.to_string())
            .or_default()
            .clone()
    }

    /// The workers' consumer's `ack_wait` now.
    async fn ack_wait(&self) -> Duration {
        self.queues
            .tasks
            .consumer_info(super::protocol::WORKERS_CONSUMER)
            .await
            .map(|i| i.config.ack_wait)
            .unwrap_or(self.ack_wait)
    }

    /// The agent program on this machine's PATH.
    fn resolve_program(&self, program: &std::ffi::OsStr) -> Option<OsString> {
        which::which(program).ok().map(PathBuf::into_os_string)
    }

    fn heartbeat(&self) -> Heartbeat {
        Heartbeat {
            name: self.name.clone(),
            host: self.host.clone(),
            pid: std::process::id(),
            slots: self.slots,
            running: self
                .running
                .lock()
                .expect("running")
                .keys()
                .cloned()
                .collect(),
            started_at: self.started_at,
            at: chrono::Utc::now(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Runs the worker until it is stopped; the process exit code.
pub async fn run(opts: WorkerOptions) -> Result<i32, ClusterError> {
    let (client, reconnects) = opts
        .target
        .connect_watched(&format!("roadmap-runner worker {}", opts.name))
        .await?;
    let queues = Queues::open(client.clone(), opts.target.shown()).await?;
    let mut consumer = queues.worker_consumer().await?;
    let ack_wait = consumer
        .info()
        .await
        .map(|i| i.config.ack_wait)
        .unwrap_or(Duration::from_secs(30));
    let ctx = Arc::new(WorkerCtx {
        name: opts.name.clone(),
        host: super::host_name(),
        slots: opts.max_parallel.max(1),
        work_dir: opts.work_dir.clone(),
        queues,
        client,
        ack_wait,
        agent_bin: opts.agent_bin.clone(),
        quiet: opts.quiet,
        reconnects,
        started_at: chrono::Utc::now(),
        running: Mutex::new(BTreeMap::new()),
        publishing: Arc::new(Semaphore::new(opts.max_parallel.max(1))),
        mirrors: Mutex::new(HashMap::new()),
        pushes: Mutex::new(HashMap::new()),
    });
    ctx.say(&format!(
        "worker on {} with {} slots, NATS {}, work dir {}",
        ctx.host,
        ctx.slots,
        opts.target.shown(),
        opts.work_dir.display()
    ));
    let beat = tokio::spawn(heartbeats(ctx.clone()));
    let code = serve(ctx.clone(), consumer, opts.stop_grace, opts.drain).await;
    beat.abort();
    let _ = ctx.queues.workers.delete(worker_key(&ctx.name)).await;
    let _ = ctx.client.flush().await;
    ctx.say("stopped");
    Ok(code)
}

async fn heartbeats(ctx: Arc<WorkerCtx>) {
    let key = worker_key(&ctx.name);
    loop {
        let hb = serde_json::to_vec(&ctx.heartbeat()).expect("a heartbeat serialises");
        if let Err(e) = ctx.queues.workers.put(key.as_str(), hb.into()).await {
            tracing::debug!(error = %e, "cannot heartbeat");
        }
        tokio::time::sleep(HEARTBEAT_EVERY).await;
    }
}

/// Pulls and handles messages until a signal drains the worker.
async fn serve(
    ctx: Arc<WorkerCtx>,
    consumer: consumer::PullConsumer,
    grace: Duration,
    mut asked: Option<watch::Receiver<bool>>,
) -> i32 {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return crate::exit::PREFLIGHT_FAILED;
    };
    let slots = Arc::new(Semaphore::new(ctx.slots));
    let (drain_tx, drain_rx) = watch::channel(false);
    let (stop_tx, stop_rx) = watch::channel(StopLevel::Run);
    let (msg_tx, mut msg_rx) = mpsc::channel(ctx.slots);
    tokio::spawn(pull(
        consumer,
        slots.clone(),
        msg_tx,
        drain_rx,
        ctx.reconnects.clone(),
    ));
    let mut tasks = JoinSet::new();
    let mut draining = false;
    let mut pulling = true;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        if draining && tasks.is_empty() && !pulling {
            return crate::exit::OK;
        }
        tokio::select! {
            got = msg_rx.recv() => match got {
                Some((msg, permit, asked_at)) if !draining => {
                    let (c, s) = (ctx.clone(), stop_rx.clone());
                    tasks.spawn(task::handle(c, msg, s, permit, timings::Marks::new(asked_at)));
                }
                Some((msg, _, _)) => {
                    let _ = msg.ack_with(AckKind::Nak(None)).await;
                }
                None => pulling = false,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = async {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                    _ = drain_asked(&mut asked) => {},
                }
            } => {
                if draining {
                    ctx.say("second signal: stopping the agents now; their tasks go back to the queue");
                    stop_tx.send_replace(StopLevel::Kill);
                } else {
                    draining = true;
                    drain_tx.send_replace(true);
                    deadline = Some(tokio::time::Instant::now() + grace);
                    ctx.say(&format!(
                        "stopping: no new task; {} running finish (up to {})",
                        tasks.len(),
                        humantime::format_duration(grace)
                    ));
                }
            }
            _ = sleep_until(deadline), if deadline.is_some() => {
                deadline = None;
                ctx.say("stop grace is over: stopping the agents; their tasks go back to the queue");
                stop_tx.send_replace(StopLevel::Terminate);
            }
        }
    }
}

/// Resolves when the owner asks the worker to drain (never without one).
async fn drain_asked(asked: &mut Option<watch::Receiver<bool>>) {
    match asked {
        Some(rx) => {
            if rx.wait_for(|d| *d).await.is_err() {
                std::future::pending::<()>().await;
            }
            // Asked once: the next signal is a second one.
            *asked = None;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Asks for as many messages as there are free slots, each sent on with
/// its slot; stops asking once draining (what arrives after is naked by
/// the caller). A reconnection ends the pending request at once: a
/// restarted server knows nothing of it, and the client would wait out
/// its expiry and 5 s more before asking again.
async fn pull(
    consumer: consumer::PullConsumer,
    slots: Arc<Semaphore>,
    tx: mpsc::Sender<(
        async_nats::jetstream::Message,
        OwnedSemaphorePermit,
        SystemTime,
    )>,
    mut drain: watch::Receiver<bool>,
    mut reconnects: watch::Receiver<u64>,
) {
    loop {
        if *drain.borrow() {
            return;
        }
        let first = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = drain.changed() => return,
        };
        let asked = SystemTime::now();
        let want = 1 + slots.available_permits();
        let batch = consumer
            .batch()
            .max_messages(want)
            .expires(Duration::from_secs(2))
            .messages()
            .await;
        let mut batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(error = %e, "cannot pull (server away?)");
                drop(first);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut first = Some(first);
        reconnects.borrow_and_update();
        while let Some(item) = tokio::select! {
            item = batch.next() => item,
            _ = reconnects.changed() => None,
        } {
            let msg = match item {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(error = %e, "pull ended");
                    break;
                }
            };
            let permit = first
                .take()
                .or_else(|| slots.clone().try_acquire_owned().ok());
            match permit {
                Some(p) => {
                    if tx.send((msg, p, asked)).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = msg.ack_with(AckKind::Nak(None)).await;
                }
            }
        }
    }
}
