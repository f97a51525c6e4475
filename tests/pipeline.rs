//! The whole pipeline in real git repositories with a bare `origin`: agents,
//! gate, status files, reports, phase commits and pushes, resume after
//! failures, hand edits and SIGKILL.

mod common;

use common::*;
use roadmap_runner::status::{InProgress, RecordStore, StatusDir};
use std::process::Stdio;

/// A gate that passes when every file named in `gate-needs.txt` exists.
const GATE: &str = r#"[[gate.steps]]
name = "test"
command = "for f in $(cat gate-needs.txt 2>/dev/null); do test -f \"$f\" || { echo \"missing $f\"; exit 1; }; done"
"#;

fn two_phases() -> String {
    "# Shop\n\nA small shop.\n\n\
     ## Phase 1: Foundation\n\n\
     ### Group A (Parallel)\n\n\
     - A1: Schema\n  - FAKE: write db/schema.sql create table t;\n\
     - A2: Scaffold\n  - FAKE: write src/main.txt hello\n\n\
     ### Group B (Parallel, after A)\n\n\
     - B1: Accounts\n  - FAKE: write src/accounts.txt accounts\n\n\
     ## Phase 2: Features\n\n\
     ### Group C\n\n\
     #### C1: Cart\n\nFAKE: write src/cart.txt cart\n\n\
     #### C2: Checkout\n\nFAKE: write src/checkout.txt checkout\n"
        .to_string()
}

fn assert_status_files_parse(p: &Project) {
    let status = StatusDir::new(&p.dir);
    let (_, warnings) = RecordStore::new(&status).load().unwrap();
    assert!(warnings.is_empty(), "tasks.jsonl: {warnings:?}");
    let (_, warnings) = status.load_completed().unwrap();
    assert!(warnings.is_empty(), "completed_tasks.txt: {warnings:?}");
    InProgress::load(&status).unwrap();
}

