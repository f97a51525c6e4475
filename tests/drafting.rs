//! `init` and `import`: the starter files, and an agent (the fake agent with
//! canned answers, FAKE_AGENT_PLANS) drafting a roadmap through
//! ROADMAP_RUNNER_PLAN_FILE, its problems fed back in the same session.

mod common;

use common::plans::{DUPLICATE_A1, SHOP_API, plans};
use common::{Project, argv, assert_exit, git, stderr, stdout};
use std::path::PathBuf;

const PLAN: &str = "# Plan

Some background that is not work.

## Step one
- [ ] Set up the project
- [x] Write the README

## Step two
- Add users
- Maybe later: a dashboard
";

const IMPORTED: &str = "# Plan

## Phase 1: Step one

### Group A: Setup (Parallel)

- [ ] **A1**: Set up the project
  Acceptance: it builds
  <!-- PLAN.md:6 -->
- [x] **A2**: Write the README
  Acceptance: README.md exists
  <!-- PLAN.md:7 -->

## Phase 2: Step two

### Group B: Users (Parallel)

- [ ] **B1**: Add users
  Acceptance: users can be added
  <!-- PLAN.md:10 -->
";

fn prompts(p: &Project) -> Vec<String> {
    let dir: PathBuf = p.tmp.path().join("prompts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    // Named <task>-<pid>: the start order is in the agent log instead.
    files.sort_by_key(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok());
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

fn draft(p: &Project, answers: &[&str], args: &[&str]) -> std::process::Output {
    p.cmd()
        .env("FAKE_AGENT_PLANS", plans(p, answers))
        .env("FAKE_AGENT_PROMPT_DIR", p.tmp.path().join("prompts"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn init_writes_both_starters_and_refuses_to_overwrite_them() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    p.write("Makefile", "test:\n\ttrue\n");
    let out = p.run(&["init"]);
    assert_exit(&out, 0);
    let roadmap = p.read("ROADMAP.md");
    assert!(roadmap.contains("test: make test"), "{roadmap}");
    assert!(p.read("roadmap-runner.toml").contains("[agent]"));
    // Both read as they are: the roadmap and the config validate.
    let out = p.run(&["validate"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("2 phases"), "{}", stdout(&out));

    p.write("ROADMAP.md", "mine\n");
    let out = p.run(&["init"]);
    assert_exit(&out, 64);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(p.read("ROADMAP.md"), "mine\n");
    let out = p.run(&["init", "--force"]);
    assert_exit(&out, 0);
    assert_eq!(p.read("ROADMAP.md"), roadmap);
    assert!(p.agent_starts().is_empty(), "no agent without --goal");
}

#[test]
fn init_goal_writes_the_agents_roadmap_and_starts_nothing() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    let out = draft(
        &p,
        &[SHOP_API],
        &["init", "--goal", "Build a REST API with auth"],
    );
    assert_exit(&out, 0);
    assert_eq!(p.read("ROADMAP.md"), SHOP_API);
    let text = stdout(&out);
    assert!(text.contains("2 phases, 2 groups, 3 tasks"), "{text}");
    assert!(text.contains("Agent: 1 call (session "), "{text}");
    assert!(text.contains("$0.0123"), "{text}");
    assert!(text.contains("Nothing was started"), "{text}");
    let starts = p.agent_starts();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0]["cwd"], p.dir.display().to_string());
    let prompt = &prompts(&p)[0];
    assert!(prompt.contains("Build a REST API with auth"), "{prompt}");
    assert!(prompt.contains("ROADMAP_RUNNER_PLAN_FILE"), "{prompt}");
    assert!(
        prompt.contains("## Phase N: Title"),
        "the format rules: {prompt}"
    );
    assert!(!p.dir.join("status/completed_tasks.txt").exists());
    // Refused before any agent is paid for an answer that cannot be written.
    let out = draft(&p, &[SHOP_API], &["init", "--goal", "again"]);
    assert_exit(&out, 64);
    assert_eq!(p.agent_starts().len(), 1);
}

#[test]
fn problems_go_back_to_the_agent_in_its_session_and_its_fix_is_written() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    let out = draft(
        &p,
        &[DUPLICATE_A1, SHOP_API],
        &["init", "--goal", "Build it"],
    );
    assert_exit(&out, 0);
    assert_eq!(p.read("ROADMAP.md"), SHOP_API);
    let starts = p.agent_starts();
    assert_eq!(starts.len(), 2, "{}", stderr(&out));
    assert!(!argv(&starts[0]).contains(&"--resume".to_string()));
    let second = argv(&starts[1]);
    let session = second[second.iter().position(|a| a == "--resume").unwrap() + 1].clone();
    assert!(stdout(&out).contains(&format!("session {session}")));
    let retry = &prompts(&p)[1];
    assert!(retry.contains("duplicate task id `A1`"), "{retry}");
    assert!(retry.contains("attempt 1 of 3"), "{retry}");
}

#[test]
fn an_answer_that_never_validates_exits_4_and_writes_nothing() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    let out = draft(
        &p,
        &[DUPLICATE_A1],
        &["init", "--goal", "Build it", "--attempts", "2"],
    );
    assert_exit(&out, 4);
    assert_eq!(p.agent_starts().len(), 2);
    assert!(!p.dir.join("ROADMAP.md").exists());
    let err = stderr(&out);
    assert!(err.contains("no valid roadmap after 2 attempt(s)"), "{err}");
    assert!(err.contains("Nothing was written"), "{err}");
    // An agent that writes nothing at all is told so, and fails the same way.
    let out = p
        .cmd()
        .env("FAKE_AGENT_PLANS", "")
        .args(["init", "--goal", "Build it", "--attempts", "1"])
        .output()
        .unwrap();
    assert_exit(&out, 4);
    assert!(
        stderr(&out).contains("no roadmap was written"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn init_goal_run_runs_the_roadmap_to_pushed_phases() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    let out = draft(&p, &[SHOP_API], &["init", "--goal", "Build it", "--run"]);
    assert_exit(&out, 0);
    let log = p.origin_log();
    assert_eq!(log[0], "Complete Phase 2: Features", "{log:?}");
    assert_eq!(log[1], "Complete Phase 1: Foundation", "{log:?}");
    // The roadmap itself went into the first phase's commit.
    let files = git(&p.dir, &["show", "--name-only", "--format=", "HEAD~1"]);
    assert!(files.lines().any(|f| f == "ROADMAP.md"), "{files}");
    let mut tasks: Vec<String> = p.agent_task_ids();
    assert_eq!(tasks[0], "", "the drafting agent came first");
    tasks.sort();
    assert_eq!(tasks[1..], ["A1", "A2", "B1"], "{tasks:?}");
}

#[test]
fn import_maps_every_task_to_its_line_and_names_what_was_left_out() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    p.write("PLAN.md", PLAN);
    let out = draft(&p, &[IMPORTED], &["import", "PLAN.md"]);
    assert_exit(&out, 0);
    assert_eq!(p.read("ROADMAP.md"), IMPORTED);
    let text = stdout(&out);
    assert!(text.contains("line 6 → A1"), "{text}");
    assert!(text.contains("line 10 → B1"), "{text}");
    assert!(
        text.contains("line 11: - Maybe later: a dashboard"),
        "{text}"
    );
    assert!(text.contains("(1 marked done)"), "{text}");
    let prompt = &prompts(&p)[0];
    assert!(prompt.contains(" 6| - [ ] Set up the project"), "{prompt}");
    assert!(prompt.contains("<!-- PLAN.md:<line> -->"), "{prompt}");
    // The plain run reads it as it was checked: nothing runs until asked.
    assert_exit(&p.run(&["validate"]), 0);
    assert!(!p.dir.join("status/completed_tasks.txt").exists());
}

#[test]
fn import_feeds_back_a_task_without_its_source_line_and_gives_up_after_the_attempts() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    p.write("PLAN.md", PLAN);
    let unmapped = IMPORTED.replace("  <!-- PLAN.md:10 -->\n", "");
    let out = draft(
        &p,
        &[&unmapped, IMPORTED],
        &["import", "PLAN.md", "-o", "R.md"],
    );
    assert_exit(&out, 0);
    assert_eq!(p.read("R.md"), IMPORTED);
    let retry = &prompts(&p)[1];
    assert!(
        retry.contains("task B1 (\"Add users\") names no line"),
        "{retry}"
    );

    let past_the_end = IMPORTED.replace("PLAN.md:10", "PLAN.md:99");
    let out = draft(&p, &[&past_the_end], &["import", "PLAN.md", "-o", "S.md"]);
    assert_exit(&out, 4);
    assert!(
        stderr(&out).contains("names line 99 of PLAN.md"),
        "{}",
        stderr(&out)
    );
    assert!(!p.dir.join("S.md").exists());
    // The output is never overwritten without --force.
    let out = draft(&p, &[IMPORTED], &["import", "PLAN.md", "-o", "R.md"]);
    assert_exit(&out, 64);
}

