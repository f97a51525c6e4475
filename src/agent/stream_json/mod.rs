//! Reading Claude Code's `--output-format stream-json` output as it arrives.
//!
//! One JSON object per line: a `system`/`init` event (with `session_id`),
//! `assistant` and `user` messages (text, tool uses, tool results),
//! `rate_limit_event`s, and last a `result` event with `is_error`, `result`,
//! `session_id`, `num_turns`, `duration_ms`, `total_cost_usd`, `usage`.
//!
//! Failure signals come only from structured fields, never from grepping text:
//! agents read and print files that talk about "rate limits" and "not logged
//! in", and such text must never stop a run. The exceptions are narrow:
//! - a whole non-JSON output line (stdout or stderr) that *starts with*
//!   `Not logged in`: the CLI's own message (`Not logged in · Please run /login`);
//! - the `result` text of an `is_error` result: starting with `Not logged in`,
//!   or a usage-limit message (`You've hit your session limit · resets 3pm`).
//!
//! The observer keeps bounded state: the last result, a few short strings.

use crate::config::OutputFormat;
use crate::text::cap_chars;
use chrono::{DateTime, Local, NaiveTime, TimeZone, Utc};
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// The CLI's message when it has no credentials.
pub const NOT_LOGGED_IN: &str = "Not logged in";
/// Longest `last_activity` text, in characters.
pub const ACTIVITY_CHARS: usize = 100;
/// Longest kept result text, in bytes.
pub(super) const RESULT_TEXT_BYTES: usize = 64 * 1024;
/// Longest kept message (errors, not-logged-in line), in characters.
pub(super) const MESSAGE_CHARS: usize = 1000;

/// The `{"type":"result"}` event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultEvent {
    pub is_error: bool,
    pub subtype: Option<String>,
    pub result: Option<String>,
    pub session_id: Option<String>,
    pub num_turns: Option<u64>,
    pub duration_ms: Option<u64>,
    pub total_cost_usd: Option<f64>,
    pub usage: Option<Value>,
    pub structured_output: Option<Value>,
}

/// An `error` field on an assistant message (`authentication_failed`,
/// `rate_limit`, `overloaded`, `billing_error`, `server_error`, ...) and the
/// message's text (the CLI's explanation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: String,
    pub message: Option<String>,
}

/// A `rate_limit_event` whose `rate_limit_info.status` is `rejected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitRejection {
    pub resets_at: Option<DateTime<Utc>>,
    /// `five_hour`, `seven_day`, ...
    pub limit_type: Option<String>,
}

/// The agent hit its usage limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageLimitInfo {
    pub resets_at: Option<DateTime<Utc>>,
    pub message: String,
}

/// What an agent's output said, in the terms of Claude's stream-json; the
/// other dialects ([`super::codex_json`], [`super::gemini_json`]) fill the
/// same state from their own events.
#[derive(Debug, Clone, Default)]
pub struct StreamObserver {
    pub(super) result: Option<ResultEvent>,
    pub(super) session_id: Option<String>,
    pub(super) rate_limit: Option<RateLimitRejection>,
    pub(super) api_error: Option<ApiError>,
    pub(super) not_logged_in: Option<String>,
    pub(super) last_activity: Option<String>,
    pub(super) events: u64,
    pub(super) dialect: OutputFormat,
}

impl StreamObserver {
    /// An observer of Claude's stream-json.
    pub fn new() -> Self {
        Self::default()
    }

    /// An observer of the output the agent prints in `format`.
    pub fn for_output(format: OutputFormat) -> Self {
        StreamObserver {
            dialect: format,
            ..Self::default()
        }
    }

    pub(super) fn plain_line(&mut self, text: &str) {
        if text.starts_with(NOT_LOGGED_IN) {
            self.not_logged_in = Some(cap_chars(text, MESSAGE_CHARS));
        }
    }

    /// One event of Claude's stream-json (see [`super::observe`] for the
    /// other dialects).
    pub(super) fn claude_event(&mut self, v: &Value) {
        if let Some(id) = str_field(v, "session_id") {
            self.session_id = Some(id.to_string());
        }
        match str_field(v, "type") {
            Some("result") => self.result_event(v),
            Some("rate_limit_event") => self.rate_limit_event(v),
            Some("assistant") => self.assistant_event(v),
            _ => {}
        }
    }

