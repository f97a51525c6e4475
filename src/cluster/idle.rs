//! No worker live while tasks wait. With every worker dead the server hands
//! a task out again only when some worker asks for work, so nothing else
//! would ever tell the user: the coordinator watches the heartbeats itself,
//! says so at once, and with `[cluster] no_workers = "stop"` ends the run
//! after `no_workers_after`, its queued tasks withdrawn.
//!
//! [`Tracker`] decides (pure, tested below); [`Idle`] is what the attempts
//! share: how many wait, the notice to show, whether to withdraw.

pub use crate::config::cluster::NoWorkers;
use async_nats::jetstream::kv;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// No worker this long before it is said: a worker restarting (which
/// deletes its heartbeat when it stops) is back within it.
pub const DEBOUNCE: Duration = Duration::from_secs(3);
/// How often the heartbeats are counted.
const EVERY: Duration = Duration::from_secs(1);
/// Heartbeats are not counted this soon after a (re)connection: a server
/// that was down longer than their TTL comes back without them until each
/// worker beats again.
const SETTLE: Duration = Duration::from_secs(5);

/// What changed, for the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// No worker is live and this many attempts wait.
    NoWorker { waiting: usize },
    /// A worker is live again after a [`Change::NoWorker`].
    Back { live: usize },
    /// `no_workers = "stop"`: the waiting attempts are withdrawn.
    Withdraw { waiting: usize },
}

/// The state between two counts of the heartbeats.
#[derive(Debug, Default)]
pub struct Tracker {
    none_since: Option<Instant>,
    said: bool,
    withdrawn: bool,
}

impl Tracker {
    /// One count: `live` workers heartbeat, `waiting` attempts wait.
    pub fn step(
        &mut self,
        now: Instant,
        live: usize,
        waiting: usize,
        policy: NoWorkers,
    ) -> Option<Change> {
        if self.withdrawn {
            return None;
        }
        if live > 0 || waiting == 0 {
            self.none_since = None;
            let was = std::mem::take(&mut self.said);
            return (was && live > 0).then_some(Change::Back { live });
        }
        let since = *self.none_since.get_or_insert(now);
        let idle = now.saturating_duration_since(since);
        if !self.said && idle >= DEBOUNCE {
            self.said = true;
            return Some(Change::NoWorker { waiting });
        }
        if self.said && policy.stop && idle >= DEBOUNCE + policy.after {
            self.withdrawn = true;
            return Some(Change::Withdraw { waiting });
        }
        None
    }
}

/// What the run's attempts share about idleness.
pub struct Idle {
    policy: NoWorkers,
    url: String,
    waiting: AtomicUsize,
    withdrawing: AtomicBool,
    /// The next line to show; the first attempt to see it takes it.
    notice: Mutex<Option<String>>,
    changed: watch::Sender<u64>,
}

/// Counts an attempt as waiting while it lives.
pub struct WaitingGuard(Arc<Idle>);

impl Drop for WaitingGuard {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Idle {
    pub fn new(policy: NoWorkers, url: String) -> Arc<Idle> {
        Arc::new(Idle {
            policy,
            url,
            waiting: AtomicUsize::new(0),
            withdrawing: AtomicBool::new(false),
            notice: Mutex::new(None),
            changed: watch::channel(0).0,
        })
    }

