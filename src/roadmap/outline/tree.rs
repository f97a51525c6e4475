//! The document as a person sees it: a tree of heading sections, and the
//! units of work each section's own blocks hold (checklist, numbered and
//! id items, table rows with an id or a status cell).

use crate::roadmap::blocks::{Block, BlockKind, Item, Table};
use crate::roadmap::body::dedent;
use crate::roadmap::model::{DoneMark, Field, Span};
use crate::roadmap::syntax::{self, HeadCtx};
use crate::roadmap::words;

/// A heading and what is under it up to the next heading at its level or above.
pub(crate) struct Section<'b> {
    /// 0 for the document itself.
    pub level: u8,
    /// The heading's inline content and whole span.
    pub heading: Option<(Span, Span)>,
    /// The blocks between the heading and its first sub-heading.
    pub blocks: Vec<&'b Block>,
    pub children: Vec<Section<'b>>,
    /// Where the section (with its sub-sections) ends.
    pub end: usize,
}

/// Builds the section tree of the blocks.
pub(crate) fn sections(blocks: &[Block], len: usize) -> Section<'_> {
    let mut stack: Vec<Section<'_>> = vec![Section {
        level: 0,
        heading: None,
        blocks: Vec::new(),
        children: Vec::new(),
        end: len,
    }];
    for b in blocks {
        if let BlockKind::Heading { level, content } = b.kind {
            while stack.len() > 1 && stack.last().is_some_and(|s| s.level >= level) {
                close(&mut stack, b.span.start);
            }
            stack.push(Section {
                level,
                heading: Some((content, b.span)),
                blocks: Vec::new(),
                children: Vec::new(),
                end: len,
            });
        } else if let Some(top) = stack.last_mut() {
            top.blocks.push(b);
        }
    }
    while stack.len() > 1 {
        close(&mut stack, len);
    }
    stack
        .pop()
        .unwrap_or_else(|| unreachable!("the root is never popped"))
}

fn close(stack: &mut Vec<Section<'_>>, end: usize) {
    if let Some(mut s) = stack.pop() {
        s.end = end;
        if let Some(parent) = stack.last_mut() {
            parent.children.push(s);
        }
    }
}

/// How a unit of work was written: what the reading says decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitKind {
    Checklist,
    Glyph,
    Numbered,
    IdItem,
    IdRow,
    StatusRow,
    IdHeading,
    StatusHeading,
    Agent,
}

impl UnitKind {
    pub fn rule(self) -> &'static str {
        match self {
            UnitKind::Checklist => "checklist item",
            UnitKind::Glyph => "item with a status mark",
            UnitKind::Numbered => "numbered item",
            UnitKind::IdItem => "item with an id",
            UnitKind::IdRow => "table row with an id",
            UnitKind::StatusRow => "table row with a status cell",
            UnitKind::IdHeading => "heading with an id",
            UnitKind::StatusHeading => "heading with a status",
            UnitKind::Agent => "section for one worker",
        }
    }
}

/// One unit of work as read.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub kind: UnitKind,
    pub id: Option<String>,
    pub title: String,
    pub done: bool,
    pub done_mark: Option<DoneMark>,
    pub body: String,
    pub fields: Vec<Field>,
    /// spec-kit's `[P]`.
    pub parallel: bool,
    /// Ids named by `after` / `depends on`.
    pub deps: Vec<String>,
    /// It carries a status of its own (a box, a glyph, a status cell or
    /// line); without one it takes its phase's.
    pub marked: bool,
    pub span: Span,
}

/// The units of a section's own blocks, and whether a paragraph among them
/// says the tasks run in parallel. Lists and tables after a label such as
/// `**Acceptance criteria:**` are checks, not work.
pub(crate) fn own_units(src: &str, blocks: &[&Block]) -> (Vec<Unit>, bool) {
    let mut units = Vec::new();
    let mut parallel = false;
    let mut checks = false;
    for b in blocks {
        let text = slice(src, b.span);
        match &b.kind {
            BlockKind::Paragraph => {
                checks = words::is_not_work(first_words(text));
                parallel |= words::says_parallel(text);
            }
            BlockKind::List(items) if !checks => {
                units.extend(items.iter().filter_map(|i| item_unit(src, i)));
            }
            BlockKind::Table(t) if !checks => units.extend(table_units(src, t)),
            _ => {}
        }
    }
    (units, parallel)
}

