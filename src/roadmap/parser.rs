//! ROADMAP.md parser.
//!
//! Two passes: `blocks::collect` turns pulldown-cmark's
//! offset iterator into top-level blocks with byte spans; `Builder` walks
//! those blocks with a small state machine (preamble → phase → group → task)
//! and fills the [`Roadmap`]. Inline details (ids, titles, annotations) are
//! read from the raw source of a heading, cell or item line by `syntax`.
//!
//! Decisions worth knowing:
//! - Phases are the phase headings at the *shallowest* level any phase
//!   heading uses (for ordinary roadmaps that is the level of the first
//!   one), so `### Phase 1 (4 agents max)` under an `## Agent Assignment`
//!   section is not a phase.
//! - A non-phase heading at the phase level (or above) ends the phase; what
//!   follows belongs to nobody until the next phase heading. Only the text
//!   before the first phase is roadmap context.
//! - A task outside a group is reported (`task-outside-group`) and dropped.
//! - Duplicates (phases, groups, task ids) are errors but are kept in the
//!   model, so callers see everything; callers must refuse to run when
//!   [`has_errors`](super::diagnostics::has_errors) is true.
//! - Spans: phases and groups span their heading; a task spans its table row,
//!   list item, or heading plus body. All offsets index the original source,
//!   BOM and CRLF included.

use super::blocks::{self, Block, BlockKind, Item, Table};
use super::diagnostics::{Diagnostic, LineIndex};
use super::model::{Field, Group, Phase, PhaseId, Roadmap, Span, Task};
use super::syntax::{self, GroupHead, PhaseHead, TaskHead};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The result of parsing: the roadmap as far as it could be read, and every diagnostic.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub roadmap: Roadmap,
    pub diagnostics: Vec<Diagnostic>,
}

const BOM: &str = "\u{feff}";

/// The pulldown-cmark options the roadmap is read with.
pub fn markdown_options() -> pulldown_cmark::Options {
    blocks::options()
}

/// Parses a roadmap. Never panics; problems become diagnostics, sorted by
/// position.
pub fn parse(source: &str) -> Parsed {
    let base = if source.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let blocks = blocks::collect(source, base);
    let mut builder = Builder::new(source, phase_level(source, &blocks), task_capacity(&blocks));
    for block in &blocks {
        builder.block(block);
    }
    builder.finish()
}

/// An upper bound on the task count (rows + list items), to size the id map.
fn task_capacity(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match &b.kind {
            BlockKind::Table(t) => t.rows.len(),
            BlockKind::List(items) => items.len(),
            BlockKind::Heading { .. } => 1,
            _ => 0,
        })
        .sum()
}

/// The shallowest heading level used by a phase heading.
fn phase_level(source: &str, blocks: &[Block]) -> Option<u8> {
    blocks
        .iter()
        .filter_map(|b| match b.kind {
            BlockKind::Heading { level, content } => {
                syntax::phase_head(slice(source, content)).map(|_| level)
            }
            _ => None,
        })
        .min()
}

fn slice(source: &str, s: Span) -> &str {
    source.get(s.start..s.end).unwrap_or("")
}

/// Where in the document we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    /// Before the first phase: roadmap context.
    Preamble,
    /// Inside the last phase of the roadmap.
    Phase,
    /// In a non-phase section after a phase: belongs to nobody.
    Outside,
}

/// Where a piece of context text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Dest {
    Roadmap,
    Phase(usize),
    Group(usize, usize),
}

/// The group being filled (always the last group of the last phase).
struct OpenGroup {
    level: u8,
    /// After a `---`, non-task text goes to the phase instead.
    context_closed: bool,
}

/// A `#### A1: Title` task whose body runs to the next heading at its level.
struct HeadingTask {
    level: u8,
    body_start: usize,
    /// `(phase, group, task)` indices, `None` when the task was dropped.
    target: Option<(usize, usize, usize)>,
}

/// Diagnostics whose help depends on the whole roadmap (a free task id).
enum Deferred {
    Duplicate { id: Span, first: Span },
    Mismatch { id: Span, group: String },
}

