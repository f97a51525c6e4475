//! The streams, the workers' consumer and the buckets, made when missing.
//! Coordinator and workers both call [`Queues::open`]: either may start
//! first. Everything is file storage, so a server restart loses nothing.

use super::ClusterError;
use super::protocol::{AttemptKey, ResultMsg};
use super::protocol::{
    LOGS_BUCKET, LOST_STREAM, RESULTS_STREAM, RESULTS_SUBJECTS, TASKS_STREAM, WORKERS_BUCKET,
    WORKERS_CONSUMER, lost_subject, run_filter,
};
pub use crate::config::cluster::Redelivery;
use async_nats::jetstream::{self, consumer, kv, object_store, stream};
use std::time::Duration;

/// How long claims, results and logs are kept.
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a heartbeat lives: a worker silent this long is gone.
pub const HEARTBEAT_TTL: Duration = Duration::from_secs(10);
/// How often a worker heartbeats.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// Handles on everything the cluster uses.
#[derive(Clone)]
pub struct Queues {
    pub js: jetstream::Context,
    pub tasks: stream::Stream,
    pub results: stream::Stream,
    pub lost: stream::Stream,
    pub workers: kv::Store,
    pub logs: object_store::ObjectStore,
    /// The server's URL without user info, for messages.
    pub url: String,
    /// The server's version, from its INFO: `(2, 9, 10)`.
    pub version: (u32, u32, u32),
}

/// `2.10.3` as `(2, 10, 3)`; what does not parse counts as 0.
pub fn parse_version(text: &str) -> (u32, u32, u32) {
    let mut parts = text
        .trim()
        .trim_start_matches('v')
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

/// What a 2.10+ server does that a 2.9 one does not: the client's own
/// bucket creation (which reads the account's limits in the 2.10 shape),
/// consumers filtering on several subjects.
pub fn is_recent(version: (u32, u32, u32)) -> bool {
    version >= (2, 10, 0)
}

impl Queues {
    /// Opens (making what is missing) the streams and buckets.
    pub async fn open(client: async_nats::Client, url: String) -> Result<Queues, ClusterError> {
        let version = parse_version(&client.server_info().version);
        let js = jetstream::new(client);
        let fail = |what: &str| {
            let url = url.clone();
            let what = what.to_string();
            move |e: async_nats::Error| ClusterError::JetStream {
                url,
                what,
                source: e,
            }
        };
        let tasks = ensure_stream(&js, TASKS_STREAM, vec!["rr.task.>".into()], true)
            .await
            .map_err(fail("cannot open the task queue"))?;
        let results = ensure_stream(&js, RESULTS_STREAM, vec![RESULTS_SUBJECTS.into()], false)
            .await
            .map_err(fail("cannot open the results stream"))?;
        let lost = ensure_stream(&js, LOST_STREAM, vec![lost_subject()], false)
            .await
            .map_err(fail("cannot open the lost-task stream"))?;
        let workers = ensure_kv(&js, is_recent(version))
            .await
            .map_err(fail("cannot open the heartbeat bucket"))?;
        let logs = ensure_logs(&js)
            .await
            .map_err(fail("cannot open the log store"))?;
        Ok(Queues {
            js,
            tasks,
            results,
            lost,
            workers,
            logs,
            url,
            version,
        })
    }

    /// The workers' consumer with these redelivery settings (the
    /// coordinator's: its `[cluster]` table decides).
    pub async fn configure_consumer(&self, r: Redelivery) -> Result<(), ClusterError> {
        self.tasks
            .create_consumer(consumer_config(r))
            .await
            .map_err(|e| ClusterError::JetStream {
                url: self.url.clone(),
                what: "cannot configure the workers' consumer".into(),
                source: e.into(),
            })?;
        Ok(())
    }

    /// The workers' consumer as it is, made with the defaults if missing.
    pub async fn worker_consumer(&self) -> Result<consumer::PullConsumer, ClusterError> {
        let got = self
            .tasks
            .get_or_create_consumer(WORKERS_CONSUMER, consumer_config(Redelivery::default()))
            .await;
        got.map_err(|e| ClusterError::JetStream {
            url: self.url.clone(),
            what: "cannot open the workers' consumer".into(),
            source: e.into(),
        })
    }
}

impl Queues {
    /// The subjects a coordinator reads of one run: its claims and its
    /// results, as two filters of one consumer on a 2.10+ server; a 2.9
    /// server takes one filter only, the run's whole `rr.out.<run>.>`.
    pub fn run_filters(&self, run: &str) -> Vec<String> {
        run_filters(run, self.version)
    }

    /// The result stored for the attempt, if a worker published one.
    pub async fn stored_result(&self, key: &AttemptKey) -> Result<Option<ResultMsg>, ClusterError> {
        let subject = key.result_subject();
        match last_on(&self.results, &subject, "the results stream").await? {
            Some(m) => serde_json::from_slice(&m.payload)
                .map(Some)
                .map_err(|source| ClusterError::BadMessage { subject, source }),
            None => Ok(None),
        }
    }
}

/// The last message of `stream` on `subject`, if there is one (`what` names
/// the stream in an error).
pub async fn last_on(
    stream: &stream::Stream,
    subject: &str,
    what: &str,
) -> Result<Option<async_nats::jetstream::message::StreamMessage>, ClusterError> {
    use stream::LastRawMessageErrorKind as K;
    match stream.get_last_raw_message_by_subject(subject).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == K::NoMessageFound => Ok(None),
        Err(e) => Err(ClusterError::nats(format!("cannot read {what}"), e)),
    }
}

