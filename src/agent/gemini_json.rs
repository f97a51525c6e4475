//! Reading Gemini CLI's `--output-format stream-json` output: JSONL events
//! `init` (`session_id`, `model`), `message` (`role`, `content`, `delta`),
//! `tool_use` (`tool_name`, `parameters`), `tool_result`, `error`
//! (`severity`, `message`) and last `result` (`status` `success` or `error`,
//! `error.message`, `stats` with token counts and `duration_ms`).
//!
//! Its exit status says more than Claude's: 41 is an authentication failure,
//! 42 bad input (an unknown flag, an empty prompt), 53 the turn limit. Gemini
//! reports no cost: only tokens are recorded.

use super::stream_json::{
    ApiError, MESSAGE_CHARS, RESULT_TEXT_BYTES, ResultEvent, StreamObserver, cap_bytes,
    is_limit_message, str_field, text_activity, tool_activity,
};
use crate::text::cap_chars;
use serde_json::Value;

/// Gemini's exit status for missing or refused credentials.
pub const EXIT_AUTH: i32 = 41;
/// Invalid prompt or arguments.
pub const EXIT_INPUT: i32 = 42;
/// The session's turn limit was reached.
pub const EXIT_TURN_LIMIT: i32 = 53;

/// What a Gemini exit status means, when it says more than "failed".
pub fn exit_meaning(code: i32) -> Option<&'static str> {
    match code {
        EXIT_AUTH => Some("authentication failed"),
        EXIT_INPUT => Some("input error (invalid prompt or arguments)"),
        EXIT_TURN_LIMIT => Some("turn limit exceeded"),
        _ => None,
    }
}

pub(super) fn event(obs: &mut StreamObserver, v: &Value) {
    match str_field(v, "type") {
        Some("init") => {
            if let Some(id) = str_field(v, "session_id").or_else(|| str_field(v, "sessionId")) {
                obs.session_id = Some(id.to_string());
            }
        }
        Some("message") if str_field(v, "role") == Some("assistant") => message(obs, v),
        Some("tool_use") => {
            let name = str_field(v, "tool_name").unwrap_or("?");
            obs.last_activity = Some(tool_activity(name, v.get("parameters")));
        }
        Some("error") if str_field(v, "severity") != Some("warning") => {
            if let Some(m) = str_field(v, "message") {
                obs.api_error = Some(api_error(m));
            }
        }
        Some("result") => result(obs, v),
        _ => {}
    }
}

/// Assistant text comes in chunks (`delta: true`): the result text is
/// their concatenation, the activity its latest line.
fn message(obs: &mut StreamObserver, v: &Value) {
    let Some(content) = str_field(v, "content") else {
        return;
    };
    let r = obs.result.get_or_insert_with(ResultEvent::default);
    let mut text = r.result.take().unwrap_or_default();
    if v.get("delta").and_then(Value::as_bool) != Some(true) {
        text.clear();
    }
    text.push_str(content);
    r.result = Some(cap_bytes(&text, RESULT_TEXT_BYTES));
    if let Some(a) = text.lines().rev().find_map(text_activity) {
        obs.last_activity = Some(a);
    }
}

fn result(obs: &mut StreamObserver, v: &Value) {
    let error = v.get("error").and_then(|e| str_field(e, "message"));
    let is_error = str_field(v, "status") != Some("success");
    let stats = v.get("stats").filter(|s| !s.is_null());
    let r = obs.result.get_or_insert_with(ResultEvent::default);
    r.is_error = is_error;
    r.subtype = str_field(v, "status").map(str::to_string);
    r.session_id = obs.session_id.clone();
    r.usage = stats.cloned();
    r.duration_ms = stats
        .and_then(|s| s.get("duration_ms"))
        .and_then(Value::as_u64);
    if is_error {
        let message = error.unwrap_or("the agent reported an error");
        r.result = Some(cap_chars(message, MESSAGE_CHARS));
        obs.api_error = Some(api_error(message));
    }
}

/// An error the CLI reported; a usage limit when it is the API's quota
/// refusal (429 / `RESOURCE_EXHAUSTED`).
fn api_error(message: &str) -> ApiError {
    let m = message.to_ascii_lowercase();
    let quota = m.contains("resource_exhausted")
        || m.contains("quota exceeded")
        || m.contains("status 429")
        || is_limit_message(message);
    ApiError {
        kind: if quota { "rate_limit" } else { "error" }.to_string(),
        message: Some(cap_chars(message.trim(), MESSAGE_CHARS)),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::OutputFormat;

    fn observe(lines: &[&str]) -> super::StreamObserver {
        let mut obs = super::StreamObserver::for_output(OutputFormat::GeminiJson);
        for l in lines {
            obs.observe(l);
        }
        obs
    }

    #[test]
    fn a_successful_session() {
        let obs = observe(&[
            r#"{"type":"init","timestamp":"2025-10-10T12:00:00.000Z","session_id":"abc123","model":"gemini-2.5-pro"}"#,
            r#"{"type":"message","role":"user","content":"do it"}"#,
            r#"{"type":"tool_use","tool_name":"write_file","tool_id":"t1","parameters":{"file_path":"a.txt","content":"x"}}"#,
            r#"{"type":"tool_result","tool_id":"t1","status":"success"}"#,
            r#"{"type":"message","role":"assistant","content":"All ","delta":true}"#,
            r#"{"type":"message","role":"assistant","content":"done.","delta":true}"#,
            r#"{"type":"result","status":"success","stats":{"total_tokens":300,"input_tokens":250,"output_tokens":50,"duration_ms":1200,"tool_calls":1}}"#,
        ]);
        let r = obs.result().unwrap();
        assert!(!r.is_error);
        assert_eq!(obs.session_id(), Some("abc123"));
        let report = obs.report();
        assert_eq!(report.result_text.as_deref(), Some("All done."));
        assert_eq!(report.duration_ms, Some(1200));
        assert_eq!(report.cost_usd, None);
        assert_eq!(report.usage.unwrap()["total_tokens"], 300);
    }

    #[test]
    fn errors_and_quota() {
        let obs = observe(&[
            r#"{"type":"error","severity":"warning","message":"Loop detected"}"#,
            r#"{"type":"result","status":"error","error":{"type":"Error","message":"[API Error: got status 429 Too Many Requests. RESOURCE_EXHAUSTED]"}}"#,
        ]);
        assert!(obs.result().unwrap().is_error);
        assert!(obs.usage_limit().is_some());
        let obs = observe(&[
            r#"{"type":"result","status":"error","error":{"type":"Error","message":"boom"}}"#,
        ]);
        assert!(obs.usage_limit().is_none());
    }
}
