//! Interop with the REAL Claude Code CLI: catches flag and output drift
//! between CLI versions that the fake agent cannot.
//!
//! Skipped (passes) unless `ROADMAP_RUNNER_REAL_CLAUDE` names a `claude`
//! binary; `.ci/interop-claude` installs the latest CLI from npm and runs this
//! test with it. No credentials are used: HOME is an empty directory and the
//! credential variables are removed, so the CLI must start, accept our exact
//! command line (`-p --output-format stream-json --verbose
//! --dangerously-skip-permissions`, prompt on stdin) and report that it is not
//! logged in, which the runner must classify as an auth failure (exit 5),
//! not as a usage error or a crash.

mod common;

use common::*;

/// Variables through which the CLI could find credentials or another
/// provider's auth; none may leak into the test.
const CREDENTIAL_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CONFIG_DIR",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "XDG_CONFIG_HOME",
];

#[test]
fn real_claude_not_logged_in_is_an_auth_failure() {
    let Some(claude) = std::env::var_os("ROADMAP_RUNNER_REAL_CLAUDE").filter(|v| !v.is_empty())
    else {
        println!("skipped: set ROADMAP_RUNNER_REAL_CLAUDE (see .ci/interop-claude)");
        return;
    };
    let claude = std::path::PathBuf::from(claude);
    assert!(
        claude.is_file(),
        "ROADMAP_RUNNER_REAL_CLAUDE={} is not a file",
        claude.display()
    );

    let p = Project::new(&roadmap_with_tasks(&[(
        "A1",
        "Reply with the single word: hello.",
    )]));
    let home = tempfile::tempdir().expect("empty HOME");
    let mut cmd = p.cmd();
    cmd.env("CLAUDE_BIN", &claude)
        .env("IS_SANDBOX", "1")
        .env("HOME", home.path())
        .args(["--no-commit", "--no-push", "--timeout", "120"]);
    for var in CREDENTIAL_VARS {
        cmd.env_remove(var);
    }
    let started = std::time::Instant::now();
    let out = cmd.output().expect("runner starts");
    let text = stdout(&out);
    println!(
        "real claude run took {:.1}s, exit {:?}\n--- stdout ---\n{text}\n--- stderr ---\n{}",
        started.elapsed().as_secs_f64(),
        out.status.code(),
        stderr(&out)
    );

    assert_eq!(
        out.status.code(),
        Some(5),
        "expected exit 5 (agent not logged in)"
    );
    // The CLI's own message, as the runner reports it.
    assert!(
        text.contains("Not logged in"),
        "the CLI's not-logged-in message is missing"
    );
    // The task's outcome: the AUTH line and the summary row say auth failure.
    assert!(
        text.lines()
            .any(|l| l.contains("[AUTH] A1:") && l.contains("auth failure")),
        "no [AUTH] line for A1"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("1:A ") && l.contains("A1 "))
        .expect("summary row for A1");
    assert!(row.contains("auth failure"), "summary row: {row}");
    assert!(
        text.contains("The agent is not logged in"),
        "summary message missing"
    );
    for wrong in ["usage limit", "timed out", "[FAIL]"] {
        assert!(!text.contains(wrong), "unexpected `{wrong}` in the output");
    }
}
