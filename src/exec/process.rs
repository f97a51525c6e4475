//! One child process from spawn to reaped, with its whole process group.
//!
//! The shape follows nextest's runner: the child leads its own process group,
//! and one `select!` loop per child drives everything: both output pipes, the
//! child's exit, the timeout, the grace period, the leak timeout and stop
//! requests. Nothing polls, nothing blocks a thread.
//!
//! Output handling, chosen for bounded memory:
//!
//! - Pipes are read in chunks of [`READ_CHUNK`] bytes and split into lines.
//!   A line is held whole up to [`MAX_LINE_BYTES`] (1 MiB); the rest of a
//!   longer line is dropped, so an agent printing 100 MB without a newline
//!   costs 1 MiB, not 100 MB.
//! - The callback gets the (capped) line, lossily decoded as UTF-8.
//! - The log gets the same capped line as raw bytes (stdout verbatim, stderr
//!   prefixed with `[stderr] `), followed by ` [... N bytes truncated]` when
//!   bytes were dropped. The log is appended to (a retry of a task keeps the
//!   earlier attempt's output above it) and flushed after every chunk read,
//!   so `tail -f` follows the agent live.
//! - `tail` keeps the last [`TAIL_LINES`] lines of both streams in arrival
//!   order, stderr lines with the same `[stderr] ` prefix as the log, each
//!   cut to [`TAIL_LINE_BYTES`].
//!
//! A log write that fails mid-run (disk full) is reported once through
//! `tracing` and logging stops; the agent is not killed for it. Failing to
//! create the log before the start is [`ExecError::Log`].

