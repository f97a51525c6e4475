//! One child process from spawn to reaped, with its whole process group.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

/// What the child reads on stdin. It always gets EOF: an open stdin that never
/// closes makes agent CLIs wait and warn.
#[derive(Debug, Clone)]
pub enum StdinSource {
    Null,
    /// Written to the child's stdin, which is then closed.
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Added to (or overriding) the runner's own environment.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: PathBuf,
    pub stdin: StdinSource,
    /// Every output line is appended here as it arrives (stdout verbatim,
    /// stderr lines prefixed with `[stderr] `). The file is created.
    pub log_path: Option<PathBuf>,
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL to the process group.
    pub grace: Duration,
    /// After the child exits, how long to wait for grandchildren to close the
    /// output pipes before killing the group and giving up on them.
    pub leak_timeout: Duration,
}

/// A request to stop, raised by the runner (signal, fail-fast, auth stop).
/// Levels only go up: Run → Terminate → Kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopLevel {
    Run,
    /// SIGTERM the group, SIGKILL after the grace period.
    Terminate,
    /// SIGKILL the group now.
    Kill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Reported while the process runs.
#[derive(Debug)]
pub enum ProcessEvent<'a> {
    Started {
        pid: u32,
    },
    /// One output line without its newline (lossily UTF-8 decoded, capped in length).
    Line(OutputStream, &'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatusKind {
    Code(i32),
    Signal(i32),
}

#[derive(Debug, Clone)]
pub struct ProcessOutcome {
    pub pid: u32,
    pub status: ExitStatusKind,
    pub timed_out: bool,
    /// Set when a stop request (not the timeout) ended the process.
    pub stopped: Option<StopLevel>,
    /// A descendant still held the output pipes after the child exited.
    pub leaked: bool,
    pub duration: Duration,
    /// The last lines of output (both streams), for failure messages.
    pub tail: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write log {path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("i/o error while running `{program}`: {source}")]
    Io {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs the process to completion. Returns when the child has exited and its
/// process group has been dealt with (nothing of it left running).
pub async fn run_process(
    _spec: ProcessSpec,
    _stop: watch::Receiver<StopLevel>,
    _on_event: &mut (dyn FnMut(ProcessEvent<'_>) + Send),
) -> Result<ProcessOutcome, ExecError> {
    todo!("exec helper")
}
