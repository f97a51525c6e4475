//! `status/tasks.jsonl`: every task attempt and every gate run, one JSON
//! object a line, append-only.
//!
//! # Format
//!
//! Each line is one JSON object with a format version `v` (currently
//! [`RECORD_VERSION`] = 1) and a `kind`:
//!
//! ```text
//! {"v":1,"kind":"task","phase":1,"group":"A","task":"A1","attempt":1,"outcome":{"kind":"succeeded"},"started_at":"2026-01-09T21:27:50.000Z","finished_at":"2026-01-09T21:28:02.300Z","duration_secs":12.3,"exit_code":0,"cost_usd":0.01,"session_id":"abc","num_turns":7,"log":"logs/orchestrator/phase1_groupA_A1_20260109-212750.log","result_text":"Added the users table."}
//! {"v":1,"kind":"gate","phase":1,"group":"A","passed":true,"steps":[{"name":"test","status":"passed","duration_secs":4.2}],"at":"2026-01-09T21:29:00.000Z","log":"logs/orchestrator/phase1_groupA_gate_20260109-212900.log"}
//! {"v":1,"kind":"reset","phase":1,"group":"A","at":"2026-01-10T08:00:00.000Z"}
//! {"v":1,"kind":"start","phase":1,"group":"A","at":"2026-01-09T21:27:49.000Z","head":"3f2a…","base":{"src/a.js":"e69d…"}}
//! {"v":1,"kind":"complete","phase":1,"group":"A","at":"2026-01-09T21:29:01.000Z"}
//! {"v":1,"kind":"commit","phase":1,"at":"2026-01-09T21:29:02.000Z","parent":"3f2a…"}
//! ```
//!
//! * `integrating` / `integrated` (`--isolation worktree`): a task's change
//!   about to be / now written into the project tree, with the task's
//!   `commit`, the merged states `from` and `to` and the task's own `files`.
//!   A newer `task` record of the same task forgets them.
//! * `kind` is `task`, `gate`, `reset`, `start`, `complete`, `commit`,
//!   `integrating`, `integrated` or `snapshot`; a
//!   line without `kind` is a `task` record (the first format had none). The
//!   runner always writes it.
//! * `start` is written before a group's first agent (or its gate) starts:
//!   the phase has begun even if no task has finished. `head` and `base`
//!   (git blob ids of the files that differed from HEAD then) are the group's
//!   base, so its report names the files it changed across runs.
//! * `complete` follows the group's line in `completed_tasks.txt`.
//! * `snapshot` (at a group's `point`, `start` or `end`): the whole working
//!   tree as the runner held it then, as a git `tree` id, and the user's
//!   changes it `left_out` (path → git blob id of the content found, or
//!   `deleted`). The latest one is the line between the runner's work and
//!   what changed after it (see `crate::resume::decide`).
//! * `commit` is written just before a phase commit, so the commit holds
//!   it (nothing is written after a commit: the tree stays clean). Its
//!   `parent` is HEAD then: the commit was made when HEAD's history has a
//!   commit of the phase (its `Roadmap-Phase` trailer) on that parent.
//!   `skipped` marks a phase completed with commits off.
//! * A `task` record's `worktree` (`--isolation worktree`) is the worktree
//!   the attempt ran in; without it the attempt ran in the project tree.
//! * `outcome` is [`TaskOutcome`] as serde writes it (`{"kind":"failed",
//!   "exit_code":1,"signal":null,"reason":"..."}`...).
//! * Times are RFC 3339 in UTC; `log` is relative to the project directory.
//! * `result_text` (the agent's final summary) is capped at
//!   [`RESULT_TEXT_CAP`] bytes so one line stays small.
//! * Fields may be added to version 1; readers ignore fields they do not know.
//!   A change a version-1 reader would misread bumps `v`.
//!
//! # Crash safety
//!
//! A record is appended with a single `write(2)` of the complete line on a
//! file opened `O_APPEND`, then `fdatasync`: a crash leaves either the whole
//! line or (at worst, on a full disk) a torn tail. Reading never fails on
//! content: a line that is not valid JSON, is not a record, or has a `v` this
//! build does not know is skipped with a warning naming its line number. An
//! append after a torn tail first ends that line, so the torn line never
//! swallows the next good record.
//!
//! # Queries
//!
//! Records are ordered by their position in the file (never by their
//! timestamps: clocks jump). A `reset` record (written by rollback) hides every
//! earlier record of its group from the queries, and records for task ids the
//! roadmap no longer has in the group are ignored by [`group_resume_state`].

