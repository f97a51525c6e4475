//! One attempt run on a worker, as the group loop sees it: `Started` when a
//! worker claims it (again on a redelivery), its activity, and an ordinary
//! `AttemptResult` from the worker's result, whose log is copied into the
//! project's log directory.

use super::{Dispatcher, RemoteTask};
use crate::agent::{AgentReport, TaskOutcome};
use crate::cluster::ClusterError;
use crate::cluster::live_log::Follow;
use crate::cluster::protocol::{ClaimMsg, ResultMsg};
use crate::exec::StopLevel;
use crate::runner::attempt::{AttemptJob, AttemptMsg, AttemptResult, Ran};
use backon::{ConstantBuilder, Retryable};
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// How long to wait before trying the server again.
const RETRY: Duration = Duration::from_secs(1);

pub async fn run_remote(
    job: AttemptJob,
    remote: RemoteTask,
    mut stop: watch::Receiver<StopLevel>,
    tx: mpsc::UnboundedSender<AttemptMsg>,
) -> AttemptResult {
    let started = Instant::now();
    let ended = |job: AttemptJob, outcome: TaskOutcome| AttemptResult {
        job,
        outcome,
        report: AgentReport::default(),
        duration: started.elapsed(),
        tail: Vec::new(),
        remote: None,
    };
    let d = &remote.dispatcher;
    if d.idle.withdrawing() {
        return withdrawn(job, &remote, None, started).await;
    }
    let _waiting = d.idle.waiting();
    let mut idle = d.idle.subscribe();
    let live = Follow::start(&d.client, &remote.msg.key, job.log_path.clone()).await;
    let mut w = Waiting::new(d, &remote, &job.task_id);
    // Already done while the coordinator was away? Else queued (once).
    let mut seq = tokio::select! {
        biased;
        _ = stopped(&mut stop) => return ended(job, TaskOutcome::Interrupted),
        s = queue(d, &remote, &tx) => s,
    };
    let mut activity = d
        .client
        .subscribe(remote.msg.key.activity_subject())
        .await
        .ok();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        match w.heard(seq, &tx) {
            Some(Heard::Result(r)) => {
                live.stop().await;
                return match unusable(&remote, &r).await {
                    None => finished(job, d, *r, remote.split_file.as_deref()).await,
                    Some(why) => ended(job, TaskOutcome::WorkerLost { message: why }),
                };
            }
            Some(Heard::Lost(tried)) => {
                if let Some(seq) = seq {
                    let _ = d.queues.tasks.delete_message(seq).await;
                }
                return ended(job, worker_lost(&tried, d.redelivery.max_deliver));
            }
            None => {}
        }
        tokio::select! {
            _ = w.results_changed.changed() => {}
            _ = w.lost_changed.changed() => {}
            Some(m) = next_activity(&mut activity) => {
                let _ = tx.send(AttemptMsg::Activity {
                    task_id: job.task_id.clone(),
                    text: String::from_utf8_lossy(&m).into_owned(),
                });
            }
            _ = idle.changed() => {
                pass_notice(d, &tx);
                if d.idle.withdrawing() {
                    return withdrawn(job, &remote, seq, started).await;
                }
            }
            _ = tick.tick(), if w.claims_seen > w.requeued_after => {
                match w.check_claimer(&remote, seq, &tx).await {
                    Ok(s) => seq = s,
                    Err(lost) => return ended(job, lost),
                }
            }
            _ = stopped(&mut stop) => {
                d.cancel(&remote.msg.key, seq).await;
                return ended(job, TaskOutcome::Interrupted);
            }
        }
    }
}

/// How a remote attempt ended, as the streams tell it.
enum Heard {
    Result(Box<ResultMsg>),
    /// Every delivery went silent: the claims of those who tried.
    Lost(Vec<ClaimMsg>),
}

/// An attempt waiting for its result: what it has seen so far.
struct Waiting<'d> {
    d: &'d Dispatcher,
    task_id: String,
    results: std::sync::Arc<super::watch::Watch>,
    lost: std::sync::Arc<super::watch::Watch>,
    results_changed: watch::Receiver<u64>,
    lost_changed: watch::Receiver<u64>,
    claim_subject: String,
    result_subject: String,
    claims_seen: usize,
    /// The claims seen when the attempt was last queued again: its latest
    /// claimer is watched only once a new claim comes.
    requeued_after: usize,
}

