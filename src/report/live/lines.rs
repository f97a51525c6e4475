//! The live view's permanent lines: what happened for good, printed above
//! the rows, worded by [`crate::report::words`] and painted by its tones.

use super::rows::MAX_TITLE;
use crate::events::Event;
use crate::report::words::{self, Tone};
use crate::text::{one_line, short_duration};
use console::{StyledObject, measure_text_width as measure, style, truncate_str};
use std::fmt::Write as _;

/// Failure output shown under a failed task's line (the log has all of it).
const TAIL_LINES: usize = 5;

/// `text` in the colour of `tone`.
pub(super) fn paint<D>(tone: Tone, text: D) -> StyledObject<D> {
    let s = style(text);
    match tone {
        Tone::Good => s.green(),
        Tone::Warn => s.yellow(),
        Tone::Bad => s.red(),
        Tone::Quiet => s.dim(),
        Tone::Plain => s,
    }
}

/// The permanent lines an event prints, cut (or wrapped) to `width`, which
/// is asked only by the events that need it. Most events print one line;
/// rows-only events (a task starting, its activity) print none.
pub(super) fn of(event: &Event, width: &dyn Fn() -> usize) -> Vec<String> {
    let h = words::of(event);
    let mark = paint(h.tone, h.mark);
    let line = match event {
        Event::RunStarted {
            roadmap,
            groups,
            tasks,
            max_parallel,
            timeout,
            ..
        } => format!(
            "{} {roadmap}: {}",
            style("roadmap-runner").bold(),
            words::run_scope(*groups, *tasks, *max_parallel, *timeout)
        ),
        Event::Warning { message } => format!(
            "{} {}",
            paint(h.tone, format!("{} warning:", h.mark)),
            one_line(message)
        ),
        Event::Note { message } => {
            paint(h.tone, format!("{} {}", h.mark, one_line(message))).to_string()
        }
        Event::SubRoadmapStarted {
            key,
            task,
            tasks,
            done,
            groups,
            ..
        } => {
            let what = words::sub_roadmap_start(key, task, *tasks, *done, *groups);
            paint(h.tone, format!("{} {what}", h.mark)).to_string()
        }
        Event::PhaseCommitted {
            phase,
            title,
            commit,
        } => format!(
            "{mark} Phase {phase}: {title} committed as {}",
            style(words::short_commit(commit)).bold()
        ),
        Event::PhasePushed {
            phase,
            remote,
            branch,
            commits,
        } => {
            let what = words::pushed_commits(phase.as_ref(), *commits);
            format!("{mark} {what} to {remote}/{branch}")
        }
        Event::Stopping { reason } => return stopping(reason, width()),
        _ => return group_lines(event, width),
    };
    vec![line]
}

/// The lines of a group's events and its gate's.
fn group_lines(event: &Event, width: &dyn Fn() -> usize) -> Vec<String> {
    let h = words::of(event);
    let mark = paint(h.tone, h.mark);
    let line = match event {
        Event::GroupFinished {
            key,
            counts,
            duration,
        } => {
            let line = counts.group_line();
            let tone = if counts.did_not_succeed() > 0 {
                Tone::Bad
            } else {
                Tone::Plain
            };
            format!(
                "{}: {} in {}",
                words::group_name(key),
                paint(tone, line),
                short_duration(*duration)
            )
        }
        Event::GroupSkipped { key, reason } => paint(
            h.tone,
            format!(
                "{} {} skipped: {}",
                h.mark,
                words::group_name(key),
                one_line(reason)
            ),
        )
        .to_string(),
        Event::GateStarted { key, steps, .. } => paint(
            h.tone,
            format!(
                "{} gate: {}",
                words::group_name(key),
                words::gate_steps(steps)
            ),
        )
        .to_string(),
        Event::GateStepFinished {
            step,
            status,
            duration,
            tail,
            ..
        } => {
            let head = format!(
                "{mark} gate: {}  {status}{}",
                style(step).bold(),
                words::step_time(status, *duration)
            );
            let skip = tail.len().saturating_sub(2 * TAIL_LINES);
            return std::iter::once(head)
                .chain(output(&tail[skip..], width()))
                .collect();
        }
        Event::GateFinished { key, passed, log } => {
            let name = words::group_name(key);
            if *passed {
                format!("{mark} {name} gate passed")
            } else {
                let failed = style("FAILED").red().bold();
                format!("{mark} {name} gate {failed}, log {}", log.display())
            }
        }
        Event::GroupCompleted { key, report } => format!(
            "{mark} {} complete{}",
            words::group_name(key),
            style(words::report_suffix(report.as_deref())).dim()
        ),
        _ => return task_lines(event, width),
    };
    vec![line]
}

