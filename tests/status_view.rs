//! `status` shows what is true now: the group a run works on with each
//! task's state, each task's latest outcome, attempts, cost and log after a
//! run, and complete phases folded to one line (`--all` lists them).

mod common;
use common::{Project, assert_exit, roadmap_with_tasks, stdout, wait_for};
use std::process::Stdio;

/// The line of `text` that starts (after indentation) with `start`.
#[track_caller]
fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in:\n{text}"))
}

#[test]
fn a_running_group_shows_each_task_running_or_queued() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: sleep 30"),
        ("A2", "FAKE: sleep 30"),
        ("A3", ""),
    ]));
    let mut runner = p
        .cmd()
        .args(["--no-commit", "--max-parallel", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("A1 and A2", 20, || p.agent_starts().len() == 2);
    wait_for("the in-progress file", 10, || {
        p.read("status/in_progress_tasks.txt")
            .contains("PHASE_1:A:A2")
    });
    let out = p.run(&["status"]);
    let text = stdout(&out);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(runner.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    runner.wait().unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        line(&text, "[~] Group A"),
        "  [~] Group A (Parallel)  running",
        "running, not `pending <- next`:\n{text}"
    );
    assert!(
        line(&text, "A1 Task A1").starts_with("        A1 Task A1  running for "),
        "{text}"
    );
    assert!(
        line(&text, "A2 Task A2").contains("  running for "),
        "{text}"
    );
    assert_eq!(line(&text, "A3 Task A3"), "        A3 Task A3  queued");
    assert!(text.contains("Running now: "), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&p.run(&["status", "--json"]).stdout).unwrap_or_default();
    // The run has stopped by now: the JSON is read after it, no group runs.
    assert_eq!(json["phases"][0]["groups"][0]["running"], false, "{json}");
}

#[test]
fn after_a_failure_each_task_shows_its_outcome_attempts_cost_and_log() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", ""), ("A2", "FAKE: fail 3")]));
    let run = p.run(&["--no-commit", "--retries", "1"]);
    assert_exit(&run, 1);
    let out = p.run(&["status"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(
        line(&text, "[ ] Group A"),
        "  [ ] Group A (Parallel)  pending  (1 succeeded, 1 failed, $0.0123)  <- next",
        "{text}"
    );
    let a1 = line(&text, "A1 Task A1");
    assert!(
        a1.starts_with("        A1 Task A1  succeeded · 1 attempt · $0.0123 · log logs/orchestrator/phase1_groupA_A1_"),
        "{text}"
    );
    let a2 = line(&text, "A2 Task A2");
    assert!(
        a2.starts_with("        A2 Task A2  failed: exit code 3"),
        "{text}"
    );
    assert!(
        a2.contains(" · 2 attempts · $0.00 · log logs/orchestrator/phase1_groupA_A2_"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&p.run(&["status", "--json"]).stdout).unwrap();
    let group = &json["phases"][0]["groups"][0];
    assert_eq!(group["counts"]["succeeded"], 1);
    assert_eq!(group["counts"]["failed"], 1);
    assert_eq!(group["tasks"][1]["state"], "failed");
    assert_eq!(group["tasks"][1]["attempts"], 2);
}

#[test]
fn a_complete_phase_is_one_line_and_all_lists_it() {
    let roadmap = "# Shop\n\n## Phase 1: Foundation\n\n### Group A\n\n- A1: Schema\n- A2: Scaffold\n\n\
                   ### Group B\n\n- B1: Accounts\n\n## Phase 2: Features\n\n### Group C\n\n- C1: Cart\n";
    let p = Project::new(roadmap);
    p.write("status/completed_tasks.txt", "PHASE_1:A\nPHASE_1:B\n");
    let out = p.run(&["status"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("\nPhase 1: Foundation  [2/2 groups complete]\n\nPhase 2: Features  [0/1 group complete]\n"),
        "{text}"
    );
    assert!(!text.contains("Group A"), "folded:\n{text}");
    assert!(!text.contains("A1 Schema"), "folded:\n{text}");
    assert!(text.contains("  [ ] Group C  pending  <- next"), "{text}");
    assert!(
        text.contains("(1 complete phase shown on one line: `roadmap-runner status --all` lists their groups and tasks)"),
        "{text}"
    );
    let all = stdout(&p.run(&["status", "--all"]));
    assert!(
        all.contains("Phase 1: Foundation  [2/2 groups complete]\n  [x] Group A  completed\n        A1 Schema\n"),
        "{all}"
    );
    assert!(!all.contains("shown on one line"), "{all}");
}

#[test]
fn a_done_phase_with_an_unticked_plan_is_one_warning_naming_both_lines() {
    let roadmap = "# Roadmap: Vault\n\n## Phases\n\n\
                   - [x] **Phase 1: Foundation** - scaffolding\n\
                   - [ ] **Phase 2: Auth** - login\n\n\
                   ## Phase Details\n\n\
                   ### Phase 1: Foundation\n\nPlans:\n\n\
                   - [x] 01-01-PLAN.md — Scaffold\n\
                   - [ ] 01-02-PLAN.md — Tooling\n\n\
                   ### Phase 2: Auth\n\nPlans:\n\n\
                   - [ ] 02-01-PLAN.md — Tokens\n";
    let p = Project::new(roadmap);
    let out = p.run(&["status"]);
    assert_exit(&out, 0);
    let err = common::stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(
        warnings,
        [
            "warning: ROADMAP.md:15: Phase 1 is marked done on line 5, but its plan `01-02-PLAN.md` is not ticked"
        ],
        "{err}"
    );
}
