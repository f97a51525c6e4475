//! One unit test per crash window: each builds the state a run killed at
//! that moment leaves and checks what the next run does.

use super::*;
use crate::agent::{AgentReport, TaskOutcome};
use crate::resume::GitState;
use crate::status::{
    CommitRecord, CompleteRecord, CompletedGroups, GateRecord, Record, ResetRecord, StartRecord,
    TaskRecord,
};
use chrono::Utc;

const ROADMAP: &str = "# T\n\n## Phase 1: One\n\n### Group A\n\n- A1: a\n- A2: b\n\n\
    ### Group B\n\n- B1: c\n\n## Phase 2: Two\n\n### Group A\n\n- A3: d\n";

fn roadmap(src: &str) -> Roadmap {
    let parsed = crate::roadmap::parse(src);
    assert!(
        !crate::roadmap::has_errors(&parsed.diagnostics),
        "{:?}",
        parsed.diagnostics
    );
    parsed.roadmap
}

fn key(phase: u32, group: &str) -> GroupKey {
    GroupKey::new(phase, group)
}

fn start(phase: u32, group: &str) -> Record {
    Record::Start(StartRecord {
        phase: phase.into(),
        group: group.into(),
        at: Utc::now(),
        head: None,
        base: None,
        isolation: None,
    })
}

fn task(phase: u32, group: &str, id: &str, ok: bool) -> Record {
    let outcome = if ok {
        TaskOutcome::Succeeded
    } else {
        TaskOutcome::Failed {
            exit_code: Some(1),
            signal: None,
            reason: "exit 1".into(),
        }
    };
    let now = Utc::now();
    let r = AgentReport::default();
    let d = std::time::Duration::from_secs(1);
    Record::Task(TaskRecord::new(
        &key(phase, group),
        id,
        1,
        outcome,
        &r,
        now,
        now,
        d,
        None,
    ))
}

fn gate(phase: u32, group: &str, passed: bool) -> Record {
    Record::Gate(GateRecord {
        phase: phase.into(),
        group: group.into(),
        passed,
        steps: Vec::new(),
        at: Utc::now(),
        log: None,
    })
}

fn complete(phase: u32, group: &str) -> Record {
    Record::Complete(CompleteRecord {
        phase: phase.into(),
        group: group.into(),
        at: Utc::now(),
    })
}

fn commit(phase: u32) -> Record {
    Record::Commit(CommitRecord {
        phase: phase.into(),
        at: Utc::now(),
        parent: Some("p".into()),
        skipped: false,
    })
}

fn reset(phase: u32, group: &str) -> Record {
    Record::Reset(ResetRecord {
        phase: phase.into(),
        group: group.into(),
        at: Utc::now(),
    })
}

/// Group 1:A done and recorded complete.
fn group_a_done() -> Vec<Record> {
    vec![
        start(1, "A"),
        task(1, "A", "A1", true),
        task(1, "A", "A2", true),
        gate(1, "A", true),
        complete(1, "A"),
    ]
}

/// Both groups of phase 1 done and recorded complete.
fn phase_one_done() -> Vec<Record> {
    let mut records = group_a_done();
    records.extend([
        start(1, "B"),
        task(1, "B", "B1", true),
        gate(1, "B", true),
        complete(1, "B"),
    ]);
    records
}

fn state(completed: &str, records: Vec<Record>) -> RunState {
    RunState {
        completed: CompletedGroups::parse(completed).0,
        records,
        git: Some(GitState::default()),
        ..RunState::default()
    }
}

const ON: Options = Options {
    commit: true,
    push: true,
    rerun_tasks: false,
    allow_dirty: false,
};

