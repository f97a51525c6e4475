//! Which dialect a document is written in, guessed from its block
//! structure once (`--dialect` skips this).

use super::blocks::{Block, BlockKind};
use super::dialect::Dialect;
use super::model::Span;
use super::syntax;
use super::words;

/// Guesses the dialect from the blocks: the most specific format whose
/// marks are present wins, the table reading is the fallback.
pub(crate) fn detect(source: &str, blocks: &[Block]) -> Dialect {
    let text = |s: Span| source.get(s.start..s.end).unwrap_or("");
    let mut phase_headings = false;
    let mut group_headings = false;
    let mut task_headings = false;
    let mut phase_items = false;
    let mut numbered_items = false;
    let mut speckit_items = false;
    let mut outline = OutlineMarks::default();
    for b in blocks {
        match &b.kind {
            BlockKind::Heading { content, .. } => {
                let t = text(*content);
                phase_headings |= syntax::phase_head(t).is_some();
                let agent = agent_heading(t);
                group_headings |= syntax::group_head(t).is_some() && !agent;
                task_headings |= syntax::is_task_word_heading(t);
                outline.heading(t, agent);
            }
            BlockKind::Paragraph => outline.paragraph(text(b.span)),
            BlockKind::List(items) => {
                for item in items {
                    let Some(h) = item.head else { continue };
                    let h = text(h);
                    phase_items |= syntax::bold_phase_item(h).is_some();
                    if item.checked.is_some() || h.starts_with("[ ]") {
                        numbered_items |= syntax::is_numbered_item(h);
                        speckit_items |= syntax::is_speckit_item(h);
                    }
                    outline.item(h, item.checked.is_some());
                }
            }
            _ => {}
        }
    }
    if phase_items && phase_headings {
        Dialect::Gsd
    } else if !phase_headings && numbered_items {
        Dialect::Kiro
    } else if task_headings && !group_headings {
        Dialect::Superpowers
    } else if speckit_items && !group_headings {
        Dialect::SpecKit
    } else if !group_headings && outline.any() {
        Dialect::Outline
    } else {
        Dialect::Table
    }
}

/// Marks of structures the table reading gets wrong without an error, so
/// the outline reader must read them: per-agent sections (their bullets
/// would be tasks), checklists of acceptance criteria (they would be
/// tasks), ids the table grammar cuts short (`M0-DOC-001`, `[#7]`).
#[derive(Default)]
struct OutlineMarks {
    agents: bool,
    checks: bool,
    ids: bool,
    /// Under a heading or label that names checks of the work.
    in_checks: bool,
}

impl OutlineMarks {
    fn heading(&mut self, t: &str, agent: bool) {
        self.agents |= agent;
        self.in_checks = not_work(t);
        self.ids |= cut_short_id(t);
    }

    fn paragraph(&mut self, t: &str) {
        if not_work(t.lines().next().unwrap_or("")) {
            self.in_checks = true;
        }
    }

    fn item(&mut self, head: &str, checklist: bool) {
        self.checks |= checklist && self.in_checks;
        self.ids |= head
            .trim_start_matches("[ ] ")
            .trim_start_matches("[x] ")
            .starts_with("[#");
    }

    fn any(&self) -> bool {
        self.agents || self.checks || self.ids
    }
}

/// A heading for one worker (`Agent 3: Frontend`), for detection.
fn agent_heading(text: &str) -> bool {
    words::is_agent(text)
}

/// A heading or label naming checks of the work (acceptance criteria...).
fn not_work(text: &str) -> bool {
    let short: String = text.chars().take(40).collect();
    words::is_not_work(&short) && words::level_word(text).is_none()
}

/// A heading id the native grammar reads shorter than written
/// (`M0-DOC-001` would be `M0`).
fn cut_short_id(text: &str) -> bool {
    let Some((id, _)) = words::task_id(text) else {
        return false;
    };
    if words::level_word(text).is_some() {
        return false;
    }
    let (lead, _) = words::skip_lead(text);
    let native = syntax::task_head(&text[lead..], syntax::HeadCtx::Item)
        .and_then(|h| h.id.map(|i| text[lead..][i.value].to_string()));
    native.as_deref() != Some(id.as_str())
}
