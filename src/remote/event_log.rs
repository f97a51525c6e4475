//! The events of every run, from the files runs write
//! (`logs/orchestrator/events_<stamp>[-<n>].jsonl`): the newest is tailed
//! (polled), each line becomes an event with a stable id `<file stem>:<line>`,
//! kept in a bounded buffer for replays and broadcast to live streams.

use crate::report::event_log::{EXTENSION, PREFIX};
use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// Events kept for replays (a long run has a few thousand).
const BUFFER: usize = 20_000;
const POLL: Duration = Duration::from_millis(100);

/// Where an event is: its file's `(stamp, n)`, then its line (from 1). Ids
/// order as the runs and lines do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventId {
    stamp: String,
    n: u32,
    line: u64,
}

impl EventId {
    /// `events_20261201-101500-2:17`.
    pub fn parse(s: &str) -> Option<EventId> {
        let (stem, line) = s.trim().rsplit_once(':')?;
        let (stamp, n) = parse_stem(stem)?;
        Some(EventId {
            stamp,
            n,
            line: line.parse().ok()?,
        })
    }

    fn same_file(&self, other: &EventId) -> bool {
        self.stamp == other.stamp && self.n == other.n
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.n {
            1 => write!(f, "{PREFIX}{}:{}", self.stamp, self.line),
            n => write!(f, "{PREFIX}{}-{n}:{}", self.stamp, self.line),
        }
    }
}

/// `events_20261201-101500-2` → (`20261201-101500`, 2).
fn parse_stem(stem: &str) -> Option<(String, u32)> {
    let rest = stem.strip_prefix(PREFIX)?;
    let (stamp, n) = match rest.get(15..) {
        Some("") => (rest, 1),
        Some(tail) => (&rest[..15], tail.strip_prefix('-')?.parse().ok()?),
        None => return None,
    };
    let ok = stamp.len() == 15
        && stamp.as_bytes()[8] == b'-'
        && stamp
            .chars()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit());
    ok.then(|| (stamp.to_string(), n))
}

/// One event: its id and its JSON line as the run wrote it.
#[derive(Debug)]
pub struct Entry {
    pub id: EventId,
    pub data: String,
}

pub struct EventLog {
    buffer: Mutex<VecDeque<Arc<Entry>>>,
    tx: broadcast::Sender<Arc<Entry>>,
}

impl EventLog {
    /// Starts tailing `dir`.
    pub fn start(dir: PathBuf) -> Arc<EventLog> {
        let (tx, _) = broadcast::channel(4096);
        let log = Arc::new(EventLog {
            buffer: Mutex::new(VecDeque::new()),
            tx,
        });
        let tail = log.clone();
        // A thread of its own: it polls for the server's whole life.
        std::thread::spawn(move || tail.tail(&dir));
        log
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Entry>> {
        self.tx.subscribe()
    }

    /// The buffered events after `after`; with no id, the newest run's so far.
    pub fn replay(&self, after: Option<&EventId>) -> Vec<Arc<Entry>> {
        let buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        match after {
            Some(id) => buffer.iter().filter(|e| &e.id > id).cloned().collect(),
            None => {
                let Some(last) = buffer.back() else {
                    return Vec::new();
                };
                let skip = buffer
                    .iter()
                    .take_while(|e| !e.id.same_file(&last.id))
                    .count();
                buffer.iter().skip(skip).cloned().collect()
            }
        }
    }

    fn push(&self, entry: Entry) {
        let entry = Arc::new(entry);
        {
            let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
            if buffer.len() == BUFFER {
                buffer.pop_front();
            }
            buffer.push_back(entry.clone());
        }
        // No subscriber is fine: the buffer serves the next one.
        let _ = self.tx.send(entry);
    }

    /// Forever: read what the current file gained, then move on to the next
    /// newer file once the current one has nothing more.
    fn tail(&self, dir: &Path) {
        let mut current: Option<Tail> = None;
        loop {
            if let Some(t) = current.as_mut() {
                t.read_new(|e| self.push(e));
            }
            let next = next_file(dir, current.as_ref().map(|t| &t.file_key));
            match (&mut current, next) {
                (_, None) => std::thread::sleep(POLL),
                (Some(t), Some(next)) => {
                    // Whatever the finished run wrote last, then the new one.
                    t.read_new(|e| self.push(e));
                    current = Some(Tail::new(next));
                }
                (None, Some(newest)) => current = Some(Tail::new(newest)),
            }
        }
    }
}

/// `current` is `None` at start: then the newest file. Otherwise the oldest
/// file newer than `current`.
fn next_file(dir: &Path, current: Option<&(String, u32)>) -> Option<((String, u32), PathBuf)> {
    let mut files: Vec<((String, u32), PathBuf)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| {
            let path = e.ok()?.path();
            if path.extension()? != EXTENSION {
                return None;
            }
            Some((parse_stem(path.file_stem()?.to_str()?)?, path))
        })
        .collect();
    files.sort();
    match current {
        None => files.pop(),
        Some(cur) => files.into_iter().find(|(k, _)| k > cur),
    }
}

/// One file being read: its key, path, offset, lines read, a partial line.
struct Tail {
    file_key: (String, u32),
    path: PathBuf,
    offset: u64,
    line: u64,
    partial: Vec<u8>,
}

impl Tail {
    fn new((file_key, path): ((String, u32), PathBuf)) -> Tail {
        Tail {
            file_key,
            path,
            offset: 0,
            line: 0,
            partial: Vec::new(),
        }
    }

    fn read_new(&mut self, mut emit: impl FnMut(Entry)) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_err() || file.read_to_end(&mut bytes).is_err()
        {
            return;
        }
        self.offset += bytes.len() as u64;
        self.partial.extend_from_slice(&bytes);
        // Only whole lines: the run may be mid-write.
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            self.line += 1;
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            if text.is_empty() {
                continue;
            }
            emit(Entry {
                id: EventId {
                    stamp: self.file_key.0.clone(),
                    n: self.file_key.1,
                    line: self.line,
                },
                data: text,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_order_as_runs_and_lines() {
        let a = EventId::parse("events_20261201-101500:9").unwrap();
        let b = EventId::parse("events_20261201-101500:10").unwrap();
        let c = EventId::parse("events_20261201-101500-2:1").unwrap();
        assert!(a < b && b < c);
        assert_eq!(c.to_string(), "events_20261201-101500-2:1");
        assert_eq!(a.to_string(), "events_20261201-101500:9");
        for bad in [
            "",
            "x:1",
            "events_2026:1",
            "events_20261201-101500:x",
            "../events_20261201-101500:1",
        ] {
            assert!(EventId::parse(bad).is_none(), "{bad}");
        }
    }
}
