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
//! | `ROADMAP_RUNNER_TASKS_FAILED` | tasks that failed (or timed out) |
//! | `ROADMAP_RUNNER_TASKS_INTERRUPTED` | tasks stopped by a signal while running |
//! | `ROADMAP_RUNNER_TASKS_NOT_STARTED` | tasks queued but never started |
//! | `ROADMAP_RUNNER_TASKS_OVER_BUDGET` | tasks stopped at the agent's own cost cap |
//! | `ROADMAP_RUNNER_TASKS_SKIPPED` | tasks not run: done in the roadmap or earlier |
//! | `ROADMAP_RUNNER_REPAIRS`, `ROADMAP_RUNNER_REVIEWS` | repair and review agents that ran |
//! | `ROADMAP_RUNNER_COST_USD` | the run's agent cost, e.g. `0.0123` |
//! | `ROADMAP_RUNNER_COST_TASKS_USD`, `_COST_REPAIRS_USD`, `_COST_REVIEWS_USD` | that cost by role |
//!
//! Every count comes from the run's [`crate::status::counts::Counts`], the
//! same numbers the summary prints.
//! | `ROADMAP_RUNNER_PROJECT` | the project directory's name |
//! | `ROADMAP_RUNNER_PROJECT_DIR` | the project directory's full path |
//!
//! It runs through the runner's one process-control path
//! ([`crate::exec::run_process`]), in a process group of its own. Its stdout
//! is discarded; it has [`COMMAND_TIMEOUT`] to finish, after which its group
//! gets SIGTERM and, [`COMMAND_GRACE`] later, SIGKILL. Once it has exited,
//! whatever it left in the background is killed with its group (after
//! [`COMMAND_LEAK_TIMEOUT`] when that still holds its output pipes): nothing
//! of a notification outlives the run.
//!
//! The webhook gets a POST of `application/json`: see [`WebhookPayload`].

use crate::agent::TaskOutcome;
use crate::config::{CommandSpec, NotifySection};
use crate::events::RunSummary;
use crate::exec::{
    ExecError, ExitStatusKind, OutputStream, ProcessEvent, ProcessOutcome, ProcessSpec,
    StdinSource, StopLevel, run_process,
};
use crate::exit;
use crate::text::cap_chars;
use serde::Serialize;
use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;
use tokio::sync::watch;

/// Longest a notify command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a webhook request may take, connecting included.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Bumped when a field of the webhook body changes meaning or goes away.
pub const WEBHOOK_SCHEMA_VERSION: u32 = 1;
/// Time between SIGTERM and SIGKILL to the command's process group.
pub const COMMAND_GRACE: Duration = Duration::from_secs(2);
/// After the command exits, how long what it left in the background may hold
/// its output pipes before the group is killed.
pub const COMMAND_LEAK_TIMEOUT: Duration = Duration::from_secs(2);
/// Lines of the command's stderr shown in the error message.
const STDERR_TAIL_LINES: usize = 10;
/// Longest stderr line shown in the error message.
const STDERR_LINE_CHARS: usize = 500;

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
    notify_with_timeout(section, cli_command, project_dir, summary, COMMAND_TIMEOUT)
}

/// [`notify`] with the command's timeout given instead of [`COMMAND_TIMEOUT`].
pub fn notify_with_timeout(
    section: &NotifySection,
    cli_command: Option<&str>,
    project_dir: &Path,
    summary: &RunSummary,
    command_timeout: Duration,
) -> Vec<NotifyError> {
    let mut errors = Vec::new();
    let command = match cli_command {
        Some(s) if !s.trim().is_empty() => Some(CommandSpec::Shell(s.to_string())),
        _ => section.command.clone(),
    };
    if let Some(spec) = command
        && let Err(e) = run_command(&spec, project_dir, summary, command_timeout)
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
/// | 6 | `merge_conflict` (`--isolation worktree`) |
/// | 7 | `budget_spent` (`--max-cost` reached) |
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
        exit::MERGE_CONFLICT => "merge_conflict",
        exit::BUDGET_SPENT => "budget_spent",
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
    let c = &summary.counts;
    let usd = |v: f64| format!("{:.4}", v + 0.0);
    vec![
        ("ROADMAP_RUNNER_EXIT_CODE", summary.exit_code.to_string()),
        ("ROADMAP_RUNNER_OUTCOME", outcome(summary).to_string()),
        ("ROADMAP_RUNNER_MESSAGE", summary.message.clone()),
        ("ROADMAP_RUNNER_TASKS_SUCCEEDED", c.succeeded.to_string()),
        ("ROADMAP_RUNNER_TASKS_FAILED", c.failed.to_string()),
        (
            "ROADMAP_RUNNER_TASKS_INTERRUPTED",
            c.interrupted.to_string(),
        ),
        (
            "ROADMAP_RUNNER_TASKS_NOT_STARTED",
            c.not_started.to_string(),
        ),
        (
            "ROADMAP_RUNNER_TASKS_OVER_BUDGET",
            c.over_budget.to_string(),
        ),
        ("ROADMAP_RUNNER_TASKS_SKIPPED", c.skipped.to_string()),
        ("ROADMAP_RUNNER_REPAIRS", c.repairs.to_string()),
        ("ROADMAP_RUNNER_REVIEWS", c.reviews.to_string()),
        ("ROADMAP_RUNNER_COST_USD", usd(c.cost.total())),
        ("ROADMAP_RUNNER_COST_TASKS_USD", usd(c.cost.tasks)),
        ("ROADMAP_RUNNER_COST_REPAIRS_USD", usd(c.cost.repairs)),
        ("ROADMAP_RUNNER_COST_REVIEWS_USD", usd(c.cost.reviews)),
        ("ROADMAP_RUNNER_PROJECT", project_name(project_dir)),
        (
            "ROADMAP_RUNNER_PROJECT_DIR",
            project_dir.display().to_string(),
        ),
    ]
}

