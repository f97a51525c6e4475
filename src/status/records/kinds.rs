//! The record kinds of `tasks.jsonl`, one struct each (the format is
//! described in [`super`]).

use super::{cap_text, rfc3339, round_ms};
use crate::agent::{AgentReport, TaskOutcome};
use crate::config::Isolation;
use crate::roadmap::{GroupKey, PhaseId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One attempt at one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub phase: PhaseId,
    pub group: String,
    pub task: String,
    /// 1 for the first attempt, counting retries within one run.
    pub attempt: u32,
    pub outcome: TaskOutcome,
    #[serde(with = "rfc3339")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub finished_at: DateTime<Utc>,
    pub duration_secs: f64,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub num_turns: Option<u64>,
    /// The attempt's log, relative to the project directory.
    #[serde(default)]
    pub log: Option<String>,
    /// The agent's final summary, capped at [`RESULT_TEXT_CAP`] bytes.
    #[serde(default)]
    pub result_text: Option<String>,
    /// `repair` or `review` for the runner's own agents (their `task` is
    /// `repair-1`, `review-1`...); none for a roadmap task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A repair: the fingerprint of the gate failure it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A review: the verdict (`{"verdict":"approve"|"changes","items":[...]}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<serde_json::Value>,
    /// With `--isolation worktree`: the worktree the attempt ran in (its
    /// work is merged from there); absent when it ran in the project tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    /// With `--nats`: the worker that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// With `--nats`: the task branch the worker pushed, and its commit
    /// (what is fetched and merged before the gate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The agent profile that ran the attempt (`claude`, `codex`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Token usage as the agent reported it, kept when it reports no cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<serde_json::Value>,
}

impl TaskRecord {
    /// A record from what the runner knows when an attempt ends. The exit
    /// code is taken from the outcome (0 for success); the agent's report
    /// gives cost, session, turns and the (capped) summary.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &GroupKey,
        task: &str,
        attempt: u32,
        outcome: TaskOutcome,
        report: &AgentReport,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        duration: std::time::Duration,
        log: Option<String>,
    ) -> Self {
        let exit_code = match &outcome {
            TaskOutcome::Succeeded => Some(0),
            TaskOutcome::Failed { exit_code, .. } => *exit_code,
            _ => None,
        };
        TaskRecord {
            phase: key.phase.clone(),
            group: key.group.clone(),
            task: task.to_string(),
            attempt,
            outcome,
            started_at,
            finished_at,
            duration_secs: round_ms(duration.as_secs_f64()),
            exit_code,
            cost_usd: report.cost_usd,
            session_id: report.session_id.clone(),
            num_turns: report.num_turns,
            log,
            result_text: report.result_text.as_deref().map(cap_text),
            role: None,
            fingerprint: None,
            verdict: None,
            worktree: None,
            worker: None,
            branch: None,
            commit: None,
            agent: None,
            tokens: report.usage.clone().filter(|_| report.cost_usd.is_none()),
        }
    }

    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }

    pub fn is_for_group(&self, key: &GroupKey) -> bool {
        self.phase == key.phase && self.group == key.group
    }
}

/// One run of a group's gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    pub phase: PhaseId,
    pub group: String,
    pub passed: bool,
    #[serde(default)]
    pub steps: Vec<GateStepRecord>,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub log: Option<String>,
}

impl GateRecord {
    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateStepRecord {
    /// `typecheck`, `lint`, `test`, `build`.
    pub name: String,
    pub status: StepStatus,
    #[serde(default)]
    pub duration_secs: Option<f64>,
}

/// How one gate step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Passed,
    Failed,
    /// Failed, but configured not to block the group.
    Warning,
    /// Not run (not configured, or an earlier step failed).
    NotRun,
    /// A status written by a newer build.
    #[serde(other)]
    Unknown,
}

impl StepStatus {
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::Warning => "warning",
            StepStatus::NotRun => "not run",
            StepStatus::Unknown => "unknown",
        }
    }
}

/// The group was rolled back: its earlier records no longer count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub phase: PhaseId,
    pub group: String,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

impl ResetRecord {
    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }
}

/// A group began running (agents or gate) in some run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRecord {
    pub phase: PhaseId,
    pub group: String,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// HEAD when the group started.
    #[serde(default)]
    pub head: Option<String>,
    /// Blob ids of the files that differed from HEAD when the group first
    /// started (`None` for a resumed start: the first one's base holds).
    #[serde(default)]
    pub base: Option<BTreeMap<String, String>>,
    /// Where its tasks work (`--isolation`); a group keeps the isolation it
    /// began with until it is complete ([`group_isolation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<Isolation>,
}

/// The group was recorded complete (its `completed_tasks.txt` line written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompleteRecord {
    pub phase: PhaseId,
    pub group: String,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// A phase commit about to be made, or skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitRecord {
    pub phase: PhaseId,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// HEAD before the commit.
    #[serde(default)]
    pub parent: Option<String>,
    /// Completed with commits off (`--no-commit`): no commit is owed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

/// Where in a group a snapshot of the working tree was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotPoint {
    /// Before the group's first agent: the tree the group took over.
    Start,
    /// After the group ended, whatever its outcome: the tree it handed back.
    End,
}

/// The whole working tree as the runner held it at a group's start or end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    pub phase: PhaseId,
    pub group: String,
    pub point: SnapshotPoint,
    /// The git tree object of the snapshot.
    pub tree: String,
    /// The user's changes the snapshot left out: path → git blob id of the
    /// content they held when found (`deleted` for a deletion).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, String>,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// With `--isolation worktree`: a task's change merged into the project
/// tree. `integrating` is written before the tree is written, `integrated`
/// after, so a run killed in between writes `to` again (see
/// `crate::worktree::integrate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationRecord {
    pub phase: PhaseId,
    pub group: String,
    pub task: String,
    /// The task's commit on its branch.
    pub commit: String,
    /// The merged state before (a commit under `refs/roadmap-runner/merged/`).
    pub from: String,
    /// The merged state with the task's change.
    pub to: String,
    /// The files the task itself changed (its own diff).
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

impl IntegrationRecord {
    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }
}
