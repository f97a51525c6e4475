//! What the records say about a group or a phase (see "Queries" in
//! [`super`]).

use super::{
    CommitRecord, GateRecord, IntegrationRecord, Record, SnapshotRecord, StartRecord, TaskRecord,
};
use crate::config::Isolation;
use crate::roadmap::{GroupKey, PhaseId};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

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

#[cfg(test)]
mod tests {
    use super::super::test_support::{t, task};
    use super::super::*;
    use super::*;
    use crate::agent::TaskOutcome;

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
