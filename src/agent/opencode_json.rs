//! Reading opencode's `opencode run --format json` output: one JSON event
//! per line, each `{"type", "timestamp", "sessionID", ...}`:
//! `step_start`, `text` (`part.text`, sent when the text part ends),
//! `reasoning`, `tool_use` (`part.tool`, `part.state.input`, sent when the
//! call completed or failed), `step_finish` (`part.cost` in USD and
//! `part.tokens`: input, output, reasoning, cache read and write) and
//! `error` (`error.name`, `error.data.message`, `data.statusCode` for an
//! API error).
//!
//! A run that finished a step and reported no error is the success (with
//! exit 0). opencode reports a cost per step (from its model price list,
//! zero for free models): the steps' costs and tokens are summed.

use super::stream_json::{
    ApiError, MESSAGE_CHARS, RESULT_TEXT_BYTES, ResultEvent, StreamObserver, cap_bytes,
    is_limit_message, str_field, text_activity, tool_activity,
};
use crate::text::cap_chars;
use serde_json::{Value, json};

pub(super) fn event(obs: &mut StreamObserver, v: &Value) {
    if let Some(id) = str_field(v, "sessionID") {
        obs.session_id = Some(id.to_string());
    }
    let part = v.get("part").unwrap_or(&Value::Null);
    match str_field(v, "type") {
        Some("text") => {
            if let Some(text) = str_field(part, "text") {
                let r = obs.result.get_or_insert_with(ResultEvent::default);
                r.result = Some(cap_bytes(text, RESULT_TEXT_BYTES));
                if let Some(a) = text.lines().rev().find_map(text_activity) {
                    obs.last_activity = Some(a);
                }
            }
        }
        Some("tool_use") => {
            let name = str_field(part, "tool").unwrap_or("?");
            let input = part.get("state").and_then(|s| s.get("input"));
            obs.last_activity = Some(tool_activity(name, input));
        }
        Some("step_finish") => step_finish(obs, part),
        Some("error") => error(obs, v.get("error").unwrap_or(&Value::Null)),
        _ => {}
    }
}

/// One model step done: its cost and tokens added to the run's.
fn step_finish(obs: &mut StreamObserver, part: &Value) {
    let session = obs.session_id.clone();
    let failed = obs.api_error.is_some();
    let r = obs.result.get_or_insert_with(ResultEvent::default);
    if !failed {
        r.is_error = false;
        r.subtype = Some("success".into());
    }
    r.session_id = session;
    r.num_turns = Some(r.num_turns.unwrap_or(0) + 1);
    if let Some(cost) = part.get("cost").and_then(Value::as_f64) {
        r.total_cost_usd = Some(r.total_cost_usd.unwrap_or(0.0) + cost);
    }
    if let Some(tokens) = part.get("tokens").filter(|t| t.is_object()) {
        r.usage = Some(add_tokens(r.usage.take(), tokens));
    }
}

/// The run's token counts so far plus one step's.
fn add_tokens(so_far: Option<Value>, step: &Value) -> Value {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let cache = step.get("cache");
    let add = [
        ("input_tokens", n(step.get("input"))),
        ("output_tokens", n(step.get("output"))),
        ("reasoning_tokens", n(step.get("reasoning"))),
        ("cache_read_tokens", n(cache.and_then(|c| c.get("read")))),
        ("cache_write_tokens", n(cache.and_then(|c| c.get("write")))),
    ];
    let mut total = so_far.unwrap_or_else(|| json!({}));
    for (key, value) in add {
        total[key] = json!(n(total.get(key)) + value);
    }
    total
}

/// A session error: an error result with the CLI's message, an API error
/// of the kind its name or HTTP status says.
fn error(obs: &mut StreamObserver, e: &Value) {
    let name = str_field(e, "name").unwrap_or("Error");
    let data = e.get("data").unwrap_or(&Value::Null);
    let message = str_field(data, "message").unwrap_or(name);
    let message = cap_chars(message.trim(), MESSAGE_CHARS);
    let status = data.get("statusCode").and_then(Value::as_u64);
    let kind = if name == "ProviderAuthError" || matches!(status, Some(401 | 403)) {
        "authentication_failed"
    } else if status == Some(429) || is_limit_message(&message) {
        "rate_limit"
    } else {
        "error"
    };
    obs.api_error = Some(ApiError {
        kind: kind.to_string(),
        message: Some(message.clone()),
    });
    let session = obs.session_id.clone();
    let r = obs.result.get_or_insert_with(ResultEvent::default);
    r.is_error = true;
    r.subtype = Some(name.to_string());
    r.result = Some(message);
    r.session_id = session;
}

