//! The parsed roadmap: phases → groups → tasks. Every item keeps the byte span
//! of the source it came from so diagnostics and reports can point back at it.

use super::agent_annotation::{agent_in_parens, agent_name};
use super::agent_name::AgentName;
pub use super::dialect::Dialect;
use super::slug::slug;
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
    /// Which reading of the Markdown was used (detected or forced).
    pub dialect: Dialect,
    /// The outline reader's decisions (source line and rule of each item);
    /// `None` for the other dialects.
    #[serde(skip)]
    pub reading: Option<super::reading::Reading>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub number: PhaseId,
    /// `Foundation Layer` in `## Phase 1: Foundation Layer`; may be empty.
    pub title: String,
    /// The `(...)` annotation of the heading, without parentheses.
    pub annotation: Option<String>,
    /// Phase text that is not a group: descriptions, deliverables, notes.
    pub context: String,
    pub groups: Vec<Group>,
    /// Marked done in the roadmap itself: ✅ / `COMPLETE` / `Done` in its
    /// heading, `[x]` on its list item, a `**Status:** complete` line.
    pub done_in_roadmap: bool,
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
    /// No heading named it: an implicit group whose id was derived (the
    /// id of its first task).
    pub derived_id: bool,
    pub span: Span,
}

impl Group {
    /// The agent named by `(agent: codex)` in the heading's annotation
    /// (checked by the parser: an unknown name is a diagnostic).
    pub fn agent(&self) -> Option<AgentName> {
        let a = self.annotation.as_deref()?;
        let (name, _) = agent_name(a, 0..a.len())?;
        AgentName::parse(&name)
    }
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
    /// Marked done in the roadmap itself (`[x]`, ✅, strikethrough, or a
    /// Status cell with ✅ / Done).
    pub done_in_roadmap: bool,
    /// Where the done mark is or goes: the `[ ]`/`[x]` of a checklist item or
    /// the Status cell of a table row (for write-back).
    pub done_mark: Option<DoneMark>,
    /// Marked optional (Kiro's `- [ ]*`): may be skipped.
    pub optional: bool,
    /// The roadmap gave no id: this one is derived from the title.
    pub derived_id: bool,
    pub span: Span,
}

/// Where a task's done state is written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DoneMark {
    /// The three bytes `[ ]` / `[x]` / `[X]`.
    Checkbox { span: Span },
    /// The trimmed content of a table's Status cell (may be empty).
    StatusCell { span: Span },
}

impl DoneMark {
    pub fn span(self) -> Span {
        match self {
            DoneMark::Checkbox { span } | DoneMark::StatusCell { span } => span,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// A phase's number as the roadmap writes it: `1`, `4b`, `12.1`. Compared
/// by its parts, numbers as numbers (`2` < `4b` < `10` < `12` < `12.1`);
/// serialised as a JSON number when it is a plain number, so status files
/// written before decimal phases stay readable and unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhaseId(String);

impl PhaseId {
    /// A phase id from its text; `None` unless it is an id (starts with a
    /// digit, then digits, letters, `.`, `-` or `_`, at most 32 bytes).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let ok = t.len() <= 32
            && t.starts_with(|c: char| c.is_ascii_digit())
            && t.chars().all(is_id_char)
            && !t.ends_with(['.', '-']);
        ok.then(|| PhaseId(t.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The whole number it starts with: 12 for `12.1`, 4 for `4b`.
    pub fn leading_number(&self) -> Option<u64> {
        let end = self
            .0
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.0.len());
        self.0[..end].parse().ok()
    }

    /// The parts: runs of digits (as numbers) and runs of other characters.
    fn parts(&self) -> impl Iterator<Item = IdPart<'_>> {
        IdParts(self.0.as_str())
    }
}

impl From<u32> for PhaseId {
    fn from(n: u32) -> Self {
        PhaseId(n.to_string())
    }
}

impl PartialEq<u32> for PhaseId {
    fn eq(&self, other: &u32) -> bool {
        self.0 == other.to_string()
    }
}

impl fmt::Display for PhaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Ord for PhaseId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(other.parts())
    }
}

impl PartialOrd for PhaseId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for PhaseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<u64>() {
            Ok(n) if n.to_string() == self.0 => s.serialize_u64(n),
            _ => s.serialize_str(&self.0),
        }
    }
}

impl<'de> serde::Deserialize<'de> for PhaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        PhaseId::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a phase number")))
    }
}

/// A digit run compares as a number, below any other run at the same place.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum IdPart<'a> {
    Number(u128, usize),
    Text(&'a str),
}

struct IdParts<'a>(&'a str);

impl<'a> Iterator for IdParts<'a> {
    type Item = IdPart<'a>;
    fn next(&mut self) -> Option<IdPart<'a>> {
        let s = self.0;
        let first = s.chars().next()?;
        let digit = first.is_ascii_digit();
        let len = s
            .find(|c: char| c.is_ascii_digit() != digit)
            .unwrap_or(s.len());
        let (run, rest) = s.split_at(len);
        self.0 = rest;
        Some(if digit {
            let trimmed = run.trim_start_matches('0');
            // `000` is 0; more digits than u128 holds sort last. The length
            // breaks ties so `01` and `1` stay distinct ids.
            let value = if trimmed.len() <= 38 {
                trimmed.parse().unwrap_or(0)
            } else {
                u128::MAX
            };
            IdPart::Number(value, len)
        } else {
            IdPart::Text(run)
        })
    }
}

/// Characters of phase, group and task ids: ASCII letters, digits, `.`, `-`, `_`.
pub fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Whether `text` is a group or task id: 1-64 id characters, not starting
/// with `.` or `-`.
pub fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.chars().all(is_id_char)
        && !text.starts_with(['.', '-'])
}