    /// The attempt waits for its result until the guard drops.
    pub fn waiting(self: &Arc<Idle>) -> WaitingGuard {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        WaitingGuard(self.clone())
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The run stops for want of workers: no attempt is queued any more.
    pub fn withdrawing(&self) -> bool {
        self.withdrawing.load(Ordering::SeqCst)
    }

    /// The line to show now, to the first attempt that asks.
    pub fn take_notice(&self) -> Option<String> {
        self.notice.lock().expect("notice").take()
    }

    /// Why a withdrawn attempt never ran (for its log and its line).
    pub fn withdrawn_reason(&self) -> String {
        format!(
            "withdrawn from the queue: no worker was live for {} ([cluster] no_workers = \"stop\")",
            humantime::format_duration(self.policy.after)
        )
    }

    fn apply(&self, change: Change) {
        let start = format!("roadmap-runner worker --nats {}", self.url);
        let text = match change {
            Change::NoWorker { waiting } => {
                let then = if self.policy.stop {
                    format!(
                        "; the run stops in {} unless one starts ([cluster] no_workers = \"stop\")",
                        humantime::format_duration(self.policy.after)
                    )
                } else {
                    String::new()
                };
                format!(
                    "no worker is live: {} waiting; start one with {start}{then}",
                    crate::text::plural(waiting, "task")
                )
            }
            Change::Back { live } => format!(
                "{} live again: the waiting tasks go on",
                crate::text::plural(live, "worker")
            ),
            Change::Withdraw { waiting } => {
                self.withdrawing.store(true, Ordering::SeqCst);
                format!(
                    "no worker was live for {}: the run stops, its {} withdrawn from the queue",
                    humantime::format_duration(self.policy.after),
                    crate::text::plural(waiting, "queued task")
                )
            }
        };
        tracing::info!("{text}");
        *self.notice.lock().expect("notice") = Some(text);
        self.changed.send_modify(|n| *n += 1);
    }
}

/// Counts the heartbeats every second for as long as `idle` is in use.
pub fn watch(idle: &Arc<Idle>, workers: kv::Store, connected_at: Arc<Mutex<Instant>>) {
    let weak = Arc::downgrade(idle);
    tokio::spawn(async move {
        let mut tracker = Tracker::default();
        loop {
            tokio::time::sleep(EVERY).await;
            let Some(idle) = weak.upgrade() else { return };
            if connected_at.lock().expect("connected_at").elapsed() < SETTLE {
                continue;
            }
            // The server away: nothing is known, nothing changes.
            let Ok(live) = super::workers::live(&workers).await else {
                continue;
            };
            let waiting = idle.waiting.load(Ordering::SeqCst);
            if let Some(c) = tracker.step(Instant::now(), live.len(), waiting, idle.policy) {
                idle.apply(c);
            }
        }
    });
}

/// Writes why the attempt never ran into its log, unless a worker's
/// lines are there already.
pub fn note_withdrawn(log: &std::path::Path, reason: &str) {
    if log.exists() {
        return;
    }
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(log, format!("roadmap-runner: {reason}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(stop: bool) -> NoWorkers {
        NoWorkers {
            stop,
            after: Duration::from_secs(30),
        }
    }

    #[test]
    fn no_worker_is_said_once_after_the_debounce_and_again_after_one_came_back() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut t = Tracker::default();
        assert_eq!(t.step(at(0), 0, 4, policy(false)), None);
        assert_eq!(t.step(at(2), 0, 4, policy(false)), None);
        assert_eq!(
            t.step(at(3), 0, 4, policy(false)),
            Some(Change::NoWorker { waiting: 4 })
        );
        assert_eq!(t.step(at(4), 0, 4, policy(false)), None);
        // Waiting for ever: "wait" never withdraws.
        assert_eq!(t.step(at(4000), 0, 4, policy(false)), None);
        assert_eq!(
            t.step(at(4001), 2, 4, policy(false)),
            Some(Change::Back { live: 2 })
        );
        assert_eq!(t.step(at(4002), 0, 3, policy(false)), None);
        assert_eq!(
            t.step(at(4005), 0, 3, policy(false)),
            Some(Change::NoWorker { waiting: 3 })
        );
    }

    #[test]
    fn nothing_is_said_while_a_worker_is_live_or_nothing_waits() {
        let t0 = Instant::now();
        let mut t = Tracker::default();
        for s in 0..100 {
            let now = t0 + Duration::from_secs(s);
            assert_eq!(t.step(now, 1, 4, policy(true)), None);
            assert_eq!(t.step(now, 0, 0, policy(true)), None);
        }
    }

    #[test]
    fn stop_withdraws_once_after_the_wait_and_then_stays_quiet() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut t = Tracker::default();
        t.step(at(0), 0, 2, policy(true));
        assert_eq!(
            t.step(at(3), 0, 2, policy(true)),
            Some(Change::NoWorker { waiting: 2 })
        );
        assert_eq!(t.step(at(32), 0, 2, policy(true)), None);
        assert_eq!(
            t.step(at(33), 0, 2, policy(true)),
            Some(Change::Withdraw { waiting: 2 })
        );
        // A worker that comes back now is too late: the run is ending.
        assert_eq!(t.step(at(34), 1, 2, policy(true)), None);
    }

    #[test]
    fn a_worker_back_before_the_wait_ends_restarts_it() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut t = Tracker::default();
        t.step(at(0), 0, 2, policy(true));
        t.step(at(3), 0, 2, policy(true));
        t.step(at(20), 1, 2, policy(true));
        t.step(at(21), 0, 2, policy(true));
        assert_eq!(
            t.step(at(24), 0, 2, policy(true)),
            Some(Change::NoWorker { waiting: 2 })
        );
        assert_eq!(t.step(at(53), 0, 2, policy(true)), None);
        assert_eq!(
            t.step(at(54), 0, 2, policy(true)),
            Some(Change::Withdraw { waiting: 2 })
        );
    }
}
