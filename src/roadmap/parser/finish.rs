//! The end of a parse: diagnostics that need the whole roadmap (free ids,
//! empty groups, no tasks at all), context assignment and GSD's phase list.

use super::{Builder, Deferred, Dest, Parsed, tasks::normalize};
use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::dialect::Dialect;
use crate::roadmap::model::Span;
use std::collections::{HashMap, HashSet};

/// How many headings a "no phases" / "no tasks" message names.
const NAMED_HEADINGS: usize = 5;

impl Builder<'_> {
    pub(super) fn finish(mut self) -> Parsed {
        self.close_heading_task(self.src.len());
        self.promote_loose_items();
        self.report_deferred();
        self.assign_contexts();
        self.merge_listed();
        self.report_empty();
        if self.roadmap.phases.is_empty() {
            self.no_phases();
        } else {
            self.no_tasks();
        }
        self.diags.sort_by_key(|d| d.span.start);
        Parsed {
            roadmap: self.roadmap,
            diagnostics: self.diags,
        }
    }

    /// GSD: the phase list gives the phases and their order; a `### Phase N:`
    /// section adds its plans (and text) to the listed phase N.
    fn merge_listed(&mut self) {
        if self.listed.is_empty() {
            return;
        }
        let mut phases = std::mem::take(&mut self.listed);
        for detail in std::mem::take(&mut self.roadmap.phases) {
            match phases.iter_mut().find(|p| p.number == detail.number) {
                Some(p) => {
                    let marked = if p.done_in_roadmap {
                        p.span
                    } else {
                        detail.span
                    };
                    if p.done_in_roadmap || detail.done_in_roadmap {
                        self.check_done_phase(&detail, marked);
                    }
                    p.done_in_roadmap |= detail.done_in_roadmap;
                    p.groups = detail.groups;
                    p.context = detail.context;
                    p.span = detail.span;
                    if p.annotation.is_none() {
                        p.annotation = detail.annotation;
                    }
                }
                None => phases.push(detail),
            }
        }
        self.roadmap.phases = phases;
    }

    /// GSD: a phase marked done (on the line at `marked`) with a plan that is
    /// not ticked. The runner believes the mark and runs none of the phase,
    /// so one of the two lines is wrong: one warning naming both.
    fn check_done_phase(&mut self, detail: &crate::roadmap::model::Phase, marked: Span) {
        let unticked = detail
            .groups
            .iter()
            .flat_map(|g| &g.tasks)
            .find(|t| !t.done_in_roadmap && !t.optional);
        let Some(task) = unticked else { return };
        let line = crate::roadmap::diagnostics::line_col(self.src, marked.start).0;
        let message = format!(
            "Phase {} is marked done on line {line}, but its plan `{}` is not ticked",
            detail.number, task.id
        );
        let help = format!(
            "the runner believes the phase's mark and runs none of it: untick the phase on line {line} if `{}` is still to do, or tick the plan",
            task.id
        );
        self.diags.push(
            Diagnostic::warning("done-phase-unticked-plan", task.span, message).with_help(help),
        );
    }

    fn report_deferred(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        let mut free = FreeIds::new(self.ids.keys().map(|(p, id)| (*p, id.as_ref())));
        for d in std::mem::take(&mut self.deferred) {
            let diag = match d {
                Deferred::Duplicate {
                    phase,
                    id,
                    value,
                    first,
                } => {
                    let line = self.line(first.start);
                    let letters = value.trim_end_matches(|c: char| c.is_ascii_digit());
                    let letters = if letters.len() == value.len() {
                        ""
                    } else {
                        letters
                    };
                    Diagnostic::error(
                        "duplicate-task-id",
                        id,
                        format!("duplicate task id `{value}` (first defined at line {line})"),
                    )
                    .with_help(format!(
                        "give each task a unique id, e.g. `{}`",
                        free.next(phase, letters)
                    ))
                }
                Deferred::Mismatch { phase, id, group } => {
                    let text = self.text(id);
                    Diagnostic::warning(
                        "task-group-mismatch",
                        id,
                        format!("task `{text}` is in group {group} but its id names another group"),
                    )
                    .with_help(format!(
                        "rename it `{}` or move it under its own group",
                        free.next(phase, &group)
                    ))
                }
            };
            self.diags.push(diag);
        }
    }

    fn report_empty(&mut self) {
        let gsd = self.dialect == Dialect::Gsd;
        for phase in &self.roadmap.phases {
            if phase.groups.is_empty() && !phase.done_in_roadmap {
                let (message, help) = if gsd {
                    (
                        format!(
                            "phase {} has no plans yet; a run stops before it",
                            phase.number
                        ),
                        "plan it (`- [ ] NN-01-PLAN.md — what`) under a `### Phase N:` section with a `Plans:` list, or mark it done",
                    )
                } else {
                    (
                        format!(
                            "phase {} has no groups or tasks; a run stops before it",
                            phase.number
                        ),
                        "add a group heading with tasks under it, e.g. `### Group A: Title` and `- [ ] A1: Title`, or remove the phase",
                    )
                };
                self.diags
                    .push(Diagnostic::warning("empty-phase", phase.span, message).with_help(help));
            }
            for group in phase.groups.iter().filter(|g| g.tasks.is_empty()) {
                self.diags.push(
                    Diagnostic::error(
                        "empty-group",
                        group.span,
                        format!(
                            "group {} of phase {} has no tasks: nothing under it was read as a task, so it could never be completed",
                            group.id, phase.number
                        ),
                    )
                    .with_help(format!(
                        "write its tasks as `- [ ] {id}1: Title`, a table row `| **{id}1: Title** |` or a checklist `- [ ] Title` (list items without an id or a checkbox are notes), or remove the group",
                        id = group.id
                    )),
                );
            }
        }
    }

    /// No phase at all: point at the headings that look like phases, else
    /// name the headings seen.
    fn no_phases(&mut self) {
        let span = self
            .phase_like
            .first()
            .or(self.headings.first())
            .copied()
            .unwrap_or_default();
        let seen = self.name_headings(&self.phase_like.clone());
        let message = if !seen.is_empty() {
            format!(
                "the roadmap has no phases; these headings look like phases but are not written as one: {seen}"
            )
        } else if !self.headings.is_empty() {
            let all = self.name_headings(&self.headings.clone());
            format!("the roadmap has no phases; its headings are {all}")
        } else {
            "the roadmap has no phases".to_string()
        };
        self.diags
            .push(Diagnostic::error("no-phases", span, message).with_help(
                "add a phase heading such as `## Phase 1: Foundation`, with groups \
             (`### Group A: Database`) and tasks (`- A1: Schema`) under it",
            ));
    }

    /// Phases but no task anywhere, and something left to do: nothing
    /// would run, so say what was expected under which heading.
    fn no_tasks(&mut self) {
        let r = &self.roadmap;
        // Phases all marked done but not one task read is no plan either:
        // "0 tasks, nothing to do" would hide a reading that went wrong.
        if r.task_count() > 0 {
            return;
        }
        let spans: Vec<Span> = r.phases.iter().map(|p| p.span).collect();
        let seen = self.name_headings(&spans);
        let message = format!(
            "no task was read in any of the {} phases ({seen}), so nothing would run",
            spans.len()
        );
        self.diags.push(
            Diagnostic::error("no-tasks", spans[0], message).with_help(format!(
                "under each phase expected group headings (`### Group A: Title`) with tasks \
                 (`- [ ] A1: Title`, `| **A1: Title** |`, `#### A1: Title`) or checklist items \
                 (`- [ ] Title`); it was read as a {}, force another reading with \
                 `--dialect table|spec-kit|kiro|superpowers|gsd|outline`",
                self.dialect
            )),
        );
    }

    /// `` `## Phase 1 Foundation` (line 3), ... `` for the first few spans.
    fn name_headings(&mut self, spans: &[Span]) -> String {
        let mut out: Vec<String> = Vec::new();
        for &s in spans.iter().take(NAMED_HEADINGS) {
            let line = self.line(s.start);
            let text = self.text(s).lines().next().unwrap_or("").trim();
            out.push(format!("`{text}` (line {line})"));
        }
        if spans.len() > NAMED_HEADINGS {
            out.push(format!("and {} more", spans.len() - NAMED_HEADINGS));
        }
        out.join(", ")
    }

    /// Joins each destination's context pieces: adjacent blocks are kept as
    /// one slice of source, separate pieces are joined by a blank line.
    fn assign_contexts(&mut self) {
        let mut merged: HashMap<Dest, Vec<Span>> = HashMap::new();
        for &(dest, span) in &self.contexts {
            let pieces = merged.entry(dest).or_default();
            match pieces.last_mut() {
                Some(last)
                    if last.end <= span.start
                        && self.text(Span::new(last.end, span.start)).trim().is_empty() =>
                {
                    last.end = span.end;
                }
                _ => pieces.push(span),
            }
        }
        for (dest, pieces) in merged {
            let text = pieces
                .iter()
                .map(|&s| normalize(self.text(s)))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            if let Some(slot) = context_slot(&mut self.roadmap, dest) {
                *slot = text;
            }
        }
    }
}

