//! Each agent profile end to end: the real binary runs a small roadmap with
//! the fake of that CLI (tests/fixtures/fake-codex, fake-gemini) or a plain
//! program, in a temp git repository with a bare origin. What is checked:
//! the CLI's own command line, the records (which agent, tokens, no cost),
//! resuming after a usage limit, auth failures by each CLI's signal, a flag
//! the CLI refuses, and the choice of agent by file, flag and environment.

mod common;

use common::agents::*;
use common::*;

#[test]
fn codex_runs_a_roadmap_end_to_end() {
    let (p, _) = two_tasks_run("codex", "model = \"gpt-5-codex\"\n", &[]);
    assert!(
        p.origin_log()[0].contains("Phase 1"),
        "{:?}",
        p.origin_log()
    );
    assert_eq!(p.agent_starts().len(), 2);
    assert_every_start(
        &p,
        "codex",
        &[
            "exec",
            "--json",
            "--sandbox",
            "workspace-write",
            "--model",
            "gpt-5-codex",
        ],
    );
    let records = successful_records(&p, "codex");
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.cost_usd, None, "codex reports no cost");
        assert_eq!(r.tokens.as_ref().unwrap()["output_tokens"], 60);
        assert!(r.session_id.is_some(), "the thread id is the session");
        assert_eq!(
            r.result_text.as_deref(),
            Some(format!("Implemented {}.", r.task).as_str())
        );
    }
}

#[test]
fn codex_usage_limit_waits_and_resumes_the_thread() {
    let (thread, resumed, out) = resumed_after_limit("codex");
    assert!(stdout(&out).contains("usage limit"), "{}", stdout(&out));
    assert_eq!(resumed, ["resume".to_string(), thread, "-".to_string()]);
}

#[test]
fn gemini_runs_a_roadmap_chosen_by_flag() {
    // The file names the gemini binary; `--agent gemini` picks the profile.
    let config = format!(
        "[agent.gemini]\nbinary = \"{}\"\n",
        fixture("fake-gemini").display()
    );
    let p = Project::with_config(&two_tasks(), &config);
    let out = p.run(&["--agent", "gemini", "--no-push"]);
    assert_exit(&out, 0);
    assert_eq!(p.read("a1.txt"), "one\n");
    assert_every_start(
        &p,
        "gemini",
        &[
            "--output-format",
            "stream-json",
            "--approval-mode",
            "yolo",
            "--skip-trust",
        ],
    );
    for r in successful_records(&p, "gemini") {
        assert_eq!(r.cost_usd, None);
        assert_eq!(r.tokens.as_ref().unwrap()["total_tokens"], 900);
        assert_eq!(
            r.result_text.as_deref(),
            Some(&*format!("Implemented {}.", r.task))
        );
    }
}

