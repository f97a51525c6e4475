//! The live terminal view: a header with the current phase and group, one
//! row per running task (spinner, id, title, elapsed against the timeout, the
//! agent's latest activity), one dimmed row per queued task, the gate step that
//! runs and the usage-limit wait. Everything that happened for good (a task
//! finished, a warning, a commit) prints as a permanent line above the rows.
//!
//! Only chosen when stdout is a terminal (see [`super::choose_reporter`]);
//! indicatif itself also hides everything when it is not.

mod lines;
mod nest;
mod rows;

use crate::events::{Event, Reporter};
use crate::report::words;
use console::truncate_str;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};
use std::io::Write;
use std::time::Duration;

/// How often spinners turn and clocks are redrawn.
const SPIN_TICK: Duration = Duration::from_millis(120);
/// Rows that only show a clock (header, usage-limit wait).
const CLOCK_TICK: Duration = Duration::from_millis(500);

pub struct LiveReporter {
    multi: MultiProgress,
    /// Where the final summary goes, once the rows are cleared.
    out: Box<dyn Write + Send>,
    /// `None` in tests: rows redraw on each change only.
    tick: Option<TickRates>,
    /// A fixed width (tests); otherwise the terminal's, asked on each change.
    fixed_width: Option<usize>,
    header: Option<ProgressBar>,
    /// Under the header while a sub-roadmap runs: a row per task that
    /// split (outermost first), then the sub-group's heading.
    nest: Vec<ProgressBar>,
    /// The sub-group whose rows are drawn now (`None` at depth 0).
    sub_group: Option<crate::roadmap::GroupKey>,
    splits: crate::report::splits::Splits,
    running: Vec<Running>,
    queued: Vec<(String, ProgressBar)>,
    wait: Option<ProgressBar>,
    gate: Option<ProgressBar>,
    done: bool,
    /// A stop was requested: only permanent lines from now on, no rows.
    stopping: bool,
    /// Keeps the tty from echoing `^C` into the rows while they are drawn.
    quiet_echo: Option<crate::exec::unix::QuietControlEcho>,
}

#[derive(Clone, Copy)]
struct TickRates {
    spin: Duration,
    clock: Duration,
}

struct Running {
    id: String,
    title: String,
    attempt: u32,
    bar: ProgressBar,
}

impl LiveReporter {
    /// Draws on stdout, which the caller checked is a terminal.
    pub fn new() -> Self {
        let mut r = Self::with_target(
            ProgressDrawTarget::stdout(),
            Box::new(std::io::stdout()),
            true,
            None,
        );
        r.quiet_echo = crate::exec::unix::QuietControlEcho::on_stdout();
        r
    }

    /// `target` gets the rows and permanent lines, `out` the final summary.
    /// Without `steady_tick`, rows redraw only when an event changes them.
    pub fn with_target(
        target: ProgressDrawTarget,
        out: Box<dyn Write + Send>,
        steady_tick: bool,
        fixed_width: Option<usize>,
    ) -> Self {
        LiveReporter {
            multi: MultiProgress::with_draw_target(target),
            out,
            tick: steady_tick.then_some(TickRates {
                spin: SPIN_TICK,
                clock: CLOCK_TICK,
            }),
            fixed_width,
            header: None,
            nest: Vec::new(),
            sub_group: None,
            splits: Default::default(),
            running: Vec::new(),
            queued: Vec::new(),
            wait: None,
            gate: None,
            done: false,
            stopping: false,
            quiet_echo: None,
        }
    }

    fn width(&self) -> usize {
        self.fixed_width.unwrap_or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map_or(80, |(_, cols)| cols as usize)
        })
    }

    fn println(&self, line: impl AsRef<str>) {
        let _ = self.multi.println(line);
    }
}

impl Default for LiveReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for LiveReporter {
    /// A run that ends without `RunFinished` (an error) leaves no rows behind.
    fn drop(&mut self) {
        if !self.done {
            self.clear_all();
        }
    }
}

impl Reporter for LiveReporter {
    /// Rows change before an event's permanent lines print (a finished
    /// task's row goes, then its line stays), except the rows an event adds
    /// after saying why (a retry queued, the usage-limit wait).
    fn report(&mut self, event: &Event) {
        if self.done {
            return;
        }
        self.splits.observe(event);
        self.rows_before(event);
        // A sub-roadmap's lines stand indented beneath the task that split.
        let indent = crate::report::splits::key_of(event)
            .map(nest::indent)
            .unwrap_or_default();
        for line in lines::of(event, &|| self.width()) {
            self.println(format!("{indent}{line}"));
        }
        self.rows_after(event);
    }
}