use super::{StatusDir, StatusError};
use crate::agent::{AgentReport, TaskOutcome};
use crate::config::Isolation;
use crate::roadmap::{GroupKey, PhaseId};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const RECORDS_FILE: &str = "tasks.jsonl";
/// The record format this build writes and understands.
pub const RECORD_VERSION: u32 = 1;
/// `result_text` is cut to at most this many bytes (at a char boundary).
pub const RESULT_TEXT_CAP: usize = 4096;

/// One attempt at one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub phase: PhaseId,
    pub group: String,
    pub task: String,
    /// 1 for the first attempt, counting retries within one run.
    pub attempt: u32,
    pub outcome: TaskOutcome,
    #[serde(with = "rfc3339")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub finished_at: DateTime<Utc>,
    pub duration_secs: f64,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub num_turns: Option<u64>,
    /// The attempt's log, relative to the project directory.
    #[serde(default)]
    pub log: Option<String>,
    /// The agent's final summary, capped at [`RESULT_TEXT_CAP`] bytes.
    #[serde(default)]
    pub result_text: Option<String>,
    /// `repair` or `review` for the runner's own agents (their `task` is
    /// `repair-1`, `review-1`...); none for a roadmap task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A repair: the fingerprint of the gate failure it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A review: the verdict (`{"verdict":"approve"|"changes","items":[...]}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<serde_json::Value>,
    /// With `--isolation worktree`: the worktree the attempt ran in (its
    /// work is merged from there); absent when it ran in the project tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    /// With `--nats`: the worker that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// With `--nats`: the task branch the worker pushed, and its commit
    /// (what is fetched and merged before the gate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The agent profile that ran the attempt (`claude`, `codex`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Token usage as the agent reported it, kept when it reports no cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<serde_json::Value>,
}

impl TaskRecord {
    /// A record from what the runner knows when an attempt ends. The exit
    /// code is taken from the outcome (0 for success); the agent's report
    /// gives cost, session, turns and the (capped) summary.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &GroupKey,
        task: &str,
        attempt: u32,
        outcome: TaskOutcome,
        report: &AgentReport,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        duration: std::time::Duration,
        log: Option<String>,
    ) -> Self {
        let exit_code = match &outcome {
            TaskOutcome::Succeeded => Some(0),
            TaskOutcome::Failed { exit_code, .. } => *exit_code,
            _ => None,
        };
        TaskRecord {
            phase: key.phase.clone(),
            group: key.group.clone(),
            task: task.to_string(),
            attempt,
            outcome,
            started_at,
            finished_at,
            duration_secs: round_ms(duration.as_secs_f64()),
            exit_code,
            cost_usd: report.cost_usd,
            session_id: report.session_id.clone(),
            num_turns: report.num_turns,
            log,
            result_text: report.result_text.as_deref().map(cap_text),
            role: None,
            fingerprint: None,
            verdict: None,
            worktree: None,
            worker: None,
            branch: None,
            commit: None,
            agent: None,
            tokens: report.usage.clone().filter(|_| report.cost_usd.is_none()),
        }
    }

    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }

    pub fn is_for_group(&self, key: &GroupKey) -> bool {
        self.phase == key.phase && self.group == key.group
    }
}

/// One run of a group's gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    pub phase: PhaseId,
    pub group: String,
    pub passed: bool,
    #[serde(default)]
    pub steps: Vec<GateStepRecord>,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub log: Option<String>,
}

impl GateRecord {
    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateStepRecord {
    /// `typecheck`, `lint`, `test`, `build`.
    pub name: String,
    pub status: StepStatus,
    #[serde(default)]
    pub duration_secs: Option<f64>,
}

/// How one gate step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Passed,
    Failed,
    /// Failed, but configured not to block the group.
    Warning,
    /// Not run (not configured, or an earlier step failed).
    NotRun,
    /// A status written by a newer build.
    #[serde(other)]
    Unknown,
}

