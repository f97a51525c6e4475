//! Feeding an agent's output to the [`StreamObserver`]: each JSON line goes
//! to the reader of the agent's dialect (Claude's stream-json here in
//! `stream_json`, Codex's and Gemini's JSONL in their own modules), which
//! all fill the same state; any other line is looked at as plain text.

use super::stream_json::{MESSAGE_CHARS, StreamObserver};
use super::{codex_json, copilot_json, gemini_json, opencode_json};
use crate::config::OutputFormat;
use serde_json::Value;

impl StreamObserver {
    /// Feeds one stdout line.
    pub fn observe(&mut self, line: &str) {
        let text = line.trim();
        if text.starts_with('{') {
            if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
                self.event(&v);
            }
            return;
        }
        self.plain(text);
    }

    /// Feeds one stderr line: only the CLI's not-logged-in message counts.
    pub fn observe_stderr(&mut self, line: &str) {
        self.plain(line.trim());
    }

    /// A line that is not a JSON event: Claude's not-logged-in line, or
    /// Copilot's, which says so on stderr before any event.
    fn plain(&mut self, text: &str) {
        if self.dialect == OutputFormat::CopilotJson && copilot_json::is_auth_line(text) {
            self.not_logged_in = Some(crate::text::cap_chars(text, MESSAGE_CHARS));
            return;
        }
        self.plain_line(text);
    }

    fn event(&mut self, v: &Value) {
        self.events += 1;
        match self.dialect {
            OutputFormat::CodexJson => codex_json::event(self, v),
            OutputFormat::GeminiJson => gemini_json::event(self, v),
            OutputFormat::OpencodeJson => opencode_json::event(self, v),
            OutputFormat::CopilotJson => copilot_json::event(self, v),
            OutputFormat::StreamJson | OutputFormat::Plain => self.claude_event(v),
        }
    }
}