/// The actions, one word each: `1:A run A1,A2`, `1:B gate`, `commit 1`, ...
fn plan(roadmap: &Roadmap, state: &RunState, opts: Options) -> Vec<String> {
    decide(roadmap, state, &Selection::default(), opts)
        .actions
        .iter()
        .map(|a| match a {
            Action::Push => "push".to_string(),
            Action::CommitPhase {
                phase,
                leftover: true,
            } => format!("commit {} first", phase.number),
            Action::CommitPhase { phase, .. } => format!("commit {}", phase.number),
            Action::Stop { phase, .. } => format!("stop {}", phase.number),
            Action::Group(g) => {
                let k = format!("{}:{}", g.key.phase, g.key.group);
                match &g.step {
                    GroupStep::Run { tasks, restart, .. } => {
                        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
                        let again = if *restart { " again" } else { "" };
                        format!("{k} run{again} {}", ids.join(","))
                    }
                    GroupStep::GateOnly => format!("{k} gate"),
                    GroupStep::RecordComplete => format!("{k} record"),
                    GroupStep::DoneInRoadmap => format!("{k} done"),
                }
            }
        })
        .collect()
}

#[test]
fn a_fresh_roadmap_runs_everything_with_a_commit_per_phase() {
    let r = roadmap(ROADMAP);
    let s = state("", vec![]);
    assert_eq!(
        plan(&r, &s, ON),
        [
            "1:A run A1,A2",
            "1:B run B1",
            "commit 1",
            "2:A run A3",
            "commit 2"
        ]
    );
    let d = decide(&r, &s, &Selection::default(), ON);
    assert_eq!(
        d.fresh_phase(&s).map(|p| p.number.to_string()),
        Some("1".into())
    );
}

#[test]
fn killed_before_any_task_finished_the_phase_has_started() {
    let r = roadmap(ROADMAP);
    let s = state("", vec![start(1, "A")]);
    assert_eq!(plan(&r, &s, ON)[0], "1:A run A1,A2");
    // Its files are the phase's own work: no dirty-tree refusal.
    let d = decide(&r, &s, &Selection::default(), ON);
    assert!(d.fresh_phase(&s).is_none());
}

#[test]
fn a_dead_run_in_the_phase_counts_as_started_too() {
    let r = roadmap(ROADMAP);
    let mut s = state("", vec![]);
    s.interrupted = Some(crate::status::InProgress::new(
        crate::status::RunningGroup::this_process(key(1, "A")),
    ));
    let d = decide(&r, &s, &Selection::default(), ON);
    assert!(d.fresh_phase(&s).is_none());
}

#[test]
fn killed_mid_group_only_what_did_not_succeed_runs() {
    let r = roadmap(ROADMAP);
    let s = state("", vec![start(1, "A"), task(1, "A", "A2", true)]);
    assert_eq!(plan(&r, &s, ON)[0], "1:A run A1");
    let s = state(
        "",
        vec![
            start(1, "A"),
            task(1, "A", "A1", false),
            task(1, "A", "A2", true),
        ],
    );
    assert_eq!(plan(&r, &s, ON)[0], "1:A run A1");
}

#[test]
fn killed_during_the_gate_or_after_it_failed_only_the_gate_runs() {
    let r = roadmap(ROADMAP);
    let tasks = vec![
        start(1, "A"),
        task(1, "A", "A1", true),
        task(1, "A", "A2", true),
    ];
    assert_eq!(plan(&r, &state("", tasks.clone()), ON)[0], "1:A gate");
    let mut failed = tasks.clone();
    failed.push(gate(1, "A", false));
    assert_eq!(plan(&r, &state("", failed.clone()), ON)[0], "1:A gate");
    // A resumed gate-only run writes a start; still gate only.
    failed.push(start(1, "A"));
    assert_eq!(plan(&r, &state("", failed), ON)[0], "1:A gate");
    let rerun = Options {
        rerun_tasks: true,
        ..ON
    };
    assert_eq!(plan(&r, &state("", tasks), rerun)[0], "1:A run A1,A2");
}

#[test]
fn killed_between_the_gate_record_and_completion_no_agent_reruns() {
    let r = roadmap(ROADMAP);
    let mut records = group_a_done();
    records.pop(); // no `complete`, no completed line
    assert_eq!(
        plan(&r, &state("", records), ON)[..2],
        ["1:A record", "1:B run B1"]
    );
}

