//! The status records: `tasks.jsonl` (attempts, gates, resets, and the resume
//! decisions made from them), the progress files, and the group report.

use chrono::{DateTime, FixedOffset, Utc};
use roadmap_runner::agent::{AgentReport, TaskOutcome};
use roadmap_runner::roadmap::GroupKey;
use roadmap_runner::status::progress::{
    IN_PROGRESS_FILE, IN_PROGRESS_HEADER, PENDING_FILE, parse_pending, process_alive,
    process_start_time,
};
use roadmap_runner::status::records::{RECORDS_FILE, RESULT_TEXT_CAP};
use roadmap_runner::status::*;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn key_a() -> GroupKey {
    GroupKey::new(1, "A")
}

fn failed() -> TaskOutcome {
    TaskOutcome::Failed {
        exit_code: Some(1),
        signal: None,
        reason: "the agent exited with status 1".into(),
    }
}

fn task(key: &GroupKey, id: &str, attempt: u32, outcome: TaskOutcome) -> TaskRecord {
    TaskRecord::new(
        key,
        id,
        attempt,
        outcome,
        &AgentReport {
            session_id: Some(format!("session-{id}-{attempt}")),
            num_turns: Some(7),
            duration_ms: Some(12_300),
            cost_usd: Some(0.25),
            usage: None,
            result_text: Some(format!("Did {id}.")),
            structured_output: None,
        },
        t("2026-01-09T21:27:50Z"),
        t("2026-01-09T21:28:02.3Z"),
        Duration::from_millis(12_300),
        Some(format!(
            "logs/orchestrator/phase{}_group{}_{id}_20260109-212750.log",
            key.phase, key.group
        )),
    )
}