impl StepStatus {
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::Warning => "warning",
            StepStatus::NotRun => "not run",
            StepStatus::Unknown => "unknown",
        }
    }
}

/// The group was rolled back: its earlier records no longer count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub phase: PhaseId,
    pub group: String,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

impl ResetRecord {
    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }
}

/// A group began running (agents or gate) in some run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRecord {
    pub phase: PhaseId,
    pub group: String,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// HEAD when the group started.
    #[serde(default)]
    pub head: Option<String>,
    /// Blob ids of the files that differed from HEAD when the group first
    /// started (`None` for a resumed start: the first one's base holds).
    #[serde(default)]
    pub base: Option<BTreeMap<String, String>>,
    /// Where its tasks work (`--isolation`); a group keeps the isolation it
    /// began with until it is complete ([`group_isolation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<Isolation>,
}

/// The group was recorded complete (its `completed_tasks.txt` line written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompleteRecord {
    pub phase: PhaseId,
    pub group: String,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// A phase commit about to be made, or skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitRecord {
    pub phase: PhaseId,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// HEAD before the commit.
    #[serde(default)]
    pub parent: Option<String>,
    /// Completed with commits off (`--no-commit`): no commit is owed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

/// Where in a group a snapshot of the working tree was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotPoint {
    /// Before the group's first agent: the tree the group took over.
    Start,
    /// After the group ended, whatever its outcome: the tree it handed back.
    End,
}

/// The whole working tree as the runner held it at a group's start or end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    pub phase: PhaseId,
    pub group: String,
    pub point: SnapshotPoint,
    /// The git tree object of the snapshot.
    pub tree: String,
    /// The user's changes the snapshot left out: path → git blob id of the
    /// content they held when found (`deleted` for a deletion).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, String>,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// With `--isolation worktree`: a task's change merged into the project
/// tree. `integrating` is written before the tree is written, `integrated`
/// after, so a run killed in between writes `to` again (see
/// `crate::worktree::integrate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationRecord {
    pub phase: PhaseId,
    pub group: String,
    pub task: String,
    /// The task's commit on its branch.
    pub commit: String,
    /// The merged state before (a commit under `refs/roadmap-runner/merged/`).
    pub from: String,
    /// The merged state with the task's change.
    pub to: String,
    /// The files the task itself changed (its own diff).
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

impl IntegrationRecord {
    pub fn key(&self) -> GroupKey {
        GroupKey::new(self.phase.clone(), self.group.clone())
    }
}

/// One line of `tasks.jsonl`. Serialises with its `v` and `kind` fields;
/// deserialises any version-1 line (a missing `kind` meaning `task`).
// Most records are task records: boxing them would cost an allocation each
// for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Task(TaskRecord),
    Gate(GateRecord),
    Reset(ResetRecord),
    Start(StartRecord),
    Complete(CompleteRecord),
    Commit(CommitRecord),
    Integrating(IntegrationRecord),
    Integrated(IntegrationRecord),
    Snapshot(SnapshotRecord),
}

