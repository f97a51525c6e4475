//! One wording of events for the reporters that write text: each event's
//! tag (the plain lines' `[DONE]`), mark and tone (the live view's green `✔`),
//! and the phrases both put in their lines. The plain lines and the live view
//! build their sentences from these pieces, so a word changed here changes
//! in both.

use crate::agent::TaskOutcome;
use crate::events::Event;
use crate::roadmap::GroupKey;
use crate::text::{plural, short_duration};
use std::time::Duration;

/// How an event's line reads at a glance: the live view colours its mark
/// (and failure details) by it; plain lines have no colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    /// Information that needs no action: dimmed.
    Quiet,
    Plain,
}

/// An event's words at a glance: the tag of a plain line, the mark of a live
/// line and the tone both share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heading {
    pub tag: &'static str,
    pub mark: &'static str,
    pub tone: Tone,
}

const fn heading(tag: &'static str, mark: &'static str, tone: Tone) -> Heading {
    Heading { tag, mark, tone }
}

/// The heading of every event. Events the live view draws as a row rather
/// than a line (`TaskStarted`, a gate step starting) have a tag and tone
/// all the same, for the plain lines.
pub fn of(event: &Event) -> Heading {
    match event {
        Event::RunStarted { .. } => heading("RUN", "", Tone::Plain),
        Event::Warning { .. } => heading("WARN", "⚠", Tone::Warn),
        Event::Note { .. } => heading("NOTE", "ℹ", Tone::Quiet),
        Event::GroupStarted { .. } | Event::GroupFinished { .. } => {
            heading("GROUP", "", Tone::Plain)
        }
        Event::TaskStarted { .. } => heading("START", "", Tone::Plain),
        Event::TaskActivity { .. } => heading("AGENT", "", Tone::Quiet),
        Event::TaskFinished { outcome, .. } => ending(outcome).heading,
        Event::TaskRetry { .. } => heading("RETRY", "↻", Tone::Warn),
        Event::UsageLimitWait { .. } => heading("WAIT", "⏸", Tone::Warn),
        Event::UsageLimitResume { .. } => heading("RESUME", "↻", Tone::Warn),
        Event::GroupSkipped { .. } => heading("SKIP", "–", Tone::Quiet),
        Event::SubRoadmapStarted { .. } => heading("SPLIT", "⑂", Tone::Quiet),
        Event::GateStarted { .. } | Event::GateStepStarted { .. } => {
            heading("GATE", "", Tone::Quiet)
        }
        Event::GateStepFinished { status, .. } => step_heading(status),
        Event::GateFinished { passed: true, .. } => heading("GATE", "✔", Tone::Good),
        Event::GateFinished { passed: false, .. } => heading("GATE", "✘", Tone::Bad),
        Event::GroupCompleted { .. } => heading("GROUP", "✔", Tone::Good),
        Event::PhaseCommitted { .. } => heading("COMMIT", "●", Tone::Good),
        Event::PhasePushed { .. } => heading("PUSH", "↑", Tone::Good),
        Event::Stopping { .. } => heading("STOP", "■", Tone::Warn),
        Event::RunFinished { .. } => heading("END", "", Tone::Plain),
    }
}

/// How a task ended: its heading, the live view's name for the ending
/// (`timed out`) and the reason given (`exit code 1`).
pub struct Ending {
    pub heading: Heading,
    /// `None` for success: nothing to explain.
    pub label: Option<&'static str>,
    pub reason: Option<String>,
}

pub fn ending(outcome: &TaskOutcome) -> Ending {
    let end = |tag, mark, tone, label, reason: Option<&str>| Ending {
        heading: heading(tag, mark, tone),
        label,
        reason: reason.map(str::to_string),
    };
    match outcome {
        TaskOutcome::Succeeded => end("DONE", "✔", Tone::Good, None, None),
        TaskOutcome::Failed { reason, .. } => {
            end("FAIL", "✘", Tone::Bad, Some("failed"), Some(reason))
        }
        TaskOutcome::TimedOut { after_secs } => Ending {
            reason: Some(format!(
                "no result after {}, stopped",
                short_duration(Duration::from_secs(*after_secs))
            )),
            ..end("FAIL", "✘", Tone::Bad, Some("timed out"), None)
        },
        TaskOutcome::Interrupted => end("STOP", "■", Tone::Warn, Some("interrupted"), None),
        TaskOutcome::AuthFailure { message } => {
            end("AUTH", "✘", Tone::Bad, Some("not logged in"), Some(message))
        }
        TaskOutcome::UsageLimit { message, .. } => {
            end("LIMIT", "⏸", Tone::Warn, Some("usage limit"), Some(message))
        }
        TaskOutcome::OverBudget { message } => end(
            "BUDGET",
            "$",
            Tone::Warn,
            Some("over budget"),
            Some(message),
        ),
        TaskOutcome::WorkerLost { message } => {
            end("LOST", "✘", Tone::Bad, Some("worker lost"), Some(message))
        }
        TaskOutcome::Split { tasks } => Ending {
            reason: Some(format!(
                "split into a sub-roadmap of {}",
                crate::text::plural(*tasks, "task")
            )),
            ..end("SPLIT", "⑂", Tone::Good, Some("split"), None)
        },
    }
}