fn gate(key: &GroupKey, passed: bool) -> GateRecord {
    GateRecord {
        phase: key.phase.clone(),
        group: key.group.clone(),
        passed,
        steps: vec![
            GateStepRecord {
                name: "typecheck".into(),
                status: StepStatus::Passed,
                duration_secs: Some(3.2),
            },
            GateStepRecord {
                name: "test".into(),
                status: if passed {
                    StepStatus::Passed
                } else {
                    StepStatus::Failed
                },
                duration_secs: Some(10.5),
            },
        ],
        at: t("2026-01-09T21:29:00Z"),
        log: Some("logs/orchestrator/phase1_groupA_gate_20260109-212900.log".into()),
    }
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn store() -> (tempfile::TempDir, StatusDir, RecordStore) {
    let dir = tempfile::tempdir().unwrap();
    let status = StatusDir::new(dir.path());
    let store = RecordStore::new(&status);
    (dir, status, store)
}

fn append_raw(store: &RecordStore, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(store.path())
        .unwrap();
    f.write_all(bytes).unwrap();
}

// ---- tasks.jsonl -----------------------------------------------------------

#[test]
fn records_round_trip_in_file_order() {
    let (_dir, status, store) = store();
    assert_eq!(store.path(), status.file(RECORDS_FILE));
    // No file yet: nothing recorded, no warning.
    assert_eq!(store.load().unwrap(), (vec![], vec![]));

    let a1 = task(&key_a(), "A1", 1, failed());
    let a1b = task(&key_a(), "A1", 2, TaskOutcome::Succeeded);
    let limit = task(
        &key_a(),
        "A2",
        1,
        TaskOutcome::UsageLimit {
            resets_at: Some(t("2026-01-10T03:00:00Z")),
            message: "limit reached".into(),
        },
    );
    let g = gate(&key_a(), true);
    store.append_task(&a1).unwrap();
    store.append_task(&a1b).unwrap();
    store.append_task(&limit).unwrap();
    store.append_gate(&g).unwrap();
    store.append_reset(&key_a()).unwrap();

    let (records, warnings) = store.load().unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(records.len(), 5);
    assert_eq!(records[0], Record::Task(a1));
    assert_eq!(records[1], Record::Task(a1b));
    assert_eq!(records[2], Record::Task(limit));
    assert_eq!(records[3], Record::Gate(g));
    let Record::Reset(reset) = &records[4] else {
        panic!("a reset record: {:?}", records[4])
    };
    assert_eq!(reset.key(), key_a());
    assert!((Utc::now() - reset.at).num_seconds() < 60);

    // One complete line per record, each with its version and kind.
    let text = std::fs::read_to_string(store.path()).unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .map(|l| {
            assert!(l.starts_with(r#"{"v":1,"kind":""#), "{l}");
            l.split('"').nth(5).unwrap()
        })
        .collect();
    assert_eq!(kinds, ["task", "task", "task", "gate", "reset"]);
    assert!(text.ends_with('\n'));
}

#[test]
fn task_record_has_the_documented_fields() {
    let line = Record::Task(task(&key_a(), "A1", 1, TaskOutcome::Succeeded)).to_line();
    assert_eq!(
        line,
        r#"{"v":1,"kind":"task","phase":1,"group":"A","task":"A1","attempt":1,"outcome":{"kind":"succeeded"},"started_at":"2026-01-09T21:27:50.000Z","finished_at":"2026-01-09T21:28:02.300Z","duration_secs":12.3,"exit_code":0,"cost_usd":0.25,"session_id":"session-A1-1","num_turns":7,"log":"logs/orchestrator/phase1_groupA_A1_20260109-212750.log","result_text":"Did A1."}"#
    );
    let gate_line = Record::Gate(gate(&key_a(), true)).to_line();
    assert_eq!(
        gate_line,
        r#"{"v":1,"kind":"gate","phase":1,"group":"A","passed":true,"steps":[{"name":"typecheck","status":"passed","duration_secs":3.2},{"name":"test","status":"passed","duration_secs":10.5}],"at":"2026-01-09T21:29:00.000Z","log":"logs/orchestrator/phase1_groupA_gate_20260109-212900.log"}"#
    );
    // The exit code follows the outcome.
    assert_eq!(task(&key_a(), "A1", 1, failed()).exit_code, Some(1));
    assert_eq!(
        task(&key_a(), "A1", 1, TaskOutcome::TimedOut { after_secs: 5 }).exit_code,
        None
    );
}

#[test]
fn long_result_text_is_capped_on_append() {
    let (_dir, _status, store) = store();
    let mut r = task(&key_a(), "A1", 1, TaskOutcome::Succeeded);
    r.result_text = Some("x".repeat(100_000));
    store.append_task(&r).unwrap();
    let (records, _) = store.load().unwrap();
    let Record::Task(back) = &records[0] else {
        panic!()
    };
    let text = back.result_text.as_deref().unwrap();
    assert!(text.len() <= RESULT_TEXT_CAP, "{}", text.len());
    assert!(text.starts_with("xxxx") && text.ends_with("(truncated)"));
}

#[test]
fn torn_last_line_is_skipped_with_a_warning_and_the_next_append_survives() {
    let (_dir, _status, store) = store();
    store
        .append_task(&task(&key_a(), "A1", 1, TaskOutcome::Succeeded))
        .unwrap();
    store
        .append_task(&task(&key_a(), "A2", 1, TaskOutcome::Succeeded))
        .unwrap();
    // A write cut short by SIGKILL / a full disk: half a line, no newline.
    let full = Record::Task(task(&key_a(), "A3", 1, TaskOutcome::Succeeded)).to_line();
    append_raw(&store, &full.as_bytes()[..full.len() / 2]);

    let (records, warnings) = store.load().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("tasks.jsonl line 3: "),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("unfinished last line"),
        "{}",
        warnings[0]
    );

    // The next record starts on a line of its own: the torn line does not
    // swallow it.
    let a3 = task(&key_a(), "A3", 1, TaskOutcome::Succeeded);
    store.append_task(&a3).unwrap();
    let (records, warnings) = store.load().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2], Record::Task(a3));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("tasks.jsonl line 3: "));
    assert!(!warnings[0].contains("unfinished"));
}