impl Record {
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Task(_) => "task",
            Record::Gate(_) => "gate",
            Record::Reset(_) => "reset",
            Record::Start(_) => "start",
            Record::Complete(_) => "complete",
            Record::Commit(_) => "commit",
            Record::Integrating(_) => "integrating",
            Record::Integrated(_) => "integrated",
            Record::Snapshot(_) => "snapshot",
        }
    }

    /// The phase the record belongs to.
    pub fn phase(&self) -> &PhaseId {
        match self {
            Record::Task(r) => &r.phase,
            Record::Gate(r) => &r.phase,
            Record::Reset(r) => &r.phase,
            Record::Start(r) => &r.phase,
            Record::Complete(r) => &r.phase,
            Record::Commit(r) => &r.phase,
            Record::Integrating(r) | Record::Integrated(r) => &r.phase,
            Record::Snapshot(r) => &r.phase,
        }
    }

    /// The group the record belongs to; `None` for a phase's `commit`.
    pub fn group(&self) -> Option<&str> {
        match self {
            Record::Task(r) => Some(&r.group),
            Record::Gate(r) => Some(&r.group),
            Record::Reset(r) => Some(&r.group),
            Record::Start(r) => Some(&r.group),
            Record::Complete(r) => Some(&r.group),
            Record::Commit(_) => None,
            Record::Integrating(r) | Record::Integrated(r) => Some(&r.group),
            Record::Snapshot(r) => Some(&r.group),
        }
    }

    pub fn is_for(&self, key: &GroupKey) -> bool {
        *self.phase() == key.phase && self.group() == Some(key.group.as_str())
    }

    /// The record as one JSON line, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("records serialise")
    }

    /// Reads one line; the error says why it is not a record this build reads.
    pub fn parse_line(line: &str) -> Result<Record, String> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not valid JSON ({e})"))?;
        Record::from_value(value)
    }

    fn from_value(value: serde_json::Value) -> Result<Record, String> {
        let obj = value.as_object().ok_or("not a JSON object")?;
        match obj.get("v").map(|v| v.as_u64()) {
            Some(Some(v)) if v == u64::from(RECORD_VERSION) => {}
            Some(Some(v)) => {
                return Err(format!(
                    "record version {v} is not known to this roadmap-runner (it reads version {RECORD_VERSION}); written by a newer version?"
                ));
            }
            Some(None) => return Err("its `v` is not a version number".into()),
            None => return Err("it has no `v` (record version)".into()),
        }
        let kind = match obj.get("kind") {
            None | Some(serde_json::Value::Null) => "task".to_string(),
            Some(serde_json::Value::String(k)) => k.clone(),
            Some(_) => return Err("its `kind` is not a string".into()),
        };
        let bad = |e: serde_json::Error| format!("not a valid `{kind}` record ({e})");
        match kind.as_str() {
            "task" => serde_json::from_value(value.clone())
                .map(Record::Task)
                .map_err(bad),
            "gate" => serde_json::from_value(value.clone())
                .map(Record::Gate)
                .map_err(bad),
            "reset" => serde_json::from_value(value.clone())
                .map(Record::Reset)
                .map_err(bad),
            "start" => serde_json::from_value(value.clone())
                .map(Record::Start)
                .map_err(bad),
            "complete" => serde_json::from_value(value.clone())
                .map(Record::Complete)
                .map_err(bad),
            "commit" => serde_json::from_value(value.clone())
                .map(Record::Commit)
                .map_err(bad),
            "integrating" => serde_json::from_value(value.clone())
                .map(Record::Integrating)
                .map_err(bad),
            "integrated" => serde_json::from_value(value.clone())
                .map(Record::Integrated)
                .map_err(bad),
            "snapshot" => serde_json::from_value(value.clone())
                .map(Record::Snapshot)
                .map_err(bad),
            other => Err(format!("unknown record kind `{other}`")),
        }
    }
}

/// `v` and `kind` first, then the record's own fields.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    v: u32,
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kind = self.kind();
        let v = RECORD_VERSION;
        match self {
            Record::Task(body) => Envelope { v, kind, body }.serialize(s),
            Record::Gate(body) => Envelope { v, kind, body }.serialize(s),
            Record::Reset(body) => Envelope { v, kind, body }.serialize(s),
            Record::Start(body) => Envelope { v, kind, body }.serialize(s),
            Record::Complete(body) => Envelope { v, kind, body }.serialize(s),
            Record::Commit(body) => Envelope { v, kind, body }.serialize(s),
            Record::Integrating(body) | Record::Integrated(body) => {
                Envelope { v, kind, body }.serialize(s)
            }
            Record::Snapshot(body) => Envelope { v, kind, body }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Record::from_value(value).map_err(serde::de::Error::custom)
    }
}

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
        let mut line = record.to_line();
        line.push('\n');
        append_line(&self.path, line.as_bytes()).map_err(|source| StatusError::Write {
            path: self.path.clone(),
            source,
        })
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

/// Cuts `text` to at most [`RESULT_TEXT_CAP`] bytes at a char boundary,
/// marking the cut.
pub fn cap_text(text: &str) -> String {
    const MARK: &str = "\n… (truncated)";
    if text.len() <= RESULT_TEXT_CAP {
        return text.to_string();
    }
    let kept = crate::text::prefix_at_char(text, RESULT_TEXT_CAP - MARK.len());
    format!("{kept}{MARK}")
}

