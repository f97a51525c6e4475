//! The end-of-run summary table and what to do next.

use super::short_duration;
use crate::agent::TaskOutcome;
use crate::events::RunSummary;

pub fn render(s: &RunSummary) -> String {
    let mut out = String::new();
    if !s.tasks.is_empty() {
        let rows: Vec<[String; 5]> = s
            .tasks
            .iter()
            .map(|t| {
                [
                    format!("{}:{}", t.key.phase, t.key.group),
                    format!("{} {}", t.task, t.title),
                    // Stopped before its agent ever started (signal, auth, fail-fast).
                    if t.attempts == 0 {
                        "not started".to_string()
                    } else {
                        t.outcome.label().to_string()
                    },
                    short_duration(t.duration),
                    t.cost_usd
                        .map(|c| format!("${c:.2}"))
                        .unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let header = ["GROUP", "TASK", "OUTCOME", "TIME", "COST"].map(String::from);
        let mut widths = header.clone().map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count()).min(60);
            }
        }
        out.push('\n');
        for r in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> = r
                .iter()
                .zip(widths)
                .map(|(c, w)| {
                    let c: String = c.chars().take(w).collect();
                    format!("{c:<w$}")
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\n{}  ({}, {} completed, {}, ${:.2})\n",
        s.message,
        task_counts(s),
        crate::project::plural(s.groups_completed.len(), "group"),
        short_duration(s.duration),
        s.cost_usd
    ));
    for step in &s.next_steps {
        out.push_str(&format!("  next: {step}\n"));
    }
    out
}

/// `1/4 tasks succeeded, 1 failed, 2 interrupted, 1 not started`: what did
/// not succeed, split by why (an interrupted task is not a failure: a plain
/// rerun goes on with it).
fn task_counts(s: &RunSummary) -> String {
    let (mut done, mut failed, mut interrupted, mut not_started) = (0, 0, 0, 0);
    for t in &s.tasks {
        match &t.outcome {
            _ if t.attempts == 0 => not_started += 1,
            o if o.is_success() => done += 1,
            TaskOutcome::Interrupted => interrupted += 1,
            _ => failed += 1,
        }
    }
    let total = crate::project::plural(s.tasks.len(), "task");
    let mut text = format!("{done}/{total} succeeded");
    for (n, what) in [
        (failed, "failed"),
        (interrupted, "interrupted"),
        (not_started, "not started"),
    ] {
        if n > 0 {
            text.push_str(&format!(", {n} {what}"));
        }
    }
    text
}
