//! Writing a [`Roadmap`] in the native (table) format: `## Phase N`,
//! `### Group X`, tasks as checklist items, or as rows of an `ID` table
//! when the checklist grammar would read their id differently
//! (`M0-DOC-001`, `T040a`). Reading the output with the table dialect gives
//! the same phases, groups, task ids, titles and done marks.

use super::model::{Group, Phase, Roadmap, Task};
use super::syntax::{self, HeadCtx};
use std::fmt::Write;

/// The roadmap as native Markdown.
pub fn write(roadmap: &Roadmap) -> String {
    let mut md = String::new();
    if let Some(title) = &roadmap.title {
        let _ = writeln!(md, "# {}\n", one_line(title));
    }
    for phase in &roadmap.phases {
        write_phase(&mut md, phase);
    }
    md
}

fn write_phase(md: &mut String, phase: &Phase) {
    let done = if phase.done_in_roadmap { " ✅" } else { "" };
    let title = one_line(&phase.title);
    if title.is_empty() {
        let _ = writeln!(md, "## Phase {}{done}\n", phase.number);
    } else {
        let _ = writeln!(md, "## Phase {}{done}: {title}\n", phase.number);
    }
    for group in &phase.groups {
        write_group(md, group);
    }
}

fn write_group(md: &mut String, group: &Group) {
    let title = one_line(&group.title);
    let parallel = if group.tasks.len() > 1 {
        " (Parallel)"
    } else {
        ""
    };
    if title.is_empty() {
        let _ = writeln!(md, "### Group {}{parallel}\n", group.id);
    } else {
        let _ = writeln!(md, "### Group {}: {title}{parallel}\n", group.id);
    }
    // Consecutive tasks of one form share a table or a list.
    let mut in_table = false;
    for task in &group.tasks {
        let row = !task.derived_id && !item_keeps_id(&task.id);
        if row && !in_table {
            // A blank line first: right after a list item the table would
            // be read as the item's text.
            md.push_str("\n| ID | Task | Status |\n|---|---|---|\n");
        } else if !row && in_table {
            md.push('\n');
        }
        in_table = row;
        if row {
            write_row(md, task);
        } else {
            write_item(md, task);
        }
    }
    md.push('\n');
}

fn write_row(md: &mut String, task: &Task) {
    let status = if task.done_in_roadmap { "✅ Done" } else { "" };
    let title = one_line(&task.title).replace('|', "\\|");
    let _ = writeln!(md, "| {} | {title} | {status} |", task.id);
}

fn write_item(md: &mut String, task: &Task) {
    let mark = if task.done_in_roadmap { "x" } else { " " };
    let title = one_line(&task.title);
    if task.derived_id {
        let _ = writeln!(md, "- [{mark}] {}", literal_title(&title));
    } else {
        let _ = writeln!(md, "- [{mark}] {}: {title}", task.id);
    }
    for line in task.body.lines() {
        if line.trim().is_empty() {
            md.push('\n');
        } else {
            let _ = writeln!(md, "  {line}");
        }
    }
}

/// Whether `- [ ] ID: Title` is read back with exactly this id.
fn item_keeps_id(id: &str) -> bool {
    let line = format!("{id}: x");
    syntax::task_head(&line, HeadCtx::Checklist)
        .and_then(|h| h.id)
        .is_some_and(|t| &line[t.value] == id)
}

/// A title the checklist grammar would take an id from (`Agent 1: QA`,
/// `2 cups`) goes in backticks, which the reading removes again.
fn literal_title(title: &str) -> String {
    let reads_id = syntax::task_head(title, HeadCtx::Checklist).is_some_and(|h| h.id.is_some());
    if reads_id && !title.contains('`') {
        format!("`{title}`")
    } else {
        title.to_string()
    }
}

// A title on one line: a line break would end its heading or row early.
use crate::text::squash_whitespace as one_line;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_the_checklist_grammar_cuts_go_in_a_table() {
        assert!(item_keeps_id("A1"));
        assert!(item_keeps_id("W2.1"));
        assert!(!item_keeps_id("M0-DOC-001"));
        assert!(!item_keeps_id("T040a"));
    }
}
