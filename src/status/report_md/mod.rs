//! The group report `PHASE<N>-GROUP-<X>-STATUS.md` (at the project root, or
//! in `[report] dir`): what a finished group did, for people and for the agents of later groups.
//!
//! Agent-written text (a task's final summary) is untrusted Markdown: it is
//! quoted as a blockquote (every line prefixed with `> `) with its headings
//! turned into bold lines, setext underlines and raw HTML tags neutralised and
//! an unclosed code fence closed, so it cannot end the quote, add sections to
//! the report or hide what follows. Text put in table cells has pipes,
//! backslashes and newlines escaped so it stays in its cell.

mod markdown;

use super::counts::{Counts, Ended, Entry, Role, usd};
use super::{StatusError, records::StepStatus, write_atomic};
use crate::agent::TaskOutcome;
use crate::roadmap::Dialect;
use crate::roadmap::{GroupKey, PhaseId};
use chrono::{DateTime, FixedOffset};
use markdown::{cell, code_span, heading_text, inline_text, quote_block};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the report shows; the caller gathers it when the group ends.
#[derive(Debug, Clone)]
pub struct GroupReportInput {
    pub phase: PhaseId,
    pub phase_title: String,
    pub group_id: String,
    pub group_title: String,
    /// `Parallel` in `### Group A: Database (Parallel)`.
    pub group_annotation: Option<String>,
    /// When the group completed, in the user's zone (`Local::now().fixed_offset()`).
    pub completed_at: DateTime<FixedOffset>,
    /// Wall-clock time of the group (tasks and gate).
    pub duration: Duration,
    /// In roadmap order.
    pub tasks: Vec<TaskReport>,
    /// Paths changed by the group, from git.
    pub changed_files: Vec<String>,
    pub gate: Vec<GateStepReport>,
    /// The runner's own agents (repairs, reviews), in the order they ran.
    pub helpers: Vec<HelperReport>,
}

/// A repair or review agent of the group.
#[derive(Debug, Clone, PartialEq)]
pub struct HelperReport {
    /// `repair-1`, `review-1`.
    pub id: String,
    /// `repair` or `review`.
    pub role: String,
    pub outcome: String,
    pub cost_usd: Option<f64>,
    /// A review's verdict and items: `changes: add a test; fix the limit`.
    pub verdict: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TaskReport {
    pub id: String,
    pub title: String,
    pub outcome: TaskReportOutcome,
    /// All attempts together.
    pub duration: Duration,
    /// Every attempt, over all runs since the group's base, oldest first.
    pub attempts: Vec<AttemptReport>,
    /// The agent's final summary (Markdown, untrusted).
    pub summary: Option<String>,
    /// Relative to the project directory.
    pub log: Option<String>,
    /// The files the task itself changed, when known (`--isolation worktree`).
    pub files: Option<Vec<String>>,
    /// The task split: its sub-roadmap's groups, nested beneath it.
    pub sub: Vec<SubGroupReport>,
}

/// A group of a split task's sub-roadmap, as its parent's section shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubGroupReport {
    /// Scoped: `1:A:A2/1:A`.
    pub id: String,
    pub title: String,
    pub annotation: Option<String>,
    /// `completed`, `pending`...
    pub state: String,
    pub tasks: Vec<SubTaskReport>,
}

/// A task of a sub-roadmap: its latest outcome, and its own sub-roadmap
/// when it split too.
#[derive(Debug, Clone, PartialEq)]
pub struct SubTaskReport {
    /// Scoped: `1:A:A2/1:A:A1`.
    pub id: String,
    pub title: String,
    /// `succeeded`, `failed: exit code 1`; `not run` before it ran.
    pub outcome: String,
    pub attempts: usize,
    pub cost_usd: Option<f64>,
    pub sub: Vec<SubGroupReport>,
}

/// One attempt of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptReport {
    /// `succeeded`, `failed`, `timed out`, ...
    pub outcome: String,
    pub duration: Duration,
    pub cost_usd: Option<f64>,
}

