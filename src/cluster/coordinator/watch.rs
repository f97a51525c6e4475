//! What the coordinator hears back: the claims and results of one run's
//! attempts (read from the start of the results stream, so a restarted
//! coordinator sees what arrived while it was down) and the work queue's
//! "max deliveries" advisories. Each is followed by an ordered consumer,
//! made again from the last sequence seen when the server goes away.

use crate::cluster::protocol::{ClaimMsg, ResultMsg, is_claim};
use async_nats::jetstream::{consumer, stream};
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// What has been heard, by subject (claims, results) and by task message
/// sequence (lost ones). Waiters are woken through `changed`.
#[derive(Default)]
pub struct Heard {
    pub claims: HashMap<String, Vec<ClaimMsg>>,
    pub results: HashMap<String, ResultMsg>,
    pub lost: HashSet<u64>,
}

/// The shared view, and a counter that moves whenever it changes.
pub struct Watch {
    heard: Mutex<Heard>,
    changed: watch::Sender<u64>,
}

impl Watch {
    pub fn new() -> Arc<Watch> {
        Arc::new(Watch {
            heard: Mutex::new(Heard::default()),
            changed: watch::channel(0).0,
        })
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub fn read<T>(&self, f: impl FnOnce(&Heard) -> T) -> T {
        f(&self.heard.lock().expect("watch lock"))
    }

    fn update(&self, f: impl FnOnce(&mut Heard)) {
        f(&mut self.heard.lock().expect("watch lock"));
        self.changed.send_modify(|n| *n += 1);
    }

    /// A stored claim or result.
    fn heard(&self, subject: &str, payload: &[u8]) {
        if is_claim(subject) {
            match serde_json::from_slice::<ClaimMsg>(payload) {
                Ok(c) => self.update(|h| h.claims.entry(subject.to_string()).or_default().push(c)),
                Err(e) => tracing::warn!(subject, error = %e, "a claim that cannot be read"),
            }
        } else {
            match serde_json::from_slice::<ResultMsg>(payload) {
                Ok(r) => self.update(|h| {
                    h.results.entry(subject.to_string()).or_insert(r);
                }),
                Err(e) => tracing::warn!(subject, error = %e, "a result that cannot be read"),
            }
        }
    }

    /// A max-deliveries advisory: `stream_seq` is the task message's.
    fn advisory(&self, payload: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Advisory {
            stream_seq: u64,
        }
        if let Ok(a) = serde_json::from_slice::<Advisory>(payload) {
            self.update(|h| {
                h.lost.insert(a.stream_seq);
            });
        }
    }
}

/// Follows the results stream's messages under `filters` (see
/// [`crate::cluster::queues::Queues::run_filters`]) into `watch`, for as
/// long as the watch is in use, starting again on each reconnection.
pub fn follow_results(
    results: stream::Stream,
    filters: Vec<String>,
    watch: Arc<Watch>,
    reconnects: watch::Receiver<u64>,
) {
    let w = Arc::downgrade(&watch);
    tokio::spawn(follow(
        results,
        filters,
        reconnects,
        move |subject, payload| match w.upgrade() {
            Some(w) => {
                w.heard(subject, payload);
                true
            }
            None => false,
        },
    ));
}

/// Follows the lost-task advisories into `watch`.
pub fn follow_lost(lost: stream::Stream, watch: Arc<Watch>, reconnects: watch::Receiver<u64>) {
    let w = Arc::downgrade(&watch);
    tokio::spawn(follow(
        lost,
        Vec::new(),
        reconnects,
        move |_, payload| match w.upgrade() {
            Some(w) => {
                w.advisory(payload);
                true
            }
            None => false,
        },
    ));
}

/// Reads every message of `stream` under `filters` (none: all; several
/// only on a 2.10+ server) from the first, handing
/// each to `handle` until it returns false. An ordered consumer recreates
/// itself after a gap; when its stream ends or fails, or the client
/// reconnects (the consumer lived in the server that went away, and the
/// client would notice only after missed idle heartbeats, some 15 s), a new
/// one starts after the last sequence handled.
async fn follow(
    stream: stream::Stream,
    filters: Vec<String>,
    mut reconnects: watch::Receiver<u64>,
    mut handle: impl FnMut(&str, &[u8]) -> bool,
) {
    let mut next_seq = 1u64;
    loop {
        reconnects.borrow_and_update();
        let mut config = consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: next_seq,
            },
            ..Default::default()
        };
        match filters.as_slice() {
            [one] => config.filter_subject = one.clone(),
            several => config.filter_subjects = several.to_vec(),
        }
        let messages = match stream.create_consumer(config).await {
            Ok(c) => c.messages().await.ok(),
            Err(e) => {
                tracing::debug!(error = %e, "cannot follow the stream yet");
                None
            }
        };
        if let Some(mut messages) = messages {
            loop {
                let item = tokio::select! {
                    item = messages.next() => item,
                    _ = reconnects.changed() => break,
                };
                let Some(Ok(msg)) = item else { break };
                if let Ok(info) = msg.info() {
                    next_seq = info.stream_sequence + 1;
                }
                if !handle(msg.subject.as_str(), &msg.payload) {
                    return;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
