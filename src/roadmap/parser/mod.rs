//! ROADMAP.md parser: one parser for every dialect.
//!
//! Two passes: `blocks::collect` turns pulldown-cmark's offset iterator into
//! top-level blocks with byte spans; `Builder` walks those blocks with a
//! small state machine (preamble → phase → group → task) and fills the
//! [`Roadmap`]. Inline details (ids, titles, annotations) are read from the
//! raw source of a heading, cell or item line by `syntax`. The dialect
//! (`dialect.rs`) changes a few rules only: where phases come from (Kiro's
//! numbered items, GSD's phase list), and how tasks outside a group heading
//! are grouped (one implicit group, spec-kit's `[P]` runs, or one group per
//! task for the sequential formats).
//!
//! Decisions worth knowing:
//! - Phases are the phase headings at the *shallowest* level any phase
//!   heading uses, with the phase word the roadmap uses (`Phase` when any
//!   heading uses it, else the first word seen: Stage, Milestone, ...), so
//!   `### Phase 1 (4 agents max)` under an `## Agent Assignment` section and
//!   `### Milestone 2` next to `### Phase 11` are not phases.
//! - A non-phase heading at the phase level (or above) ends the phase; what
//!   follows belongs to nobody until the next phase heading. Only the text
//!   before the first phase is roadmap context.
//! - Tasks not under a group heading get an implicit group whose id is the
//!   first task's id (uppercased, as status keys are). Tasks without an id
//!   (checklist items) get `t` + 6 hex digits of a hash of their title, so
//!   adding or moving other tasks never renames them.
//! - Task ids are scoped by phase: every phase may start again at A1.
//! - Duplicates (phases, groups, task ids) are errors but are kept in the
//!   model, so callers see everything; a group with no task is an error, so
//!   nothing unread is ever completed. Callers must refuse to run when
//!   [`has_errors`](super::diagnostics::has_errors) is true.
//! - Spans: phases and groups span their heading (or list item line); a
//!   task spans its table row, list item, or heading plus body. All offsets
//!   index the original source, BOM, front matter and CRLF included.

mod finish;
mod tasks;

pub use super::parsed::Parsed;

use super::blocks::{self, Block, BlockKind, Item};
use super::detect::detect;
use super::diagnostics::{Diagnostic, LineIndex};
use super::dialect::Dialect;
use super::model::{Group, Phase, PhaseId, Roadmap, Span};
use super::outline;
use super::syntax::{self, GroupHead, HeadCtx, PhaseHead};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const BOM: &str = "\u{feff}";

/// The pulldown-cmark options the roadmap is read with.
pub fn markdown_options() -> pulldown_cmark::Options {
    blocks::options()
}

/// Parses a roadmap, detecting its dialect. Never panics; problems become
/// diagnostics, sorted by position.
pub fn parse(source: &str) -> Parsed {
    parse_as(source, None)
}

/// Parses a roadmap in the given dialect (`None`: detect it).
pub fn parse_as(source: &str, dialect: Option<Dialect>) -> Parsed {
    let mut parsed = read_as(source, dialect);
    let unknown = super::task_agent::check(source, &parsed.roadmap);
    if !unknown.is_empty() {
        parsed.diagnostics.extend(unknown);
        parsed.diagnostics.sort_by_key(|d| d.span.start);
    }
    parsed
}

fn read_as(source: &str, dialect: Option<Dialect>) -> Parsed {
    let bom = if source.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let (base, front_title) = front_matter(source, bom);
    let blocks = blocks::collect(source, base);
    let forced = dialect.is_some();
    let dialect = dialect.unwrap_or_else(|| detect(source, &blocks));
    if dialect == Dialect::Outline {
        return outline::read(source, &blocks, front_title);
    }
    let parsed = parse_blocks(source, &blocks, dialect, front_title.clone());
    if !forced && reads_nothing(&parsed) {
        // No dialect read a task: the outline reader is the fallback.
        let outlined = outline::read(source, &blocks, front_title);
        if outlined.roadmap.task_count() > 0 {
            return outlined;
        }
    }
    parsed
}