impl TaskReport {
    /// What all attempts cost together; `None` when none reported a cost.
    pub fn cost_usd(&self) -> Option<f64> {
        self.attempts
            .iter()
            .filter_map(|a| a.cost_usd)
            .reduce(|a, b| a + b)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TaskReportOutcome {
    /// The task ran (in this run or an earlier one); its latest outcome.
    Ran(TaskOutcome),
    /// Marked done in the roadmap: not run.
    DoneInRoadmap,
}

#[derive(Debug, Clone)]
pub struct GateStepReport {
    pub name: String,
    /// The command as shown to the user (`cargo test --all`).
    pub command: String,
    pub status: StepStatus,
    pub duration: Option<Duration>,
}

/// `PHASE1-GROUP-A-STATUS.md`.
pub fn report_file_name(key: &GroupKey) -> String {
    format!(
        "PHASE{}-GROUP-{}-STATUS.md",
        crate::roadmap::slug(key.phase.as_str()),
        crate::roadmap::slug(&key.group)
    )
}

/// Where the dialect's reports go by default when `[report] dir` is unset:
/// a roadmap whose every task is its own group (spec-kit, Kiro, GSD,
/// Superpowers) would fill the project root with dozens of them.
pub const GROUP_PER_TASK_REPORT_DIR: &str = "status/reports";

/// The directory of the group reports: `[report] dir` (`configured`, empty
/// when unset), else the project root for a table roadmap, else
/// [`GROUP_PER_TASK_REPORT_DIR`].
pub fn report_dir(project_dir: &Path, configured: &Path, dialect: Dialect) -> PathBuf {
    if !configured.as_os_str().is_empty() {
        return project_dir.join(configured);
    }
    match dialect {
        Dialect::Table => project_dir.to_path_buf(),
        _ => project_dir.join(GROUP_PER_TASK_REPORT_DIR),
    }
}

/// Writes the report atomically in `dir` (the project root unless `[report]
/// dir` says otherwise), creating `dir` if needed; returns its path.
pub fn write_group_report(dir: &Path, key: &GroupKey, text: &str) -> Result<PathBuf, StatusError> {
    let path = dir.join(report_file_name(key));
    std::fs::create_dir_all(dir).map_err(|source| StatusError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    write_atomic(&path, text.as_bytes()).map_err(|source| StatusError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The group's report: a heading, a table of its tasks, a section per task,
/// its helpers, the files changed, the gate and the totals.
pub fn render_group_report(input: &GroupReportInput) -> String {
    let mut out = String::new();
    render_heading(input, &mut out);
    render_task_table(&input.tasks, &mut out);
    for t in &input.tasks {
        render_task(t, &mut out);
    }
    render_helpers(&input.helpers, &mut out);
    render_files(&input.changed_files, &mut out);
    render_gate(&input.gate, &mut out);
    render_totals(input, &mut out);
    let agent_time: Duration = input
        .tasks
        .iter()
        .filter(|t| t.outcome != TaskReportOutcome::DoneInRoadmap)
        .map(|t| t.duration)
        .sum();
    let _ = writeln!(out, "- **Agent time:** {}", fmt_duration(agent_time));
    let _ = writeln!(out, "- **Group time:** {}", fmt_duration(input.duration));
    out
}

/// `# Phase 1 · Group A: Database (Parallel)`, then the phase and when.
fn render_heading(input: &GroupReportInput, out: &mut String) {
    let mut title = format!("Phase {} · Group {}", input.phase, input.group_id);
    if !input.group_title.trim().is_empty() {
        let _ = write!(title, ": {}", input.group_title.trim());
    }
    if let Some(a) = input
        .group_annotation
        .as_deref()
        .filter(|a| !a.trim().is_empty())
    {
        let _ = write!(title, " ({})", a.trim());
    }
    let _ = writeln!(out, "# {}\n", heading_text(&title));

    let mut phase = format!("Phase {}", input.phase);
    if !input.phase_title.trim().is_empty() {
        let _ = write!(phase, ": {}", input.phase_title.trim());
    }
    let _ = writeln!(
        out,
        "{} · completed {} · took {}\n",
        inline_text(&phase),
        input.completed_at.format("%Y-%m-%d %H:%M:%S %:z"),
        fmt_duration(input.duration)
    );
}

/// One row per task; `—` for what a task marked done by hand never had.
fn render_task_table(tasks: &[TaskReport], out: &mut String) {
    out.push_str("| Task | Title | Outcome | Attempts | Duration | Cost |\n");
    out.push_str("|------|-------|---------|---------:|---------:|-----:|\n");
    for t in tasks {
        let ran = matches!(t.outcome, TaskReportOutcome::Ran(_));
        let (attempts, duration) = if ran {
            (t.attempts.len().to_string(), fmt_duration(t.duration))
        } else {
            ("—".into(), "—".into())
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {attempts} | {duration} | {} |",
            cell(&t.id),
            cell(&t.title),
            outcome_badge(&t.outcome),
            fmt_cost(t.cost_usd()),
        );
    }
    out.push('\n');
}

/// A task's section: how it ended, its attempts, cost, log, files and the
/// agent's summary.
fn render_task(t: &TaskReport, out: &mut String) {
    let mut heading = t.id.clone();
    if !t.title.trim().is_empty() {
        let _ = write!(heading, ": {}", t.title.trim());
    }
    let _ = writeln!(out, "## {}\n", heading_text(&heading));
    let outcome = match &t.outcome {
        TaskReportOutcome::DoneInRoadmap => {
            out.push_str("Marked done in the roadmap; not run.\n\n");
            return;
        }
        TaskReportOutcome::Ran(outcome) => outcome,
    };
    let _ = writeln!(
        out,
        "- **Outcome:** {}",
        inline_text(&outcome_detail(outcome))
    );
    let _ = writeln!(out, "- **Duration:** {}", fmt_duration(t.duration));
    let _ = writeln!(out, "- **Attempts:** {}", t.attempts.len());
    if t.attempts.len() > 1 {
        for (i, a) in t.attempts.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. {} after {}, {}",
                i + 1,
                a.outcome,
                fmt_duration(a.duration),
                fmt_cost(a.cost_usd)
            );
        }
    }
    let _ = writeln!(out, "- **Cost:** {}", fmt_cost(t.cost_usd()));
    if let Some(log) = &t.log {
        let _ = writeln!(out, "- **Log:** {}", code_span(log, false));
    }
    if let Some(files) = &t.files {
        let shown: Vec<String> = files.iter().map(|f| code_span(f, false)).collect();
        let shown = if shown.is_empty() {
            "none".into()
        } else {
            shown.join(", ")
        };
        let _ = writeln!(out, "- **Files changed:** {shown}");
    }
    render_sub_roadmap(&t.sub, out);
    out.push('\n');
    match t.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(summary) => out.push_str(&quote_block(summary)),
        None => out.push_str("*The agent left no summary.*\n\n"),
    }
}

/// A split task's sub-roadmap as a nested list: each group with its state,
/// each task with its outcome, deeper splits indented further. Titles come
/// from an agent's file: inline text only.
fn render_sub_roadmap(groups: &[SubGroupReport], out: &mut String) {
    if groups.is_empty() {
        return;
    }
    let tasks = groups.iter().flat_map(|g| &g.tasks);
    let done = tasks
        .clone()
        .filter(|t| t.outcome == TaskOutcome::Succeeded.label())
        .count();
    let _ = writeln!(
        out,
        "- **Sub-roadmap:** {done}/{} sub-tasks done",
        tasks.count()
    );
    render_sub_groups(groups, "  ", out);
}

fn render_sub_groups(groups: &[SubGroupReport], indent: &str, out: &mut String) {
    for g in groups {
        let mut head = format!("Group {}", g.id);
        if !g.title.trim().is_empty() {
            let _ = write!(head, ": {}", g.title.trim());
        }
        if let Some(a) = g.annotation.as_deref().filter(|a| !a.trim().is_empty()) {
            let _ = write!(head, " ({})", a.trim());
        }
        let _ = writeln!(out, "{indent}- {} · {}", inline_text(&head), g.state);
        for t in &g.tasks {
            let mut line = format!("{}: {} · {}", t.id, t.title.trim(), t.outcome);
            if t.attempts > 1 {
                let _ = write!(line, " · {} attempts", t.attempts);
            }
            if let Some(c) = t.cost_usd {
                let _ = write!(line, " · {}", usd(c));
            }
            let _ = writeln!(out, "{indent}  - {}", inline_text(&line));
            render_sub_groups(&t.sub, &format!("{indent}    "), out);
        }
    }
}

fn render_files(changed: &[String], out: &mut String) {
    out.push_str("## Files changed\n\n");
    if changed.is_empty() {
        out.push_str("No files changed.\n\n");
        return;
    }
    for f in changed {
        let _ = writeln!(out, "- {}", code_span(f, false));
    }
    out.push('\n');
}

fn render_gate(gate: &[GateStepReport], out: &mut String) {
    out.push_str("## Gate\n\n");
    if gate.is_empty() {
        out.push_str("No gate steps are configured.\n\n");
        return;
    }
    out.push_str("| Step | Command | Result | Duration |\n");
    out.push_str("|------|---------|--------|---------:|\n");
    for s in gate {
        let command = if s.command.trim().is_empty() {
            "—".to_string()
        } else {
            code_span(&s.command, true)
        };
        let _ = writeln!(
            out,
            "| {} | {command} | {} | {} |",
            cell(&s.name),
            step_badge(s.status),
            s.duration.map_or("—".into(), fmt_duration),
        );
    }
    out.push('\n');
}

/// The group's [`Counts`]: its tasks by latest outcome, its repairs and
/// reviews, and what all of their attempts cost.
pub fn group_counts(input: &GroupReportInput) -> Counts {
    let tasks = input.tasks.iter().map(|t| Entry {
        role: Role::Task,
        ended: match &t.outcome {
            TaskReportOutcome::DoneInRoadmap => Ended::Skipped,
            TaskReportOutcome::Ran(o) => Ended::Ran(o),
        },
        cost_usd: t.cost_usd(),
    });
    let helpers = input.helpers.iter().map(|h| Entry {
        role: Role::from_record(Some(&h.role)),
        ended: Ended::NotStarted,
        cost_usd: h.cost_usd,
    });
    Counts::of(tasks.chain(helpers))
}

/// `## Totals`: the tasks by outcome, repairs and reviews, and the cost of
/// every attempt listed above it.
fn render_totals(input: &GroupReportInput, out: &mut String) {
    out.push_str("## Totals\n\n");
    let c = group_counts(input);
    let _ = write!(
        out,
        "- **Tasks:** {} ({} succeeded",
        input.tasks.len(),
        c.succeeded
    );
    for (n, what) in c.unsuccessful_parts() {
        let _ = write!(out, ", {n} {what}");
    }
    if c.skipped > 0 {
        let _ = write!(out, ", {} done in the roadmap", c.skipped);
    }
    out.push_str(")\n");
    for (n, what) in [(c.repairs, "Repairs"), (c.reviews, "Reviews")] {
        if n > 0 {
            let _ = writeln!(out, "- **{what}:** {n}");
        }
    }
    let any_cost = input.tasks.iter().any(|t| t.cost_usd().is_some())
        || input.helpers.iter().any(|h| h.cost_usd.is_some());
    let cost = if any_cost || c.cost.unreported > 0 {
        c.cost_line()
    } else {
        "—".into()
    };
    let _ = writeln!(out, "- **Cost:** {cost}");
}

/// `Repairs: 1, gate passed after attempt 1`, the reviews' verdicts, and a
/// line per agent; nothing when none ran.
fn render_helpers(helpers: &[HelperReport], out: &mut String) {
    if helpers.is_empty() {
        return;
    }
    out.push_str("## Repairs and reviews\n\n");
    let repairs = helpers.iter().filter(|h| h.role == "repair").count();
    if repairs > 0 {
        let _ = writeln!(
            out,
            "Repairs: {repairs}, gate passed after attempt {repairs}\n"
        );
    }
    for h in helpers.iter().filter(|h| h.role == "review") {
        let verdict = h.verdict.as_deref().unwrap_or("no verdict");
        let _ = writeln!(out, "Review {}: {}\n", h.id, inline_text(verdict));
    }
    out.push_str("| Agent | Outcome | Cost |\n|-------|---------|-----:|\n");
    for h in helpers {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&h.id),
            cell(&h.outcome),
            fmt_cost(h.cost_usd)
        );
    }
    out.push('\n');
}

