//! Telling someone how a run ended: a command (`--notify CMD` or
//! `[notify] command`) and/or a webhook (`[notify] webhook`).
//!
//! Notifying never stops or fails a run: every problem comes back as a
//! [`NotifyError`] for the runner to print as a warning.
//!
//! The command runs in the project directory with the plain-text summary
//! ([`crate::report::summary::render`]) on stdin and these variables:
//!
//! | variable | value |
//! |---|---|
//! | `ROADMAP_RUNNER_EXIT_CODE` | the run's exit code, e.g. `1` |
//! | `ROADMAP_RUNNER_OUTCOME` | [`outcome`]: `success`, `failed`, `gate_failed`, ... |
//! | `ROADMAP_RUNNER_MESSAGE` | the summary's one-line message |
//! | `ROADMAP_RUNNER_TASKS_SUCCEEDED` | tasks that succeeded |
//! | `ROADMAP_RUNNER_TASKS_FAILED` | tasks that did not succeed |
//! | `ROADMAP_RUNNER_COST_USD` | the run's agent cost, e.g. `0.0123` |
//! | `ROADMAP_RUNNER_PROJECT` | the project directory's name |
//! | `ROADMAP_RUNNER_PROJECT_DIR` | the project directory's full path |
//!
//! Its stdout is discarded; it has [`COMMAND_TIMEOUT`] to finish, after which
//! its process group is killed.
//!
//! The webhook gets a POST of `application/json`: see [`WebhookPayload`].

use crate::agent::TaskOutcome;
use crate::config::{CommandSpec, NotifySection};
use crate::events::RunSummary;
use crate::exit;
use serde::Serialize;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use wait_timeout::ChildExt;

/// Longest a notify command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a webhook request may take, connecting included.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Bumped when a field of the webhook body changes meaning or goes away.
pub const WEBHOOK_SCHEMA_VERSION: u32 = 1;
/// Bytes of the command's stderr kept for the error message.
const STDERR_TAIL_BYTES: usize = 4096;
/// Lines of the command's stderr shown in the error message.
const STDERR_TAIL_LINES: usize = 10;

/// One notification that did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{target}: {message}")]
pub struct NotifyError {
    /// `notify command `…``, `webhook http://host/…`.
    pub target: String,
    pub message: String,
}

/// Sends every configured notification for a finished run. `cli_command`
/// (`--notify CMD`, a shell string) replaces `[notify] command`; the webhook
/// is independent of both. Returns what failed; never panics.
pub fn notify(
    section: &NotifySection,
    cli_command: Option<&str>,
    project_dir: &Path,
    summary: &RunSummary,
) -> Vec<NotifyError> {
    let mut errors = Vec::new();
    let command = match cli_command {
        Some(s) if !s.trim().is_empty() => Some(CommandSpec::Shell(s.to_string())),
        _ => section.command.clone(),
    };
    if let Some(spec) = command
        && let Err(e) = run_command(&spec, project_dir, summary, COMMAND_TIMEOUT)
    {
        errors.push(e);
    }
    if let Some(url) = section.webhook.as_deref().filter(|u| !u.trim().is_empty())
        && let Err(e) = post_webhook(
            url.trim(),
            &WebhookPayload::new(project_dir, summary),
            WEBHOOK_TIMEOUT,
        )
    {
        errors.push(e);
    }
    errors
}

/// The run's outcome as a word, from its exit code (README "Exit codes"):
///
/// | exit code | outcome |
/// |---|---|
/// | 0 | `success` |
/// | 1 | `failed` (a task failed or timed out) |
/// | 2 | `gate_failed` |
/// | 3 | `vcs_failed` (commit or push) |
/// | 4 | `roadmap_invalid` |
/// | 5 | `auth_failure` when a task ended so, else `preflight_failed` |
/// | 64 | `usage` |
/// | 75 | `locked` |
/// | 129, 130, 143 (128 + signal) | `interrupted` |
/// | anything else | `error` |
pub fn outcome(summary: &RunSummary) -> &'static str {
    match summary.exit_code {
        exit::OK => "success",
        exit::TASK_FAILED => "failed",
        exit::GATE_FAILED => "gate_failed",
        exit::VCS_FAILED => "vcs_failed",
        exit::ROADMAP_INVALID => "roadmap_invalid",
        exit::PREFLIGHT_FAILED => {
            let auth = summary
                .tasks
                .iter()
                .any(|t| matches!(t.outcome, TaskOutcome::AuthFailure { .. }));
            if auth || summary.message.contains("not logged in") {
                "auth_failure"
            } else {
                "preflight_failed"
            }
        }
        exit::USAGE => "usage",
        exit::LOCKED => "locked",
        129..=159 => "interrupted",
        _ => "error",
    }
}

