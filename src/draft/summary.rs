//! What a drafted roadmap holds, for the person who reads it before anything
//! runs: phases, groups, tasks, and for an import which lines of the
//! document became tasks and which were left out.

use crate::roadmap::{Roadmap, Task};
use crate::text::plural;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// `<!-- PLAN.md:123 -->`: the line of the document a task came from.
static SOURCE_COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<!--\s*(\S.*?):(\d+)\s*-->").expect("valid regex"));

/// A list item, checklist item or numbered item: a line that may name work.
static WORK_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:[-*+]|\d+[.)])\s+\S").expect("valid regex"));

/// The plan document an import starts from.
#[derive(Debug, Clone)]
pub struct SourceDoc {
    /// As the source comments name it (the path as given, e.g. `PLAN.md`).
    pub name: String,
    pub text: String,
}

impl SourceDoc {
    pub fn line_count(&self) -> usize {
        self.text.lines().count()
    }

    /// Every line with its number, as the agent is shown it.
    pub fn numbered(&self) -> String {
        let width = self.line_count().to_string().len();
        self.text
            .lines()
            .enumerate()
            .map(|(i, l)| format!("{:>width$}| {l}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The lines that look like items of work (list, checklist and numbered
    /// items), by number.
    pub fn work_lines(&self) -> Vec<(usize, &str)> {
        self.text
            .lines()
            .enumerate()
            .filter(|(_, l)| WORK_LINE.is_match(l))
            .map(|(i, l)| (i + 1, l.trim()))
            .collect()
    }
}

/// Every `<!-- name:line -->` in `text`.
pub fn comments(text: &str) -> Vec<(String, usize)> {
    SOURCE_COMMENT
        .captures_iter(text)
        .filter_map(|c| Some((c[1].to_string(), c[2].parse().ok()?)))
        .collect()
}

/// The source lines each task names (`<!-- name:line -->` inside its text).
pub fn source_lines<'r>(
    roadmap: &'r Roadmap,
    source: &str,
    doc_name: &str,
) -> Vec<(&'r Task, Vec<usize>)> {
    tasks(roadmap)
        .map(|t| {
            let text = source.get(t.span.start..t.span.end).unwrap_or_default();
            let lines = comments(text)
                .into_iter()
                .filter(|(doc, _)| doc == doc_name)
                .map(|(_, line)| line)
                .collect();
            (t, lines)
        })
        .collect()
}

/// What is wrong with the source comments, as the agent is told it.
pub fn source_problems(roadmap: &Roadmap, source: &str, doc: &SourceDoc) -> Vec<String> {
    let count = doc.line_count();
    let mut problems = Vec::new();
    for (task, lines) in source_lines(roadmap, source, &doc.name) {
        match lines.as_slice() {
            [] => problems.push(format!(
                "task {} (\"{}\") names no line of the document: add the line `<!-- {}:<line> -->` under it",
                task.id, task.title, doc.name
            )),
            [line] if *line == 0 || *line > count => problems.push(format!(
                "task {} names line {line} of {}, which has lines 1 to {count}",
                task.id, doc.name
            )),
            [_] => {}
            _ => problems.push(format!(
                "task {} names {} lines of the document: name exactly one",
                task.id,
                lines.len()
            )),
        }
    }
    problems
}

fn tasks(roadmap: &Roadmap) -> impl Iterator<Item = &Task> {
    roadmap
        .phases
        .iter()
        .flat_map(|p| &p.groups)
        .flat_map(|g| &g.tasks)
}

/// `2 phases, 3 groups, 5 tasks (1 marked done)`, then the tree.
pub fn describe(roadmap: &Roadmap) -> String {
    let done = tasks(roadmap).filter(|t| t.done_in_roadmap).count();
    let mut s = format!(
        "{}, {}, {}{}\n",
        plural(roadmap.phases.len(), "phase"),
        plural(roadmap.group_count(), "group"),
        plural(roadmap.task_count(), "task"),
        if done > 0 {
            format!(" ({done} marked done)")
        } else {
            String::new()
        }
    );
    for phase in &roadmap.phases {
        s.push_str(&format!("  Phase {}: {}\n", phase.number, phase.title));
        for group in &phase.groups {
            let ids: Vec<&str> = group.tasks.iter().map(|t| t.id.as_str()).collect();
            s.push_str(&format!(
                "    Group {}: {} ({}: {})\n",
                group.id,
                group.title,
                plural(group.tasks.len(), "task"),
                ids.join(", ")
            ));
        }
    }
    s
}

/// Which lines of the document became tasks, and which items were left out.
pub fn source_map(roadmap: &Roadmap, source: &str, doc: &SourceDoc) -> String {
    let mut used: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (task, lines) in source_lines(roadmap, source, &doc.name) {
        for line in lines {
            used.entry(line).or_default().push(&task.id);
        }
    }
    let mut s = format!("From {}:\n", doc.name);
    for (line, ids) in &used {
        s.push_str(&format!("  line {line} → {}\n", ids.join(", ")));
    }
    let left: Vec<(usize, &str)> = doc
        .work_lines()
        .into_iter()
        .filter(|(n, _)| !used.contains_key(n))
        .collect();
    if left.is_empty() {
        s.push_str("  every list item of the document became a task\n");
    } else {
        s.push_str(&format!(
            "  left out ({} list {}, not tasks):\n",
            left.len(),
            if left.len() == 1 { "item" } else { "items" }
        ));
        for (n, text) in left {
            s.push_str(&format!(
                "    line {n}: {}\n",
                crate::text::cap_chars(text, 80)
            ));
        }
    }
    s
}

/// The agent calls: session, cost and log of each.
/// What the calls cost, when any reported a cost.
pub fn total_cost(calls: &[super::Call]) -> Option<f64> {
    let costs: Vec<f64> = calls.iter().filter_map(|c| c.cost_usd).collect();
    (!costs.is_empty()).then(|| costs.iter().sum())
}

pub fn calls(calls: &[super::Call], base: &std::path::Path) -> String {
    let total: f64 = calls.iter().filter_map(|c| c.cost_usd).sum();
    let mut s = format!(
        "Agent: {} ({}), ${total:.4}\n",
        plural(calls.len(), "call"),
        calls
            .first()
            .and_then(|c| c.session_id.as_deref())
            .map_or("no session id".to_string(), |id| format!("session {id}"))
    );
    for c in calls {
        s.push_str(&format!(
            "  attempt {}: {}, {}, log {}\n",
            c.attempt,
            c.outcome,
            c.cost_usd
                .map_or("cost not reported".to_string(), |u| format!("${u:.4}")),
            crate::project::relative_display(base, &c.log)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROADMAP: &str = "# P\n\n## Phase 1: One\n\n### Group A: G (Parallel)\n\n- [ ] **A1**: First\n  <!-- plan.md:2 -->\n- [ ] **A2**: Second\n  <!-- plan.md:2 --> <!-- plan.md:3 -->\n- [ ] **A3**: Third\n  <!-- other.md:1 -->\n";

    fn doc() -> SourceDoc {
        SourceDoc {
            name: "plan.md".into(),
            text: "# Plan\n- first\n1. second\nprose\n* [ ] unused\n".into(),
        }
    }

    #[test]
    fn every_task_names_exactly_one_line_of_the_document() {
        let parsed = crate::roadmap::parse(ROADMAP);
        let problems = source_problems(&parsed.roadmap, ROADMAP, &doc());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("task A2 names 2 lines"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("task A3 (\"Third\") names no line"));
    }

    #[test]
    fn the_map_names_the_list_items_left_out() {
        let parsed = crate::roadmap::parse(ROADMAP);
        let map = source_map(&parsed.roadmap, ROADMAP, &doc());
        assert!(map.contains("line 2 → A1, A2\n"), "{map}");
        assert!(map.contains("line 3 → A2\n"), "{map}");
        assert!(
            map.contains("left out (1 list item, not tasks):\n    line 5: * [ ] unused\n"),
            "{map}"
        );
        assert_eq!(doc().numbered().lines().nth(2), Some("3| 1. second"));
    }
}
