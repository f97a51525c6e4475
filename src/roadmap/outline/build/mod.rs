//! From sections to the roadmap: which part is the plan, which sections are
//! phases, how the units of each list run, and the ids.

mod nothing;
mod roadmap;

use super::tree::Section;
use super::{FoundPhase, PlanPart, Reader, UnitList, Why, inside};
use crate::roadmap::blocks::BlockKind;
use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::dialect::Dialect;
use crate::roadmap::model::{Roadmap, Span};
use crate::roadmap::words::{self, Rank};

/// What the document holds, before it becomes a roadmap.
pub(super) struct Found<'b> {
    phases: Vec<FoundPhase<'b>>,
    /// Sections named as phases (with or without work): for "no tasks".
    named: Vec<&'b Section<'b>>,
    /// A first heading or list, for "not a plan".
    closest: Option<(Span, &'static str)>,
}

impl<'s> Reader<'s> {
    pub(super) fn find<'b>(&mut self, root: &'b Section<'b>) -> Found<'b> {
        let scope = self.scope(root);
        let mut named = Vec::new();
        for s in &scope {
            self.named_phases(s, &mut named);
        }
        let mut skipped = Vec::new();
        let mut phases: Vec<FoundPhase<'b>> = Vec::new();
        let worded: Vec<&Section<'_>> =
            named.iter().copied().filter(|s| self.has_work(s)).collect();
        if worded.is_empty() {
            phases = self.positional(root, &scope, &mut skipped);
        } else {
            for s in &worded {
                let mut lists = Vec::new();
                self.lists(s, &mut lists, &mut skipped);
                let word = words::level_word(self.heading(s)).map_or(String::new(), |l| l.word);
                phases.push(FoundPhase {
                    section: Some(s),
                    rule: word,
                    lists,
                });
            }
            self.outside_phases(&scope, &worded, &mut skipped);
        }
        self.reading.skipped.extend(skipped);
        let closest = self.closest(root);
        Found {
            phases,
            named,
            closest,
        }
    }

