//! Settings as users give them: environment variables, roadmap-runner.toml,
//! `roadmap-runner config`, `validate` checking the file, and the commented
//! example file, which must always load.

mod common;

use common::*;

fn project() -> Project {
    Project::new(&roadmap_with_tasks(&[("A1", "")]))
}

#[test]
fn a_bad_environment_variable_is_named_and_exits_64() {
    let p = project();
    for (var, value, says) in [
        (
            "MAX_PARALLEL_AGENTS",
            "abc",
            "error: MAX_PARALLEL_AGENTS=abc: `abc` is not a number of agents: write a whole number, e.g. 4\n",
        ),
        (
            "MAX_PARALLEL_AGENTS",
            "0",
            "error: MAX_PARALLEL_AGENTS=0: at least 1 agent must run: write 1 or more\n",
        ),
        (
            "TASK_TIMEOUT",
            "0",
            "error: TASK_TIMEOUT=0: the time limit must be more than zero, e.g. `90`, `90s`, `30m`, `2h`\n",
        ),
        (
            "TASK_TIMEOUT",
            "10x",
            "error: TASK_TIMEOUT=10x: `10x` is not a duration: write seconds (`90`) or `90s`, `30m`, `2h`\n",
        ),
    ] {
        let out = p
            .cmd()
            .env(var, value)
            .args(["--no-commit"])
            .output()
            .unwrap();
        assert_exit(&out, 64);
        assert_eq!(stderr(&out), says, "{var}={value}");
        assert!(
            p.agent_starts().is_empty(),
            "nothing started for {var}={value}"
        );
    }
}

#[test]
fn an_empty_environment_variable_is_unset() {
    let p = project();
    let out = p
        .cmd()
        .env("MAX_PARALLEL_AGENTS", "")
        .env("TASK_TIMEOUT", "")
        .args(["--no-commit"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("4 in parallel, timeout 1h 00m per task"),
        "the defaults:\n{}",
        stdout(&out)
    );
}

#[test]
fn a_flag_wins_over_a_bad_variable_and_bad_flags_exit_64() {
    let p = project();
    let out = p
        .cmd()
        .env("MAX_PARALLEL_AGENTS", "abc")
        .args(["--max-parallel", "2", "--dry-run"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let out = p.run(&["--max-parallel", "0", "--dry-run"]);
    assert_exit(&out, 64);
    assert!(
        stderr(&out).contains("at least 1 agent must run"),
        "{}",
        stderr(&out)
    );
    let out = p.run(&["--timeout", "0", "--dry-run"]);
    assert_exit(&out, 64);
}

#[test]
fn a_number_in_quotes_in_the_file_is_accepted() {
    let p = Project::with_config(&roadmap_with_tasks(&[("A1", "")]), "");
    p.write("roadmap-runner.toml", "[run]\nmax_parallel = \"2\"\n");
    let out = p.run(&["--dry-run"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(", 2 in parallel"), "{}", stdout(&out));
    p.write("roadmap-runner.toml", "[run]\nmax_parallel = \"two\"\n");
    let out = p.run(&["--dry-run"]);
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains(
            "roadmap-runner.toml:2:16: \"two\" is not a whole number: write one without quotes, e.g. 2"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn report_dir_puts_the_group_reports_there_and_rollback_finds_them() {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "")]),
        "[report]\ndir = \"docs/status\"\n",
    );
    let out = p.run(&[]);
    assert_exit(&out, 0);
    let report = p.dir.join("docs/status/PHASE1-GROUP-A-STATUS.md");
    assert!(report.is_file(), "{}", stdout(&out));
    assert!(!p.dir.join("PHASE1-GROUP-A-STATUS.md").exists());
    assert!(
        stdout(&out).contains("docs/status/PHASE1-GROUP-A-STATUS.md"),
        "{}",
        stdout(&out)
    );
    let committed = git(&p.dir, &["show", "--stat", "--format=", "HEAD"]);
    assert!(
        committed.contains("docs/status/PHASE1-GROUP-A-STATUS.md"),
        "the report is committed with its phase:\n{committed}"
    );
    let out = p.run(&["rollback", "1:A", "--delete-report"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("deleted docs/status/PHASE1-GROUP-A-STATUS.md"),
        "{}",
        stdout(&out)
    );
    assert!(!report.exists());
}
