use super::*;

#[test]
fn targets() {
    let k = GroupKey::new(1, "A");
    assert_eq!(
        LogTarget::parse("1:a:a1"),
        Some(LogTarget::Task {
            key: k.clone(),
            task: "a1".into()
        })
    );
    assert_eq!(LogTarget::parse("PHASE_1:A:A1"), LogTarget::parse("1:A:A1"));
    assert_eq!(
        LogTarget::parse("1:A"),
        Some(LogTarget::Gate { key: k.clone() })
    );
    assert_eq!(
        LogTarget::parse("phase_1:A"),
        Some(LogTarget::Gate { key: k.clone() })
    );
    assert_eq!(
        LogTarget::parse("1:A:gate"),
        Some(LogTarget::Gate { key: k })
    );
    for bad in ["", "1", "A:1", "1:A:", "1:A:../x", "1:A:A1:x", "x:A"] {
        assert_eq!(LogTarget::parse(bad), None, "{bad}");
    }
}

#[test]
fn names() {
    let n = LogName::parse("phase2_groupBB_BB12_20260109-212750-3.log").unwrap();
    assert!(n.is_for(&GroupKey::new(2, "BB")));
    assert_eq!((n.phase.as_str(), n.group.as_str()), ("2", "BB"));
    assert_eq!(
        (n.id.as_str(), n.stamp.as_str(), n.n),
        ("BB12", "20260109-212750", 3)
    );
    let n = LogName::parse("phase1_groupA_gate_20260109-212750.log").unwrap();
    assert_eq!((n.id.as_str(), n.n), ("gate", 1));
    for bad in [
        "phase1_groupA_A1_20260109.log",
        "phase1_groupA_A1_20260109-212750.txt",
        "x_phase1_groupA_A1_20260109-212750.log",
    ] {
        assert_eq!(LogName::parse(bad), None, "{bad}");
    }
}

#[test]
fn in_progress_lines() {
    use crate::status::{RunningGate, RunningGroup, RunningTask};
    let d = tempfile::tempdir().unwrap();
    let status = StatusDir::new(d.path());
    let task = LogTarget::parse("1:B:B1").unwrap();
    let gate = LogTarget::parse("1:B").unwrap();
    let me = std::process::id();
    let log = "phase1_groupB_B1_20260109-212750.log";
    assert_eq!(running_state(&status, &task, log), Running::No);
    let mut ip = InProgress::new(RunningGroup::this_process(GroupKey::new(1, "B")));
    ip.task_started(RunningTask::new(
        "B1",
        me,
        Some(format!("logs/orchestrator/{log}")),
    ));
    ip.write(&status).unwrap();
    assert_eq!(running_state(&status, &task, log), Running::Yes);
    // Agents run, not the gate.
    assert_eq!(running_state(&status, &gate, "g.log"), Running::No);
    assert_eq!(
        running_state(&status, &task, "phase1_groupB_B1_20260109-200000.log"),
        Running::NewerLog(format!("logs/orchestrator/{log}"))
    );
    assert_eq!(
        running_state(&status, &LogTarget::parse("1:B:B2").unwrap(), log),
        Running::No
    );
    ip.tasks.clear();
    ip.gate = Some(RunningGate {
        step: "test".into(),
        started: chrono::Utc::now(),
        pid: None,
        pid_start: None,
        log: None,
    });
    ip.write(&status).unwrap();
    assert_eq!(running_state(&status, &gate, "g.log"), Running::Yes);
    // A pid that is gone: a stale file from a killed run.
    std::fs::write(
        status.file("in_progress_tasks.txt"),
        "PHASE_1:B started=2026-01-09T21:27:50Z runner_pid=2147483646\n\
         PHASE_1:B:B1 started=2026-01-09T21:27:50Z pid=2147483646\n",
    )
    .unwrap();
    assert_eq!(running_state(&status, &task, log), Running::No);
}