#[test]
fn unknown_versions_garbage_and_blank_lines_are_skipped() {
    let (_dir, _status, store) = store();
    store
        .append_task(&task(&key_a(), "A1", 1, TaskOutcome::Succeeded))
        .unwrap();
    append_raw(
        &store,
        concat!(
            "\n",
            "   \n",
            r#"{"v":2,"kind":"task","phase":1,"group":"A","task":"A1","shape":"new"}"#,
            "\n",
            "not json at all\n",
            r#"{"v":1,"kind":"retrospective","phase":1,"group":"A"}"#,
            "\n",
            "\u{0}\u{0}\u{0}\n",
            "\n",
        )
        .as_bytes(),
    );
    append_raw(&store, b"\xff\xfe binary\n");
    // A version-1 task line from the first format: no `kind`.
    append_raw(
        &store,
        br#"{"v":1,"phase":1,"group":"A","task":"A2","attempt":1,"outcome":{"kind":"succeeded"},"started_at":"2026-01-09T21:27:50Z","finished_at":"2026-01-09T21:28:02Z","duration_secs":12.0}"#,
    );
    append_raw(&store, b"\n");

    let (records, warnings) = store.load().unwrap();
    let tasks: Vec<&str> = records
        .iter()
        .map(|r| match r {
            Record::Task(t) => t.task.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(tasks, ["A1", "A2"]);
    let lines: Vec<&str> = warnings
        .iter()
        .map(|w| w.split(':').next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "tasks.jsonl line 4",
            "tasks.jsonl line 5",
            "tasks.jsonl line 6",
            "tasks.jsonl line 7",
            "tasks.jsonl line 9",
        ],
        "{warnings:#?}"
    );
    assert!(warnings[0].contains("record version 2"), "{}", warnings[0]);
    assert!(
        warnings[2].contains("unknown record kind"),
        "{}",
        warnings[2]
    );
    assert!(warnings[4].contains("UTF-8"), "{}", warnings[4]);
}

// ---- resume decisions --------------------------------------------------------

#[test]
fn resume_fresh_without_records() {
    let a = ids(&["A1", "A2"]);
    assert_eq!(group_resume_state(&[], &key_a(), &a), ResumeState::Fresh);
    // Records of other groups (same letter, other phase too) do not count.
    let records = vec![
        Record::Task(task(
            &GroupKey::new(1, "B"),
            "A1",
            1,
            TaskOutcome::Succeeded,
        )),
        Record::Task(task(
            &GroupKey::new(2, "A"),
            "A1",
            1,
            TaskOutcome::Succeeded,
        )),
        Record::Gate(gate(&GroupKey::new(2, "A"), true)),
    ];
    assert_eq!(
        group_resume_state(&records, &key_a(), &a),
        ResumeState::Fresh
    );
    assert!(latest_task_outcomes(&records, &key_a()).is_empty());
}

#[test]
fn resume_reruns_failed_and_never_run_tasks_only() {
    let k = key_a();
    let records = vec![
        Record::Task(task(&k, "A1", 1, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A2", 1, failed())),
        Record::Task(task(&k, "A3", 1, failed())),
        Record::Task(task(&k, "A3", 2, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A1", 1, TaskOutcome::Interrupted)),
    ];
    // A1's latest attempt was interrupted, A2 failed, A4 never ran.
    assert_eq!(
        group_resume_state(&records, &k, &ids(&["A1", "A2", "A3", "A4"])),
        ResumeState::RerunFailed {
            succeeded: ids(&["A3"]),
            to_run: ids(&["A1", "A2", "A4"]),
        }
    );
    let latest = latest_task_outcomes(&records, &k);
    assert_eq!(latest.keys().collect::<Vec<_>>(), ["A1", "A2", "A3"]);
    assert_eq!(latest["A1"].outcome, TaskOutcome::Interrupted);
    assert_eq!(latest["A3"].attempt, 2);
}

#[test]
fn resume_gate_only_when_tasks_succeeded_but_no_later_gate_passed() {
    let k = key_a();
    let a = ids(&["A1", "A2"]);
    let mut records = vec![
        Record::Task(task(&k, "A1", 1, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A2", 1, TaskOutcome::Succeeded)),
    ];
    // Stopped before the gate.
    assert_eq!(group_resume_state(&records, &k, &a), ResumeState::GateOnly);
    // The gate failed; the user fixes the code by hand: only the gate reruns.
    records.push(Record::Gate(gate(&k, false)));
    assert_eq!(group_resume_state(&records, &k, &a), ResumeState::GateOnly);
    // It passes now.
    records.push(Record::Gate(gate(&k, true)));
    assert_eq!(
        group_resume_state(&records, &k, &a),
        ResumeState::GatePassed
    );
    // A later failing gate is the latest word.
    records.push(Record::Gate(gate(&k, false)));
    assert_eq!(group_resume_state(&records, &k, &a), ResumeState::GateOnly);
    // A gate that passed before a task's latest attempt does not cover it.
    let records = vec![
        Record::Task(task(&k, "A1", 1, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A2", 1, failed())),
        Record::Gate(gate(&k, true)),
        Record::Task(task(&k, "A2", 2, TaskOutcome::Succeeded)),
    ];
    assert_eq!(group_resume_state(&records, &k, &a), ResumeState::GateOnly);
    // Another group's passing gate does not either.
    let records = vec![
        Record::Task(task(&k, "A1", 1, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A2", 1, TaskOutcome::Succeeded)),
        Record::Gate(gate(&GroupKey::new(1, "B"), true)),
    ];
    assert_eq!(group_resume_state(&records, &k, &a), ResumeState::GateOnly);
}

#[test]
fn resume_complete_when_a_later_gate_passed() {
    let k = key_a();
    let records = vec![
        Record::Task(task(&k, "A1", 1, failed())),
        Record::Task(task(&k, "A1", 2, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A2", 1, TaskOutcome::Succeeded)),
        Record::Gate(gate(&k, true)),
        // Records of other groups after it change nothing.
        Record::Task(task(&GroupKey::new(1, "B"), "B1", 1, failed())),
        Record::Reset(ResetRecord {
            phase: 1.into(),
            group: "B".into(),
            at: t("2026-01-10T00:00:00Z"),
        }),
    ];
    assert_eq!(
        group_resume_state(&records, &k, &ids(&["A1", "A2"])),
        ResumeState::GatePassed
    );
}

#[test]
fn resume_after_a_reset_ignores_earlier_records() {
    let k = key_a();
    let a = ids(&["A1", "A2"]);
    let reset = || {
        Record::Reset(ResetRecord {
            phase: 1.into(),
            group: "A".into(),
            at: t("2026-01-10T08:00:00Z"),
        })
    };
    let mut records = vec![
        Record::Task(task(&k, "A1", 1, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A2", 1, TaskOutcome::Succeeded)),
        Record::Gate(gate(&k, true)),
    ];
    assert_eq!(
        group_resume_state(&records, &k, &a),
        ResumeState::GatePassed
    );
    // Rolled back: everything runs again.
    records.push(reset());
    assert_eq!(group_resume_state(&records, &k, &a), ResumeState::Fresh);
    assert!(latest_task_outcomes(&records, &k).is_empty());
    // New attempts after the reset: the old passing gate no longer counts.
    records.push(Record::Task(task(&k, "A1", 1, failed())));
    assert_eq!(
        group_resume_state(&records, &k, &a),
        ResumeState::RerunFailed {
            succeeded: vec![],
            to_run: ids(&["A1", "A2"]),
        }
    );
    records.push(Record::Task(task(&k, "A1", 2, TaskOutcome::Succeeded)));
    records.push(Record::Task(task(&k, "A2", 1, TaskOutcome::Succeeded)));
    assert_eq!(group_resume_state(&records, &k, &a), ResumeState::GateOnly);
    let latest = latest_task_outcomes(&records, &k);
    assert_eq!(latest["A1"].attempt, 2);
    // Only the latest reset matters.
    records.push(Record::Gate(gate(&k, true)));
    records.push(reset());
    records.push(Record::Task(task(&k, "A2", 1, TaskOutcome::Succeeded)));
    assert_eq!(
        group_resume_state(&records, &k, &a),
        ResumeState::RerunFailed {
            succeeded: ids(&["A2"]),
            to_run: ids(&["A1"]),
        }
    );

    // Through the file, as rollback writes it.
    let (_dir, _status, store) = store();
    store
        .append_task(&task(&k, "A1", 1, TaskOutcome::Succeeded))
        .unwrap();
    store.append_reset(&GroupKey::new(1, "B")).unwrap();
    let (loaded, _) = store.load().unwrap();
    assert_eq!(
        group_resume_state(&loaded, &k, &ids(&["A1"])),
        ResumeState::GateOnly
    );
    store.append_reset(&k).unwrap();
    let (loaded, _) = store.load().unwrap();
    assert_eq!(
        group_resume_state(&loaded, &k, &ids(&["A1"])),
        ResumeState::Fresh
    );
}

#[test]
fn resume_ignores_tasks_the_roadmap_dropped() {
    let k = key_a();
    let records = vec![
        Record::Task(task(&k, "A1", 1, TaskOutcome::Succeeded)),
        Record::Task(task(&k, "A2", 1, TaskOutcome::Succeeded)),
        // A3 was removed from the roadmap after it failed.
        Record::Task(task(&k, "A3", 1, failed())),
    ];
    assert_eq!(
        group_resume_state(&records, &k, &ids(&["A1", "A2"])),
        ResumeState::GateOnly
    );
    // A dropped task's attempt after the passing gate does not undo it.
    let mut records = records;
    records.push(Record::Gate(gate(&k, true)));
    records.push(Record::Task(task(&k, "A3", 2, failed())));
    assert_eq!(
        group_resume_state(&records, &k, &ids(&["A1", "A2"])),
        ResumeState::GatePassed
    );
    // Only dropped tasks have records: the current tasks never ran.
    assert_eq!(
        group_resume_state(&records, &k, &ids(&["A7"])),
        ResumeState::Fresh
    );
    // A task added to the roadmap since: it runs, the others do not.
    assert_eq!(
        group_resume_state(&records, &k, &ids(&["A1", "A2", "A4"])),
        ResumeState::RerunFailed {
            succeeded: ids(&["A1", "A2"]),
            to_run: ids(&["A4"]),
        }
    );
    // latest_task_outcomes reports every recorded id; callers filter.
    assert!(latest_task_outcomes(&records, &k).contains_key("A3"));
}

// ---- progress files ----------------------------------------------------------

fn sample_in_progress() -> InProgress {
    let mut ip = InProgress::new(RunningGroup {
        key: GroupKey::new(1, "B"),
        started: t("2026-01-09T21:27:50Z"),
        runner_pid: 1234,
        runner_pid_start: Some(99),
    });
    ip.task_started(RunningTask {
        task_id: "B1".into(),
        started: t("2026-01-09T21:27:50Z"),
        pid: 1240,
        pid_start: Some(81301),
        log: Some("logs/orchestrator/phase1_groupB_B1_20260109-212750.log".into()),
        worker: None,
    });
    ip.task_started(RunningTask {
        task_id: "B3".into(),
        started: t("2026-01-09T21:28:10Z"),
        pid: 1251,
        pid_start: None,
        log: Some("logs/my project/b3 log.log".into()),
        worker: None,
    });
    ip
}

#[test]
fn in_progress_render_parse_round_trip() {
    let ip = sample_in_progress();
    let text = ip.render();
    assert_eq!(
        text,
        "# roadmap-runner: running now (rewritten as tasks start and end)\n\
         PHASE_1:B started=2026-01-09T21:27:50+00:00 runner_pid=1234 runner_pid_start=99\n\
         PHASE_1:B:B1 started=2026-01-09T21:27:50+00:00 pid=1240 pid_start=81301 log=logs/orchestrator/phase1_groupB_B1_20260109-212750.log\n\
         PHASE_1:B:B3 started=2026-01-09T21:28:10+00:00 pid=1251 log=logs/my project/b3 log.log\n"
    );
    assert_eq!(InProgress::parse(&text), ip);
    // Tasks end: their lines go.
    let mut ip2 = ip.clone();
    ip2.task_finished("B1");
    assert_eq!(InProgress::parse(&ip2.render()), ip2);
    assert_eq!(
        InProgress::parse(&InProgress::default().render()),
        InProgress::default()
    );
}

#[test]
fn in_progress_write_clear_and_pending() {
    let dir = tempfile::tempdir().unwrap();
    let status = StatusDir::new(dir.path());
    let ip = sample_in_progress();
    ip.write(&status).unwrap();
    assert_eq!(InProgress::load(&status).unwrap(), ip);
    InProgress::clear(&status).unwrap();
    assert_eq!(
        std::fs::read_to_string(status.file(IN_PROGRESS_FILE)).unwrap(),
        format!("{IN_PROGRESS_HEADER}\n")
    );
    assert!(InProgress::load(&status).unwrap().is_empty());

    let groups = vec![
        (GroupKey::new(1, "B"), ids(&["B1", "B2", "B3"])),
        (GroupKey::new(2, "A"), ids(&["A1"])),
    ];
    write_pending(&status, &groups).unwrap();
    let text = std::fs::read_to_string(status.file(PENDING_FILE)).unwrap();
    assert!(
        text.ends_with("\nPHASE_1:B B1 B2 B3\nPHASE_2:A A1\n"),
        "{text}"
    );
    assert_eq!(parse_pending(&text), groups);
}

/// `sleep` leading its own process group, as the runner starts agents.
fn spawn_group_leader(script: &str) -> Child {
    Command::new("sh")
        .args(["-c", script])
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh runs")
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn recover_reports_a_stale_file_but_not_a_live_run() {
    let dir = tempfile::tempdir().unwrap();
    let status = StatusDir::new(dir.path());
    // Nothing recorded.
    assert!(recover_in_progress(&status, true).is_none());
    InProgress::clear(&status).unwrap();
    assert!(recover_in_progress(&status, true).is_none());

    // A runner that is still alive (another process): not stale unless the
    // caller holds the lock.
    let mut live = spawn_group_leader("exec sleep 30");
    let pid = live.id();
    let mut ip = InProgress::new(RunningGroup {
        key: GroupKey::new(1, "B"),
        started: Utc::now(),
        runner_pid: pid,
        runner_pid_start: process_start_time(pid),
    });
    ip.task_started(RunningTask::new("B1", 1_000_000, None));
    ip.task_started(RunningTask::new("B3", 1_000_001, None));
    ip.write(&status).unwrap();
    assert!(recover_in_progress(&status, false).is_none());
    let stale = recover_in_progress(&status, true).expect("the lock says it is stale");
    assert_eq!(
        stale.describe_interruption(),
        "the previous run was interrupted during PHASE_1:B (tasks B1, B3 were running)"
    );

    // The same pid, another start time: a recycled pid, the runner is gone.
    ip.group.as_mut().unwrap().runner_pid_start = process_start_time(pid).map(|s| s + 1);
    ip.write(&status).unwrap();
    assert_eq!(recover_in_progress(&status, false), Some(ip.clone()));
    live.kill().unwrap();
    live.wait().unwrap();
    assert!(!process_alive(pid, None));

    // The runner has exited.
    ip.group.as_mut().unwrap().runner_pid_start = None;
    ip.write(&status).unwrap();
    assert_eq!(recover_in_progress(&status, false), Some(ip));

    // The file this very process wrote is never stale.
    InProgress::new(RunningGroup::this_process(GroupKey::new(1, "C")))
        .write(&status)
        .unwrap();
    assert!(recover_in_progress(&status, true).is_none());
}

#[test]
fn kill_leftovers_kills_the_recorded_process_group() {
    // The leader and a grandchild in its group (it prints the grandchild's pid).
    let mut child = spawn_group_leader("sleep 300 & echo $!; wait");
    let grandchild: u32 = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().parse().unwrap()
    };
    let pid = child.id();
    let mut ip = InProgress::new(RunningGroup::this_process(GroupKey::new(1, "B")));
    let task = RunningTask::new("B1", pid, None);
    assert!(task.pid_start.is_some());
    ip.task_started(task);

    assert_eq!(kill_leftovers(&ip), vec![pid]);
    let status = wait_with_timeout(&mut child, Duration::from_secs(10)).expect("killed");
    assert_eq!(status.signal(), Some(9));
    let until = Instant::now() + Duration::from_secs(10);
    while process_alive(grandchild, None) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !process_alive(grandchild, None),
        "the whole group is killed"
    );
}

#[test]
fn kill_leftovers_never_kills_a_recycled_pid() {
    let mut child = spawn_group_leader("exec sleep 300");
    let pid = child.id();
    let real_start = process_start_time(pid).expect("/proc");
    let mut ip = InProgress::default();
    // The pid as recorded by an earlier run: another process had it then.
    ip.task_started(RunningTask {
        task_id: "B1".into(),
        started: Utc::now(),
        pid,
        pid_start: Some(real_start.saturating_sub(1)),
        log: None,
        worker: None,
    });
    // No start time recorded: cannot be verified, never killed either.
    ip.task_started(RunningTask {
        task_id: "B2".into(),
        started: Utc::now(),
        pid,
        pid_start: None,
        log: None,
        worker: None,
    });
    // Our own process and group, pids 0 and 1: never.
    let me = std::process::id();
    for (id, p) in [("B3", me), ("B4", 0), ("B5", 1)] {
        ip.task_started(RunningTask {
            task_id: id.into(),
            started: Utc::now(),
            pid: p,
            pid_start: process_start_time(p),
            log: None,
            worker: None,
        });
    }
    assert_eq!(kill_leftovers(&ip), Vec::<u32>::new());
    std::thread::sleep(Duration::from_millis(100));
    assert!(child.try_wait().unwrap().is_none(), "still running");
    assert!(process_alive(pid, Some(real_start)));
    child.kill().unwrap();
    child.wait().unwrap();
}

// ---- group report --------------------------------------------------------------

fn report_input() -> GroupReportInput {
    let completed_at =
        DateTime::<FixedOffset>::parse_from_rfc3339("2026-01-09T22:41:07+01:00").unwrap();
    GroupReportInput {
        phase: 1.into(),
        phase_title: "Foundation Layer".into(),
        group_id: "A".into(),
        group_title: "Database".into(),
        group_annotation: Some("Parallel".into()),
        completed_at,
        duration: Duration::from_secs(14 * 60 + 20),
        tasks: vec![
            TaskReport {
                id: "A1".into(),
                title: "Users table".into(),
                outcome: TaskReportOutcome::Ran(TaskOutcome::Succeeded),
                duration: Duration::from_secs(12 * 60 + 3),
                attempts: vec![AttemptReport {
                    outcome: "succeeded".into(),
                    duration: Duration::from_secs(12 * 60 + 3),
                    cost_usd: Some(0.4312),
                }],
                summary: Some(
                    "## Summary\n\
                     Created the `users` table | with a pipe.\n\
                     \n\
                     | col | type |\n\
                     |-----|------|\n\
                     | id  | int  |\n\
                     \n\
                     # Next steps\n\
                     - run `cargo test | tail`\n\
                     <details><summary>raw</summary>\n\
                     Setext title\n\
                     ===\n\
                     ```sh\n\
                     # a comment, not a heading\n\
                     <b>kept in code</b>"
                        .into(),
                ),
                log: Some("logs/orchestrator/phase1_groupA_A1_20260109-222904.log".into()),
                files: None,
                sub: Vec::new(),
            },
            TaskReport {
                id: "A2".into(),
                title: "Migrations | rollback <script>".into(),
                outcome: TaskReportOutcome::Ran(TaskOutcome::Succeeded),
                duration: Duration::from_millis(48_700),
                attempts: vec![
                    AttemptReport {
                        outcome: "failed".into(),
                        duration: Duration::from_millis(20_000),
                        cost_usd: Some(0.05),
                    },
                    AttemptReport {
                        outcome: "succeeded".into(),
                        duration: Duration::from_millis(28_700),
                        cost_usd: Some(0.07),
                    },
                ],
                summary: None,
                log: Some("logs/orchestrator/phase1_groupA_A2_20260109-222904-2.log".into()),
                files: None,
                sub: Vec::new(),
            },
            TaskReport {
                id: "A3".into(),
                title: "Seed data".into(),
                outcome: TaskReportOutcome::DoneInRoadmap,
                duration: Duration::ZERO,
                attempts: Vec::new(),
                summary: None,
                log: None,
                files: None,
                sub: Vec::new(),
            },
        ],
        changed_files: vec!["migrations/0001_users.sql".into(), "src/db.rs".into()],
        gate: vec![
            GateStepReport {
                name: "typecheck".into(),
                command: "cargo check".into(),
                status: StepStatus::Passed,
                duration: Some(Duration::from_millis(3_200)),
            },
            GateStepReport {
                name: "lint".into(),
                command: "cargo clippy -- -D warnings | tee lint.log".into(),
                status: StepStatus::Warning,
                duration: Some(Duration::from_millis(8_000)),
            },
            GateStepReport {
                name: "test".into(),
                command: "cargo test".into(),
                status: StepStatus::Passed,
                duration: Some(Duration::from_secs(75)),
            },
            GateStepReport {
                name: "build".into(),
                command: String::new(),
                status: StepStatus::NotRun,
                duration: None,
            },
        ],
        helpers: vec![
            HelperReport {
                id: "repair-1".into(),
                role: "repair".into(),
                outcome: "succeeded".into(),
                cost_usd: Some(0.02),
                verdict: None,
            },
            HelperReport {
                id: "review-1".into(),
                role: "review".into(),
                outcome: "succeeded".into(),
                cost_usd: Some(0.01),
                verdict: Some("approve".into()),
            },
        ],
    }
}

#[test]
fn group_report_snapshot() {
    insta::assert_snapshot!(render_group_report(&report_input()));
}

/// What a Markdown renderer sees: top-level headings, table cells, whether
/// anything inside a quote became a heading or raw HTML.
#[derive(Debug, Default)]
struct Structure {
    top_headings: Vec<String>,
    /// Tables outside quotes.
    tables: Vec<Vec<Vec<String>>>,
    /// Tables inside quotes (the agent's own).
    quoted_tables: Vec<Vec<Vec<String>>>,
    headings_in_quotes: usize,
    html: Vec<String>,
}

fn structure(md: &str) -> Structure {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut s = Structure::default();
    let mut quote_depth = 0;
    let mut heading: Option<String> = None;
    let mut cell: Option<String> = None;
    let mut table_in_quote = false;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::BlockQuote(_)) => quote_depth += 1,
            Event::End(TagEnd::BlockQuote(_)) => quote_depth -= 1,
            Event::Start(Tag::Heading { .. }) => {
                if quote_depth > 0 {
                    s.headings_in_quotes += 1;
                }
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => {
                let h = heading.take().unwrap();
                if quote_depth == 0 {
                    s.top_headings.push(h);
                }
            }
            Event::Start(Tag::Table(_)) => {
                table_in_quote = quote_depth > 0;
                let tables = if table_in_quote {
                    &mut s.quoted_tables
                } else {
                    &mut s.tables
                };
                tables.push(vec![]);
            }
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                let tables = if table_in_quote {
                    &mut s.quoted_tables
                } else {
                    &mut s.tables
                };
                tables.last_mut().unwrap().push(vec![])
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let c = cell.take().unwrap();
                let tables = if table_in_quote {
                    &mut s.quoted_tables
                } else {
                    &mut s.tables
                };
                tables.last_mut().unwrap().last_mut().unwrap().push(c);
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => s.html.push(h.to_string()),
            _ => {}
        }
    }
    s
}

#[test]
fn agent_markdown_cannot_break_the_report() {
    let md = render_group_report(&report_input());
    let s = structure(&md);
    assert_eq!(
        s.top_headings,
        [
            "Phase 1 · Group A: Database (Parallel)",
            "A1: Users table",
            "A2: Migrations | rollback <script>",
            "A3: Seed data",
            "Repairs and reviews",
            "Files changed",
            "Gate",
            "Totals",
        ]
    );
    assert_eq!(s.headings_in_quotes, 0);
    assert!(s.html.is_empty(), "raw HTML reached the page: {:?}", s.html);
    // The summary, repairs and gate tables: every cell where it belongs.
    assert_eq!(s.tables.len(), 3, "{:?}", s.tables);
    // The agent's own table stays inside its quote.
    assert_eq!(s.quoted_tables, [[["col", "type"], ["id", "int"]]]);
    let summary = &s.tables[0];
    assert_eq!(
        summary[0],
        ["Task", "Title", "Outcome", "Attempts", "Duration", "Cost"]
    );
    assert_eq!(
        summary[2],
        [
            "A2",
            "Migrations | rollback <script>",
            "✅ succeeded",
            "2",
            "48.7s",
            "$0.12"
        ]
    );
    assert_eq!(
        summary[3],
        ["A3", "Seed data", "☑️ done in roadmap", "—", "—", "—"]
    );
    assert_eq!(s.tables[1][1], ["repair-1", "succeeded", "$0.02"]);
    let gate = &s.tables[2];
    assert_eq!(
        gate[2],
        [
            "lint",
            "cargo clippy -- -D warnings | tee lint.log",
            "⚠️ warning",
            "8.0s"
        ]
    );
    assert_eq!(gate[4], ["build", "—", "➖ not run", "—"]);

    // Whatever the summary holds, the sections after it stay sections.
    for nasty in [
        "```\nunclosed fence\n## A9: fake",
        "~~~~\n~~~\n# fake",
        "<div>\n\n## fake",
        "text\n---",
        "    ## indented code\n\n## real-looking heading",
        "> nested quote\n>\n## fake",
        "\r\n## fake\r\n",
        "a paragraph\n    <div style=\"display:none\">\n\n## fake",
        "    <kept as code>\n    # code\n## fake",
    ] {
        let mut input = report_input();
        input.tasks[0].summary = Some(nasty.into());
        let s = structure(&render_group_report(&input));
        assert_eq!(s.top_headings.len(), 8, "{nasty:?}: {:?}", s.top_headings);
        assert_eq!(s.top_headings[1], "A1: Users table", "{nasty:?}");
        assert_eq!(
            s.top_headings[2], "A2: Migrations | rollback <script>",
            "{nasty:?}"
        );
        assert_eq!(s.headings_in_quotes, 0, "{nasty:?}");
        assert!(s.html.is_empty(), "{nasty:?}: {:?}", s.html);
    }
}

#[test]
fn group_report_is_written_at_the_project_root() {
    let dir = tempfile::tempdir().unwrap();
    let key = GroupKey::new(1, "A");
    let path = write_group_report(dir.path(), &key, "# report\n").unwrap();
    assert_eq!(path, dir.path().join("PHASE1-GROUP-A-STATUS.md"));
    assert_eq!(report_file_name(&key), "PHASE1-GROUP-A-STATUS.md");
    write_group_report(dir.path(), &key, "# again\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# again\n");
}
