//! The group report `PHASE<N>-GROUP-<X>-STATUS.md` (at the project root, or
//! in `[report] dir`): what a finished group did, for people and for the agents of later groups.
//!
//! Agent-written text (a task's final summary) is untrusted Markdown: it is
//! quoted as a blockquote (every line prefixed with `> `) with its headings
//! turned into bold lines, setext underlines and raw HTML tags neutralised and
//! an unclosed code fence closed, so it cannot end the quote, add sections to
//! the report or hide what follows. Text put in table cells has pipes,
//! backslashes and newlines escaped so it stays in its cell.

use super::counts::{Counts, Ended, Entry, Role, usd};
use super::{StatusError, records::StepStatus, write_atomic};
use crate::agent::TaskOutcome;
use crate::roadmap::Dialect;
use crate::roadmap::{GroupKey, PhaseId};
use chrono::{DateTime, FixedOffset};
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

pub fn render_group_report(input: &GroupReportInput) -> String {
    let mut out = String::new();
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

    // Summary table.
    out.push_str("| Task | Title | Outcome | Attempts | Duration | Cost |\n");
    out.push_str("|------|-------|---------|---------:|---------:|-----:|\n");
    for t in &input.tasks {
        let ran = matches!(t.outcome, TaskReportOutcome::Ran(_));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&t.id),
            cell(&t.title),
            outcome_badge(&t.outcome),
            if ran {
                t.attempts.len().to_string()
            } else {
                "—".into()
            },
            if ran {
                fmt_duration(t.duration)
            } else {
                "—".into()
            },
            fmt_cost(t.cost_usd()),
        );
    }
    out.push('\n');

    // One section per task.
    for t in &input.tasks {
        let mut heading = t.id.clone();
        if !t.title.trim().is_empty() {
            let _ = write!(heading, ": {}", t.title.trim());
        }
        let _ = writeln!(out, "## {}\n", heading_text(&heading));
        match &t.outcome {
            TaskReportOutcome::DoneInRoadmap => {
                out.push_str("Marked done in the roadmap; not run.\n\n");
                continue;
            }
            TaskReportOutcome::Ran(outcome) => {
                let _ = writeln!(
                    out,
                    "- **Outcome:** {}",
                    inline_text(&outcome_detail(outcome))
                );
            }
        }
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
        out.push('\n');
        match t.summary.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(summary) => out.push_str(&quote_block(summary)),
            None => out.push_str("*The agent left no summary.*\n\n"),
        }
    }

    render_helpers(&input.helpers, &mut out);
    out.push_str("## Files changed\n\n");
    if input.changed_files.is_empty() {
        out.push_str("No files changed.\n\n");
    } else {
        for f in &input.changed_files {
            let _ = writeln!(out, "- {}", code_span(f, false));
        }
        out.push('\n');
    }

    out.push_str("## Gate\n\n");
    if input.gate.is_empty() {
        out.push_str("No gate steps are configured.\n\n");
    } else {
        out.push_str("| Step | Command | Result | Duration |\n");
        out.push_str("|------|---------|--------|---------:|\n");
        for s in &input.gate {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&s.name),
                if s.command.trim().is_empty() {
                    "—".to_string()
                } else {
                    code_span(&s.command, true)
                },
                step_badge(s.status),
                s.duration.map_or("—".into(), fmt_duration),
            );
        }
        out.push('\n');
    }

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

