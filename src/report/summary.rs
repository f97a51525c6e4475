//! The end-of-run summary table and what to do next.

use super::short_duration;
use crate::agent::TaskOutcome;
use crate::events::RunSummary;
use crate::runner::budget::Role;

/// `, 2 repairs, 1 review`: the runner's own agents of the run.
fn helper_counts(s: &RunSummary) -> String {
    let n = |role| s.tasks.iter().filter(|t| t.role == role).count();
    let mut out = String::new();
    for (count, what) in [(n(Role::Repair), "repair"), (n(Role::Review), "review")] {
        if count > 0 {
            out.push_str(&format!(", {}", crate::project::plural(count, what)));
        }
    }
    out
}

/// ` (tasks $0.26, repairs $0.02)` when repairs or reviews spent anything.
fn cost_split(s: &RunSummary) -> String {
    let c = &s.costs;
    if c.repairs == 0.0 && c.reviews == 0.0 {
        return String::new();
    }
    let mut parts = vec![format!("tasks ${:.2}", c.tasks)];
    if c.repairs > 0.0 {
        parts.push(format!("repairs ${:.2}", c.repairs));
    }
    if c.reviews > 0.0 {
        parts.push(format!("reviews ${:.2}", c.reviews));
    }
    format!(": {}", parts.join(", "))
}

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
        "\n{}  ({}{}, {} completed, {}, ${:.2}{})\n",
        s.message,
        task_counts(s),
        helper_counts(s),
        crate::project::plural(s.groups_completed.len(), "group"),
        short_duration(s.duration),
        s.cost_usd,
        cost_split(s)
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
    let tasks: Vec<_> = s.tasks.iter().filter(|t| t.role == Role::Task).collect();
    for t in &tasks {
        match &t.outcome {
            _ if t.attempts == 0 => not_started += 1,
            o if o.is_success() => done += 1,
            TaskOutcome::Interrupted => interrupted += 1,
            _ => failed += 1,
        }
    }
    let total = crate::project::plural(tasks.len(), "task");
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
