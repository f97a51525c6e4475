//! An agent log as a person reads it: what the agent said, the tools it
//! called, the first line of each tool result, and how it ended.
//!
//! Input is the log as the runner writes it: one line per output line,
//! stream-json events verbatim, stderr lines prefixed `[stderr] `. Lines that
//! are not stream-json events (stderr, plain agents' output, a line cut short)
//! are shown as they are, so nothing in the log is ever hidden by a parse
//! failure.
//!
//! ```text
//! ● session 9f1c2d3e-1111-4a2b-8c3d-1234567890ab (claude-sonnet-4-5-20250929)
//! I'll add the schema first.
//! → Write src/db.rs
//!     ↳ File created successfully at: /work/p/src/db.rs
//! → Bash: cargo test --lib
//!     ↳ running 3 tests (+12 lines)
//! ✔ result ($0.0123, 6 turns, 12.0s): Implemented A1.
//! ```

use crate::text::{cap_chars, first_nonblank_line};
use chrono::{DateTime, Local};
use serde_json::Value;

/// Longest tool-call summary, in characters.
const TOOL_CHARS: usize = 120;
/// Longest shown tool-result line, in characters.
const RESULT_LINE_CHARS: usize = 160;

/// Renders a log line by line; keeps what later lines need (the session's
/// working directory, to show file paths relative to it).
#[derive(Debug, Default, Clone)]
pub struct Readable {
    cwd: Option<String>,
}

impl Readable {
    pub fn new() -> Self {
        Self::default()
    }

    /// The readable text of one log line (without its newline; it may span
    /// several lines), or `None` when the line shows nothing (e.g. an event
    /// that only carries bookkeeping).
    pub fn line(&mut self, line: &str) -> Option<String> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim();
        if trimmed.starts_with('{')
            && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed)
            && let Some(kind) = str_field(&v, "type")
        {
            return self.event(kind, &v);
        }
        Some(line.to_string())
    }

    fn event(&mut self, kind: &str, v: &Value) -> Option<String> {
        match kind {
            "system" => self.system(v),
            "assistant" => self.assistant(v),
            "user" => user(v),
            "result" => Some(result(v)),
            "rate_limit_event" => Some(rate_limit(v)),
            // Partial-message events (`--include-partial-messages`) repeat
            // what the assistant events say in full.
            "stream_event" => None,
            other => Some(format!("· {other} event")),
        }
    }

    fn system(&mut self, v: &Value) -> Option<String> {
        match str_field(v, "subtype") {
            Some("init") => {
                self.cwd = str_field(v, "cwd").map(str::to_string);
                let session = str_field(v, "session_id").unwrap_or("?");
                Some(match str_field(v, "model") {
                    Some(model) => format!("● session {session} ({model})"),
                    None => format!("● session {session}"),
                })
            }
            Some(sub) => Some(format!("● system: {sub}")),
            None => None,
        }
    }

    fn assistant(&self, v: &Value) -> Option<String> {
        let message = v.get("message");
        let items = message
            .and_then(|m| m.get("content"))
            .and_then(Value::as_array);
        let error = str_field(v, "error").or_else(|| message.and_then(|m| str_field(m, "error")));
        let mut parts = Vec::new();
        for item in items.into_iter().flatten() {
            match str_field(item, "type") {
                Some("text") => {
                    if let Some(text) = str_field(item, "text") {
                        let text = text.trim_matches('\n');
                        match error {
                            Some(kind) => parts.push(format!("✘ api error ({kind}): {text}")),
                            None => parts.push(text.to_string()),
                        }
                    }
                }
                Some("tool_use") => parts.push(self.tool_use(item)),
                // Thinking and anything new: not for reading.
                _ => {}
            }
        }
        if parts.is_empty()
            && let Some(kind) = error
        {
            parts.push(format!("✘ api error ({kind})"));
        }
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    /// `→ Write src/db.rs`, `→ Bash: cargo test`, `→ TodoWrite`.
    fn tool_use(&self, item: &Value) -> String {
        let name = str_field(item, "name").unwrap_or("?");
        let input = item.get("input");
        let field = |k: &str| input.and_then(|i| str_field(i, k));
        let text = if let Some(path) = ["file_path", "notebook_path"].iter().find_map(|k| field(k))
        {
            format!("→ {name} {}", self.relative(path))
        } else if let Some(s) = [
            "command",
            "pattern",
            "url",
            "query",
            "description",
            "prompt",
            "path",
        ]
        .iter()
        .find_map(|k| field(k))
        {
            format!("→ {name}: {}", first_nonblank_line(s))
        } else {
            format!("→ {name}")
        };
        cap_chars(&text, TOOL_CHARS)
    }

    /// A path under the session's working directory, relative to it.
    fn relative<'a>(&self, path: &'a str) -> &'a str {
        self.cwd
            .as_deref()
            .and_then(|cwd| path.strip_prefix(cwd))
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|rest| !rest.is_empty())
            .unwrap_or(path)
    }
}

