//! The live terminal view: a header with the current phase and group, one
//! row per running task (spinner, id, title, elapsed against the timeout, the
//! agent's latest activity), one dimmed row per queued task, the gate step that
//! runs and the usage-limit wait. Everything that happened for good (a task
//! finished, a warning, a commit) prints as a permanent line above the rows.
//!
//! Only chosen when stdout is a terminal (see [`super::choose_reporter`]);
//! indicatif itself also hides everything when it is not.

mod lines;
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
        self.rows_before(event);
        for line in lines::of(event, &|| self.width()) {
            self.println(line);
        }
        self.rows_after(event);
    }
}

impl LiveReporter {
    fn rows_before(&mut self, event: &Event) {
        match event {
            Event::GroupStarted {
                key,
                phase_title,
                title,
                annotation,
                tasks,
                parallel,
                task_ids,
            } => {
                self.end_gate_step();
                self.clear_queue();
                let text = words::group_heading(key, phase_title, title, annotation.as_deref());
                let text = truncate_str(&text, self.width().saturating_sub(30), "…");
                self.set_header(
                    console::style(text.into_owned()).bold().to_string(),
                    words::group_size(*tasks, *parallel),
                );
                for id in task_ids {
                    self.enqueue(id, false, "");
                }
            }
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
            Event::TaskFinished { task, .. } => self.task_gone(task),
            Event::UsageLimitResume { .. } => self.end_wait(),
            Event::GroupFinished { .. } => {
                self.end_wait();
                self.clear_queue();
            }
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
mod tests;