#[test]
fn killed_between_the_completed_line_and_its_record_the_group_is_complete() {
    let r = roadmap(ROADMAP);
    let mut records = group_a_done();
    records.pop();
    assert_eq!(
        plan(&r, &state("PHASE_1:A\n", records), ON)[0],
        "1:B run B1"
    );
}

#[test]
fn killed_between_completion_and_commit_the_commit_comes_first() {
    let r = roadmap(ROADMAP);
    let records = phase_one_done();
    let s = state("PHASE_1:A\nPHASE_1:B\n", records);
    assert_eq!(
        plan(&r, &s, ON),
        ["commit 1 first", "2:A run A3", "commit 2"]
    );
    // Committing first is not a fresh phase: the dirt is phase 1's work.
    let d = decide(&r, &s, &Selection::default(), ON);
    assert!(d.fresh_phase(&s).is_none());
}

#[test]
fn a_failed_commit_is_made_again_first() {
    let r = roadmap(ROADMAP);
    let mut records = phase_one_done();
    records.push(commit(1));
    // HEAD's tasks.jsonl does not hold the commit record: not made.
    let mut s = state("PHASE_1:A\nPHASE_1:B\n", records.clone());
    s.git.as_mut().unwrap().committed_records = Some(records.len() - 1);
    assert_eq!(plan(&r, &s, ON)[0], "commit 1 first");
    // It does: made (a rebase keeps it too).
    s.git.as_mut().unwrap().committed_records = Some(records.len());
    assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
    // Without the file in git, the history's phase commit on that parent tells.
    s.git.as_mut().unwrap().committed_records = None;
    s.git.as_mut().unwrap().phase_commits = vec![("1".into(), Some("p".into()))];
    assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
    let d = decide(&r, &s, &Selection::default(), ON);
    assert_eq!(
        d.fresh_phase(&s).map(|p| p.number.to_string()),
        Some("2".into())
    );
}

#[test]
fn a_rollback_after_the_commit_makes_a_new_commit() {
    let r = roadmap(ROADMAP);
    let mut records = phase_one_done();
    records.push(commit(1));
    records.push(reset(1, "B"));
    let mut s = state("PHASE_1:A\n", records.clone());
    s.git.as_mut().unwrap().committed_records = Some(records.len() - 1);
    assert_eq!(plan(&r, &s, ON)[..2], ["1:B run B1", "commit 1"]);
}

#[test]
fn a_group_removed_by_hand_after_completing_runs_again_from_scratch() {
    let r = roadmap(ROADMAP);
    assert_eq!(
        plan(&r, &state("", group_a_done()), ON)[0],
        "1:A run again A1,A2"
    );
}

#[test]
fn with_commits_off_a_phase_owes_no_commit_later() {
    let r = roadmap(ROADMAP);
    let off = Options {
        commit: false,
        push: false,
        ..ON
    };
    let mut records = phase_one_done();
    let s = state("PHASE_1:A\nPHASE_1:B\n", records.clone());
    // Phase 1 completed before this run: with commits off nothing is owed now.
    assert_eq!(plan(&r, &s, off), ["2:A run A3", "commit 2"]);
    // The runner recorded phase 1 as skipped when it completed.
    records.push(Record::Commit(CommitRecord {
        phase: 1.into(),
        at: Utc::now(),
        parent: None,
        skipped: true,
    }));
    let s = state("PHASE_1:A\nPHASE_1:B\n", records);
    assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
}

#[test]
fn unpushed_commits_are_pushed_first() {
    let r = roadmap(ROADMAP);
    let mut s = state("", vec![]);
    s.git.as_mut().unwrap().unpushed = 1;
    assert_eq!(plan(&r, &s, ON)[0], "push");
    // The phase after the push still starts fresh: the tree must be clean.
    let d = decide(&r, &s, &Selection::default(), ON);
    assert_eq!(
        d.fresh_phase(&s).map(|p| p.number.to_string()),
        Some("1".into())
    );
    assert_ne!(plan(&r, &s, Options { push: false, ..ON })[0], "push");
}