/// The start of a paragraph where a label stands (`**Acceptance:**`).
fn first_words(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    let end = line.char_indices().nth(40).map_or(line.len(), |(i, _)| i);
    &line[..end]
}

fn item_unit(src: &str, item: &Item) -> Option<Unit> {
    let h = item.head?;
    let head = slice(src, h);
    let ordered = slice(src, item.span)
        .trim_start()
        .split_once(['.', ')'])
        .is_some_and(|(n, _)| {
            !n.is_empty() && n.len() < 4 && n.bytes().all(|b| b.is_ascii_digit())
        });
    let (lead, glyph) = words::skip_lead(head);
    // A checklist item's id is what the native grammar reads there too.
    let ctx = if item.checked.is_some() {
        HeadCtx::Checklist
    } else {
        HeadCtx::Item
    };
    let id = words::task_id(head).or_else(|| written_id(head, ctx));
    let kind = if item.checked.is_some() {
        UnitKind::Checklist
    } else if glyph.is_some() && lead < 12 {
        UnitKind::Glyph
    } else if id.is_some() {
        UnitKind::IdItem
    } else if ordered && !is_step(head) {
        UnitKind::Numbered
    } else {
        return None;
    };
    let title_from = id.as_ref().map_or(lead, |(_, at)| *at);
    let (title, parallel) =
        crate::roadmap::syntax::strip_tags(head[title_from.min(head.len())..].trim_start());
    let (title, marked) = syntax::clean_title(strip_separator(title));
    let struck = head[lead..].starts_with("~~");
    let body = dedent(slice(src, item.body));
    let deps = words::deps(head);
    Some(Unit {
        kind,
        id: id.map(|(id, _)| id),
        title: strip_deps(title.trim_matches('~').trim()),
        done: item.checked == Some(true) || glyph == Some(true) || marked || struck,
        done_mark: item.marker.map(|span| DoneMark::Checkbox { span }),
        body,
        fields: Vec::new(),
        parallel,
        deps,
        marked: item.checked.is_some() || glyph.is_some() || marked || struck,
        span: item.span,
    })
}

/// An id the native grammar reads (`**A1**: x`, `Task 3: x`).
fn written_id(head: &str, ctx: HeadCtx) -> Option<(String, usize)> {
    let (lead, _) = words::skip_lead(head);
    let h = syntax::task_head(&head[lead..], ctx)?;
    let id = h.id?;
    let text = &head[lead..];
    let value = text[id.value.clone()].to_string();
    let end = lead + id.value.end;
    let end = end + head[end..].len() - head[end..].trim_start_matches(['*', '_']).len();
    Some((value, end))
}

/// `**Step 1**: ...`: a step inside a task, not a task.
fn is_step(head: &str) -> bool {
    let t = head
        .trim_start_matches(['*', '_', ' '])
        .to_ascii_lowercase();
    t.strip_prefix("step")
        .is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
}

/// What a table's columns are, read from its header.
struct Columns {
    names: Vec<String>,
    status: Option<usize>,
    /// The first column is headed as an id (`ID`, `#`, `Key`).
    id_first: bool,
    title: Option<usize>,
}

impl Columns {
    fn of(src: &str, t: &Table) -> Columns {
        let names: Vec<String> = t
            .header
            .iter()
            .map(|&c| syntax::clean_title(slice(src, c)).0)
            .collect();
        let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        let status = lower.iter().position(|n| {
            matches!(
                n.as_str(),
                "status" | "state" | "done" | "progress" | "状态"
            )
        });
        let id_first = lower
            .first()
            .is_some_and(|n| matches!(n.as_str(), "id" | "#" | "no" | "no." | "key" | "ref"));
        let title = lower.iter().position(|n| {
            [
                "task",
                "title",
                "feature",
                "name",
                "item",
                "deliverable",
                "what",
                "任务",
            ]
            .iter()
            .any(|w| n.contains(w))
        });
        Columns {
            names,
            status,
            id_first,
            title,
        }
    }
}

