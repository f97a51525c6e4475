//! Reading Codex's `codex exec --json` output: one JSON event per line.
//!
//! `thread.started` (`thread_id`, the resume handle), `turn.started`,
//! `item.started` / `item.updated` / `item.completed` (an `item` of type
//! `agent_message`, `reasoning`, `command_execution`, `file_change`,
//! `mcp_tool_call`, `web_search`, `todo_list`, `error`), `turn.completed`
//! (`usage`: input, cached input and output tokens), `turn.failed`
//! (`error.message`) and `error` (`message`, a fatal stream error).
//!
//! A completed turn is the success; a failed turn or an `error` event is an
//! error result. Codex reports no cost: only tokens are recorded. As for
//! Claude, only structured fields count: the message of an `error` event is
//! the CLI's own, never text the model read.

use super::stream_json::{
    ApiError, MESSAGE_CHARS, RESULT_TEXT_BYTES, ResultEvent, StreamObserver, cap_bytes,
    is_limit_message, str_field, text_activity, tool_activity,
};
use crate::text::cap_chars;
use serde_json::Value;

/// The kind an `error` message gets when it says the credentials were refused.
const AUTH: &str = "authentication_failed";
const RATE_LIMIT: &str = "rate_limit";

pub(super) fn event(obs: &mut StreamObserver, v: &Value) {
    match str_field(v, "type") {
        Some("thread.started") => {
            if let Some(id) = str_field(v, "thread_id") {
                obs.session_id = Some(id.to_string());
            }
        }
        Some("item.started" | "item.updated" | "item.completed") => {
            if let Some(item) = v.get("item") {
                item_event(obs, item, str_field(v, "type") == Some("item.completed"));
            }
        }
        Some("turn.completed") => turn_completed(obs, v),
        Some("turn.failed") => {
            let message = v.get("error").and_then(|e| str_field(e, "message"));
            failed(obs, message.unwrap_or("the turn failed"));
        }
        Some("error") => failed(obs, str_field(v, "message").unwrap_or("error")),
        _ => {}
    }
}

fn item_event(obs: &mut StreamObserver, item: &Value, completed: bool) {
    let activity = match str_field(item, "type") {
        Some("agent_message") => {
            let text = str_field(item, "text");
            if completed && let Some(text) = text {
                // The last message is the run's summary, as Claude's `result`.
                let result = obs.result.get_or_insert_with(ResultEvent::default);
                result.result = Some(cap_bytes(text, RESULT_TEXT_BYTES));
            }
            text.and_then(text_activity)
        }
        Some("command_execution") => Some(tool_activity("shell", Some(item))),
        Some("file_change") => {
            let path = item
                .get("changes")
                .and_then(Value::as_array)
                .and_then(|c| c.first())
                .and_then(|c| str_field(c, "path"));
            Some(tool_activity(
                "edit",
                path.map(|p| serde_json::json!({ "path": p })).as_ref(),
            ))
        }
        Some("mcp_tool_call") => Some(tool_activity(
            str_field(item, "tool").unwrap_or("mcp"),
            item.get("arguments"),
        )),
        Some("web_search") => Some(tool_activity("web_search", Some(item))),
        _ => None,
    };
    if let Some(a) = activity {
        obs.last_activity = Some(a);
    }
}

fn turn_completed(obs: &mut StreamObserver, v: &Value) {
    let result = obs.result.get_or_insert_with(ResultEvent::default);
    result.is_error = false;
    result.subtype = Some("success".into());
    result.num_turns = Some(result.num_turns.unwrap_or(0) + 1);
    if let Some(usage) = v.get("usage").filter(|u| !u.is_null()) {
        result.usage = Some(usage.clone());
    }
    result.session_id = obs.session_id.clone();
}

/// A failed turn or a stream error: an error result whose text is the
/// CLI's message, and an API error naming the kind when the message is
/// Codex's own for refused credentials or a usage limit.
fn failed(obs: &mut StreamObserver, message: &str) {
    let message = cap_chars(message.trim(), MESSAGE_CHARS);
    let kind = if is_auth_message(&message) {
        AUTH
    } else if is_limit_message(&message) {
        RATE_LIMIT
    } else {
        "error"
    };
    obs.api_error = Some(ApiError {
        kind: kind.to_string(),
        message: Some(message.clone()),
    });
    let result = obs.result.get_or_insert_with(ResultEvent::default);
    result.is_error = true;
    result.subtype = Some("error".into());
    result.result = Some(message);
    result.session_id = obs.session_id.clone();
}

/// Codex's messages for missing or refused credentials: the API's `401
/// Unauthorized` status, or its not-logged-in hint.
fn is_auth_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("401 unauthorized") || m.starts_with("not logged in") || m.contains("codex login")
}

#[cfg(test)]
mod tests {
    use crate::config::OutputFormat;

    fn observe(lines: &[&str]) -> super::StreamObserver {
        let mut obs = super::StreamObserver::for_output(OutputFormat::CodexJson);
        for l in lines {
            obs.observe(l);
        }
        obs
    }

    #[test]
    fn a_completed_turn_with_usage_and_thread_id() {
        let obs = observe(&[
            r#"{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}"#,
            r#"{"type":"turn.started"}"#,
            r#"{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc ls","status":"in_progress"}}"#,
            r#"{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Done: added the parser."}}"#,
            r#"{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}"#,
        ]);
        let r = obs.result().unwrap();
        assert!(!r.is_error);
        assert_eq!(
            obs.session_id(),
            Some("0199a213-81c0-7800-8aa1-bbab2a035a53")
        );
        let report = obs.report();
        assert_eq!(report.cost_usd, None);
        assert_eq!(report.usage.unwrap()["output_tokens"], 122);
        assert_eq!(
            report.result_text.as_deref(),
            Some("Done: added the parser.")
        );
        assert_eq!(obs.last_activity(), Some("Done: added the parser."));
    }

    #[test]
    fn failures_by_kind() {
        let obs = observe(&[
            r#"{"type":"thread.started","thread_id":"t1"}"#,
            r#"{"type":"error","message":"unexpected status 401 Unauthorized: Missing bearer"}"#,
            r#"{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: Missing bearer"}}"#,
        ]);
        assert!(obs.result().unwrap().is_error);
        assert!(obs.auth_failure().unwrap().contains("401"));
        let obs = observe(&[
            r#"{"type":"turn.failed","error":{"message":"You've hit your usage limit. Try again later."}}"#,
        ]);
        assert!(obs.usage_limit().is_some());
        assert!(obs.auth_failure().is_none());
        // A command's output that talks about limits is not a limit.
        let obs = observe(&[
            r#"{"type":"item.completed","item":{"type":"command_execution","command":"cat notes","aggregated_output":"You've hit your usage limit"}}"#,
            r#"{"type":"turn.completed","usage":{}}"#,
        ]);
        assert!(obs.usage_limit().is_none());
    }
}
