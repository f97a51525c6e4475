//! What a worker sends back when an attempt ends: the work committed and
//! the slot given up (its next agent need not wait for the network), then
//! the branch pushed, the log stored, the result published and the ack; or,
//! when the worker is stopping and its agent was stopped, the message given
//! back (nak).

use super::WorkerCtx;
use super::checkout::{self, Checkout};
use crate::agent::TaskOutcome;
use crate::cluster::protocol::{self, ResultMsg, TaskMsg};
use crate::exec::StopLevel;
use crate::runner::attempt::AttemptResult;
use async_nats::jetstream::{self, AckKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the attempt came to, with its checkout (none if it could not be made).
pub(super) struct Ran {
    pub res: AttemptResult,
    pub checkout: Option<Checkout>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub marks: super::timings::Marks,
    /// The worker's slot: given up once the agent's work is committed, so
    /// the push, the log and the result overlap the slot's next agent.
    pub slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// The result is stored and, if it names a branch, the remote has it: a
/// redelivery of an attempt a worker finished but did not ack. What exists.
pub(super) async fn already_done(ctx: &WorkerCtx, task: &TaskMsg) -> Option<&'static str> {
    let r = ctx.queues.stored_result(&task.key).await.ok().flatten()?;
    let (Some(branch), Some(commit)) = (r.branch, r.commit) else {
        // A failed attempt pushed nothing: its result is all there is.
        return Some("its result is stored already (it did not succeed, so it has no branch)");
    };
    let (dir, t) = (ctx.work_dir.clone(), task.clone());
    let pushed =
        tokio::task::spawn_blocking(move || checkout::branch_holds(&dir, &t, &branch, &commit))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(false);
    pushed.then_some("its result and branch exist already")
}

/// Commit, then (the slot given up: the next agent starts meanwhile) push,
/// log, result, ack — or, when this worker is stopping and the agent was
/// stopped, give the message back for another worker.
pub(super) async fn finish(
    ctx: &Arc<WorkerCtx>,
    task: &TaskMsg,
    ran: Ran,
    acker: &jetstream::message::Acker,
    worker_stop: &watch::Receiver<StopLevel>,
    cancelled: &std::sync::atomic::AtomicBool,
) {
    let Ran {
        mut res,
        checkout,
        started_at,
        mut marks,
        slot,
    } = ran;
    let by_coordinator = cancelled.load(std::sync::atomic::Ordering::SeqCst);
    if res.outcome == TaskOutcome::Interrupted
        && !by_coordinator
        && *worker_stop.borrow() > StopLevel::Run
    {
        if let Some(co) = &checkout {
            remove_checkout(ctx, task, co).await;
        }
        let _ = acker.ack_with(AckKind::Nak(None)).await;
        ctx.say(&format!(
            "{}: stopped with the worker: given back to the queue",
            task.key.name
        ));
        return;
    }
    // Taken out before the commit: the sub-roadmap travels in the result.
    let split = checkout
        .as_ref()
        .and_then(|co| take_split(task, co, &mut res.outcome));
    let committed = committed(task, &mut res, checkout.as_ref()).await;
    marks.mark("committed");
    let _publishing = ctx.publishing().await;
    drop(slot);
    marks.mark("released");
    if res.outcome.is_success() && stood_down(ctx, task, acker, checkout.as_ref()).await {
        return;
    }
    let clock = std::time::Instant::now();
    let mut pushed = None;
    if let (Some(commit), Some(co)) = (committed, &checkout) {
        match ctx.pushes(&task.remote).push(task, co, commit).await {
            Ok(p) => pushed = Some(p),
            Err(reason) => res.outcome = failed(reason),
        }
    }
    tracing::debug!(task = %task.key.name, ms = clock.elapsed().as_millis() as u64, "push");
    marks.mark("pushed");
    let log_key = store_log(ctx, task, &res).await;
    marks.mark("log_stored");
    let result = result_msg(ctx, task, &res, started_at, pushed, log_key, split);
    publish_result(ctx, &result).await;
    marks.mark("published");
    let _ = acker.double_ack().await;
    marks.mark("acked");
    tracing::debug!(task = %task.key.name, ms = clock.elapsed().as_millis() as u64, "published and acked");
    ctx.say(&ended_line(task, &res, result.branch.as_deref()));
    if let Some(co) = &checkout {
        remove_checkout(ctx, task, co).await;
    }
    marks.mark("cleaned");
    marks.say(&task.key.name);
}

fn result_msg(
    ctx: &WorkerCtx,
    task: &TaskMsg,
    res: &AttemptResult,
    started_at: chrono::DateTime<chrono::Utc>,
    pushed: Option<(String, String)>,
    log_key: Option<String>,
    split: Option<String>,
) -> ResultMsg {
    let (commit, branch) = pushed.unzip();
    ResultMsg {
        v: protocol::VERSION,
        key: task.key.clone(),
        worker: ctx.name.clone(),
        host: ctx.host.clone(),
        outcome: res.outcome.clone(),
        report: res.report.clone(),
        duration_secs: res.duration.as_secs_f64(),
        started_at,
        finished_at: chrono::Utc::now(),
        tail: res.tail.clone(),
        branch,
        commit,
        log_key,
        split,
    }
}

/// `1-A-A1 attempt 1 succeeded in 1.1s, pushed <branch>`.
fn ended_line(task: &TaskMsg, res: &AttemptResult, branch: Option<&str>) -> String {
    format!(
        "{} attempt {} {} in {:.1}s{}",
        task.key.name,
        task.key.attempt,
        res.outcome.label(),
        res.duration.as_secs_f64(),
        branch.map(|b| format!(", pushed {b}")).unwrap_or_default()
    )
}

/// The commit of a successful attempt's work (a failure to commit fails
/// the attempt).
async fn committed(
    task: &TaskMsg,
    res: &mut AttemptResult,
    checkout: Option<&Checkout>,
) -> Option<git2::Oid> {
    let co = checkout.filter(|_| res.outcome.is_success())?;
    let (t, c) = (task.clone(), co.clone());
    match tokio::task::spawn_blocking(move || checkout::commit(&t, &c)).await {
        Ok(Ok(id)) => Some(id),
        Ok(Err(reason)) => {
            res.outcome = failed(reason);
            None
        }
        Err(e) => {
            res.outcome = failed(format!("the commit crashed: {e}"));
            None
        }
    }
}

/// The same attempt delivered twice (a server restart can forget a
/// delivery), and the other delivery's result is in with its branch: that
/// stands, and this one is acked without a push (a second branch would
/// only linger). Whether it stood down.
async fn stood_down(
    ctx: &WorkerCtx,
    task: &TaskMsg,
    acker: &jetstream::message::Acker,
    checkout: Option<&Checkout>,
) -> bool {
    let Some(what) = already_done(ctx, task).await else {
        return false;
    };
    ctx.say(&format!(
        "{} attempt {}: another worker finished it first ({what}): nothing pushed",
        task.key.name, task.key.attempt
    ));
    let _ = acker.double_ack().await;
    if let Some(co) = checkout {
        remove_checkout(ctx, task, co).await;
    }
    true
}

/// The sub-roadmap the agent left at the task's split file, removed from
/// the checkout (whatever the depth: the coordinator says what a file
/// written at the limit comes to). One over [`protocol::MAX_SPLIT_BYTES`]
/// fails the attempt instead.
fn take_split(task: &TaskMsg, co: &Checkout, outcome: &mut TaskOutcome) -> Option<String> {
    let rel = task.split_file.as_deref()?;
    take_file(&co.cwd.join(rel), rel, outcome)
}

fn take_file(file: &std::path::Path, rel: &str, outcome: &mut TaskOutcome) -> Option<String> {
    let size = std::fs::metadata(file).ok()?.len();
    let text = (size <= protocol::MAX_SPLIT_BYTES).then(|| std::fs::read(file));
    let _ = std::fs::remove_file(file);
    match text {
        Some(Ok(bytes)) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Some(Err(e)) => {
            *outcome = failed(format!("cannot read the sub-roadmap at {rel}: {e}"));
            None
        }
        None => {
            *outcome = failed(format!(
                "the sub-roadmap written to ${} is {} KiB, more than the {} KiB a worker sends back: write a shorter one (fewer, larger tasks)",
                crate::runner::split::SPLIT_FILE_ENV,
                size.div_ceil(1024),
                protocol::MAX_SPLIT_BYTES / 1024
            ));
            None
        }
    }
}

/// Under the mirror's lock, as `worktree add`: deleting the last branch
/// under `refs/heads/roadmap-runner/` removes that directory, which a
/// branch being made at the same moment needs.
async fn remove_checkout(ctx: &WorkerCtx, task: &TaskMsg, co: &Checkout) {
    let _lock = ctx.mirror_lock(&task.remote).await;
    let c = co.clone();
    let _ = tokio::task::spawn_blocking(move || checkout::remove(&c)).await;
}

/// The agent's log (and its setup's) into the object store; its key.
async fn store_log(ctx: &WorkerCtx, task: &TaskMsg, res: &AttemptResult) -> Option<String> {
    let mut bytes = Vec::new();
    if let Some(s) = &res.job.setup
        && let Ok(setup) = std::fs::read(&s.log_path)
    {
        bytes.extend_from_slice(&setup);
    }
    if let Ok(log) = std::fs::read(&res.job.log_path) {
        bytes.extend_from_slice(&log);
    }
    let key = task.key.log_key();
    match ctx
        .queues
        .logs
        .put(key.as_str(), &mut bytes.as_slice())
        .await
    {
        Ok(_) => Some(key),
        Err(e) => {
            tracing::warn!(error = %e, "cannot store the log");
            None
        }
    }
}

/// Publishes the result, trying again while the server is away: the
/// coordinator waits for it.
async fn publish_result(ctx: &WorkerCtx, result: &ResultMsg) {
    let payload = serde_json::to_vec(result).expect("a result serialises");
    for _ in 0..600 {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", result.key.result_msg_id().as_str());
        let sent = ctx
            .queues
            .js
            .publish_with_headers(result.key.result_subject(), headers, payload.clone().into())
            .await;
        if let Ok(ack) = sent
            && ack.await.is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tracing::error!(task = %result.key.name, "cannot publish the result: the task will be redelivered");
}

fn failed(reason: String) -> TaskOutcome {
    TaskOutcome::Failed {
        exit_code: None,
        signal: None,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_file_is_taken_out_and_an_oversized_one_fails_the_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("1+3AA+3AA2.md");
        let mut outcome = TaskOutcome::Succeeded;
        assert_eq!(take_file(&file, "status/sub/x.md", &mut outcome), None);
        std::fs::write(&file, "## Phase 1: P\n").unwrap();
        let text = take_file(&file, "status/sub/x.md", &mut outcome);
        assert_eq!(text.as_deref(), Some("## Phase 1: P\n"));
        assert!(outcome.is_success() && !file.exists());
        std::fs::write(&file, vec![b'x'; protocol::MAX_SPLIT_BYTES as usize + 1]).unwrap();
        assert_eq!(take_file(&file, "status/sub/x.md", &mut outcome), None);
        assert!(!file.exists());
        match outcome {
            TaskOutcome::Failed { reason, .. } => {
                assert!(
                    reason.contains("257 KiB, more than the 256 KiB"),
                    "{reason}"
                )
            }
            o => panic!("{o:?}"),
        }
    }
}
