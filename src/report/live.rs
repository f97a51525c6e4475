//! The live terminal view: a header with the current phase and group, one
//! row per running task (spinner, id, title, elapsed against the timeout, the
//! agent's latest activity), one dimmed row per queued task, the gate step that
//! runs and the usage-limit wait. Everything that happened for good (a task
//! finished, a warning, a commit) prints as a permanent line above the rows.
//!
//! Only chosen when stdout is a terminal (see [`super::choose_reporter`]);
//! indicatif itself also hides everything when it is not.

use crate::agent::TaskOutcome;
use crate::events::{Event, Reporter};
use crate::roadmap::GroupKey;
use crate::text::short_duration;
use chrono::{DateTime, Local};
use console::{Alignment, pad_str, style, truncate_str};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

/// How often spinners turn and clocks are redrawn.
const SPIN_TICK: Duration = Duration::from_millis(120);
/// Rows that only show a clock (header, usage-limit wait).
const CLOCK_TICK: Duration = Duration::from_millis(500);
const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", " "];
/// Longest title in a running row, in columns.
const MAX_TITLE: usize = 48;
/// Failure output shown under a failed task's line (the log has all of it).
const TAIL_LINES: usize = 5;

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

    /// A new row at `index` (0 = top). The style is set once the bar belongs
    /// to the multi, so it styles for stdout, not indicatif's default stderr.
    /// Once stopping, a row is never drawn (the bar stays hidden).
    fn row(&self, index: usize, style: ProgressStyle, tick: Option<Duration>) -> ProgressBar {
        if self.stopping {
            return ProgressBar::hidden();
        }
        let bar = self.multi.insert(index, ProgressBar::hidden());
        bar.set_style(style);
        match tick {
            Some(every) => bar.enable_steady_tick(every),
            None => bar.tick(),
        }
        bar
    }

    fn remove(&self, bar: &ProgressBar) {
        bar.finish_and_clear();
        self.multi.remove(bar);
    }

    fn header_rows(&self) -> usize {
        usize::from(self.header.is_some())
    }

    fn clear_queue(&mut self) {
        for (_, bar) in std::mem::take(&mut self.queued) {
            self.remove(&bar);
        }
    }

    fn enqueue(&mut self, id: &str, front: bool, note: &str) {
        if self.queued.iter().any(|(q, _)| q == id) {
            return;
        }
        let head = self.header_rows() + self.running.len() + usize::from(self.wait.is_some());
        let (index, at) = if front {
            (head, 0)
        } else {
            (head + self.queued.len(), self.queued.len())
        };
        let bar = self.row(index, plain_style("  {prefix}"), None);
        bar.set_prefix(format!(
            "{} {}",
            style(id).dim(),
            style(format!("queued{note}")).dim()
        ));
        self.queued.insert(at, (id.to_string(), bar));
    }

    fn dequeue(&mut self, id: &str) {
        if let Some(i) = self.queued.iter().position(|(q, _)| q == id) {
            let (_, bar) = self.queued.remove(i);
            self.remove(&bar);
        }
    }

    /// Ids and titles padded to the widest of the running tasks, so the
    /// clocks line up; titles cut to leave room for the activity.
    fn relayout(&self) {
        let id_w = self
            .running
            .iter()
            .map(|r| r.id.chars().count())
            .max()
            .unwrap_or(0);
        // spinner, id, title, clock (`1m 05s / 1h 00m`), at least 20 of activity.
        let room = self.width().saturating_sub(2 + id_w + 1 + 2 + 14 + 2 + 20);
        let longest = self
            .running
            .iter()
            .map(|r| console::measure_text_width(&title_of(r)))
            .max()
            .unwrap_or(0);
        let title_w = longest.min(MAX_TITLE).min(room.max(8));
        for r in &self.running {
            let title = truncate_str(&title_of(r), title_w, "…").into_owned();
            r.bar.set_prefix(format!(
                "{} {}",
                style(pad_str(&r.id, id_w, Alignment::Left, None)).bold(),
                pad_str(&title, title_w, Alignment::Left, None)
            ));
        }
    }

    fn set_header(&mut self, text: String, detail: String) {
        if let Some(old) = self.header.take() {
            self.remove(&old);
        }
        let st = plain_style("{prefix}  {msg}{clock}").with_key(
            "clock",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", style(format!("  {}", clock(s.elapsed()))).dim());
            },
        );
        let header = self.row(0, st, self.tick.map(|t| t.clock));
        header.set_prefix(text);
        header.set_message(style(detail).dim().to_string());
        self.header = Some(header);
    }

    fn task_started(&mut self, id: &str, title: &str, attempt: u32, timeout: Duration) {
        self.dequeue(id);
        if let Some(i) = self.running.iter().position(|r| r.id == id) {
            let old = self.running.remove(i);
            self.remove(&old.bar);
        }
        let limit = short_duration(timeout);
        let st = spinner_style("{spinner:.cyan} {prefix}  {clock}  {wide_msg}").with_key(
            "clock",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:>6} / {limit}", clock(s.elapsed()));
            },
        );
        let index = self.header_rows() + self.running.len();
        let bar = self.row(index, st, self.tick.map(|t| t.spin));
        bar.set_message(style("starting…").dim().to_string());
        self.running.push(Running {
            id: id.to_string(),
            title: title.to_string(),
            attempt,
            bar,
        });
        self.relayout();
    }

    fn task_activity(&self, id: &str, text: &str) {
        if let Some(r) = self.running.iter().find(|r| r.id == id) {
            r.bar.set_message(style(one_line(text)).dim().to_string());
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn task_finished(
        &mut self,
        id: &str,
        title: &str,
        attempt: u32,
        outcome: &TaskOutcome,
        duration: Duration,
        cost: Option<f64>,
        log: &std::path::Path,
        tail: &[String],
    ) {
        if let Some(i) = self.running.iter().position(|r| r.id == id) {
            let r = self.running.remove(i);
            self.remove(&r.bar);
            self.relayout();
        }
        let again = if attempt > 1 {
            format!(" (attempt {attempt})")
        } else {
            String::new()
        };
        let cost = cost
            .map(|c| format!("  {}", crate::status::counts::usd(c)))
            .unwrap_or_default();
        let (mark, detail) = match outcome {
            TaskOutcome::Succeeded => (style("✔").green(), String::new()),
            TaskOutcome::Failed { reason, .. } => {
                (style("✘").red(), format!("  failed: {}", one_line(reason)))
            }
            TaskOutcome::TimedOut { after_secs } => (
                style("✘").red(),
                format!(
                    "  timed out: no result after {}, stopped",
                    short_duration(Duration::from_secs(*after_secs))
                ),
            ),
            TaskOutcome::Interrupted => (style("■").yellow(), "  interrupted".to_string()),
            TaskOutcome::AuthFailure { message } => (
                style("✘").red(),
                format!("  not logged in: {}", one_line(message)),
            ),
            TaskOutcome::UsageLimit { message, .. } => (
                style("⏸").yellow(),
                format!("  usage limit: {}", one_line(message)),
            ),
            TaskOutcome::OverBudget { message } => (
                style("$").yellow(),
                format!("  over budget: {}", one_line(message)),
            ),
            TaskOutcome::WorkerLost { message } => (
                style("✘").red(),
                format!("  worker lost: {}", one_line(message)),
            ),
        };
        let width = self.width();
        let title = truncate_str(title, MAX_TITLE, "…");
        let mut line = format!(
            "{mark} {} {title}{again}  {}{cost}",
            style(id).bold(),
            short_duration(duration)
        );
        if !detail.is_empty() {
            let detail = truncate_str(&detail, width.saturating_sub(measure(&line)), "…");
            let detail = if outcome.is_success() {
                style(detail.into_owned())
            } else {
                style(detail.into_owned()).red()
            };
            let _ = write!(line, "{detail}");
        }
        self.println(line);
        let failed = matches!(
            outcome,
            TaskOutcome::Failed { .. } | TaskOutcome::TimedOut { .. }
        );
        if failed || matches!(outcome, TaskOutcome::AuthFailure { .. }) {
            // The agent's last words, readable; its raw events are in the log.
            let words = super::readable::tail_lines(tail);
            let skip = words.len().saturating_sub(TAIL_LINES);
            for l in &words[skip..] {
                let l = format!("    │ {}", one_line(l));
                self.println(style(truncate_str(&l, width, "…")).dim().to_string());
            }
            self.println(
                style(format!("    log: {}", log.display()))
                    .dim()
                    .to_string(),
            );
        }
    }

    fn usage_wait(&mut self, task: &str, until: DateTime<Local>) {
        if let Some(old) = self.wait.take() {
            self.remove(&old);
        }
        let st = spinner_style("{spinner:.yellow} {prefix}{countdown}").with_key(
            "countdown",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let left = (until - Local::now()).to_std().unwrap_or_default();
                let _ = write!(w, "  ({} left)", clock(left));
            },
        );
        let index = self.header_rows() + self.running.len();
        let bar = self.row(index, st, self.tick.map(|t| t.clock));
        bar.set_prefix(format!(
            "{} no new task until {}, then {task} resumes",
            style("usage limit:").yellow(),
            until.format("%H:%M:%S")
        ));
        self.wait = Some(bar);
        // The task is back at the front of the queue.
        self.enqueue(task, true, " (resumes after the usage limit)");
    }

    fn end_wait(&mut self) {
        if let Some(old) = self.wait.take() {
            self.remove(&old);
        }
    }

    fn gate_step(&mut self, step: &str) {
        self.end_gate_step();
        let st = spinner_style("{spinner:.cyan} gate: {prefix} … {clock}").with_key(
            "clock",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", clock(s.elapsed()));
            },
        );
        if self.stopping {
            return;
        }
        let bar = self.multi.add(ProgressBar::hidden());
        bar.set_style(st);
        match self.tick {
            Some(t) => bar.enable_steady_tick(t.spin),
            None => bar.tick(),
        }
        bar.set_prefix(style(step.to_string()).bold().to_string());
        self.gate = Some(bar);
    }

    fn end_gate_step(&mut self) {
        if let Some(old) = self.gate.take() {
            self.remove(&old);
        }
    }

    /// Every row gone, nothing ticking: the screen keeps only permanent lines.
    fn clear_all(&mut self) {
        let mut bars: Vec<ProgressBar> = Vec::new();
        bars.extend(self.header.take());
        bars.extend(self.running.drain(..).map(|r| r.bar));
        bars.extend(self.queued.drain(..).map(|(_, b)| b));
        bars.extend(self.wait.take());
        bars.extend(self.gate.take());
        for bar in &bars {
            self.remove(bar);
        }
        let _ = self.multi.clear();
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
    fn report(&mut self, event: &Event) {
        if self.done {
            return;
        }
        match event {
            Event::RunStarted {
                roadmap,
                groups,
                tasks,
                max_parallel,
                timeout,
                ..
            } => self.println(format!(
                "{} {roadmap}: {} and {} to run, {max_parallel} in parallel, timeout {} per task",
                style("roadmap-runner").bold(),
                crate::text::plural(*groups, "group"),
                crate::text::plural(*tasks, "task"),
                short_duration(*timeout)
            )),
            Event::Warning { message } => self.println(format!(
                "{} {}",
                style("⚠ warning:").yellow(),
                one_line(message)
            )),
            Event::Note { message } => {
                self.println(style(format!("ℹ {}", one_line(message))).dim().to_string())
            }
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
                let text = group_heading(key, phase_title, title, annotation.as_deref());
                let text = truncate_str(&text, self.width().saturating_sub(30), "…");
                self.set_header(
                    style(text.into_owned()).bold().to_string(),
                    format!(
                        "{}, {parallel} in parallel",
                        crate::text::plural(*tasks, "task")
                    ),
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
            Event::TaskFinished {
                task,
                title,
                attempt,
                outcome,
                duration,
                report,
                log,
                tail,
                ..
            } => self.task_finished(
                task,
                title,
                *attempt,
                outcome,
                *duration,
                report.cost_usd,
                log,
                tail,
            ),
            Event::TaskRetry {
                task, attempt, of, ..
            } => {
                self.println(format!(
                    "{} {} will be tried again: attempt {attempt} of {of}",
                    style("↻").yellow(),
                    style(task).bold()
                ));
                self.enqueue(task, false, &format!(" (attempt {attempt} of {of})"));
            }
            Event::UsageLimitWait {
                task,
                until,
                resets_at,
                ..
            } => {
                let resets = resets_at
                    .map(|r| format!(" (the limit resets {})", r.format("%H:%M:%S")))
                    .unwrap_or_default();
                self.println(format!(
                    "{} usage limit reached{resets}: no new task until {}, then {} resumes",
                    style("⏸").yellow(),
                    until.format("%Y-%m-%d %H:%M:%S"),
                    style(task).bold()
                ));
                self.usage_wait(task, *until);
            }
            Event::UsageLimitResume { task, .. } => {
                self.end_wait();
                self.println(format!(
                    "{} {} resumes after the usage limit",
                    style("↻").yellow(),
                    style(task).bold()
                ));
            }
            Event::GroupFinished {
                key,
                counts,
                duration,
            } => {
                self.end_wait();
                self.clear_queue();
                let line = counts.group_line();
                let counts = if counts.did_not_succeed() > 0 {
                    style(line).red()
                } else {
                    style(line)
                };
                self.println(format!(
                    "{}: {counts} in {}",
                    group_name(key),
                    short_duration(*duration)
                ));
            }
            Event::GroupSkipped { key, reason } => self.println(
                style(format!(
                    "– {} skipped: {}",
                    group_name(key),
                    one_line(reason)
                ))
                .dim()
                .to_string(),
            ),
            Event::GateStarted { key, steps, .. } => self.println(
                style(format!(
                    "{} gate: {} ({})",
                    group_name(key),
                    crate::text::plural(steps.len(), "step"),
                    steps.join(", ")
                ))
                .dim()
                .to_string(),
            ),
            Event::GateStepStarted { step, .. } => self.gate_step(step),
            Event::GateStepFinished {
                step,
                status,
                duration,
                tail,
                ..
            } => {
                self.end_gate_step();
                let mark = match status.as_str() {
                    "passed" => style("✔").green(),
                    "warning" => style("⚠").yellow(),
                    _ => style("✘").red(),
                };
                self.println(format!(
                    "{mark} gate: {}  {status}{}",
                    style(step).bold(),
                    step_time(status, *duration)
                ));
                let width = self.width();
                let skip = tail.len().saturating_sub(2 * TAIL_LINES);
                for l in &tail[skip..] {
                    let l = format!("    │ {}", one_line(l));
                    self.println(style(truncate_str(&l, width, "…")).dim().to_string());
                }
            }
            Event::GateFinished { key, passed, log } => {
                self.end_gate_step();
                if *passed {
                    self.println(format!(
                        "{} {} gate passed",
                        style("✔").green(),
                        group_name(key)
                    ));
                } else {
                    self.println(format!(
                        "{} {} gate {}, log {}",
                        style("✘").red(),
                        group_name(key),
                        style("FAILED").red().bold(),
                        log.display()
                    ));
                }
            }
            Event::GroupCompleted { key, report } => {
                let report = report
                    .as_ref()
                    .map(|r| format!(", report {}", r.display()))
                    .unwrap_or_default();
                self.println(format!(
                    "{} {} complete{}",
                    style("✔").green(),
                    group_name(key),
                    style(report).dim()
                ));
            }
            Event::PhaseCommitted {
                phase,
                title,
                commit,
            } => self.println(format!(
                "{} Phase {phase}: {title} committed as {}",
                style("●").green(),
                style(&commit[..commit.len().min(12)]).bold()
            )),
            Event::PhasePushed {
                phase,
                remote,
                branch,
                commits,
            } => {
                let what = super::pushed_commits(phase.as_ref(), *commits);
                self.println(format!(
                    "{} {what} to {remote}/{branch}",
                    style("↑").green()
                ));
            }
            Event::Stopping { reason } => {
                // Nothing new starts: the rows go now, so none is left frozen
                // above the stop line while the agents wind down.
                self.clear_all();
                self.stopping = true;
                // Wrapped, not cut: it says what a second signal does.
                let text = format!("stopping: {}", one_line(reason));
                let lines = wrap_words(&text, self.width().saturating_sub(2).max(20));
                for (i, l) in lines.iter().enumerate() {
                    let mark = if i == 0 {
                        style("■").yellow()
                    } else {
                        style(" ")
                    };
                    self.println(format!("{mark} {l}"));
                }
            }
            Event::RunFinished { summary } => {
                self.clear_all();
                self.done = true;
                self.quiet_echo = None;
                let _ = write!(self.out, "{}", super::summary::render(summary));
                let _ = self.out.flush();
            }
        }
    }
}

/// `text` in lines of at most `width` columns, broken between words (a word
/// longer than a line gets a line of its own).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let wanted = console::measure_text_width(&line) + 1 + console::measure_text_width(word);
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

fn plain_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("valid progress template")
}

