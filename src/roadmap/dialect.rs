//! The readings of roadmap Markdown ("dialects"): one parser, a few rules
//! that differ. Detection looks at the block structure once; `--dialect`
//! forces a reading when detection guesses wrong (detection: `detect.rs`).
//!
//! | dialect | phases | groups | tasks |
//! |---|---|---|---|
//! | table | `## Phase N` headings | `### Group X` headings (or implicit) | rows, items, headings with ids; checklist items |
//! | spec-kit | `## Phase N` | implicit: a run of `[P]` tasks, or one task | `- [ ] T001 [P] ...` |
//! | Kiro | each top-level `- [ ] N.` item | one per task | its `- [ ] N.M` sub-items (or the item itself) |
//! | Superpowers | `## Phase N` (or one implicit phase) | one per task | `### Task N:` sections |
//! | GSD | the `- [ ] **Phase N: ...**` list, merged with `### Phase N:` sections | one per plan | `- [ ] NN-NN-PLAN.md` items |
//! | outline | level words (`Sprint 3`, `M1`) or position | the level holding a task list | checklist, numbered, id items; id or status rows and headings |

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
