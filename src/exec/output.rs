//! A child's output: each pipe read in chunks and split into capped lines,
//! each line handed to the callback, the log and the tail (see
//! [`super::process`] for the limits and why).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tokio::io::AsyncRead;

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

/// One output pipe: reader, read buffer and line splitter.
pub(super) struct Pipe<R> {
    pub(super) reader: R,
    pub(super) buf: Vec<u8>,
    pub(super) open: bool,
    lines: LineSplitter,
}

impl<R: AsyncRead + Unpin> Pipe<R> {
    pub(super) fn new(reader: R) -> Self {
        Pipe {
            reader,
            buf: vec![0; READ_CHUNK],
            open: true,
            lines: LineSplitter::default(),
        }
    }

    pub(super) fn consume(
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
    pub(super) fn finish(
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
pub(super) struct Sink {
    pub(super) log: Option<LogWriter>,
    pub(super) tail: VecDeque<String>,
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

    pub(super) fn flush(&mut self) {
        if let Some(log) = &mut self.log {
            log.flush();
        }
    }
}

/// The log file, appended to line by line.
pub(super) struct LogWriter {
    path: PathBuf,
    /// `None` after a write error: logging stopped.
    out: Option<BufWriter<File>>,
}

impl LogWriter {
    pub(super) fn create(path: &Path) -> std::io::Result<LogWriter> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
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