/// One line of inline text: newlines become spaces, raw HTML tags are
/// escaped.
fn inline_text(s: &str) -> String {
    escape_html_tags(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Inline text for an ATX heading: a trailing `#` would be read as the
/// heading's closing sequence.
fn heading_text(s: &str) -> String {
    let mut t = inline_text(s);
    if t.ends_with('#') {
        t.insert(t.len() - 1, '\\');
    }
    t
}

/// Inline text for a table cell: pipes and backslashes escaped too.
fn cell(s: &str) -> String {
    let t = inline_text(s).replace('\\', "\\\\").replace('|', "\\|");
    if t.is_empty() { " ".into() } else { t }
}

/// `s` as a code span, on one line; in a table cell its pipes are escaped
/// (GFM reads `\|` as `|` inside a code span in a table).
fn code_span(s: &str, in_table: bool) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let s = if in_table { s.replace('|', "\\|") } else { s };
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `<tag`, `</tag`, `<!--`, `<?` become `&lt;...` outside code spans, so no
/// raw HTML reaches the rendered page.
fn escape_html_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        let c = bytes[i];
        if c == b'`' {
            // A code span: a run of n backticks up to the next run of exactly n.
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if let Some(close) = find_backtick_run(&line[i + run..], run) {
                let end = i + run + close + run;
                out.push_str(&line[i..end]);
                i = end;
            } else {
                out.push_str(&line[i..i + run]);
                i += run;
            }
            continue;
        }
        if c == b'<'
            && bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, b'/' | b'!' | b'?'))
        {
            out.push_str("&lt;");
            i += 1;
            continue;
        }
        let ch = line[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Where in `s` a run of exactly `n` backticks starts.
fn find_backtick_run(s: &str, n: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if run == n {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// Untrusted Markdown as a blockquote that cannot affect the rest of the
/// document; ends with a blank line.
pub fn quote_block(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.trim_matches('\n').lines().collect();
    // The quoted lines, without their `> `.
    let mut quoted_lines: Vec<String> = Vec::new();
    // The open fence: its character and length.
    let mut fence: Option<(char, usize)> = None;
    // Whether an indented line here starts or continues indented code (after
    // a blank line or more code); otherwise it continues a paragraph.
    let mut code_may_follow = true;
    for line in lines {
        let line = line.trim_end();
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        let mut heading = false;
        let quoted = if let Some((ch, len)) = fence {
            if indent <= 3
                && fence_run(body)
                    .is_some_and(|(c, n, rest)| c == ch && n >= len && rest.trim().is_empty())
            {
                fence = None;
            }
            line.to_string()
        } else if indent <= 3
            && let Some((ch, n, info)) = fence_run(body)
            && !(ch == '`' && info.contains('`'))
        {
            fence = Some((ch, n));
            line.to_string()
        } else if (indent >= 4 || line.starts_with('\t')) && code_may_follow {
            // Indented code: left as written.
            line.to_string()
        } else if indent >= 4 || line.starts_with('\t') {
            // A paragraph's continuation line: inline text.
            escape_html_tags(line)
        } else if let Some(text) = atx_heading(body) {
            // A heading stands apart, as a paragraph of its own.
            heading = true;
            if text.is_empty() {
                String::new()
            } else {
                format!("**{}**", escape_html_tags(text))
            }
        } else if is_setext_underline(body) {
            format!("{}\\{}", &line[..indent], body)
        } else {
            escape_html_tags(line)
        };
        code_may_follow = fence.is_none()
            && (line.is_empty() || (code_may_follow && (indent >= 4 || line.starts_with('\t'))));
        if heading && quoted_lines.last().is_some_and(|l| !l.is_empty()) {
            quoted_lines.push(String::new());
        }
        quoted_lines.push(quoted);
        if heading {
            quoted_lines.push(String::new());
            code_may_follow = true;
        }
    }
    if let Some((ch, len)) = fence {
        quoted_lines.push(ch.to_string().repeat(len));
    }
    // No blank line twice in a row (a heading next to a blank), none last.
    quoted_lines.dedup_by(|b, a| a.is_empty() && b.is_empty());
    while quoted_lines.last().is_some_and(|l| l.is_empty()) {
        quoted_lines.pop();
    }
    let mut out = String::new();
    for q in quoted_lines {
        if q.is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {q}");
        }
    }
    out.push('\n');
    out
}

/// A code fence opener/closer: its character, length and the rest.
fn fence_run(body: &str) -> Option<(char, usize, &str)> {
    let ch = body.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let n = body.chars().take_while(|&c| c == ch).count();
    (n >= 3).then(|| (ch, n, &body[n..]))
}

/// The text of an ATX heading line (`## Title ##` → `Title`).
fn atx_heading(body: &str) -> Option<&str> {
    let hashes = body.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &body[hashes..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    // An optional closing sequence of `#`s after a space.
    let trimmed = rest.trim_end_matches('#');
    let text = if trimmed.is_empty() || trimmed.ends_with([' ', '\t']) {
        trimmed.trim_end()
    } else {
        rest
    };
    Some(text)
}

fn is_setext_underline(body: &str) -> bool {
    let b = body.trim_end();
    !b.is_empty() && (b.chars().all(|c| c == '=') || b.chars().all(|c| c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name() {
        assert_eq!(
            report_file_name(&GroupKey::new(1, "A")),
            "PHASE1-GROUP-A-STATUS.md"
        );
        assert_eq!(
            report_file_name(&GroupKey::new(12, "AB")),
            "PHASE12-GROUP-AB-STATUS.md"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(fmt_duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(fmt_duration(Duration::from_secs(3723)), "1h 02m 03s");
    }

    #[test]
    fn quoting_neutralises_structure() {
        let q = quote_block(
            "# Done\n\nSome <div> text `<b>` kept\nTitle\n---\n```rust\n# not a heading\n",
        );
        assert_eq!(
            q,
            "> **Done**\n>\n> Some &lt;div> text `<b>` kept\n> Title\n> \\---\n> ```rust\n> # not a heading\n> ```\n\n"
        );
    }

    #[test]
    fn outcome_details_stay_on_one_line() {
        let o = TaskOutcome::Failed {
            exit_code: Some(2),
            signal: None,
            reason: "exit 2:\n<error> in `a<b>`".into(),
        };
        assert_eq!(
            inline_text(&outcome_detail(&o)),
            "failed: exit 2: &lt;error> in `a<b>`"
        );
        assert_eq!(
            outcome_detail(&TaskOutcome::TimedOut { after_secs: 3600 }),
            "timed out after 1h 00m"
        );
        assert_eq!(heading_text("C #"), "C \\#");
    }

    #[test]
    fn cells_and_code_spans_keep_their_column() {
        assert_eq!(cell("a | b \\ c\nd"), "a \\| b \\\\ c d");
        assert_eq!(code_span("echo `x` | tee", true), "``echo `x` \\| tee``");
        assert_eq!(code_span("`x", false), "`` `x ``");
    }
}
