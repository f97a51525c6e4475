//! Repair, review and budget with the real binary, the fake agent and a bare
//! origin. A repair agent's prompt quotes the failing gate output, so a gate
//! that prints `FAKE:` lines tells the (fake) repair agent what to change.

mod common;

use common::*;
use roadmap_runner::status::{Record, RecordStore, StatusDir};
use std::process::Stdio;

/// Two phases; A1 breaks the build (writes broken.txt).
fn roadmap() -> String {
    "# Shop\n\n## Phase 1: Base\n\n### Group A\n\n\
     - A1: Model\n  - FAKE: write src/model.txt model\n  - FAKE: write broken.txt yes\n\
     - A2: View\n  - FAKE: write src/view.txt view\n\n\
     ## Phase 2: More\n\n### Group B\n\n- B1: Cart\n  - FAKE: write src/cart.txt cart\n"
        .to_string()
}

/// Fails while broken.txt exists without fixed.txt, and says how to mend it.
fn mendable_gate(extra: &str) -> String {
    format!(
        "[[gate.steps]]\nname = \"test\"\ncommand = \"if test -f broken.txt && ! test -f fixed.txt; then {extra}echo 'error: broken.txt breaks the build (12 ms)'; echo 'FAKE: write fixed.txt mended'; exit 1; fi\"\n"
    )
}

fn records(p: &Project) -> Vec<Record> {
    RecordStore::new(&StatusDir::new(&p.dir)).load().unwrap().0
}

fn helper_records(p: &Project, role: &str) -> Vec<roadmap_runner::status::TaskRecord> {
    records(p)
        .into_iter()
        .filter_map(|r| match r {
            Record::Task(t) if t.role.as_deref() == Some(role) => Some(t),
            _ => None,
        })
        .collect()
}

fn count(p: &Project, id: &str) -> usize {
    p.agent_task_ids().iter().filter(|t| *t == id).count()
}

#[test]
fn a_repair_mends_the_build_and_the_night_ends_well() {
    let p = Project::with_config(&roadmap(), &mendable_gate(""));
    let prompts = p.tmp.path().join("prompts");
    let out = p
        .cmd()
        .env("FAKE_AGENT_PROMPT_DIR", &prompts)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        p.origin_log(),
        [
            "Complete Phase 2: More",
            "Complete Phase 1: Base",
            "initial"
        ]
    );
    assert!(p.dir.join("fixed.txt").exists());
    assert_eq!(count(&p, "repair-1"), 1);
    let repairs = helper_records(&p, "repair");
    assert_eq!(repairs.len(), 1);
    assert!(repairs[0].fingerprint.is_some());
    // The repair agent was shown the failure, the tasks and the files.
    let prompt = std::fs::read_dir(&prompts)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("repair-1"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    assert!(
        prompt.contains("error: broken.txt breaks the build"),
        "{prompt}"
    );
    assert!(prompt.contains("- A1: Model"), "{prompt}");
    assert!(prompt.contains("- src/model.txt"), "{prompt}");
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    assert!(
        report.contains("Repairs: 1, gate passed after attempt 1"),
        "{report}"
    );
    let text = stdout(&out);
    assert!(text.contains("repair-1"), "{text}");
}

#[test]
fn a_breakage_that_repeats_stops_the_repairs_early() {
    // The failure never changes: one repair, then the same fingerprint.
    let gate = "[[gate.steps]]\nname = \"test\"\ncommand = \"echo 'error: always broken at 10:12:13'; exit 1\"\n";
    let p = Project::with_config(&roadmap(), &format!("{gate}\n[repair]\nattempts = 3\n"));
    let out = p.run(&[]);
    assert_exit(&out, 2);
    assert_eq!(helper_records(&p, "repair").len(), 1);
    let text = stdout(&out);
    // Which rule stopped the repairs, in words.
    assert!(
        text.contains("the failure repeated unchanged after repair-1 (the same fingerprint"),
        "{text}"
    );
    assert!(
        text.contains("stopping early, 2 of 3 attempts unused"),
        "{text}"
    );
    // What the attempt did: its outcome and what the agent said.
    assert!(
        text.contains("repair-1: succeeded (Implemented repair-1); the gate still failed"),
        "{text}"
    );
    assert!(!p.read("status/completed_tasks.txt").contains("PHASE_1:A"));
}

