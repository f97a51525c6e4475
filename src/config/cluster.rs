//! The cluster's settings (`[cluster]`, `--nats`): where the server is and
//! how the work queue redelivers. Only data: connecting is the cluster's job.

use std::path::PathBuf;
use std::time::Duration;

/// How to reach the server: the URL (which may hold user info or a token)
/// and an optional `.creds` file (JWT and NKey seed).
#[derive(Clone)]
pub struct NatsTarget {
    pub url: String,
    pub creds: Option<PathBuf>,
}

impl std::fmt::Debug for NatsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsTarget")
            .field("url", &self.shown())
            .field("creds", &self.creds)
            .finish()
    }
}

impl NatsTarget {
    /// The URL as logs and messages show it: without user info.
    pub fn shown(&self) -> String {
        crate::userinfo::without_userinfo(&self.url)
    }
}

/// The work queue's redelivery settings (`[cluster] ack_wait`, `max_deliver`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Redelivery {
    pub ack_wait: Duration,
    pub max_deliver: i64,
}

impl Default for Redelivery {
    fn default() -> Self {
        Redelivery {
            ack_wait: Duration::from_secs(60),
            max_deliver: 3,
        }
    }
}

/// What the coordinator does while no worker is live and tasks wait
/// (`[cluster] no_workers`, `no_workers_after`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoWorkers {
    /// Ends the run (exit 1, the queued tasks withdrawn) instead of waiting.
    pub stop: bool,
    /// How long to wait for a worker before stopping.
    pub after: Duration,
}

impl Default for NoWorkers {
    fn default() -> Self {
        NoWorkers {
            stop: false,
            after: Duration::from_secs(10 * 60),
        }
    }
}

impl NoWorkers {
    /// `"wait"` or `"stop"`.
    pub fn parse_policy(text: &str) -> Result<bool, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "wait" => Ok(false),
            "stop" => Ok(true),
            other => Err(format!("`{other}` is not `wait` or `stop`")),
        }
    }
}
