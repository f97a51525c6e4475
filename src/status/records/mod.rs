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
//! * `outcome` is [`crate::agent::TaskOutcome`] as serde writes it (`{"kind":"failed",
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

mod file;
mod kinds;
mod queries;

pub use file::{RecordStore, parse_records};
pub use kinds::{
    CommitRecord, CompleteRecord, GateRecord, GateStepRecord, IntegrationRecord, ResetRecord,
    SnapshotPoint, SnapshotRecord, StartRecord, StepStatus, TaskRecord,
};
pub use queries::{
    CommitState, IntegrationState, ResumeState, group_base, group_isolation, group_passed_gate,
    group_resume_state, group_run_time, group_started, latest_snapshot, latest_task_outcomes,
    phase_commit_state, runner_attempts, task_attempts, task_integrations,
};

use crate::roadmap::{GroupKey, PhaseId};
use serde::{Deserialize, Serialize};

pub const RECORDS_FILE: &str = "tasks.jsonl";
/// The record format this build writes and understands.
pub const RECORD_VERSION: u32 = 1;
/// `result_text` is cut to at most this many bytes (at a char boundary).
pub const RESULT_TEXT_CAP: usize = 4096;

/// One line of `tasks.jsonl` without its `v`: serde writes `kind` first,
/// then the record's own fields. [`Record::to_line`] and
/// [`Record::parse_line`] add and check the version.
// Most records are task records: boxing them would cost an allocation each
// for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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

/// `v` first, then the tagged record.
#[derive(Serialize)]
struct Line<'a> {
    v: u32,
    #[serde(flatten)]
    record: &'a Record,
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

    /// The record as one JSON line with its `v`, without the newline.
    pub fn to_line(&self) -> String {
        let line = Line {
            v: RECORD_VERSION,
            record: self,
        };
        serde_json::to_string(&line).expect("records serialise")
    }

    /// Reads one line; the error says why it is not a record this build reads.
    pub fn parse_line(line: &str) -> Result<Record, String> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not valid JSON ({e})"))?;
        Record::from_value(value)
    }

    /// Checks the version, reads a line without `kind` as a `task` (the
    /// first format had none), then lets serde pick the kind.
    fn from_value(mut value: serde_json::Value) -> Result<Record, String> {
        let obj = value.as_object_mut().ok_or("not a JSON object")?;
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
        obj.insert("kind".into(), serde_json::Value::String(kind.clone()));
        serde_json::from_value(value).map_err(|e| {
            // serde's own wording for a tag that names no variant.
            if e.to_string().starts_with("unknown variant") {
                format!("unknown record kind `{kind}`")
            } else {
                format!("not a valid `{kind}` record ({e})")
            }
        })
    }
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

/// RFC 3339 in UTC with milliseconds (`2026-01-09T21:27:50.123Z`); any
/// RFC 3339 offset is accepted when reading.
mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

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
pub(super) mod test_support {
    use super::*;
    use crate::agent::TaskOutcome;
    use chrono::{DateTime, Utc};

    pub fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    pub fn task(task: &str, outcome: TaskOutcome) -> Record {
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
}

#[cfg(test)]
mod tests {
    use super::test_support::{t, task};
    use super::*;
    use crate::agent::TaskOutcome;

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
    fn cap_text_cuts_at_a_char_boundary() {
        let long = "é".repeat(RESULT_TEXT_CAP);
        let capped = cap_text(&long);
        assert!(capped.len() <= RESULT_TEXT_CAP);
        assert!(capped.ends_with("(truncated)"));
        assert_eq!(cap_text("short"), "short");
    }
}