#[test]
fn phases_committed_before_these_records_existed_are_not_committed_again() {
    let r = roadmap(ROADMAP);
    let records = vec![
        task(1, "A", "A1", true),
        task(1, "A", "A2", true),
        gate(1, "A", true),
    ];
    let mut s = state("PHASE_1:A\nPHASE_1:B\n", records);
    s.git.as_mut().unwrap().phase_commits = vec![("1".into(), None)];
    assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
}

#[test]
fn a_phase_without_tasks_stops_the_run_there() {
    let r = roadmap(
        "# T\n\n## Phase 1: One\n\n### Group A\n\n- A1: a\n\n## Phase 2: Later\n\nTo plan.\n\n## Phase 3: Three\n\n### Group A\n\n- A5: x\n",
    );
    assert_eq!(
        plan(&r, &state("", vec![]), ON),
        ["1:A run A1", "commit 1", "stop 2"]
    );
}

#[test]
fn done_in_the_roadmap_is_recorded_and_a_skipped_phase_owes_no_commit() {
    let r =
        roadmap("# T\n\n## Phase 1: One\n\n### Group A\n\n- [x] A1: a\n\n### Group B\n\n- B1: b\n");
    assert_eq!(
        plan(&r, &state("", vec![]), ON),
        ["1:A done", "1:B run B1", "commit 1"]
    );
    assert!(plan(&r, &state("PHASE_1:A\nPHASE_1:B\n", vec![]), ON).is_empty());
}

#[test]
fn a_task_run_alone_does_not_complete_or_commit() {
    let r = roadmap(ROADMAP);
    let sel = Selection::new(&r, &[], &[], Some("1:B:B1")).unwrap();
    let d = decide(&r, &state("", vec![]), &sel, ON);
    let steps: Vec<bool> = d.groups().map(|g| g.partial).collect();
    assert_eq!(steps, [true]);
    assert!(
        !d.actions
            .iter()
            .any(|a| matches!(a, Action::CommitPhase { .. }))
    );
}

fn line(
    ended: bool,
    left_out: &[(&str, &str)],
    changed: &[(&str, &str)],
) -> crate::resume::LineState {
    let map = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(p, i)| (p.to_string(), i.to_string()))
            .collect()
    };
    crate::resume::LineState {
        tree: "t".into(),
        ended,
        left_out: map(left_out),
        changed: map(changed),
    }
}

fn left_out(r: &Roadmap, s: &RunState, opts: Options) -> Vec<String> {
    decide(r, s, &Selection::default(), opts)
        .left_out
        .map(|l| l.paths.into_keys().collect())
        .unwrap_or_default()
}

/// Group A done, Group B failed: the run ended, the runner handed the tree back.
fn b_failed() -> RunState {
    let mut records = group_a_done();
    records.extend([start(1, "B"), task(1, "B", "B1", false)]);
    state("PHASE_1:A\n", records)
}

#[test]
fn what_changed_after_a_groups_end_is_the_users_and_left_out() {
    let r = roadmap(ROADMAP);
    let mut s = b_failed();
    s.git.as_mut().unwrap().line = Some(line(
        true,
        &[],
        &[("mynotes.txt", "n"), ("src/index.js", "e")],
    ));
    assert_eq!(left_out(&r, &s, ON), ["mynotes.txt", "src/index.js"]);
    let d = decide(&r, &s, &Selection::default(), ON);
    assert_eq!(d.left_out.unwrap().line, "t");
    // --allow-dirty takes them in; with commits off nothing is committed anyway.
    assert!(
        left_out(
            &r,
            &s,
            Options {
                allow_dirty: true,
                ..ON
            }
        )
        .is_empty()
    );
    assert!(
        left_out(
            &r,
            &s,
            Options {
                commit: false,
                push: false,
                ..ON
            }
        )
        .is_empty()
    );
}

