//! The end-of-run summary table and what to do next.

use super::short_duration;
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
    let done = s.tasks.iter().filter(|t| t.outcome.is_success()).count();
    out.push_str(&format!(
        "\n{}  ({done}/{} tasks succeeded, {} group(s) completed, {}, ${:.2})\n",
        s.message,
        s.tasks.len(),
        s.groups_completed.len(),
        short_duration(s.duration),
        s.cost_usd
    ));
    for step in &s.next_steps {
        out.push_str(&format!("  next: {step}\n"));
    }
    out
}
