//! Reading a group heading: its id, `after` and `agent:` checked against the
//! phase, and a group heading outside any phase.

use super::{Builder, GroupKind, OpenGroup, offset};
use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::model::{Group, Span};
use crate::roadmap::syntax::{self, GroupHead};

impl Builder<'_> {
    pub(super) fn start_group(&mut self, head: GroupHead, level: u8, content: Span, span: Span) {
        self.group = Some(OpenGroup {
            level,
            kind: GroupKind::Heading,
            context_closed: false,
        });
        let Some(phase) = self.roadmap.phases.last() else {
            return;
        };
        let pi = self.roadmap.phases.len() - 1;
        let id_span = offset(content.start, &head.id_span);
        let first = phase
            .groups
            .iter()
            .find(|g| g.id == head.id)
            .map(|g| g.span);
        if let Some(first) = first {
            self.duplicate_group(&head.id, id_span, first);
        }
        self.check_after(pi, &head, content.start);
        self.check_agent(&head, content.start);
        let after = head.after.into_iter().map(|(name, _)| name).collect();
        self.roadmap.phases[pi].groups.push(Group {
            id: head.id,
            title: head.title,
            annotation: head.annotation,
            after,
            context: String::new(),
            tasks: Vec::new(),
            derived_id: false,
            span,
        });
    }

    fn duplicate_group(&mut self, id: &str, id_span: Span, first: Span) {
        let phase = &self.roadmap.phases[self.roadmap.phases.len() - 1];
        let earlier: Vec<&str> = phase.groups.iter().map(|g| g.id.as_str()).collect();
        let suggestion = next_group_letter(&earlier);
        let number = phase.number.clone();
        let line = self.line(first.start);
        self.diags.push(
            Diagnostic::error(
                "duplicate-group",
                id_span,
                format!("duplicate group `{id}` in phase {number} (first defined at line {line})"),
            )
            .with_help(format!(
                "give each group of a phase its own letters, e.g. `Group {suggestion}`"
            )),
        );
    }

    /// `after X` must name an earlier group of the phase, or a task of one.
    fn check_after(&mut self, pi: usize, head: &GroupHead, base: usize) {
        let phase = &self.roadmap.phases[pi];
        let earlier: Vec<&str> = phase.groups.iter().map(|g| g.id.as_str()).collect();
        let known = |name: &str| {
            earlier.contains(&name)
                || phase
                    .groups
                    .iter()
                    .flat_map(|g| &g.tasks)
                    .any(|t| t.id.eq_ignore_ascii_case(name))
        };
        let bad: Vec<(String, Span)> = head
            .after
            .iter()
            .filter(|(name, _)| !known(name))
            .map(|(name, r)| (name.clone(), offset(base, r)))
            .collect();
        let listed = if earlier.is_empty() {
            "it is the first group of the phase".to_string()
        } else {
            format!("earlier groups: {}", earlier.join(", "))
        };
        let number = phase.number.clone();
        for (name, span) in bad {
            self.diags.push(
                Diagnostic::error(
                    "after-not-earlier",
                    span,
                    format!(
                        "group `{}` runs after `{name}`, which is not an earlier group of phase {number}",
                        head.id
                    ),
                )
                .with_help(format!(
                    "groups run in the order they appear; name a group defined above this one ({listed})"
                )),
            );
        }
    }

    /// `agent: X` must name a profile that can run a group's tasks.
    fn check_agent(&mut self, head: &GroupHead, base: usize) {
        let Some((name, r)) = &head.agent else {
            return;
        };
        if crate::roadmap::AgentName::parse(name).is_none() {
            self.diags.push(
                Diagnostic::error(
                    "unknown-agent",
                    offset(base, r),
                    format!("group `{}` names unknown agent `{name}`", head.id),
                )
                .with_help(format!("write {}", crate::roadmap::AgentName::choices())),
            );
        }
    }

    /// A `Group X` heading outside any phase would silently never run.
    pub(super) fn check_stray_group(&mut self, text: &str, content: Span) {
        if let Some(head) = syntax::group_head(text) {
            self.diags.push(
                Diagnostic::warning(
                    "group-outside-phase",
                    offset(content.start, &head.id_span),
                    format!(
                        "group `{}` is not inside a phase; its tasks will not run",
                        head.id
                    ),
                )
                .with_help("put it under a phase heading such as `## Phase 1: Foundation`"),
            );
        }
    }
}

/// `A`, `B`, `C` → `D`: the letter after the highest single-letter group.
fn next_group_letter(ids: &[&str]) -> String {
    let max = ids
        .iter()
        .filter_map(|id| match id.as_bytes() {
            [b] if b.is_ascii_uppercase() => Some(*b),
            _ => None,
        })
        .max();
    match max {
        Some(b) if b < b'Z' => char::from(b + 1).to_string(),
        Some(_) => "AA".to_string(),
        None => "A".to_string(),
    }
}