fn round_ms(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}

/// The records of `key` since its latest reset, in file order, with their
/// positions in `records`.
fn since_reset<'a>(
    records: &'a [Record],
    key: &'a GroupKey,
) -> impl Iterator<Item = (usize, &'a Record)> + 'a {
    let start = records
        .iter()
        .rposition(|r| matches!(r, Record::Reset(_)) && r.is_for(key))
        .map_or(0, |i| i + 1);
    records
        .iter()
        .enumerate()
        .skip(start)
        .filter(move |(_, r)| r.is_for(key))
}

/// The latest attempt of every task of the group since its latest reset, by
/// task id. Every task id recorded is included; [`group_resume_state`]
/// ignores those no longer in the roadmap.
pub fn latest_task_outcomes(records: &[Record], key: &GroupKey) -> BTreeMap<String, TaskRecord> {
    let mut latest = BTreeMap::new();
    for (_, r) in since_reset(records, key) {
        if let Record::Task(t) = r {
            latest.insert(t.task.clone(), t.clone());
        }
    }
    latest
}

/// Every attempt of every task of the group since its latest reset (over
/// all runs), in file order, by task id.
pub fn task_attempts<'a>(
    records: &'a [Record],
    key: &'a GroupKey,
) -> BTreeMap<String, Vec<&'a TaskRecord>> {
    let mut out: BTreeMap<String, Vec<&TaskRecord>> = BTreeMap::new();
    for (_, r) in since_reset(records, key) {
        if let Record::Task(t) = r
            && t.role.is_none()
        {
            out.entry(t.task.clone()).or_default().push(t);
        }
    }
    out
}

/// How far a task's latest attempt got into the project tree.
#[derive(Debug, Clone, PartialEq)]
pub enum IntegrationState {
    /// `integrating` without `integrated`: the tree may be half written.
    Pending(IntegrationRecord),
    Done(IntegrationRecord),
}

/// The integration state of each task of the group whose latest attempt
/// was integrated (or began to be); a later attempt forgets it.
pub fn task_integrations(records: &[Record], key: &GroupKey) -> BTreeMap<String, IntegrationState> {
    let mut out = BTreeMap::new();
    for (_, r) in since_reset(records, key) {
        match r {
            Record::Task(t) => {
                out.remove(&t.task);
            }
            Record::Integrating(i) => {
                out.insert(i.task.clone(), IntegrationState::Pending(i.clone()));
            }
            Record::Integrated(i) => {
                out.insert(i.task.clone(), IntegrationState::Done(i.clone()));
            }
            _ => {}
        }
    }
    out
}

/// The runner's own agents of the group since its latest reset (repairs and
/// reviews), in file order.
pub fn runner_attempts<'a>(records: &'a [Record], key: &'a GroupKey) -> Vec<&'a TaskRecord> {
    since_reset(records, key)
        .filter_map(|(_, r)| match r {
            Record::Task(t) if t.role.is_some() => Some(t),
            _ => None,
        })
        .collect()
}

/// What running a group again should do, from its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeState {
    /// No task of the group has a record (since its latest reset): run it all.
    Fresh,
    /// Some tasks' latest attempt did not succeed, or never ran: run only
    /// `to_run`; `succeeded` are done. Both in the order of `task_ids`.
    RerunFailed {
        succeeded: Vec<String>,
        to_run: Vec<String>,
    },
    /// Every task's latest attempt succeeded but no gate passed after them
    /// (it failed, or the run stopped first): run only the gate.
    GateOnly,
    /// Every task succeeded and the latest gate after them passed, but the
    /// group was never recorded complete (the run stopped in between).
    GatePassed,
    /// The group was recorded complete after its passing gate: if
    /// `completed_tasks.txt` lacks it now, its line was removed by hand.
    Recorded,
}

