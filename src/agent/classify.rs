//! Turning a finished agent process and what it said into a task outcome.
//!
//! The rules, in order:
//! 1. Timed out → [`TaskOutcome::TimedOut`].
//! 2. Stopped by a request → [`TaskOutcome::Interrupted`], whatever the exit
//!    status: Claude exits 0 after SIGINT with an `error_during_execution`
//!    result, and that is never a success.
//! 3. Success → [`TaskOutcome::Succeeded`]. Stream-json: exit 0 *and* a
//!    `result` event *and* `is_error == false` (`subtype` is ignored: it can be
//!    `"success"` on an error). Plain: exit 0.
//! 4. The CLI's not-logged-in message or an `authentication_failed` API
//!    error → [`TaskOutcome::AuthFailure`] with the CLI's own message.
//! 5. A rejected `rate_limit_event`, a `rate_limit` API error, or an error
//!    result whose text is a limit message → [`TaskOutcome::UsageLimit`].
//! 6. Anything else → [`TaskOutcome::Failed`] with a one-line reason.
//!
//! Success is decided before the auth and limit signals: a run that hit a
//! rate limit, waited and then finished cleanly did its task.

use crate::agent::gemini_json;
use crate::agent::stream_json::StreamObserver;
use crate::agent::{AgentReport, TaskOutcome};
use crate::config::OutputFormat;
use crate::exec::process::STDERR_PREFIX;
use crate::exec::{ExitStatusKind, ProcessOutcome};
use crate::text::cap_chars;
use std::time::Duration;

/// Longest failure reason, in characters.
pub const REASON_CHARS: usize = 300;

/// The result subtype of a run that stopped at `--max-budget-usd`.
pub const OVER_BUDGET: &str = "error_max_budget_usd";

/// The reason for exit 0 in stream-json mode without any `result` event.
pub const NO_RESULT_REASON: &str = "agent exited 0 without a result";

pub fn classify(
    proc: &ProcessOutcome,
    obs: &StreamObserver,
    format: OutputFormat,
    timeout: Duration,
) -> (TaskOutcome, AgentReport) {
    let report = obs.report();
    if proc.timed_out {
        return (
            TaskOutcome::TimedOut {
                after_secs: timeout.as_secs(),
            },
            report,
        );
    }
    if proc.stopped.is_some() {
        return (TaskOutcome::Interrupted, report);
    }

    // Not a success even with `is_error` false, and not a crash either.
    if let Some(r) = obs
        .result()
        .filter(|r| r.subtype.as_deref() == Some(OVER_BUDGET))
    {
        let message = r
            .result
            .clone()
            .unwrap_or_else(|| "the agent stopped at its spending cap (--max-budget-usd)".into());
        return (
            TaskOutcome::OverBudget {
                message: one_line(&message),
            },
            report,
        );
    }
    let exit0 = proc.status == ExitStatusKind::Code(0);
    let success = match format.is_structured() {
        true => exit0 && obs.result().is_some_and(|r| !r.is_error),
        false => exit0,
    };
    if success {
        return (TaskOutcome::Succeeded, report);
    }
    if let Some(message) = gemini_auth_exit(proc, obs, format) {
        return (TaskOutcome::AuthFailure { message }, report);
    }

    if let Some(message) = obs.auth_failure() {
        return (TaskOutcome::AuthFailure { message }, report);
    }
    if let Some(limit) = obs.usage_limit() {
        return (
            TaskOutcome::UsageLimit {
                resets_at: limit.resets_at,
                message: limit.message,
            },
            report,
        );
    }

    let (exit_code, signal) = match proc.status {
        ExitStatusKind::Code(c) => (Some(c), None),
        ExitStatusKind::Signal(s) => (None, Some(s)),
    };
    let reason = failure_reason(proc, obs, format);
    (
        TaskOutcome::Failed {
            exit_code,
            signal,
            reason,
        },
        report,
    )
}

/// Gemini's exit 41: the credentials are missing or refused, said in its
/// last stderr line (or the error result).
fn gemini_auth_exit(
    proc: &ProcessOutcome,
    obs: &StreamObserver,
    format: OutputFormat,
) -> Option<String> {
    if format != OutputFormat::GeminiJson
        || proc.status != ExitStatusKind::Code(gemini_json::EXIT_AUTH)
    {
        return None;
    }
    let said = obs
        .api_error()
        .and_then(|e| e.message.clone())
        .or_else(|| last_output_line(&proc.tail, true).map(str::to_string));
    Some(one_line(&match said {
        Some(m) => format!("authentication failed: {m}"),
        None => "authentication failed (gemini exit 41)".into(),
    }))
}