/// Whether a task's last output is worth showing under its line: it failed
/// on its own (not stopped, not a limit or budget the run hit).
pub fn shows_tail(outcome: &TaskOutcome) -> bool {
    matches!(
        outcome,
        TaskOutcome::Failed { .. } | TaskOutcome::TimedOut { .. } | TaskOutcome::AuthFailure { .. }
    )
}

/// A gate step's result: `passed`, `warning`, anything else failed.
fn step_heading(status: &str) -> Heading {
    match status {
        "passed" => heading("GATE", "✔", Tone::Good),
        "warning" => heading("GATE", "⚠", Tone::Warn),
        _ => heading("GATE", "✘", Tone::Bad),
    }
}

/// `Phase 1 Group A`.
pub fn group_name(key: &GroupKey) -> String {
    format!("Phase {} Group {}", key.phase, key.group)
}

/// `2 groups and 5 tasks to run, 4 in parallel, timeout 1h 00m per task`.
pub fn run_scope(groups: usize, tasks: usize, max_parallel: usize, timeout: Duration) -> String {
    format!(
        "{} and {} to run, {max_parallel} in parallel, timeout {} per task",
        plural(groups, "group"),
        plural(tasks, "task"),
        short_duration(timeout)
    )
}

/// `Phase 1: Foundation · Group A: Database (Parallel, after A)`.
pub fn group_heading(
    key: &GroupKey,
    phase_title: &str,
    title: &str,
    annotation: Option<&str>,
) -> String {
    let mut s = format!("Phase {}", key.phase);
    if !phase_title.is_empty() {
        s.push_str(&format!(": {phase_title}"));
    }
    s.push_str(&format!(" · Group {}", key.group));
    if !title.is_empty() {
        s.push_str(&format!(": {title}"));
    }
    if let Some(a) = annotation.filter(|a| !a.is_empty()) {
        s.push_str(&format!(" ({a})"));
    }
    s
}

/// `3 tasks, 2 in parallel`.
/// `2:D:D1 split into a sub-roadmap of 3 tasks: 2 groups to go`, with
/// `(1 done)` after the tasks when a run resumes inside it.
pub fn sub_roadmap_start(
    key: &GroupKey,
    task: &str,
    tasks: usize,
    done: usize,
    groups: usize,
) -> String {
    let done = match done {
        0 => String::new(),
        n => format!(" ({n} done)"),
    };
    format!(
        "{} split into a sub-roadmap of {}{done}: {} to go",
        key.task_ref(task),
        plural(tasks, "task"),
        plural(groups, "group")
    )
}

pub fn group_size(tasks: usize, parallel: usize) -> String {
    format!("{}, {parallel} in parallel", plural(tasks, "task"))
}

/// ` (attempt 2)`; nothing for a first attempt.
pub fn again(attempt: u32) -> String {
    if attempt > 1 {
        format!(" (attempt {attempt})")
    } else {
        String::new()
    }
}

/// `attempt 2 of 3`.
pub fn attempt_of(attempt: u32, of: u32) -> String {
    format!("attempt {attempt} of {of}")
}

/// `2 steps (lint, test)`.
pub fn gate_steps(steps: &[String]) -> String {
    format!("{} ({})", plural(steps.len(), "step"), steps.join(", "))
}

/// ` in 2.3s`; nothing for a step that did not run (it has no duration).
pub fn step_time(status: &str, d: Duration) -> String {
    if status == "not run" {
        String::new()
    } else {
        format!(" in {}", short_duration(d))
    }
}

/// `, report path`; nothing without a report.
pub fn report_suffix(report: Option<&std::path::Path>) -> String {
    report
        .map(|r| format!(", report {}", r.display()))
        .unwrap_or_default()
}

/// `Phase 2: 1 commit pushed`, `3 commits pushed` (an earlier run's).
pub fn pushed_commits(phase: Option<&crate::roadmap::PhaseId>, commits: usize) -> String {
    let n = plural(commits, "commit");
    match phase {
        Some(p) => format!("Phase {p}: {n} pushed"),
        None => format!("{n} pushed"),
    }
}

/// A commit as people quote it: its first 12 hex digits.
pub fn short_commit(commit: &str) -> &str {
    crate::text::prefix_at_char(commit, 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_read_the_same_in_every_reporter() {
        let e = ending(&TaskOutcome::TimedOut { after_secs: 65 });
        assert_eq!(e.heading.tag, "FAIL");
        assert_eq!(e.label, Some("timed out"));
        assert_eq!(e.reason.as_deref(), Some("no result after 1m 05s, stopped"));
        let ok = ending(&TaskOutcome::Succeeded);
        assert_eq!((ok.heading.mark, ok.label), ("✔", None));
        assert!(!shows_tail(&TaskOutcome::Interrupted));
    }

    #[test]
    fn phrases() {
        assert_eq!(
            run_scope(1, 2, 4, Duration::from_secs(3600)),
            "1 group and 2 tasks to run, 4 in parallel, timeout 1h 00m per task"
        );
        assert_eq!(
            gate_steps(&["lint".into(), "test".into()]),
            "2 steps (lint, test)"
        );
        assert_eq!(step_time("not run", Duration::ZERO), "");
        assert_eq!(again(1), "");
        assert_eq!(short_commit("0123456789abcdef"), "0123456789ab");
        assert_eq!(
            pushed_commits(Some(&2.into()), 1),
            "Phase 2: 1 commit pushed"
        );
        assert_eq!(pushed_commits(None, 3), "3 commits pushed");
    }
}