#[test]
fn killed_mid_group_what_changed_since_its_start_is_the_groups() {
    let r = roadmap(ROADMAP);
    // The latest snapshot is the killed group's start (also: killed
    // after the group ended but before its end snapshot was recorded).
    let mut s = b_failed();
    s.git.as_mut().unwrap().line = Some(line(false, &[], &[("src/partial.txt", "p")]));
    assert!(left_out(&r, &s, ON).is_empty());
    // The user's changes that start left out still are, while unchanged.
    s.git.as_mut().unwrap().line = Some(line(
        false,
        &[("mynotes.txt", "n"), ("src/index.js", "e")],
        &[
            ("mynotes.txt", "n"),
            ("src/index.js", "changed by B1"),
            ("src/partial.txt", "p"),
        ],
    ));
    assert_eq!(left_out(&r, &s, ON), ["mynotes.txt"]);
}

#[test]
fn a_fresh_phase_or_nothing_to_do_leaves_nothing_out() {
    let r = roadmap(ROADMAP);
    // Phase 1 committed: phase 2 starts fresh, its tree passed the dirty-tree check.
    let mut records = phase_one_done();
    records.push(commit(1));
    let mut s = state("PHASE_1:A\nPHASE_1:B\n", records.clone());
    s.git.as_mut().unwrap().committed_records = Some(records.len());
    s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
    assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
    assert!(left_out(&r, &s, ON).is_empty());
    // Everything complete and committed: nothing is said.
    let n = records.len();
    let mut s = state("PHASE_1:A\nPHASE_1:B\nPHASE_2:A\n", records);
    s.git.as_mut().unwrap().committed_records = Some(n);
    s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
    let sel = Selection::new(&r, &[(1.into(), 1.into())], &[], None).unwrap();
    let d = decide(&r, &s, &sel, ON);
    assert!(d.is_empty(), "{:?}", d.actions.len());
    assert!(d.left_out.is_none());
}

#[test]
fn a_leftover_commit_and_a_rerun_after_rollback_leave_the_users_changes_out() {
    let r = roadmap(ROADMAP);
    // Killed between completion and commit, the user edits, reruns.
    let mut s = state("PHASE_1:A\nPHASE_1:B\n", phase_one_done());
    s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
    assert_eq!(plan(&r, &s, ON)[0], "commit 1 first");
    assert_eq!(left_out(&r, &s, ON), ["mynotes.txt"]);
    // Committed, then 1:B rolled back by hand: it runs again, in a begun phase.
    let mut records = phase_one_done();
    records.push(commit(1));
    records.push(reset(1, "B"));
    let mut s = state("PHASE_1:A\n", records.clone());
    s.git.as_mut().unwrap().committed_records = Some(records.len() - 1);
    s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
    assert_eq!(plan(&r, &s, ON)[..2], ["1:B run B1", "commit 1"]);
    assert_eq!(left_out(&r, &s, ON), ["mynotes.txt"]);
}

#[test]
fn a_snapshot_is_not_work_that_owes_a_commit() {
    let r = roadmap(ROADMAP);
    let mut records = phase_one_done();
    records.push(commit(1));
    records.push(Record::Snapshot(crate::status::SnapshotRecord {
        phase: 1.into(),
        group: "B".into(),
        point: crate::status::SnapshotPoint::End,
        tree: "t".into(),
        left_out: Default::default(),
        at: Utc::now(),
    }));
    let mut s = state("PHASE_1:A\nPHASE_1:B\n", records);
    s.git.as_mut().unwrap().committed_records = Some(10);
    assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
}

#[test]
fn a_group_marked_complete_by_hand_is_named_skipped() {
    let r = roadmap(ROADMAP);
    let s = state("PHASE_1:A\nPHASE_1:B\n", group_a_done());
    let d = decide(&r, &s, &Selection::default(), ON);
    assert_eq!(d.hand_skipped, [key(1, "B")]);
    // Killed between the completed line and its record: it ran, gate passed.
    let mut records = phase_one_done();
    records.pop();
    let s = state("PHASE_1:A\nPHASE_1:B\n", records);
    assert!(
        decide(&r, &s, &Selection::default(), ON)
            .hand_skipped
            .is_empty()
    );
}
