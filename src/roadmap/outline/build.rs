//! From sections to the roadmap: which part is the plan, which sections are
//! phases, how the units of each list run, and the ids.

use super::tree::{Section, Unit};
use super::{FoundPhase, GroupWhy, PhaseWhy, PlanPart, Reader, UnitList, Why, inside, source_of};
use crate::roadmap::blocks::BlockKind;
use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::dialect::Dialect;
use crate::roadmap::ids::{derived_id, unique};
use crate::roadmap::model::{Group, Phase, PhaseId, Roadmap, Span, Task, is_id};
use crate::roadmap::syntax;
use crate::roadmap::words::{self, Rank};
use std::collections::{HashMap, HashSet};

/// What the document holds, before it becomes a roadmap.
pub(super) struct Found<'b> {
    phases: Vec<FoundPhase<'b>>,
    /// Sections named as phases (with or without work): for "no tasks".
    named: Vec<&'b Section<'b>>,
    /// A first heading or list, for "not a plan".
    closest: Option<(Span, &'static str)>,
}

/// How a list's units become groups.
enum Order {
    Sequential,
    Parallel(&'static str),
    /// Groups from `after` lists: each entry is a layer of unit indices.
    Layers(Vec<Vec<usize>>),
    /// spec-kit: runs of `[P]` units together, others alone.
    Runs,
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

    // ----- the roadmap ----------------------------------------------------

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

    /// A unit of a reference list (a summary) defined elsewhere is dropped;
    /// so is a second unit with the same id and title.
    fn drop_references(&mut self, phases: &mut [FoundPhase<'_>]) {
        let mut defined: HashMap<String, usize> = HashMap::new();
        for l in phases
            .iter()
            .flat_map(|p| &p.lists)
            .filter(|l| !l.reference)
        {
            for u in &l.units {
                if let Some(k) = key_id(u) {
                    defined.entry(k).or_insert(u.span.start);
                }
                defined.entry(key_title(u)).or_insert(u.span.start);
            }
        }
        let mut seen: HashSet<(String, String)> = HashSet::new();
        for l in phases.iter_mut().flat_map(|p| &mut p.lists) {
            let reference = l.reference;
            let mut kept = Vec::new();
            for u in std::mem::take(&mut l.units) {
                let elsewhere = key_id(&u)
                    .into_iter()
                    .chain([key_title(&u)])
                    .filter_map(|k| defined.get(&k).copied())
                    .find(|&at| at != u.span.start);
                let twice = key_id(&u).is_some_and(|k| !seen.insert((k, key_title(&u))));
                match elsewhere {
                    Some(at) if reference || twice => {
                        self.reading.skipped.push(Why {
                            line: self.line(u.span.start),
                            source: source_of(self.src, "item", u.span),
                            rule: format!("a reference to the task at line {}", self.line(at)),
                        });
                    }
                    _ => kept.push(u),
                }
            }
            l.units = kept;
        }
    }

    /// The numbers the headings give when they are unique and increasing,
    /// else 1, 2, 3 in order.
    fn numbers(&self, phases: &[FoundPhase<'_>]) -> Vec<PhaseId> {
        let written: Vec<Option<PhaseId>> = phases
            .iter()
            .map(|p| {
                let s = p.section?;
                words::level_word(self.heading(s))
                    .and_then(|l| l.number)
                    .and_then(|n| PhaseId::parse(&n))
            })
            .collect();
        let ok = written.iter().all(Option::is_some) && written.windows(2).all(|w| w[0] < w[1]);
        if ok {
            written.into_iter().flatten().collect()
        } else {
            (1..=phases.len() as u32).map(PhaseId::from).collect()
        }
    }

    fn phase(&mut self, fp: FoundPhase<'_>, number: PhaseId, doc_title: &str) -> (Phase, PhaseWhy) {
        let (title, annotation, done, span, why) = match fp.section {
            Some(s) => {
                let (title, annotation, done) = self.phase_head(s);
                let span = s.heading.map_or(Span::default(), |(_, h)| h);
                let rule = if fp.rule.is_empty() {
                    "position: the level above the task lists".to_string()
                } else {
                    fp.rule.clone()
                };
                (title, annotation, done, span, self.why(s, &rule))
            }
            None => {
                let at = fp
                    .lists
                    .first()
                    .and_then(|l| l.units.first())
                    .map_or(0, |u| u.span.start);
                let why = Why {
                    line: self.line(at),
                    source: "the document".to_string(),
                    rule: "one phase: no level above the task lists".to_string(),
                };
                (doc_title.to_string(), None, false, Span::new(at, at), why)
            }
        };
        let context = fp.section.map(|s| self.context(s)).unwrap_or_default();
        let mut phase = Phase {
            number,
            title,
            annotation,
            context,
            groups: Vec::new(),
            done_in_roadmap: done,
            span,
        };
        let parallel_phase = fp
            .section
            .is_some_and(|s| words::says_parallel(self.heading(s)));
        let mut groups_why = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        let phase_parallel = fp
            .section
            .and_then(|s| words::level_word(self.heading(s)))
            .is_some_and(|l| l.word == "wave")
            || parallel_phase;
        for mut list in fp.lists.into_iter().filter(|l| !l.units.is_empty()) {
            // A task without a status of its own is as done as its phase.
            for u in list.units.iter_mut().filter(|u| !u.marked) {
                u.done |= done;
            }
            self.groups(
                list,
                phase_parallel,
                &mut phase,
                &mut groups_why,
                &mut taken,
            );
        }
        (
            phase,
            PhaseWhy {
                why,
                groups: groups_why,
            },
        )
    }

    /// Title, annotation and done mark of a phase heading.
    fn phase_head(&self, s: &Section<'_>) -> (String, Option<String>, bool) {
        let h = self.heading(s);
        let (lead, glyph) = words::skip_lead(h);
        let rest = words::level_word(h).map_or(lead, |l| l.rest.min(h.len()));
        let t = h[rest..]
            .trim()
            .trim_start_matches([':', '-', '—', '–', '.', '：', ' '])
            .trim();
        let (t, annotation) = split_annotation(t);
        let lower = t.to_ascii_lowercase();
        let t = if lower.starts_with("after ") || lower.starts_with("depends on") {
            String::new()
        } else {
            super::tree::strip_deps(t)
        };
        let (title, marked) = syntax::clean_title(&t);
        let status = s.blocks.iter().find_map(|b| match b.kind {
            BlockKind::Paragraph => words::status_line(self.text(b.span)),
            _ => None,
        });
        let done = glyph == Some(true)
            || marked
            || status == Some(true)
            || annotation.as_deref().and_then(words::status_of) == Some(true)
            || syntax::title_says_done(&title);
        (title, annotation, done)
    }

    /// The section's own paragraphs: what the phase is about.
    fn context(&self, s: &Section<'_>) -> String {
        s.blocks
            .iter()
            .filter(|b| matches!(b.kind, BlockKind::Paragraph))
            .map(|b| self.text(b.span).replace("\r\n", "\n").trim().to_string())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// One list's units as groups of the phase, by how they run.
    fn groups(
        &mut self,
        list: UnitList<'_>,
        phase_parallel: bool,
        phase: &mut Phase,
        whys: &mut Vec<GroupWhy>,
        taken: &mut HashSet<String>,
    ) {
        let order = order_of(&list, phase_parallel);
        let section_title = list
            .section
            .heading
            .map(|_| self.group_title(list.section))
            .unwrap_or_default();
        let base = match list.section.heading {
            Some(_) if list.section.level > 0 => {
                let why = self.why(list.section, "position: holds the task list");
                (why.source, why.line)
            }
            _ => (
                "the task list".to_string(),
                self.line(list.units[0].span.start),
            ),
        };
        let n = list.units.len();
        let (sets, how): (Vec<Vec<usize>>, String) = match order {
            Order::Sequential => (
                (0..n).map(|i| vec![i]).collect(),
                "one task at a time (sequential by default)".into(),
            ),
            Order::Parallel(why) => (vec![(0..n).collect()], why.to_string()),
            Order::Layers(layers) => (layers, "ordered by its `after` lists".into()),
            Order::Runs => (
                runs(&list.units),
                "`[P]` tasks together, the others alone".into(),
            ),
        };
        let mut tasks: Vec<Option<Task>> = Vec::new();
        let mut task_whys: Vec<Option<Why>> = Vec::new();
        for u in list.units {
            let (why, task) = self.task(u, taken);
            tasks.push(Some(task));
            task_whys.push(Some(why));
        }
        for set in sets {
            let group_tasks: Vec<Task> = set.iter().filter_map(|&i| tasks[i].take()).collect();
            let group_whys: Vec<Why> = set.iter().filter_map(|&i| task_whys[i].take()).collect();
            let Some(first) = group_tasks.first() else {
                continue;
            };
            let id = group_id(&first.id, &phase.groups);
            phase.groups.push(Group {
                id,
                title: section_title.clone(),
                annotation: None,
                after: Vec::new(),
                context: String::new(),
                span: first.span,
                tasks: group_tasks,
                derived_id: true,
            });
            whys.push(GroupWhy {
                why: Why {
                    line: base.1,
                    source: base.0.clone(),
                    rule: how.clone(),
                },
                tasks: group_whys,
            });
        }
    }

    fn group_title(&self, s: &Section<'_>) -> String {
        let h = self.heading(s);
        let rest = words::level_word(h).map_or(words::skip_lead(h).0, |l| l.rest.min(h.len()));
        let t = h[rest..]
            .trim()
            .trim_start_matches([':', '-', '—', '–', '.', '：', ' ']);
        let t = if rest == 0 && t.trim().is_empty() {
            h
        } else {
            t
        };
        syntax::clean_title(split_annotation(t).0).0
    }

    fn task(&mut self, u: Unit, taken: &mut HashSet<String>) -> (Why, Task) {
        let written = u.id.clone().filter(|id| is_id(id) && !taken.contains(id));
        if let Some(id) = u.id.as_ref().filter(|id| taken.contains(*id)) {
            self.diags.push(
                Diagnostic::warning("duplicate-task-id", u.span, format!("task id `{id}` is used twice in this phase; this one is read with a derived id"))
                    .with_help("give each task its own id"),
            );
        }
        let (id, derived) = match written {
            Some(id) => (id, false),
            None => (derived_id(&u.title, |id| taken.contains(id)), true),
        };
        taken.insert(id.clone());
        let kind = match u.kind.rule() {
            r if r.starts_with("table") => "row",
            r if r.starts_with("heading") || r.starts_with("section") => "heading",
            _ => "item",
        };
        let why = Why {
            line: self.line(u.span.start),
            source: source_of(self.src, kind, u.span),
            rule: u.kind.rule().to_string(),
        };
        let task = Task {
            id,
            title: u.title,
            fields: u.fields,
            body: u.body,
            done_in_roadmap: u.done,
            done_mark: u.done_mark,
            optional: false,
            derived_id: derived,
            span: u.span,
        };
        (why, task)
    }

    /// Not one task: phases named but empty, or not a plan at all.
    fn nothing_to_run(
        &mut self,
        named: &[&Section<'_>],
        closest: Option<(Span, &'static str)>,
        roadmap: &mut Roadmap,
    ) {
        if let Some(first) = named.first() {
            let heads: Vec<String> = named
                .iter()
                .take(5)
                .map(|s| {
                    let span = s.heading.map_or(Span::default(), |(_, h)| h);
                    format!(
                        "`{}` (line {})",
                        self.text(span).trim(),
                        self.line(span.start)
                    )
                })
                .collect();
            let span = first.heading.map_or(Span::default(), |(_, h)| h);
            self.diags.push(
                Diagnostic::error(
                    "no-tasks",
                    span,
                    format!(
                        "the document has {} phase heading(s) ({}) but not one task under them, so nothing would run",
                        named.len(),
                        heads.join(", ")
                    ),
                )
                .with_help(
                    "write the work under each phase as checklist items (`- [ ] Title`), numbered items, \
                     items or headings with an id (`**A1**: Title`, `#### M1-API-001`) or table rows with an id or a Status cell",
                ),
            );
            for s in named {
                let (title, annotation, done) = self.phase_head(s);
                let n = roadmap.phases.len() as u32 + 1;
                roadmap.phases.push(Phase {
                    number: PhaseId::from(n),
                    title,
                    annotation,
                    context: String::new(),
                    groups: Vec::new(),
                    done_in_roadmap: done,
                    span: s.heading.map_or(Span::default(), |(_, h)| h),
                });
                self.reading.phases.push(PhaseWhy {
                    why: self.why(s, "phase word, no task under it"),
                    groups: Vec::new(),
                });
            }
            return;
        }
        let (span, what) = closest.unwrap_or((Span::default(), "nothing"));
        let closest = if what == "nothing" {
            "it has no heading or list at all".to_string()
        } else {
            format!(
                "the closest thing is {what} at line {}: {}",
                self.line(span.start),
                source_of(self.src, "", span).trim()
            )
        };
        self.diags.push(
            Diagnostic::error(
                "not-a-plan",
                span,
                format!("this document is not a plan: no phase, group or task was found; {closest}"),
            )
            .with_help(
                "a plan lists units of work: checklist items (`- [ ] Title`), numbered items, items or headings with an id \
                 (`**A1**: Title`), or table rows with an id or a Status cell, under phase headings such as `## Phase 1: Setup`",
            ),
        );
    }
}

/// How a list runs: what the document says, else one at a time.
fn order_of(list: &UnitList<'_>, phase_parallel: bool) -> Order {
    let ids: Vec<Option<&str>> = list.units.iter().map(|u| u.id.as_deref()).collect();
    let local = |d: &String| {
        ids.iter()
            .any(|i| i.is_some_and(|i| i.eq_ignore_ascii_case(d)))
    };
    if list.units.iter().any(|u| u.deps.iter().any(local)) {
        return Order::Layers(layers(&list.units));
    }
    match list.parallel {
        Some(why) => Order::Parallel(why),
        None if phase_parallel => Order::Parallel("parallel: its phase says so"),
        None if list.units.iter().any(|u| u.parallel) => Order::Runs,
        None => Order::Sequential,
    }
}

/// Longest-path layers of the `after` graph inside one list; a cycle or a
/// later dependency keeps document order.
fn layers(units: &[Unit]) -> Vec<Vec<usize>> {
    let index = |d: &str| {
        units
            .iter()
            .position(|u| u.id.as_deref().is_some_and(|i| i.eq_ignore_ascii_case(d)))
    };
    let mut level = vec![0usize; units.len()];
    for i in 0..units.len() {
        for d in &units[i].deps {
            if let Some(j) = index(d).filter(|&j| j < i) {
                level[i] = level[i].max(level[j] + 1);
            }
        }
    }
    let max = level.iter().copied().max().unwrap_or(0);
    (0..=max)
        .map(|l| (0..units.len()).filter(|&i| level[i] == l).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .collect()
}

/// spec-kit runs: consecutive `[P]` units share a group.
fn runs(units: &[Unit]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, u) in units.iter().enumerate() {
        let join = u.parallel && i > 0 && units[i - 1].parallel;
        match out.last_mut() {
            Some(last) if join => last.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

/// The first task's id as a group id, when the native grammar can name it
/// (`### Group T1A2B3C`), else `G1`, `G2`...
fn group_id(task: &str, groups: &[Group]) -> String {
    let up = task.to_ascii_uppercase();
    let letters = up.len() <= 3 && up.bytes().all(|b| b.is_ascii_uppercase());
    let nameable = is_id(&up) && (letters || up.bytes().any(|b| b.is_ascii_digit()));
    let taken = |id: &str| groups.iter().any(|g| g.id == id);
    if nameable && !taken(&up) {
        return up;
    }
    let n = groups.len() + 1;
    unique(&format!("G{n}"), taken)
}

fn key_id(u: &Unit) -> Option<String> {
    u.id.as_ref()
        .map(|i| format!("id:{}", i.to_ascii_lowercase()))
}

fn key_title(u: &Unit) -> String {
    format!("title:{}", u.title.to_lowercase())
}

/// `Title (note)` → `Title` and `note` (full-width parentheses too).
fn split_annotation(t: &str) -> (&str, Option<String>) {
    for (open, close) in [('(', ')'), ('（', '）')] {
        if t.ends_with(close)
            && let Some(at) = t.rfind(open)
        {
            let inner = &t[at + open.len_utf8()..t.len() - close.len_utf8()];
            return (t[..at].trim_end(), Some(inner.trim().to_string()));
        }
    }
    (t, None)
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