fn table_units(src: &str, t: &Table) -> Vec<Unit> {
    let cols = Columns::of(src, t);
    t.rows
        .iter()
        .filter_map(|row| {
            let cells = t.cells.get(row.cells.clone()).unwrap_or(&[]);
            row_unit(src, &cols, cells, row.span)
        })
        .collect()
}

/// A row as a task: one with an id or a status; None for any other row.
fn row_unit(src: &str, cols: &Columns, cells: &[Span], span: Span) -> Option<Unit> {
    let &first = cells.first()?;
    let first_text = slice(src, first);
    let id = words::task_id(first_text)
        .or_else(|| written_id(first_text, HeadCtx::Marked))
        .or_else(|| {
            let v = syntax::clean_title(first_text).0;
            (cols.id_first && !v.is_empty() && crate::roadmap::model::is_id(&v))
                .then_some((v, first_text.len()))
        });
    let status = cols
        .status
        .and_then(|i| cells.get(i))
        .map(|&c| slice(src, c));
    if id.is_none() && status.is_none() {
        return None;
    }
    let title = match (&id, cols.title) {
        (_, Some(i)) if i > 0 => cells.get(i).map_or("", |&c| slice(src, c)),
        (Some((_, at)), _) if first_text[*at..].trim().is_empty() => {
            cells.get(1).map_or("", |&c| slice(src, c))
        }
        (Some((_, at)), _) => strip_separator(&first_text[*at..]),
        (None, _) => first_text,
    };
    let (title, marked) = syntax::clean_title(title);
    if title.is_empty() {
        return None;
    }
    let fields = cells
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, &c)| Field {
            name: cols
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("Column {}", i + 1)),
            value: slice(src, c).trim().to_string(),
        })
        .collect();
    let status_done = status.and_then(words::status_of);
    Some(Unit {
        kind: if id.is_some() {
            UnitKind::IdRow
        } else {
            UnitKind::StatusRow
        },
        id: id.map(|(id, _)| id),
        title,
        done: marked || status_done == Some(true) || words::skip_lead(first_text).1 == Some(true),
        done_mark: cols
            .status
            .and_then(|i| cells.get(i))
            .map(|&span| DoneMark::StatusCell { span }),
        body: String::new(),
        fields,
        parallel: false,
        deps: words::deps(slice(src, span)),
        marked: marked || status_done.is_some(),
        span,
    })
}

fn strip_separator(s: &str) -> &str {
    let t = s.trim_start_matches(['*', '_']).trim_start();
    [":", "-", "\u{2014}", "\u{2013}", ".", ")"]
        .iter()
        .find_map(|sep| t.strip_prefix(sep))
        .map_or(t, str::trim_start)
}

/// `API — after [#3, #4]` → `API`: the dependency list is not the title.
pub(crate) fn strip_deps(title: &str) -> String {
    let lower = title.to_ascii_lowercase();
    let cut = [
        "— after",
        "- after",
        "(after",
        "— depends on",
        "(depends on",
        "after [",
        "depends on",
    ]
    .iter()
    .filter_map(|w| lower.find(w))
    .min();
    match cut {
        Some(i) => title[..i]
            .trim_end_matches([' ', '—', '-', '('])
            .trim()
            .to_string(),
        None => title.to_string(),
    }
}

pub(crate) fn slice(src: &str, s: Span) -> &str {
    src.get(s.start..s.end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_tags_and_dependency_lists() {
        assert_eq!(strip_deps("API — after [#3, #4]"), "API");
        assert_eq!(strip_deps("Docs (after A1)"), "Docs");
        assert_eq!(strip_deps("Aftercare"), "Aftercare");
        assert_eq!(
            crate::roadmap::syntax::strip_tags("[P] Build"),
            ("Build", true)
        );
        assert!(is_step("**Step 1**: run it"));
    }
}