fn spinner_style(template: &str) -> ProgressStyle {
    plain_style(template).tick_strings(SPINNER)
}

fn group_name(key: &GroupKey) -> String {
    format!("Phase {} Group {}", key.phase, key.group)
}

/// `Phase 1: Foundation · Group A: Database (Parallel, after A)`.
fn group_heading(
    key: &GroupKey,
    phase_title: &str,
    title: &str,
    annotation: Option<&str>,
) -> String {
    let mut s = format!("Phase {}", key.phase);
    if !phase_title.is_empty() {
        let _ = write!(s, ": {phase_title}");
    }
    let _ = write!(s, " · Group {}", key.group);
    if !title.is_empty() {
        let _ = write!(s, ": {title}");
    }
    if let Some(a) = annotation.filter(|a| !a.is_empty()) {
        let _ = write!(s, " ({a})");
    }
    s
}

fn title_of(r: &Running) -> String {
    if r.attempt > 1 {
        format!("{} (attempt {})", r.title, r.attempt)
    } else {
        r.title.clone()
    }
}

/// A live clock: whole seconds, so it does not flicker: `12s`, `1m 05s`, `1h 02m`.
pub fn clock(d: Duration) -> String {
    match d.as_secs() {
        s @ 0..60 => format!("{s}s"),
        _ => crate::text::short_duration(d),
    }
}

/// ` in 2.3s`; nothing for a step that did not run (it has no duration).
fn step_time(status: &str, d: Duration) -> String {
    if status == "not run" {
        String::new()
    } else {
        format!(" in {}", short_duration(d))
    }
}

/// The first line, control characters made spaces: one text never breaks a row.
fn one_line(text: &str) -> String {
    text.trim()
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn measure(s: &str) -> usize {
    console::measure_text_width(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentReport;
    use crate::events::{RunSummary, TaskSummary};
    use indicatif::InMemoryTerm;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

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
        assert_eq!(one_line("  a\u{1b}[31mb\nc"), "a [31mb");
    }
}
