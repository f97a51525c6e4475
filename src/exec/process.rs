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

use crate::exec::unix;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::watch;
use tokio::time::Instant;

/// Longest line kept whole; the rest of a longer line is dropped.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// How many lines [`ProcessOutcome::tail`] keeps.
pub const TAIL_LINES: usize = 20;
/// Longest line kept in [`ProcessOutcome::tail`].
pub const TAIL_LINE_BYTES: usize = 4096;
/// Bytes read from a pipe at once.
pub const READ_CHUNK: usize = 64 * 1024;
/// Prefix of stderr lines in the log and the tail.
pub const STDERR_PREFIX: &str = "[stderr] ";

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
        Some(path) => Some(LogWriter::create(path)?),
        None => None,
    };
    let mut sink = Sink {
        log,
        tail: VecDeque::with_capacity(TAIL_LINES),
    };

    if !spec.cwd.is_dir() {
        return Err(ExecError::Spawn {
            program,
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
        // Backstop for an early return; the group guard below does the real work.
        .kill_on_drop(true);

    let mut child = cmd.spawn().map_err(|source| ExecError::Spawn {
        program: program.clone(),
        source,
    })?;
    let Some(pid) = child.id() else {
        // Only possible once the child has been reaped, which we have not done.
        return Err(ExecError::Io {
            program,
            source: std::io::Error::other("spawned child has no pid"),
        });
    };
    let guard = GroupGuard {
        pgid: pid,
        armed: true,
    };
    on_event(ProcessEvent::Started { pid });

    // Stdin is fed from its own task so that a child which never reads cannot
    // block the loop below; dropping the handle closes the pipe (EOF).
    let stdin_task = match (spec.stdin, child.stdin.take()) {
        (StdinSource::Bytes(bytes), Some(mut pipe)) => Some(tokio::spawn(async move {
            // EPIPE (the child exited without reading) is not our problem.
            let _ = pipe.write_all(&bytes).await;
            let _ = pipe.shutdown().await;
        })),
        _ => None,
    };

    let io_err = |what: &str| ExecError::Io {
        program: program.clone(),
        source: std::io::Error::other(format!("child {what} pipe missing")),
    };
    let mut out = Pipe::new(child.stdout.take().ok_or_else(|| io_err("stdout"))?);
    let mut err = Pipe::new(child.stderr.take().ok_or_else(|| io_err("stderr"))?);

    let timeout_at = spec.timeout.and_then(|t| started.checked_add(t));
    let mut term = Terminator {
        pgid: pid,
        grace: spec.grace,
        sent: StopLevel::Run,
        kill_at: None,
    };
    let mut status: Option<ExitStatus> = None;
    let mut leak_at: Option<Instant> = None;
    let mut timed_out = false;
    let mut stopped: Option<StopLevel> = None;
    let mut leaked = false;
    let mut stop_open = true;

    let initial = *stop.borrow_and_update();
    if initial > StopLevel::Run {
        stopped = Some(initial);
        term.escalate(initial);
    }

    loop {
        if status.is_some() && !out.open && !err.open {
            break;
        }
        tokio::select! {
            n = out.reader.read(&mut out.buf), if out.open => {
                out.consume(n, OutputStream::Stdout, &mut sink, on_event);
                sink.flush();
            }
            n = err.reader.read(&mut err.buf), if err.open => {
                err.consume(n, OutputStream::Stderr, &mut sink, on_event);
                sink.flush();
            }
            res = child.wait(), if status.is_none() => {
                let st = res.map_err(|source| ExecError::Io { program: program.clone(), source })?;
                status = Some(st);
                term.kill_at = None;
                if out.open || err.open {
                    leak_at = after(spec.leak_timeout);
                }
            }
            () = sleep_until_opt(timeout_at), if status.is_none() && !timed_out => {
                timed_out = true;
                term.escalate(StopLevel::Terminate);
            }
            () = sleep_until_opt(term.kill_at), if status.is_none() => {
                term.escalate(StopLevel::Kill);
            }
            () = sleep_until_opt(leak_at) => {
                // Descendants kept the pipes open past the leak timeout.
                unix::kill_group(pid);
                leaked = true;
                break;
            }
            changed = stop.changed(), if stop_open => {
                if changed.is_err() {
                    // The sender is gone: no request can come any more.
                    stop_open = false;
                    continue;
                }
                let level = *stop.borrow_and_update();
                if level == StopLevel::Run {
                    continue;
                }
                if status.is_none() {
                    stopped = Some(stopped.map_or(level, |s| s.max(level)));
                    term.escalate(level);
                } else {
                    // Only leaked descendants are left: they go now.
                    unix::kill_group(pid);
                    if level == StopLevel::Kill {
                        leaked = out.open || err.open;
                        break;
                    }
                }
            }
        }
    }

    // Nothing of the group outlives the task.
    guard.kill_now();
    out.finish(OutputStream::Stdout, &mut sink, on_event);
    err.finish(OutputStream::Stderr, &mut sink, on_event);
    sink.flush();
    if let Some(task) = stdin_task {
        // A descendant holding stdin without reading would keep it blocked.
        task.abort();
    }
    let status = match status {
        Some(st) => unix::exit_status_kind(st),
        // The loop only ends once the child has been waited for.
        None => unreachable!("process loop ended before the child exited"),
    };

    Ok(ProcessOutcome {
        pid,
        status,
        timed_out,
        stopped,
        leaked,
        duration: started.elapsed(),
        tail: sink.tail.into_iter().collect(),
    })
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

/// One output pipe: reader, read buffer and line splitter.
struct Pipe<R> {
    reader: R,
    buf: Vec<u8>,
    open: bool,
    lines: LineSplitter,
}

impl<R: AsyncRead + Unpin> Pipe<R> {
    fn new(reader: R) -> Self {
        Pipe {
            reader,
            buf: vec![0; READ_CHUNK],
            open: true,
            lines: LineSplitter::default(),
        }
    }

    fn consume(
        &mut self,
        read: std::io::Result<usize>,
        stream: OutputStream,
        sink: &mut Sink,
        on_event: &mut (dyn FnMut(ProcessEvent<'_>) + Send),
    ) {
        match read {
            Ok(0) => self.finish(stream, sink, on_event),
            Ok(n) => self.lines.feed(&self.buf[..n], &mut |line, dropped| {
                sink.line(stream, line, dropped, on_event)
            }),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                // Reading a pipe does not fail in practice; treat it as EOF.
                tracing::warn!(?stream, "cannot read child output: {e}");
                self.finish(stream, sink, on_event);
            }
        }
    }

    /// EOF (or giving up): the last line without a newline is still a line.
    fn finish(
        &mut self,
        stream: OutputStream,
        sink: &mut Sink,
        on_event: &mut (dyn FnMut(ProcessEvent<'_>) + Send),
    ) {
        self.open = false;
        self.lines
            .finish(&mut |line, dropped| sink.line(stream, line, dropped, on_event));
        // The read buffer is not needed any more.
        self.buf = Vec::new();
    }
}

/// Splits a byte stream into lines, holding at most [`MAX_LINE_BYTES`] of a
/// line; `emit(line, dropped)` gets the kept bytes and how many were dropped.
#[derive(Default)]
struct LineSplitter {
    partial: Vec<u8>,
    dropped: usize,
}

impl LineSplitter {
    fn feed(&mut self, mut data: &[u8], emit: &mut dyn FnMut(&[u8], usize)) {
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            let line = &data[..nl];
            if self.partial.is_empty() && self.dropped == 0 && line.len() <= MAX_LINE_BYTES {
                // The common case: the whole line is in this chunk, no copy.
                emit(line, 0);
            } else {
                self.push(line);
                emit(&self.partial, self.dropped);
                self.reset();
            }
            data = &data[nl + 1..];
        }
        self.push(data);
    }

    fn finish(&mut self, emit: &mut dyn FnMut(&[u8], usize)) {
        if !self.partial.is_empty() || self.dropped > 0 {
            emit(&self.partial, self.dropped);
        }
        self.reset();
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
        let take = room.min(bytes.len());
        self.partial.extend_from_slice(&bytes[..take]);
        self.dropped += bytes.len() - take;
    }

    fn reset(&mut self) {
        self.partial.clear();
        self.dropped = 0;
        if self.partial.capacity() > READ_CHUNK {
            // Give back the memory of an exceptionally long line.
            self.partial.shrink_to(READ_CHUNK);
        }
    }
}

/// Where lines go besides the callback: the log and the tail.
struct Sink {
    log: Option<LogWriter>,
    tail: VecDeque<String>,
}

impl Sink {
    fn line(
        &mut self,
        stream: OutputStream,
        bytes: &[u8],
        dropped: usize,
        on_event: &mut (dyn FnMut(ProcessEvent<'_>) + Send),
    ) {
        let text = String::from_utf8_lossy(bytes);
        on_event(ProcessEvent::Line(stream, &text));

        if let Some(log) = &mut self.log {
            log.line(stream, bytes, dropped);
        }

        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        let mut entry = String::new();
        if stream == OutputStream::Stderr {
            entry.push_str(STDERR_PREFIX);
        }
        entry.push_str(crate::text::prefix_at_char(&text, TAIL_LINE_BYTES));
        self.tail.push_back(entry);
    }

    fn flush(&mut self) {
        if let Some(log) = &mut self.log {
            log.flush();
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
struct LogWriter {
    path: PathBuf,
    /// `None` after a write error: logging stopped.
    out: Option<BufWriter<File>>,
}

impl LogWriter {
    fn create(path: &Path) -> Result<LogWriter, ExecError> {
        let log_err = |source| ExecError::Log {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(log_err)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(log_err)?;
        Ok(LogWriter {
            path: path.to_path_buf(),
            out: Some(BufWriter::with_capacity(READ_CHUNK, file)),
        })
    }

    fn line(&mut self, stream: OutputStream, bytes: &[u8], dropped: usize) {
        let Some(out) = &mut self.out else { return };
        let mut write = || -> std::io::Result<()> {
            if stream == OutputStream::Stderr {
                out.write_all(STDERR_PREFIX.as_bytes())?;
            }
            out.write_all(bytes)?;
            if dropped > 0 {
                write!(out, " [... {dropped} bytes truncated]")?;
            }
            out.write_all(b"\n")
        };
        if let Err(e) = write() {
            self.fail(e);
        }
    }

    fn flush(&mut self) {
        if let Some(out) = &mut self.out
            && let Err(e) = out.flush()
        {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: std::io::Error) {
        tracing::warn!(path = %self.path.display(), "cannot write log, logging stopped: {e}");
        self.out = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<(Vec<u8>, usize)> {
        let mut s = LineSplitter::default();
        let mut lines = Vec::new();
        for c in chunks {
            s.feed(c, &mut |l, d| lines.push((l.to_vec(), d)));
        }
        s.finish(&mut |l, d| lines.push((l.to_vec(), d)));
        lines
    }

    #[test]
    fn splits_lines_across_chunks() {
        let lines = split(&[b"ab", b"c\nde\n\nf", b"g"]);
        let texts: Vec<_> = lines.iter().map(|(l, _)| l.as_slice()).collect();
        assert_eq!(texts, [&b"abc"[..], b"de", b"", b"fg"]);
    }

    #[test]
    fn no_trailing_empty_line() {
        assert_eq!(split(&[b"a\n"]).len(), 1);
        assert!(split(&[]).is_empty());
    }

    #[test]
    fn caps_long_lines() {
        let big = vec![b'x'; MAX_LINE_BYTES + 10];
        let lines = split(&[&big[..100], &big[100..], b"\nok\n"]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].0.len(), MAX_LINE_BYTES);
        assert_eq!(lines[0].1, 10);
        assert_eq!(lines[1], (b"ok".to_vec(), 0));

        // A too-long line inside one chunk is capped too.
        let mut one = big.clone();
        one.push(b'\n');
        let lines = split(&[&one]);
        assert_eq!((lines[0].0.len(), lines[0].1), (MAX_LINE_BYTES, 10));
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(crate::text::prefix_at_char("héllo", 2), "h");
        assert_eq!(crate::text::prefix_at_char("héllo", 3), "hé");
        assert_eq!(crate::text::prefix_at_char("hi", 10), "hi");
    }
}