    fn result_event(&mut self, v: &Value) {
        let result = str_field(v, "result").map(|s| cap_bytes(s, RESULT_TEXT_BYTES));
        let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false);
        if is_error
            && let Some(text) = &result
            && text.trim_start().starts_with(NOT_LOGGED_IN)
        {
            self.not_logged_in = Some(cap_chars(text.trim(), MESSAGE_CHARS));
        }
        self.result = Some(ResultEvent {
            is_error,
            subtype: str_field(v, "subtype").map(str::to_string),
            result,
            session_id: str_field(v, "session_id").map(str::to_string),
            num_turns: v.get("num_turns").and_then(Value::as_u64),
            duration_ms: v.get("duration_ms").and_then(Value::as_u64),
            total_cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
            usage: v.get("usage").filter(|u| !u.is_null()).cloned(),
            structured_output: v.get("structured_output").filter(|u| !u.is_null()).cloned(),
        });
    }

    fn rate_limit_event(&mut self, v: &Value) {
        let Some(info) = v.get("rate_limit_info") else {
            return;
        };
        let limit_type = str_field(info, "rateLimitType").map(str::to_string);
        if str_field(info, "status") == Some("rejected") {
            let resets_at = info
                .get("resetsAt")
                .and_then(Value::as_f64)
                .and_then(|secs| DateTime::from_timestamp(secs as i64, 0));
            self.rate_limit = Some(RateLimitRejection {
                resets_at,
                limit_type,
            });
        } else if self
            .rate_limit
            .as_ref()
            .is_some_and(|r| r.limit_type == limit_type)
        {
            // The same window is allowed again (the CLI retried past the reset).
            self.rate_limit = None;
        }
    }

    fn assistant_event(&mut self, v: &Value) {
        let message = v.get("message");
        let content = message
            .and_then(|m| m.get("content"))
            .and_then(Value::as_array);
        let error = str_field(v, "error").or_else(|| message.and_then(|m| str_field(m, "error")));
        if let Some(kind) = error {
            let text = content.and_then(|items| {
                items
                    .iter()
                    .filter(|i| str_field(i, "type") == Some("text"))
                    .find_map(|i| str_field(i, "text"))
                    .map(|t| cap_chars(t.trim(), MESSAGE_CHARS))
            });
            self.api_error = Some(ApiError {
                kind: kind.to_string(),
                message: text,
            });
        }
        if let Some(activity) = content.and_then(|items| items.iter().rev().find_map(activity_of)) {
            self.last_activity = Some(activity);
        }
    }

    /// The last `result` event, if any.
    pub fn result(&self) -> Option<&ResultEvent> {
        self.result.as_ref()
    }

    /// The session id: the result's, else the last one any event carried.
    pub fn session_id(&self) -> Option<&str> {
        self.result
            .as_ref()
            .and_then(|r| r.session_id.as_deref())
            .or(self.session_id.as_deref())
    }

    pub fn api_error(&self) -> Option<&ApiError> {
        self.api_error.as_ref()
    }

    pub fn rate_limit(&self) -> Option<&RateLimitRejection> {
        self.rate_limit.as_ref()
    }

    /// What the agent is doing now, for the live view:
    /// `Tool: Edit src/lib.rs` or the first line of its latest text.
    pub fn last_activity(&self) -> Option<&str> {
        self.last_activity.as_deref()
    }

    /// How many JSON events were seen.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// The CLI's own message when it is not logged in or its credentials were
    /// refused (`authentication_failed`).
    pub fn auth_failure(&self) -> Option<String> {
        if let Some(line) = &self.not_logged_in {
            return Some(line.clone());
        }
        let err = self
            .api_error
            .as_ref()
            .filter(|e| e.kind == "authentication_failed")?;
        Some(
            err.message
                .clone()
                .or_else(|| {
                    self.error_result_text()
                        .map(|t| cap_chars(t, MESSAGE_CHARS))
                })
                .unwrap_or_else(|| "authentication failed".into()),
        )
    }

    /// The usage limit, from a rejected `rate_limit_event`, a `rate_limit`
    /// API error, or the text of an `is_error` result that is a limit message.
    pub fn usage_limit(&self) -> Option<UsageLimitInfo> {
        let text = self.error_result_text().filter(|t| is_limit_message(t));
        let api = self.api_error.as_ref().filter(|e| e.kind == "rate_limit");
        if self.rate_limit.is_none() && api.is_none() && text.is_none() {
            return None;
        }
        let message = text
            .map(str::to_string)
            .or_else(|| api.and_then(|e| e.message.clone()))
            .or_else(|| self.error_result_text().map(str::to_string))
            .unwrap_or_else(|| "usage limit reached".into());
        let resets_at = self
            .rate_limit
            .as_ref()
            .and_then(|r| r.resets_at)
            .or_else(|| parse_reset_time(&message, Local::now()));
        Some(UsageLimitInfo {
            resets_at,
            message: cap_chars(first_line(&message), MESSAGE_CHARS),
        })
    }

    /// The result text when the result is an error.
    fn error_result_text(&self) -> Option<&str> {
        self.result
            .as_ref()
            .filter(|r| r.is_error)
            .and_then(|r| r.result.as_deref())
    }

    /// What the agent said about the run, for the status report.
    pub fn report(&self) -> crate::agent::AgentReport {
        let r = self.result.as_ref();
        crate::agent::AgentReport {
            session_id: self.session_id().map(str::to_string),
            num_turns: r.and_then(|r| r.num_turns),
            duration_ms: r.and_then(|r| r.duration_ms),
            cost_usd: r.and_then(|r| r.total_cost_usd),
            usage: r.and_then(|r| r.usage.clone()),
            result_text: r.and_then(|r| r.result.clone()),
            structured_output: r.and_then(|r| r.structured_output.clone()),
        }
    }
}

