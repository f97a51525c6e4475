//! `[agent] fallback`: a usage limit moves the task's next attempt to the
//! next profile of the list at once, instead of waiting for the reset. The
//! real binary runs with the Claude fake as the run's agent and the Codex
//! fake as its fallback, in a temp git repository with a bare origin.

mod common;

use common::*;

/// Claude first, Codex as the fallback; a short `max_wait` (the lines come
/// under the helper's `[run]`), so that a run that waited instead of
/// switching would still finish, on Claude.
fn fallback_config(codex_binary: &str) -> String {
    format!(
        "max_wait = 1\n\n[agent]\nfallback = [\"codex\"]\n\n[agent.codex]\nbinary = \"{codex_binary}\"\n"
    )
}

#[test]
fn a_usage_limit_moves_the_next_attempt_to_the_fallback_agent() {
    let codex = fixture("fake-codex").display().to_string();
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "FAKE: rate-limit 3600")]),
        &fallback_config(&codex),
    );
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("its next attempt runs on codex"),
        "{}",
        stdout(&out)
    );
    let clis: Vec<String> = p
        .agent_starts()
        .iter()
        .map(|s| s["cli"].as_str().unwrap_or("claude").to_string())
        .collect();
    assert_eq!(clis, ["claude", "codex"]);
    let agents: Vec<Option<String>> = task_records(&p).into_iter().map(|r| r.agent).collect();
    assert_eq!(
        agents,
        [Some("claude".to_string()), Some("codex".to_string())]
    );
}

#[test]
fn config_shows_the_fallback_and_an_unknown_name_is_refused() {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "x")]),
        &fallback_config("codex"),
    );
    let out = p.cmd().arg("config").output().unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    let row = text.lines().find(|l| l.contains("agent.fallback")).unwrap();
    assert!(
        row.contains("codex") && row.contains("roadmap-runner.toml"),
        "{row}"
    );

    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "x")]),
        "[agent]\nfallback = [\"aider\"]\n",
    );
    let out = p.run(&["--dry-run"]);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("agent.fallback") && err.contains("aider") && err.contains("codex, gemini"),
        "{err}"
    );
    assert!(p.agent_starts().is_empty());
}

#[test]
fn preflight_checks_each_fallback_binary_before_anything_starts() {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "FAKE: write a1.txt one")]),
        &fallback_config("/nonexistent/codex"),
    );
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 5);
    let err = stderr(&out);
    assert!(
        err.contains("[agent] fallback") && err.contains("/nonexistent/codex"),
        "{err}"
    );
    assert!(p.agent_starts().is_empty(), "no agent started");
}