#[test]
fn two_phases_end_to_end_commit_and_push_each_phase() {
    let p = Project::with_config(&two_phases(), GATE);
    let out = p.run(&[]);
    assert_exit(&out, 0);

    let log = p.origin_log();
    assert_eq!(
        log,
        [
            "Complete Phase 2: Features",
            "Complete Phase 1: Foundation",
            "initial"
        ]
    );
    let body = git(&p.origin, &["log", "-1", "--format=%B", "main~1"]);
    assert!(body.contains("Group A"), "{body}");
    assert!(body.contains("- A1: Schema"), "{body}");
    assert!(body.contains("Roadmap-Phase: 1"), "{body}");
    // The phase's work and status are in its commit; logs and the lock are not.
    let files = git(&p.origin, &["ls-tree", "-r", "--name-only", "main~1"]);
    for f in [
        "db/schema.sql",
        "src/accounts.txt",
        "status/completed_tasks.txt",
        "status/tasks.jsonl",
        "PHASE1-GROUP-A-STATUS.md",
        "PHASE1-GROUP-B-STATUS.md",
    ] {
        assert!(files.lines().any(|l| l == f), "{f} not committed:\n{files}");
    }
    assert!(
        !files.contains("src/cart.txt"),
        "phase 2 work in phase 1's commit"
    );
    assert!(!files.contains("logs/"), "{files}");
    assert!(!files.contains(".lock"), "{files}");

    assert_eq!(p.git_status(), "", "the run left the tree dirty");
    assert_eq!(
        p.read("status/completed_tasks.txt"),
        "PHASE_1:A\nPHASE_1:B\nPHASE_2:C\n"
    );
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    assert!(report.contains("A1"), "{report}");
    assert!(report.contains("db/schema.sql"), "{report}");
    assert!(report.contains("test"), "{report}");
    assert_status_files_parse(&p);

    // Tomorrow night: nothing to do, nothing committed.
    let again = p.run(&[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("Nothing to do"),
        "{}",
        stdout(&again)
    );
    assert_eq!(p.origin_log().len(), 3);
}

#[test]
fn gate_failure_stops_with_2_and_the_rerun_reruns_only_the_gate() {
    let p = Project::with_config(&two_phases(), GATE);
    p.write("gate-needs.txt", "db/schema.sql\nREADME-by-hand.txt\n");
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-qm", "gate needs a file"]);
    // Without repairs: the behaviour before repair agents existed.
    let out = p.run(&["--no-push", "--fix-attempts", "0"]);
    assert_exit(&out, 2);
    let text = stdout(&out);
    assert!(text.contains("missing README-by-hand.txt"), "{text}");
    assert!(text.contains("roadmap-runner gate"), "{text}");
    assert!(!p.read("status/completed_tasks.txt").contains("PHASE_1:A"));
    let starts = p.agent_starts().len();
    assert_eq!(starts, 2);

    // The user fixes the code by hand and checks it.
    p.write("README-by-hand.txt", "fixed\n");
    let gate = p.run(&["gate"]);
    assert_eq!(gate.status.code(), Some(0), "{}", stdout(&gate));

    let out = p.run(&["--no-push", "--group", "1:A"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("only the gate runs again"),
        "{}",
        stdout(&out)
    );
    assert_eq!(p.agent_starts().len(), starts, "agents ran again");
    assert!(p.read("status/completed_tasks.txt").contains("PHASE_1:A"));
}

#[test]
fn hand_edits_of_completed_tasks_are_respected_both_ways() {
    let p = Project::with_config(&two_phases(), "");
    // Skip group A by hand, with a comment and odd spacing.
    p.write(
        "status/completed_tasks.txt",
        "# done elsewhere\n  phase_1:a\n",
    );
    let out = p.run(&["--no-commit", "--phase", "1"]);
    assert_exit(&out, 0);
    let tasks = p.agent_task_ids();
    assert_eq!(tasks, ["B1"]);
    // The runner added its line and kept the user's.
    assert_eq!(
        p.read("status/completed_tasks.txt"),
        "# done elsewhere\n  phase_1:a\nPHASE_1:B\n"
    );

    // Remove B by hand: it runs again.
    p.write(
        "status/completed_tasks.txt",
        "# done elsewhere\n  phase_1:a\n",
    );
    let out = p.run(&["--no-commit", "--phase", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.agent_starts().len(), 2, "B1 ran again");
    assert!(
        p.read("status/completed_tasks.txt")
            .ends_with("PHASE_1:B\n")
    );
}

#[test]
fn skip_and_rollback_commands() {
    let p = Project::with_config(&two_phases(), "");
    let out = p.run(&["skip", "1:A"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.read("status/completed_tasks.txt"), "PHASE_1:A\n");
    let out = p.run(&["--no-commit", "--group", "1:B"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.dir.join("PHASE1-GROUP-B-STATUS.md").exists());

    let out = p.run(&["rollback", "1:B", "--delete-report"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.read("status/completed_tasks.txt"), "PHASE_1:A\n");
    assert!(!p.dir.join("PHASE1-GROUP-B-STATUS.md").exists());
    let out = p.run(&["--no-commit", "--group", "1:B"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.agent_starts().len(), 2, "B1 ran again after the rollback");

    let out = p.run(&["skip", "9:Z"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        stderr(&out).contains("PHASE_9:Z is not a group"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rejected_push_keeps_the_commit_and_the_next_run_pushes_it() {
    // `stop`: the user integrates by hand (the default rebases, tests/git_push.rs).
    let p = Project::with_config(&two_phases(), "[git]\ndiverged = \"stop\"\n");
    // Someone else pushes first: origin is ahead.
    let other = p.tmp.path().join("other");
    git(
        p.tmp.path(),
        &["clone", "-q", p.origin.to_str().unwrap(), "other"],
    );
    git(&other, &["config", "user.name", "Other"]);
    git(&other, &["config", "user.email", "other@example.invalid"]);
    std::fs::write(other.join("NOTES.md"), "notes\n").unwrap();
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-qm", "notes from elsewhere"]);
    git(&other, &["push", "-q", "origin", "main"]);

    let out = p.run(&["--phase", "1"]);
    assert_exit(&out, 3);
    assert!(
        stdout(&out).contains("could not be pushed"),
        "{}",
        stdout(&out)
    );
    let local = git(&p.dir, &["log", "--format=%s", "-1"]);
    assert_eq!(local.trim(), "Complete Phase 1: Foundation");
    assert_eq!(p.origin_log()[0], "notes from elsewhere");
    let status = stdout(&p.run(&["status"]));
    assert!(status.contains("Not pushed: 1 commit"), "{status}");

    // The user integrates the remote; the next run pushes before any work.
    git(&p.dir, &["pull", "-q", "--rebase", "origin", "main"]);
    let out = p.run(&["--phase", "1"]);
    assert_exit(&out, 0);
    assert_eq!(p.origin_log()[0], "Complete Phase 1: Foundation");
    assert_eq!(p.agent_starts().len(), 3, "no task ran twice");
}

#[test]
fn sigkill_mid_group_then_the_next_run_resumes_without_duplicates() {
    let roadmap = "# T\n\n## Phase 1: P\n\n### Group A\n\n\
        - A1: fast\n  - FAKE: write a1.txt done\n\
        - A2: slow\n  - FAKE: sleep 4\n  - FAKE: write a2.txt done\n";
    let p = Project::with_config(roadmap, "");
    let mut runner = p
        .cmd()
        .args(["--no-push", "--max-parallel", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = StatusDir::new(&p.dir);
    wait_for("A1 recorded and A2 running", 20, || {
        let done = RecordStore::new(&status)
            .load()
            .map(|(r, _)| r.iter().any(|r| r.kind() == "task"))
            .unwrap_or(false);
        done && p.agent_starts().len() == 2
    });
    runner.kill().unwrap();
    runner.wait().unwrap();
    let orphan = p
        .agent_starts()
        .iter()
        .find(|e| e["task"] == "A2")
        .map(|e| e["pid"].as_i64().unwrap() as i32)
        .unwrap();
    assert_status_files_parse(&p);
    assert!(
        p.read("status/in_progress_tasks.txt")
            .contains("PHASE_1:A:A2")
    );

    let out = p.run(&["--no-push"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("interrupted"), "{text}");
    assert!(
        !alive(orphan),
        "the killed run's agent {orphan} was left running"
    );
    let tasks = p.agent_task_ids();
    let count = |id: &str| tasks.iter().filter(|t| *t == id).count();
    assert_eq!(
        (count("A1"), count("A2")),
        (1, 2),
        "A1 must not run twice: {tasks:?}"
    );
    assert_eq!(p.read("status/completed_tasks.txt"), "PHASE_1:A\n");
    assert_eq!(
        git(&p.dir, &["log", "--format=%s", "-1"]).trim(),
        "Complete Phase 1: P"
    );
    assert!(!p.read("status/in_progress_tasks.txt").contains("PHASE_1:A"));
    assert_status_files_parse(&p);
}

#[test]
fn dirty_tree_is_refused_for_a_fresh_phase_but_not_on_resume() {
    let p = Project::with_config(&two_phases(), "");
    p.write("unrelated.txt", "my own work\n");
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("unrelated.txt"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-dirty"), "{}", stderr(&out));
    assert!(p.agent_events().is_empty());

    // Resuming a phase with completed groups is the phase's own work.
    std::fs::remove_file(p.dir.join("unrelated.txt")).unwrap();
    let out = p.run(&["--group", "1:A", "--no-push"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.git_status().contains("db/"), "{}", p.git_status());
    let out = p.run(&["--phase", "1", "--no-push"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = p.run(&["--allow-dirty", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_group_done_in_the_roadmap_completes_without_agents() {
    let roadmap = "# T\n\n## Phase 1: P\n\n### Group A\n\n- [x] A1: done\n- [x] A2: done too\n\n\
        ### Group B\n\n- B1: todo\n";
    let p = Project::with_config(roadmap, "");
    let out = p.run(&["--no-push"]);
    assert_exit(&out, 0);
    let tasks = p.agent_task_ids();
    assert_eq!(tasks, ["B1"]);
    assert_eq!(
        p.read("status/completed_tasks.txt"),
        "PHASE_1:A\nPHASE_1:B\n"
    );
    // A group that did not run gets no report; the one that ran does.
    assert!(!p.dir.join("PHASE1-GROUP-A-STATUS.md").exists());
    assert!(p.dir.join("PHASE1-GROUP-B-STATUS.md").exists());
}