    /// The sections to read: the plan sections of a longer document, else all.
    fn scope<'b>(&mut self, root: &'b Section<'b>) -> Vec<&'b Section<'b>> {
        let mut plans = Vec::new();
        self.plan_sections(root, &mut plans);
        let title = title_section(root);
        plans.retain(|p| !title.is_some_and(|t| std::ptr::eq(t, *p)));
        if plans.is_empty() {
            return vec![root];
        }
        let mut all = Vec::new();
        self.lists(root, &mut all, &mut Vec::new());
        let outside = all.iter().any(|l| {
            let at = l.units.first().map_or(0, |u| u.span.start);
            !plans.iter().any(|p| inside(p, at))
        });
        if !outside {
            return vec![root];
        }
        let first = plans[0].heading.map_or(0, |(_, s)| s.start);
        let tail = plans[plans.len() - 1];
        let from = tail.heading.map_or(0, |(_, s)| s.start);
        let last = from
            + self
                .text(Span::new(from, tail.end))
                .trim_end()
                .len()
                .saturating_sub(1);
        self.reading.plan = Some(PlanPart {
            first_line: self.line(first),
            last_line: self.line(last),
            headings: plans
                .iter()
                .map(|p| {
                    let span = p.heading.map_or(Span::default(), |(_, s)| s);
                    self.text(span).trim().to_string()
                })
                .collect(),
        });
        plans
    }

    fn plan_sections<'b>(&self, sec: &'b Section<'b>, out: &mut Vec<&'b Section<'b>>) {
        for c in &sec.children {
            let h = self.heading(c);
            if words::is_plan_name(h) && words::level_word(h).is_none() && self.has_work(c) {
                out.push(c);
            } else {
                self.plan_sections(c, out);
            }
        }
    }

    /// Top-most sections whose heading names a phase (`Sprint 3`, `M1`).
    fn named_phases<'b>(&self, sec: &'b Section<'b>, out: &mut Vec<&'b Section<'b>>) {
        for c in &sec.children {
            if self.excluded(c) {
                continue;
            }
            let h = self.heading(c);
            let word = words::level_word(h).filter(|l| l.rank == Rank::Phase);
            if word.is_some() && !self.has_nested_phase(c) {
                out.push(c);
            } else {
                self.named_phases(c, out);
            }
        }
    }

    /// A phase-named section with work under it, below `sec`: the outer
    /// one (`# Sprint plan` above `## Sprint 3`) is the document, not a phase.
    fn has_nested_phase(&self, sec: &Section<'_>) -> bool {
        sec.children.iter().any(|c| {
            !self.excluded(c)
                && (words::level_word(self.heading(c)).is_some_and(|l| l.rank == Rank::Phase)
                    && self.has_work(c)
                    || self.has_nested_phase(c))
        })
    }

    /// Work outside every phase section is not run: say so.
    fn outside_phases(
        &mut self,
        scope: &[&Section<'_>],
        phases: &[&Section<'_>],
        skipped: &mut Vec<Why>,
    ) {
        let mut all = Vec::new();
        for s in scope {
            self.lists(s, &mut all, &mut Vec::new());
        }
        for l in all {
            let at = l.units[0].span.start;
            if phases.iter().any(|p| inside(p, at)) {
                continue;
            }
            if l.reference {
                skipped.push(self.why(l.section, "a reference: lists tasks defined elsewhere"));
                continue;
            }
            let why = self.why(l.section, "outside every phase: not run");
            self.diags.push(
                Diagnostic::warning(
                    "outside-phase",
                    l.units[0].span,
                    format!(
                        "{} task(s) under {} are in no phase; they will not run",
                        l.units.len(),
                        why.source
                    ),
                )
                .with_help("move them under a phase heading, or mark the section as notes"),
            );
            skipped.push(why);
        }
    }

    /// No level words: the level above a task list is the group, the level
    /// above that the phase; lists with no such level form one phase.
    fn positional<'b>(
        &mut self,
        root: &'b Section<'b>,
        scope: &[&'b Section<'b>],
        skipped: &mut Vec<Why>,
    ) -> Vec<FoundPhase<'b>> {
        let title = title_section(root);
        let mut paths: Vec<(Vec<&'b Section<'b>>, UnitList<'b>)> = Vec::new();
        for s in scope {
            let mut lists = Vec::new();
            self.lists(s, &mut lists, skipped);
            for l in lists {
                let path = path_to(s, l.section);
                paths.push((path, l));
            }
        }
        let not_phase = |s: &Section<'_>| {
            s.level == 0
                || title.is_some_and(|t| std::ptr::eq(t, s))
                || scope.iter().any(|r| std::ptr::eq(*r, s))
        };
        let mut parents: Vec<&Section<'_>> = Vec::new();
        for (path, _) in &paths {
            if path.len() >= 2 && !not_phase(path[path.len() - 2]) {
                parents.push(path[path.len() - 2]);
            }
        }
        let mut phases: Vec<FoundPhase<'b>> = Vec::new();
        for (path, list) in paths {
            let phase = path
                .iter()
                .rev()
                .find(|s| parents.iter().any(|p| std::ptr::eq(*p, **s)))
                .copied();
            let existing = phases.iter_mut().find(|p| match (p.section, phase) {
                (Some(a), Some(b)) => std::ptr::eq(a, b),
                (None, None) => true,
                _ => false,
            });
            match existing {
                Some(p) => p.lists.push(list),
                None => phases.push(FoundPhase {
                    section: phase,
                    rule: String::new(),
                    lists: vec![list],
                }),
            }
        }
        phases.sort_by_key(|p| p.lists.first().map_or(0, |l| l.units[0].span.start));
        phases
    }

    fn closest(&self, root: &Section<'_>) -> Option<(Span, &'static str)> {
        fn walk(sec: &Section<'_>) -> Option<(Span, &'static str)> {
            for b in &sec.blocks {
                if let BlockKind::List(_) = b.kind {
                    return Some((b.span, "a list of plain bullets"));
                }
            }
            sec.children.iter().find_map(walk)
        }
        walk(root).or_else(|| {
            root.children
                .iter()
                .find_map(|c| c.heading.map(|(_, s)| (s, "a heading")))
        })
    }

    pub(super) fn build(&mut self, found: Found<'_>, title: Option<String>) -> Roadmap {
        let mut roadmap = Roadmap {
            title: title.clone(),
            dialect: Dialect::Outline,
            ..Roadmap::default()
        };
        let mut phases = found.phases;
        self.drop_references(&mut phases);
        phases.retain(|p| p.section.is_some() || p.lists.iter().any(|l| !l.units.is_empty()));
        let numbers = self.numbers(&phases);
        for (fp, number) in phases.into_iter().zip(numbers) {
            let (phase, why) = self.phase(fp, number, title.as_deref().unwrap_or(""));
            roadmap.phases.push(phase);
            self.reading.phases.push(why);
        }
        if roadmap.task_count() == 0 {
            self.nothing_to_run(&found.named, found.closest, &mut roadmap);
        }
        for p in &roadmap.phases {
            let open = p
                .groups
                .iter()
                .flat_map(|g| &g.tasks)
                .filter(|t| !t.done_in_roadmap)
                .count();
            if p.done_in_roadmap && open > 0 {
                self.diags.push(
                    Diagnostic::warning(
                        "done-with-open-tasks",
                        p.span,
                        format!("phase {} is marked done but {open} of its tasks are open; the open ones will run", p.number),
                    )
                    .with_help("tick the open tasks, or take the done mark off the phase"),
                );
            }
        }
        roadmap.reading = Some(std::mem::take(&mut self.reading));
        roadmap
    }
}

/// The single level-1 section that holds the whole document, if any.
fn title_section<'b>(root: &'b Section<'b>) -> Option<&'b Section<'b>> {
    let mut h1 = root.children.iter().filter(|c| c.level == 1);
    match (h1.next(), h1.next()) {
        (Some(t), None) => Some(t),
        _ => None,
    }
}

/// The sections from `from` down to `to` (both included).
fn path_to<'b>(from: &'b Section<'b>, to: &'b Section<'b>) -> Vec<&'b Section<'b>> {
    fn walk<'b>(s: &'b Section<'b>, to: &Section<'_>, path: &mut Vec<&'b Section<'b>>) -> bool {
        path.push(s);
        if std::ptr::eq(s, to) {
            return true;
        }
        for c in &s.children {
            if walk(c, to, path) {
                return true;
            }
        }
        path.pop();
        false
    }
    let mut path = Vec::new();
    walk(from, to, &mut path);
    path
}