#[test]
fn write_back_on_an_imported_roadmap_ticks_the_documents_boxes_too() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    p.write("PLAN.md", PLAN);
    assert_exit(&draft(&p, &[IMPORTED], &["import", "PLAN.md"]), 0);
    git(&p.dir, &["add", "PLAN.md", "ROADMAP.md"]);
    git(&p.dir, &["commit", "-q", "-m", "imported"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    let out = p.run(&["--write-back"]);
    assert_exit(&out, 0);
    let roadmap = p.read("ROADMAP.md");
    assert!(roadmap.contains("- [x] **A1**"), "{roadmap}");
    assert!(roadmap.contains("- [x] **B1**"), "{roadmap}");
    let plan = p.read("PLAN.md");
    assert!(plan.contains("- [x] Set up the project\n"), "{plan}");
    // A line without a box keeps its text; every other byte stays.
    assert_eq!(plan.replacen("- [x] Set up", "- [ ] Set up", 1), PLAN);
    // The ticks went into the phase commits.
    assert_eq!(git(&p.dir, &["status", "--porcelain", "PLAN.md"]), "");
}

#[test]
fn init_goal_json_reports_the_drafting_then_runs_with_the_run_options() {
    let p = Project::emptied(&["ROADMAP.md", "roadmap-runner.toml"]);
    let before = p.origin_log();
    let out = draft(
        &p,
        &[DUPLICATE_A1, SHOP_API],
        &[
            "init",
            "--goal",
            "Build it",
            "--run",
            "--json",
            "--max-parallel",
            "1",
            "--no-push",
        ],
    );
    assert_exit(&out, 0);
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[..6],
        [
            "drafting_started",
            "drafting_attempt",
            "drafting_diagnostics",
            "drafting_attempt",
            "drafting_done",
            "run_started"
        ],
        "{names:?}"
    );
    assert!(
        events[2]["problems"]
            .as_str()
            .unwrap()
            .contains("duplicate task id `A1`"),
        "{}",
        events[2]
    );
    assert_eq!(events[4]["tasks"], 3, "{}", events[4]);
    assert_eq!(events[5]["max_parallel"], 1, "{}", events[5]);
    assert_eq!(names.last(), Some(&"run_finished"));
    // The summary is on stderr; the phases are committed, not pushed.
    assert!(
        stderr(&out).contains("Wrote ROADMAP.md"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.origin_log(), before);
    assert_eq!(
        git(&p.dir, &["log", "-1", "--format=%s"]).trim(),
        "Complete Phase 2: Features"
    );
    // The drafting's events are in an events file of their own, before the run's.
    let mut files: Vec<PathBuf> = std::fs::read_dir(p.dir.join("logs/orchestrator"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    // `events_<stamp>[-<n>]`: within one second, `-2` comes after the bare stamp.
    files.sort_by_key(|f| {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        let (stamp, n) = match stem.rsplit_once('-') {
            Some((stamp, n)) if stamp.len() > "events_YYYYmmdd".len() => {
                (stamp.to_string(), n.parse::<u32>().unwrap())
            }
            _ => (stem, 1),
        };
        (stamp, n)
    });
    assert_eq!(files.len(), 2, "{files:?}");
    let first = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(first.lines().count(), 5, "{first}");
    assert!(
        first.starts_with("{") && first.contains("\"drafting_done\""),
        "{first}"
    );
}