fn context_slot(r: &mut crate::roadmap::Roadmap, dest: Dest) -> Option<&mut String> {
    match dest {
        Dest::Roadmap => Some(&mut r.context),
        Dest::Phase(pi) => r.phases.get_mut(pi).map(|p| &mut p.context),
        Dest::Group(pi, gi) => r
            .phases
            .get_mut(pi)
            .and_then(|p| p.groups.get_mut(gi))
            .map(|g| &mut g.context),
    }
}

/// Suggests ids free in a phase: the highest number in use per prefix plus
/// one, never the same suggestion twice.
struct FreeIds {
    max: HashMap<(usize, String), u64>,
    taken: HashSet<(usize, String)>,
}

impl FreeIds {
    fn new<'a>(ids: impl Iterator<Item = (usize, &'a str)>) -> Self {
        let mut max: HashMap<(usize, String), u64> = HashMap::new();
        let mut taken = HashSet::new();
        for (phase, id) in ids {
            taken.insert((phase, id.to_string()));
            let digits = id.trim_start_matches(|c: char| c.is_ascii_uppercase());
            if let Ok(n) = digits.parse::<u64>() {
                let m = max
                    .entry((phase, id[..id.len() - digits.len()].to_string()))
                    .or_insert(0);
                *m = (*m).max(n);
            }
        }
        FreeIds { max, taken }
    }

    fn next(&mut self, phase: usize, letters: &str) -> String {
        let max = self.max.entry((phase, letters.to_string())).or_insert(0);
        let mut n = max.saturating_add(1);
        while self.taken.contains(&(phase, format!("{letters}{n}"))) && n < u64::MAX {
            n += 1;
        }
        // The next suggestion starts after this one: linear in the duplicates.
        *max = n;
        let id = format!("{letters}{n}");
        self.taken.insert((phase, id.clone()));
        id
    }
}