/// The resume state of a group whose tasks (as the roadmap has them now) are
/// `task_ids`. Records of other task ids, and records from before the
/// group's latest reset, are ignored.
pub fn group_resume_state(records: &[Record], key: &GroupKey, task_ids: &[String]) -> ResumeState {
    // Latest attempt (and its position) per current task.
    let mut latest: BTreeMap<&str, (usize, &TaskRecord)> = BTreeMap::new();
    let mut last_gate: Option<(usize, &GateRecord)> = None;
    let mut last_complete: Option<usize> = None;
    // A repair changes code too: a gate must pass after it.
    let mut last_repair = None;
    for (i, r) in since_reset(records, key) {
        match r {
            Record::Task(t) if t.role.as_deref() == Some("repair") => last_repair = Some(i),
            Record::Task(t) if t.role.is_none() && task_ids.contains(&t.task) => {
                latest.insert(t.task.as_str(), (i, t));
            }
            Record::Gate(g) => last_gate = Some((i, g)),
            Record::Complete(_) => last_complete = Some(i),
            _ => {}
        }
    }
    if latest.is_empty() {
        return ResumeState::Fresh;
    }
    let (succeeded, to_run): (Vec<String>, Vec<String>) =
        task_ids.iter().cloned().partition(|id| {
            latest
                .get(id.as_str())
                .is_some_and(|(_, t)| t.outcome.is_success())
        });
    if !to_run.is_empty() {
        return ResumeState::RerunFailed { succeeded, to_run };
    }
    let last_task = latest
        .values()
        .map(|(i, _)| *i)
        .chain(last_repair)
        .max()
        .unwrap_or(0);
    match last_gate {
        Some((i, g)) if i > last_task && g.passed => match last_complete {
            Some(c) if c > i => ResumeState::Recorded,
            _ => ResumeState::GatePassed,
        },
        _ => ResumeState::GateOnly,
    }
}

/// Whether the group has any record since its latest reset (it was started).
pub fn group_started(records: &[Record], key: &GroupKey) -> bool {
    since_reset(records, key).next().is_some()
}

/// The base the group's first start (since its latest reset) recorded.
pub fn group_base<'a>(records: &'a [Record], key: &'a GroupKey) -> Option<&'a StartRecord> {
    since_reset(records, key).find_map(|(_, r)| match r {
        Record::Start(s) if s.base.is_some() => Some(s),
        _ => None,
    })
}

/// The isolation the group began with, when a start since its latest
/// reset (and since it was last complete) recorded one.
pub fn group_isolation(records: &[Record], key: &GroupKey) -> Option<Isolation> {
    let mut found = None;
    for (_, r) in since_reset(records, key) {
        match r {
            Record::Start(s) if found.is_none() => found = s.isolation,
            Record::Complete(_) => found = None,
            _ => {}
        }
    }
    found
}

/// The wall-clock time the group ran, summed over runs: from each `start`
/// to the group's last record before the next `start`.
pub fn group_run_time(records: &[Record], key: &GroupKey) -> std::time::Duration {
    let mut total = chrono::Duration::zero();
    let mut segment: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (_, r) in since_reset(records, key) {
        let at = match r {
            Record::Start(s) => {
                if let Some((a, b)) = segment.take() {
                    total += b - a;
                }
                segment = Some((s.at, s.at));
                continue;
            }
            Record::Task(t) => t.finished_at,
            Record::Gate(g) => g.at,
            Record::Complete(c) => c.at,
            _ => continue,
        };
        if let Some((_, end)) = segment.as_mut() {
            *end = (*end).max(at);
        }
    }
    if let Some((a, b)) = segment {
        total += b - a;
    }
    total.to_std().unwrap_or_default()
}

/// The latest snapshot of the working tree, of any group: what the runner
/// last held.
pub fn latest_snapshot(records: &[Record]) -> Option<&SnapshotRecord> {
    records.iter().rev().find_map(|r| match r {
        Record::Snapshot(s) => Some(s),
        _ => None,
    })
}

/// Whether the group got past its gate since its latest reset (it ran to
/// the end, in some run): a complete group that did not was marked
/// complete by hand.
pub fn group_passed_gate(records: &[Record], key: &GroupKey, task_ids: &[String]) -> bool {
    matches!(
        group_resume_state(records, key, task_ids),
        ResumeState::GatePassed | ResumeState::Recorded
    )
}