struct Builder<'s> {
    src: &'s str,
    phase_level: Option<u8>,
    roadmap: Roadmap,
    diags: Vec<Diagnostic>,
    region: Region,
    group: Option<OpenGroup>,
    /// After a `**Phase N Deliverables:**` paragraph: phase context until the
    /// next heading, no task detection.
    notes: bool,
    heading_task: Option<HeadingTask>,
    contexts: Vec<(Dest, Span)>,
    /// First definition of each task id.
    ids: HashMap<&'s str, Span, BuildHasherDefault<IdHasher>>,
    deferred: Vec<Deferred>,
    lines: Option<LineIndex>,
}

impl<'s> Builder<'s> {
    fn new(src: &'s str, phase_level: Option<u8>, tasks: usize) -> Self {
        Builder {
            src,
            phase_level,
            roadmap: Roadmap::default(),
            diags: Vec::new(),
            region: Region::Preamble,
            group: None,
            notes: false,
            heading_task: None,
            contexts: Vec::new(),
            ids: HashMap::with_capacity_and_hasher(tasks, BuildHasherDefault::default()),
            deferred: Vec::new(),
            lines: None,
        }
    }

    fn text(&self, s: Span) -> &'s str {
        slice(self.src, s)
    }

    /// 1-based line of an offset (index built on first use).
    fn line(&mut self, offset: usize) -> usize {
        let src = self.src;
        self.lines
            .get_or_insert_with(|| LineIndex::new(src))
            .line(offset)
    }

    fn block(&mut self, b: &Block) {
        if let BlockKind::Heading { level, content } = b.kind {
            self.heading(level, content, b.span);
            return;
        }
        if self.heading_task.is_some() {
            if !self.ends_heading_task(b) {
                return;
            }
            self.close_heading_task(b.span.start);
        }
        match self.region {
            Region::Preamble if !matches!(b.kind, BlockKind::Rule) => {
                self.context(Dest::Roadmap, b.span);
            }
            Region::Phase => self.phase_block(b),
            _ => {}
        }
    }

    /// A rule or a phase-notes paragraph ends a heading task's body even
    /// without a heading, so deliverables do not become the last task's body.
    fn ends_heading_task(&self, b: &Block) -> bool {
        match b.kind {
            BlockKind::Rule => true,
            BlockKind::Paragraph => syntax::is_phase_notes(self.text(b.span)),
            _ => false,
        }
    }

    /// A non-heading block inside a phase.
    fn phase_block(&mut self, b: &Block) {
        let Some(pi) = self.roadmap.phases.len().checked_sub(1) else {
            return;
        };
        if self.notes {
            if !matches!(b.kind, BlockKind::Rule) {
                self.context(Dest::Phase(pi), b.span);
            }
            return;
        }
        match &b.kind {
            BlockKind::Rule => {
                if let Some(g) = &mut self.group {
                    g.context_closed = true;
                }
            }
            BlockKind::Paragraph if syntax::is_phase_notes(self.text(b.span)) => {
                self.notes = true;
                self.context(Dest::Phase(pi), b.span);
            }
            BlockKind::Table(t) => self.table(t, b.span),
            BlockKind::List(items) => self.list(items),
            _ => self.context(self.context_dest(), b.span),
        }
    }

    /// Group context while a group is open and not closed by `---`.
    fn context_dest(&self) -> Dest {
        let pi = self.roadmap.phases.len().saturating_sub(1);
        match (&self.group, self.roadmap.phases.last()) {
            (Some(g), Some(p)) if !g.context_closed && !p.groups.is_empty() => {
                Dest::Group(pi, p.groups.len() - 1)
            }
            _ => Dest::Phase(pi),
        }
    }

    fn context(&mut self, dest: Dest, span: Span) {
        if span.end > span.start {
            self.contexts.push((dest, span));
        }
    }

    // ----- headings -------------------------------------------------------

    fn heading(&mut self, level: u8, content: Span, span: Span) {
        if let Some(ht) = &self.heading_task {
            if level > ht.level {
                return; // a sub-heading of the task's body
            }
            self.close_heading_task(span.start);
        }
        self.notes = false;
        let text = self.text(content);
        if self.phase_level == Some(level)
            && let Some(head) = syntax::phase_head(text)
        {
            self.start_phase(head, content, span);
            return;
        }
        let at_phase_level = self.phase_level.is_some_and(|pl| level <= pl);
        if at_phase_level && self.region == Region::Phase {
            self.region = Region::Outside;
            self.group = None;
        }
        match self.region {
            Region::Preamble if level == 1 && self.roadmap.title.is_none() => {
                self.roadmap.title = Some(syntax::clean_title(text).0);
            }
            Region::Preamble => {
                self.check_stray_group(text, content);
                self.context(Dest::Roadmap, span);
            }
            Region::Outside => self.check_stray_group(text, content),
            Region::Phase => self.sub_heading(level, content, span),
        }
    }

    /// A heading below the phase level inside a phase: a group, a heading
    /// task, or a section whose text is context.
    fn sub_heading(&mut self, level: u8, content: Span, span: Span) {
        let text = self.text(content);
        if let Some(head) = syntax::group_head(text) {
            self.start_group(head, level, content, span);
            return;
        }
        if self.group.as_ref().is_some_and(|g| level <= g.level) {
            self.group = None;
        }
        if let Some(head) = syntax::task_head(text) {
            let target = self.add_task(head, content.start, span, TaskParts::default());
            self.heading_task = Some(HeadingTask {
                level,
                body_start: span.end,
                target,
            });
            return;
        }
        self.context(self.context_dest(), span);
    }

    /// Sets the body of the open heading task: its text up to `boundary`.
    fn close_heading_task(&mut self, boundary: usize) {
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
        let task = self
            .roadmap
            .phases
            .get_mut(pi)
            .and_then(|p| p.groups.get_mut(gi))
            .and_then(|g| g.tasks.get_mut(ti));
        if let Some(task) = task {
            task.body = body;
            task.span.end = task.span.end.max(trimmed_end);
        }
    }

    fn start_phase(&mut self, head: PhaseHead, content: Span, span: Span) {
        self.group = None;
        let number_span = offset(content.start, &head.number_span);
        let Some(number) = head.number else {
            self.region = Region::Outside;
            self.diags.push(
                Diagnostic::error(
                    "invalid-phase-number",
                    number_span,
                    format!("phase number `{}` is too large", self.text(number_span)),
                )
                .with_help("number phases 1, 2, 3, ... in the order they run"),
            );
            return;
        };
        self.region = Region::Phase;
        let number = PhaseId::from(number);
        self.check_phase_number(&number, number_span);
        self.roadmap.phases.push(Phase {
            number,
            title: head.title,
            annotation: head.annotation,
            context: String::new(),
            groups: Vec::new(),
            span,
        });
    }

    /// Phase numbers must be unique and increasing.
    fn check_phase_number(&mut self, number: &PhaseId, span: Span) {
        let first = self
            .roadmap
            .phases
            .iter()
            .find(|p| &p.number == number)
            .map(|p| p.span.start);
        let last = self.roadmap.phases.last().map(|p| p.number.clone());
        let next = self
            .roadmap
            .phases
            .iter()
            .filter_map(|p| p.number.leading_number())
            .max()
            .map_or(1, |m| m.saturating_add(1));
        if let Some(first) = first {
            let line = self.line(first);
            self.diags.push(
                Diagnostic::error(
                    "duplicate-phase",
                    span,
                    format!("duplicate phase number `{number}` (first defined at line {line})"),
                )
                .with_help(format!(
                    "give each phase its own number, e.g. `Phase {next}`"
                )),
            );
        } else if let Some(last) = last.filter(|l| number < l) {
            self.diags.push(
                Diagnostic::error(
                    "phase-out-of-order",
                    span,
                    format!("phase {number} comes after phase {last}"),
                )
                .with_help(
                    "phases run in the order of their numbers: number them in increasing order \
                     as they appear",
                ),
            );
        }
    }

    fn start_group(&mut self, head: GroupHead, level: u8, content: Span, span: Span) {
        self.group = Some(OpenGroup {
            level,
            context_closed: false,
        });
        let Some(phase) = self.roadmap.phases.last() else {
            return;
        };
        let id_span = offset(content.start, &head.id_span);
        let first = phase
            .groups
            .iter()
            .find(|g| g.id == head.id)
            .map(|g| g.span);
        let earlier: Vec<&str> = phase.groups.iter().map(|g| g.id.as_str()).collect();
        let bad_after: Vec<(String, Span)> = head
            .after
            .iter()
            .filter(|(name, _)| !earlier.contains(&name.as_str()))
            .map(|(name, r)| (name.clone(), offset(content.start, r)))
            .collect();
        let listed = if earlier.is_empty() {
            "it is the first group of the phase".to_string()
        } else {
            format!("earlier groups: {}", earlier.join(", "))
        };
        let phase_number = phase.number.clone();
        let suggestion = next_group_letter(&earlier);
        if let Some(first) = first {
            let line = self.line(first.start);
            self.diags.push(
                Diagnostic::error(
                    "duplicate-group",
                    id_span,
                    format!(
                        "duplicate group `{}` in phase {phase_number} (first defined at line {line})",
                        head.id
                    ),
                )
                .with_help(format!(
                    "give each group of a phase its own letters, e.g. `Group {suggestion}`"
                )),
            );
        }
        for (name, span) in bad_after {
            self.diags.push(
                Diagnostic::error(
                    "after-not-earlier",
                    span,
                    format!(
                        "group `{}` runs after `{name}`, which is not an earlier group of phase {phase_number}",
                        head.id
                    ),
                )
                .with_help(format!(
                    "groups run in the order they appear; name a group defined above this one ({listed})"
                )),
            );
        }
        let after = head.after.into_iter().map(|(name, _)| name).collect();
        if let Some(phase) = self.roadmap.phases.last_mut() {
            phase.groups.push(Group {
                id: head.id,
                title: head.title,
                annotation: head.annotation,
                after,
                context: String::new(),
                tasks: Vec::new(),
                span,
            });
        }
    }

    /// A `Group X` heading outside any phase would silently never run.
    fn check_stray_group(&mut self, text: &str, content: Span) {
        if let Some(head) = syntax::group_head(text) {
            self.diags.push(
                Diagnostic::warning(
                    "group-outside-phase",
                    offset(content.start, &head.id_span),
                    format!(
                        "group `{}` is not inside a phase; its tasks will not run",
                        head.id
                    ),
                )
                .with_help("put it under a phase heading such as `## Phase 1: Foundation`"),
            );
        }
    }

    // ----- tasks ----------------------------------------------------------

    /// A table: rows whose first cell starts with a task id are tasks; a
    /// table without any is context.
    fn table(&mut self, t: &Table, span: Span) {
        let heads: Vec<Option<TaskHead>> = t
            .rows
            .iter()
            .map(|r| {
                let first = t.cells.get(r.cells.start).copied();
                first.and_then(|c| syntax::task_head(self.text(c)))
            })
            .collect();
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
            let Some(head) = head else {
                self.non_task_row(first);
                continue;
            };
            let (fields, done) = self.fields(&names, cells);
            let parts = TaskParts {
                fields,
                body: String::new(),
                done,
            };
            self.add_task(head, first.start, row.span, parts);
        }
    }

    /// Named fields from the cells after the first; a `Status` column with
    /// ✅ or "done" marks the task done.
    fn fields(&self, names: &[String], cells: &[Span]) -> (Vec<Field>, bool) {
        let mut done = false;
        let mut fields = Vec::with_capacity(cells.len().saturating_sub(1));
        for (i, &cell) in cells.iter().enumerate().skip(1) {
            let value = cell_value(self.text(cell));
            let name = match names.get(i) {
                Some(n) => n.clone(),
                None => format!("Column {}", i + 1),
            };
            if name.eq_ignore_ascii_case("status") && is_done_text(&value) {
                done = true;
            }
            fields.push(Field { name, value });
        }
        (fields, done)
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

    /// List items starting with a task id are tasks; the others are context.
    fn list(&mut self, items: &[Item]) {
        self.reserve_tasks(items.len());
        for item in items {
            let head = item
                .head
                .and_then(|h| syntax::task_head(self.text(h)).map(|t| (h, t)));
            match head {
                Some((h, head)) => {
                    let parts = TaskParts {
                        fields: Vec::new(),
                        body: dedent(self.text(item.body)),
                        done: item.checked == Some(true),
                    };
                    self.add_task(head, h.start, item.span, parts);
                }
                _ => self.context(self.context_dest(), item.span),
            }
        }
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

    /// Adds a task to the open group; returns its indices, or `None` (with
    /// a warning) when there is no group to put it in.
    fn add_task(
        &mut self,
        head: TaskHead,
        base: usize,
        span: Span,
        parts: TaskParts,
    ) -> Option<(usize, usize, usize)> {
        let id_span = offset(base, &head.id_span);
        let letters_span = offset(base, &head.letters);
        let id = self.text(id_span);
        let (pi, gi) = match (&self.group, self.roadmap.phases.len().checked_sub(1)) {
            (Some(_), Some(pi)) => (pi, self.roadmap.phases[pi].groups.len().checked_sub(1)?),
            _ => {
                self.task_outside_group(id, id_span);
                return None;
            }
        };
        let group = &self.roadmap.phases[pi].groups[gi];
        let letters = self.text(letters_span);
        if letters != group.id {
            self.deferred.push(Deferred::Mismatch {
                id: id_span,
                group: group.id.clone(),
            });
        }
        if head.title.is_empty() {
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
        self.record_id(id, id_span);
        let task = Task {
            id: id.to_string(),
            title: head.title,
            fields: parts.fields,
            body: parts.body,
            done_in_roadmap: head.done || parts.done,
            span,
        };
        let tasks = &mut self.roadmap.phases[pi].groups[gi].tasks;
        tasks.push(task);
        Some((pi, gi, tasks.len() - 1))
    }

    fn task_outside_group(&mut self, id: &str, id_span: Span) {
        self.diags.push(
            Diagnostic::warning(
                "task-outside-group",
                id_span,
                format!("task `{id}` is not inside a group; it is ignored"),
            )
            .with_help(
                "put it under a group heading such as `### Group A: Title` \
                 (a group heading is `Group`, uppercase letters, then `:`, `-`, `—` or `(`)",
            ),
        );
    }

    /// Remembers the id for duplicate detection.
    fn record_id(&mut self, id: &'s str, span: Span) {
        if let Some(&first) = self.ids.get(id) {
            self.deferred.push(Deferred::Duplicate { id: span, first });
        } else {
            self.ids.insert(id, span);
        }
    }

    /// Highest number in use per id prefix (`A` → 3), for suggesting a
    /// free id. Built only when a diagnostic needs it.
    fn max_numbers(&self) -> HashMap<&'s str, u64> {
        let mut max: HashMap<&'s str, u64> = HashMap::new();
        for id in self.ids.keys() {
            let digits = id.trim_start_matches(|c: char| c.is_ascii_uppercase());
            if let Ok(n) = digits.parse::<u64>() {
                let m = max.entry(&id[..id.len() - digits.len()]).or_insert(0);
                *m = (*m).max(n);
            }
        }
        max
    }

    // ----- finishing --------------------------------------------------------

    fn finish(mut self) -> Parsed {
        self.close_heading_task(self.src.len());
        self.report_deferred();
        self.assign_contexts();
        self.report_empty();
        if self.roadmap.phases.is_empty() {
            self.diags.push(
                Diagnostic::error("no-phases", Span::new(0, 0), "the roadmap has no phases")
                    .with_help(
                        "add a phase heading such as `## Phase 1: Foundation`, with groups \
                         (`### Group A: Database`) and tasks (`- A1: Schema`) under it",
                    ),
            );
        }
        self.diags.sort_by_key(|d| d.span.start);
        Parsed {
            roadmap: self.roadmap,
            diagnostics: self.diags,
        }
    }

    fn report_deferred(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        let max = self.max_numbers();
        let free_id = |letters: &str| {
            let next = max.get(letters).map_or(1, |n| n.saturating_add(1));
            format!("{letters}{next}")
        };
        for d in std::mem::take(&mut self.deferred) {
            let diag = match d {
                Deferred::Duplicate { id, first } => {
                    let text = self.text(id);
                    let letters = text.trim_end_matches(|c: char| c.is_ascii_digit());
                    let line = self.line(first.start);
                    Diagnostic::error(
                        "duplicate-task-id",
                        id,
                        format!("duplicate task id `{text}` (first defined at line {line})"),
                    )
                    .with_help(format!(
                        "give each task a unique id, e.g. `{}`",
                        free_id(letters)
                    ))
                }
                Deferred::Mismatch { id, group } => {
                    let text = self.text(id);
                    Diagnostic::warning(
                        "task-group-mismatch",
                        id,
                        format!("task `{text}` is in group {group} but its id names another group"),
                    )
                    .with_help(format!(
                        "rename it `{}` or move it under its own group",
                        free_id(&group)
                    ))
                }
            };
            self.diags.push(diag);
        }
    }

    fn report_empty(&mut self) {
        for phase in &self.roadmap.phases {
            if phase.groups.is_empty() {
                self.diags.push(
                    Diagnostic::warning(
                        "empty-phase",
                        phase.span,
                        format!("phase {} has no groups", phase.number),
                    )
                    .with_help("add a group heading with tasks under it, e.g. `### Group A: Title`, or remove the phase"),
                );
            }
            for group in phase.groups.iter().filter(|g| g.tasks.is_empty()) {
                self.diags.push(
                    Diagnostic::warning(
                        "empty-group",
                        group.span,
                        format!("group {} of phase {} has no tasks", group.id, phase.number),
                    )
                    .with_help(format!(
                        "add tasks under it, e.g. `- {}1: Title` or a table row `| **{}1: Title** |`",
                        group.id, group.id
                    )),
                );
            }
        }
    }

    /// Joins each destination's context pieces: adjacent blocks are kept as
    /// one slice of source, separate pieces are joined by a blank line.
    fn assign_contexts(&mut self) {
        let mut merged: HashMap<Dest, Vec<Span>> = HashMap::new();
        for &(dest, span) in &self.contexts {
            let pieces = merged.entry(dest).or_default();
            match pieces.last_mut() {
                Some(last)
                    if last.end <= span.start
                        && self.text(Span::new(last.end, span.start)).trim().is_empty() =>
                {
                    last.end = span.end;
                }
                _ => pieces.push(span),
            }
        }
        for (dest, pieces) in merged {
            let text = pieces
                .iter()
                .map(|&s| normalize(self.text(s)))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            let slot = match dest {
                Dest::Roadmap => Some(&mut self.roadmap.context),
                Dest::Phase(pi) => self.roadmap.phases.get_mut(pi).map(|p| &mut p.context),
                Dest::Group(pi, gi) => self
                    .roadmap
                    .phases
                    .get_mut(pi)
                    .and_then(|p| p.groups.get_mut(gi))
                    .map(|g| &mut g.context),
            };
            if let Some(slot) = slot {
                *slot = text;
            }
        }
    }
}

/// FxHash-style hasher for the task-id map. Ids are a few ASCII bytes from
/// the user's own file, so SipHash's flooding resistance buys nothing here
/// and it was a measurable share of parse time on big roadmaps.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What a task syntax adds besides its head.
#[derive(Default)]
struct TaskParts {
    fields: Vec<Field>,
    body: String,
    done: bool,
}

/// A range relative to a text at `base` → an absolute span.
fn offset(base: usize, r: &std::ops::Range<usize>) -> Span {
    Span::new(base + r.start, base + r.end)
}

/// `A`, `B`, `C` → `D`: the letter after the highest single-letter group.
fn next_group_letter(ids: &[&str]) -> String {
    let max = ids
        .iter()
        .filter_map(|id| match id.as_bytes() {
            [b] => Some(*b),
            _ => None,
        })
        .max();
    match max {
        Some(b) if b < b'Z' => char::from(b + 1).to_string(),
        Some(_) => "AA".to_string(),
        None => "A".to_string(),
    }
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

/// ✅ or the word "done" (any case) in a status cell.
fn is_done_text(value: &str) -> bool {
    value.contains('\u{2705}')
        || value
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case("done"))
}

/// Source text with CRLF turned into LF, trimmed.
fn normalize(raw: &str) -> String {
    let t = raw.trim();
    if t.contains('\r') {
        t.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        t.to_string()
    }
}

/// Removes the common indentation of a list item's nested content; lines
/// end with `\n` (CRLF dropped), surrounding blank space trimmed.
fn dedent(raw: &str) -> String {
    let raw = raw.trim_end();
    // Leading blank lines go; the first line's indentation must stay
    // until the common indentation is known.
    let start = raw.len() - raw.trim_start_matches(['\n', '\r', ' ', '\t']).len();
    let start = raw[..start].rfind('\n').map_or(0, |i| i + 1);
    let raw = &raw[start..];
    let indent = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let min = raw
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(indent)
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line.get(indent(line).min(min)..).unwrap_or(""));
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out
}
