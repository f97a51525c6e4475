//! What drafting reports as it goes, for `init --goal --json`
//! (and so for `POST /orchestrate` and the MCP tool, whose runs are that
//! command): one JSON object per line on stdout and in an events file of
//! its own (`logs/orchestrator/events_<stamp>.jsonl`), in the shape of the
//! run's events (`event`, `schema`, `time`), so `serve` streams them
//! before the run's.

use super::Call;
use crate::events::EVENT_SCHEMA_VERSION;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DraftEvent {
    /// The agent is asked for the first time.
    DraftingStarted {
        /// `init` or `import`.
        name: String,
        attempts: u32,
        plan_file: PathBuf,
    },
    /// One agent call ended.
    DraftingAttempt {
        attempt: u32,
        of: u32,
        outcome: String,
        session_id: Option<String>,
        cost_usd: Option<f64>,
        log: PathBuf,
    },
    /// The answer did not validate: what goes back to the agent.
    DraftingDiagnostics {
        attempt: u32,
        of: u32,
        problems: String,
    },
    /// A roadmap validated and was written.
    DraftingDone {
        roadmap: String,
        phases: usize,
        groups: usize,
        tasks: usize,
        calls: usize,
        cost_usd: Option<f64>,
    },
    /// No roadmap: nothing was written.
    DraftingFailed { message: String, exit_code: i32 },
}

impl DraftEvent {
    /// An agent call of the drafting, as its event.
    pub fn attempt(call: &Call, of: u32) -> DraftEvent {
        DraftEvent::DraftingAttempt {
            attempt: call.attempt,
            of,
            outcome: call.outcome.clone(),
            session_id: call.session_id.clone(),
            cost_usd: call.cost_usd,
            log: call.log.clone(),
        }
    }
}

/// The JSON lines: to `out` and to the drafting's events file.
pub struct JsonEvents<'a> {
    out: &'a mut dyn Write,
    file: Option<std::fs::File>,
}

impl<'a> JsonEvents<'a> {
    /// A new events file in `dir`; without one (read-only project) the
    /// events still go to `out`, with a warning in the log.
    pub fn new(out: &'a mut dyn Write, dir: &Path) -> JsonEvents<'a> {
        let file = match crate::report::event_log::create(dir) {
            Ok((file, _)) => Some(file),
            Err(e) => {
                tracing::warn!("cannot create the events file in {}: {e}", dir.display());
                None
            }
        };
        JsonEvents { out, file }
    }

    pub fn report(&mut self, event: &DraftEvent) {
        let Ok(mut value) = serde_json::to_value(event) else {
            return;
        };
        if let Some(obj) = value.as_object_mut() {
            obj.insert("schema".into(), EVENT_SCHEMA_VERSION.into());
            obj.insert("time".into(), chrono::Local::now().to_rfc3339().into());
        }
        // One write per line: a reader tailing the file sees whole lines.
        let line = format!("{value}\n");
        let _ = self.out.write_all(line.as_bytes());
        let _ = self.out.flush();
        if let Some(f) = self.file.as_mut() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_json_lines_in_the_runs_shape_on_both_sinks() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let mut events = JsonEvents::new(&mut out, dir.path());
        events.report(&DraftEvent::DraftingDiagnostics {
            attempt: 1,
            of: 3,
            problems: "duplicate task id `A1`".into(),
        });
        drop(events);
        let line: serde_json::Value =
            serde_json::from_slice(&out[..out.len() - 1]).expect("one JSON line");
        assert_eq!(line["event"], "drafting_diagnostics");
        assert_eq!(line["schema"], EVENT_SCHEMA_VERSION);
        assert!(line["time"].is_string());
        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(std::fs::read(file.path()).unwrap(), out);
    }
}