fn succeeded(summary: &RunSummary) -> usize {
    summary
        .tasks
        .iter()
        .filter(|t| t.outcome.is_success())
        .count()
}

fn project_name(project_dir: &Path) -> String {
    let dir = project_dir
        .canonicalize()
        .unwrap_or_else(|_| project_dir.to_path_buf());
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// The variables the command gets, in a fixed order.
pub fn command_env(project_dir: &Path, summary: &RunSummary) -> Vec<(&'static str, String)> {
    let ok = succeeded(summary);
    vec![
        ("ROADMAP_RUNNER_EXIT_CODE", summary.exit_code.to_string()),
        ("ROADMAP_RUNNER_OUTCOME", outcome(summary).to_string()),
        ("ROADMAP_RUNNER_MESSAGE", summary.message.clone()),
        ("ROADMAP_RUNNER_TASKS_SUCCEEDED", ok.to_string()),
        (
            "ROADMAP_RUNNER_TASKS_FAILED",
            (summary.tasks.len() - ok).to_string(),
        ),
        (
            "ROADMAP_RUNNER_COST_USD",
            format!("{:.4}", summary.cost_usd),
        ),
        ("ROADMAP_RUNNER_PROJECT", project_name(project_dir)),
        (
            "ROADMAP_RUNNER_PROJECT_DIR",
            project_dir.display().to_string(),
        ),
    ]
}

/// Runs the notify command with the summary on stdin; an error when it cannot
/// start, exits non-zero, or outlives `timeout` (then its process group is
/// killed).
pub fn run_command(
    spec: &CommandSpec,
    project_dir: &Path,
    summary: &RunSummary,
    timeout: Duration,
) -> Result<(), NotifyError> {
    use std::os::unix::process::CommandExt;
    let err = |message: String| NotifyError {
        target: format!("notify command `{}`", spec.display()),
        message,
    };
    let argv = spec.argv();
    let Some((program, args)) = argv.split_first().filter(|(p, _)| !p.is_empty()) else {
        return Err(err("the command is empty".into()));
    };
    let mut child = Command::new(program)
        .args(args)
        .current_dir(project_dir)
        .envs(command_env(project_dir, summary))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout stops whatever it started.
        .process_group(0)
        .spawn()
        .map_err(|e| err(format!("cannot start it: {e}")))?;

    // stdin and stderr in threads: a command that reads neither, or writes a
    // lot, must not block the runner.
    let text = crate::report::summary::render(summary);
    if let Some(mut stdin) = child.stdin.take() {
        std::thread::spawn(move || {
            // A command that does not read its stdin is fine.
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let tail = Arc::new(Mutex::new(Vec::<u8>::new()));
    let (done_tx, done_rx) = mpsc::channel();
    if let Some(mut stderr) = child.stderr.take() {
        let tail = tail.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut t) = tail.lock() {
                    t.extend_from_slice(&buf[..n]);
                    let excess = t.len().saturating_sub(STDERR_TAIL_BYTES);
                    t.drain(..excess);
                }
            }
            let _ = done_tx.send(());
        });
    }

    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Err(err(format!(
                "still running after {}s: stopped",
                timeout.as_secs_f64()
            )));
        }
        Err(e) => {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Err(err(format!("cannot wait for it: {e}")));
        }
    };
    if status.success() {
        return Ok(());
    }
    // Whatever it left running may hold stderr open: wait a little only.
    let _ = done_rx.recv_timeout(Duration::from_secs(1));
    let tail = tail.lock().map(|t| t.clone()).unwrap_or_default();
    let tail = String::from_utf8_lossy(&tail);
    let lines: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
    let shown = lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n");
    let how = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => format!("exited with {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "failed".to_string(),
    };
    Err(err(if shown.is_empty() {
        how
    } else {
        format!("{how}:\n{shown}")
    }))
}

