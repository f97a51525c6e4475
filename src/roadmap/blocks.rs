//! First pass: pulldown-cmark events → a flat list of top-level blocks with
//! byte spans into the original source.
//!
//! Only what the roadmap grammar needs is kept: heading levels and the span
//! of their inline content, table cells, list items with their first line
//! and checkbox, and the span of everything else. The second pass
//! (`parser.rs`) reads phases, groups and tasks from these blocks, slicing
//! the source with the spans, so no per-event allocation happens here.

use super::model::Span;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::ops::Range;

/// The Markdown options the roadmap is read with.
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS
}

#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub kind: BlockKind,
    /// The whole block, trailing whitespace trimmed.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum BlockKind {
    /// `content` covers the inline text (no `#`s, no trailing `#`s).
    Heading {
        level: u8,
        content: Span,
    },
    Paragraph,
    Rule,
    Table(Table),
    List(Vec<Item>),
    /// Code, HTML, block quotes, anything else: context only.
    Other,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    /// Inline content span of each header cell.
    pub header: Vec<Span>,
    pub rows: Vec<Row>,
    /// Inline content spans of all body cells; rows index into it.
    pub cells: Vec<Span>,
}

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub span: Span,
    pub cells: Range<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub span: Span,
    /// `Some(checked)` for a task-list item (`- [ ]` / `- [x]`).
    pub checked: Option<bool>,
    /// The `[ ]` / `[x]` of a task-list item, three bytes.
    pub marker: Option<Span>,
    /// The first line of the item's text, if it starts with text.
    pub head: Option<Span>,
    /// Everything after the first line, up to the end of the item.
    pub body: Span,
}

/// Collects the top-level blocks of `source`. `base` is added to every
/// offset: the caller parses `source[base..]` (after a BOM) but spans must
/// point into the original text.
pub(crate) fn collect(source: &str, base: usize) -> Vec<Block> {
    collect_in(source, Span::new(base, source.len()))
}

/// Collects the blocks of `source[within]` (e.g. a list item's nested
/// content), with spans into the whole `source`.
pub(crate) fn collect_in(source: &str, within: Span) -> Vec<Block> {
    let base = within.start;
    let text = source.get(within.start..within.end).unwrap_or("");
    let mut c = Collector {
        source,
        blocks: Vec::new(),
        cur: None,
        depth: 0,
    };
    for (event, r) in Parser::new_ext(text, options()).into_offset_iter() {
        c.event(&event, Span::new(base + r.start, base + r.end));
    }
    c.blocks
}

struct Collector<'s> {
    source: &'s str,
    blocks: Vec<Block>,
    /// The top-level block being read.
    cur: Option<Building>,
    /// Nesting depth of the *next* event (0 = top level).
    depth: usize,
}

/// A top-level block under construction.
enum Building {
    Heading { level: u8, content: Option<Span> },
    Paragraph,
    Table(TableBuilder),
    List(ListBuilder),
    Other,
}

#[derive(Default)]
struct TableBuilder {
    table: Table,
    in_head: bool,
    row_start: usize,
    cell: Option<Span>,
}

#[derive(Default)]
struct ListBuilder {
    items: Vec<Item>,
    item: Option<ItemBuilder>,
}

struct ItemBuilder {
    span: Span,
    checked: Option<bool>,
    marker: Option<Span>,
    head: Option<Span>,
    state: HeadState,
}

/// Where we are in reading an item's first inline run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeadState {
    /// Nothing read yet (a checkbox may come first).
    Pending,
    /// Reading inline content directly in the item (tight list) or inside
    /// its first paragraph (loose list).
    Reading,
    Done,
}