impl LiveReporter {
    fn rows_before(&mut self, event: &Event) {
        match event {
            Event::GroupStarted { .. } => self.group_started(event),
            Event::TaskStarted {
                task,
                title,
                attempt,
                timeout,
                worker,
                ..
            } => match worker {
                // With --nats the row names the worker running it.
                Some(w) => {
                    self.task_started(task, &format!("{title} [on {w}]"), *attempt, *timeout)
                }
                None => self.task_started(task, title, *attempt, *timeout),
            },
            Event::TaskActivity { task, text, .. } => self.task_activity(task, text),
            Event::TaskFinished { task, .. } => {
                self.task_gone(task);
                self.refresh_nest();
            }
            Event::UsageLimitResume { .. } => self.end_wait(),
            Event::GroupFinished { .. } => {
                self.end_wait();
                self.clear_queue();
            }
            // The split task's own group is back: its gate.
            Event::GateStarted { key, .. } if key.depth() == 0 => self.clear_nest(),
            Event::GateStepStarted { step, .. } => self.gate_step(step),
            Event::GateStepFinished { .. } | Event::GateFinished { .. } => self.end_gate_step(),
            Event::Stopping { .. } => {
                // Nothing new starts: the rows go now, so none is left frozen
                // above the stop line while the agents wind down.
                self.clear_all();
                self.stopping = true;
            }
            Event::RunFinished { summary } => {
                self.clear_all();
                self.done = true;
                self.quiet_echo = None;
                let _ = write!(self.out, "{}", super::summary::render(summary));
                let _ = self.out.flush();
            }
            _ => {}
        }
    }

    /// A group of the roadmap gets the header; a sub-roadmap's group goes
    /// beneath the task that split (see [`nest`]).
    fn group_started(&mut self, event: &Event) {
        let Event::GroupStarted {
            key,
            phase_title,
            title,
            annotation,
            tasks,
            parallel,
            task_ids,
        } = event
        else {
            return;
        };
        self.end_gate_step();
        self.clear_queue();
        if key.depth() > 0 {
            self.sub_group_started(key, title, annotation.as_deref(), *tasks, *parallel);
        } else {
            self.clear_nest();
            let text = words::group_heading(key, phase_title, title, annotation.as_deref());
            let text = truncate_str(&text, self.width().saturating_sub(30), "…");
            self.set_header(
                console::style(text.into_owned()).bold().to_string(),
                words::group_size(*tasks, *parallel),
            );
        }
        for id in task_ids {
            self.enqueue(id, false, "");
        }
    }

