//! The live view's rows: the header, one per running task, one per queued
//! task, the usage-limit wait and the gate step. They redraw in place and
//! are gone once what they show is over.

use super::{LiveReporter, Running};
use crate::text::{one_line, short_duration};
use chrono::{DateTime, Local};
use console::{Alignment, pad_str, style, truncate_str};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::time::Duration;

const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", " "];
/// Longest title in a running row, in columns.
pub(super) const MAX_TITLE: usize = 48;

impl LiveReporter {
    /// A new row at `index` (0 = top). The style is set once the bar belongs
    /// to the multi, so it styles for stdout, not indicatif's default stderr.
    /// Once stopping, a row is never drawn (the bar stays hidden).
    pub(super) fn row(
        &self,
        index: usize,
        style: ProgressStyle,
        tick: Option<Duration>,
    ) -> ProgressBar {
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

    pub(super) fn remove(&self, bar: &ProgressBar) {
        bar.finish_and_clear();
        self.multi.remove(bar);
    }

    pub(super) fn header_rows(&self) -> usize {
        usize::from(self.header.is_some()) + self.nest.len()
    }

    pub(super) fn clear_queue(&mut self) {
        for (_, bar) in std::mem::take(&mut self.queued) {
            self.remove(&bar);
        }
    }

    pub(super) fn enqueue(&mut self, id: &str, front: bool, note: &str) {
        if self.queued.iter().any(|(q, _)| q == id) {
            return;
        }
        let head = self.header_rows() + self.running.len() + usize::from(self.wait.is_some());
        let (index, at) = if front {
            (head, 0)
        } else {
            (head + self.queued.len(), self.queued.len())
        };
        let template = format!("{}  {{prefix}}", self.rows_indent());
        let bar = self.row(index, plain_style(&template), None);
        bar.set_prefix(format!(
            "{} {}",
            style(id).dim(),
            style(format!("queued{note}")).dim()
        ));
        self.queued.insert(at, (id.to_string(), bar));
    }

    pub(super) fn dequeue(&mut self, id: &str) {
        if let Some(i) = self.queued.iter().position(|(q, _)| q == id) {
            let (_, bar) = self.queued.remove(i);
            self.remove(&bar);
        }
    }

    /// Ids and titles padded to the widest of the running tasks, so the
    /// clocks line up; titles cut to leave room for the activity.
    pub(super) fn relayout(&self) {
        let id_w = self
            .running
            .iter()
            .map(|r| r.id.chars().count())
            .max()
            .unwrap_or(0);
        // indent, spinner, id, title, clock (`1m 05s / 1h 00m`), at least 20 of activity.
        let indent = self.rows_indent().len();
        let room = self
            .width()
            .saturating_sub(indent + 2 + id_w + 1 + 2 + 14 + 2 + 20);
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

    pub(super) fn set_header(&mut self, text: String, detail: String) {
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

    pub(super) fn task_started(&mut self, id: &str, title: &str, attempt: u32, timeout: Duration) {
        self.dequeue(id);
        if let Some(i) = self.running.iter().position(|r| r.id == id) {
            let old = self.running.remove(i);
            self.remove(&old.bar);
        }
        let limit = short_duration(timeout);
        let template = format!(
            "{}{{spinner:.cyan}} {{prefix}}  {{clock}}  {{wide_msg}}",
            self.rows_indent()
        );
        let st = spinner_style(&template).with_key(
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

    /// A finished task's row goes; the others close up.
    pub(super) fn task_gone(&mut self, id: &str) {
        if let Some(i) = self.running.iter().position(|r| r.id == id) {
            let r = self.running.remove(i);
            self.remove(&r.bar);
            self.relayout();
        }
    }

    pub(super) fn task_activity(&self, id: &str, text: &str) {
        if let Some(r) = self.running.iter().find(|r| r.id == id) {
            r.bar.set_message(style(one_line(text)).dim().to_string());
        }
    }

    pub(super) fn usage_wait(&mut self, task: &str, until: DateTime<Local>) {
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

    pub(super) fn end_wait(&mut self) {
        if let Some(old) = self.wait.take() {
            self.remove(&old);
        }
    }

    pub(super) fn gate_step(&mut self, step: &str) {
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

    pub(super) fn end_gate_step(&mut self) {
        if let Some(old) = self.gate.take() {
            self.remove(&old);
        }
    }

    /// Every row gone, nothing ticking: the screen keeps only permanent lines.
    pub(super) fn clear_all(&mut self) {
        let mut bars: Vec<ProgressBar> = Vec::new();
        bars.extend(self.header.take());
        bars.append(&mut self.nest);
        self.sub_group = None;
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

pub(super) fn plain_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("valid progress template")
}

fn spinner_style(template: &str) -> ProgressStyle {
    plain_style(template).tick_strings(SPINNER)
}

fn title_of(r: &Running) -> String {
    if r.attempt > 1 {
        format!("{} (attempt {})", r.title, r.attempt)
    } else {
        r.title.clone()
    }
}

/// A live clock: whole seconds, so it does not flicker: `12s`, `1m 05s`, `1h 02m`.
pub(super) fn clock(d: Duration) -> String {
    match d.as_secs() {
        s @ 0..60 => format!("{s}s"),
        _ => crate::text::short_duration(d),
    }
}
