//! The outline reader: any heading structure, read as a person reads it.
//!
//! The document becomes a tree of sections (`tree`); units of work are found
//! in each section's own blocks or are its sub-sections (a heading with an
//! id or a status, a section for one worker). Which level is a phase is
//! decided by the words (`Sprint 3`, `Milestone 1`, `M1`), else by position
//! (the level above a task list is a group, the level above that a phase).
//! Sections that check the work (acceptance criteria, verification,
//! deliverables, "not planned") are not work; a summary that repeats tasks
//! defined elsewhere is a reference. When a section named for the plan
//! (`## Roadmap`, `## Implementation Plan`) holds work and other sections
//! hold some too, only the plan section is read.
//!
//! Tasks run one at a time unless the document says otherwise (`parallel`,
//! a wave, per-agent sections, spec-kit's `[P]`); `after X` lists order them
//! into groups. Every decision is recorded in a [`Reading`] for `validate`.

mod build;
mod tree;

// The reading is plain data the model holds; its old path stays.
pub use super::reading::{self, GroupWhy, PhaseWhy, PlanPart, Reading, Why};

use super::blocks::Block;
use super::diagnostics::{Diagnostic, LineIndex};
use super::model::Span;
use super::parsed::Parsed;
use super::words;
use std::cell::RefCell;
use std::collections::HashMap;
use tree::{Section, Unit, UnitKind, slice};

/// Reads the blocks of `source` (Markdown from `base` on) as an outline.
pub(crate) fn read(source: &str, blocks: &[Block], front_title: Option<String>) -> Parsed {
    let root = tree::sections(blocks, source.len());
    let mut r = Reader {
        src: source,
        lines: LineIndex::new(source),
        diags: Vec::new(),
        reading: Reading::default(),
        work: RefCell::default(),
        child_work: RefCell::default(),
    };
    let title = front_title.or_else(|| r.first_title(&root));
    let found = r.find(&root);
    let roadmap = r.build(found, title);
    let mut diags = r.diags;
    diags.sort_by_key(|d| d.span.start);
    Parsed {
        roadmap,
        diagnostics: diags,
    }
}

struct Reader<'s> {
    src: &'s str,
    lines: LineIndex,
    diags: Vec<Diagnostic>,
    reading: Reading,
    /// `has_work` and `children_work` per section (by heading offset).
    work: RefCell<HashMap<usize, bool>>,
    child_work: RefCell<HashMap<usize, bool>>,
}

/// The units of one section's list, with what decided how they run.
struct UnitList<'b> {
    section: &'b Section<'b>,
    units: Vec<Unit>,
    /// Why they run in parallel, when they do.
    parallel: Option<&'static str>,
    /// Units defined elsewhere are references here.
    reference: bool,
}

/// A phase as found: its section (none: the implicit phase) and its lists.
struct FoundPhase<'b> {
    section: Option<&'b Section<'b>>,
    rule: String,
    lists: Vec<UnitList<'b>>,
}

