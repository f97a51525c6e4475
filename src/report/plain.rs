//! Plain timestamped lines, one per event: what cron mails and pipes get.
//! Never any terminal escape codes.

use super::splits::{self, Splits};
use super::words;
use crate::events::{Event, Reporter};
use crate::text::short_duration;
use std::io::Write;

pub struct PlainReporter<W: Write + Send> {
    out: W,
    /// Agent activity lines are noise in a cron mail; shown with -v.
    show_activity: bool,
    /// Sub-roadmaps: their lines indented beneath the task that split.
    splits: Splits,
}

impl<W: Write + Send> PlainReporter<W> {
    pub fn new(out: W, show_activity: bool) -> Self {
        PlainReporter {
            out,
            show_activity,
            splits: Splits::default(),
        }
    }

    fn line(&mut self, tag: &str, text: &str) {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        let _ = writeln!(self.out, "{now} [{tag}] {text}");
    }
}

impl<W: Write + Send> Reporter for PlainReporter<W> {
    fn report(&mut self, event: &Event) {
        self.splits.observe(event);
        let tag = words::of(event).tag;
        let key = splits::key_of(event);
        // A sub-group starts under the line of the task that split.
        if let Some(key) = key.filter(|_| matches!(event, Event::GroupStarted { .. }))
            && let Some(p) = self.splits.ancestors(key).last()
        {
            let line = format!("{}{}: {}", splits::indent(&p.key), p.label(), p.progress());
            self.line(tag, &line);
        }
        if let Some(text) = self.text(event) {
            let indent = key.map(splits::indent).unwrap_or_default();
            self.line(tag, &format!("{indent}{text}"));
        }
        self.after(event);
        let _ = self.out.flush();
    }
}

impl<W: Write + Send> PlainReporter<W> {
    /// The text after an event's tag; `None` for an event with no line.
    fn text(&self, event: &Event) -> Option<String> {
        Some(match event {
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
                let scope = words::run_scope(*groups, *tasks, *max_parallel, *timeout);
                format!("{what}: {roadmap}, {scope}{budget}")
            }
            Event::Warning { message } | Event::Note { message } => message.clone(),
            Event::SubRoadmapStarted {
                key,
                task,
                tasks,
                done,
                groups,
                ..
            } => words::sub_roadmap_start(key, task, *tasks, *done, *groups),
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
                let size = words::group_size(*tasks, *parallel);
                format!("{}{title}: {size}", words::group_name(key))
            }
            Event::PhaseCommitted {
                phase,
                title,
                commit,
            } => format!(
                "Phase {phase}: {title} committed as {}",
                words::short_commit(commit)
            ),
            Event::PhasePushed {
                phase,
                remote,
                branch,
                commits,
            } => {
                let what = words::pushed_commits(phase.as_ref(), *commits);
                format!("{what} to {remote}/{branch}")
            }
            Event::Stopping { reason } => reason.clone(),
            Event::RunFinished { .. } => return None,
            _ => return self.group_text(event),
        })
    }

    /// The text of a group's events and its gate's.
    fn group_text(&self, event: &Event) -> Option<String> {
        Some(match event {
            Event::GroupFinished {
                key,
                counts,
                duration,
            } => format!(
                "{}: {}, {}",
                words::group_name(key),
                counts.group_line(),
                short_duration(*duration)
            ),
            Event::GroupSkipped { key, reason } => {
                format!("{}: {reason}", words::group_name(key))
            }
            Event::GateStarted { key, steps, log } => format!(
                "{}: {}, log {}",
                words::group_name(key),
                words::gate_steps(steps),
                log.display()
            ),
            Event::GateStepStarted { step, command, .. } => format!("{step}: $ {command}"),
            Event::GateStepFinished {
                step,
                status,
                duration,
                ..
            } => format!("{step}: {status}{}", words::step_time(status, *duration)),
            Event::GateFinished { key, passed, log } => {
                let verdict = if *passed { "passed" } else { "FAILED" };
                let name = words::group_name(key);
                format!("{name}: gate {verdict}, log {}", log.display())
            }
            Event::GroupCompleted { key, report } => {
                let report = words::report_suffix(report.as_deref());
                format!("{}: complete{report}", words::group_name(key))
            }
            _ => return self.task_text(event),
        })
    }

    /// The text of a task's events, and of the usage-limit wait it causes.
    fn task_text(&self, event: &Event) -> Option<String> {
        Some(match event {
            Event::TaskStarted {
                task,
                title,
                attempt,
                pid,
                log,
                worker,
                ..
            } => {
                let on = match worker {
                    Some(w) => format!("on worker {w}"),
                    None => format!("pid {pid}"),
                };
                let again = words::again(*attempt);
                format!("{task}: {title}{again} {on}, log {}", log.display())
            }
            Event::TaskActivity { task, text, .. } => {
                if !self.show_activity {
                    return None;
                }
                format!("{task}: {text}")
            }
            Event::TaskFinished {
                task,
                title,
                outcome,
                duration,
                report,
                ..
            } => {
                let cost = report
                    .cost_usd
                    .map(|c| format!(", {}", crate::status::counts::usd(c)))
                    .unwrap_or_default();
                let detail = words::ending(outcome)
                    .reason
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                format!(
                    "{task}: {title} {} in {}{cost}{detail}",
                    outcome.label(),
                    short_duration(*duration)
                )
            }
            Event::TaskRetry {
                task, attempt, of, ..
            } => format!("{task}: {}", words::attempt_of(*attempt, *of)),
            Event::UsageLimitWait {
                task,
                until,
                resets_at,
                ..
            } => {
                let resets = resets_at
                    .map(|r| format!(" (limit resets {})", r.format("%Y-%m-%d %H:%M:%S")))
                    .unwrap_or_default();
                format!(
                    "{task}: agent usage limit reached{resets}; no new task starts until {}, then {task} resumes",
                    until.format("%Y-%m-%d %H:%M:%S")
                )
            }
            Event::UsageLimitResume { task, .. } => {
                format!("{task}: resuming after the usage limit")
            }
            _ => return None,
        })
    }

    /// What follows an event's line: a failure's last output and log, a
    /// gate step's output, the run's summary.
    fn after(&mut self, event: &Event) {
        match event {
            Event::TaskFinished {
                outcome, log, tail, ..
            } if !outcome.is_success() => {
                let lines = super::readable::tail_lines(tail);
                for l in &lines[lines.len().saturating_sub(5)..] {
                    let _ = writeln!(self.out, "    | {l}");
                }
                let _ = writeln!(self.out, "    log: {}", log.display());
            }
            // Bounded where it is made: the first failure lines, then the end.
            Event::GateStepFinished { tail, .. } => {
                for l in tail {
                    let _ = writeln!(self.out, "    | {l}");
                }
            }
            Event::RunFinished { summary } => {
                let _ = write!(self.out, "{}", super::summary::render(summary));
            }
            _ => {}
        }
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
