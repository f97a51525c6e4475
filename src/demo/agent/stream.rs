//! The simulated agent's output: Claude Code's stream-json events (or
//! nothing until the end for `text` and `json`), with ids and costs drawn
//! from a seed so parallel agents differ.

use super::{Format, VERSION};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The output in the chosen format.
pub(super) struct Stream<'a> {
    pub(super) format: Format,
    pub(super) out: &'a mut dyn Write,
    pub(super) session_id: String,
    pub(super) model: String,
    pub(super) turns: u64,
    pub(super) seed: u64,
}

impl Stream<'_> {
    fn emit(&mut self, event: &Value) -> std::io::Result<()> {
        if self.format != Format::StreamJson {
            return Ok(());
        }
        writeln!(self.out, "{event}")?;
        self.out.flush()
    }

    pub(super) fn init(&mut self, cwd: &Path) -> std::io::Result<()> {
        let event = json!({
            "type": "system",
            "subtype": "init",
            "cwd": cwd.display().to_string(),
            "session_id": self.session_id,
            "tools": ["Bash", "Glob", "Grep", "Read", "Edit", "Write", "TodoWrite"],
            "mcp_servers": [],
            "model": self.model,
            "permissionMode": "bypassPermissions",
            "apiKeySource": "none",
            "claude_code_version": VERSION,
            "output_style": "default",
            "uuid": uuid_like(self.next_seed()),
        });
        self.emit(&event)
    }

    fn assistant(&mut self, content: Value) -> std::io::Result<()> {
        self.turns += 1;
        let event = json!({
            "type": "assistant",
            "message": {
                "id": format!("msg_{}", self.hex_id()),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": content,
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": 8, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 4200, "output_tokens": 60,
                          "service_tier": "standard"},
            },
            "parent_tool_use_id": null,
            "session_id": self.session_id,
            "uuid": uuid_like(self.next_seed()),
        });
        self.emit(&event)
    }

    pub(super) fn text(&mut self, text: &str) -> std::io::Result<()> {
        self.assistant(json!([{"type": "text", "text": text}]))
    }

    /// A `tool_use` block; returns its id.
    pub(super) fn tool_use(&mut self, name: &str, input: Value) -> std::io::Result<String> {
        let id = format!("toolu_{}", self.hex_id());
        self.assistant(json!([{"type": "tool_use", "id": id, "name": name, "input": input}]))?;
        Ok(id)
    }

    pub(super) fn tool_result(
        &mut self,
        id: &str,
        content: &str,
        is_error: bool,
    ) -> std::io::Result<()> {
        let mut block = json!({"tool_use_id": id, "type": "tool_result", "content": content});
        if is_error {
            block["is_error"] = json!(true);
        }
        let event = json!({
            "type": "user",
            "message": {"role": "user", "content": [block]},
            "parent_tool_use_id": null,
            "session_id": self.session_id,
            "uuid": uuid_like(self.next_seed()),
        });
        self.emit(&event)
    }

    /// The last event (or, in `json`/`text` format, the only output).
    pub(super) fn result(
        &mut self,
        success: bool,
        text: &str,
        duration_ms: u64,
    ) -> std::io::Result<()> {
        let seed = self.seed;
        // A plausible small cost: $0.0080–$0.0479.
        let cost = (80 + seed % 400) as f64 / 10_000.0;
        let event = json!({
            "type": "result",
            "subtype": if success { "success" } else { "error_during_execution" },
            "is_error": !success,
            "duration_ms": duration_ms,
            "duration_api_ms": duration_ms.saturating_sub(40),
            "num_turns": self.turns.max(1),
            "result": text,
            "session_id": self.session_id,
            "total_cost_usd": cost,
            "usage": {
                "input_tokens": 6 + seed % 20,
                "cache_creation_input_tokens": 1800 + (seed >> 8) % 900,
                "cache_read_input_tokens": 11_000 + (seed >> 16) % 6000,
                "output_tokens": 250 + (seed >> 24) % 500,
                "server_tool_use": {"web_search_requests": 0},
                "service_tier": "standard",
            },
            "permission_denials": [],
            "uuid": uuid_like(self.next_seed()),
        });
        match self.format {
            Format::StreamJson => self.emit(&event),
            Format::Json => {
                writeln!(self.out, "{event}")?;
                self.out.flush()
            }
            Format::Text => {
                writeln!(self.out, "{text}")?;
                self.out.flush()
            }
        }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed = mix(self.seed);
        self.seed
    }

    /// 24 hex digits, as in `msg_…` and `toolu_…` ids.
    fn hex_id(&mut self) -> String {
        let (a, b) = (self.next_seed(), self.next_seed());
        format!("{:016x}{:08x}", a, b >> 32)
    }
}

/// A seed from the task id, the clock and the pid: parallel agents differ.
pub(super) fn seed(task: &str) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // FNV-1a over the task id, then the clock and pid mixed in.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in task.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    mix(h ^ nanos ^ (u64::from(std::process::id()) << 32))
}

/// splitmix64's finaliser: a well-spread next value.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random-looking (version 4 shaped) UUID from a seed.
pub(super) fn uuid_like(seed: u64) -> String {
    // Offset so that a uuid never repeats the bits of the next seed.
    let a = mix(seed ^ 0xa5a5_a5a5_a5a5_a5a5);
    let b = mix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}