#[cfg(test)]
mod tests {
    use crate::config::OutputFormat;

    fn observe(lines: &[&str]) -> super::StreamObserver {
        let mut obs = super::StreamObserver::for_output(OutputFormat::OpencodeJson);
        for l in lines {
            obs.observe(l);
        }
        obs
    }

    #[test]
    fn steps_sum_cost_and_tokens() {
        let obs = observe(&[
            r#"{"type":"step_start","timestamp":1796407135517,"sessionID":"ses_1","part":{"type":"step-start"}}"#,
            r#"{"type":"tool_use","timestamp":1796407135600,"sessionID":"ses_1","part":{"type":"tool","tool":"write","state":{"status":"completed","input":{"filePath":"a.txt"}}}}"#,
            r#"{"type":"step_finish","timestamp":1796407135700,"sessionID":"ses_1","part":{"type":"step-finish","reason":"tool-calls","cost":0.01,"tokens":{"input":100,"output":20,"reasoning":0,"cache":{"read":50,"write":0}}}}"#,
            r#"{"type":"text","timestamp":1796407135800,"sessionID":"ses_1","part":{"type":"text","text":"Done: wrote a.txt."}}"#,
            r#"{"type":"step_finish","timestamp":1796407135900,"sessionID":"ses_1","part":{"type":"step-finish","reason":"stop","cost":0.005,"tokens":{"input":10,"output":5,"reasoning":0,"cache":{"read":0,"write":0}}}}"#,
        ]);
        let r = obs.result().unwrap();
        assert!(!r.is_error);
        assert_eq!(obs.session_id(), Some("ses_1"));
        let report = obs.report();
        assert!((report.cost_usd.unwrap() - 0.015).abs() < 1e-9);
        let usage = report.usage.unwrap();
        assert_eq!(usage["input_tokens"], 110);
        assert_eq!(usage["cache_read_tokens"], 50);
        assert_eq!(report.num_turns, Some(2));
        assert_eq!(report.result_text.as_deref(), Some("Done: wrote a.txt."));
    }

    #[test]
    fn errors_by_kind() {
        let obs = observe(&[
            r#"{"type":"error","timestamp":1,"sessionID":"ses_2","error":{"name":"APIError","data":{"message":"invalid x-api-key","statusCode":401,"isRetryable":false}}}"#,
        ]);
        assert!(obs.result().unwrap().is_error);
        assert_eq!(obs.auth_failure().as_deref(), Some("invalid x-api-key"));
        let obs = observe(&[
            r#"{"type":"error","timestamp":1,"sessionID":"s","error":{"name":"APIError","data":{"message":"rate limited","statusCode":429}}}"#,
        ]);
        assert!(obs.usage_limit().is_some());
        // What the real CLI prints without network: a plain error.
        let obs = observe(&[
            r#"{"type":"error","timestamp":1796407135517,"sessionID":"ses_dbdc","error":{"name":"APIError","data":{"message":"Cannot connect to API: Unable to connect. Is the computer able to access the url?","isRetryable":true}}}"#,
        ]);
        assert!(obs.auth_failure().is_none() && obs.usage_limit().is_none());
        // A tool's output that talks about limits is not a limit.
        let obs = observe(&[
            r#"{"type":"text","sessionID":"s","part":{"type":"text","text":"You've hit your usage limit"}}"#,
            r#"{"type":"step_finish","sessionID":"s","part":{"type":"step-finish","cost":0,"tokens":{"input":1,"output":1}}}"#,
        ]);
        assert!(obs.usage_limit().is_none());
        assert!(!obs.result().unwrap().is_error);
    }
}
