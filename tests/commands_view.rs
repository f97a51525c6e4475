//! `validate` checks the environment and says what it checked, `logs` of a
//! stopped task ends with its outcome, and `config` shows every setting in
//! force, grouped by section.

mod common;
use common::{Project, assert_exit, roadmap_with_tasks, stderr, stdout, wait_for};
use std::process::Stdio;

#[test]
fn validate_checks_the_environment_a_run_reads() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    for (var, value) in [
        ("TASK_TIMEOUT", "5x"),
        ("MAX_PARALLEL_AGENTS", "many"),
        ("ROADMAP_MAX_COST", "-1"),
    ] {
        let out = p.cmd().env(var, value).arg("validate").output().unwrap();
        assert_exit(&out, 64);
        let err = stderr(&out);
        assert!(err.contains(var) && err.contains(value), "{var}: {err}");
    }
}

#[test]
fn a_good_validate_says_the_config_and_environment_were_checked() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    let out = p.run(&["validate"]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "ROADMAP.md: 1 phase, 1 group, 1 task (read as table roadmap)\nroadmap-runner.toml: ok; environment: ok\n"
    );
    std::fs::remove_file(p.dir.join("roadmap-runner.toml")).unwrap();
    let out = p.run(&["validate"]);
    assert!(
        stdout(&out).ends_with("no roadmap-runner.toml (defaults apply); environment: ok\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn logs_of_an_interrupted_task_end_with_its_outcome() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: hang")]));
    let child = p
        .cmd()
        .arg("--no-commit")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("A1 running", 20, || p.agent_starts().len() == 1);
    std::thread::sleep(std::time::Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert_exit(&child.wait_with_output().unwrap(), 130);
    let out = p.run(&["logs", "1:A:A1"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("── ended: interrupted (attempt 1, "),
        "{text}"
    );
    let raw = stdout(&p.run(&["logs", "1:A:A1", "--raw"]));
    assert!(
        !raw.contains("── ended"),
        "--raw is the file as it is:\n{raw}"
    );
}

#[test]
fn config_shows_every_setting_grouped_by_section() {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "")]),
        "[git]\npush_foreign = \"allow\"\n\n[worktree]\nresolve = \"stop\"\n",
    );
    let out = p.run(&["config"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let headers: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('[') && l.ends_with(']'))
        .collect();
    assert_eq!(
        headers,
        [
            "[run]",
            "[agent]",
            "[gate]",
            "[git]",
            "[worktree]",
            "[repair]",
            "[review]",
            "[notify]",
            "[report]",
            "[cluster]"
        ],
        "{text}"
    );
    // Every row sits under its own section's header.
    let mut section = String::new();
    for l in text.lines().skip_while(|l| !l.starts_with("KEY")).skip(1) {
        if let Some(h) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = h.to_string();
        } else if !l.is_empty() {
            assert!(
                l.starts_with(&format!("{section}.")),
                "{l} under [{section}]:\n{text}"
            );
        }
    }
    let row = |key: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{key} in:\n{text}"))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(row("run.isolation"), "default shared");
    assert_eq!(row("git.push_foreign"), "roadmap-runner.toml allow");
    assert_eq!(row("git.diverged"), "default rebase");
    assert_eq!(row("worktree.resolve"), "roadmap-runner.toml stop");
    assert_eq!(row("worktree.resolve_attempts"), "default 2");
    for key in [
        "worktree.dir",
        "worktree.setup",
        "worktree.link",
        "worktree.cargo_target_dir",
    ] {
        row(key);
    }
}