/// How the phase's commit stands, from its `commit` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitState {
    /// No commit record since the phase's latest work: one is owed if the
    /// phase did any work (`worked`). `recorded`: some earlier commit of the
    /// phase is recorded (runs before these records existed left none).
    Owed { worked: bool, recorded: bool },
    /// The latest work of the phase needs no commit (commits were off).
    Skipped,
    /// The latest work is followed by a commit about to be made on
    /// `parent`, recorded at position `index`: done when HEAD's committed
    /// `tasks.jsonl` holds that record (else the commit failed).
    Intended {
        parent: Option<String>,
        index: usize,
    },
}

/// The phase's commit state: compares the position of its latest group
/// work (task, gate, start, complete, reset) with its latest commit record.
pub fn phase_commit_state(records: &[Record], phase: &PhaseId) -> CommitState {
    let mut last_work = None;
    let mut last_commit: Option<(usize, &CommitRecord)> = None;
    for (i, r) in records.iter().enumerate() {
        if r.phase() != phase {
            continue;
        }
        match r {
            Record::Commit(c) => last_commit = Some((i, c)),
            // A snapshot records the tree, it changes nothing in it.
            Record::Snapshot(_) => {}
            _ => last_work = Some(i),
        }
    }
    match (last_work, last_commit) {
        (None, None) => CommitState::Owed {
            worked: false,
            recorded: false,
        },
        (Some(_), None) => CommitState::Owed {
            worked: true,
            recorded: false,
        },
        (Some(w), Some((c, _))) if w > c => CommitState::Owed {
            worked: true,
            recorded: true,
        },
        (_, Some((_, c))) if c.skipped => CommitState::Skipped,
        (_, Some((i, c))) => CommitState::Intended {
            parent: c.parent.clone(),
            index: i,
        },
    }
}