#[test]
fn a_breakage_no_agent_can_mend_uses_every_attempt_and_no_more() {
    // Each repair changes the failure (tries.txt grows): no early stop.
    let p = Project::with_config(
        &roadmap(),
        &format!("{CHANGING_GATE}\n[repair]\nattempts = 2\n"),
    );
    let out = p.run(&["--json"]);
    assert_exit(&out, 2);
    let repairs = helper_records(&p, "repair");
    assert_eq!(repairs.len(), 2, "{:?}", p.agent_task_ids());
    assert_ne!(repairs[0].fingerprint, repairs[1].fingerprint);
    let finished = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "run_finished")
        .unwrap();
    let next = finished["summary"]["next_steps"].to_string();
    assert!(
        next.contains("repair-1") && next.contains("repair-2"),
        "{next}"
    );
    assert!(next.contains("every repair attempt is used"), "{next}");
    let ids: Vec<String> = finished["summary"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["A1", "A2", "repair-1", "repair-2"]);
}

#[test]
fn no_fix_attempts_keeps_the_gate_failure_as_it_was() {
    let p = Project::with_config(&roadmap(), &mendable_gate(""));
    let out = p.run(&["--fix-attempts", "0"]);
    assert_exit(&out, 2);
    let mut ids = p.agent_task_ids();
    ids.sort();
    assert_eq!(ids, ["A1", "A2"]);
    assert!(helper_records(&p, "repair").is_empty());
    let text = stdout(&out);
    assert!(text.contains("the gate failed"), "{text}");
    assert!(!text.contains("repair"), "{text}");
}

#[test]
fn killed_during_a_repair_the_rerun_repairs_again_and_runs_no_task_twice() {
    let p = Project::with_config(&roadmap(), &mendable_gate("echo 'FAKE: sleep 30'; "));
    let mut runner = p
        .cmd()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the repair agent", 30, || count(&p, "repair-1") == 1);
    runner.kill().unwrap();
    runner.wait().unwrap();
    // The rerun's repair must not sleep: the gate no longer asks for it.
    p.write(
        "roadmap-runner.toml",
        &format!("[run]\ngrace_period = 1\n\n{}", mendable_gate("")),
    );
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!((count(&p, "A1"), count(&p, "A2")), (1, 1));
    assert_eq!(count(&p, "repair-1"), 2, "{:?}", p.agent_task_ids());
    assert_eq!(helper_records(&p, "repair").len(), 1);
    assert_eq!(p.origin_log().len(), 3);
}

#[test]
fn an_approving_review_is_recorded_with_the_changed_files_in_its_prompt() {
    let roadmap = "# Shop\n\n## Phase 1: Base\n\n### Group A\n\n\
        - A1: Model\n  - FAKE: write src/model.txt model\n  - FAKE: verdict approve\n";
    let p = Project::with_config(roadmap, "");
    let prompts = p.tmp.path().join("prompts");
    let out = p
        .cmd()
        .env("FAKE_AGENT_PROMPT_DIR", &prompts)
        .args(["--review", "--no-push"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let reviews = helper_records(&p, "review");
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].verdict.as_ref().unwrap()["verdict"], "approve");
    let start = p
        .agent_starts()
        .into_iter()
        .find(|e| e["task"] == "review-1")
        .unwrap();
    assert!(
        start["argv"].to_string().contains("--json-schema"),
        "{start}"
    );
    let prompt = std::fs::read_dir(&prompts)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("review-1"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    assert!(prompt.contains("src/model.txt"), "{prompt}");
    assert!(prompt.contains("+model"), "the patch: {prompt}");
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    assert!(report.contains("Review review-1: approve"), "{report}");
}

#[test]
fn a_review_asking_for_changes_gets_a_repair_round_and_a_second_gate() {
    let roadmap = "# Shop\n\n## Phase 1: Base\n\n### Group A\n\n\
        - A1: Model\n  - FAKE: write src/model.txt model\n  - FAKE: verdict changes FAKE: write src/test.txt the missing test\n";
    let gate = "[[gate.steps]]\nname = \"test\"\ncommand = \"echo run >> $GATE_RUNS\"\n";
    let p = Project::with_config(roadmap, gate);
    let runs = p.tmp.path().join("gate-runs");
    let out = p
        .cmd()
        .env("GATE_RUNS", &runs)
        .args(["--review", "--no-push"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        p.agent_task_ids(),
        ["A1", "review-1", "repair-1"],
        "one task: in order"
    );
    assert!(
        p.dir.join("src/test.txt").exists(),
        "the review's item was not done"
    );
    assert_eq!(std::fs::read_to_string(&runs).unwrap().lines().count(), 2);
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    assert!(
        report.contains("Review review-1: changes: FAKE: write src/test.txt"),
        "{report}"
    );
}

#[test]
fn the_run_budget_holds_and_the_next_run_goes_on() {
    let tasks: Vec<(String, &str)> = (1..=5).map(|i| (format!("A{i}"), "")).collect();
    let refs: Vec<(&str, &str)> = tasks.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let p = Project::new(&roadmap_with_tasks(&refs));
    let out = p.run(&["--no-commit", "--max-parallel", "1", "--max-cost", "0.03"]);
    assert_exit(&out, 7);
    assert_eq!(p.agent_starts().len(), 3, "{:?}", p.agent_task_ids());
    let text = stdout(&out);
    assert!(text.contains("budget is spent: $0.0369 of $0.03"), "{text}");
    let out = p.run(&["--no-commit", "--max-parallel", "1"]);
    assert_exit(&out, 0);
    let mut ids = p.agent_task_ids();
    ids.sort();
    assert_eq!(
        ids,
        ["A1", "A2", "A3", "A4", "A5"],
        "no finished task ran again"
    );
}

#[test]
fn an_agent_over_its_own_cap_is_over_budget() {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "FAKE: cost 0.5")]),
        "[agent]\nmax_budget_usd = 0.1\n",
    );
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 1);
    let start = &p.agent_starts()[0];
    assert!(
        start["argv"]
            .to_string()
            .contains("\"--max-budget-usd\",\"0.1\""),
        "{start}"
    );
    let text = stdout(&out);
    assert!(text.contains("over budget"), "{text}");
}