/// Tool results, one `    ↳ first line (+N lines)` each; the prompt echo and
/// other user messages show nothing.
fn user(v: &Value) -> Option<String> {
    let items = v
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)?;
    let lines: Vec<String> = items
        .iter()
        .filter(|i| str_field(i, "type") == Some("tool_result"))
        .map(|i| {
            let text = result_text(i.get("content"));
            let mut lines = text.lines().map(str::trim_end).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("(no output)");
            let more = lines.count();
            let mark = if i.get("is_error").and_then(Value::as_bool) == Some(true) {
                "✘ "
            } else {
                ""
            };
            let mut line = format!("    ↳ {mark}{}", cap_chars(first.trim(), RESULT_LINE_CHARS));
            if more > 0 {
                line.push_str(&format!(
                    " (+{more} line{})",
                    if more == 1 { "" } else { "s" }
                ));
            }
            line
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A tool result's content: a string, or a list of `{"type":"text"}` blocks.
fn result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| match str_field(b, "type") {
                Some("text") => str_field(b, "text").map(str::to_string),
                Some(other) => Some(format!("[{other}]")),
                None => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// `✔ result ($0.0123, 6 turns, 12.0s): text` or
/// `✘ error (error_during_execution, 1 turn, 0.1s): text`.
fn result(v: &Value) -> String {
    let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false);
    let mut facts = Vec::new();
    // `success` with `is_error` happens (API errors): the subtype says nothing then.
    if is_error && let Some(sub) = str_field(v, "subtype").filter(|s| *s != "success") {
        facts.push(sub.to_string());
    }
    if let Some(cost) = v.get("total_cost_usd").and_then(Value::as_f64) {
        facts.push(format!("${cost:.4}"));
    }
    if let Some(turns) = v.get("num_turns").and_then(Value::as_u64) {
        facts.push(format!("{turns} turn{}", if turns == 1 { "" } else { "s" }));
    }
    if let Some(ms) = v.get("duration_ms").and_then(Value::as_u64) {
        facts.push(crate::text::short_duration(
            std::time::Duration::from_millis(ms),
        ));
    }
    let mut out = String::from(if is_error { "✘ error" } else { "✔ result" });
    if !facts.is_empty() {
        out.push_str(&format!(" ({})", facts.join(", ")));
    }
    if let Some(text) = str_field(v, "result") {
        out.push_str(": ");
        out.push_str(text.trim_matches('\n'));
    }
    out
}

/// `⏸ rate limit rejected (five_hour), resets 2025-10-09 15:00`.
fn rate_limit(v: &Value) -> String {
    let info = v.get("rate_limit_info");
    let field = |k: &str| info.and_then(|i| str_field(i, k));
    let status = field("status").unwrap_or("?");
    let mark = if status == "rejected" { "⏸" } else { "·" };
    let mut out = format!("{mark} rate limit {status}");
    if let Some(kind) = field("rateLimitType") {
        out.push_str(&format!(" ({kind})"));
    }
    let resets = info
        .and_then(|i| i.get("resetsAt"))
        .and_then(Value::as_f64)
        .and_then(|secs| DateTime::from_timestamp(secs as i64, 0));
    if let Some(at) = resets {
        let at = at.with_timezone(&Local).format("%Y-%m-%d %H:%M");
        out.push_str(&format!(", resets {at}"));
    }
    out
}

/// Whether a log line is the agent's final `{"type":"result"}` event.
pub fn is_result_line(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('{')
        && t.contains("\"result\"")
        && serde_json::from_str::<Value>(t).is_ok_and(|v| str_field(&v, "type") == Some("result"))
}

/// A whole log, rendered (each shown line ends with a newline).
pub fn render(log: &str) -> String {
    let mut r = Readable::new();
    let mut out = String::new();
    for line in log.lines() {
        if let Some(text) = r.line(line) {
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The readable lines of an output tail, for failure messages: the agent's
/// events as text (their JSON is in the log), other lines as they are.
pub fn tail_lines(tail: &[String]) -> Vec<String> {
    let mut readable = Readable::new();
    tail.iter()
        .filter_map(|l| readable.line(l))
        .flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_json_and_stderr_lines_pass_through() {
        let mut r = Readable::new();
        assert_eq!(
            r.line("[stderr] warning: x").as_deref(),
            Some("[stderr] warning: x")
        );
        assert_eq!(r.line("{not json").as_deref(), Some("{not json"));
        assert_eq!(r.line("").as_deref(), Some(""));
        assert_eq!(r.line("[1,2]").as_deref(), Some("[1,2]"));
    }

    #[test]
    fn tool_calls_are_summarised() {
        let mut r = Readable::new();
        r.line(r#"{"type":"system","subtype":"init","cwd":"/w/p","session_id":"s"}"#);
        let call = |name: &str, input: &str| {
            format!(
                r#"{{"type":"assistant","message":{{"content":[{{"type":"tool_use","id":"t","name":"{name}","input":{input}}}]}}}}"#
            )
        };
        let mut show = |l: String| r.line(&l).unwrap();
        assert_eq!(
            show(call("Write", r#"{"file_path":"/w/p/src/db.rs"}"#)),
            "→ Write src/db.rs"
        );
        assert_eq!(
            show(call("Read", r#"{"file_path":"/etc/hosts"}"#)),
            "→ Read /etc/hosts"
        );
        assert_eq!(
            show(call(
                "Bash",
                r#"{"command":"cargo test\nmore","description":"d"}"#
            )),
            "→ Bash: cargo test"
        );
        assert_eq!(show(call("TodoWrite", r#"{"todos":[]}"#)), "→ TodoWrite");
        let long = "x".repeat(300);
        let line = show(call("Bash", &format!(r#"{{"command":"{long}"}}"#)));
        assert_eq!(line.chars().count(), TOOL_CHARS);
    }

    #[test]
    fn tool_results_show_their_first_line() {
        let mut r = Readable::new();
        let l = r#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"t","type":"tool_result","content":"\nrunning 3 tests\ntest a ... ok\ntest b ... ok"}]}}"#;
        assert_eq!(r.line(l).unwrap(), "    ↳ running 3 tests (+2 lines)");
        let l = r#"{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"boom"}],"is_error":true}]}}"#;
        assert_eq!(r.line(l).unwrap(), "    ↳ ✘ boom");
        let l = r#"{"type":"user","message":{"content":"the prompt"}}"#;
        assert_eq!(r.line(l), None);
    }

    #[test]
    fn results() {
        assert_eq!(
            result(
                &serde_json::from_str(
                    r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":12034,"num_turns":6,"result":"Done.","total_cost_usd":0.0123}"#
                )
                .unwrap()
            ),
            "✔ result ($0.0123, 6 turns, 12.0s): Done."
        );
        assert_eq!(
            result(
                &serde_json::from_str(
                    r#"{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":1}"#
                )
                .unwrap()
            ),
            "✘ error (error_during_execution, 1 turn)"
        );
        assert!(is_result_line(r#"{"type":"result","result":"x"}"#));
        assert!(!is_result_line(r#"{"type":"assistant","result":"x"}"#));
        assert!(!is_result_line(r#"[stderr] {"type":"result"}"#));
    }
}
