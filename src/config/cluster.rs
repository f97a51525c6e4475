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

#[cfg(test)]
mod tests {
    use super::super::{ClusterSection, ClusterSettings, Overrides};
    use super::*;

    fn resolved(toml_text: &str) -> Result<NoWorkers, String> {
        let section: ClusterSection = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        ClusterSettings::resolve(&section, &Overrides::default())
            .map(|s| s.no_workers)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn no_workers_waits_ten_minutes_unless_told_to_stop_sooner() {
        assert_eq!(resolved(""), Ok(NoWorkers::default()));
        assert!(!NoWorkers::default().stop);
        assert_eq!(NoWorkers::default().after, Duration::from_secs(600));
        assert_eq!(
            resolved("no_workers = \"stop\"\nno_workers_after = \"30s\""),
            Ok(NoWorkers {
                stop: true,
                after: Duration::from_secs(30)
            })
        );
        assert_eq!(
            resolved("no_workers = \"Wait\"\nno_workers_after = 90").map(|n| (n.stop, n.after)),
            Ok((false, Duration::from_secs(90)))
        );
        let bad = resolved("no_workers = \"quit\"").unwrap_err();
        assert!(
            bad.contains("cluster.no_workers") && bad.contains("`quit`"),
            "{bad}"
        );
    }
}