fn outcome_badge(outcome: &TaskReportOutcome) -> String {
    match outcome {
        TaskReportOutcome::DoneInRoadmap => "☑️ done in roadmap".into(),
        TaskReportOutcome::Ran(o) if o.is_success() => format!("✅ {}", o.label()),
        TaskReportOutcome::Ran(o) => format!("❌ {}", o.label()),
    }
}

pub fn outcome_detail(outcome: &TaskOutcome) -> String {
    match outcome {
        TaskOutcome::Succeeded | TaskOutcome::Interrupted => outcome.label().to_string(),
        TaskOutcome::Failed { reason, .. } => format!("failed: {reason}"),
        TaskOutcome::TimedOut { after_secs } => {
            format!(
                "timed out after {}",
                crate::text::short_duration(Duration::from_secs(*after_secs))
            )
        }
        TaskOutcome::AuthFailure { message } => format!("auth failure: {message}"),
        TaskOutcome::UsageLimit { message, .. } => format!("usage limit: {message}"),
        TaskOutcome::OverBudget { message } => format!("over budget: {message}"),
        TaskOutcome::WorkerLost { message } => format!("worker lost: {message}"),
        TaskOutcome::Split { tasks } => format!("split into {tasks} sub-tasks"),
    }
}

fn step_badge(status: StepStatus) -> String {
    let mark = match status {
        StepStatus::Passed => "✅",
        StepStatus::Failed => "❌",
        StepStatus::Warning => "⚠️",
        StepStatus::NotRun => "➖",
        StepStatus::Unknown => "❔",
    };
    format!("{mark} {}", status.label())
}

/// `12.3s`, `4m 05s`, `1h 02m 03s`.
pub fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!(
            "{}h {:02}m {:02}s",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

fn fmt_cost(cost: Option<f64>) -> String {
    match cost {
        Some(c) => usd(c),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests;
