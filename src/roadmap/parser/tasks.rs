//! Reading tasks: table rows, list items, Kiro's numbered checklist and
//! GSD's phase list, and where each task goes (its group, its id).

use super::{Builder, Dest, GroupKind, OpenGroup, offset, slice};
use crate::roadmap::blocks::{self, BlockKind, Item, Table};
use crate::roadmap::body::dedent;
use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::dialect::Dialect;
use crate::roadmap::ids::{derived_id, unique};
use crate::roadmap::model::{DoneMark, Field, Group, Phase, PhaseId, Span, Task, is_id};
use crate::roadmap::syntax::{self, HeadCtx, TaskHead};
use std::borrow::Cow;

/// What a task syntax adds besides its head.
#[derive(Default)]
pub(super) struct TaskParts {
    pub fields: Vec<Field>,
    pub body: String,
    pub done: bool,
    pub done_mark: Option<DoneMark>,
}

/// First-column names that make a bare number an id (`| 1 | Title |`).
const ID_COLUMNS: [&str; 8] = ["id", "#", "no", "no.", "task", "item", "step", "plan"];

impl<'s> Builder<'s> {
    /// A table: rows whose first cell starts with a task id are tasks; a
    /// table without any is context.
    pub(super) fn table(&mut self, t: &Table, span: Span) {
        let heads = self.row_heads(t);
        if heads.iter().all(Option::is_none) {
            self.context(self.context_dest(), span);
            return;
        }
        let names: Vec<String> = t
            .header
            .iter()
            .map(|&c| syntax::clean_title(self.text(c)).0)
            .collect();
        self.reserve_tasks(t.rows.len());
        for (row, head) in t.rows.iter().zip(heads) {
            let cells = t.cells.get(row.cells.clone()).unwrap_or(&[]);
            let Some(first) = cells.first().copied() else {
                continue;
            };
            let Some(mut head) = head else {
                self.non_task_row(first);
                continue;
            };
            // A bare id column: the title is the next cell.
            let skip = usize::from(head.title.is_empty() && cells.len() > 1);
            if skip == 1 {
                let (title, done) = syntax::clean_title(&cell_value(self.text(cells[1])));
                head.title = title;
                head.done |= done;
            }
            let parts = self.fields(&names, cells, 1 + skip);
            self.add_task(head, first.start, row.span, parts);
        }
    }

    /// The task head of each row's first cell; a bare number counts only
    /// under an id-like column name (`| # | Task |`).
    fn row_heads(&self, t: &Table) -> Vec<Option<TaskHead>> {
        let id_column = t.header.first().is_some_and(|&h| {
            let name = syntax::clean_title(self.text(h)).0.to_ascii_lowercase();
            ID_COLUMNS.contains(&name.as_str())
        });
        t.rows
            .iter()
            .map(|r| {
                let first = t.cells.get(r.cells.start).copied()?;
                let text = self.text(first);
                if id_column && let Some(head) = whole_cell_id(text) {
                    return Some(head);
                }
                let head = syntax::task_head(text, HeadCtx::Marked)?;
                let id = head.id.as_ref()?;
                let number = text[id.value.clone()].bytes().all(|b| b.is_ascii_digit());
                (id.letters.is_some() || id_column || !number).then_some(head)
            })
            .collect()
    }

    /// Named fields from the cells after `from`; a `Status` column with ✅
    /// or "done" marks the task done (and is where write-back ticks it).
    fn fields(&self, names: &[String], cells: &[Span], from: usize) -> TaskParts {
        let mut parts = TaskParts::default();
        parts.fields.reserve(cells.len().saturating_sub(from));
        for (i, &cell) in cells.iter().enumerate().skip(from) {
            let value = cell_value(self.text(cell));
            let name = match names.get(i) {
                Some(n) => n.clone(),
                None => format!("Column {}", i + 1),
            };
            if name.eq_ignore_ascii_case("status") {
                parts.done |= syntax::is_done_status(&value);
                parts.done_mark = Some(DoneMark::StatusCell { span: cell });
            }
            parts.fields.push(Field { name, value });
        }
        parts
    }

    fn non_task_row(&mut self, first: Span) {
        if first.end == first.start {
            return;
        }
        self.diags.push(
            Diagnostic::warning(
                "non-task-row",
                first,
                "this row of a task table does not start with a task id; it is ignored",
            )
            .with_help("start the first cell with an id, e.g. `**A4: Title**`, or move the row out of the table"),
        );
    }

