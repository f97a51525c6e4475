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
mod groups;
mod headings;
mod tasks;

pub use super::parsed::Parsed;

use super::blocks::{self, Block, BlockKind, Item};
use super::detect::detect;
use super::diagnostics::{Diagnostic, LineIndex};
use super::dialect::Dialect;
use super::model::{Phase, Roadmap, Span};
use super::outline;
use super::syntax;
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
