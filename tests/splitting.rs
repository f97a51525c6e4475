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
    // The rerun never saw the split, and still says how far it got (group
    // A of the sub-roadmap has its gate to run).
    let text = stdout(&out);
    for line in [
        "[SPLIT] 1:A:A2 split into a sub-roadmap of 3 tasks (2 done): 2 groups to go",
        "[GROUP] A2 Task A2: split: 2/3 sub-tasks done",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
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

/// A sub-roadmap whose tasks build on `iface.txt`, which the parent's agent
/// wrote before it split: each fails unless the file is in its checkout.
const ON_IFACE: &str = "# Parts\n\n## Phase 1: Parts\n\n### Group A: First (Parallel)\n\n\
     - [ ] **A1**: Part one\n  FAKE: need iface.txt\n  FAKE: write part1.txt one\n\
     - [ ] **A2**: Part two\n  FAKE: need iface.txt\n  FAKE: write part2.txt two\n\n\
     ### Group B: Second (Parallel, after A)\n\n\
     - [ ] **B1**: Part three\n  FAKE: need iface.txt\n  FAKE: need part1.txt\n  FAKE: write part3.txt three\n";

/// A2 writes `iface.txt`, then splits into `sub`; A1 ends a second
/// before. Every gate fails unless `iface.txt` is in the tree it checks.
fn scaffolding_project(sub: &str) -> Project {
    scaffolding_with(sub, "FAKE: write a1.txt done", "")
}

fn scaffolding_with(sub: &str, a1: &str, config: &str) -> Project {
    let tmp_sub = tempfile::NamedTempFile::new().expect("temp file");
    let (_, path) = tmp_sub.keep().expect("kept");
    std::fs::write(&path, sub).unwrap();
    let roadmap = roadmap_with_tasks(&[
        ("A1", a1),
        (
            "A2",
            &format!(
                "FAKE: sleep 1\nFAKE: write iface.txt shared\nFAKE: split {}",
                path.display()
            ),
        ),
    ]);
    let gate = "[[gate.steps]]\nname = \"test\"\n\
                command = \"test -f iface.txt && echo gate >> ../gates.txt\"\n";
    Project::with_config(&roadmap, &format!("{gate}{config}"))
}

/// The phase commit's files outside `status/`, with their blob ids.
fn phase_tree(p: &Project) -> Vec<String> {
    git(&p.origin, &["ls-tree", "-r", "main"])
        .lines()
        .filter(|l| l.ends_with(".txt") && !l.contains("\tstatus/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn in_worktree_mode_the_split_tasks_work_is_its_sub_roadmaps_base() {
    let p = scaffolding_project(ON_IFACE);
    let out = p.run(&["--isolation", "worktree"]);
    assert_exit(&out, 0);
    // Each sub-task found iface.txt in its own worktree at the first attempt.
    let starts = p.agent_starts();
    assert_eq!(starts.len(), 5, "{}", stdout(&out));
    for s in &starts[2..] {
        let cwd = s["cwd"].as_str().unwrap();
        assert!(!cwd.starts_with(p.dir.to_str().unwrap()), "{cwd}");
    }
    let records = task_records(&p);
    assert!(records.iter().all(|r| r.attempt == 1));
    let parent: Vec<_> = records
        .iter()
        .filter(|r| r.group == "A" && r.task == "A2")
        .map(|r| r.outcome.label())
        .collect();
    assert_eq!(parent, ["split", "succeeded"]);
    // Merged through the integration records, before the sub-roadmap began.
    let lines = p.read("status/tasks.jsonl");
    let integrated = lines
        .lines()
        .position(|l| l.contains("\"integrated\"") && l.contains("\"task\":\"A2\""))
        .expect("A2's integration record");
    let first_sub = lines
        .lines()
        .position(|l| l.contains("A:A2/1:A"))
        .expect("a sub-group record");
    assert!(integrated < first_sub, "{lines}");
    assert!(lines.lines().nth(integrated).unwrap().contains("iface.txt"));
    // The gates of both sub-groups and of the parent group saw it.
    assert_eq!(gate_runs(&p), 3);
    let files: Vec<String> = phase_tree(&p)
        .iter()
        .map(|l| l.split('\t').nth(1).unwrap().to_string())
        .collect();
    for f in ["a1.txt", "iface.txt", "part1.txt", "part2.txt", "part3.txt"] {
        assert!(files.iter().any(|x| x == f), "{f} in {files:?}");
    }
    assert_eq!(p.origin_log().len(), 2);
    assert_eq!(p.git_status(), "", "clean tree");
}

#[test]
fn a_split_with_no_change_in_worktree_mode_merges_nothing() {
    let p = project(&two_groups("0"));
    let out = p.run(&["--isolation", "worktree"]);
    assert_exit(&out, 0);
    let files: Vec<String> = phase_tree(&p)
        .iter()
        .map(|l| l.split('\t').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        files,
        ["a1.txt", "part1.txt", "part2.txt", "part3.txt"],
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_kill_between_the_split_record_and_its_merge_then_a_plain_rerun_merges_it_once() {
    let p = scaffolding_project(ON_IFACE);
    // The 2nd task record is A2's split: killed before its worktree is merged.
    let out = p
        .cmd()
        .args(["--isolation", "worktree"])
        .env("ROADMAP_RUNNER_CRASH_AT", "task:2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed: {}", stdout(&out));
    let mut ids = p.agent_task_ids();
    ids.sort();
    assert_eq!(ids, ["A1", "A2"]);
    assert!(p.dir.join("a1.txt").exists(), "A1 merged as it succeeded");
    assert!(!p.dir.join("iface.txt").exists(), "A2 not merged yet");
    let out = p.run(&[]);
    assert_exit(&out, 0);
    let mut ids = p.agent_task_ids();
    ids.sort();
    // No agent ran twice: the rerun ran the three sub-tasks only.
    assert_eq!(ids, ["A1", "A1", "A2", "A2", "B1"], "{}", stdout(&out));
    let lines = p.read("status/tasks.jsonl");
    let merges = lines
        .lines()
        .filter(|l| l.contains("\"integrated\"") && l.contains("\"task\":\"A2\""))
        .filter(|l| l.contains("\"group\":\"A\""))
        .count();
    assert_eq!(merges, 1, "{lines}");
    let reference = scaffolding_project(ON_IFACE);
    assert_exit(&reference.run(&["--isolation", "worktree"]), 0);
    assert_eq!(phase_tree(&p), phase_tree(&reference));
    assert_eq!(p.origin_log().len(), 2);
}

#[test]
fn task_and_group_select_a_sub_task_and_a_sub_group() {
    let p = project(&two_groups("0"));
    assert_exit(&p.run(&[]), 0);
    let before = p.agent_task_ids().len();
    let out = p.run(&["--dry-run", "--task", "1:A:A2/1:B:B1"]);
    assert_exit(&out, 0);
    let plan = stdout(&out);
    assert!(
        plan.contains("Group A:A2/1:B: Second") && plan.contains("B1 Part three"),
        "{plan}"
    );
    assert!(!plan.contains("Part one"), "{plan}");
    let out = p.run(&["--task", "1:A:A2/1:B:B1"]);
    assert_exit(&out, 0);
    assert_eq!(&p.agent_task_ids()[before..], ["B1"], "{}", stdout(&out));
    let last = task_records(&p).pop().expect("a record");
    assert_eq!(
        (last.group.as_str(), last.task.as_str()),
        ("A:A2/1:B", "B1")
    );
    // `--task` runs no gate.
    assert_eq!(gate_runs(&p), 3);
    // A sub-group rolled back runs again alone, with its gate.
    assert_exit(&p.run(&["rollback", "1:A:A2/1:B"]), 0);
    let before = p.agent_task_ids().len();
    let out = p.run(&["--group", "1:A:A2/1:B"]);
    assert_exit(&out, 0);
    assert_eq!(&p.agent_task_ids()[before..], ["B1"], "{}", stdout(&out));
    assert_eq!(gate_runs(&p), 4);
    let completed = p.read("status/completed_tasks.txt");
    assert!(
        completed.lines().any(|l| l == "PHASE_1:A:A2/1:B"),
        "{completed}"
    );
}

#[test]
fn an_unknown_sub_task_is_refused_naming_the_ids_there_are() {
    let p = project(&two_groups("0"));
    assert_exit(&p.run(&[]), 0);
    let runs = p.agent_task_ids().len();
    let unknown_top = p.run(&["--task", "1:A:A9"]);
    let code = unknown_top.status.code().expect("an exit code");
    let refused = |arg: &str, says: &[&str]| {
        let out = p.run(&["--task", arg]);
        assert_exit(&out, code);
        let text = stderr(&out);
        for s in says {
            assert!(text.contains(s), "{arg}: {s} in {text}");
        }
    };
    refused(
        "1:A:A2/1:B:B9",
        &["1:A:A2/1:B:B9", "no task B9", "(it has B1)"],
    );
    refused(
        "1:A:A2/1:C:C1",
        &[
            "1:A:A2/1:C:C1",
            "1:A:A2/1:C",
            "(it has 1:A:A2/1:A, 1:A:A2/1:B)",
        ],
    );
    refused(
        "1:A:A1/1:A:A1",
        &["1:A:A1 has no sub-roadmap", "that did: 1:A:A2"],
    );
    assert_exit(&p.run(&["--group", "1:A:A2/1:C"]), code);
    assert_eq!(p.agent_task_ids().len(), runs, "nothing started");
}

#[test]
fn a_split_whose_work_conflicts_stops_as_a_task_would_before_its_sub_roadmap() {
    // A1 writes the same file differently: A2's merge conflicts.
    let p = scaffolding_with(
        ON_IFACE,
        "FAKE: write iface.txt other",
        "\n[worktree]\nresolve = \"stop\"\n",
    );
    let out = p.run(&["--isolation", "worktree"]);
    assert_exit(&out, 6);
    let text = stdout(&out) + &stderr(&out);
    assert!(
        text.contains("A2 and A1 changed the same lines of iface.txt"),
        "{text}"
    );
    let mut ids = p.agent_task_ids();
    ids.sort();
    assert_eq!(ids, ["A1", "A2"], "no sub-task started");
    assert_eq!(p.read("iface.txt"), "other\n");
}

#[test]
fn task_on_a_split_task_in_worktree_mode_still_builds_on_its_work() {
    let p = scaffolding_project(ON_IFACE);
    let out = p.run(&["--isolation", "worktree", "--task", "1:A:A2"]);
    assert_exit(&out, 0);
    let mut ids = p.agent_task_ids();
    ids.sort();
    // A2, then its three sub-tasks, each of which needed iface.txt.
    assert_eq!(ids, ["A1", "A2", "A2", "B1"], "{}", stdout(&out));
    assert_eq!(p.read("iface.txt"), "shared\n");
    assert!(!p.dir.join("a1.txt").exists(), "A1 did not run");
}