    /// List items starting with a task id, and checklist items, are tasks;
    /// the others are context.
    pub(super) fn list(&mut self, items: &[Item]) {
        self.reserve_tasks(items.len());
        for item in items {
            match self.item_head(item) {
                Some((h, head)) => {
                    let parts = TaskParts {
                        fields: Vec::new(),
                        body: dedent(self.text(item.body)),
                        done: item.checked == Some(true),
                        done_mark: item.marker.map(|span| DoneMark::Checkbox { span }),
                    };
                    self.add_task(head, h.start, item.span, parts);
                }
                None => {
                    let dest = self.context_dest();
                    if let Dest::Group(pi, gi) = dest
                        && item.head.is_some()
                    {
                        self.loose.push((pi, gi, item.clone()));
                    }
                    self.context(dest, item.span);
                }
            }
        }
    }

    /// A heading group without any task takes its plain list items as
    /// tasks (derived ids): the list is what its author meant to be done.
    pub(super) fn promote_loose_items(&mut self) {
        let loose = std::mem::take(&mut self.loose);
        let groups = &self.roadmap.phases;
        let empty: Vec<bool> = loose
            .iter()
            .map(|&(pi, gi, _)| groups[pi].groups[gi].tasks.is_empty())
            .collect();
        let mut promoted = std::collections::HashSet::new();
        for ((pi, gi, item), empty) in loose.into_iter().zip(empty) {
            let Some(h) = item.head.filter(|_| empty) else {
                continue;
            };
            let title = syntax::clean_title(self.text(h)).0;
            let id = self.derive_id(pi, &title);
            self.record_id(pi, Cow::Owned(id.clone()), Span::new(h.start, h.start));
            promoted.insert(item.span.start);
            let body = dedent(self.text(item.body));
            self.roadmap.phases[pi].groups[gi].tasks.push(Task {
                id,
                title,
                fields: Vec::new(),
                body,
                done_in_roadmap: false,
                done_mark: None,
                optional: false,
                derived_id: true,
                span: item.span,
            });
        }
        if !promoted.is_empty() {
            self.contexts.retain(|(_, s)| !promoted.contains(&s.start));
        }
    }

    /// The task head of a list item, with the span of the text it was read from.
    fn item_head(&self, item: &Item) -> Option<(Span, TaskHead)> {
        let h = item.head?;
        let ctx = if item.checked.is_some() {
            HeadCtx::Checklist
        } else {
            HeadCtx::Item
        };
        let text = self.text(h);
        if self.dialect == Dialect::Gsd && syntax::bold_phase_item(text).is_some() {
            return None;
        }
        let head = syntax::task_head(text, ctx)?;
        (head.id.is_some() || !head.title.is_empty()).then_some((h, head))
    }

    /// Lists that a dialect reads its own way: Kiro's numbered checklist
    /// (phases and their sub-tasks) and GSD's phase list. True if consumed.
    pub(super) fn dialect_list(&mut self, items: &[Item]) -> bool {
        let src = self.src;
        let mut heads = items.iter().filter_map(|i| i.head.map(|h| slice(src, h)));
        match self.dialect {
            Dialect::Kiro if heads.any(syntax::is_numbered_item) => {
                items.iter().for_each(|item| self.kiro_item(item));
                true
            }
            Dialect::Gsd if heads.any(|h| syntax::bold_phase_item(h).is_some()) => {
                items.iter().for_each(|item| self.gsd_phase_item(item));
                true
            }
            _ => false,
        }
    }

    /// GSD: `- [x] **Phase 12.1: Title** - what (INSERTED)` lists a phase.
    fn gsd_phase_item(&mut self, item: &Item) {
        let parsed = item
            .head
            .and_then(|h| syntax::bold_phase_item(self.text(h)).map(|p| (h, p)));
        let Some((h, (head, _))) = parsed else {
            return;
        };
        let Some(number) = head.number else { return };
        if self.listed.iter().any(|p| p.number == number) {
            let span = offset(h.start, &head.number_span);
            self.check_listed_duplicate(&number, span);
            return;
        }
        self.listed.push(Phase {
            number,
            title: head.title,
            annotation: head.annotation,
            context: String::new(),
            groups: Vec::new(),
            done_in_roadmap: head.done || item.checked == Some(true),
            span: h,
        });
    }

    fn check_listed_duplicate(&mut self, number: &PhaseId, span: Span) {
        self.diags.push(
            Diagnostic::error(
                "duplicate-phase",
                span,
                format!("phase `{number}` is listed twice"),
            )
            .with_help("list each phase once; give an inserted phase its own number, e.g. `12.1`"),
        );
    }

