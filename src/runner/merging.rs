//! Merges as results arrive (`--isolation worktree`): each task's change is
//! merged into the project tree as soon as its attempt succeeds and is
//! recorded, while the group's other agents run, so the tail after the last
//! agent is at most one merge.
//!
//! The order is the order tasks succeed in, and the crash protocol records
//! it (`integrating`, the tree written, `integrated`, as at the end). A
//! three-way merge of changes that touch different lines gives the same
//! tree in any order, so the result depends on the finishing order only
//! through the lines two tasks both changed. Those conflict: the first
//! conflict (or error) leaves that task and every later one to the merge
//! before the gate ([`super::Ctx::integrate`]), which handles it exactly as
//! it always has, in roadmap order, skipping what is integrated.

use super::group::GroupIo;
use crate::events::{Event, Reporter};
use crate::roadmap::{GroupKey, Task};
use crate::status::{IntegrationRecord, Store};
use crate::vcs::Repo;
use crate::worktree::{self, Merged, Worktrees};
use git2::Oid;

/// A group's merges as its tasks succeed.
#[derive(Debug, Default)]
pub struct Arriving {
    /// A merge conflicted or failed: the rest waits for the end.
    deferred: bool,
}

impl Arriving {
    /// Merges the task's worktree now, or leaves it (and every later
    /// task) to the merge before the gate.
    pub fn merge(
        &mut self,
        repo: &Repo,
        wts: &Worktrees,
        key: &GroupKey,
        task: &Task,
        io: &mut GroupIo<'_, '_>,
    ) {
        if self.deferred {
            return;
        }
        let message = task_message(task);
        let merged = worktree::commit_task(wts, key, &task.id, &message)
            .map_err(|e| e.to_string())
            .and_then(|commit| {
                match worktree::merge_task(repo, wts, key, commit, &message) {
                    Ok(Ok(m)) => record_merge(repo, io.store, key, &task.id, commit, m).map(Some),
                    // Handled before the gate, where a resolver may run.
                    Ok(Err(_conflict)) => Ok(None),
                    Err(e) => Err(e.to_string()),
                }
            });
        match merged {
            Ok(Some(files)) => io.reporter.report(&merged_note(key, &task.id, files.len())),
            Ok(None) => {
                tracing::info!(group = %key, task = %task.id, "conflict: merged before the gate");
                self.deferred = true;
            }
            Err(e) => {
                tracing::warn!(group = %key, task = %task.id, error = %e, "merged before the gate");
                self.deferred = true;
            }
        }
    }
}

/// The task's commit message (`A1: title`), also its merge's.
pub fn task_message(task: &Task) -> String {
    format!("{}: {}", task.id, task.title)
}

/// A clean merge written into the project tree between the `integrating`
/// and `integrated` records. The files the task changed.
pub fn record_merge(
    repo: &Repo,
    store: &mut Store<'_>,
    key: &GroupKey,
    task_id: &str,
    commit: Oid,
    m: Merged,
) -> Result<Vec<String>, String> {
    let files = worktree::task_files(repo, m.from, commit).map_err(|e| e.to_string())?;
    let rec = IntegrationRecord {
        phase: key.phase.clone(),
        group: key.group.clone(),
        task: task_id.to_string(),
        commit: commit.to_string(),
        from: m.from.to_string(),
        to: m.to.to_string(),
        files: files.clone(),
        at: chrono::Utc::now(),
    };
    store.integrating(&rec).map_err(|e| e.to_string())?;
    worktree::finish_integration(repo, key, m).map_err(|e| e.to_string())?;
    store.integrated(&rec).map_err(|e| e.to_string())?;
    // Between two merges: where a kill must resume to the same result.
    crate::status::store::crash_point("integrated");
    tracing::info!(group = %key, task = %task_id, files = files.len(), "integrated");
    Ok(files)
}

pub fn merged_note(key: &GroupKey, task_id: &str, files: usize) -> Event {
    Event::Note {
        message: format!(
            "{key}: {task_id}'s worktree merged into the project tree ({})",
            crate::text::plural(files, "file")
        ),
    }
}

/// Reports through a reporter alone (the merge before the gate).
pub fn note(reporter: &mut dyn Reporter, key: &GroupKey, task_id: &str, files: usize) {
    reporter.report(&merged_note(key, task_id, files));
}