/// The dialect found no phase or no task, and no heading that was meant
/// as a native phase (`## Phase 1 Foundation` is a typo to point at, not
/// another structure).
fn reads_nothing(p: &Parsed) -> bool {
    let code = |c: &str| p.diagnostics.iter().any(|d| d.code == c);
    (code("no-phases") || code("no-tasks")) && !code("phase-heading-format")
}

fn parse_blocks(
    source: &str,
    blocks: &[Block],
    dialect: Dialect,
    front_title: Option<String>,
) -> Parsed {
    let (word, level) = phase_level(source, blocks, dialect);
    let mut builder = Builder::new(source, dialect, task_capacity(blocks));
    builder.phase_word = word;
    builder.phase_level = level;
    builder.roadmap.title = front_title;
    for block in blocks {
        builder.block(block);
    }
    builder.finish()
}

/// YAML front matter (`---` ... `---` at the very start): where the
/// Markdown starts after it, and its `title`.
pub(crate) fn front_matter(source: &str, at: usize) -> (usize, Option<String>) {
    let text = &source[at..];
    let Some(body) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (at, None);
    };
    let mut pos = text.len() - body.len();
    let mut title = None;
    for line in body.split_inclusive('\n') {
        pos += line.len();
        let l = line.trim_end();
        if l == "---" || l == "..." {
            return (at + pos, title);
        }
        if let Some(v) = l.strip_prefix("title:") {
            let v = v.trim().trim_matches(['"', '\'']).trim();
            title = (!v.is_empty()).then(|| v.to_string());
        }
    }
    (at, None)
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

/// The phase word in use (`phase` when any heading uses it, else the first
/// one seen) and the shallowest heading level it is used at. A Superpowers
/// plan's phases are only ever `Phase` headings: its `#### Step 1:` headings
/// are steps of a task.
fn phase_level(source: &str, blocks: &[Block], dialect: Dialect) -> (usize, Option<u8>) {
    let heads: Vec<(usize, u8)> = blocks
        .iter()
        .filter_map(|b| match b.kind {
            BlockKind::Heading { level, content } => {
                syntax::phase_head(slice(source, content)).map(|h| (h.word, level))
            }
            _ => None,
        })
        .filter(|&(w, _)| w == 0 || dialect != Dialect::Superpowers)
        .collect();
    let word = if heads.iter().any(|&(w, _)| w == 0) {
        0
    } else {
        heads.first().map_or(0, |&(w, _)| w)
    };
    let level = heads
        .iter()
        .filter(|&&(w, _)| w == word)
        .map(|&(_, l)| l)
        .min();
    (word, level)
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

/// How the open group was made, which decides what may join it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupKind {
    /// A group heading.
    Heading,
    /// Tasks directly under a phase (table reading): they all join.
    Implicit,
    /// A run of spec-kit `[P]` tasks: the next `[P]` task joins.
    ParallelRun,
    /// One task alone (sequential formats, spec-kit without `[P]`).
    Single,
}

/// The group being filled (always the last group of the last phase).
struct OpenGroup {
    level: u8,
    kind: GroupKind,
    /// After a `---`, non-task text goes to the phase instead.
    context_closed: bool,
}

/// A `#### A1: Title` task whose body runs to the next heading at its level.
struct HeadingTask {
    level: u8,
    body_start: usize,
    /// `(phase, group, task)` indices, `None` when the task was dropped.
    target: Option<(usize, usize, usize)>,
    /// Checklist items in its body: how many, all checked, the first marker.
    checks: (usize, bool, Option<Span>),
}

/// Diagnostics whose help depends on the whole roadmap (a free task id).
enum Deferred {
    Duplicate {
        phase: usize,
        id: Span,
        value: String,
        first: Span,
    },
    Mismatch {
        phase: usize,
        id: Span,
        group: String,
    },
}

/// Task ids per phase index: written ids borrowed from the source, derived ones owned.
type IdMap<'s> = HashMap<(usize, Cow<'s, str>), Span, BuildHasherDefault<IdHasher>>;