    /// Kiro: a top-level `- [ ] N. Title` is phase N; its `N.M` sub-items are
    /// its tasks, one group each; without sub-items it is its own task.
    fn kiro_item(&mut self, item: &Item) {
        let head = item.head.and_then(|h| {
            let text = self.text(h);
            syntax::is_numbered_item(text)
                .then(|| syntax::task_head(text, HeadCtx::Checklist))
                .flatten()
                .map(|t| (h, t))
        });
        let Some((h, head)) = head.filter(|(_, t)| t.id.is_some()) else {
            let dest = self
                .roadmap
                .phases
                .len()
                .checked_sub(1)
                .map_or(Dest::Roadmap, Dest::Phase);
            self.context(dest, item.span);
            return;
        };
        let text = self.text(h);
        let written = head.id.as_ref().map(|id| &text[id.value.clone()]);
        let Some(number) = written.and_then(PhaseId::parse) else {
            return;
        };
        let done = item.checked == Some(true) || head.done;
        self.check_phase_number(
            &number,
            offset(h.start, &head.id.as_ref().map_or(0..0, |i| i.span.clone())),
        );
        self.push_phase(number, head.title.clone(), None, done, h);
        if self.kiro_sub_tasks(item) == 0 {
            let parts = TaskParts {
                fields: Vec::new(),
                body: dedent(self.text(item.body)),
                done,
                done_mark: item.marker.map(|span| DoneMark::Checkbox { span }),
            };
            self.add_task(head, h.start, item.span, parts);
        }
        self.region = super::Region::Outside;
    }

    /// The checklist items nested in a Kiro item; returns how many became tasks.
    fn kiro_sub_tasks(&mut self, item: &Item) -> usize {
        let pi = self.roadmap.phases.len() - 1;
        let mut n = 0;
        for b in blocks::collect_in(self.src, item.body) {
            let BlockKind::List(subs) = &b.kind else {
                self.context(Dest::Phase(pi), b.span);
                continue;
            };
            for sub in subs {
                match self.item_head(sub).filter(|(_, t)| t.id.is_some()) {
                    Some((h, head)) => {
                        let parts = TaskParts {
                            fields: Vec::new(),
                            body: dedent(self.text(sub.body)),
                            done: sub.checked == Some(true),
                            done_mark: sub.marker.map(|span| DoneMark::Checkbox { span }),
                        };
                        self.add_task(head, h.start, sub.span, parts);
                        n += 1;
                    }
                    None => self.context(Dest::Phase(pi), sub.span),
                }
            }
        }
        n
    }

    /// Room for `n` more tasks in the open group: growing a `Vec<Task>` one
    /// row at a time moved about as many bytes as the input holds.
    fn reserve_tasks(&mut self, n: usize) {
        if self.group.is_some()
            && let Some(g) = self
                .roadmap
                .phases
                .last_mut()
                .and_then(|p| p.groups.last_mut())
        {
            g.tasks.reserve(n);
        }
    }

    /// Adds a task to the last phase, in the open group or an implicit one;
    /// returns its indices.
    pub(super) fn add_task(
        &mut self,
        head: TaskHead,
        base: usize,
        span: Span,
        parts: TaskParts,
    ) -> Option<(usize, usize, usize)> {
        let pi = self.roadmap.phases.len().checked_sub(1)?;
        let id_span = head
            .id
            .as_ref()
            .map_or(Span::new(span.start, span.start), |t| offset(base, &t.span));
        let written = head.id.as_ref().map(|t| self.text(offset(base, &t.value)));
        let (id, derived) = match written {
            Some(v) => (Cow::Borrowed(v), false),
            None => (Cow::Owned(self.derive_id(pi, &head.title)), true),
        };
        let gi = self.target_group(pi, &id, head.parallel, span);
        if let Some(letters) = head.id.as_ref().and_then(|t| t.letters.clone()) {
            self.check_letters(pi, gi, offset(base, &letters), id_span);
        }
        if head.title.is_empty() {
            self.empty_title(&id, id_span);
        }
        self.record_id(pi, id.clone(), id_span);
        let done_mark = parts
            .done_mark
            .or(head.checkbox.as_ref().map(|r| DoneMark::Checkbox {
                span: offset(base, r),
            }));
        let task = Task {
            id: id.into_owned(),
            title: head.title,
            fields: parts.fields,
            body: parts.body,
            done_in_roadmap: head.done || parts.done,
            done_mark,
            optional: head.optional,
            derived_id: derived,
            span,
        };
        let tasks = &mut self.roadmap.phases[pi].groups[gi].tasks;
        tasks.push(task);
        Some((pi, gi, tasks.len() - 1))
    }

    /// `B1` in group A: a warning (only for letter groups named by a heading).
    fn check_letters(&mut self, pi: usize, gi: usize, letters: Span, id_span: Span) {
        let group = &self.roadmap.phases[pi].groups[gi];
        if !group.derived_id
            && group.id.bytes().all(|b| b.is_ascii_uppercase())
            && self.text(letters) != group.id
        {
            self.deferred.push(super::Deferred::Mismatch {
                phase: pi,
                id: id_span,
                group: group.id.clone(),
            });
        }
    }

    fn empty_title(&mut self, id: &str, id_span: Span) {
        self.diags.push(
            Diagnostic::warning(
                "empty-task-title",
                id_span,
                format!("task `{id}` has no title"),
            )
            .with_help(format!(
                "write a title after the id, e.g. `{id}: Database schema`"
            )),
        );
    }

