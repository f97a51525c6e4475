//! The seed list of tasks written to `status/roadmap_tasks.txt`.

use super::model::Roadmap;
use std::fmt::Write;

/// One line per task in roadmap order: `PHASE_1:A:A1:Database Schema`.
///
/// This is the format the original orchestrator wrote, kept so existing
/// status directories stay readable.
pub fn roadmap_tasks_txt(roadmap: &Roadmap) -> String {
    let mut out = String::new();
    for (phase, group) in roadmap.groups() {
        for task in &group.tasks {
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "PHASE_{}:{}:{}:{}",
                phase.number, group.id, task.id, task.title
            );
        }
    }
    out
}