pub(super) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `Tool: <name> <summary>` for a tool use, the first line for text.
fn activity_of(item: &Value) -> Option<String> {
    match str_field(item, "type")? {
        "tool_use" => Some(tool_activity(
            str_field(item, "name").unwrap_or("?"),
            item.get("input"),
        )),
        "text" => text_activity(str_field(item, "text")?),
        _ => None,
    }
}

/// `Tool: <name> <the first line of its main argument>`.
pub(super) fn tool_activity(name: &str, input: Option<&Value>) -> String {
    let summary = [
        "command",
        "file_path",
        "notebook_path",
        "path",
        "pattern",
        "url",
        "query",
        "description",
        "prompt",
    ]
    .iter()
    .find_map(|k| input.and_then(|i| str_field(i, k)))
    .map(first_line)
    .unwrap_or("");
    let text = format!("Tool: {name} {summary}");
    cap_chars(text.trim_end(), ACTIVITY_CHARS)
}

/// The first line of `text` as an activity, none when blank.
pub(super) fn text_activity(text: &str) -> Option<String> {
    let line = first_line(text);
    (!line.is_empty()).then(|| cap_chars(line, ACTIVITY_CHARS))
}

pub(super) use crate::text::first_nonblank_line as first_line;

pub(super) fn cap_bytes(s: &str, max: usize) -> String {
    crate::text::prefix_at_char(s, max).to_string()
}

static LIMIT_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        usage\ limit\ reached
        | \blimit\ reached\ *[·∙•|-]\ *resets
        | \bhit\ your\ [\w\ -]{0,20}?limit
        | \b(session|weekly|daily|opus|5-hour|five-hour)\ limit\b.*\breset",
    )
    .expect("limit regex")
});

/// Whether an error result's text is a usage-limit message, such as
/// `You've hit your session limit · resets 3pm`, `5-hour limit reached ∙
/// resets 2am` or the older `Claude AI usage limit reached|1750000000`.
pub fn is_limit_message(text: &str) -> bool {
    LIMIT_MESSAGE.is_match(first_line(text))
}

static TRY_AGAIN_IN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\btry again in((?:\s*\d+\s*(?:days?|hours?|minutes?|seconds?),?(?:\s*and)?)+)")
        .expect("try-again regex")
});
static DURATION_PART: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(\d+)\s*(day|hour|minute|second)").expect("part regex"));

/// Codex's `try again in 1 hour 5 minutes` (`2 days 3 hours`, ...).
fn try_again_in(text: &str) -> Option<chrono::Duration> {
    let parts = TRY_AGAIN_IN.captures(text)?;
    let mut secs = 0i64;
    for c in DURATION_PART.captures_iter(&parts[1]) {
        let n: i64 = c[1].parse().ok()?;
        secs += n * match c[2].to_ascii_lowercase().as_str() {
            "day" => 86_400,
            "hour" => 3_600,
            "minute" => 60,
            _ => 1,
        };
    }
    (secs > 0).then(|| chrono::Duration::seconds(secs))
}

static EPOCH_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"limit reached\|(\d{9,11})\b").expect("epoch regex"));
static CLOCK_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:resets(?: at)?|try again at) (\d{1,2})(?::(\d{2}))? ?([ap]m)\b\s*(\()?")
        .expect("clock regex")
});

/// The reset time a limit message names: the `|<epoch>` suffix of the older
/// format, or a clock time (`resets 3pm`, `resets at 10:30am`) taken as the
/// next such time in the local time zone. A time followed by an explicit zone
/// (`resets 3pm (Europe/Paris)`) or a date is not guessed at: `None`.
pub fn parse_reset_time(text: &str, now: DateTime<Local>) -> Option<DateTime<Utc>> {
    if let Some(c) = EPOCH_SUFFIX.captures(text) {
        let secs: i64 = c[1].parse().ok()?;
        return DateTime::from_timestamp(secs, 0);
    }
    if let Some(wait) = try_again_in(text) {
        return Some((now + wait).with_timezone(&Utc));
    }
    let c = CLOCK_TIME.captures(text)?;
    if c.get(4).is_some() {
        return None;
    }
    let mut hour: u32 = c[1].parse().ok()?;
    let minute: u32 = c.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
    if !(1..=12).contains(&hour) {
        return None;
    }
    let pm = c[3].eq_ignore_ascii_case("pm");
    hour = match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    };
    let time = NaiveTime::from_hms_opt(hour, minute, 0)?;
    let today = now.date_naive();
    for day in [today, today.succ_opt()?] {
        let candidate = Local.from_local_datetime(&day.and_time(time)).earliest()?;
        if candidate > now {
            return Some(candidate.with_timezone(&Utc));
        }
    }
    None
}

#[cfg(test)]
mod tests;
