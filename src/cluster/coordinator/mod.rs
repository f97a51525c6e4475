//! The coordinator's side: `run --nats` sends each task attempt to the
//! workers instead of spawning its agent. [`ClusterExecutor`] is the run's
//! executor (see `crate::runner::executor`): each group's [`RemoteGroup`]
//! runs its attempts with [`attempt::run_remote`], which end with an
//! ordinary `AttemptResult`; the task's branch is fetched and merged like a
//! worktree's (see `crate::runner::isolation`).

pub mod attempt;
pub mod cleanup;
mod executor;
pub mod group;
pub mod turnstile;
pub mod watch;

pub use executor::ClusterExecutor;
pub use group::RemoteGroup;

use super::protocol::{AttemptKey, TaskMsg};
use super::queues::{Queues, Redelivery, last_on};
use super::{ClusterError, NatsTarget};
use crate::config::GitSettings;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use turnstile::Turn;
use watch::Watch;

/// One connection to the cluster for the whole run.
pub struct Dispatcher {
    pub queues: Queues,
    pub client: async_nats::Client,
    pub redelivery: Redelivery,
    /// One watch per run id, made on first use.
    watches: Mutex<HashMap<String, Arc<Watch>>>,
    lost: Arc<Watch>,
    /// Moves on every reconnection to the server.
    reconnects: tokio::sync::watch::Receiver<u64>,
    /// When the client last (re)connected.
    connected_at: Arc<Mutex<Instant>>,
    /// Whether any worker is live while attempts wait (see [`super::idle`]).
    pub idle: Arc<super::idle::Idle>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("url", &self.queues.url)
            .finish()
    }
}

/// An attempt to run on a worker: the message, where to send it, and the
/// remote its branch must be on.
#[derive(Debug, Clone)]
pub struct RemoteTask {
    pub dispatcher: Arc<Dispatcher>,
    pub msg: TaskMsg,
    pub origin: Arc<Origin>,
    /// Its place in the group's publish order.
    pub turn: Arc<Turn>,
    /// Where a sub-roadmap the worker sends back is written, for the
    /// runner to examine as a local one (a task's attempt only).
    pub split_file: Option<PathBuf>,
}

/// The project's remote as the coordinator reaches it (with its
/// credentials): where a result's branch is looked up before it is taken.
#[derive(Clone)]
pub struct Origin {
    pub git_dir: PathBuf,
    pub url: String,
    pub git: GitSettings,
    /// Results' branches fetched in batches (see [`crate::cluster::batch`]).
    pub fetches: Arc<Fetches>,
}

/// Branches to fetch, each to its tip here (if the remote has it).
pub type Fetches = crate::cluster::batch::Batcher<String, Result<Option<String>, String>>;

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("url", &crate::userinfo::without_userinfo(&self.url))
            .finish()
    }
}

impl Origin {
    /// The worker's `branch` fetched here, where its merge finds it, and
    /// the commit it holds now if the remote has it: one connection to the
    /// remote per result (a look-up then a fetch took two), and one for all
    /// the results that waited while another fetch was under way.
    pub async fn fetch_tip(&self, branch: &str) -> Result<Option<String>, String> {
        let (dir, url, git) = (self.git_dir.clone(), self.url.clone(), self.git.clone());
        self.fetches
            .run(branch.to_string(), move |branches| {
                fetch_tips(&dir, &url, &git, &branches)
            })
            .await
            .unwrap_or_else(|| Err("the fetch crashed".to_string()))
    }
}

/// One fetch of `branches`; each one's tip here after it.
fn fetch_tips(
    dir: &Path,
    url: &str,
    settings: &GitSettings,
    branches: &[String],
) -> Vec<Result<Option<String>, String>> {
    let fetched = git2::Repository::open(dir)
        .map_err(|e| e.to_string())
        .and_then(|git| {
            let specs: Vec<String> = branches
                .iter()
                .map(|b| crate::runner::merging::branch_refspec(b))
                .collect();
            crate::vcs::transfer::fetch_refspecs(&git, url, &specs, settings)
                .map_err(|e| e.to_string())?;
            Ok(git)
        });
    tracing::debug!(branches = branches.len(), "fetch");
    branches
        .iter()
        .map(|b| match &fetched {
            Ok(git) => tip_here(git, b),
            Err(e) => Err(e.clone()),
        })
        .collect()
}

