//! A worker's pushes of task branches to one remote. A push asked for while
//! another is on its way waits for it, then goes with every other one that
//! waited, in one push: one connection and, on the remote's side, one
//! `receive-pack`, where slots ending together made one each.

use super::checkout::{self, Checkout};
use crate::cluster::protocol::TaskMsg;
use git2::Oid;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// The pushed commit and its branch, or why not.
pub type Pushed = Result<(String, String), String>;

/// The pushes waiting for their turn, and the turn.
#[derive(Default)]
pub struct Pushes {
    waiting: Mutex<Vec<Waiting>>,
    turn: tokio::sync::Mutex<()>,
}

struct Waiting {
    refspec: String,
    branch: String,
    commit: String,
    mirror: std::path::PathBuf,
    remote: String,
    done: oneshot::Sender<Pushed>,
}

impl Pushes {
    /// Pushes the attempt's `commit` as its branch (alone or with others).
    pub async fn push(&self, task: &TaskMsg, co: &Checkout, commit: Oid) -> Pushed {
        let (refspec, branch) = checkout::branch_refspec(task, commit);
        let (done, mut rx) = oneshot::channel();
        self.waiting.lock().expect("pushes").push(Waiting {
            refspec,
            branch,
            commit: commit.to_string(),
            mirror: co.mirror.clone(),
            remote: task.remote.clone(),
            done,
        });
        let turn = self.turn.lock().await;
        // Pushed with an earlier batch while this one waited for the turn.
        if let Ok(pushed) = rx.try_recv() {
            return pushed;
        }
        let batch = std::mem::take(&mut *self.waiting.lock().expect("pushes"));
        let _ = tokio::task::spawn_blocking(move || push_batch(batch)).await;
        drop(turn);
        rx.await
            .unwrap_or_else(|_| Err("the push crashed".to_string()))
    }
}

/// One push for the whole batch; if it fails, each on its own, so that one
/// refused branch fails only its own attempt.
fn push_batch(batch: Vec<Waiting>) {
    let Some(first) = batch.first() else {
        return;
    };
    let specs: Vec<String> = batch.iter().map(|w| w.refspec.clone()).collect();
    tracing::debug!(branches = specs.len(), "push");
    let together = checkout::push(&first.mirror, &first.remote, &specs);
    let alone = batch.len() == 1;
    for w in batch {
        let pushed = match &together {
            Ok(()) => Ok(()),
            Err(e) if alone => Err(e.clone()),
            Err(_) => checkout::push(&w.mirror, &w.remote, std::slice::from_ref(&w.refspec)),
        };
        let _ = w.done.send(pushed.map(|()| (w.commit, w.branch)));
    }
}
