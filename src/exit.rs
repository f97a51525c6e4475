//! The documented exit codes (README "Exit codes").

pub const OK: i32 = 0;
pub const TASK_FAILED: i32 = 1;
pub const GATE_FAILED: i32 = 2;
pub const VCS_FAILED: i32 = 3;
pub const ROADMAP_INVALID: i32 = 4;
pub const PREFLIGHT_FAILED: i32 = 5;
/// `--isolation worktree`: a task's change conflicts and was not resolved.
pub const MERGE_CONFLICT: i32 = 6;
/// The run's `--max-cost` was reached: no agent starts after it.
pub const BUDGET_SPENT: i32 = 7;
pub const USAGE: i32 = 64;
pub const LOCKED: i32 = 75;

/// Interrupted by a signal: 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
pub fn interrupted(signo: i32) -> i32 {
    128 + signo
}