struct Builder<'s> {
    src: &'s str,
    dialect: Dialect,
    /// Index into `syntax::PHASE_WORDS` of the phase word in use.
    phase_word: usize,
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
    /// First definition of each task id, per phase index.
    ids: IdMap<'s>,
    deferred: Vec<Deferred>,
    /// GSD: phases from the phase list, merged with the heading phases.
    listed: Vec<Phase>,
    /// Headings that look like phases but are not written as one.
    phase_like: Vec<Span>,
    /// Every heading, for the "no phases" message.
    headings: Vec<Span>,
    /// Plain list items of heading groups: `(phase, group, item)`. They
    /// become tasks if their group has no other task.
    loose: Vec<(usize, usize, Item)>,
    lines: Option<LineIndex>,
}

impl<'s> Builder<'s> {
    fn new(src: &'s str, dialect: Dialect, tasks: usize) -> Self {
        Builder {
            src,
            dialect,
            phase_word: 0,
            phase_level: None,
            roadmap: Roadmap {
                dialect,
                ..Roadmap::default()
            },
            diags: Vec::new(),
            region: Region::Preamble,
            group: None,
            notes: false,
            heading_task: None,
            contexts: Vec::new(),
            ids: HashMap::with_capacity_and_hasher(tasks, BuildHasherDefault::default()),
            deferred: Vec::new(),
            listed: Vec::new(),
            phase_like: Vec::new(),
            headings: Vec::new(),
            loose: Vec::new(),
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
                self.heading_task_block(b);
                return;
            }
            self.close_heading_task(b.span.start);
        }
        if let BlockKind::List(items) = &b.kind
            && self.dialect_list(items)
        {
            return;
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

    /// A block of a heading task's body: its checklist marks a Superpowers
    /// task done when every box is ticked.
    fn heading_task_block(&mut self, b: &Block) {
        let (BlockKind::List(items), Some(ht)) = (&b.kind, &mut self.heading_task) else {
            return;
        };
        for item in items.iter().filter(|i| i.checked.is_some()) {
            let (n, all, first) = &mut ht.checks;
            *n += 1;
            *all &= item.checked == Some(true);
            first.get_or_insert(item.marker.unwrap_or_default());
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
            BlockKind::Paragraph => {
                if syntax::is_done_status_line(self.text(b.span)) {
                    self.roadmap.phases[pi].done_in_roadmap = true;
                }
                self.context(self.context_dest(), b.span);
            }
            BlockKind::Table(t) => self.table(t, b.span),
            BlockKind::List(items) => self.list(items),
            _ => self.context(self.context_dest(), b.span),
        }
    }

    /// Group context while a heading group is open and not closed by `---`.
    fn context_dest(&self) -> Dest {
        let pi = self.roadmap.phases.len().saturating_sub(1);
        match (&self.group, self.roadmap.phases.last()) {
            (Some(g), Some(p))
                if !g.context_closed && g.kind == GroupKind::Heading && !p.groups.is_empty() =>
            {
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
        self.headings.push(span);
        let text = self.text(content);
        if self.phase_level == Some(level)
            && let Some(head) = syntax::phase_head(text)
            && head.word == self.phase_word
        {
            self.start_phase(head, content, span);
            return;
        }
        let at_phase_level = self.phase_level.is_none_or(|pl| level <= pl);
        // With phases, only their own word counts (`## Release 2024 notes`
        // next to `## Phase 1:` headings is a section).
        if at_phase_level
            && let Some((word, r)) = syntax::phase_like(text)
            && (self.phase_level.is_none() || word == self.phase_word)
        {
            self.phase_like_heading(offset(content.start, &r), span);
        }
        if at_phase_level && self.phase_level.is_some() && self.region == Region::Phase {
            self.region = Region::Outside;
            self.group = None;
        }
        if self.region == Region::Preamble && self.implicit_phase(text, span) {
            self.sub_heading(level, content, span);
            return;
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

    /// `## Phase 1 Foundation`: read as no phase, so say what was expected.
    fn phase_like_heading(&mut self, word: Span, heading: Span) {
        self.phase_like.push(heading);
        let written = self.text(word).to_string();
        self.diags.push(
            Diagnostic::error(
                "phase-heading-format",
                word,
                format!("`{written}` looks like a phase heading but is not read as one"),
            )
            .with_help(format!(
                "put `:`, `-`, `—` or `(` after the number, e.g. `{written}: Title`; \
                 without it the heading and everything under it is not run"
            )),
        );
    }

    /// `### Phase 3.1: Hotfix` inside `## Phase 3`: read as part of phase 3,
    /// which the author may not expect, so say it.
    fn nested_phase(&mut self, head: &PhaseHead, content: Span, level: u8) {
        let Some(outer) = self.roadmap.phases.last().map(|p| p.number.clone()) else {
            return;
        };
        let hashes = "#".repeat(usize::from(self.phase_level.unwrap_or(2)));
        self.diags.push(
            Diagnostic::warning(
                "nested-phase",
                offset(content.start, &head.number_span),
                format!(
                    "this level-{level} phase heading is inside phase {outer}; its tasks are read as phase {outer}'s"
                ),
            )
            .with_help(format!(
                "to run it as a phase of its own, make it a `{hashes}` heading like the other phases"
            )),
        );
    }

    /// A Superpowers plan without phase headings: its first `### Task N:`
    /// opens one implicit phase 1.
    fn implicit_phase(&mut self, text: &str, span: Span) -> bool {
        if self.dialect != Dialect::Superpowers
            || self.phase_level.is_some()
            || !syntax::is_task_word_heading(text)
        {
            return false;
        }
        let title = self.roadmap.title.clone().unwrap_or_default();
        self.push_phase(PhaseId::from(1), title, None, false, span);
        true
    }

    /// A heading below the phase level inside a phase: a group, a heading
    /// task, or a section whose text is context.
    fn sub_heading(&mut self, level: u8, content: Span, span: Span) {
        let text = self.text(content);
        if let Some(head) = syntax::phase_head(text).filter(|h| h.word == self.phase_word) {
            self.nested_phase(&head, content, level);
        }
        if let Some(head) = syntax::group_head(text) {
            self.start_group(head, level, content, span);
            return;
        }
        if self.group.as_ref().is_some_and(|g| level <= g.level) {
            self.group = None;
        }
        if let Some(mut head) = syntax::task_head(text, HeadCtx::Item).filter(|h| h.id.is_some()) {
            head.done |= syntax::title_says_done(&head.title);
            let parts = tasks::TaskParts::default();
            let target = self.add_task(head, content.start, span, parts);
            self.heading_task = Some(HeadingTask {
                level,
                body_start: span.end,
                target,
                checks: (0, true, None),
            });
            return;
        }
        self.context(self.context_dest(), span);
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
                    format!("phase number `{}` is not a phase id", self.text(number_span)),
                )
                .with_help(
                    "number phases 1, 2, 3 (or 2.1, 4b) in the order they run, at most 32 characters",
                ),
            );
            return;
        };
        self.region = Region::Phase;
        if self.dialect != Dialect::Gsd {
            self.check_phase_number(&number, number_span);
        } else {
            self.check_duplicate_phase(&number, number_span);
        }
        self.push_phase(number, head.title, head.annotation, head.done, span);
    }

    fn push_phase(
        &mut self,
        number: PhaseId,
        title: String,
        annotation: Option<String>,
        done: bool,
        span: Span,
    ) {
        self.region = Region::Phase;
        self.group = None;
        self.roadmap.phases.push(Phase {
            number,
            title,
            annotation,
            context: String::new(),
            groups: Vec::new(),
            done_in_roadmap: done,
            span,
        });
    }

    /// Phase numbers must be unique and increasing.
    fn check_phase_number(&mut self, number: &PhaseId, span: Span) {
        if self.check_duplicate_phase(number, span) {
            return;
        }
        let last = self.roadmap.phases.last().map(|p| p.number.clone());
        if let Some(last) = last.filter(|l| number < l) {
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

    /// Reports a second phase with this number; true if it is one.
    fn check_duplicate_phase(&mut self, number: &PhaseId, span: Span) -> bool {
        let phases = &self.roadmap.phases;
        let Some(first) = phases
            .iter()
            .find(|p| &p.number == number)
            .map(|p| p.span.start)
        else {
            return false;
        };
        let next = phases
            .iter()
            .filter_map(|p| p.number.leading_number())
            .max()
            .map_or(1, |m| m.saturating_add(1));
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
        true
    }

    fn start_group(&mut self, head: GroupHead, level: u8, content: Span, span: Span) {
        self.group = Some(OpenGroup {
            level,
            kind: GroupKind::Heading,
            context_closed: false,
        });
        let Some(phase) = self.roadmap.phases.last() else {
            return;
        };
        let pi = self.roadmap.phases.len() - 1;
        let id_span = offset(content.start, &head.id_span);
        let first = phase
            .groups
            .iter()
            .find(|g| g.id == head.id)
            .map(|g| g.span);
        if let Some(first) = first {
            self.duplicate_group(&head.id, id_span, first);
        }
        self.check_after(pi, &head, content.start);
        self.check_agent(&head, content.start);
        let after = head.after.into_iter().map(|(name, _)| name).collect();
        self.roadmap.phases[pi].groups.push(Group {
            id: head.id,
            title: head.title,
            annotation: head.annotation,
            after,
            context: String::new(),
            tasks: Vec::new(),
            derived_id: false,
            span,
        });
    }

    fn duplicate_group(&mut self, id: &str, id_span: Span, first: Span) {
        let phase = &self.roadmap.phases[self.roadmap.phases.len() - 1];
        let earlier: Vec<&str> = phase.groups.iter().map(|g| g.id.as_str()).collect();
        let suggestion = next_group_letter(&earlier);
        let number = phase.number.clone();
        let line = self.line(first.start);
        self.diags.push(
            Diagnostic::error(
                "duplicate-group",
                id_span,
                format!("duplicate group `{id}` in phase {number} (first defined at line {line})"),
            )
            .with_help(format!(
                "give each group of a phase its own letters, e.g. `Group {suggestion}`"
            )),
        );
    }

    /// `after X` must name an earlier group of the phase, or a task of one.
    fn check_after(&mut self, pi: usize, head: &GroupHead, base: usize) {
        let phase = &self.roadmap.phases[pi];
        let earlier: Vec<&str> = phase.groups.iter().map(|g| g.id.as_str()).collect();
        let known = |name: &str| {
            earlier.contains(&name)
                || phase
                    .groups
                    .iter()
                    .flat_map(|g| &g.tasks)
                    .any(|t| t.id.eq_ignore_ascii_case(name))
        };
        let bad: Vec<(String, Span)> = head
            .after
            .iter()
            .filter(|(name, _)| !known(name))
            .map(|(name, r)| (name.clone(), offset(base, r)))
            .collect();
        let listed = if earlier.is_empty() {
            "it is the first group of the phase".to_string()
        } else {
            format!("earlier groups: {}", earlier.join(", "))
        };
        let number = phase.number.clone();
        for (name, span) in bad {
            self.diags.push(
                Diagnostic::error(
                    "after-not-earlier",
                    span,
                    format!(
                        "group `{}` runs after `{name}`, which is not an earlier group of phase {number}",
                        head.id
                    ),
                )
                .with_help(format!(
                    "groups run in the order they appear; name a group defined above this one ({listed})"
                )),
            );
        }
    }

    /// `agent: X` must name a profile that can run a group's tasks.
    fn check_agent(&mut self, head: &GroupHead, base: usize) {
        let Some((name, r)) = &head.agent else {
            return;
        };
        if crate::roadmap::AgentName::parse(name).is_none() {
            self.diags.push(
                Diagnostic::error(
                    "unknown-agent",
                    offset(base, r),
                    format!("group `{}` names unknown agent `{name}`", head.id),
                )
                .with_help(format!("write {}", crate::roadmap::AgentName::choices())),
            );
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

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
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
            [b] if b.is_ascii_uppercase() => Some(*b),
            _ => None,
        })
        .max();
    match max {
        Some(b) if b < b'Z' => char::from(b + 1).to_string(),
        Some(_) => "AA".to_string(),
        None => "A".to_string(),
    }
}