fn run_filters(run: &str, version: (u32, u32, u32)) -> Vec<String> {
    let all = run_filter(run);
    if !is_recent(version) {
        return vec![all];
    }
    let stem = all.trim_end_matches('>');
    ["claim", "result"]
        .iter()
        .map(|kind| format!("{stem}{kind}.>"))
        .collect()
}

fn consumer_config(r: Redelivery) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(WORKERS_CONSUMER.into()),
        description: Some("roadmap-runner workers".into()),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: r.ack_wait,
        max_deliver: r.max_deliver,
        max_ack_pending: 10_000,
        ..Default::default()
    }
}

async fn ensure_stream(
    js: &jetstream::Context,
    name: &str,
    subjects: Vec<String>,
    work_queue: bool,
) -> Result<stream::Stream, async_nats::Error> {
    let config = stream::Config {
        name: name.into(),
        subjects,
        retention: if work_queue {
            stream::RetentionPolicy::WorkQueue
        } else {
            stream::RetentionPolicy::Limits
        },
        storage: stream::StorageType::File,
        max_age: KEEP,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    };
    made_or_found(js, config).await
}

/// The stream, made if missing. Two processes starting at once may both
/// find it missing: the loser's create fails ("subjects overlap"), and the
/// stream the winner made is what it opens.
async fn made_or_found(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<stream::Stream, async_nats::Error> {
    let name = config.name.clone();
    match js.get_or_create_stream(config).await {
        Ok(s) => Ok(s),
        Err(e) => js.get_stream(&name).await.map_err(|_| e.into()),
    }
}

/// The heartbeat bucket. On a 2.10+ server the client makes it; on 2.9 it
/// is made as the KV stream it is (the client's `create_key_value` first
/// reads the account's info, whose shape a 2.9 server does not send), then
/// opened as a bucket.
async fn ensure_kv(js: &jetstream::Context, recent: bool) -> Result<kv::Store, async_nats::Error> {
    if let Ok(store) = js.get_key_value(WORKERS_BUCKET).await {
        return Ok(store);
    }
    if recent {
        let made = js
            .create_key_value(kv::Config {
                bucket: WORKERS_BUCKET.into(),
                description: "roadmap-runner worker heartbeats".into(),
                history: 1,
                max_age: HEARTBEAT_TTL,
                storage: stream::StorageType::File,
                num_replicas: 1,
                ..Default::default()
            })
            .await;
        return match made {
            Ok(store) => Ok(store),
            // Made by another process meanwhile.
            Err(e) => js.get_key_value(WORKERS_BUCKET).await.map_err(|_| e.into()),
        };
    }
    made_or_found(
        js,
        stream::Config {
            name: format!("KV_{WORKERS_BUCKET}"),
            description: Some("roadmap-runner worker heartbeats".into()),
            subjects: vec![format!("$KV.{WORKERS_BUCKET}.>")],
            max_messages_per_subject: 1,
            max_age: HEARTBEAT_TTL,
            storage: stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        },
    )
    .await?;
    Ok(js.get_key_value(WORKERS_BUCKET).await?)
}

async fn ensure_logs(
    js: &jetstream::Context,
) -> Result<object_store::ObjectStore, async_nats::Error> {
    if let Ok(store) = js.get_object_store(LOGS_BUCKET).await {
        return Ok(store);
    }
    let made = js
        .create_object_store(object_store::Config {
            bucket: LOGS_BUCKET.into(),
            description: Some("roadmap-runner agent logs".into()),
            max_age: KEEP,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await;
    match made {
        Ok(store) => Ok(store),
        Err(e) => js.get_object_store(LOGS_BUCKET).await.map_err(|_| e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions_from_info_compare_as_numbers() {
        assert_eq!(parse_version("2.9.10"), (2, 9, 10));
        assert_eq!(parse_version("v2.15.1"), (2, 15, 1));
        assert_eq!(parse_version("2.11.0-RC.1"), (2, 11, 0));
        assert_eq!(parse_version("junk"), (0, 0, 0));
        assert!(!is_recent(parse_version("2.9.10")));
        assert!(is_recent(parse_version("2.10.0")));
        assert!(is_recent(parse_version("2.15.1")));
    }

    #[test]
    fn a_run_is_read_through_two_filters_on_2_10_and_one_on_2_9() {
        let key = AttemptKey {
            run: "20261201T113600-ab12".into(),
            name: "1-A-A1".into(),
            attempt: 1,
        };
        assert_eq!(
            run_filters(&key.run, (2, 9, 10)),
            ["rr.out.20261201T113600-ab12.>"]
        );
        let two = run_filters(&key.run, (2, 15, 1));
        assert_eq!(
            two,
            [
                "rr.out.20261201T113600-ab12.claim.>",
                "rr.out.20261201T113600-ab12.result.>"
            ]
        );
        // Each filter takes its own kind of message, and only that.
        let matches =
            |filter: &str, subject: &str| subject.starts_with(filter.trim_end_matches('>'));
        assert!(matches(&two[0], &key.claim_subject()) && !matches(&two[0], &key.result_subject()));
        assert!(matches(&two[1], &key.result_subject()) && !matches(&two[1], &key.claim_subject()));
    }
}