impl Collector<'_> {
    fn event(&mut self, event: &Event<'_>, r: Span) {
        match event {
            Event::Start(tag) => {
                let d = self.depth;
                self.depth += 1;
                if d == 0 {
                    self.begin(tag);
                } else {
                    self.nested_start(tag, d, r);
                }
            }
            Event::End(end) => {
                self.depth = self.depth.saturating_sub(1);
                let d = self.depth;
                if d == 0 {
                    self.finish(r);
                } else {
                    self.nested_end(end, d, r);
                }
            }
            Event::Rule if self.depth == 0 => self.push(BlockKind::Rule, r),
            Event::TaskListMarker(checked) => self.marker(*checked, r),
            _ if self.depth == 0 => self.push(BlockKind::Other, r),
            _ => self.inline(self.depth, r),
        }
    }

    fn begin(&mut self, tag: &Tag<'_>) {
        self.cur = Some(match tag {
            Tag::Heading { level, .. } => Building::Heading {
                level: *level as u8,
                content: None,
            },
            Tag::Paragraph => Building::Paragraph,
            Tag::Table(_) => Building::Table(TableBuilder::default()),
            Tag::List(_) => Building::List(ListBuilder::default()),
            _ => Building::Other,
        });
    }

    fn finish(&mut self, r: Span) {
        let kind = match self.cur.take() {
            Some(Building::Heading { level, content }) => BlockKind::Heading {
                level,
                content: content.unwrap_or(Span::new(r.start, r.start)),
            },
            Some(Building::Paragraph) => BlockKind::Paragraph,
            Some(Building::Table(t)) => BlockKind::Table(t.table),
            Some(Building::List(l)) => BlockKind::List(l.items),
            Some(Building::Other) | None => BlockKind::Other,
        };
        self.push(kind, r);
    }

    fn push(&mut self, kind: BlockKind, r: Span) {
        let span = trim_end(self.source, r);
        self.blocks.push(Block { kind, span });
    }

    /// A `Start` nested `d` levels deep inside the current block.
    fn nested_start(&mut self, tag: &Tag<'_>, d: usize, r: Span) {
        match &mut self.cur {
            Some(Building::Heading { content, .. }) => extend(content, r),
            Some(Building::Table(t)) => t.start(tag, d, r),
            Some(Building::List(l)) => l.start(tag, d, r),
            _ => {}
        }
    }

    fn nested_end(&mut self, end: &TagEnd, d: usize, r: Span) {
        match &mut self.cur {
            Some(Building::Heading { content, .. }) => extend(content, r),
            Some(Building::Table(t)) => t.end(end, d, r, self.source),
            Some(Building::List(l)) => l.end(end, d, r, self.source),
            _ => {}
        }
    }

    /// A leaf event (text, code, break...) at depth `d`.
    fn inline(&mut self, d: usize, r: Span) {
        match &mut self.cur {
            Some(Building::Heading { content, .. }) => extend(content, r),
            Some(Building::Table(t)) => extend(&mut t.cell, r),
            Some(Building::List(l)) => l.inline(d, r),
            _ => {}
        }
    }

    fn marker(&mut self, checked: bool, r: Span) {
        let marker = checkbox_at(self.source, r);
        if let Some(Building::List(l)) = &mut self.cur
            && let Some(item) = &mut l.item
            && item.state != HeadState::Done
            && item.head.is_none()
        {
            item.checked = Some(checked);
            item.marker = marker;
        }
    }
}

impl TableBuilder {
    fn start(&mut self, tag: &Tag<'_>, d: usize, r: Span) {
        match tag {
            Tag::TableHead => self.in_head = true,
            Tag::TableRow => {
                self.row_start = self.table.cells.len();
            }
            Tag::TableCell => self.cell = None,
            _ if d >= 3 => extend(&mut self.cell, r),
            _ => {}
        }
    }

    fn end(&mut self, end: &TagEnd, d: usize, r: Span, source: &str) {
        match end {
            TagEnd::TableCell => {
                let cell = self.cell.take().unwrap_or(Span::new(r.start, r.start));
                if self.in_head {
                    self.table.header.push(cell);
                } else {
                    self.table.cells.push(cell);
                }
            }
            TagEnd::TableHead => self.in_head = false,
            TagEnd::TableRow if !self.in_head => self.table.rows.push(Row {
                span: trim_end(source, r),
                cells: self.row_start..self.table.cells.len(),
            }),
            _ if d >= 3 => extend(&mut self.cell, r),
            _ => {}
        }
    }
}

