//! The status document as text: the tree, what runs now, and what runs next.

use super::{GroupDoc, InProgressDoc, PhaseDoc, StatusDoc, TaskDoc};
use crate::plan::GroupState;
use crate::project::LoadedRoadmap;
use crate::status::counts::usd;
use crate::text::plural;

pub(super) fn render_text(
    doc: &StatusDoc,
    loaded: &LoadedRoadmap,
    all: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let title = loaded.roadmap.title.as_deref().unwrap_or("Roadmap");
    writeln!(out, "{title} ({}: {})", doc.roadmap, loaded.summary())?;
    render_phases(doc, all, out)?;
    writeln!(out)?;
    if let Some(holder) = &doc.running {
        writeln!(out, "Running now: {holder}")?;
    }
    if let Some(ip) = &doc.in_progress {
        render_in_progress(ip, out)?;
    }
    if let Some(n) = doc.unpushed_commits.filter(|n| *n > 0) {
        writeln!(
            out,
            "Not pushed: {} (the next run pushes before any new work)",
            crate::text::plural(n, "commit")
        )?;
    }
    if let Some(note) = &doc.interrupted {
        writeln!(out, "Note: {note}; the next run resumes it")?;
    }
    render_worktrees(&doc.worktrees, out)?;
    match &doc.next {
        Some(n) => writeln!(out, "Next: {}", n.text),
        None if loaded.error_count() > 0 => writeln!(
            out,
            "Next: nothing can run until {} reads without errors (see above)",
            loaded.display
        ),
        None => writeln!(out, "Next: nothing, every group is complete"),
    }
}

/// The phases, a complete one folded to one line unless `all`.
fn render_phases(doc: &StatusDoc, all: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut folded = 0;
    for phase in &doc.phases {
        let done = phase
            .groups
            .iter()
            .filter(|g| g.state != GroupState::Pending)
            .count();
        let mut head = format!("Phase {}", phase.number);
        if !phase.title.is_empty() {
            head.push_str(&format!(": {}", phase.title));
        }
        let head = format!(
            "{head}  [{done}/{} complete]",
            crate::text::plural(phase.groups.len(), "group")
        );
        // A complete phase is one line: what is left is what matters.
        if done == phase.groups.len() && !phase.groups.is_empty() && !all {
            if folded == 0 {
                writeln!(out)?;
            }
            writeln!(out, "{head}")?;
            folded += 1;
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{head}")?;
        for g in &phase.groups {
            render_group(doc, phase, g, "  ", out)?;
        }
    }
    if folded > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "({} shown on one line: `roadmap-runner status --all` lists their groups and tasks)",
            if folded == 1 {
                "1 complete phase".to_string()
            } else {
                format!("{folded} complete phases")
            }
        )?;
    }
    Ok(())
}

/// The group a live run works on and its running agents.
fn render_in_progress(ip: &InProgressDoc, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if let (Some(group), Some(secs)) = (&ip.group, ip.elapsed_secs) {
        writeln!(out, "  {group}, for {}", elapsed(secs))?;
    }
    for t in &ip.tasks {
        let log = t
            .log
            .as_deref()
            .map(|l| format!(", log {l}"))
            .unwrap_or_default();
        let on = match &t.worker {
            Some(w) => format!("on worker {w}"),
            None => format!("pid {}", t.pid),
        };
        writeln!(
            out,
            "    {} running for {} ({on}{log})",
            t.id,
            elapsed(t.elapsed_secs),
        )?;
    }
    Ok(())
}

/// A group's line (its state, its counts once something ran) and a line
/// per task.
fn render_group(
    doc: &StatusDoc,
    phase: &PhaseDoc,
    g: &GroupDoc,
    indent: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let is_next = !g.running
        && doc.next.as_ref().is_some_and(|n| {
            n.phase.as_ref() == Some(&phase.number) && n.group.as_deref() == Some(g.id.as_str())
        });
    let mark = match g.state {
        GroupState::Completed | GroupState::DoneInRoadmap => "[x]",
        GroupState::Pending if g.running => "[~]",
        GroupState::Pending => "[ ]",
    };
    // A sub-roadmap's group by its scoped id: `Group 1:B:B2/1:A`.
    let mut label = match g.id.contains('/') {
        true => format!("Group {}:{}", phase.number, g.id),
        false => format!("Group {}", g.id),
    };
    if !g.title.is_empty() {
        label.push_str(&format!(": {}", g.title));
    }
    if let Some(a) = &g.annotation {
        label.push_str(&format!(" ({a})"));
    }
    let state = if g.running {
        "running"
    } else {
        g.state.label()
    };
    let counts = match &g.counts {
        Some(c) if g.state == GroupState::Pending => {
            format!(
                "  ({}{}, {})",
                c.group_line(),
                c.helpers_line(),
                c.cost_line()
            )
        }
        _ => String::new(),
    };
    let next = if is_next { "  <- next" } else { "" };
    writeln!(out, "{indent}{mark} {label}  {state}{counts}{next}")?;
    for t in &g.tasks {
        let split = match t.sub_progress() {
            (_, 0) => String::new(),
            (done, total) => format!("  {}", crate::report::splits::progress(done, total)),
        };
        writeln!(
            out,
            "{indent}      {} {}{}{split}",
            t.id,
            t.title,
            task_state(g, t)
        )?;
        // A split task's sub-roadmap beneath it.
        for s in &t.sub {
            render_group(doc, phase, s, &format!("{indent}        "), out)?;
        }
    }
    Ok(())
}

/// `  failed: exit code 1 · 2 attempts · $0.0246 · log logs/…` for a task
/// of a group not complete; `  (done in roadmap)`; nothing before it ran.
fn task_state(g: &GroupDoc, t: &TaskDoc) -> String {
    if t.done_in_roadmap {
        return "  (done in roadmap)".into();
    }
    let Some(state) = t
        .state
        .as_deref()
        .filter(|_| g.state == GroupState::Pending)
    else {
        return String::new();
    };
    let mut parts = vec![match state {
        "running" => format!("running for {}", elapsed(t.elapsed_secs.unwrap_or(0))),
        _ => t.detail.clone().unwrap_or_else(|| state.to_string()),
    }];
    if t.attempts > 0 && state != "queued" {
        parts.push(plural(t.attempts, "attempt"));
    }
    if let Some(c) = t.cost_usd.filter(|_| state != "queued") {
        parts.push(usd(c));
    }
    if let Some(log) = t.log.as_deref().filter(|_| state != "queued") {
        parts.push(format!("log {log}"));
    }
    format!("  {}", parts.join(" · "))
}

fn elapsed(secs: i64) -> String {
    crate::text::short_duration(std::time::Duration::from_secs(secs.max(0) as u64))
}

/// `Worktrees: 2, 1.3 MB` and one line per worktree.
fn render_worktrees(
    list: &[crate::worktree::WorktreeInfo],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_000_000.0);
    let total = list.iter().map(|w| w.bytes).sum();
    writeln!(out, "Worktrees: {}, {}", list.len(), mb(total))?;
    for w in list {
        let gone = if w.missing {
            "  (directory gone: `roadmap-runner clean` prunes it)"
        } else {
            ""
        };
        writeln!(
            out,
            "  {}  {}  {}{gone}",
            w.name,
            mb(w.bytes),
            w.path.display()
        )?;
    }
    Ok(())
}
