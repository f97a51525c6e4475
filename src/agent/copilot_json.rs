//! Reading GitHub Copilot CLI's `--output-format json` output: one session
//! event per line, `{"type", "data", "id", "timestamp"}`, the same events
//! it keeps in `~/.copilot/session-state/<id>/events.jsonl`:
//! `session.start` (`data.sessionId`), `assistant.message` (`data.content`),
//! `tool.execution_start` (`data.toolName`, `data.arguments`),
//! `session.error` (`data.errorType`, `data.message`), and last `result`
//! (`sessionId`, `exitCode`, `usage`: premium requests and durations).
//!
//! A `result` with exit code 0 is the success. Copilot counts premium
//! requests, not dollars or tokens: no cost is recorded, the usage object is
//! kept as given. Refused or missing credentials never reach the stream: the
//! CLI says so on stderr and exits 1 (see [`is_auth_line`]).

use super::stream_json::{
    ApiError, MESSAGE_CHARS, RESULT_TEXT_BYTES, ResultEvent, StreamObserver, cap_bytes,
    is_limit_message, str_field, text_activity, tool_activity,
};
use crate::text::cap_chars;
use serde_json::Value;

/// The first lines of Copilot's messages for missing or refused credentials.
const AUTH_LINES: &[&str] = &[
    "Error: No authentication information found",
    "Error: Authentication token found but could not be validated",
    "Error: Classic Personal Access Tokens",
];

/// Whether a stderr line is Copilot's own missing-credentials message.
pub(super) fn is_auth_line(line: &str) -> bool {
    AUTH_LINES.iter().any(|p| line.starts_with(p))
}

pub(super) fn event(obs: &mut StreamObserver, v: &Value) {
    let data = v.get("data").unwrap_or(&Value::Null);
    if let Some(id) = str_field(v, "sessionId").or_else(|| str_field(data, "sessionId")) {
        obs.session_id = Some(id.to_string());
    }
    match str_field(v, "type") {
        Some("assistant.message") => {
            if let Some(text) = str_field(data, "content") {
                let r = obs.result.get_or_insert_with(ResultEvent::default);
                r.result = Some(cap_bytes(text, RESULT_TEXT_BYTES));
                if let Some(a) = text.lines().rev().find_map(text_activity) {
                    obs.last_activity = Some(a);
                }
            }
        }
        Some("tool.execution_start") => {
            let name = str_field(data, "toolName").unwrap_or("?");
            obs.last_activity = Some(tool_activity(name, data.get("arguments")));
        }
        Some("session.error") => session_error(obs, data),
        Some("result") => result(obs, v),
        _ => {}
    }
}

fn session_error(obs: &mut StreamObserver, data: &Value) {
    let message = str_field(data, "message").unwrap_or("the session failed");
    let message = cap_chars(message.trim(), MESSAGE_CHARS);
    let kind = match str_field(data, "errorType") {
        Some("authentication" | "unauthorized") => "authentication_failed",
        Some("rate_limit" | "quota") => "rate_limit",
        _ if is_limit_message(&message) => "rate_limit",
        _ => "error",
    };
    obs.api_error = Some(ApiError {
        kind: kind.to_string(),
        message: Some(message),
    });
}

fn result(obs: &mut StreamObserver, v: &Value) {
    let code = v.get("exitCode").and_then(Value::as_i64);
    let error = obs.api_error.as_ref().and_then(|e| e.message.clone());
    let session = obs.session_id.clone();
    let r = obs.result.get_or_insert_with(ResultEvent::default);
    r.is_error = code != Some(0);
    r.subtype = Some(if r.is_error { "error" } else { "success" }.into());
    r.session_id = session;
    r.usage = v.get("usage").filter(|u| !u.is_null()).cloned();
    r.duration_ms = r
        .usage
        .as_ref()
        .and_then(|u| u.get("sessionDurationMs"))
        .and_then(Value::as_u64);
    if r.is_error && error.is_some() {
        r.result = error;
    }
}

#[cfg(test)]
mod tests {
    use crate::config::OutputFormat;

    fn observe(lines: &[&str]) -> super::StreamObserver {
        let mut obs = super::StreamObserver::for_output(OutputFormat::CopilotJson);
        for l in lines {
            obs.observe(l);
        }
        obs
    }

    #[test]
    fn a_session_with_its_result() {
        let obs = observe(&[
            r#"{"type":"session.start","id":"e1","timestamp":"2026-12-04T18:00:00.000Z","data":{"sessionId":"0cb916db-26aa-40f2-86b5-1ba81b225fd2","copilotVersion":"1.0.102"}}"#,
            r#"{"type":"tool.execution_start","id":"e2","data":{"toolCallId":"t1","toolName":"create","arguments":{"path":"a.txt"}}}"#,
            r#"{"type":"assistant.message","id":"e3","data":{"messageId":"m1","content":"Created a.txt."}}"#,
            r#"{"type":"result","timestamp":"2026-12-04T18:00:05.000Z","sessionId":"0cb916db-26aa-40f2-86b5-1ba81b225fd2","exitCode":0,"usage":{"premiumRequests":1,"totalApiDurationMs":3100,"sessionDurationMs":5000,"codeChanges":{"linesAdded":1,"linesRemoved":0,"filesModified":["a.txt"]}}}"#,
        ]);
        let r = obs.result().unwrap();
        assert!(!r.is_error);
        assert_eq!(
            obs.session_id(),
            Some("0cb916db-26aa-40f2-86b5-1ba81b225fd2")
        );
        let report = obs.report();
        assert_eq!(report.cost_usd, None);
        assert_eq!(report.duration_ms, Some(5000));
        assert_eq!(report.usage.unwrap()["premiumRequests"], 1);
        assert_eq!(report.result_text.as_deref(), Some("Created a.txt."));
    }

    #[test]
    fn errors_and_the_auth_message() {
        let obs = observe(&[
            r#"{"type":"session.error","data":{"errorType":"rate_limit","message":"Sorry, you've hit a rate limit. Please try again in 1 hour."}}"#,
            r#"{"type":"result","sessionId":"s","exitCode":1}"#,
        ]);
        assert!(obs.result().unwrap().is_error);
        assert!(obs.usage_limit().is_some());
        let mut obs = super::StreamObserver::for_output(OutputFormat::CopilotJson);
        obs.observe_stderr("Error: No authentication information found.");
        assert!(obs.auth_failure().is_some());
        // The same words from the model are no signal.
        let obs = observe(&[
            r#"{"type":"assistant.message","data":{"content":"Error: No authentication information found"}}"#,
            r#"{"type":"result","sessionId":"s","exitCode":0}"#,
        ]);
        assert!(obs.auth_failure().is_none());
    }
}