/// `exit code 1: <what went wrong>` on one line.
fn failure_reason(proc: &ProcessOutcome, obs: &StreamObserver, format: OutputFormat) -> String {
    let stream_json = format.is_structured();
    if stream_json && proc.status == ExitStatusKind::Code(0) {
        return match obs.result() {
            None => NO_RESULT_REASON.to_string(),
            Some(r) => one_line(&format!(
                "exit code 0 but the agent reported an error ({}): {}",
                r.subtype.as_deref().unwrap_or("no subtype"),
                r.result.as_deref().unwrap_or("no result text")
            )),
        };
    }

    let status = match proc.status {
        ExitStatusKind::Code(c) if format == OutputFormat::GeminiJson => {
            match gemini_json::exit_meaning(c) {
                Some(m) => format!("exit code {c} ({m})"),
                None => format!("exit code {c}"),
            }
        }
        ExitStatusKind::Code(c) => format!("exit code {c}"),
        ExitStatusKind::Signal(s) => match nix::sys::signal::Signal::try_from(s) {
            Ok(sig) => format!("killed by signal {s} ({sig})"),
            Err(_) => format!("killed by signal {s}"),
        },
    };
    let result_text = obs
        .result()
        .filter(|r| r.is_error)
        .and_then(|r| r.result.as_deref())
        .filter(|t| !t.trim().is_empty());
    let detail = match (result_text, obs.api_error()) {
        (Some(t), _) => t.to_string(),
        (None, Some(e)) => match &e.message {
            Some(m) => format!("API error {}: {m}", e.kind),
            None => format!("API error {}", e.kind),
        },
        (None, None) => usage_error(&proc.tail, format)
            .or_else(|| last_output_line(&proc.tail, stream_json))
            .unwrap_or("no output")
            .to_string(),
    };
    one_line(&format!("{status}: {detail}"))
}

/// The last line worth quoting: stderr lines without their prefix; in
/// stream-json mode JSON events are skipped (the result, if any, was used).
fn last_output_line(tail: &[String], skip_json: bool) -> Option<&str> {
    tail.iter()
        .rev()
        .map(|l| l.strip_prefix(STDERR_PREFIX).unwrap_or(l).trim())
        .filter(|l| !l.is_empty())
        .find(|l| !(skip_json && l.starts_with('{')))
}

/// What a CLI printed when it refused its arguments. Codex and Copilot
/// refuse as clap does: `error: unexpected argument '--x' found`, then
/// usage lines; the `error:` line is the one to quote. opencode (yargs)
/// prints only its usage, which names no option: say so.
fn usage_error(tail: &[String], format: OutputFormat) -> Option<&str> {
    let stderr = || {
        tail.iter()
            .rev()
            .filter_map(|l| l.strip_prefix(STDERR_PREFIX))
            .map(str::trim)
    };
    match format {
        OutputFormat::CodexJson | OutputFormat::CopilotJson => {
            stderr().find(|l| l.starts_with("error:"))
        }
        OutputFormat::OpencodeJson => stderr()
            .any(|l| l.starts_with("opencode run [message..]"))
            .then_some(OPENCODE_USAGE),
        _ => None,
    }
}

/// The reason given when opencode printed its usage instead of running.
const OPENCODE_USAGE: &str = "opencode printed its usage instead of running: an option it does not take (check [agent.opencode] extra_args)";