use super::output::{LogWriter, Pipe, Sink};
pub use super::output::{
    MAX_LINE_BYTES, OutputStream, ProcessEvent, READ_CHUNK, STDERR_PREFIX, TAIL_LINE_BYTES,
    TAIL_LINES,
};
use crate::exec::unix;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::watch;
use tokio::time::Instant;

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
///
/// Events: [`ProcessEvent::Started`] once, then every output line in arrival
/// order (per stream; the two streams interleave as their chunks arrive).
///
/// Ending the process:
/// - `spec.timeout` elapsed: SIGTERM to the group, SIGKILL after
///   `spec.grace`; `timed_out` is set.
/// - A stop request: [`StopLevel::Terminate`] does the same as the timeout,
///   [`StopLevel::Kill`] sends SIGKILL at once (also when a Terminate is
///   already under way); `stopped` is set. A dropped sender means "no more
///   requests". A request already raised when this is called is applied right
///   after the spawn.
/// - Once the child has exited, descendants still holding its output pipes
///   get `spec.leak_timeout` to close them; then the group is killed and
///   reading stops (`leaked`). In every case, after the child has exited the
///   whole group is sent SIGKILL, so no grandchild outlives its task.
///
/// If the returned future is dropped before completion, the process group is
/// killed (and tokio reaps the child in the background).
///
/// Limits: a descendant that moves itself out of the group (`setsid`,
/// `setpgid`) escapes the group signals; this is the price of not using
/// cgroups. The final SIGKILL goes to the group id after the child was reaped:
/// the id cannot be reused while any member lives, and once the group is empty
/// the kill finds nothing (`ESRCH`, ignored).
pub async fn run_process(
    spec: ProcessSpec,
    mut stop: watch::Receiver<StopLevel>,
    on_event: &mut (dyn FnMut(ProcessEvent<'_>) + Send),
) -> Result<ProcessOutcome, ExecError> {
    let started = Instant::now();
    let program = spec.program.to_string_lossy().into_owned();

    let log = match &spec.log_path {
        Some(path) => Some(LogWriter::create(path).map_err(|source| ExecError::Log {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    let mut sink = Sink {
        log,
        tail: VecDeque::with_capacity(TAIL_LINES),
    };
    let (mut child, pid) = spawn(&spec, &program)?;
    let guard = GroupGuard {
        pgid: pid,
        armed: true,
    };
    on_event(ProcessEvent::Started { pid });
    let mut watcher = Supervisor::new(pid, &spec, started);
    let stdin_task = feed_stdin(spec.stdin, child.stdin.take());

    let io_err = |what: &str| ExecError::Io {
        program: program.clone(),
        source: std::io::Error::other(format!("child {what} pipe missing")),
    };
    let mut pipes = Pipes {
        out: Pipe::new(child.stdout.take().ok_or_else(|| io_err("stdout"))?),
        err: Pipe::new(child.stderr.take().ok_or_else(|| io_err("stderr"))?),
    };
    let ended = watcher
        .watch(&mut child, &mut pipes, &mut sink, &mut stop, on_event)
        .await
        .map_err(|source| ExecError::Io {
            program: program.clone(),
            source,
        });

    // Nothing of the group outlives the task.
    guard.kill_now();
    pipes.out.finish(OutputStream::Stdout, &mut sink, on_event);
    pipes.err.finish(OutputStream::Stderr, &mut sink, on_event);
    sink.flush();
    if let Some(task) = stdin_task {
        // A descendant holding stdin without reading would keep it blocked.
        task.abort();
    }
    ended?;
    let status = match watcher.status {
        Some(st) => unix::exit_status_kind(st),
        // The loop only ends once the child has been waited for.
        None => unreachable!("process loop ended before the child exited"),
    };
    Ok(ProcessOutcome {
        pid,
        status,
        timed_out: watcher.timed_out,
        stopped: watcher.stopped,
        leaked: watcher.leaked,
        duration: started.elapsed(),
        tail: sink.tail.into_iter().collect(),
    })
}

/// The child, leading a process group of its own, and its pid.
fn spawn(spec: &ProcessSpec, program: &str) -> Result<(tokio::process::Child, u32), ExecError> {
    if !spec.cwd.is_dir() {
        return Err(ExecError::Spawn {
            program: program.to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("working directory {} does not exist", spec.cwd.display()),
            ),
        });
    }
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(match spec.stdin {
            StdinSource::Null => Stdio::null(),
            StdinSource::Bytes(_) => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // The child leads a new process group whose id is its pid.
        .process_group(0)
        // Backstop for an early return; the group guard does the real work.
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|source| ExecError::Spawn {
        program: program.to_string(),
        source,
    })?;
    let Some(pid) = child.id() else {
        // Only possible once the child has been reaped, which we have not done.
        return Err(ExecError::Io {
            program: program.to_string(),
            source: std::io::Error::other("spawned child has no pid"),
        });
    };
    Ok((child, pid))
}

/// Stdin is fed from its own task so that a child which never reads cannot
/// block the loop; dropping the handle closes the pipe (EOF).
fn feed_stdin(
    stdin: StdinSource,
    pipe: Option<tokio::process::ChildStdin>,
) -> Option<tokio::task::JoinHandle<()>> {
    match (stdin, pipe) {
        (StdinSource::Bytes(bytes), Some(mut pipe)) => Some(tokio::spawn(async move {
            // EPIPE (the child exited without reading) is not our problem.
            let _ = pipe.write_all(&bytes).await;
            let _ = pipe.shutdown().await;
        })),
        _ => None,
    }
}

struct Pipes {
    out: Pipe<tokio::process::ChildStdout>,
    err: Pipe<tokio::process::ChildStderr>,
}

impl Pipes {
    fn open(&self) -> bool {
        self.out.open || self.err.open
    }
}

/// The child's life as the loop sees it: how and whether it ended, and the
/// deadlines that may end it.
struct Supervisor {
    pid: u32,
    timeout_at: Option<Instant>,
    leak_timeout: Duration,
    term: Terminator,
    status: Option<ExitStatus>,
    leak_at: Option<Instant>,
    timed_out: bool,
    stopped: Option<StopLevel>,
    leaked: bool,
}

impl Supervisor {
    fn new(pid: u32, spec: &ProcessSpec, started: Instant) -> Supervisor {
        Supervisor {
            pid,
            timeout_at: spec.timeout.and_then(|t| started.checked_add(t)),
            leak_timeout: spec.leak_timeout,
            term: Terminator {
                pgid: pid,
                grace: spec.grace,
                sent: StopLevel::Run,
                kill_at: None,
            },
            status: None,
            leak_at: None,
            timed_out: false,
            stopped: None,
            leaked: false,
        }
    }

    /// Drives both pipes, the exit, the deadlines and stop requests until the
    /// child has exited and its pipes are closed (or given up on).
    async fn watch(
        &mut self,
        child: &mut tokio::process::Child,
        pipes: &mut Pipes,
        sink: &mut Sink,
        stop: &mut watch::Receiver<StopLevel>,
        on_event: &mut (dyn FnMut(ProcessEvent<'_>) + Send),
    ) -> std::io::Result<()> {
        let mut stop_open = true;
        let initial = *stop.borrow_and_update();
        if initial > StopLevel::Run {
            self.stopped = Some(initial);
            self.term.escalate(initial);
        }
        while self.status.is_none() || pipes.open() {
            let (out, err) = (&mut pipes.out, &mut pipes.err);
            tokio::select! {
                n = out.reader.read(&mut out.buf), if out.open => {
                    out.consume(n, OutputStream::Stdout, sink, on_event);
                    sink.flush();
                }
                n = err.reader.read(&mut err.buf), if err.open => {
                    err.consume(n, OutputStream::Stderr, sink, on_event);
                    sink.flush();
                }
                res = child.wait(), if self.status.is_none() => {
                    self.status = Some(res?);
                    self.term.kill_at = None;
                    if pipes.open() {
                        self.leak_at = after(self.leak_timeout);
                    }
                }
                () = sleep_until_opt(self.timeout_at), if self.status.is_none() && !self.timed_out => {
                    self.timed_out = true;
                    self.term.escalate(StopLevel::Terminate);
                }
                () = sleep_until_opt(self.term.kill_at), if self.status.is_none() => {
                    self.term.escalate(StopLevel::Kill);
                }
                () = sleep_until_opt(self.leak_at) => {
                    // Descendants kept the pipes open past the leak timeout.
                    unix::kill_group(self.pid);
                    self.leaked = true;
                    return Ok(());
                }
                changed = stop.changed(), if stop_open => {
                    if changed.is_err() {
                        // The sender is gone: no request can come any more.
                        stop_open = false;
                        continue;
                    }
                    let level = *stop.borrow_and_update();
                    if self.stop_requested(level, pipes.open()) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// A stop request; true when the loop is done.
    fn stop_requested(&mut self, level: StopLevel, pipes_open: bool) -> bool {
        if level == StopLevel::Run {
            return false;
        }
        if self.status.is_none() {
            self.stopped = Some(self.stopped.map_or(level, |s| s.max(level)));
            self.term.escalate(level);
            return false;
        }
        // Only leaked descendants are left: they go now.
        unix::kill_group(self.pid);
        if level == StopLevel::Kill {
            self.leaked = pipes_open;
            return true;
        }
        false
    }
}

/// `now + d`; `None` (never) when that is beyond what `Instant` can hold.
fn after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Kills the process group when dropped: covers early returns and a
/// cancelled `run_process` future.
struct GroupGuard {
    pgid: u32,
    armed: bool,
}

impl GroupGuard {
    /// The final kill of the normal path; disarms the guard.
    fn kill_now(mut self) {
        unix::kill_group(self.pgid);
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            unix::kill_group(self.pgid);
        }
    }
}

/// The TERM → grace → KILL sequence; levels only go up.
struct Terminator {
    pgid: u32,
    grace: Duration,
    /// The strongest signal sent so far (Run: none).
    sent: StopLevel,
    /// When SIGKILL follows the SIGTERM already sent.
    kill_at: Option<Instant>,
}

impl Terminator {
    fn escalate(&mut self, level: StopLevel) {
        match level {
            StopLevel::Run => {}
            StopLevel::Terminate if self.sent == StopLevel::Run => {
                unix::terminate_group(self.pgid);
                self.sent = StopLevel::Terminate;
                self.kill_at = after(self.grace);
            }
            StopLevel::Terminate => {}
            StopLevel::Kill => {
                unix::kill_group(self.pgid);
                self.sent = StopLevel::Kill;
                self.kill_at = None;
            }
        }
    }
}
