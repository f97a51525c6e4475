//! A task that splits itself into a sub-roadmap: the sub-tasks run in its
//! place with their gates, the parent succeeds, the phase is pushed once;
//! the depth limit; a kill inside a sub-roadmap and a plain rerun; an
//! invalid sub-roadmap.

mod common;

use common::*;

/// Every gate run appends a line to `gates.txt` beside the project.
const GATE: &str = "[[gate.steps]]\nname = \"test\"\ncommand = \"echo gate >> ../gates.txt\"\n";

/// A sub-roadmap of two groups: A with two parallel tasks, B with one.
fn two_groups(sleep: &str) -> String {
    format!(
        "# Parts\n\n## Phase 1: Parts\n\n### Group A: First (Parallel)\n\n\
         - [ ] **A1**: Part one\n  FAKE: sleep {sleep}\n  FAKE: write part1.txt one\n\
         - [ ] **A2**: Part two\n  FAKE: sleep {sleep}\n  FAKE: write part2.txt two\n\n\
         ### Group B: Second (Parallel, after A)\n\n\
         - [ ] **B1**: Part three\n  FAKE: write part3.txt three\n"
    )
}

/// A roadmap whose task A2 splits into the roadmap at `sub`.
fn splitting_roadmap(sub: &std::path::Path) -> String {
    roadmap_with_tasks(&[
        ("A1", "FAKE: write a1.txt done"),
        ("A2", &format!("FAKE: split {}", sub.display())),
    ])
}

fn project(sub_text: &str) -> Project {
    let tmp_sub = tempfile::NamedTempFile::new().expect("temp file");
    let (_, path) = tmp_sub.keep().expect("kept");
    std::fs::write(&path, sub_text).unwrap();
    Project::with_config(&splitting_roadmap(&path), GATE)
}