#[test]
fn the_environment_chooses_the_agent_and_config_shows_it() {
    let config = format!(
        "[agent.codex]\nbinary = \"{}\"\n",
        fixture("fake-codex").display()
    );
    let p = Project::with_config(&two_tasks(), &config);
    let out = p
        .cmd()
        .env("ROADMAP_AGENT", "codex")
        .arg("config")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    let kind = text.lines().find(|l| l.contains("agent.kind")).unwrap();
    assert!(
        kind.contains("codex") && kind.contains("env ROADMAP_AGENT"),
        "{kind}"
    );
    let out = p
        .cmd()
        .env("ROADMAP_AGENT", "codex")
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("\"agent\":\"codex\""), "{text}");
    assert!(
        text.contains("exec --json --sandbox workspace-write"),
        "{text}"
    );
    let out = p
        .cmd()
        .env("ROADMAP_AGENT", "codex")
        .args(["--no-commit"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(p.agent_starts().iter().all(|s| s["cli"] == "codex"));
}

#[test]
fn an_unknown_agent_is_refused_with_the_choices() {
    let p = Project::new(&two_tasks());
    let out = p.run(&["--agent", "aider", "--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    let text = stderr(&out);
    assert!(text.contains("unknown agent `aider`"), "{text}");
    assert!(
        text.contains("claude, codex, gemini, opencode, copilot, command"),
        "{text}"
    );
    let p = Project::with_config(&two_tasks(), "[agent]\nkind = \"gpt\"\n");
    let out = p.run(&["--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    let text = stderr(&out);
    assert!(
        text.contains("agent.kind") && text.contains("unknown agent `gpt`"),
        "{text}"
    );
    assert!(p.agent_starts().is_empty());
}

#[test]
fn auth_failures_stop_the_run_with_each_agents_login_advice() {
    for (kind, advice) in [("codex", "CODEX_API_KEY"), ("gemini", "GEMINI_API_KEY")] {
        let text = auth_failure_output(kind);
        assert!(text.contains("not logged in"), "{kind}: {text}");
        assert!(text.contains(advice), "{kind}: {text}");
    }
}

#[test]
fn a_flag_the_cli_refuses_fails_the_task_with_its_message() {
    let (exit_code, reason) =
        failed_task("codex", "FAKE: sleep 0.1", "extra_args = [\"--bogus\"]\n");
    assert_eq!(exit_code, Some(2));
    assert!(reason.contains("unexpected argument '--bogus'"), "{reason}");
    // Gemini says what its exit status means.
    let (_, reason) = failed_task("gemini", "FAKE: fail 53", "");
    assert!(
        reason.contains("exit code 53 (turn limit exceeded)"),
        "{reason}"
    );
}

#[test]
fn a_command_agent_gets_the_prompt_on_stdin_and_succeeds_by_exit_status() {
    // Any program: the prompt on stdin, plain text out, exit status decides.
    let script = "cat > \"got-$ROADMAP_TASK_ID.txt\"; echo working; \
                  test \"$ROADMAP_TASK_ID\" != A2 || exit 3";
    let config = format!("[agent]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", {script:?}]\n");
    let p = Project::with_config(&two_tasks(), &config);
    let out = p.run(&["--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(p.read("got-A1.txt").contains("FAKE: write a1.txt one"));
    let records = task_records(&p);
    let by_task = |id: &str| records.iter().find(|r| r.task == id).unwrap();
    assert_eq!(by_task("A1").agent.as_deref(), Some("command"));
    assert!(by_task("A1").outcome.is_success());
    assert_eq!(by_task("A2").exit_code, Some(3));
    // `kind = "command"` without a command says what is missing.
    let p = Project::with_config(&two_tasks(), "[agent]\nkind = \"command\"\n");
    let out = p.run(&["--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("[agent] command"), "{}", stderr(&out));
}

#[test]
fn opencode_runs_a_roadmap_end_to_end_with_its_cost() {
    let (p, _) = two_tasks_run(
        "opencode",
        "model = \"anthropic/claude-sonnet-4-5\"\n",
        &["--no-push"],
    );
    assert_every_start(
        &p,
        "opencode",
        &[
            "run",
            "--format",
            "json",
            "--auto",
            "--model",
            "anthropic/claude-sonnet-4-5",
        ],
    );
    let records = successful_records(&p, "opencode");
    assert_eq!(records.len(), 2);
    for r in &records {
        // Two steps: $0.0021 + $0.0004. With a cost, tokens are not kept (as for Claude).
        assert!(
            (r.cost_usd.unwrap() - 0.0025).abs() < 1e-9,
            "{:?}",
            r.cost_usd
        );
        assert_eq!(r.tokens, None);
        assert!(r.session_id.as_deref().unwrap().starts_with("ses_"));
        assert_eq!(
            r.result_text.as_deref(),
            Some(format!("Implemented {}.", r.task).as_str())
        );
    }
}

#[test]
fn an_opencode_usage_limit_moves_the_task_to_copilot() {
    // opencode names no reset time: with a fallback the next attempt does
    // not wait for one.
    let config = format!(
        "[agent]\nkind = \"opencode\"\nfallback = [\"copilot\"]\n\n\
         [agent.opencode]\nbinary = \"{}\"\n\n[agent.copilot]\nbinary = \"{}\"\n",
        fixture("fake-opencode").display(),
        fixture("fake-copilot").display()
    );
    let p = Project::with_config(&roadmap_with_tasks(&[("A1", "FAKE: rate-limit")]), &config);
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    let clis: Vec<String> = p
        .agent_starts()
        .iter()
        .map(|s| s["cli"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(clis, ["opencode", "copilot"]);
    let records = task_records(&p);
    assert_eq!(records[0].outcome.label(), "usage limit");
    assert_eq!(records[0].agent.as_deref(), Some("opencode"));
    assert!(
        records[0]
            .session_id
            .as_deref()
            .unwrap()
            .starts_with("ses_")
    );
    assert!(records[1].outcome.is_success());
    assert_eq!(records[1].agent.as_deref(), Some("copilot"));
}

#[test]
fn copilot_runs_a_roadmap_end_to_end_without_a_cost() {
    let (p, out) = two_tasks_run("copilot", "model = \"gpt-5\"\n", &["--no-push"]);
    assert_every_start(
        &p,
        "copilot",
        &[
            "--output-format",
            "json",
            "--allow-all-tools",
            "--no-ask-user",
            "--model",
            "gpt-5",
        ],
    );
    for r in successful_records(&p, "copilot") {
        assert_eq!(
            r.cost_usd, None,
            "copilot reports premium requests, not dollars"
        );
        assert_eq!(r.tokens.as_ref().unwrap()["premiumRequests"], 1);
        assert!(r.session_id.is_some());
    }
    // No agent reported a cost: the summary says so instead of $0.00.
    let text = stdout(&out);
    assert!(text.contains("cost not reported"), "{text}");
    assert!(!text.contains("$0.00"), "{text}");
}

#[test]
fn copilot_usage_limit_resumes_its_session_with_the_joined_flag() {
    let (session, resumed, _) = resumed_after_limit("copilot");
    assert_eq!(resumed, [format!("--resume={session}")]);
}

#[test]
fn opencode_and_copilot_auth_failures_and_refused_flags() {
    for (kind, advice) in [
        ("opencode", "opencode auth login"),
        ("copilot", "COPILOT_GITHUB_TOKEN"),
    ] {
        let text = auth_failure_output(kind);
        assert!(text.contains(advice), "{kind}: {text}");
    }
    for (kind, said) in [
        ("copilot", "unexpected argument '--bogus'"),
        ("opencode", "opencode printed its usage"),
    ] {
        let (exit_code, reason) =
            failed_task(kind, "FAKE: sleep 0.1", "extra_args = [\"--bogus\"]\n");
        assert_eq!(exit_code, Some(1), "{kind}");
        assert!(reason.contains(said), "{kind}: {reason}");
    }
}