impl<'s> Reader<'s> {
    fn text(&self, s: Span) -> &'s str {
        slice(self.src, s)
    }

    fn heading(&self, sec: &Section<'_>) -> &'s str {
        sec.heading.map_or("", |(c, _)| self.text(c))
    }

    fn line(&self, at: usize) -> usize {
        self.lines.line(at)
    }

    fn first_title(&self, root: &Section<'_>) -> Option<String> {
        root.children
            .iter()
            .find(|c| c.level == 1)
            .map(|c| super::syntax::clean_title(self.heading(c)).0)
    }

    fn excluded(&self, sec: &Section<'_>) -> bool {
        let h = self.heading(sec);
        words::is_not_work(h) && words::level_word(h).is_none()
    }

    /// A sub-section that is itself one unit of work, with its body.
    fn task_heading(&self, sec: &Section<'_>) -> Option<Unit> {
        let (content, span) = sec.heading?;
        let h = self.text(content);
        let agent = words::is_agent(h);
        let id = words::task_id(h);
        // Own checkboxes under a heading with an id are its steps; only
        // sub-sections with work make it a level.
        let work = if id.is_some() {
            self.children_work(sec)
        } else {
            self.has_work(sec)
        };
        if !agent && (words::level_word(h).is_some() || work) {
            return None;
        }
        let status_line = sec.blocks.iter().find_map(|b| match b.kind {
            super::blocks::BlockKind::Paragraph => words::status_line(self.text(b.span)),
            _ => None,
        });
        let (lead, glyph) = words::skip_lead(h);
        let kind = if agent {
            UnitKind::Agent
        } else if id.is_some() {
            UnitKind::IdHeading
        } else if status_line.is_some() || glyph.is_some() {
            UnitKind::StatusHeading
        } else {
            return None;
        };
        let from = id.as_ref().map_or(lead, |(_, at)| *at).min(h.len());
        let raw = h[from..].trim_start_matches([':', '-', '—', '–', '.', ' ', '*', '_']);
        let (title, marked) = super::syntax::clean_title(raw);
        let body_start = span.end.min(sec.end);
        let body = super::body::dedent(self.text(Span::new(body_start, sec.end)));
        let done = glyph == Some(true)
            || status_line == Some(true)
            || marked
            || super::syntax::title_says_done(&title);
        Some(Unit {
            kind,
            id: if agent { None } else { id.map(|(id, _)| id) },
            title: if agent {
                super::syntax::clean_title(h).0
            } else {
                title
            },
            done,
            done_mark: None,
            body,
            fields: Vec::new(),
            parallel: false,
            deps: words::deps(h),
            marked: glyph.is_some() || status_line.is_some() || marked,
            span: Span::new(
                span.start,
                span.start + self.text(Span::new(span.start, sec.end)).trim_end().len(),
            ),
        })
    }

    /// Whether any unit of work is in the section or under it.
    fn has_work(&self, sec: &Section<'_>) -> bool {
        self.cached(&self.work, sec, || {
            !tree::own_units(self.src, &sec.blocks).0.is_empty() || self.children_work(sec)
        })
    }

    /// Whether a sub-section holds work or is a task itself.
    fn children_work(&self, sec: &Section<'_>) -> bool {
        self.cached(&self.child_work, sec, || {
            sec.children
                .iter()
                .any(|c| !self.excluded(c) && (self.has_work(c) || self.task_heading(c).is_some()))
        })
    }

    /// Both questions are asked at every level on the way down: answered
    /// once per section, or deep documents cost 2^depth.
    fn cached(
        &self,
        cache: &RefCell<HashMap<usize, bool>>,
        sec: &Section<'_>,
        f: impl FnOnce() -> bool,
    ) -> bool {
        let key = sec.heading.map_or(usize::MAX, |(_, s)| s.start);
        if let Some(&v) = cache.borrow().get(&key) {
            return v;
        }
        let v = f();
        cache.borrow_mut().insert(key, v);
        v
    }

    /// The unit lists in a section and under it, in document order.
    fn lists<'b>(&self, sec: &'b Section<'b>, out: &mut Vec<UnitList<'b>>, skipped: &mut Vec<Why>) {
        let (mut units, says) = tree::own_units(self.src, &sec.blocks);
        let h = self.heading(sec);
        let mut containers = Vec::new();
        let mut agents = false;
        for c in &sec.children {
            if self.excluded(c) {
                if self.has_work(c) {
                    skipped.push(self.why(c, "not work: it checks the work"));
                }
                continue;
            }
            match self.task_heading(c) {
                Some(u) => {
                    agents |= u.kind == UnitKind::Agent;
                    units.push(u);
                }
                None => containers.push(c),
            }
        }
        let wave = words::level_word(h).is_some_and(|l| l.word == "wave");
        let parallel = if agents {
            Some("parallel: one section per worker")
        } else if wave {
            Some("parallel: a wave")
        } else if words::says_parallel(h) || says {
            Some("parallel: the document says so")
        } else {
            None
        };
        if !units.is_empty() {
            let reference = words::is_reference(h) && words::level_word(h).is_none();
            out.push(UnitList {
                section: sec,
                units,
                parallel,
                reference: reference || sec.level <= 1,
            });
        }
        for c in containers {
            self.lists(c, out, skipped);
        }
    }

    /// The reading's entry for a section's heading.
    fn why(&self, sec: &Section<'_>, rule: &str) -> Why {
        let span = sec.heading.map_or(Span::default(), |(_, s)| s);
        Why {
            line: self.line(span.start),
            source: source_of(self.src, "heading", span),
            rule: rule.to_string(),
        }
    }
}

/// A short first line of a span for the reading: `heading "## Sprint 3"`.
fn source_of(src: &str, kind: &str, span: Span) -> String {
    let first = slice(src, span).lines().next().unwrap_or("").trim();
    let short: String = first.chars().take(72).collect();
    let more = if short.len() < first.len() { "…" } else { "" };
    format!("{kind} \"{short}{more}\"")
}

/// Whether a section is inside another (by position).
fn inside(outer: &Section<'_>, at: usize) -> bool {
    outer.heading.map_or(0, |(_, s)| s.start) <= at && at < outer.end
}
