//! Running child processes the way an unattended runner must: each in its own
//! process group, output streamed line by line to a log and a callback, under a
//! timeout (SIGTERM to the group, grace period, SIGKILL), stoppable on request,
//! and never hung by a grandchild that keeps the output pipes open.

mod output;
pub mod process;
pub mod unix;

pub use process::{
    ExecError, ExitStatusKind, OutputStream, ProcessEvent, ProcessOutcome, ProcessSpec,
    StdinSource, StopLevel, run_process,
};
