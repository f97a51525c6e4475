//! `--json`: one JSON object per event on stdout, for scripts.

use crate::events::{EVENT_SCHEMA_VERSION, Event, Reporter};
use std::io::Write;

pub struct JsonReporter<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> JsonReporter<W> {
    pub fn new(out: W) -> Self {
        JsonReporter { out }
    }
}

/// The event as the JSON object `--json` prints: its fields, `schema`, `time`.
pub fn event_value(event: &Event) -> Option<serde_json::Value> {
    let mut value = serde_json::to_value(event).ok()?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("schema".into(), EVENT_SCHEMA_VERSION.into());
        obj.insert("time".into(), chrono::Local::now().to_rfc3339().into());
    }
    Some(value)
}

impl<W: Write + Send> Reporter for JsonReporter<W> {
    fn report(&mut self, event: &Event) {
        let Some(value) = event_value(event) else {
            return;
        };
        // A closed stdout (e.g. `| head`) must not stop the run.
        let _ = writeln!(self.out, "{value}");
        let _ = self.out.flush();
    }
}
