//! The coordinator's side: `run --nats` sends each task attempt to the
//! workers instead of spawning its agent. The group loop is unchanged: an
//! attempt whose job carries a [`RemoteTask`] is run by [`attempt::run_remote`]
//! and ends with an ordinary `AttemptResult`; the task's branch is fetched
//! and merged like a worktree's (see `crate::runner::isolation`).

pub mod attempt;
pub mod cleanup;
pub mod group;
pub mod watch;

use super::protocol::{AttemptKey, TaskMsg};
use super::queues::{Queues, Redelivery, last_on};
use super::{ClusterError, NatsTarget};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use watch::Watch;

/// One connection to the cluster for the whole run.
pub struct Dispatcher {
    pub queues: Queues,
    pub client: async_nats::Client,
    pub redelivery: Redelivery,
    /// One watch per run id, made on first use.
    watches: Mutex<HashMap<String, Arc<Watch>>>,
    lost: Arc<Watch>,
    /// "No worker is live" is said once per run.
    idle_warned: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("url", &self.queues.url)
            .finish()
    }
}

/// An attempt to run on a worker: the message, and where to send it.
#[derive(Debug, Clone)]
pub struct RemoteTask {
    pub dispatcher: Arc<Dispatcher>,
    pub msg: TaskMsg,
}

/// What the worker that ran an attempt left: for the record and the merge.
#[derive(Debug, Clone, PartialEq)]
pub struct Ran {
    pub worker: String,
    pub branch: Option<String>,
    pub commit: Option<String>,
}

impl Dispatcher {
    /// Connects and makes the streams, the buckets and the workers'
    /// consumer with these redelivery settings.
    pub async fn connect(
        target: &NatsTarget,
        redelivery: Redelivery,
    ) -> Result<Arc<Dispatcher>, ClusterError> {
        let client = target.connect("roadmap-runner coordinator").await?;
        let queues = Queues::open(client.clone(), target.shown()).await?;
        queues.configure_consumer(redelivery).await?;
        let lost = Watch::new();
        watch::follow_lost(queues.lost.clone(), lost.clone());
        Ok(Arc::new(Dispatcher {
            queues,
            client,
            redelivery,
            watches: Mutex::new(HashMap::new()),
            lost,
            idle_warned: std::sync::atomic::AtomicBool::new(false),
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
                    super::protocol::run_filter(run),
                    w.clone(),
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
    pub async fn dispatch(&self, msg: &TaskMsg) -> Result<u64, ClusterError> {
        let subject = msg.key.task_subject();
        if let Some(m) = last_on(&self.queues.tasks, &subject, "the task queue").await? {
            return Ok(m.sequence);
        }
        let payload = serde_json::to_vec(msg).expect("a task message serialises");
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg.key.task_msg_id().as_str());
        let ack = self
            .queues
            .js
            .publish_with_headers(subject, headers, payload.into())
            .await
            .map_err(|e| ClusterError::nats("cannot publish the task", e))?
            .await
            .map_err(|e| ClusterError::nats("the server did not store the task", e))?;
        Ok(ack.sequence)
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

    /// Whether "no worker is live" was said already (then no one asks again).
    pub fn idle_warned(&self) -> bool {
        self.idle_warned.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// True the first time only.
    pub fn first_idle_warning(&self) -> bool {
        !self
            .idle_warned
            .swap(true, std::sync::atomic::Ordering::SeqCst)
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