impl ListBuilder {
    fn start(&mut self, tag: &Tag<'_>, d: usize, r: Span) {
        if d == 1 {
            // A new top-level item (`Tag::Item` is the only child of a list).
            self.item = Some(ItemBuilder {
                span: r,
                checked: None,
                marker: None,
                head: None,
                state: HeadState::Pending,
            });
            return;
        }
        let Some(item) = &mut self.item else { return };
        match item.state {
            HeadState::Pending if d == 2 && matches!(tag, Tag::Paragraph) => {
                item.state = HeadState::Reading;
            }
            HeadState::Pending | HeadState::Reading if is_block(tag) && d == 2 => {
                item.state = HeadState::Done;
            }
            HeadState::Pending | HeadState::Reading => {
                item.state = HeadState::Reading;
                extend(&mut item.head, r);
            }
            HeadState::Done => {}
        }
    }

    fn end(&mut self, end: &TagEnd, d: usize, r: Span, source: &str) {
        if d == 1 {
            if let Some(item) = self.item.take() {
                self.items.push(item.finish(source));
            }
            return;
        }
        let Some(item) = &mut self.item else { return };
        if item.state != HeadState::Reading {
            return;
        }
        if d == 2 && matches!(end, TagEnd::Paragraph) {
            item.state = HeadState::Done;
        } else if !is_block_end(end) {
            extend(&mut item.head, r);
        }
    }

    fn inline(&mut self, d: usize, r: Span) {
        let Some(item) = &mut self.item else { return };
        if d >= 2 && item.state != HeadState::Done {
            item.state = HeadState::Reading;
            extend(&mut item.head, r);
        }
    }
}

impl ItemBuilder {
    /// Cuts the head at its first line break: the rest of the item is body.
    fn finish(self, source: &str) -> Item {
        let span = trim_end(source, self.span);
        let (head, body_start) = match self.head {
            Some(h) => {
                let text = source.get(h.start..h.end).unwrap_or("");
                match text.find('\n') {
                    Some(nl) => (
                        trim_end(source, Span::new(h.start, h.start + nl)),
                        h.start + nl + 1,
                    ),
                    None => (h, h.end),
                }
            }
            None => (Span::new(span.start, span.start), span.start),
        };
        let head = (head.end > head.start).then_some(head);
        let body_start = body_start.min(span.end);
        Item {
            span,
            checked: self.checked,
            marker: self.marker,
            head,
            body: Span::new(body_start, span.end),
        }
    }
}

/// Tags that start a block (ending an item's first inline run).
fn is_block(tag: &Tag<'_>) -> bool {
    !matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn is_block_end(end: &TagEnd) -> bool {
    !matches!(
        end,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// The three bytes `[ ]`/`[x]`/`[X]` at or just after `r.start`.
fn checkbox_at(source: &str, r: Span) -> Option<Span> {
    let end = super::diagnostics::floor_char_boundary(source, r.start + 8);
    let window = source.get(r.start..end)?;
    let at = r.start + window.find('[')?;
    let mark = source.get(at..at + 3)?;
    matches!(mark, "[ ]" | "[x]" | "[X]").then_some(Span::new(at, at + 3))
}

/// Grows `acc` to cover `r` (events arrive in source order).
fn extend(acc: &mut Option<Span>, r: Span) {
    *acc = Some(match *acc {
        Some(a) => Span::new(a.start.min(r.start), a.end.max(r.end)),
        None => r,
    });
}

/// Drops trailing whitespace (newlines, `\r`, blank lines) from a span.
pub(crate) fn trim_end(source: &str, s: Span) -> Span {
    let end = s.end.min(source.len());
    let start = s.start.min(end);
    let text = source.get(start..end).unwrap_or("");
    Span::new(start, start + text.trim_end().len())
}
