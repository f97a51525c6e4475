//! `validate`'s picture of an outline reading: each phase, group and task
//! with the source line it came from and the rule that decided it, so a
//! person checks the reading in seconds.

use crate::roadmap::Roadmap;
use crate::roadmap::outline::{Reading, Why};
use std::fmt::Write;

/// Tree lines shown before pointing at `--json` for the rest.
const MAX_LINES: usize = 400;

/// The tree, one line per item: `phase 3 ← heading "## Sprint 3" (sprint) line 12`.
/// Empty when the roadmap was not read by the outline reader.
pub fn render(roadmap: &Roadmap) -> String {
    let Some(reading) = &roadmap.reading else {
        return String::new();
    };
    let mut lines = Vec::new();
    if let Some(plan) = &reading.plan {
        lines.push(format!(
            "plan: lines {}-{} ({}); the rest of the document is not the plan",
            plan.first_line,
            plan.last_line,
            plan.headings.join(", ")
        ));
    }
    for (phase, pw) in roadmap.phases.iter().zip(&reading.phases) {
        let label = format!(
            "phase {}{}{}",
            phase.number,
            quoted(&phase.title),
            done(phase.done_in_roadmap)
        );
        lines.push(line(0, &label, &pw.why));
        for (group, gw) in phase.groups.iter().zip(&pw.groups) {
            lines.push(line(1, &format!("group {}", group.id), &gw.why));
            for (task, tw) in group.tasks.iter().zip(&gw.tasks) {
                let label = format!(
                    "task {}{}{}",
                    task.id,
                    quoted(&task.title),
                    done(task.done_in_roadmap)
                );
                lines.push(line(2, &label, tw));
            }
        }
    }
    for s in &reading.skipped {
        lines.push(format!(
            "not read: {} line {} ({})",
            s.source, s.line, s.rule
        ));
    }
    let mut out = String::new();
    for l in lines.iter().take(MAX_LINES) {
        let _ = writeln!(out, "{l}");
    }
    if lines.len() > MAX_LINES {
        let _ = writeln!(
            out,
            "... and {} more lines (validate --json shows all)",
            lines.len() - MAX_LINES
        );
    }
    out
}

/// The same reading for `validate --json`; `None` for the other dialects.
pub fn json(roadmap: &Roadmap) -> Option<&Reading> {
    roadmap.reading.as_ref()
}

fn line(depth: usize, label: &str, why: &Why) -> String {
    format!(
        "{}{label} ← {} ({}) line {}",
        "  ".repeat(depth),
        why.source,
        why.rule,
        why.line
    )
}

fn quoted(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(" {title:?}")
    }
}

fn done(d: bool) -> &'static str {
    if d { " [done]" } else { "" }
}
