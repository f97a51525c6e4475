//! Plain timestamped lines, one per event: what cron mails and pipes get.
//! Never any terminal escape codes.

use super::short_duration;
use crate::agent::TaskOutcome;
use crate::events::{Event, Reporter};
use std::io::Write;

pub struct PlainReporter<W: Write + Send> {
    out: W,
    /// Agent activity lines are noise in a cron mail; shown with -v.
    show_activity: bool,
}

impl<W: Write + Send> PlainReporter<W> {
    pub fn new(out: W, show_activity: bool) -> Self {
        PlainReporter { out, show_activity }
    }

    fn line(&mut self, tag: &str, text: &str) {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        let _ = writeln!(self.out, "{now} [{tag}] {text}");
    }
}

fn group_name(key: &crate::roadmap::GroupKey) -> String {
    format!("Phase {} Group {}", key.phase, key.group)
}

impl<W: Write + Send> Reporter for PlainReporter<W> {
    fn report(&mut self, event: &Event) {
        match event {
            Event::RunStarted {
                roadmap,
                groups,
                tasks,
                max_parallel,
                timeout,
                dry_run,
            } => {
                let what = if *dry_run { "Dry run" } else { "Run" };
                self.line(
                    "RUN",
                    &format!(
                        "{what}: {roadmap}, {groups} group(s) and {tasks} task(s) to run, {max_parallel} in parallel, timeout {} per task",
                        short_duration(*timeout)
                    ),
                );
            }
            Event::Warning { message } => self.line("WARN", message),
            Event::Note { message } => self.line("NOTE", message),
            Event::GroupStarted {
                key,
                title,
                tasks,
                parallel,
                ..
            } => {
                let title = if title.is_empty() {
                    String::new()
                } else {
                    format!(" ({title})")
                };
                self.line(
                    "GROUP",
                    &format!(
                        "{}{title}: {tasks} tasks, {parallel} in parallel",
                        group_name(key)
                    ),
                );
            }
            Event::TaskStarted {
                task,
                title,
                attempt,
                pid,
                log,
                ..
            } => {
                let again = if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                };
                self.line(
                    "START",
                    &format!("{task}: {title}{again} pid {pid}, log {}", log.display()),
                );
            }
            Event::TaskActivity { task, text, .. } => {
                if self.show_activity {
                    self.line("AGENT", &format!("{task}: {text}"));
                }
            }
            Event::TaskFinished {
                task,
                title,
                outcome,
                duration,
                report,
                log,
                tail,
                ..
            } => {
                let cost = report
                    .cost_usd
                    .map(|c| format!(", ${c:.2}"))
                    .unwrap_or_default();
                let (tag, detail) = match outcome {
                    TaskOutcome::Succeeded => ("DONE", String::new()),
                    TaskOutcome::Failed { reason, .. } => ("FAIL", format!(": {reason}")),
                    TaskOutcome::TimedOut { after_secs } => {
                        ("FAIL", format!(": no result after {after_secs}s, stopped"))
                    }
                    TaskOutcome::Interrupted => ("STOP", String::new()),
                    TaskOutcome::AuthFailure { message } => ("AUTH", format!(": {message}")),
                    TaskOutcome::UsageLimit { message, .. } => ("LIMIT", format!(": {message}")),
                };
                self.line(
                    tag,
                    &format!(
                        "{task}: {title} {} in {}{cost}{detail}",
                        outcome.label(),
                        short_duration(*duration)
                    ),
                );
                if !outcome.is_success() {
                    let lines = super::readable::tail_lines(tail);
                    for l in &lines[lines.len().saturating_sub(5)..] {
                        let _ = writeln!(self.out, "    | {l}");
                    }
                    let _ = writeln!(self.out, "    log: {}", log.display());
                }
            }
            Event::TaskRetry {
                task, attempt, of, ..
            } => self.line("RETRY", &format!("{task}: attempt {attempt} of {of}")),
            Event::UsageLimitWait {
                task,
                until,
                resets_at,
                ..
            } => {
                let resets = resets_at
                    .map(|r| format!(" (limit resets {})", r.format("%Y-%m-%d %H:%M:%S")))
                    .unwrap_or_default();
                self.line(
                    "WAIT",
                    &format!(
                        "{task}: agent usage limit reached{resets}; no new task starts until {}, then {task} resumes",
                        until.format("%Y-%m-%d %H:%M:%S")
                    ),
                );
            }
            Event::UsageLimitResume { task, .. } => {
                self.line("RESUME", &format!("{task}: resuming after the usage limit"))
            }
            Event::GroupFinished {
                key,
                succeeded,
                failed,
                interrupted,
                duration,
            } => self.line(
                "GROUP",
                &format!(
                    "{}: {}, {}",
                    group_name(key),
                    super::group_counts(*succeeded, *failed, *interrupted),
                    short_duration(*duration)
                ),
            ),
            Event::GroupSkipped { key, reason } => {
                self.line("SKIP", &format!("{}: {reason}", group_name(key)))
            }
            Event::GateStarted { key, steps, log } => self.line(
                "GATE",
                &format!(
                    "{}: {} ({}), log {}",
                    group_name(key),
                    crate::project::plural(steps.len(), "step"),
                    steps.join(", "),
                    log.display()
                ),
            ),
            Event::GateStepStarted { step, command, .. } => {
                self.line("GATE", &format!("{step}: $ {command}"))
            }
            Event::GateStepFinished {
                step,
                status,
                duration,
                tail,
                ..
            } => {
                self.line(
                    "GATE",
                    &format!("{step}: {status} in {}", short_duration(*duration)),
                );
                for l in tail.iter().rev().take(10).rev() {
                    let _ = writeln!(self.out, "    | {l}");
                }
            }
            Event::GateFinished { key, passed, log } => {
                let verdict = if *passed { "passed" } else { "FAILED" };
                self.line(
                    "GATE",
                    &format!("{}: gate {verdict}, log {}", group_name(key), log.display()),
                );
            }
            Event::GroupCompleted { key, report } => {
                let report = report
                    .as_ref()
                    .map(|r| format!(", report {}", r.display()))
                    .unwrap_or_default();
                self.line("GROUP", &format!("{}: complete{report}", group_name(key)));
            }
            Event::PhaseCommitted {
                phase,
                title,
                commit,
            } => self.line(
                "COMMIT",
                &format!(
                    "Phase {phase}: {title} committed as {}",
                    &commit[..commit.len().min(12)]
                ),
            ),
            Event::PhasePushed {
                phase,
                remote,
                branch,
            } => {
                let what = phase.map_or("Commits".to_string(), |p| format!("Phase {p}"));
                self.line("PUSH", &format!("{what} pushed to {remote}/{branch}"));
            }
            Event::Stopping { reason } => self.line("STOP", reason),
            Event::RunFinished { summary } => {
                let _ = write!(self.out, "{}", super::summary::render(summary));
            }
        }
        let _ = self.out.flush();
    }
}
