//! A sub-roadmap in the live view: its group's rows drawn beneath the task
//! that split, under the group that task belongs to. While it runs, a row
//! per task that split (outermost first, `↳ A2 Task A2  split: 1/3 sub-tasks
//! done`), the sub-group's heading, then its running and queued rows, all
//! indented by depth.

use super::LiveReporter;
use super::rows::plain_style;
use crate::report::words;
use crate::roadmap::GroupKey;
use console::style;

/// Where the rows and lines of group `key` start: nothing for a group of
/// the roadmap, two columns more per sub-roadmap level beneath its task's row.
pub(super) fn indent(key: &GroupKey) -> String {
    match key.depth() {
        0 => String::new(),
        d => "  ".repeat(d + 1),
    }
}

/// `Group 1:A:A2/1:A: First (Parallel)`.
fn sub_heading(key: &GroupKey, title: &str, annotation: Option<&str>) -> String {
    let mut s = format!("Group {}:{}", key.phase, key.group);
    if !title.is_empty() {
        s.push_str(&format!(": {title}"));
    }
    if let Some(a) = annotation.filter(|a| !a.is_empty()) {
        s.push_str(&format!(" ({a})"));
    }
    s
}

impl LiveReporter {
    /// The indentation of the task rows drawn now.
    pub(super) fn rows_indent(&self) -> String {
        self.sub_group.as_ref().map(indent).unwrap_or_default()
    }

    /// A sub-roadmap's group starts: the header stays its root group's, the
    /// rows of the tasks that split and of the sub-group go beneath it.
    pub(super) fn sub_group_started(
        &mut self,
        key: &GroupKey,
        title: &str,
        annotation: Option<&str>,
        tasks: usize,
        parallel: usize,
    ) {
        if self.header.is_none() {
            // Resumed inside a sub-roadmap: the group its outermost split is in.
            let mut root = key.clone();
            while let Some((parent, _)) = root.parent_task() {
                root = parent;
            }
            let text = format!("Phase {} · Group {}", root.phase, root.group);
            self.set_header(style(text).bold().to_string(), String::new());
        }
        self.clear_nest();
        self.sub_group = Some(key.clone());
        for _ in self.splits.ancestors(key) {
            let index = self.header_rows();
            let bar = self.row(index, plain_style("{prefix}"), None);
            self.nest.push(bar);
        }
        self.refresh_nest();
        let index = self.header_rows();
        let bar = self.row(index, plain_style("{prefix}  {msg}"), None);
        bar.set_prefix(format!(
            "{}{}",
            indent(key),
            style(sub_heading(key, title, annotation)).bold()
        ));
        bar.set_message(style(words::group_size(tasks, parallel)).dim().to_string());
        self.nest.push(bar);
    }

    /// The split tasks' rows say how far their sub-roadmaps got.
    pub(super) fn refresh_nest(&self) {
        let Some(key) = &self.sub_group else {
            return;
        };
        for (p, bar) in self.splits.ancestors(key).into_iter().zip(&self.nest) {
            bar.set_prefix(format!(
                "{}↳ {}  {}",
                "  ".repeat(p.key.depth() + 1),
                style(p.label()).bold(),
                style(p.progress()).dim()
            ));
        }
    }

    pub(super) fn clear_nest(&mut self) {
        for bar in std::mem::take(&mut self.nest) {
            self.remove(&bar);
        }
        self.sub_group = None;
    }
}
