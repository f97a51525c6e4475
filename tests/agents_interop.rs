//! Interop with the REAL Codex, Gemini, opencode and Copilot CLIs: catches
//! flag and output drift between CLI versions that the fakes cannot.
//!
//! Each test is skipped (passes) unless `ROADMAP_RUNNER_REAL_<KIND>` names
//! that CLI's binary; `.ci/interop-<kind>` installs the latest version from
//! npm and runs its test. No credentials are used: HOME is an empty
//! directory and the credential variables are removed. What is checked:
//! - every argument the profile passes, the resume arguments too, is
//!   accepted (the CLI prints no usage error);
//! - one task run by the runner is classified as an auth failure (exit 5),
//!   not as "failed". Where the CLI needs its API to find out that it has no
//!   credentials and the API is unreachable from here, the run must fail on
//!   the connection, which proves the arguments got through, and the auth
//!   check is reported as not made.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Variables through which a CLI could find credentials; none may leak in.
const CREDENTIAL_VARS: &[&str] = &[
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "CODEX_HOME",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_GCA",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "ANTHROPIC_API_KEY",
    "OPENCODE_CONFIG",
    "COPILOT_GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
];

/// What CLIs print when they refuse their arguments (clap, yargs).
const USAGE_ERRORS: &[&str] = &[
    "unexpected argument",
    "Unknown argument",
    "Unknown arguments",
    "invalid value",
    "opencode run [message..]",
    "a value is required for",
];

/// What a failed connection to the API looks like in the CLIs' messages.
const UNREACHABLE: &[&str] = &[
    "Cannot connect to API",
    "Unable to connect",
    "error sending request",
    "network fetch failed",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNREFUSED",
    "fetch failed",
    "stream disconnected",
    "Name does not resolve",
    "waiting for network",
];

fn real(kind: &str) -> Option<PathBuf> {
    let var = format!("ROADMAP_RUNNER_REAL_{}", kind.to_ascii_uppercase());
    let Some(bin) = std::env::var_os(&var).filter(|v| !v.is_empty()) else {
        println!("skipped: set {var} (see .ci/interop-{kind})");
        return None;
    };
    let bin = PathBuf::from(bin);
    assert!(bin.is_file(), "{var}={} is not a file", bin.display());
    Some(bin)
}

fn without_credentials(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home);
    for var in CREDENTIAL_VARS {
        cmd.env_remove(var);
    }
}

/// The argv the runner would start for `kind`: from its dry run, so that
/// what is checked is the profile itself.
fn profile_argv(p: &Project) -> Vec<String> {
    let out = p.run(&["--dry-run", "--json"]);
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("dry-run JSON");
    let task = &plan["actions"][0]["tasks"][0];
    serde_json::from_value(task["argv"].clone()).expect("argv")
}

/// Runs `argv` (with `extra` appended) with the prompt on stdin, for at
/// most a minute, and fails on a usage error; what it printed.
fn assert_accepted(argv: &[String], extra: &[&str], home: &Path, cwd: &Path) -> String {
    let mut cmd = Command::new("timeout");
    cmd.arg("60").args(argv).args(extra).current_dir(cwd);
    without_credentials(&mut cmd, home);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("CLI starts");
    use std::io::Write;
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Reply with the single word: hello.\n");
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{argv:?} {extra:?}: exit {:?}\n{text}", out.status.code());
    for e in USAGE_ERRORS {
        assert!(!text.contains(e), "{argv:?} {extra:?} refused: {text}");
    }
    text
}

/// The whole check for one CLI; `config` is added to `[agent.<kind>]`.
fn check(kind: &str, config: &str, resume: &[&str]) {
    let Some(bin) = real(kind) else { return };
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "Reply with the single word: hello.")]),
        &format!(
            "[agent]\nkind = \"{kind}\"\n\n[agent.{kind}]\nbinary = \"{}\"\n{config}",
            bin.display()
        ),
    );
    let home = tempfile::tempdir().expect("empty HOME");
    let argv = profile_argv(&p);
    let said = assert_accepted(&argv, &[], home.path(), &p.dir);
    assert_accepted(&argv, resume, home.path(), &p.dir);
    // A CLI that waits for the network (Codex) is stopped by the timeout.
    let offline = UNREACHABLE.iter().any(|u| said.contains(u));

    let mut cmd = p.cmd();
    without_credentials(&mut cmd, home.path());
    let out = cmd
        .args([
            "--no-commit",
            "--timeout",
            if offline { "60" } else { "180" },
        ])
        .output()
        .expect("runner starts");
    let text = stdout(&out);
    println!("--- stdout ---\n{text}\n--- stderr ---\n{}", stderr(&out));
    let record = &task_records(&p)[0];
    assert_eq!(record.agent.as_deref(), Some(kind));
    match &record.outcome {
        o if o.label() == "auth failure" => {
            assert_exit(&out, 5);
            println!("{kind}: classified as an auth failure");
        }
        roadmap_runner::agent::TaskOutcome::Failed { reason, .. }
            if UNREACHABLE.iter().any(|u| reason.contains(u)) =>
        {
            println!("{kind}: auth check not made: the API is unreachable from here ({reason})");
        }
        roadmap_runner::agent::TaskOutcome::TimedOut { .. } if offline => {
            println!(
                "{kind}: auth check not made: the API is unreachable from here (it waited for the network)"
            );
        }
        other => panic!("{kind}: expected an auth failure, got {other:?}"),
    }
}

#[test]
fn real_codex_without_credentials_is_an_auth_failure() {
    check(
        "codex",
        "",
        &["resume", "019a0000-0000-7000-8000-000000000000", "-"],
    );
}

#[test]
fn real_gemini_without_credentials_is_an_auth_failure() {
    check("gemini", "", &["--resume", "latest"]);
}

#[test]
fn real_opencode_with_a_refused_key_is_an_auth_failure() {
    // Without any key opencode picks a free hosted model (no auth to fail),
    // so it is given a provider model and a key that provider refuses.
    check(
        "opencode",
        "model = \"anthropic/claude-sonnet-4-5\"\nenv = { ANTHROPIC_API_KEY = \"sk-ant-invalid\" }\n",
        &["--session", "ses_0000000000000000000000000"],
    );
}

#[test]
fn real_copilot_without_credentials_is_an_auth_failure() {
    check(
        "copilot",
        "",
        &["--resume=0cb916db-26aa-40f2-86b5-1ba81b225fd2"],
    );
}
