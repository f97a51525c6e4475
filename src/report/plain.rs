//! Plain timestamped lines, one per event: what cron mails and pipes get.
//! Never any terminal escape codes.

use crate::agent::TaskOutcome;
use crate::events::{Event, Reporter};
use crate::text::short_duration;
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
                max_cost,
            } => {
                let what = if *dry_run { "Dry run" } else { "Run" };
                let budget = max_cost
                    .map(|c| format!(", budget ${c:.2}"))
                    .unwrap_or_default();
                self.line(
                    "RUN",
                    &format!(
                        "{what}: {roadmap}, {} and {} to run, {max_parallel} in parallel, timeout {} per task{budget}",
                        crate::text::plural(*groups, "group"),
                        crate::text::plural(*tasks, "task"),
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
                        "{}{title}: {}, {parallel} in parallel",
                        group_name(key),
                        crate::text::plural(*tasks, "task")
                    ),
                );
            }
            Event::TaskStarted {
                task,
                title,
                attempt,
                pid,
                log,
                worker,
                ..
            } => {
                let again = if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                };
                let on = match worker {
                    Some(w) => format!("on worker {w}"),
                    None => format!("pid {pid}"),
                };
                self.line(
                    "START",
                    &format!("{task}: {title}{again} {on}, log {}", log.display()),
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
                    .map(|c| format!(", {}", crate::status::counts::usd(c)))
                    .unwrap_or_default();
                let (tag, detail) = match outcome {
                    TaskOutcome::Succeeded => ("DONE", String::new()),
                    TaskOutcome::Failed { reason, .. } => ("FAIL", format!(": {reason}")),
                    TaskOutcome::TimedOut { after_secs } => {
                        let after = short_duration(std::time::Duration::from_secs(*after_secs));
                        ("FAIL", format!(": no result after {after}, stopped"))
                    }
                    TaskOutcome::Interrupted => ("STOP", String::new()),
                    TaskOutcome::AuthFailure { message } => ("AUTH", format!(": {message}")),
                    TaskOutcome::UsageLimit { message, .. } => ("LIMIT", format!(": {message}")),
                    TaskOutcome::OverBudget { message } => ("BUDGET", format!(": {message}")),
                    TaskOutcome::WorkerLost { message } => ("LOST", format!(": {message}")),
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
                counts,
                duration,
            } => self.line(
                "GROUP",
                &format!(
                    "{}: {}, {}",
                    group_name(key),
                    counts.group_line(),
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
                    crate::text::plural(steps.len(), "step"),
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
                // A step that did not run has no duration to show.
                let time = if status == "not run" {
                    String::new()
                } else {
                    format!(" in {}", short_duration(*duration))
                };
                self.line("GATE", &format!("{step}: {status}{time}"));
                // Bounded where it is made: the first failure lines, then the end.
                for l in tail {
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
                commits,
            } => {
                let what = super::pushed_commits(phase.as_ref(), *commits);
                self.line("PUSH", &format!("{what} to {remote}/{branch}"));
            }
            Event::Stopping { reason } => self.line("STOP", reason),
            Event::RunFinished { summary } => {
                let _ = write!(self.out, "{}", super::summary::render(summary));
            }
        }
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roadmap::GroupKey;
    use std::time::Duration;

    fn lines(events: &[Event]) -> String {
        let mut out = Vec::new();
        {
            let mut r = PlainReporter::new(&mut out, false);
            for e in events {
                r.report(e);
            }
        }
        // Without the timestamps.
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| l.get(20..).unwrap_or(l).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn counts_read_right_and_a_step_not_run_has_no_time() {
        let key = GroupKey::new(1, "A");
        let text = lines(&[
            Event::RunStarted {
                roadmap: "ROADMAP.md".into(),
                groups: 1,
                tasks: 1,
                max_parallel: 4,
                timeout: Duration::from_secs(3600),
                dry_run: false,
                max_cost: None,
            },
            Event::GroupStarted {
                key: key.clone(),
                phase_title: String::new(),
                title: String::new(),
                annotation: None,
                tasks: 1,
                parallel: 1,
                task_ids: vec!["A1".into()],
            },
            Event::GateStepFinished {
                key: key.clone(),
                step: "lint".into(),
                status: "not run".into(),
                duration: Duration::ZERO,
                tail: Vec::new(),
            },
            Event::GateStepFinished {
                key,
                step: "test".into(),
                status: "passed".into(),
                duration: Duration::from_millis(2300),
                tail: Vec::new(),
            },
        ]);
        assert_eq!(
            text,
            "[RUN] Run: ROADMAP.md, 1 group and 1 task to run, 4 in parallel, timeout 1h 00m per task\n\
             [GROUP] Phase 1 Group A: 1 task, 1 in parallel\n\
             [GATE] lint: not run\n\
             [GATE] test: passed in 2.3s"
        );
    }
}