/// Runs the notify command with the summary on stdin through the one
/// process-control path ([`run_process`]): an error when it cannot start,
/// exits non-zero, or outlives `timeout` (then its process group gets
/// SIGTERM, and SIGKILL after [`COMMAND_GRACE`]). Whatever it started is
/// killed with its group once it has exited.
pub fn run_command(
    spec: &CommandSpec,
    project_dir: &Path,
    summary: &RunSummary,
    timeout: Duration,
) -> Result<(), NotifyError> {
    let err = |message: String| NotifyError {
        target: format!("notify command `{}`", spec.display()),
        message,
    };
    let argv = spec.argv();
    let Some((program, args)) = argv.split_first().filter(|(p, _)| !p.is_empty()) else {
        return Err(err("the command is empty".into()));
    };
    let process = ProcessSpec {
        program: program.into(),
        args: args.iter().map(Into::into).collect(),
        env: command_env(project_dir, summary)
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        cwd: project_dir.to_path_buf(),
        stdin: StdinSource::Bytes(crate::report::summary::render(summary).into_bytes()),
        log_path: None,
        timeout: Some(timeout),
        grace: COMMAND_GRACE,
        leak_timeout: COMMAND_LEAK_TIMEOUT,
    };
    let (outcome, stderr) = run_to_end(process).map_err(|e| err(e.to_string()))?;
    let outcome = outcome.map_err(|e| match e {
        ExecError::Spawn { source, .. } => err(format!("cannot start it: {source}")),
        other => err(other.to_string()),
    })?;
    if outcome.timed_out {
        return Err(err(format!(
            "still running after {}s: stopped",
            timeout.as_secs_f64()
        )));
    }
    let how = match outcome.status {
        ExitStatusKind::Code(0) => return Ok(()),
        ExitStatusKind::Code(code) => format!("exited with {code}"),
        ExitStatusKind::Signal(sig) => format!("killed by signal {sig}"),
    };
    let shown = Vec::from(stderr).join("\n");
    Err(err(if shown.is_empty() {
        how
    } else {
        format!("{how}:\n{shown}")
    }))
}

/// The last [`STDERR_TAIL_LINES`] non-empty lines of stderr.
type StderrTail = VecDeque<String>;

/// Drives [`run_process`] on a current-thread runtime of its own, in a thread
/// of its own: a runtime cannot be started inside another one, and the caller
/// may be in one. Stdout is discarded; stderr's last lines are kept.
fn run_to_end(
    process: ProcessSpec,
) -> std::io::Result<(Result<ProcessOutcome, ExecError>, StderrTail)> {
    std::thread::scope(|scope| {
        let runner = scope.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            // Nothing asks the command to stop early: the sender goes at once.
            let (_, stop) = watch::channel(StopLevel::Run);
            let mut stderr = StderrTail::with_capacity(STDERR_TAIL_LINES);
            let mut on_event = |event: ProcessEvent<'_>| {
                if let ProcessEvent::Line(OutputStream::Stderr, line) = event
                    && !line.trim().is_empty()
                {
                    if stderr.len() == STDERR_TAIL_LINES {
                        stderr.pop_front();
                    }
                    stderr.push_back(cap_chars(line, STDERR_LINE_CHARS));
                }
            };
            let outcome = rt.block_on(run_process(process, stop, &mut on_event));
            Ok((outcome, stderr))
        });
        runner
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the notify runner panicked")))
    })
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
    let text = crate::text::cap_chars(text.trim(), 300);
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
            costs: Default::default(),
            counts: Default::default(),
            group_times: vec![],
        }
    }

    #[test]
    fn outcomes() {
        for (code, word) in [
            (0, "success"),
            (1, "failed"),
            (2, "gate_failed"),
            (3, "vcs_failed"),
            (6, "merge_conflict"),
            (4, "roadmap_invalid"),
            (5, "preflight_failed"),
            (64, "usage"),
            (75, "locked"),
            (130, "interrupted"),
            (143, "interrupted"),
            (129, "interrupted"),
            (7, "budget_spent"),
            (8, "error"),
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