    /// The group a new task goes to: the open heading group, or an implicit
    /// group by the dialect's rule (created when needed).
    fn target_group(&mut self, pi: usize, id: &str, parallel: bool, span: Span) -> usize {
        let kind = if self.dialect.sequential() {
            GroupKind::Single
        } else if self.dialect == Dialect::SpecKit {
            if parallel {
                GroupKind::ParallelRun
            } else {
                GroupKind::Single
            }
        } else {
            GroupKind::Implicit
        };
        let groups = self.roadmap.phases[pi].groups.len();
        let joins = match &self.group {
            Some(g) if g.kind == GroupKind::Heading => true,
            Some(g) => g.kind == kind && kind != GroupKind::Single,
            None => false,
        };
        if joins && groups > 0 {
            return groups - 1;
        }
        let gid = self.free_group_id(pi, &id.to_ascii_uppercase());
        self.roadmap.phases[pi].groups.push(Group {
            id: gid,
            title: String::new(),
            annotation: None,
            after: Vec::new(),
            context: String::new(),
            tasks: Vec::new(),
            derived_id: true,
            span,
        });
        self.group = Some(OpenGroup {
            level: u8::MAX,
            kind,
            context_closed: false,
        });
        groups
    }

    /// `base`, or `base-2`, `base-3`... when the phase already has it.
    fn free_group_id(&self, pi: usize, base: &str) -> String {
        let groups = &self.roadmap.phases[pi].groups;
        let taken = |id: &str| groups.iter().any(|g| g.id == id);
        unique(base, taken)
    }

    /// A checklist item's id: `t` and 6 hex digits of its title's hash, so
    /// it depends on nothing but the title; a repeated title in the same
    /// phase gets `-2`, `-3`.
    fn derive_id(&self, pi: usize, title: &str) -> String {
        derived_id(title, |id| {
            self.ids.contains_key(&(pi, Cow::Owned(id.to_string())))
        })
    }

    /// Remembers the id (per phase) for duplicate detection; an id written
    /// in the roadmap is borrowed, not copied.
    fn record_id(&mut self, pi: usize, id: Cow<'s, str>, span: Span) {
        let key = (pi, id);
        if let Some(&first) = self.ids.get(&key) {
            self.deferred.push(super::Deferred::Duplicate {
                phase: pi,
                id: span,
                value: key.1.into_owned(),
                first,
            });
        } else {
            self.ids.insert(key, span);
        }
    }

    /// Sets the body of the open heading task: its text up to `boundary`.
    pub(super) fn close_heading_task(&mut self, boundary: usize) {
        let Some(ht) = self.heading_task.take() else {
            return;
        };
        let Some((pi, gi, ti)) = ht.target else {
            return;
        };
        let end = boundary.max(ht.body_start);
        let raw = self.text(Span::new(ht.body_start, end));
        let body = normalize(raw);
        let trimmed_end = ht.body_start + raw.trim_end().len();
        let superpowers = self.dialect == Dialect::Superpowers;
        let task = self
            .roadmap
            .phases
            .get_mut(pi)
            .and_then(|p| p.groups.get_mut(gi))
            .and_then(|g| g.tasks.get_mut(ti));
        if let Some(task) = task {
            task.body = body;
            task.span.end = task.span.end.max(trimmed_end);
            let (n, all, first) = ht.checks;
            if superpowers && n > 0 {
                task.done_in_roadmap |= all;
                if n == 1 && task.done_mark.is_none() {
                    task.done_mark = first.map(|span| DoneMark::Checkbox { span });
                }
            }
        }
    }
}

/// Under an `ID` column, a cell that is one id with a digit is that id as
/// written (`M0-DOC-001`, `T040a`), not the part the task grammar reads.
fn whole_cell_id(text: &str) -> Option<TaskHead> {
    let v = text.trim();
    let at = text.len() - text.trim_start().len();
    if !is_id(v)
        || !v.bytes().any(|b| b.is_ascii_digit())
        || !v.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let span = at..at + v.len();
    Some(TaskHead {
        id: Some(syntax::IdToken {
            span: span.clone(),
            value: span,
            letters: None,
        }),
        title: String::new(),
        done: false,
        checkbox: None,
        optional: false,
        parallel: false,
    })
}

/// A table cell's value: trimmed, escaped pipes unescaped.
fn cell_value(raw: &str) -> String {
    let v = raw.trim();
    if v.contains("\\|") {
        v.replace("\\|", "|")
    } else {
        v.to_string()
    }
}

/// Source text with CRLF turned into LF, trimmed.
pub(super) fn normalize(raw: &str) -> String {
    let t = raw.trim();
    if t.contains('\r') {
        t.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        t.to_string()
    }
}