fn kill_group(pid: u32) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    if let Ok(pid) = i32::try_from(pid) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// The webhook's JSON body.
///
/// ```json
/// {"schema": 1, "project": "shop", "project_dir": "/srv/shop", "exit_code": 1,
///  "outcome": "failed", "text": "roadmap-runner shop: Phase 1 Group B: 1 of 3 tasks did not succeed",
///  "summary": {"exit_code": 1, "message": "...", "next_steps": [...], "tasks": [...],
///              "groups_completed": [...], "duration": 812.5, "cost_usd": 1.93}}
/// ```
///
/// `text` is one line for chat webhooks (Slack, Mattermost, ... show it).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookPayload<'a> {
    pub schema: u32,
    pub project: String,
    pub project_dir: String,
    pub exit_code: i32,
    pub outcome: &'static str,
    pub text: String,
    pub summary: &'a RunSummary,
}

impl<'a> WebhookPayload<'a> {
    pub fn new(project_dir: &Path, summary: &'a RunSummary) -> Self {
        let project = project_name(project_dir);
        WebhookPayload {
            schema: WEBHOOK_SCHEMA_VERSION,
            text: format!("roadmap-runner {project}: {}", summary.message),
            project,
            project_dir: project_dir.display().to_string(),
            exit_code: summary.exit_code,
            outcome: outcome(summary),
            summary,
        }
    }
}

/// POSTs `payload` as JSON; an error on a connection problem, a timeout or a
/// status that is not 2xx.
pub fn post_webhook(
    url: &str,
    payload: &impl Serialize,
    timeout: Duration,
) -> Result<(), NotifyError> {
    let err = |message: String| NotifyError {
        target: format!("webhook {}", redact(url)),
        message,
    };
    let body = serde_json::to_vec(payload).map_err(|e| err(format!("cannot encode: {e}")))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("roadmap-runner/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(&body[..])
        .map_err(|e| err(e.to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response
        .into_body()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    let text = crate::agent::stream_json::cap_chars(text.trim(), 300);
    Err(err(if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {text}")
    }))
}

/// `scheme://host[:port]/…`: webhook URLs often hold a secret in the path
/// or query, which must not end up in logs and mails.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(invalid URL)".into();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    // Credentials in the authority go too.
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if end < rest.len() {
        format!("{scheme}://{host}/…")
    } else {
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(code: i32) -> RunSummary {
        RunSummary {
            exit_code: code,
            message: "m".into(),
            next_steps: vec![],
            tasks: vec![],
            groups_completed: vec![],
            duration: Duration::from_secs(1),
            cost_usd: 0.0,
        }
    }

    #[test]
    fn outcomes() {
        for (code, word) in [
            (0, "success"),
            (1, "failed"),
            (2, "gate_failed"),
            (3, "vcs_failed"),
            (4, "roadmap_invalid"),
            (5, "preflight_failed"),
            (64, "usage"),
            (75, "locked"),
            (130, "interrupted"),
            (143, "interrupted"),
            (129, "interrupted"),
            (7, "error"),
        ] {
            assert_eq!(outcome(&summary(code)), word, "{code}");
        }
        let mut s = summary(5);
        s.message = "The agent is not logged in: Not logged in · Please run /login".into();
        assert_eq!(outcome(&s), "auth_failure");
    }

    #[test]
    fn redacts_secrets() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact("http://u:p@127.0.0.1:9/x?t=1"),
            "http://127.0.0.1:9/…"
        );
        assert_eq!(redact("http://example.com"), "http://example.com");
        assert_eq!(redact("nonsense"), "(invalid URL)");
    }
}