/// RFC 3339 in UTC with milliseconds (`2026-01-09T21:27:50.123Z`); any
/// RFC 3339 offset is accepted when reading.
mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn task(task: &str, outcome: TaskOutcome) -> Record {
        Record::Task(TaskRecord {
            phase: 1.into(),
            group: "A".into(),
            task: task.into(),
            attempt: 1,
            outcome,
            started_at: t("2026-01-09T21:27:50Z"),
            finished_at: t("2026-01-09T21:28:02.3Z"),
            duration_secs: 12.3,
            exit_code: Some(0),
            cost_usd: None,
            session_id: None,
            num_turns: None,
            log: None,
            result_text: None,
            role: None,
            fingerprint: None,
            verdict: None,
            worktree: None,
            worker: None,
            branch: None,
            commit: None,
            agent: None,
            tokens: None,
        })
    }

    #[test]
    fn line_has_version_and_kind_first() {
        let line = task("A1", TaskOutcome::Succeeded).to_line();
        assert!(
            line.starts_with(r#"{"v":1,"kind":"task","phase":1,"group":"A","task":"A1""#),
            "{line}"
        );
        assert!(line.contains(r#""started_at":"2026-01-09T21:27:50.000Z""#));
        assert_eq!(
            Record::parse_line(&line).unwrap(),
            task("A1", TaskOutcome::Succeeded)
        );
    }

    #[test]
    fn kind_defaults_to_task_and_unknown_fields_are_ignored() {
        let line = r#"{"v":1,"phase":1,"group":"A","task":"A1","attempt":2,"outcome":{"kind":"succeeded"},"started_at":"2026-01-09T22:27:50+01:00","finished_at":"2026-01-09T21:28:02.3Z","duration_secs":12.3,"future_field":[1,2]}"#;
        let Record::Task(r) = Record::parse_line(line).unwrap() else {
            panic!("a task record")
        };
        assert_eq!(r.attempt, 2);
        assert_eq!(r.started_at, t("2026-01-09T21:27:50Z"));
        assert_eq!(r.exit_code, None);
    }

    #[test]
    fn unknown_step_status_is_read_as_unknown() {
        let line = r#"{"v":1,"kind":"gate","phase":1,"group":"A","passed":false,"steps":[{"name":"fuzz","status":"flaky"}],"at":"2026-01-09T21:27:50Z"}"#;
        let Record::Gate(g) = Record::parse_line(line).unwrap() else {
            panic!("a gate record")
        };
        assert_eq!(g.steps[0].status, StepStatus::Unknown);
    }

    #[test]
    fn bad_lines_say_why() {
        for (line, why) in [
            (r#"{"v":2,"kind":"task"}"#, "record version 2"),
            (r#"{"kind":"task"}"#, "no `v`"),
            (r#"{"v":1,"kind":"party"}"#, "unknown record kind `party`"),
            (r#"{"v":1,"kind":"gate"}"#, "not a valid `gate` record"),
            (r#"[1]"#, "not a JSON object"),
            (r#"{"v":1,"ki"#, "not valid JSON"),
        ] {
            let err = Record::parse_line(line).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
    }

    #[test]
    fn integrations_round_trip_and_a_new_attempt_forgets_them() {
        let key = GroupKey::new(1, "A");
        let rec = IntegrationRecord {
            phase: 1.into(),
            group: "A".into(),
            task: "A1".into(),
            commit: "c".into(),
            from: "f".into(),
            to: "t".into(),
            files: vec!["src/a.rs".into()],
            at: t("2026-01-09T21:27:50Z"),
        };
        let line = Record::Integrating(rec.clone()).to_line();
        assert!(
            line.starts_with(r#"{"v":1,"kind":"integrating","phase":1"#),
            "{line}"
        );
        assert_eq!(
            Record::parse_line(&line).unwrap(),
            Record::Integrating(rec.clone())
        );
        let mut records = vec![
            task("A1", TaskOutcome::Succeeded),
            Record::Integrating(rec.clone()),
        ];
        let state = task_integrations(&records, &key);
        assert_eq!(state["A1"], IntegrationState::Pending(rec.clone()));
        records.push(Record::Integrated(rec.clone()));
        let state = task_integrations(&records, &key);
        assert_eq!(state["A1"], IntegrationState::Done(rec));
        records.push(task("A1", TaskOutcome::Succeeded));
        assert!(task_integrations(&records, &key).is_empty());
    }

    #[test]
    fn snapshots_round_trip_and_the_latest_is_found() {
        let snap = |tree: &str, point| {
            Record::Snapshot(SnapshotRecord {
                phase: 1.into(),
                group: "A".into(),
                point,
                tree: tree.into(),
                left_out: [("notes.txt".to_string(), "e69d".to_string())].into(),
                at: t("2026-01-09T21:27:50Z"),
            })
        };
        let line = snap("t1", SnapshotPoint::Start).to_line();
        assert!(
            line.starts_with(r#"{"v":1,"kind":"snapshot","phase":1,"group":"A","point":"start","tree":"t1","left_out":{"notes.txt":"e69d"}"#),
            "{line}"
        );
        assert_eq!(
            Record::parse_line(&line).unwrap(),
            snap("t1", SnapshotPoint::Start)
        );
        let records = vec![
            snap("t1", SnapshotPoint::Start),
            task("A1", TaskOutcome::Succeeded),
            snap("t2", SnapshotPoint::End),
            task("A2", TaskOutcome::Succeeded),
        ];
        let latest = latest_snapshot(&records).unwrap();
        assert_eq!(
            (latest.tree.as_str(), latest.point),
            ("t2", SnapshotPoint::End)
        );
    }

    #[test]
    fn cap_text_cuts_at_a_char_boundary() {
        let long = "é".repeat(RESULT_TEXT_CAP);
        let capped = cap_text(&long);
        assert!(capped.len() <= RESULT_TEXT_CAP);
        assert!(capped.ends_with("(truncated)"));
        assert_eq!(cap_text("short"), "short");
    }

    #[test]
    fn resume_considers_only_current_tasks_and_latest_attempts() {
        let key = GroupKey::new(1, "A");
        let failed = TaskOutcome::Failed {
            exit_code: Some(1),
            signal: None,
            reason: "exit 1".into(),
        };
        let ids = vec!["A1".to_string(), "A2".to_string()];
        let records = vec![
            task("A1", failed.clone()),
            task("A1", TaskOutcome::Succeeded),
            task("A2", TaskOutcome::Succeeded),
            task("A2", failed),
        ];
        assert_eq!(
            group_resume_state(&records, &key, &ids),
            ResumeState::RerunFailed {
                succeeded: vec!["A1".into()],
                to_run: vec!["A2".into()]
            }
        );
        // Another group's records do not count.
        assert_eq!(
            group_resume_state(&records, &GroupKey::new(1, "B"), &ids),
            ResumeState::Fresh
        );
    }
}