/// Whether `text` is the group of a sub-roadmap, scoped by the task that
/// split: `B:B2/1:A` (group B's task B2, its sub-roadmap's Phase 1 Group A),
/// deeper `B:B2/1:A:A1/1:C`.
pub fn is_scoped_group(text: &str) -> bool {
    let mut parts = text.split('/');
    let first_ok = parts
        .next()
        .and_then(|p| p.split_once(':'))
        .is_some_and(|(g, t)| is_id(g) && is_id(t));
    let rest: Vec<&str> = parts.collect();
    let Some((last, middle)) = rest.split_last() else {
        return false;
    };
    let ids = |p: &str, n: usize| {
        let f: Vec<&str> = p.split(':').collect();
        f.len() == n && PhaseId::parse(f[0]).is_some() && f[1..].iter().all(|x| is_id(x))
    };
    first_ok && middle.iter().all(|p| ids(p, 3)) && ids(last, 2)
}

/// Identifies a group across the roadmap and the status files: `PHASE_1:A`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GroupKey {
    pub phase: PhaseId,
    pub group: String,
}

impl GroupKey {
    pub fn new(phase: impl Into<PhaseId>, group: impl Into<String>) -> Self {
        GroupKey {
            phase: phase.into(),
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
        let phase = PhaseId::parse(number)?;
        let group = group.trim();
        if group.contains('/') {
            // A sub-roadmap's group (`B:B2/1:A`): kept as written, since
            // its task ids keep their case.
            return is_scoped_group(group).then(|| GroupKey::new(phase, group));
        }
        if !is_id(group) {
            return None;
        }
        Some(GroupKey::new(phase, group.to_ascii_uppercase()))
    }

    /// How many sub-roadmaps deep the group is: 0 in the roadmap itself.
    pub fn depth(&self) -> usize {
        self.group.matches('/').count()
    }

    /// `1:B:B2`: how every view and the command line name this group's task
    /// `task`, scoped at any depth (`1:B:B2/1:A:A1`).
    pub fn task_ref(&self, task: &str) -> String {
        format!("{}:{}:{task}", self.phase, self.group)
    }

    /// The task whose sub-roadmap holds this group (`1:B:B2/1:A` → `1:B`
    /// and `B2`); `None` for a group of the roadmap itself.
    pub fn parent_task(&self) -> Option<(GroupKey, String)> {
        let (parent, _) = self.group.rsplit_once('/')?;
        let (group, task) = parent.rsplit_once(':')?;
        Some((GroupKey::new(self.phase.clone(), group), task.to_string()))
    }

    /// `phase1_groupA`: how log file names of this group start (slugs, so
    /// any id is safe in a file name; `_` never occurs inside a slug).
    pub fn log_stem(&self) -> String {
        format!(
            "phase{}_group{}",
            slug(self.phase.as_str()),
            slug(&self.group)
        )
    }

    /// `PHASE_1:A:A1`, the key of one task of this group.
    pub fn task_key(&self, task: &str) -> String {
        format!("{self}:{task}")
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

    pub fn phase(&self, number: &PhaseId) -> Option<&Phase> {
        self.phases.iter().find(|p| &p.number == number)
    }

    pub fn group(&self, key: &GroupKey) -> Option<(&Phase, &Group)> {
        let phase = self.phase(&key.phase)?;
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
        GroupKey::new(phase.number.clone(), self.id.clone())
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
    /// The agent named by `(agent: gemini)` in the title or an `Agent`
    /// column (checked by the parser: an unknown name is a diagnostic).
    pub fn agent(&self) -> Option<AgentName> {
        AgentName::parse(&self.agent_written()?)
    }

    /// The agent name the task gives, as written (not checked).
    pub fn agent_written(&self) -> Option<String> {
        let cell = self.field("agent").map(str::trim).filter(|c| !c.is_empty());
        match cell {
            Some(c) => Some(c.to_string()),
            None => agent_in_parens(&self.title),
        }
    }

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
        assert_eq!(GroupKey::parse_status("PHASE_1:A:A1"), None);
        assert_eq!(GroupKey::parse_status("PHASE_1:../x"), None);
        assert_eq!(
            GroupKey::parse_status("PHASE_12.1:w2"),
            Some(GroupKey::new(PhaseId::parse("12.1").unwrap(), "W2"))
        );
        assert_eq!(GroupKey::new(1, "A").to_string(), "PHASE_1:A");
    }

    #[test]
    fn phase_ids_order_by_their_numbers() {
        let ids: Vec<PhaseId> = ["1", "2", "4", "4b", "10", "12", "12.1", "12.2", "12.10"]
            .iter()
            .map(|t| PhaseId::parse(t).unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.reverse();
        sorted.sort();
        assert_eq!(sorted, ids);
        assert!(PhaseId::parse("01") != PhaseId::parse("1"));
        for bad in ["", "a1", "1/2", "1.", "1 2", "../1"] {
            assert_eq!(PhaseId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn phase_ids_serialise_as_numbers_when_they_are() {
        let one = PhaseId::from(1);
        assert_eq!(serde_json::to_string(&one).unwrap(), "1");
        let dec = PhaseId::parse("12.1").unwrap();
        assert_eq!(serde_json::to_string(&dec).unwrap(), "\"12.1\"");
        let back: PhaseId = serde_json::from_str("\"12.1\"").unwrap();
        assert_eq!(back, dec);
        let back: PhaseId = serde_json::from_str("7").unwrap();
        assert_eq!(back, PhaseId::from(7));
        assert!(serde_json::from_str::<PhaseId>("\"x/y\"").is_err());
    }
}
