//! The end-of-run summary table and what to do next.

use crate::events::RunSummary;
use crate::status::counts::usd;
use crate::text::short_duration;

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
                    t.outcome_label().to_string(),
                    short_duration(t.duration),
                    t.cost_usd.map(usd).unwrap_or_else(|| "-".into()),
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
    out.push_str(&group_times(s));
    let c = &s.counts;
    out.push_str(&format!(
        "\n{}  ({}{}, {} completed, {}, {})\n",
        s.message,
        c.tasks_line(),
        c.helpers_line(),
        crate::text::plural(s.groups_completed.len(), "group"),
        short_duration(s.duration),
        c.cost_line()
    ));
    for step in &s.next_steps {
        out.push_str(&format!("  next: {step}\n"));
    }
    out
}

/// Each group's agents, expected (longest first, from history) against
/// actual; nothing when no group had an expectation.
fn group_times(s: &RunSummary) -> String {
    let timed: Vec<String> = s
        .group_times
        .iter()
        .filter_map(|g| {
            let expected = g.expected?;
            Some(format!(
                "{}:{} expected {}, took {}",
                g.key.phase,
                g.key.group,
                short_duration(expected),
                short_duration(g.duration)
            ))
        })
        .collect();
    if timed.is_empty() {
        return String::new();
    }
    format!(
        "
Group times (longest first): {}
",
        timed.join("; ")
    )
}