/// Fails with a message that changes after each repair (tries.txt grows).
const CHANGING_GATE: &str = "[[gate.steps]]\nname = \"test\"\ncommand = \"echo \\\"error: tries $(cat tries.txt 2>/dev/null | tr -d '\\\\n')\\\"; echo 'FAKE: append tries.txt x'; exit 1\"\n";

#[test]
fn repairs_are_counted_per_run_so_a_rerun_gets_its_own() {
    let p = Project::with_config(
        &roadmap(),
        &format!("{CHANGING_GATE}\n[repair]\nattempts = 2\n"),
    );
    assert_exit(&p.run(&[]), 2);
    assert_eq!(helper_records(&p, "repair").len(), 2);
    // The night used its two; the morning's rerun asks for one more.
    let out = p.run(&["--fix-attempts", "1"]);
    assert_exit(&out, 2);
    assert_eq!(helper_records(&p, "repair").len(), 3, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("every repair attempt is used in this run (1 of 1; each run counts its own)"),
        "{text}"
    );
}

/// A test runner's long output with the failing assertion in its middle,
/// ending in a summary that says nothing of what failed.
const LONG_OUTPUT_GATE: &str = r#"[[gate.steps]]
name = "test"
command = "sh gate.sh"
"#;

const GATE_SCRIPT: &str = "test -f fixed.txt && exit 0
i=1; while [ $i -le 30 ]; do echo \"ok $i - case $i\"; i=$((i+1)); done
echo 'not ok 31 - adds two numbers'
echo '  actual: 5'
echo '  wanted: 4'
echo '  at test/add.test.js:12:5'
echo 'FAKE: write fixed.txt mended'
i=32; while [ $i -le 90 ]; do echo \"ok $i - case $i\"; i=$((i+1)); done
echo '# tests 90'
echo '# pass 89'
echo '# fail 1'
echo '# duration_ms 812'
exit 1
";

#[test]
fn the_failing_assertion_in_the_middle_of_long_output_is_shown_and_given_to_the_repair() {
    let p = Project::with_config(&roadmap(), LONG_OUTPUT_GATE);
    p.write("gate.sh", GATE_SCRIPT);
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-q", "-m", "gate script"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    let prompts = p.tmp.path().join("prompts");
    let out = p
        .cmd()
        .env("FAKE_AGENT_PROMPT_DIR", &prompts)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    let failure = [
        "not ok 31 - adds two numbers",
        "  actual: 5",
        "  at test/add.test.js:12:5",
    ];
    // The plain lines: the assertion as well as the summary at the end.
    for line in failure.iter().chain(&["# fail 1"]) {
        assert!(text.contains(&format!("| {line}")), "{line}: {text}");
    }
    let prompt = std::fs::read_dir(&prompts)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("repair-1"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    for line in failure.iter().chain(&["# fail 1"]) {
        assert!(prompt.contains(line), "{line}: {prompt}");
    }
    assert!(p.dir.join("fixed.txt").exists());
}
