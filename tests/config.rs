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
        assert_eq!(without_stamps(&stderr(&out)), says, "{var}={value}");
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

/// `KEY FROM VALUE` rows of `roadmap-runner config`, as (key, from, value).
fn config_rows(text: &str) -> Vec<(String, String, String)> {
    let re = regex::Regex::new(r"^(\S+)\s{2,}(\S.*?)\s{2,}(\S.*)$").unwrap();
    text.lines()
        .filter_map(|l| re.captures(l))
        .map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string()))
        .collect()
}

#[test]
fn config_prints_each_setting_and_where_it_came_from() {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "")]),
        "retries = \"2\"\n\n[git]\npush = false\n",
    );
    let out = p
        .cmd()
        .env("MAX_PARALLEL_AGENTS", "3")
        .args(["config", "--timeout", "2h"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "{}\n",
            p.dir.join("roadmap-runner.toml").display()
        )),
        "{text}"
    );
    let rows = config_rows(&text);
    let row = |key: &str| {
        rows.iter()
            .find(|r| r.0 == key)
            .map(|r| (r.1.as_str(), r.2.as_str()))
            .unwrap_or_else(|| panic!("{key} in:\n{text}"))
    };
    assert_eq!(row("run.max_parallel"), ("env MAX_PARALLEL_AGENTS", "3"));
    assert_eq!(row("run.timeout"), ("flag --timeout", "2h 00m"));
    assert_eq!(row("run.grace_period"), ("roadmap-runner.toml", "1.0s"));
    assert_eq!(row("run.retries"), ("roadmap-runner.toml", "2"));
    assert_eq!(row("run.max_wait"), ("default", "6h 00m"));
    assert_eq!(row("git.push"), ("roadmap-runner.toml", "false"));
    assert_eq!(row("git.commit"), ("default", "true"));
    // The tests' CLAUDE_BIN is the fake agent: the command's origin is the variable.
    let (from, command) = row("agent.command");
    assert_eq!(from, "env CLAUDE_BIN");
    assert!(
        command.ends_with(
            "fake-agent -p --output-format stream-json --verbose --dangerously-skip-permissions"
        ),
        "{command}"
    );
    assert_eq!(row("report.dir"), ("default", "(the project directory)"));
    assert_eq!(row("cluster.nats"), ("default", "(none: agents run here)"));
    assert_eq!(row("cluster.max_deliver"), ("default", "3"));
    assert_eq!(row("cluster.no_workers"), ("default", "wait"));
    assert_eq!(row("cluster.no_workers_after"), ("default", "10m"));
    assert_eq!(row("agent.kind"), ("default", "claude"));
    assert_eq!(
        row("agent.fallback"),
        ("default", "(none: a usage limit waits for the reset)")
    );
    assert_eq!(row("repair.agent"), ("default", "(the run's: claude)"));
    assert_eq!(row("review.agent"), ("default", "(the run's: claude)"));
    assert_eq!(rows.len(), 51, "the header and 50 settings:\n{text}");
}

#[test]
fn config_without_a_file_and_as_json() {
    let p = project();
    std::fs::remove_file(p.dir.join("roadmap-runner.toml")).unwrap();
    let out = p.run(&["config", "--json", "--no-commit"]);
    assert_exit(&out, 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["file"], serde_json::Value::Null);
    let commit = doc["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "git.commit")
        .unwrap();
    assert_eq!(commit["value"], "false");
    assert_eq!(commit["from"], "flag --no-commit");
}

#[test]
fn validate_catches_a_mistyped_config_key_at_its_position_as_a_run_does() {
    let p = project();
    p.write(
        "roadmap-runner.toml",
        "# settings\n[run]\ngrace_period = 1\nmax_paralel = 3\n",
    );
    let validate = p.run(&["validate"]);
    assert_exit(&validate, 5);
    let expected = format!(
        "error: {}:4:1: unknown field `max_paralel`, expected one of `max_parallel`, `timeout`, `grace_period`, `retries`, `max_wait`, `fail_fast`, `max_cost`, `write_back`, `isolation`, `max_recursion_depth`\n",
        p.dir.join("roadmap-runner.toml").display()
    );
    assert_eq!(stderr(&validate), expected);
    assert_eq!(
        stdout(&validate),
        "ROADMAP.md: 1 phase, 1 group, 1 task (read as table roadmap)\n"
    );
    let run = p.run(&["--dry-run"]);
    assert_exit(&run, 5);
    assert_eq!(stderr(&run), expected, "the same message as a run");

    // A bad value, too, and the JSON output stays one document.
    p.write("roadmap-runner.toml", "[run]\ntimeout = \"soon\"\n");
    let json = p.run(&["validate", "--json"]);
    assert_exit(&json, 5);
    assert!(
        stderr(&json).contains("roadmap-runner.toml:2:11: `soon` is not a duration"),
        "{}",
        stderr(&json)
    );
    serde_json::from_str::<serde_json::Value>(&stdout(&json)).expect("one JSON document");
    p.write("roadmap-runner.toml", "[run]\nmax_parallel = 0\n");
    let zero = p.run(&["validate"]);
    assert_exit(&zero, 5);
    assert!(
        stderr(&zero).contains("`run.max_parallel`: must be at least 1"),
        "{}",
        stderr(&zero)
    );
}

#[test]
fn the_example_config_loads_and_changes_nothing() {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("roadmap-runner.example.toml"),
    )
    .unwrap();
    let p = project();
    std::fs::remove_file(p.dir.join("roadmap-runner.toml")).unwrap();
    let defaults = p.run(&["config"]);
    assert_exit(&defaults, 0);
    p.write("roadmap-runner.toml", &example);
    let validate = p.run(&["validate"]);
    assert_exit(&validate, 0);
    assert_eq!(stderr(&validate), "");
    let with_example = p.run(&["config"]);
    assert_exit(&with_example, 0);
    let values = |text: &str| -> Vec<(String, String)> {
        config_rows(text)
            .into_iter()
            .map(|(k, _, v)| (k, v))
            .collect()
    };
    assert_eq!(
        values(&stdout(&with_example)),
        values(&stdout(&defaults)),
        "the example's uncommented values are the defaults"
    );
    let from_file = config_rows(&stdout(&with_example))
        .into_iter()
        .filter(|r| r.1 == "roadmap-runner.toml")
        .count();
    // Every key whose default is a plain value is set (uncommented) in it.
    assert_eq!(from_file, 17, "{}", stdout(&with_example));
}

#[test]
fn roadmap_file_from_the_environment_and_empty_is_unset() {
    let p = project();
    let out = p
        .cmd()
        .env("ROADMAP_FILE", "")
        .arg("validate")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "ROADMAP.md: 1 phase, 1 group, 1 task (read as table roadmap)\nroadmap-runner.toml: ok; environment: ok\n"
    );
    p.write(
        "docs/plan.md",
        &roadmap_with_tasks(&[("A1", ""), ("A2", "")]),
    );
    let out = p
        .cmd()
        .env("ROADMAP_FILE", p.dir.join("docs/plan.md"))
        .arg("validate")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "docs/plan.md: 1 phase, 1 group, 2 tasks (read as table roadmap)\nroadmap-runner.toml: ok; environment: ok\n"
    );
}