    fn rows_after(&mut self, event: &Event) {
        match event {
            Event::TaskRetry {
                task, attempt, of, ..
            } => {
                let note = format!(" ({})", words::attempt_of(*attempt, *of));
                self.enqueue(task, false, &note);
            }
            Event::UsageLimitWait { task, until, .. } => self.usage_wait(task, *until),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LiveReporter;
    use super::lines::wrap_words;
    use super::rows::clock;
    use crate::agent::{AgentReport, TaskOutcome};
    use crate::events::{Event, Reporter};
    use crate::events::{RunSummary, TaskSummary};
    use crate::roadmap::GroupKey;
    use chrono::Local;
    use console::measure_text_width as measure;
    use indicatif::InMemoryTerm;
    use indicatif::ProgressDrawTarget;
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn key() -> GroupKey {
        GroupKey::new(1, "A")
    }

    fn reporter(cols: u16) -> (LiveReporter, InMemoryTerm, Sink) {
        console::set_colors_enabled(false);
        let term = InMemoryTerm::new(30, cols);
        let sink = Sink::default();
        let r = LiveReporter::with_target(
            ProgressDrawTarget::term_like(Box::new(term.clone())),
            Box::new(sink.clone()),
            false,
            Some(cols as usize),
        );
        (r, term, sink)
    }

    #[test]
    fn the_stop_line_is_wrapped_not_cut() {
        let (mut r, term, _) = reporter(40);
        r.report(&group_started(&["A1"]));
        r.report(&Event::Stopping {
            reason: "signal received: no new task starts, every running agent gets SIGTERM (SIGKILL after the grace period; a second signal kills at once)".into(),
        });
        let screen = term.contents();
        assert!(!screen.contains('…'), "{screen}");
        let text = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("every running agent gets SIGTERM (SIGKILL after the grace period; a second signal kills at once)"),
            "{screen}"
        );
        assert!(screen.lines().all(|l| measure(l) <= 40), "{screen}");
    }

    #[test]
    fn words_wrap_at_the_width() {
        assert_eq!(wrap_words("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap_words("averylongword x", 4), ["averylongword", "x"]);
        assert_eq!(wrap_words("", 4), [""]);
    }

    fn group_started(ids: &[&str]) -> Event {
        Event::GroupStarted {
            key: key(),
            phase_title: "Foundation Layer".into(),
            title: "Database".into(),
            annotation: Some("Parallel".into()),
            tasks: ids.len(),
            parallel: 2,
            task_ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn started(id: &str, title: &str) -> Event {
        Event::TaskStarted {
            key: key(),
            task: id.into(),
            title: title.into(),
            attempt: 1,
            pid: 1,
            log: PathBuf::from("logs/x.log"),
            timeout: Duration::from_secs(3600),
            worker: None,
        }
    }

    fn finished(id: &str, title: &str, outcome: TaskOutcome) -> Event {
        Event::TaskFinished {
            key: key(),
            task: id.into(),
            title: title.into(),
            attempt: 1,
            outcome,
            duration: Duration::from_secs(65),
            report: AgentReport {
                cost_usd: Some(0.12),
                ..Default::default()
            },
            log: PathBuf::from("logs/a2.log"),
            tail: vec!["boom".into()],
        }
    }

    fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
        screen.lines().find(|l| l.contains(needle))
    }

    #[test]
    fn notes_are_dim_information_lines_not_warnings() {
        let (mut r, term, _) = reporter(100);
        r.report(&Event::Note {
            message: "1:A: resuming: A1 succeeded in an earlier run; running A2".into(),
        });
        let screen = term.contents();
        assert!(
            screen.contains("ℹ 1:A: resuming: A1 succeeded in an earlier run; running A2"),
            "{screen}"
        );
        assert!(!screen.contains("warning"), "{screen}");
    }

    #[test]
    fn shows_header_running_and_queued_rows_then_permanent_lines() {
        let (mut r, term, sink) = reporter(120);
        r.report(&group_started(&["A1", "A2", "A3"]));
        let screen = term.contents();
        assert!(
            screen.contains("Phase 1: Foundation Layer · Group A: Database (Parallel)"),
            "{screen}"
        );
        assert!(screen.contains("3 tasks, 2 in parallel"), "{screen}");
        for id in ["A1", "A2", "A3"] {
            let l = line_with(&screen, id).unwrap_or_else(|| panic!("{id} queued: {screen}"));
            assert!(l.contains("queued"), "{l}");
        }

        r.report(&started("A1", "Database Schema"));
        r.report(&started("A2", "Migrations"));
        r.report(&Event::TaskActivity {
            key: key(),
            task: "A1".into(),
            text: "Bash: cargo test\nsecond line".into(),
        });
        let screen = term.contents();
        let a1 = line_with(&screen, "A1").expect("A1 row");
        assert!(a1.contains("Database Schema"), "{a1}");
        assert!(a1.contains("0s / 1h 00m"), "{a1}");
        assert!(a1.contains("Bash: cargo test"), "{a1}");
        assert!(!screen.contains("second line"), "{screen}");
        assert!(!a1.contains("queued"), "{a1}");
        let a3 = line_with(&screen, "A3").expect("A3 row");
        assert!(a3.contains("queued"), "{a3}");
        // Rows in order: header, running, queued.
        let pos = |n: &str| screen.find(n).unwrap();
        assert!(
            pos("Phase 1") < pos("A1") && pos("A2") < pos("A3"),
            "{screen}"
        );

        r.report(&finished("A1", "Database Schema", TaskOutcome::Succeeded));
        r.report(&finished(
            "A2",
            "Migrations",
            TaskOutcome::Failed {
                exit_code: Some(1),
                signal: None,
                reason: "exit code 1".into(),
            },
        ));
        let screen = term.contents();
        assert!(
            screen.contains("✔ A1 Database Schema  1m 05s  $0.12"),
            "{screen}"
        );
        assert!(
            screen.contains("✘ A2 Migrations  1m 05s  $0.12  failed: exit code 1"),
            "{screen}"
        );
        assert!(screen.contains("│ boom"), "{screen}");
        assert!(screen.contains("log: logs/a2.log"), "{screen}");
        assert!(!screen.contains(" / 1h 00m"), "running rows gone: {screen}");

        r.report(&Event::RunFinished {
            summary: RunSummary {
                exit_code: 1,
                message: "Run failed".into(),
                next_steps: vec![],
                tasks: vec![TaskSummary {
                    key: key(),
                    task: "A1".into(),
                    title: "Database Schema".into(),
                    outcome: TaskOutcome::Succeeded,
                    attempts: 1,
                    duration: Duration::from_secs(65),
                    cost_usd: Some(0.12),
                    log: None,
                    role: Default::default(),
                }],
                groups_completed: vec![],
                duration: Duration::from_secs(70),
                cost_usd: 0.12,
                costs: Default::default(),
                counts: Default::default(),
                group_times: vec![],
            },
        });
        let screen = term.contents();
        assert!(
            !screen.contains("Phase 1: Foundation"),
            "header gone: {screen}"
        );
        assert!(!screen.contains("queued"), "{screen}");
        assert!(screen.contains("✔ A1 Database Schema"), "{screen}");
        let summary = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(summary.contains("Run failed"), "{summary}");
        assert!(summary.contains("GROUP  TASK"), "{summary}");
    }

    #[test]
    fn long_titles_and_activity_are_cut_to_the_width() {
        let (mut r, term, _) = reporter(70);
        r.report(&group_started(&["A1"]));
        r.report(&started("A1", &"Very long title ".repeat(10)));
        r.report(&Event::TaskActivity {
            key: key(),
            task: "A1".into(),
            text: "x".repeat(300),
        });
        let screen = term.contents();
        let a1 = line_with(&screen, "A1").expect("A1 row");
        assert!(a1.chars().count() <= 70, "{a1}");
        assert!(a1.contains("…"), "{a1}");
        assert!(a1.contains("/ 1h 00m"), "{a1}");
        assert_eq!(screen.lines().filter(|l| l.contains("xxx")).count(), 1);
    }

    #[test]
    fn gate_steps_usage_wait_and_retries_show_as_rows() {
        let (mut r, term, _) = reporter(120);
        r.report(&group_started(&["A1"]));
        r.report(&started("A1", "One"));
        r.report(&finished(
            "A1",
            "One",
            TaskOutcome::UsageLimit {
                resets_at: None,
                message: "limit reached".into(),
            },
        ));
        let until = Local::now() + chrono::Duration::minutes(30);
        r.report(&Event::UsageLimitWait {
            key: key(),
            task: "A1".into(),
            until,
            resets_at: None,
        });
        let screen = term.contents();
        let wait = line_with(&screen, "usage limit: no new task").expect("wait row");
        assert!(
            wait.contains(&until.format("%H:%M:%S").to_string()),
            "{wait}"
        );
        assert!(wait.contains("left)"), "{wait}");
        assert!(
            line_with(&screen, "A1 queued (resumes after the usage limit)").is_some(),
            "{screen}"
        );
        r.report(&Event::UsageLimitResume {
            key: key(),
            task: "A1".into(),
        });
        r.report(&started("A1", "One"));
        r.report(&finished("A1", "One", TaskOutcome::Succeeded));
        let ok = TaskOutcome::Succeeded;
        r.report(&Event::GroupFinished {
            key: key(),
            counts: crate::status::counts::Counts::of([crate::status::counts::Entry {
                role: Default::default(),
                ended: crate::status::counts::Ended::Ran(&ok),
                cost_usd: None,
            }]),
            duration: Duration::from_secs(3),
        });
        r.report(&Event::GateStepStarted {
            key: key(),
            step: "test".into(),
            command: "cargo test".into(),
        });
        let screen = term.contents();
        assert!(line_with(&screen, "gate: test … 0s").is_some(), "{screen}");
        assert!(line_with(&screen, "usage limit: no new task").is_none());
        r.report(&Event::GateStepFinished {
            key: key(),
            step: "test".into(),
            status: "passed".into(),
            duration: Duration::from_secs(12),
            tail: vec![],
        });
        r.report(&Event::PhaseCommitted {
            phase: 1.into(),
            title: "Foundation".into(),
            commit: "0123456789abcdef".into(),
        });
        let screen = term.contents();
        assert!(screen.contains("✔ gate: test  passed in 12.0s"), "{screen}");
        assert!(!screen.contains("gate: test …"), "{screen}");
        assert!(
            screen.contains("● Phase 1: Foundation committed as 0123456789ab"),
            "{screen}"
        );
    }

    #[test]
    fn clocks_and_limits_read_short() {
        assert_eq!(clock(Duration::from_secs(7)), "7s");
        assert_eq!(clock(Duration::from_secs(65)), "1m 05s");
        assert_eq!(clock(Duration::from_secs(3720)), "1h 02m");
    }
}