fn one_line(s: &str) -> String {
    cap_chars(&crate::text::squash_whitespace(s), REASON_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::StopLevel;
    use chrono::DateTime;

    const T: Duration = Duration::from_secs(600);
    const INIT: &str = r#"{"type":"system","subtype":"init","cwd":"/p","session_id":"sess-1","tools":["Bash","Edit"],"model":"claude-sonnet-4-5"}"#;
    const OK: &str = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":1500,"duration_api_ms":1200,"num_turns":3,"result":"Implemented A1","session_id":"sess-1","total_cost_usd":0.0123,"usage":{"input_tokens":10,"output_tokens":20,"cache_read_input_tokens":0}}"#;
    const ERR_SUCCESS_SUBTYPE: &str = r#"{"type":"result","subtype":"success","is_error":true,"duration_ms":900,"num_turns":1,"result":"API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\nmore","session_id":"sess-1","total_cost_usd":0}"#;
    const SIGINT_RESULT: &str = r#"{"type":"result","subtype":"error_during_execution","is_error":true,"duration_ms":700,"num_turns":2,"session_id":"sess-1","total_cost_usd":0.001}"#;

    fn proc(status: ExitStatusKind) -> ProcessOutcome {
        ProcessOutcome {
            pid: 4242,
            status,
            timed_out: false,
            stopped: None,
            leaked: false,
            duration: Duration::from_secs(2),
            tail: Vec::new(),
        }
    }

    fn obs(lines: &[&str]) -> StreamObserver {
        let mut o = StreamObserver::new();
        for l in lines {
            o.observe(l);
        }
        o
    }

    fn run(p: &ProcessOutcome, lines: &[&str]) -> TaskOutcome {
        classify(p, &obs(lines), OutputFormat::StreamJson, T).0
    }

    #[test]
    fn success_needs_exit0_and_clean_result() {
        let (o, rep) = classify(
            &proc(ExitStatusKind::Code(0)),
            &obs(&[INIT, OK]),
            OutputFormat::StreamJson,
            T,
        );
        assert_eq!(o, TaskOutcome::Succeeded);
        assert_eq!(rep.session_id.as_deref(), Some("sess-1"));
        assert_eq!(rep.cost_usd, Some(0.0123));
        assert_eq!(rep.num_turns, Some(3));

        // A clean result but a non-zero exit is not a success.
        let o = run(&proc(ExitStatusKind::Code(2)), &[INIT, OK]);
        assert!(
            matches!(
                o,
                TaskOutcome::Failed {
                    exit_code: Some(2),
                    ..
                }
            ),
            "{o:?}"
        );
    }

    #[test]
    fn error_result_with_success_subtype_is_a_failure() {
        let o = run(&proc(ExitStatusKind::Code(0)), &[INIT, ERR_SUCCESS_SUBTYPE]);
        let TaskOutcome::Failed {
            exit_code, reason, ..
        } = o
        else {
            panic!("{o:?}")
        };
        assert_eq!(exit_code, Some(0));
        assert!(
            reason.starts_with(
                "exit code 0 but the agent reported an error (success): API Error: 529"
            ),
            "{reason}"
        );
        assert!(!reason.contains('\n'));
    }

    #[test]
    fn exit0_without_result() {
        let o = run(&proc(ExitStatusKind::Code(0)), &[INIT]);
        assert_eq!(
            o,
            TaskOutcome::Failed {
                exit_code: Some(0),
                signal: None,
                reason: NO_RESULT_REASON.into()
            }
        );
    }

    #[test]
    fn plain_format_uses_the_exit_status() {
        let o = obs(&["all done"]);
        let p = proc(ExitStatusKind::Code(0));
        assert_eq!(
            classify(&p, &o, OutputFormat::Plain, T).0,
            TaskOutcome::Succeeded
        );
        let mut p = proc(ExitStatusKind::Code(1));
        p.tail = vec!["working".into(), "[stderr] fatal: no API key".into()];
        let (out, _) = classify(&p, &o, OutputFormat::Plain, T);
        assert_eq!(
            out,
            TaskOutcome::Failed {
                exit_code: Some(1),
                signal: None,
                reason: "exit code 1: fatal: no API key".into()
            }
        );
    }

    #[test]
    fn timeout_wins() {
        let mut p = proc(ExitStatusKind::Signal(15));
        p.timed_out = true;
        p.stopped = Some(StopLevel::Terminate);
        assert_eq!(
            run(&p, &[INIT, OK]),
            TaskOutcome::TimedOut { after_secs: 600 }
        );
    }

    #[test]
    fn interrupted_even_with_exit0() {
        let mut p = proc(ExitStatusKind::Code(0));
        p.stopped = Some(StopLevel::Terminate);
        assert_eq!(run(&p, &[INIT, SIGINT_RESULT]), TaskOutcome::Interrupted);
        // Even a clean result does not count once we asked it to stop.
        assert_eq!(run(&p, &[INIT, OK]), TaskOutcome::Interrupted);
        let mut p = proc(ExitStatusKind::Signal(9));
        p.stopped = Some(StopLevel::Kill);
        assert_eq!(run(&p, &[INIT]), TaskOutcome::Interrupted);
    }

    #[test]
    fn auth_failure_from_result_and_error_field() {
        let lines = [
            INIT,
            r#"{"type":"assistant","message":{"id":"m","type":"message","role":"assistant","model":"<synthetic>","content":[{"type":"text","text":"Not logged in · Please run /login"}]},"parent_tool_use_id":null,"session_id":"sess-1","error":"authentication_failed"}"#,
            r#"{"type":"result","subtype":"success","is_error":true,"duration_ms":31,"duration_api_ms":0,"num_turns":1,"result":"Not logged in · Please run /login","session_id":"sess-1","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}}"#,
        ];
        assert_eq!(
            run(&proc(ExitStatusKind::Code(1)), &lines),
            TaskOutcome::AuthFailure {
                message: "Not logged in · Please run /login".into()
            }
        );
        // Invalid key: only the structured error says it is auth.
        let lines = [
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Invalid API key · Fix external API key"}]},"session_id":"s","error":"authentication_failed"}"#,
            r#"{"type":"result","subtype":"success","is_error":true,"result":"Invalid API key · Fix external API key","session_id":"s"}"#,
        ];
        assert_eq!(
            run(&proc(ExitStatusKind::Code(1)), &lines),
            TaskOutcome::AuthFailure {
                message: "Invalid API key · Fix external API key".into()
            }
        );
    }

    /// Verbatim from the real CLI 2.1.330 (`claude -p --output-format
    /// stream-json --verbose --dangerously-skip-permissions`, empty HOME, no
    /// credential variables): after its init event, an assistant message with
    /// `error: authentication_failed` and a result whose keys come in another
    /// order (`type` near the end), `is_error` true, `subtype` "success"; exit 1,
    /// nothing on stderr. `.ci/interop-claude` checks the latest CLI still does this.
    #[test]
    fn real_cli_not_logged_in() {
        const ASSISTANT: &str = r#"{"type":"assistant","message":{"diagnostics":null,"id":"bd173225-7ad1-45f5-971a-a5448a6d0f6c","container":null,"model":"<synthetic>","role":"assistant","stop_details":null,"stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"output_tokens_details":null,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":null,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"inference_geo":null,"iterations":null,"speed":null,"fallback_credit":null},"content":[{"type":"text","text":"Not logged in · Please run /login"}],"context_management":null},"parent_tool_use_id":null,"session_id":"94379a89-65fa-47a5-8fca-f1595a5a0d23","uuid":"64c6a27c-a168-42ff-8442-aad5a1af888f","timestamp":"2026-11-22T03:23:11.491Z","error":"authentication_failed","is_api_error_message":true}"#;
        const RESULT: &str = r#"{"duration_api_ms":0,"stop_reason":"stop_sequence","session_id":"94379a89-65fa-47a5-8fca-f1595a5a0d23","total_cost_usd":0,"usage":{"output_tokens_details":{"thinking_tokens":0},"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0,"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":"standard","cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"inference_geo":"","iterations":[],"speed":"standard","fallback_credit":null},"modelUsage":{},"permission_denials":[],"terminal_reason":"api_error","fast_mode_state":"off","fast_mode_disabled_reason":"sdk_opt_in_required","subagent_stats":{"spawned":0,"requested":{"background":0,"foreground":0,"unset":0},"started_in_background":0,"max_depth":0,"spawned_by_subagents":0,"completed":0,"failed":0,"killed":{"parent":0,"user":0,"system":0},"refused":{"depth_limit":0,"concurrency_limit":0,"budget":0},"by_type":{}},"safety_stops":0,"is_error":true,"num_turns":1,"subtype":"success","api_error_status":null,"result":"Not logged in · Please run /login","type":"result","duration_ms":118,"uuid":"47f77ff5-10c9-4b3e-98a8-2f057e0c5529","queued_turn_count":0,"result_index":0,"model_usage_since_last_result":{}}"#;
        let (o, rep) = classify(
            &proc(ExitStatusKind::Code(1)),
            &obs(&[INIT, ASSISTANT, RESULT]),
            OutputFormat::StreamJson,
            T,
        );
        assert_eq!(
            o,
            TaskOutcome::AuthFailure {
                message: "Not logged in · Please run /login".into()
            }
        );
        assert_eq!(
            rep.session_id.as_deref(),
            Some("94379a89-65fa-47a5-8fca-f1595a5a0d23")
        );
        // Either line alone is enough.
        for line in [ASSISTANT, RESULT] {
            let o = run(&proc(ExitStatusKind::Code(1)), &[line]);
            assert!(matches!(o, TaskOutcome::AuthFailure { .. }), "{o:?}");
        }
    }

    #[test]
    fn auth_failure_from_plain_line() {
        let mut o = StreamObserver::new();
        o.observe_stderr("Not logged in · Please run /login");
        let (out, _) = classify(
            &proc(ExitStatusKind::Code(1)),
            &o,
            OutputFormat::StreamJson,
            T,
        );
        assert!(matches!(out, TaskOutcome::AuthFailure { .. }));
    }

    #[test]
    fn usage_limit() {
        let lines = [
            INIT,
            r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1760000000,"rateLimitType":"five_hour","overageStatus":"rejected","isUsingOverage":false},"uuid":"x","session_id":"sess-1"}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"You've hit your session limit · resets 3pm"}]},"session_id":"sess-1","error":"rate_limit"}"#,
            r#"{"type":"result","subtype":"success","is_error":true,"duration_ms":50,"num_turns":1,"result":"You've hit your session limit · resets 3pm","session_id":"sess-1","total_cost_usd":0}"#,
        ];
        let (o, rep) = classify(
            &proc(ExitStatusKind::Code(1)),
            &obs(&lines),
            OutputFormat::StreamJson,
            T,
        );
        assert_eq!(
            o,
            TaskOutcome::UsageLimit {
                resets_at: DateTime::from_timestamp(1_760_000_000, 0),
                message: "You've hit your session limit · resets 3pm".into()
            }
        );
        assert_eq!(rep.session_id.as_deref(), Some("sess-1"));
    }

    #[test]
    fn limit_text_in_a_successful_run_is_ignored() {
        let lines = [
            INIT,
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"The README says: You've hit your session limit · resets 3pm. Not logged in · Please run /login"}]},"session_id":"sess-1"}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"rate limit exceeded\nNot logged in · Please run /login"}]},"session_id":"sess-1"}"#,
            OK,
        ];
        assert_eq!(
            run(&proc(ExitStatusKind::Code(0)), &lines),
            TaskOutcome::Succeeded
        );
        // And in a failed run it is still not a limit or an auth failure.
        let o = run(&proc(ExitStatusKind::Code(1)), &lines[..3]);
        assert!(matches!(o, TaskOutcome::Failed { .. }), "{o:?}");
    }

    #[test]
    fn failure_reasons() {
        // Killed by a signal we did not send (OOM killer).
        let mut p = proc(ExitStatusKind::Signal(9));
        p.tail = vec![INIT.into()];
        let TaskOutcome::Failed { reason, signal, .. } = run(&p, &[INIT]) else {
            panic!()
        };
        assert_eq!(signal, Some(9));
        assert_eq!(reason, "killed by signal 9 (SIGKILL): no output");

        // The CLI's own error on stderr.
        let mut p = proc(ExitStatusKind::Code(1));
        p.tail = vec![
            "[stderr] Error: When using --print, --output-format=stream-json requires --verbose"
                .into(),
        ];
        let TaskOutcome::Failed { reason, .. } = run(&p, &[]) else {
            panic!()
        };
        assert_eq!(
            reason,
            "exit code 1: Error: When using --print, --output-format=stream-json requires --verbose"
        );

        // An API error without a result.
        let o = run(
            &proc(ExitStatusKind::Code(1)),
            &[
                r#"{"type":"assistant","message":{"content":[{"type":"text","text":"API Error: 529 Overloaded"}]},"error":"overloaded"}"#,
            ],
        );
        let TaskOutcome::Failed { reason, .. } = o else {
            panic!()
        };
        assert_eq!(
            reason,
            "exit code 1: API error overloaded: API Error: 529 Overloaded"
        );

        // Long result texts are cut.
        let long = format!(
            r#"{{"type":"result","subtype":"error_max_turns","is_error":true,"result":"{}"}}"#,
            "word ".repeat(200)
        );
        let TaskOutcome::Failed { reason, .. } = run(&proc(ExitStatusKind::Code(1)), &[&long])
        else {
            panic!()
        };
        assert_eq!(reason.chars().count(), REASON_CHARS);
    }
}