/// The lines of a task's events, and of the usage-limit wait it causes.
fn task_lines(event: &Event, width: &dyn Fn() -> usize) -> Vec<String> {
    let h = words::of(event);
    let mark = paint(h.tone, h.mark);
    let line = match event {
        Event::TaskFinished { .. } => return task_finished(event, width()),
        Event::TaskRetry {
            task, attempt, of, ..
        } => format!(
            "{mark} {} will be tried again: {}",
            style(task).bold(),
            words::attempt_of(*attempt, *of)
        ),
        Event::UsageLimitWait {
            task,
            until,
            resets_at,
            ..
        } => {
            let resets = resets_at
                .map(|r| format!(" (the limit resets {})", r.format("%H:%M:%S")))
                .unwrap_or_default();
            format!(
                "{mark} usage limit reached{resets}: no new task until {}, then {} resumes",
                until.format("%Y-%m-%d %H:%M:%S"),
                style(task).bold()
            )
        }
        Event::UsageLimitResume { task, .. } => format!(
            "{mark} {} resumes after the usage limit",
            style(task).bold()
        ),
        _ => return Vec::new(),
    };
    vec![line]
}

/// `✘ A2 Migrations  1m 05s  $0.12  failed: exit code 1`, then for a task
/// that failed on its own its last words and its log.
fn task_finished(event: &Event, width: usize) -> Vec<String> {
    let Event::TaskFinished {
        task,
        title,
        attempt,
        outcome,
        duration,
        report,
        log,
        tail,
        ..
    } = event
    else {
        return Vec::new();
    };
    let cost = report
        .cost_usd
        .map(|c| format!("  {}", crate::status::counts::usd(c)))
        .unwrap_or_default();
    let ending = words::ending(outcome);
    let detail = match (ending.label, &ending.reason) {
        (Some(label), Some(reason)) => format!("  {label}: {}", one_line(reason)),
        (Some(label), None) => format!("  {label}"),
        (None, _) => String::new(),
    };
    let mut line = format!(
        "{} {} {}{}  {}{cost}",
        paint(ending.heading.tone, ending.heading.mark),
        style(task).bold(),
        truncate_str(title, MAX_TITLE, "…"),
        words::again(*attempt),
        short_duration(*duration)
    );
    if !detail.is_empty() {
        let detail = truncate_str(&detail, width.saturating_sub(measure(&line)), "…");
        let _ = write!(line, "{}", style(detail.into_owned()).red());
    }
    let mut lines = vec![line];
    if words::shows_tail(outcome) {
        // The agent's last words, readable; its raw events are in the log.
        let said = crate::report::readable::tail_lines(tail);
        let skip = said.len().saturating_sub(TAIL_LINES);
        lines.extend(output(&said[skip..], width));
        lines.push(
            style(format!("    log: {}", log.display()))
                .dim()
                .to_string(),
        );
    }
    lines
}

/// Output lines under an event's line, dimmed and cut to the width.
fn output(lines: &[String], width: usize) -> impl Iterator<Item = String> + '_ {
    lines.iter().map(move |l| {
        let l = format!("    │ {}", one_line(l));
        style(truncate_str(&l, width, "…")).dim().to_string()
    })
}

/// Wrapped, not cut: the stop line says what a second signal does.
fn stopping(reason: &str, width: usize) -> Vec<String> {
    let text = format!("stopping: {}", one_line(reason));
    let mark = paint(Tone::Warn, "■");
    wrap_words(&text, width.saturating_sub(2).max(20))
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{mark} {l}")
            } else {
                format!("{} {l}", style(" "))
            }
        })
        .collect()
}

/// `text` in lines of at most `width` columns, broken between words (a word
/// longer than a line gets a line of its own).
pub(super) fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let wanted = measure(&line) + 1 + measure(word);
        if !line.is_empty() && wanted > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}