impl<'d> Waiting<'d> {
    fn new(d: &'d Dispatcher, remote: &RemoteTask, task_id: &str) -> Waiting<'d> {
        let (results, lost) = (d.watch(&remote.msg.key.run), d.lost());
        Waiting {
            d,
            task_id: task_id.to_string(),
            results_changed: results.subscribe(),
            lost_changed: lost.subscribe(),
            results,
            lost,
            claim_subject: remote.msg.key.claim_subject(),
            result_subject: remote.msg.key.result_subject(),
            claims_seen: 0,
            requeued_after: 0,
        }
    }

    /// New claims go to the group loop (a worker took it, or took it
    /// again); then the result, or the message's loss, if either is in.
    fn heard(&mut self, seq: Option<u64>, tx: &mpsc::UnboundedSender<AttemptMsg>) -> Option<Heard> {
        let seen = self.claims_seen;
        let claims: Vec<ClaimMsg> = self.results.read(|h| {
            h.claims
                .get(&self.claim_subject)
                .map(|c| c[seen..].to_vec())
                .unwrap_or_default()
        });
        for c in claims {
            self.claims_seen += 1;
            let _ = tx.send(AttemptMsg::Claimed {
                task_id: self.task_id.clone(),
                worker: c.worker,
                delivery: c.delivery,
            });
        }
        if let Some(r) = self
            .results
            .read(|h| h.results.get(&self.result_subject).cloned())
        {
            return Some(Heard::Result(Box::new(r)));
        }
        let lost = seq.is_some_and(|seq| self.lost.read(|h| h.lost.contains(&seq)));
        lost.then(|| Heard::Lost(self.claims()))
    }

    /// Every claim of the attempt so far.
    fn claims(&self) -> Vec<ClaimMsg> {
        self.results.read(|h| {
            h.claims
                .get(&self.claim_subject)
                .cloned()
                .unwrap_or_default()
        })
    }

    /// When the worker of the latest claim is gone (its heartbeat expired,
    /// or it restarted), it will never finish, and the server would hand
    /// the message out again only after the whole `ack_wait`: the attempt
    /// goes out again at once; the message's sequence now. After as many
    /// dead claims as the server makes deliveries, the attempt is lost.
    async fn check_claimer(
        &mut self,
        remote: &RemoteTask,
        seq: Option<u64>,
        tx: &mpsc::UnboundedSender<AttemptMsg>,
    ) -> Result<Option<u64>, TaskOutcome> {
        let claims = self.claims();
        let Some(last) = claims.last() else {
            return Ok(seq);
        };
        // A fresh claim's worker has beaten a moment ago.
        let fresh = chrono::Utc::now() - last.at < chrono::Duration::seconds(4);
        if fresh || !self.d.worker_gone(&last.worker, last.at).await {
            return Ok(seq);
        }
        let max = self.d.redelivery.max_deliver;
        if claims.len() as i64 >= max {
            if let Some(seq) = seq {
                let _ = self.d.queues.tasks.delete_message(seq).await;
            }
            return Err(worker_lost(&claims, max));
        }
        match self.d.requeue(&remote.msg, seq).await {
            Ok(new) => {
                self.requeued_after = self.claims_seen;
                let _ = tx.send(AttemptMsg::Warning {
                    message: format!(
                        "{}: worker {} is gone (no heartbeat, or restarted since it took the task): the task is queued again for another worker",
                        self.task_id, last.worker
                    ),
                });
                Ok(Some(new))
            }
            // The next tick tries again.
            Err(e) => {
                tracing::warn!(error = %e, "cannot queue the task again yet");
                Ok(seq)
            }
        }
    }
}

/// The stored result, or the task queued: its message's sequence (none
/// when the result is there already). Retries while the server is away,
/// saying so once. Published in the attempt's turn: longest expected first
/// holds for the work queue, not only for the order attempts start in.
async fn queue(
    d: &Dispatcher,
    remote: &RemoteTask,
    tx: &mpsc::UnboundedSender<AttemptMsg>,
) -> Option<u64> {
    let once = || async {
        match d.queues.stored_result(&remote.msg.key).await? {
            Some(_) => Ok(None),
            None => d.dispatch(&remote.msg, &remote.turn).await.map(Some),
        }
    };
    let mut warned = false;
    let queued = once
        .retry(ConstantBuilder::new().with_delay(RETRY).without_max_times())
        .sleep(tokio::time::sleep)
        .notify(|e: &ClusterError, _| {
            tracing::warn!(error = %e, "cannot queue the task yet");
            if !warned {
                warned = true;
                let _ = tx.send(AttemptMsg::Activity {
                    task_id: remote.msg.task.clone(),
                    text: format!("cannot queue the task yet (retrying): {e}"),
                });
            }
        })
        .await;
    // Queued, or found done or queued already: the next attempt may publish.
    remote.turn.pass();
    match queued {
        Ok(seq) => seq,
        Err(_) => unreachable!("retried without a limit"),
    }
}

async fn next_activity(sub: &mut Option<async_nats::Subscriber>) -> Option<Vec<u8>> {
    match sub {
        Some(s) => s.next().await.map(|m| m.payload.to_vec()),
        None => std::future::pending().await,
    }
}

/// A line about the workers' absence (or return), if this attempt is the
/// first to see it: the group loop shows it once.
fn pass_notice(d: &Dispatcher, tx: &mpsc::UnboundedSender<AttemptMsg>) {
    if let Some(message) = d.idle.take_notice() {
        let _ = tx.send(AttemptMsg::Warning { message });
    }
}

/// No worker was live for `[cluster] no_workers_after`: the attempt's
/// message goes (and a worker that took it stops), its log says why.
async fn withdrawn(
    job: AttemptJob,
    remote: &RemoteTask,
    seq: Option<u64>,
    started: Instant,
) -> AttemptResult {
    let d = &remote.dispatcher;
    d.cancel(&remote.msg.key, seq).await;
    crate::cluster::idle::note_withdrawn(&job.log_path, &d.idle.withdrawn_reason());
    AttemptResult {
        job,
        outcome: TaskOutcome::Interrupted,
        report: AgentReport::default(),
        duration: started.elapsed(),
        tail: Vec::new(),
        remote: None,
    }
}

/// Resolves once the run is told to stop.
async fn stopped(stop: &mut watch::Receiver<StopLevel>) {
    while *stop.borrow_and_update() == StopLevel::Run {
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Why a successful result cannot be taken, if it cannot: the commit it
/// names is not what the remote's branch holds (a worker's push lost, or a
/// branch deleted), so its work could never be merged. The attempt is then
/// lost like one whose worker died, and runs again within the retries.
async fn unusable(remote: &RemoteTask, r: &ResultMsg) -> Option<String> {
    let (Some(branch), Some(commit)) = (r.branch.clone(), r.commit.clone()) else {
        return None;
    };
    if !r.outcome.is_success() {
        return None;
    }
    let tip = remote.origin.fetch_tip(&branch).await;
    let short = commit.get(..12).unwrap_or(&commit);
    match tip {
        // Fetched, so its merge as it arrives need not.
        Ok(Some(t)) if t == commit => None,
        Ok(Some(t)) => Some(format!(
            "the result of {} names commit {short}, but the remote's {branch} holds {}: its work cannot be merged, the attempt is lost",
            r.worker,
            t.get(..12).unwrap_or(&t)
        )),
        Ok(None) => Some(format!(
            "the result of {} names commit {short} on {branch}, which the remote does not have: its work cannot be merged, the attempt is lost",
            r.worker
        )),
        // The remote unreachable now: the merge fetches later, and says so.
        Err(e) => {
            tracing::warn!(error = %e, "cannot look the task's branch up on the remote");
            None
        }
    }
}

/// The worker's result as the group loop's, its log copied into the
/// project, and the sub-roadmap it sent where a local agent writes one: the
/// runner examines it from there as any split (see `crate::runner::split`).
async fn finished(
    job: AttemptJob,
    d: &Dispatcher,
    r: ResultMsg,
    split_file: Option<&std::path::Path>,
) -> AttemptResult {
    let log = match &r.log_key {
        Some(k) => d.log(k).await,
        None => None,
    };
    let text = log.unwrap_or_else(|| {
        format!(
            "roadmap-runner: the log of this attempt on worker {} was not stored\n",
            r.worker
        )
        .into_bytes()
    });
    if let Some(dir) = job.log_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&job.log_path, text) {
        tracing::warn!(log = %job.log_path.display(), error = %e, "cannot write the worker's log");
    }
    let mut outcome = r.outcome;
    // A stopped agent's file may be half written: examined it is not.
    if let (Some(text), Some(file)) = (&r.split, split_file)
        && outcome != TaskOutcome::Interrupted
        && let Err(e) = write_split(file, text)
    {
        outcome = TaskOutcome::Failed {
            exit_code: None,
            signal: None,
            reason: format!(
                "cannot keep the sub-roadmap from worker {} as {}: {e}",
                r.worker,
                file.display()
            ),
        };
    }
    AttemptResult {
        outcome,
        report: r.report,
        duration: Duration::from_secs_f64(r.duration_secs.max(0.0)),
        tail: r.tail,
        remote: Some(Ran {
            worker: r.worker,
            branch: r.branch,
            commit: r.commit,
        }),
        job,
    }
}

fn write_split(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(file, text)
}

/// Every delivery was claimed by a worker that went silent.
fn worker_lost(tried: &[ClaimMsg], max_deliver: i64) -> TaskOutcome {
    let who: Vec<String> = tried
        .iter()
        .map(|c| {
            format!(
                "{} on {} at {}",
                c.worker,
                c.host,
                c.at.with_timezone(&chrono::Local).format("%H:%M:%S")
            )
        })
        .collect();
    TaskOutcome::WorkerLost {
        message: format!(
            "no result after {max_deliver} deliveries; tried by {}",
            if who.is_empty() {
                "no worker that said so".to_string()
            } else {
                who.join(", ")
            }
        ),
    }
}