fn gate_runs(p: &Project) -> usize {
    std::fs::read_to_string(p.tmp.path().join("gates.txt"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn a_split_task_runs_its_sub_roadmap_in_its_place() {
    let p = project(&two_groups("0.5"));
    let out = p.run(&[]);
    assert_exit(&out, 0);
    // The parent's agent, then the three sub-tasks.
    let mut ids = p.agent_task_ids();
    ids.sort();
    assert_eq!(ids, ["A1", "A1", "A2", "A2", "B1"], "{}", stdout(&out));
    // A1 and A2 of the sub-roadmap's group A overlapped.
    let ev = p.agent_events();
    let span = |task: &str, i: usize| {
        let starts: Vec<f64> = ev
            .iter()
            .filter(|e| e["task"] == task && e["event"] == "start")
            .map(|e| e["start"].as_f64().unwrap())
            .collect();
        starts[i]
    };
    let (s1, s2) = (span("A1", 1), span("A2", 1));
    assert!(
        (s1 - s2).abs() < 0.4,
        "sub-tasks started together: {s1} {s2}"
    );
    for f in ["a1.txt", "part1.txt", "part2.txt", "part3.txt"] {
        assert!(p.dir.join(f).exists(), "{f}");
    }
    // A gate after each sub-group, then the parent group's.
    assert_eq!(gate_runs(&p), 3);
    let records = task_records(&p);
    let parent: Vec<_> = records
        .iter()
        .filter(|r| r.group == "A" && r.task == "A2")
        .map(|r| r.outcome.label())
        .collect();
    assert_eq!(parent, ["split", "succeeded"]);
    assert!(
        records
            .iter()
            .any(|r| r.group == "A:A2/1:B" && r.task == "B1" && r.outcome.is_success())
    );
    let completed = p.read("status/completed_tasks.txt");
    for k in ["PHASE_1:A:A2/1:A", "PHASE_1:A:A2/1:B", "PHASE_1:A"] {
        assert!(completed.lines().any(|l| l == k), "{k} in {completed}");
    }
    // One push of one phase commit, with the sub-roadmap in it.
    let log = p.origin_log();
    assert_eq!(log.len(), 2, "{log:?}");
    let files = git(&p.origin, &["show", "--name-only", "--format=", "main"]);
    assert!(files.contains("status/sub/1+3AA+3AA2.md"), "{files}");
    let message = git(&p.origin, &["log", "-1", "--format=%B", "main"]);
    assert!(message.contains("1:A:A2/1:B:B1"), "{message}");
    assert_eq!(p.git_status(), "", "clean tree");
    // The group's report lists the sub-tasks under their parent.
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    assert!(report.contains("- 1:A:A2/1:A:A2: Part two"), "{report}");
    assert!(p.dir.join("status/reports").read_dir().unwrap().count() == 2);
    // `status` shows the sub-roadmap beneath its task.
    let out = p.run(&["status", "--all"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let parent = text.find("A2 Task A2").expect("parent line");
    let sub = text
        .find("[x] Group 1:A:A2/1:B: Second")
        .expect("sub-group line");
    assert!(parent < sub, "{text}");
    let out = p.run(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sub = &doc["phases"][0]["groups"][0]["tasks"][1]["sub"];
    assert_eq!(sub[0]["key"], "PHASE_1:A:A2/1:A");
    assert_eq!(sub[0]["state"], "completed");
    assert_eq!(sub[1]["tasks"][0]["state"], "succeeded");
    // The scoped ids work where ids are given.
    let out = p.run(&["logs", "1:A:A2/1:B:B1"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Implemented B1"), "{}", stdout(&out));
    let out = p.run(&["rollback", "1:A:A2/1:B"]);
    assert_exit(&out, 0);
    assert!(
        !p.read("status/completed_tasks.txt")
            .contains("PHASE_1:A:A2/1:B\n")
    );
    assert_exit(&p.run(&["rollback", "1:A:A2/1:C"]), 64);
}

#[test]
fn the_prompt_and_the_variable_offer_the_split_file() {
    let p = project(&two_groups("0"));
    let prompts = p.tmp.path().join("prompts");
    let out = p
        .cmd()
        .env("FAKE_AGENT_PROMPT_DIR", &prompts)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let texts: Vec<String> = std::fs::read_dir(&prompts)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .all(|t| t.contains("ROADMAP_RUNNER_SPLIT_FILE"))
    );
}

#[test]
fn at_the_depth_limit_no_file_is_offered_and_one_written_anyway_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    // Depth 2: the task of the sub-sub-roadmap writes to where a split
    // file would go, although it is not offered.
    let deepest = "1+3AA+3AA2+2F1+3AA+3AA1+2F1+3AA+3AA1";
    let level2 = format!(
        "# L2\n\n## Phase 1: L2\n\n### Group A: Deep (Parallel)\n\n\
         - [ ] **A1**: Deepest\n  FAKE: write status/sub/{deepest}.md # Not wanted\n"
    );
    std::fs::write(tmp.path().join("l2.md"), level2).unwrap();
    let level1 = format!(
        "# L1\n\n## Phase 1: L1\n\n### Group A: Mid (Parallel)\n\n\
         - [ ] **A1**: Middle\n  FAKE: split {}\n",
        tmp.path().join("l2.md").display()
    );
    let p = project(&level1);
    let prompts = p.tmp.path().join("prompts");
    let out = p
        .cmd()
        .env("FAKE_AGENT_PROMPT_DIR", &prompts)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out) + &stderr(&out);
    assert!(
        text.contains("although splitting is not available"),
        "{text}"
    );
    assert!(!p.dir.join(format!("status/sub/{deepest}.md")).exists());
    let deep_prompt = std::fs::read_dir(&prompts)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|t| t.contains("Deepest"))
        .expect("the deepest task's prompt");
    assert!(deep_prompt.contains("is not available"), "{deep_prompt}");
    assert!(!deep_prompt.contains("ROADMAP_RUNNER_SPLIT_FILE"));
    let records = task_records(&p);
    let deep = records
        .iter()
        .find(|r| r.group == "A:A2/1:A:A1/1:A")
        .expect("depth-2 record");
    assert!(deep.outcome.is_success());
}

#[test]
fn an_invalid_sub_roadmap_fails_the_task_with_its_diagnostics() {
    let p = project("# Nothing\n\nJust prose, no phases.\n");
    let out = p.run(&["--retries", "1"]);
    assert_exit(&out, 1);
    let records = task_records(&p);
    let a2: Vec<_> = records.iter().filter(|r| r.task == "A2").collect();
    assert_eq!(a2.len(), 2, "tried again");
    for r in a2 {
        match &r.outcome {
            roadmap_runner::agent::TaskOutcome::Failed { reason, .. } => {
                assert!(reason.contains("sub-roadmap"), "{reason}");
                assert!(reason.contains("no task"), "{reason}");
            }
            o => panic!("{o:?}"),
        }
    }
    assert!(!p.dir.join("status/sub/1+3AA+3AA2.md").exists());
}

#[test]
fn a_kill_inside_a_sub_roadmap_then_a_plain_rerun_runs_nothing_twice() {
    let p = project(&two_groups("0"));
    // The 4th task record: A1, A2 (split), then the sub-roadmap's A1 and A2.
    let out = p
        .cmd()
        .env("ROADMAP_RUNNER_CRASH_AT", "task:4")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed: {}", stdout(&out));
    let before = p.agent_task_ids().len();
    assert_eq!(before, 4);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    let ids = p.agent_task_ids();
    // Only B1 of the sub-roadmap was left to run.
    assert_eq!(&ids[before..], ["B1"], "{}", stdout(&out));
    let reference = project(&two_groups("0"));
    assert_exit(&reference.run(&[]), 0);
    let tree = |p: &Project| git(&p.origin, &["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(tree(&p), tree(&reference));
    assert_eq!(p.origin_log().len(), 2);
}

#[test]
fn a_split_in_worktree_mode_runs_its_sub_tasks_in_worktrees() {
    let p = project(&two_groups("0"));
    let out = p.run(&["--isolation", "worktree"]);
    assert_exit(&out, 0);
    for f in ["a1.txt", "part1.txt", "part2.txt", "part3.txt"] {
        assert!(p.dir.join(f).exists(), "{f}: {}", stdout(&out));
    }
    let files = git(&p.origin, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(files.contains("part3.txt"), "{files}");
    assert_eq!(gate_runs(&p), 3);
    assert_eq!(p.origin_log().len(), 2);
}

#[test]
fn the_budget_covers_the_sub_roadmap() {
    let p = project(&two_groups("0"));
    // The two agents of the roadmap's group spend 2 × $0.0123.
    let out = p.run(&["--max-cost", "0.02"]);
    assert_exit(&out, 7);
    let mut ids = p.agent_task_ids();
    ids.sort();
    assert_eq!(ids, ["A1", "A2"], "no sub-task started: {}", stdout(&out));
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(p.agent_task_ids().len(), 5, "{}", stdout(&out));
}
