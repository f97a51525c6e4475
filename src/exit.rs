//! The documented exit codes (README "Exit codes").

pub const OK: i32 = 0;
pub const TASK_FAILED: i32 = 1;
pub const GATE_FAILED: i32 = 2;
pub const VCS_FAILED: i32 = 3;
pub const ROADMAP_INVALID: i32 = 4;
pub const PREFLIGHT_FAILED: i32 = 5;
pub const USAGE: i32 = 64;
pub const LOCKED: i32 = 75;
pub const INTERRUPTED_INT: i32 = 130;
pub const INTERRUPTED_TERM: i32 = 143;
