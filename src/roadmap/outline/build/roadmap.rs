//! What was found becomes the roadmap: references dropped, phases numbered,
//! each list's units made into groups in the order the document gives, and
//! their ids.

use crate::roadmap::blocks::BlockKind;
use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::ids::{derived_id, unique};
use crate::roadmap::model::{Group, Phase, PhaseId, Span, Task, is_id};
use crate::roadmap::outline::tree::{Section, Unit};
use crate::roadmap::outline::{FoundPhase, GroupWhy, PhaseWhy, Reader, UnitList, Why, source_of};
use crate::roadmap::syntax;
use crate::roadmap::words;
use std::collections::{HashMap, HashSet};

impl<'s> Reader<'s> {
    /// A unit of a reference list (a summary) defined elsewhere is dropped;
    /// so is a second unit with the same id and title.
    pub(super) fn drop_references(&mut self, phases: &mut [FoundPhase<'_>]) {
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
    pub(super) fn numbers(&self, phases: &[FoundPhase<'_>]) -> Vec<PhaseId> {
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

    pub(super) fn phase(
        &mut self,
        fp: FoundPhase<'_>,
        number: PhaseId,
        doc_title: &str,
    ) -> (Phase, PhaseWhy) {
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
    pub(super) fn phase_head(&self, s: &Section<'_>) -> (String, Option<String>, bool) {
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
            crate::roadmap::outline::tree::strip_deps(t)
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
    pub(super) fn context(&self, s: &Section<'_>) -> String {
        s.blocks
            .iter()
            .filter(|b| matches!(b.kind, BlockKind::Paragraph))
            .map(|b| self.text(b.span).replace("\r\n", "\n").trim().to_string())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// One list's units as groups of the phase, by how they run.
    pub(super) fn groups(
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

    pub(super) fn task(&mut self, u: Unit, taken: &mut HashSet<String>) -> (Why, Task) {
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
