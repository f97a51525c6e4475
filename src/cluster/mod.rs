//! `--nats`: tasks run by workers on other machines, through NATS JetStream.
//!
//! The coordinator (`run --nats`) publishes one message per task attempt on
//! a work-queue stream; workers (`roadmap-runner worker`) pull them, run the
//! agent in a worktree of their own mirror of the remote, push the task's
//! branch and publish the result on a second stream, which a restarted
//! coordinator reads back. JetStream does the hard parts: redelivery after
//! `ack_wait` when a worker goes silent, `max_deliver`, de-duplication by
//! `Nats-Msg-Id`, a KV bucket for heartbeats, an object store for logs.
//!
//! * [`protocol`]: subjects, names and message JSON;
//! * [`batch`]: git work done in batches (pushes, fetches);
//! * [`queues`]: the streams, consumer and buckets, made when missing;
//! * [`coordinator`]: a task attempt run remotely, as the group loop sees it;
//! * [`worker`]: the worker process;
//! * [`workers`]: the live workers, from their heartbeats;
//! * [`idle`]: no worker live while tasks wait: said, and maybe the run stopped;
//! * [`live_log`]: a remote attempt's log, streamed as it is written.

pub mod batch;
pub mod coordinator;
pub mod idle;
pub mod live_log;
pub mod protocol;
pub mod queues;
pub mod worker;
pub mod workers;

pub use crate::config::cluster::NatsTarget;
use crate::userinfo::UrlAuth;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "cannot connect to NATS at {url}: {source}\n  Is `nats-server -js` running there, and reachable from this machine?"
    )]
    Connect {
        /// Without user info: credentials are never shown.
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error("cannot read the NATS credentials file {}: {source}", path.display())]
    Creds {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "NATS at {url}: {what}: {source}\n  The server must run with JetStream enabled (`nats-server -js`)"
    )]
    JetStream {
        url: String,
        what: String,
        #[source]
        source: async_nats::Error,
    },
    #[error("NATS: {what}: {source}")]
    Nats {
        what: String,
        #[source]
        source: async_nats::Error,
    },
    #[error("a message on {subject} is not valid: {source}")]
    BadMessage {
        subject: String,
        #[source]
        source: serde_json::Error,
    },
}

impl ClusterError {
    pub fn nats(what: impl Into<String>, e: impl Into<async_nats::Error>) -> Self {
        ClusterError::Nats {
            what: what.into(),
            source: e.into(),
        }
    }
}

impl NatsTarget {
    /// Connects, retrying a lost connection for ever (a server restart must
    /// not end a night's run); the first connection must succeed.
    pub async fn connect(&self, name: &str) -> Result<async_nats::Client, ClusterError> {
        Ok(self.connect_watched(name).await?.0)
    }

    /// [`NatsTarget::connect`], with a counter that moves on every
    /// reconnection: what a reader of a stream waits on to start again at
    /// once (a consumer of the server that went away is gone with it).
    pub async fn connect_watched(
        &self,
        name: &str,
    ) -> Result<(async_nats::Client, tokio::sync::watch::Receiver<u64>), ClusterError> {
        let (reconnected, reconnects) = tokio::sync::watch::channel(0u64);
        let mut options = async_nats::ConnectOptions::new()
            .name(name)
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(None)
            .event_callback(move |event| {
                if matches!(event, async_nats::Event::Connected) {
                    reconnected.send_modify(|n| *n += 1);
                }
                async move {
                    match event {
                        async_nats::Event::Connected => tracing::info!("NATS: connected"),
                        async_nats::Event::Disconnected => {
                            tracing::warn!("NATS: disconnected, reconnecting")
                        }
                        other => tracing::debug!(event = %other, "NATS"),
                    }
                }
            });
        if let Some(path) = &self.creds {
            options = read_creds(options, path).await?;
        }
        // The client reads no user info from a URL: it goes as options.
        match crate::userinfo::url_auth(&self.url) {
            Some(UrlAuth::UserPassword(user, password)) => {
                options = options.user_and_password(user, password);
            }
            Some(UrlAuth::Token(token)) => options = options.token(token),
            None => {}
        }
        let client = options
            .connect(self.shown().as_str())
            .await
            .map_err(|source| ClusterError::Connect {
                url: self.shown(),
                source,
            })?;
        Ok((client, reconnects))
    }
}

async fn read_creds(
    options: async_nats::ConnectOptions,
    path: &Path,
) -> Result<async_nats::ConnectOptions, ClusterError> {
    options
        .credentials_file(path)
        .await
        .map_err(|source| ClusterError::Creds {
            path: path.to_path_buf(),
            source,
        })
}

/// The machine's host name, for claims and heartbeats.
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_shown_without_its_password() {
        let t = NatsTarget {
            url: "nats://rr:pw@127.0.0.1:4222".into(),
            creds: None,
        };
        assert_eq!(t.shown(), "nats://127.0.0.1:4222");
        assert!(!format!("{t:?}").contains("pw"));
    }
}