/// What the fetched `branch` holds here. A branch missing from the remote
/// fetches nothing, and its ref here is missing too (the commit is in the
/// branch's name, so a ref left by an earlier fetch holds that same commit).
fn tip_here(git: &git2::Repository, branch: &str) -> Result<Option<String>, String> {
    match git.refname_to_id(&format!("refs/{branch}")) {
        Ok(id) => Ok(Some(id.to_string())),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

impl Dispatcher {
    /// Connects and makes the streams, the buckets and the workers'
    /// consumer with these redelivery settings.
    pub async fn connect(
        target: &NatsTarget,
        redelivery: Redelivery,
        no_workers: super::idle::NoWorkers,
    ) -> Result<Arc<Dispatcher>, ClusterError> {
        let (client, reconnects) = target.connect_watched("roadmap-runner coordinator").await?;
        let queues = Queues::open(client.clone(), target.shown()).await?;
        queues.configure_consumer(redelivery).await?;
        let lost = Watch::new();
        watch::follow_lost(queues.lost.clone(), lost.clone(), reconnects.clone());
        let connected_at = Arc::new(Mutex::new(Instant::now()));
        tokio::spawn(note_reconnects(reconnects.clone(), connected_at.clone()));
        let idle = super::idle::Idle::new(no_workers, target.shown());
        super::idle::watch(&idle, queues.workers.clone(), connected_at.clone());
        Ok(Arc::new(Dispatcher {
            queues,
            client,
            redelivery,
            watches: Mutex::new(HashMap::new()),
            lost,
            reconnects,
            connected_at,
            idle,
        }))
    }

    /// The claims and results of `run`, followed from the stream's start.
    pub fn watch(&self, run: &str) -> Arc<Watch> {
        let mut watches = self.watches.lock().expect("watches lock");
        watches
            .entry(run.to_string())
            .or_insert_with(|| {
                let w = Watch::new();
                watch::follow_results(
                    self.queues.results.clone(),
                    self.queues.run_filters(run),
                    w.clone(),
                    self.reconnects.clone(),
                );
                w
            })
            .clone()
    }

    /// The advisories of task messages that ran out of deliveries.
    pub fn lost(&self) -> Arc<Watch> {
        self.lost.clone()
    }

    /// Queues the attempt unless its message is queued already; the task
    /// message's stream sequence. The `Nats-Msg-Id` makes a second publish
    /// of the same attempt (a coordinator restarted within the duplicate
    /// window) a no-op.
    ///
    /// It publishes in its `turn` (see [`turnstile`]): once the message is
    /// on the connection, which keeps its order, the next turn may go while
    /// this one waits for its ack.
    pub async fn dispatch(&self, msg: &TaskMsg, turn: &Turn) -> Result<u64, ClusterError> {
        let subject = msg.key.task_subject();
        if let Some(m) = last_on(&self.queues.tasks, &subject, "the task queue").await? {
            return Ok(m.sequence);
        }
        let payload = serde_json::to_vec(msg).expect("a task message serialises");
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg.key.task_msg_id().as_str());
        turn.wait().await;
        let sent = self
            .queues
            .js
            .publish_with_headers(subject, headers, payload.into())
            .await;
        turn.pass();
        let ack = sent
            .map_err(|e| ClusterError::nats("cannot publish the task", e))?
            .await
            .map_err(|e| ClusterError::nats("the server did not store the task", e))?;
        Ok(ack.sequence)
    }

    /// The attempt out again as a new message (its own `Nats-Msg-Id`, or
    /// the server would drop it as a duplicate), then the old one deleted,
    /// so the server never hands that out again. The new message's sequence.
    pub async fn requeue(&self, msg: &TaskMsg, old: Option<u64>) -> Result<u64, ClusterError> {
        let payload = serde_json::to_vec(msg).expect("a task message serialises");
        let mut headers = async_nats::HeaderMap::new();
        let id = format!(
            "{}-again-{}",
            msg.key.task_msg_id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        headers.insert("Nats-Msg-Id", id.as_str());
        let ack = self
            .queues
            .js
            .publish_with_headers(msg.key.task_subject(), headers, payload.into())
            .await
            .map_err(|e| ClusterError::nats("cannot publish the task again", e))?
            .await
            .map_err(|e| ClusterError::nats("the server did not store the task again", e))?;
        if let Some(seq) = old.filter(|s| *s != ack.sequence) {
            let _ = self.queues.tasks.delete_message(seq).await;
        }
        Ok(ack.sequence)
    }

    /// Whether the worker process that claimed at `claimed_at` is gone: its
    /// heartbeat expired from the bucket (dead or cut off), or a worker of
    /// that name started since (restarted: what the old one ran is lost).
    /// Never said within a few seconds of a reconnection: a server that was
    /// down longer than the heartbeats' TTL comes back without them until
    /// each worker beats again.
    pub async fn worker_gone(
        &self,
        worker: &str,
        claimed_at: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let settled = Duration::from_secs(5);
        if self.connected_at.lock().expect("connected_at").elapsed() < settled {
            return false;
        }
        let key = super::protocol::worker_key(worker);
        match self.queues.workers.get(key.as_str()).await {
            Ok(None) => true,
            Ok(Some(v)) => serde_json::from_slice::<super::protocol::Heartbeat>(&v)
                .is_ok_and(|hb| hb.started_at > claimed_at),
            Err(_) => false,
        }
    }

    /// The coordinator stopped: the attempt's message goes (no worker takes
    /// it later) and a worker running it stops its agent.
    pub async fn cancel(&self, key: &AttemptKey, seq: Option<u64>) {
        if let Some(seq) = seq {
            let _ = self.queues.tasks.delete_message(seq).await;
        }
        let _ = self
            .client
            .publish(key.cancel_subject(), Vec::new().into())
            .await;
        let _ = self.client.flush().await;
    }

    /// How many workers heartbeat now.
    pub async fn live_workers(&self) -> usize {
        super::workers::live(&self.queues.workers)
            .await
            .map(|w| w.len())
            .unwrap_or(0)
    }

    /// The attempt's full log from the object store, if it was stored.
    pub async fn log(&self, key: &str) -> Option<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let mut object = self.queues.logs.get(key).await.ok()?;
        let mut bytes = Vec::new();
        object.read_to_end(&mut bytes).await.ok()?;
        Some(bytes)
    }
}

/// Keeps the time of the latest (re)connection.
async fn note_reconnects(
    mut reconnects: tokio::sync::watch::Receiver<u64>,
    at: Arc<Mutex<Instant>>,
) {
    while reconnects.changed().await.is_ok() {
        *at.lock().expect("connected_at") = Instant::now();
    }
}
