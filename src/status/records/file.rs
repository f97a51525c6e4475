//! The file itself: durable appends of whole lines, tolerant reads (see
//! "Crash safety" in [`super`]).

use super::{GateRecord, RECORDS_FILE, Record, ResetRecord, TaskRecord, cap_text};
use crate::roadmap::GroupKey;
use crate::status::{StatusDir, StatusError};
use chrono::Utc;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Appends to and reads `status/tasks.jsonl`.
#[derive(Debug, Clone)]
pub struct RecordStore {
    path: PathBuf,
}

impl RecordStore {
    pub fn new(status_dir: &StatusDir) -> Self {
        RecordStore {
            path: status_dir.file(RECORDS_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a task record (its `result_text` capped).
    pub fn append_task(&self, record: &TaskRecord) -> Result<(), StatusError> {
        let mut record = record.clone();
        record.result_text = record.result_text.as_deref().map(cap_text);
        self.append(&Record::Task(record))
    }

    pub fn append_gate(&self, record: &GateRecord) -> Result<(), StatusError> {
        self.append(&Record::Gate(record.clone()))
    }

    /// Marks the group as reset now: its earlier records stop counting.
    pub fn append_reset(&self, key: &GroupKey) -> Result<(), StatusError> {
        self.append(&Record::Reset(ResetRecord {
            phase: key.phase.clone(),
            group: key.group.clone(),
            at: Utc::now(),
        }))
    }

    /// Appends one record as one complete line, durably.
    pub fn append(&self, record: &Record) -> Result<(), StatusError> {
        self.append_read_back(record).map(drop)
    }

    /// [`RecordStore::append`], returning the record as a load reads it
    /// back: times to the millisecond. Whatever is derived from a record
    /// (a cluster run id from a start's time) is then the same in this run
    /// and in the next.
    pub fn append_read_back(&self, record: &Record) -> Result<Record, StatusError> {
        let mut line = record.to_line();
        let stored = Record::parse_line(&line).unwrap_or_else(|_| record.clone());
        line.push('\n');
        append_line(&self.path, line.as_bytes()).map_err(|source| StatusError::Write {
            path: self.path.clone(),
            source,
        })?;
        Ok(stored)
    }

    /// Every readable record in file order, and a warning for every line
    /// skipped. A missing file holds no records.
    pub fn load(&self) -> Result<(Vec<Record>, Vec<String>), StatusError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(parse_records(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Vec::new(), Vec::new())),
            Err(source) => Err(StatusError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

/// Reads the file's bytes: never fails, skips what it cannot read with a
/// warning (`tasks.jsonl line 7: ...; skipped`).
pub fn parse_records(bytes: &[u8]) -> (Vec<Record>, Vec<String>) {
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let ends_with_newline = bytes.last() == Some(&b'\n');
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let count = lines.len();
    for (i, raw) in lines.into_iter().enumerate() {
        let number = i + 1;
        let last_unterminated = i + 1 == count && !ends_with_newline;
        let Ok(text) = std::str::from_utf8(raw) else {
            warnings.push(format!(
                "{RECORDS_FILE} line {number}: not valid UTF-8{}; skipped",
                torn_hint(last_unterminated)
            ));
            continue;
        };
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        match Record::parse_line(text) {
            Ok(r) => records.push(r),
            Err(why) => warnings.push(format!(
                "{RECORDS_FILE} line {number}: {why}{}; skipped",
                torn_hint(last_unterminated)
            )),
        }
    }
    (records, warnings)
}

fn torn_hint(last_unterminated: bool) -> &'static str {
    if last_unterminated {
        " (an unfinished last line: a write was cut short)"
    } else {
        ""
    }
}

/// One `write` of the whole line on an `O_APPEND` descriptor, then
/// `fdatasync`. A torn tail left by an earlier crash is ended first so this
/// line starts on a line of its own.
fn append_line(path: &Path, line: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let existed = path.exists();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)?;
    let len = file.metadata()?.len();
    let mut buf = Vec::with_capacity(line.len() + 1);
    if len > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1)?;
        if last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(line);
    (&file).write_all(&buf)?;
    file.sync_data()?;
    if !existed && let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
