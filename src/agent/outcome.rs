//! What became of one agent run, as the runner, the status store and the
//! reporters all see it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How one attempt at a task ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskOutcome {
    /// Exit 0 and a result that is not `is_error`.
    Succeeded,
    /// Non-zero exit, or exit 0 with an error result.
    Failed {
        exit_code: Option<i32>,
        signal: Option<i32>,
        reason: String,
    },
    /// Killed after `TASK_TIMEOUT`.
    TimedOut { after_secs: u64 },
    /// Stopped because the runner was interrupted (signal, fail-fast, auth stop).
    Interrupted,
    /// The agent is not logged in / its credentials were refused.
    AuthFailure { message: String },
    /// The agent hit its usage limit; `resets_at` when the agent said so.
    UsageLimit {
        resets_at: Option<DateTime<Utc>>,
        message: String,
    },
    /// The agent stopped at its own spending cap (`--max-budget-usd`, a
    /// result with subtype `error_max_budget_usd`): neither a success nor a
    /// crash; its work may be partial.
    OverBudget { message: String },
    /// With `--nats`: every delivery went to a worker that went silent.
    WorkerLost { message: String },
    /// The agent wrote a valid sub-roadmap (`ROADMAP_RUNNER_SPLIT_FILE`)
    /// instead of doing the task: its `tasks` run in the task's place, and
    /// the task succeeds when they are complete.
    Split { tasks: usize },
}

impl TaskOutcome {
    pub fn is_success(&self) -> bool {
        matches!(self, TaskOutcome::Succeeded)
    }

    /// A short word for tables and plain lines.
    pub fn label(&self) -> &'static str {
        match self {
            TaskOutcome::Succeeded => "succeeded",
            TaskOutcome::Failed { .. } => "failed",
            TaskOutcome::TimedOut { .. } => "timed out",
            TaskOutcome::Interrupted => "interrupted",
            TaskOutcome::AuthFailure { .. } => "auth failure",
            TaskOutcome::UsageLimit { .. } => "usage limit",
            TaskOutcome::OverBudget { .. } => "over budget",
            TaskOutcome::WorkerLost { .. } => "worker lost",
            TaskOutcome::Split { .. } => "split",
        }
    }
}

/// What the agent's own output said about the run (Claude's `result` event).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    pub session_id: Option<String>,
    pub num_turns: Option<u64>,
    pub duration_ms: Option<u64>,
    pub cost_usd: Option<f64>,
    /// Token usage as the agent reported it (shape varies by agent version).
    pub usage: Option<serde_json::Value>,
    /// The agent's final summary text.
    pub result_text: Option<String>,
    /// The answer to `--json-schema` (Claude's `result.structured_output`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_output: Option<serde_json::Value>,
}
