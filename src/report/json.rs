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

impl<W: Write + Send> Reporter for JsonReporter<W> {
    fn report(&mut self, event: &Event) {
        let mut value = match serde_json::to_value(event) {
            Ok(v) => v,
            Err(_) => return,
        };
        if let Some(obj) = value.as_object_mut() {
            obj.insert("schema".into(), EVENT_SCHEMA_VERSION.into());
            obj.insert("time".into(), chrono::Local::now().to_rfc3339().into());
        }
        // A closed stdout (e.g. `| head`) must not stop the run.
        let _ = writeln!(self.out, "{value}");
        let _ = self.out.flush();
    }
}
