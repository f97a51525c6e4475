//! The parsed roadmap: phases → groups → tasks. Every item keeps the byte span
//! of the source it came from so diagnostics and reports can point back at it.

use serde::Serialize;
use std::fmt;

/// A byte range `start..end` in the roadmap source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Roadmap {
    /// The first level-1 heading, if any (the project title).
    pub title: Option<String>,
    /// Text under the title that belongs to no phase (overview, legend...).
    pub context: String,
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub number: u32,
    /// `Foundation Layer` in `## Phase 1: Foundation Layer`; may be empty.
    pub title: String,
    /// The `(...)` annotation of the heading, without parentheses.
    pub annotation: Option<String>,
    /// Phase text that is not a group: descriptions, deliverables, notes.
    pub context: String,
    pub groups: Vec<Group>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The group letters: `A`, `B`, `AA`.
    pub id: String,
    /// `Database` in `### Group A: Database`; may be empty.
    pub title: String,
    /// `Parallel, after A` in `### Group B (Parallel, after A)`.
    pub annotation: Option<String>,
    /// Groups named by `after X` in the annotation.
    pub after: Vec<String>,
    /// Group text that is not a task.
    pub context: String,
    pub tasks: Vec<Task>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// `A1`, `B12`, `AA3`.
    pub id: String,
    pub title: String,
    /// Named fields: table columns (`Complexity: Low`) in header order.
    pub fields: Vec<Field>,
    /// Markdown source of the task's nested content or section body.
    pub body: String,
    /// Marked done in the roadmap itself (`[x]`, or a Status cell with ✅ / Done).
    pub done_in_roadmap: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// Identifies a group across the roadmap and the status files: `PHASE_1:A`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GroupKey {
    pub phase: u32,
    pub group: String,
}

impl GroupKey {
    pub fn new(phase: u32, group: impl Into<String>) -> Self {
        GroupKey {
            phase,
            group: group.into(),
        }
    }

    /// Parses `PHASE_1:A` (case-insensitive, surrounding spaces allowed).
    pub fn parse_status(s: &str) -> Option<Self> {
        let s = s.trim();
        let (phase, group) = s.split_once(':')?;
        let phase = phase.trim();
        let number = phase
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("PHASE_"))
            .map(|_| &phase[6..])?;
        Self::from_parts(number, group)
    }

    /// Parses the command-line form `1:A` (also accepts `PHASE_1:A`).
    pub fn parse_cli(s: &str) -> Option<Self> {
        Self::parse_status(s).or_else(|| {
            let (phase, group) = s.trim().split_once(':')?;
            Self::from_parts(phase.trim(), group)
        })
    }

    fn from_parts(number: &str, group: &str) -> Option<Self> {
        let phase: u32 = number.parse().ok()?;
        let group = group.trim();
        if group.is_empty() || !group.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        Some(GroupKey::new(phase, group.to_ascii_uppercase()))
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PHASE_{}:{}", self.phase, self.group)
    }
}

impl Roadmap {
    pub fn task_count(&self) -> usize {
        self.phases
            .iter()
            .flat_map(|p| &p.groups)
            .map(|g| g.tasks.len())
            .sum()
    }

    pub fn group_count(&self) -> usize {
        self.phases.iter().map(|p| p.groups.len()).sum()
    }

    pub fn phase(&self, number: u32) -> Option<&Phase> {
        self.phases.iter().find(|p| p.number == number)
    }

    pub fn group(&self, key: &GroupKey) -> Option<(&Phase, &Group)> {
        let phase = self.phase(key.phase)?;
        let group = phase.groups.iter().find(|g| g.id == key.group)?;
        Some((phase, group))
    }

    /// Every group in roadmap order with its key.
    pub fn groups(&self) -> impl Iterator<Item = (&Phase, &Group)> {
        self.phases
            .iter()
            .flat_map(|p| p.groups.iter().map(move |g| (p, g)))
    }
}

impl Group {
    pub fn key(&self, phase: &Phase) -> GroupKey {
        GroupKey::new(phase.number, self.id.clone())
    }

    /// `Group A: Database (Parallel)`-style label for messages.
    pub fn label(&self) -> String {
        let mut s = format!("Group {}", self.id);
        if !self.title.is_empty() {
            s.push_str(": ");
            s.push_str(&self.title);
        }
        s
    }
}

impl Task {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_key_forms() {
        assert_eq!(
            GroupKey::parse_status(" phase_2:b \r"),
            Some(GroupKey::new(2, "B"))
        );
        assert_eq!(GroupKey::parse_cli("3:aa"), Some(GroupKey::new(3, "AA")));
        assert_eq!(GroupKey::parse_status("PHASE_X:A"), None);
        assert_eq!(GroupKey::parse_status("PHASE_1:A1"), None);
        assert_eq!(GroupKey::new(1, "A").to_string(), "PHASE_1:A");
    }
}
