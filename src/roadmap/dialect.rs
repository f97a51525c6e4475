//! The readings of roadmap Markdown ("dialects"): one parser, a few rules
//! that differ. Detection looks at the block structure once; `--dialect`
//! forces a reading when detection guesses wrong.
//!
//! | dialect | phases | groups | tasks |
//! |---|---|---|---|
//! | table | `## Phase N` headings | `### Group X` headings (or implicit) | rows, items, headings with ids; checklist items |
//! | spec-kit | `## Phase N` | implicit: a run of `[P]` tasks, or one task | `- [ ] T001 [P] ...` |
//! | Kiro | each top-level `- [ ] N.` item | one per task | its `- [ ] N.M` sub-items (or the item itself) |
//! | Superpowers | `## Phase N` (or one implicit phase) | one per task | `### Task N:` sections |
//! | GSD | the `- [ ] **Phase N: ...**` list, merged with `### Phase N:` sections | one per plan | `- [ ] NN-NN-PLAN.md` items |
//! | outline | level words (`Sprint 3`, `M1`) or position | the level holding a task list | checklist, numbered, id items; id or status rows and headings |

use super::blocks::{Block, BlockKind};
use super::outline;
use super::syntax;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// Phase and group headings; tasks in tables, lists and headings.
    #[default]
    Table,
    /// GitHub spec-kit's `tasks.md`.
    SpecKit,
    /// Kiro's `tasks.md`: numbered checklist, sequential.
    Kiro,
    /// A Superpowers implementation plan: `### Task N:` sections, sequential.
    Superpowers,
    /// Get-Shit-Done's `.planning/ROADMAP.md`: phases with plans, sequential.
    Gsd,
    /// Any heading structure, read by its words and shape (`outline/`):
    /// the fallback when no other dialect reads the document.
    Outline,
}

/// Every dialect with its `--dialect` name.
pub const DIALECTS: [(Dialect, &str); 6] = [
    (Dialect::Table, "table"),
    (Dialect::SpecKit, "spec-kit"),
    (Dialect::Kiro, "kiro"),
    (Dialect::Superpowers, "superpowers"),
    (Dialect::Gsd, "gsd"),
    (Dialect::Outline, "outline"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown roadmap dialect `{0}` (known: table, spec-kit, kiro, superpowers, gsd, outline)")]
pub struct UnknownDialect(pub String);

impl Dialect {
    /// The `--dialect` name.
    pub fn name(self) -> &'static str {
        DIALECTS
            .iter()
            .find(|(d, _)| *d == self)
            .map_or("table", |(_, n)| n)
    }

    /// What `validate` says it read.
    pub fn description(self) -> &'static str {
        match self {
            Dialect::Table => "table roadmap",
            Dialect::SpecKit => "spec-kit tasks.md",
            Dialect::Kiro => "Kiro tasks.md",
            Dialect::Superpowers => "Superpowers plan",
            Dialect::Gsd => "GSD roadmap",
            Dialect::Outline => "outline",
        }
    }

    /// Tasks of this format run one at a time, each its own group.
    pub fn sequential(self) -> bool {
        matches!(self, Dialect::Kiro | Dialect::Superpowers | Dialect::Gsd)
    }
}

impl FromStr for Dialect {
    type Err = UnknownDialect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let key = match key.as_str() {
            "speckit" => "spec-kit",
            "native" | "educonnect" => "table",
            other => other,
        };
        DIALECTS
            .iter()
            .find(|(_, n)| *n == key)
            .map(|(d, _)| *d)
            .ok_or_else(|| UnknownDialect(s.to_string()))
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl Serialize for Dialect {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Guesses the dialect from the blocks: the most specific format whose
/// marks are present wins, the table reading is the fallback.
pub(crate) fn detect(source: &str, blocks: &[Block]) -> Dialect {
    let text = |s: super::model::Span| source.get(s.start..s.end).unwrap_or("");
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
                let agent = outline::agent_heading(t);
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
        self.in_checks = outline::not_work(t);
        self.ids |= outline::cut_short_id(t);
    }

    fn paragraph(&mut self, t: &str) {
        if outline::not_work(t.lines().next().unwrap_or("")) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (d, name) in DIALECTS {
            assert_eq!(name.parse::<Dialect>(), Ok(d));
            assert_eq!(d.name(), name);
        }
        assert_eq!("SpecKit".parse::<Dialect>(), Ok(Dialect::SpecKit));
        assert!("yaml".parse::<Dialect>().is_err());
    }
}
