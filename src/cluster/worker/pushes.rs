//! A worker's pushes of task branches to one remote, in batches (see
//! [`crate::cluster::batch`]): slots that end together push together.

use super::checkout::{self, Checkout};
use crate::cluster::batch::Batcher;
use crate::cluster::protocol::TaskMsg;
use git2::Oid;

/// The pushed commit and its branch, or why not.
pub type Pushed = Result<(String, String), String>;

/// The pushes to one remote.
#[derive(Default)]
pub struct Pushes(Batcher<Waiting, Pushed>);

struct Waiting {
    refspec: String,
    branch: String,
    commit: String,
    mirror: std::path::PathBuf,
    remote: String,
}

impl Pushes {
    /// Pushes the attempt's `commit` as its branch (alone or with others).
    pub async fn push(&self, task: &TaskMsg, co: &Checkout, commit: Oid) -> Pushed {
        let (refspec, branch) = checkout::branch_refspec(task, commit);
        let w = Waiting {
            refspec,
            branch,
            commit: commit.to_string(),
            mirror: co.mirror.clone(),
            remote: task.remote.clone(),
        };
        self.0
            .run(w, push_batch)
            .await
            .unwrap_or_else(|| Err("the push crashed".to_string()))
    }
}

/// One push for the whole batch; if it fails, each on its own, so that one
/// refused branch fails only its own attempt.
fn push_batch(batch: Vec<Waiting>) -> Vec<Pushed> {
    let Some(first) = batch.first() else {
        return Vec::new();
    };
    let specs: Vec<String> = batch.iter().map(|w| w.refspec.clone()).collect();
    tracing::debug!(branches = specs.len(), "push");
    let together = checkout::push(&first.mirror, &first.remote, &specs);
    let alone = batch.len() == 1;
    batch
        .into_iter()
        .map(|w| {
            let pushed = match &together {
                Ok(()) => Ok(()),
                Err(e) if alone => Err(e.clone()),
                Err(_) => checkout::push(&w.mirror, &w.remote, std::slice::from_ref(&w.refspec)),
            };
            // The branch is named by its commit: refused because another
            // delivery of the same attempt pushed that commit at the same
            // moment, it is pushed all the same.
            let pushed = pushed.or_else(|e| {
                match checkout::remote_holds(&w.mirror, &w.remote, &w.branch, &w.commit) {
                    Ok(true) => Ok(()),
                    _ => Err(e),
                }
            });
            pushed.map(|()| (w.commit, w.branch))
        })
        .collect()
}
