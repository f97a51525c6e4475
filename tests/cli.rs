//! `validate` and `status` with the real binary: output, exit codes, files.

mod common;

use common::*;
use std::process::Command;

fn toolshed() -> String {
    std::fs::read_to_string(fixture("roadmaps/toolshed-ROADMAP.md")).unwrap()
}

fn project_dir(roadmap: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("ROADMAP.md"), roadmap).unwrap();
    d
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(["-C", dir.to_str().unwrap()])
        .args(args)
        .env_remove("ROADMAP_FILE")
        .output()
        .unwrap()
}

#[test]
fn validate_summarises_a_full_size_roadmap() {
    let d = project_dir(&toolshed());
    let out = run_in(d.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "ROADMAP.md: 4 phases, 14 groups, 41 tasks (read as table roadmap)
no roadmap-runner.toml (defaults apply); environment: ok
"
    );
    assert_eq!(stderr(&out), "");
    assert!(
        !d.path().join("status").exists(),
        "validate writes nothing without --write"
    );
}

#[test]
fn validate_write_produces_the_seed_file_byte_for_byte() {
    let d = project_dir(&toolshed());
    let out = run_in(d.path(), &["validate", "--write"]);
    assert_eq!(out.status.code(), Some(0));
    let expected = std::fs::read(fixture("roadmaps/toolshed-roadmap_tasks.expected.txt")).unwrap();
    assert_eq!(
        std::fs::read(d.path().join("status/roadmap_tasks.txt")).unwrap(),
        expected
    );
}

#[test]
fn validate_reports_errors_with_location_and_exit_4() {
    let d = project_dir("# T\n\n## Phase 1: P\n\n### Group A\n\n- A1: one\n- A1: again\n");
    let out = run_in(d.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(err.contains("ROADMAP.md:8:3"), "{err}");
    assert!(err.contains("A1"), "{err}");
    assert!(stdout(&out).contains("1 error"), "{}", stdout(&out));
}

#[test]
fn validate_json_is_machine_readable() {
    let d = project_dir(&toolshed());
    let out = run_in(d.path(), &["validate", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["summary"]["tasks"], 41);
    assert_eq!(
        v["phases"][0]["groups"][1]["annotation"],
        "Parallel, after A"
    );
}

#[test]
fn empty_roadmap_is_an_error() {
    let d = project_dir("");
    let out = run_in(d.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("ROADMAP.md:1:1"), "{}", stderr(&out));
}

#[test]
fn missing_roadmap_says_how_to_fix_it() {
    let d = tempfile::tempdir().unwrap();
    let out = run_in(d.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(err.contains("ROADMAP.md not found"), "{err}");
    assert!(err.contains("--roadmap"), "{err}");
}

#[test]
fn roadmap_flag_and_env_pick_another_file() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("plan.md"), toolshed()).unwrap();
    let out = Command::new(bin())
        .current_dir(d.path())
        .args(["validate"])
        .env("ROADMAP_FILE", "plan.md")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("plan.md: 4 phases"));
}

#[test]
fn status_reflects_hand_edits_and_warns_about_bad_lines() {
    let d = project_dir(&toolshed());
    std::fs::create_dir_all(d.path().join("status")).unwrap();
    std::fs::write(
        d.path().join("status/completed_tasks.txt"),
        "# skipped by hand\r\n phase_1:a \r\n\nthis is not a group\nPHASE_9:Z\n",
    )
    .unwrap();
    let out = run_in(d.path(), &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("[x] Group A (Parallel)  completed"), "{text}");
    assert!(
        text.contains("[ ] Group B (Parallel, after A)  pending  <- next"),
        "{text}"
    );
    assert!(
        text.contains("Next: Phase 1 Group B: 4 tasks (B1, B2, B3, B4)"),
        "{text}"
    );
    let err = stderr(&out);
    assert!(err.contains("line 4: `this is not a group`"), "{err}");
    assert!(err.contains("PHASE_9:Z"), "{err}");
}

#[test]
fn status_json_names_the_next_group() {
    let d = project_dir(&toolshed());
    let out = run_in(d.path(), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["next"]["phase"], 1);
    assert_eq!(v["next"]["group"], "A");
    assert_eq!(v["phases"][3]["groups"][2]["state"], "pending");
    assert_eq!(v["phases"][3]["groups"][2]["id"], "N");
}

#[test]
fn bad_usage_exits_64() {
    let out = Command::new(bin())
        .args(["--max-parallel", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = Command::new(bin())
        .args(["--timeout", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("30m"), "{}", stderr(&out));
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("Examples:"));
    assert!(text.contains("   75  another run holds the lock"), "{text}");
    // Every signal's code, SIGHUP's too.
    for line in [
        "  130  interrupted by SIGINT (Ctrl-C)",
        "  143  interrupted by SIGTERM",
        "  129  interrupted by SIGHUP",
    ] {
        assert!(text.contains(line), "{line}:\n{text}");
    }
    assert!(
        text.contains("--claude-bin <PATH>"),
        "--claude-bin is documented:\n{text}"
    );
}

#[test]
fn status_counts_read_right_for_one_group() {
    let d = project_dir("# P\n\n## Phase 1: Only\n\n### Group A\n\n- A1: One\n");
    let out = run_in(d.path(), &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Phase 1: Only  [0/1 group complete]"),
        "{}",
        stdout(&out)
    );
}
