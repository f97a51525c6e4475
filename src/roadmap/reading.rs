//! What a reading decided and why: each phase, group and task with the
//! source line it came from and the rule that made it one, for `validate`.

use serde::Serialize;

/// The reading of a document, aligned with its [`Roadmap`](crate::roadmap::Roadmap):
/// `phases[i].groups[j].tasks[k]` explains `roadmap.phases[i].groups[j].tasks[k]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// The lines that were the plan, when the document is mostly something else.
    pub plan: Option<PlanPart>,
    pub phases: Vec<PhaseWhy>,
    /// What looked like work and was not read as work, with why.
    pub skipped: Vec<Why>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanPart {
    pub first_line: usize,
    pub last_line: usize,
    /// The heading of the plan section(s).
    pub headings: Vec<String>,
}

/// Where one item of the reading came from and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    /// 1-based line of the source.
    pub line: usize,
    /// `heading "## ⏳ SPRINT 3 (NEXT)"`, `item "- [x] Build"`.
    pub source: String,
    /// `sprint`, `checklist item`, `position: holds the task list`.
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseWhy {
    #[serde(flatten)]
    pub why: Why,
    pub groups: Vec<GroupWhy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupWhy {
    #[serde(flatten)]
    pub why: Why,
    pub tasks: Vec<Why>,
}
