//! The prompt an agent gets: a template with `{{name}}` placeholders filled
//! from the roadmap.
//!
//! Substitution is a single pass over the template: values are inserted as
//! they are, never scanned again, so roadmap text that happens to contain
//! `{{task_id}}` stays literally `{{task_id}}`. Roadmap text is data.
//!
//! A placeholder is `{{`, optional spaces, a name (`[A-Za-z_][A-Za-z0-9_]*`),
//! optional spaces and `}}`. An unknown name is an error (a typo must not
//! silently reach the agent as literal braces). Any other `{{...` (template
//! syntax of other tools, code samples) is left as it is.
//!
//! Empty values leave no trace, decided in code from the template's shape
//! (there is no conditional syntax), for every template:
//!
//! - An empty value takes along the separator text right before it on its
//!   line (spaces and `: , ; - – — · | /`): `Group {{group_id}}:
//!   {{group_title}} {{group_annotation}}` gives `Group A (Parallel)` without
//!   a title and `Group A: Database` without an annotation.
//! - A template line that renders blank (`{{task_body}}` with no body) is left
//!   out.
//! - A block (lines between blank lines; blank lines inside a fenced code
//!   block do not split) whose every line was left out goes with its blank
//!   line.
//! - A one-line block that is a Markdown heading (`## Task details`) or ends
//!   in `:` (`Project:`) opens a section: up to the next heading of the same
//!   or a higher level, or for a `:` line up to the next heading or `:` line.
//!   When everything in its section was left out, the heading goes too. A
//!   heading with nothing under it in the template stays.
//!
//! Only template text is ever trimmed or dropped; values are inserted whole.

use crate::roadmap::model::{Group, Phase, Roadmap, Task};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The built-in prompt template (used when `agent.prompt_template` is unset).
pub const DEFAULT_TEMPLATE: &str = include_str!("default_prompt.md");

/// Every template variable with a description, for `--help` and the README.
pub const TEMPLATE_VARIABLES: &[(&str, &str)] = &[
    (
        "project_title",
        "The roadmap's first `#` heading (empty if there is none)",
    ),
    ("phase_number", "The phase number, e.g. `1`"),
    (
        "phase_title",
        "The phase heading's title, e.g. `Foundation Layer`",
    ),
    (
        "phase_context",
        "The phase's own text: description, deliverables, notes",
    ),
    ("group_id", "The group letters, e.g. `A`"),
    ("group_title", "The group heading's title, e.g. `Database`"),
    (
        "group_annotation",
        "The group heading's parenthesised note, with its parentheses, e.g. `(Parallel, after A)`",
    ),
    ("group_context", "The group's text that is not a task"),
    ("task_id", "The task id, e.g. `A1`"),
    ("task_title", "The task title"),
    (
        "task_fields",
        "The task's named fields as `- Name: value` lines (table columns)",
    ),
    (
        "task_body",
        "The task's own Markdown: nested bullets or section text",
    ),
    (
        "other_tasks",
        "The group's other tasks as `- A2: Title` lines, `(none)` when alone",
    ),
    (
        "roadmap_context",
        "Roadmap text outside any phase: overview, conventions, legend",
    ),
    (
        "isolation",
        "With `--isolation worktree`, that the agent works alone in its own checkout and its work is merged with the other tasks'; empty otherwise",
    ),
];

/// The `{{isolation}}` text with `--isolation worktree`.
pub const WORKTREE_NOTE: &str = "In this run each task has a checkout of its own: you work alone in yours (a git worktree made for this task from the project's state when this group started), so where this prompt speaks of a shared working tree, read your own checkout. The other agents do not see your changes and you do not see theirs. When every task of the group has succeeded, the runner merges your work with theirs and runs the checks on the result, so change only what your task needs.";

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{origin}:{line}: unknown placeholder `{{{{{name}}}}}`; known placeholders: {known}")]
    UnknownVariable {
        origin: String,
        line: usize,
        name: String,
        known: String,
    },
    #[error("cannot read prompt template {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The values of the template variables for one task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptVars {
    pub project_title: String,
    pub phase_number: String,
    pub phase_title: String,
    pub phase_context: String,
    pub group_id: String,
    pub group_title: String,
    pub group_annotation: String,
    pub group_context: String,
    pub task_id: String,
    pub task_title: String,
    pub task_fields: String,
    pub task_body: String,
    pub other_tasks: String,
    pub roadmap_context: String,
    /// Set by the runner from `--isolation` ([`WORKTREE_NOTE`] or empty).
    pub isolation: String,
}

impl PromptVars {
    pub fn new(roadmap: &Roadmap, phase: &Phase, group: &Group, task: &Task) -> PromptVars {
        let task_fields = task
            .fields
            .iter()
            .map(|f| format!("- {}: {}", f.name, f.value))
            .collect::<Vec<_>>()
            .join("\n");
        let others: Vec<String> = group
            .tasks
            .iter()
            .filter(|t| t.id != task.id)
            .map(|t| format!("- {}: {}", t.id, t.title))
            .collect();
        PromptVars {
            project_title: roadmap.title.clone().unwrap_or_default(),
            phase_number: phase.number.to_string(),
            phase_title: phase.title.clone(),
            phase_context: phase.context.trim().to_string(),
            group_id: group.id.clone(),
            group_title: group.title.clone(),
            group_annotation: group
                .annotation
                .as_ref()
                .map(|a| format!("({a})"))
                .unwrap_or_default(),
            group_context: group.context.trim().to_string(),
            task_id: task.id.clone(),
            task_title: task.title.clone(),
            task_fields,
            task_body: task.body.trim().to_string(),
            other_tasks: if others.is_empty() {
                "(none)".into()
            } else {
                others.join("\n")
            },
            roadmap_context: roadmap.context.trim().to_string(),
            isolation: String::new(),
        }
    }

    /// The value of a variable by its template name.
    pub fn get(&self, name: &str) -> Option<&str> {
        TemplateVars::var(self, name)
    }
}

/// The values a template's placeholders are filled from.
pub trait TemplateVars {
    /// The value of `name`; `None` for an unknown placeholder.
    fn var(&self, name: &str) -> Option<&str>;
    /// The known names, for the unknown-placeholder error.
    fn names(&self) -> Vec<&'static str>;
}

/// Named values for a template of the runner's own (repair, review, drafting).
pub struct NamedVars(pub Vec<(&'static str, String)>);

impl TemplateVars for NamedVars {
    fn var(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|(n, _)| *n).collect()
    }
}

impl TemplateVars for PromptVars {
    fn names(&self) -> Vec<&'static str> {
        TEMPLATE_VARIABLES.iter().map(|(n, _)| *n).collect()
    }

    fn var(&self, name: &str) -> Option<&str> {
        let v = match name {
            "project_title" => &self.project_title,
            "phase_number" => &self.phase_number,
            "phase_title" => &self.phase_title,
            "phase_context" => &self.phase_context,
            "group_id" => &self.group_id,
            "group_title" => &self.group_title,
            "group_annotation" => &self.group_annotation,
            "group_context" => &self.group_context,
            "task_id" => &self.task_id,
            "task_title" => &self.task_title,
            "task_fields" => &self.task_fields,
            "task_body" => &self.task_body,
            "other_tasks" => &self.other_tasks,
            "roadmap_context" => &self.roadmap_context,
            "isolation" => &self.isolation,
            _ => return None,
        };
        Some(v)
    }
}

/// What a resolver agent is told: the two tasks' text and each conflicted
/// file with its markers (`--isolation worktree`, `[worktree] resolve = "agent"`).
pub struct ResolverPrompt<'a> {
    pub phase: &'a Phase,
    pub group: &'a Group,
    /// The task whose change is being merged.
    pub task: &'a Task,
    /// The tasks already merged that changed the same files.
    pub others: Vec<&'a Task>,
    /// `(path, text with markers)`.
    pub hunks: &'a [(String, String)],
}

/// The resolver's prompt (built in, not templated: it is the runner's own step).
pub fn resolver_prompt(r: &ResolverPrompt<'_>) -> String {
    let mut s = format!(
        "You are resolving a merge conflict, unattended. A runner is working through the project's ROADMAP.md (Phase {}: {}, Group {}). The tasks of this group ran in separate checkouts, and their work is being merged. The change of task {} conflicts with what is already merged.\n\n",
        r.phase.number, r.phase.title, r.group.id, r.task.id,
    );
    s.push_str("Your working directory holds the merge. Each conflicted file below has conflict markers (`<<<<<<< merged`, `=======`, `>>>>>>> ...`). Edit those files so that each keeps the intent of every task involved, and remove every conflict marker. Keep both sides' changes: every line a side added stays, and every line a side removed stays out. Change nothing else, and do not commit or change git state: the runner checks that no marker is left and that the result holds both sides' changes (one that drops either side is not taken), then takes it.\n\n");
    for t in std::iter::once(&r.task).chain(r.others.iter()) {
        s.push_str(&format!(
            "## Task {}: {}\n\n{}\n\n",
            t.id,
            t.title,
            t.body.trim()
        ));
    }
    s.push_str("## Conflicted files\n\n");
    for (path, text) in r.hunks {
        s.push_str(&format!("### {path}\n\n```\n{}\n```\n\n", text.trim_end()));
    }
    s.push_str("When you are done, finish with a short summary of how you resolved each file.\n");
    s
}

/// Reads the configured template, or returns the built-in one.
pub fn load_template(path: Option<&Path>) -> Result<String, PromptError> {
    match path {
        None => Ok(DEFAULT_TEMPLATE.to_string()),
        Some(p) => std::fs::read_to_string(p).map_err(|source| PromptError::Read {
            path: p.to_path_buf(),
            source,
        }),
    }
}

/// Fills the template's placeholders in one pass.
pub fn render_prompt(template: &str, vars: &PromptVars) -> Result<String, PromptError> {
    render_named(template, vars, "prompt template")
}

/// [`render_prompt`] with the template's origin (a path) for error messages.
pub fn render_named(
    template: &str,
    vars: &dyn TemplateVars,
    origin: &str,
) -> Result<String, PromptError> {
    let lines = template
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            Line::render(line, vars).map_err(|name| PromptError::UnknownVariable {
                origin: origin.to_string(),
                line: i + 1,
                name: name.to_string(),
                known: vars.names().join(", "),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(layout(&lines))
}

/// One template line and what it rendered to.
struct Line<'t> {
    /// The template line without its line ending.
    template: &'t str,
    /// `\n`, `\r\n` or nothing (the last line).
    ending: &'t str,
    rendered: String,
}

impl<'t> Line<'t> {
    /// Fills the placeholders of one line; `Err(name)` for an unknown one.
    /// An empty value takes the separator before it along (`Group A: ` →
    /// `Group A`); only template text is trimmed, never a value.
    fn render(line: &'t str, vars: &dyn TemplateVars) -> Result<Line<'t>, &'t str> {
        let body = line.trim_end_matches('\n').trim_end_matches('\r');
        let mut out = String::with_capacity(body.len());
        // Where the template text after the last value starts.
        let mut literal_from = 0;
        let mut rest = body;
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some((name, len)) = placeholder(after) else {
                // Not a placeholder: keep one brace and look again from the
                // next one, so `{{{task_id}}}` gives `{B1}`.
                out.push('{');
                rest = &rest[open + 1..];
                continue;
            };
            let value = vars.var(name).ok_or(name)?;
            if value.is_empty() {
                let kept = out[literal_from..].trim_end_matches(is_separator).len();
                out.truncate(literal_from + kept);
            } else {
                out.push_str(value);
                literal_from = out.len();
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        Ok(Line {
            template: body,
            ending: &line[body.len()..],
            rendered: out,
        })
    }

    fn blank(&self) -> bool {
        self.template.trim().is_empty()
    }

    /// Had something in the template, renders to nothing: left out.
    fn vanished(&self) -> bool {
        !self.blank() && self.rendered.trim().is_empty()
    }

    fn is_fence(&self) -> bool {
        let t = self.template.trim_start();
        t.starts_with("```") || t.starts_with("~~~")
    }

    fn heading(&self) -> Option<Heading> {
        let t = self.template.trim();
        let hashes = t.len() - t.trim_start_matches('#').len();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            Some(Heading::Atx(hashes))
        } else {
            t.ends_with(':').then_some(Heading::Label)
        }
    }
}

/// Template text an empty value takes along when it directly precedes it.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ':' | ',' | ';' | '-' | '–' | '—' | '·' | '|' | '/')
}

/// A one-line block that opens a section (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heading {
    /// `## Title`, with its level.
    Atx(usize),
    /// A line ending in `:`.
    Label,
}

impl Heading {
    /// Whether `next` starts a block outside this heading's section.
    fn ended_by(self, next: Heading) -> bool {
        match (self, next) {
            (Heading::Atx(level), Heading::Atx(other)) => other <= level,
            (Heading::Atx(_), Heading::Label) => false,
            (Heading::Label, _) => true,
        }
    }
}

/// Lines of the template between blank lines (blank lines inside a code
/// fence do not split).
struct Block {
    lines: Range<usize>,
    /// The blank lines before it.
    gap: Range<usize>,
    heading: Option<Heading>,
}

/// The blocks, and the blank lines after the last one.
fn blocks(lines: &[Line<'_>]) -> (Vec<Block>, Range<usize>) {
    let mut blocks = Vec::new();
    let mut gap_from = 0;
    let mut start = None;
    let mut fenced = false;
    let close = |start: usize, end: usize, gap_from: usize, blocks: &mut Vec<Block>| {
        let one = (end == start + 1).then(|| lines[start].heading()).flatten();
        blocks.push(Block {
            lines: start..end,
            gap: gap_from..start,
            heading: one,
        });
    };
    for (i, line) in lines.iter().enumerate() {
        let gap = line.blank() && !fenced;
        fenced ^= line.is_fence();
        match (gap, start) {
            (true, Some(s)) => {
                close(s, i, gap_from, &mut blocks);
                start = None;
                gap_from = i;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        close(s, lines.len(), gap_from, &mut blocks);
        gap_from = lines.len();
    }
    (blocks, gap_from..lines.len())
}

/// Which blocks are left out: those whose every line vanished, and headings
/// whose whole section was left out. From the end, so a heading's section is
/// decided before the heading.
fn left_out(blocks: &[Block], lines: &[Line<'_>]) -> Vec<bool> {
    let mut out = vec![false; blocks.len()];
    for i in (0..blocks.len()).rev() {
        let vanished = blocks[i].lines.clone().all(|l| lines[l].vanished());
        out[i] = vanished
            || blocks[i].heading.is_some_and(|h| {
                let end = (i + 1..blocks.len())
                    .find(|&j| blocks[j].heading.is_some_and(|n| h.ended_by(n)))
                    .unwrap_or(blocks.len());
                end > i + 1 && out[i + 1..end].iter().all(|&o| o)
            });
    }
    out
}

/// The rendered prompt without what was left out, blank lines as in the template.
fn layout(lines: &[Line<'_>]) -> String {
    let (blocks, trailing) = blocks(lines);
    let left_out = left_out(&blocks, lines);
    let mut out = String::new();
    let push = |range: Range<usize>, out: &mut String| {
        for line in lines[range].iter().filter(|l| !l.vanished()) {
            out.push_str(&line.rendered);
            out.push_str(line.ending);
        }
    };
    let mut kept = blocks
        .iter()
        .zip(left_out)
        .filter(|(_, l)| !l)
        .map(|(b, _)| b);
    if let Some(first) = kept.next() {
        // The template's leading blank lines, whichever block comes first.
        push(blocks[0].gap.clone(), &mut out);
        push(first.lines.clone(), &mut out);
    }
    for block in kept {
        push(block.gap.clone(), &mut out);
        push(block.lines.clone(), &mut out);
    }
    push(trailing, &mut out);
    out
}

/// Parses `  name  }}` at the start of `s`: the name and the length consumed.
fn placeholder(s: &str) -> Option<(&str, usize)> {
    let trimmed = s.trim_start_matches(' ');
    let lead = s.len() - trimmed.len();
    let name_len = trimmed
        .char_indices()
        .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(trimmed.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let name = &trimmed[..name_len];
    let tail = &trimmed[name_len..];
    let tail_trimmed = tail.trim_start_matches(' ');
    if !tail_trimmed.starts_with("}}") {
        return None;
    }
    let len = lead + name_len + (tail.len() - tail_trimmed.len()) + 2;
    Some((name, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roadmap::model::{Field, Span};

    fn task(id: &str, title: &str) -> Task {
        Task {
            id: id.into(),
            title: title.into(),
            fields: Vec::new(),
            body: String::new(),
            done_in_roadmap: false,
            done_mark: None,
            optional: false,
            derived_id: false,
            span: Span::default(),
        }
    }

    fn sample() -> (Roadmap, Phase) {
        let mut b1 = task("B1", "Login API");
        b1.fields = vec![
            Field {
                name: "Complexity".into(),
                value: "High".into(),
            },
            Field {
                name: "Files".into(),
                value: "src/auth.rs".into(),
            },
        ];
        b1.body = "- Use argon2 {{task_id}}\n- FAKE: sleep 1\n".into();
        let group = Group {
            id: "B".into(),
            title: "Auth".into(),
            annotation: Some("Parallel, after A".into()),
            after: vec!["A".into()],
            context: "\nAuth stuff.\n".into(),
            tasks: vec![b1, task("B2", "Sessions"), task("B3", "Roles")],
            derived_id: false,
            span: Span::default(),
        };
        let phase = Phase {
            number: 2.into(),
            title: "Core".into(),
            annotation: None,
            context: "Deliverables: auth.".into(),
            groups: vec![group],
            done_in_roadmap: false,
            span: Span::default(),
        };
        let roadmap = Roadmap {
            title: Some("EduConnect".into()),
            context: "Overview.".into(),
            phases: vec![phase.clone()],
            ..Roadmap::default()
        };
        (roadmap, phase)
    }

    #[test]
    fn vars_from_the_roadmap() {
        let (roadmap, phase) = sample();
        let group = &phase.groups[0];
        let v = PromptVars::new(&roadmap, &phase, group, &group.tasks[0]);
        assert_eq!(v.project_title, "EduConnect");
        assert_eq!(v.phase_number, "2");
        assert_eq!(v.group_annotation, "(Parallel, after A)");
        assert_eq!(v.group_context, "Auth stuff.");
        assert_eq!(v.task_fields, "- Complexity: High\n- Files: src/auth.rs");
        assert_eq!(v.other_tasks, "- B2: Sessions\n- B3: Roles");
        let lone = Group {
            tasks: vec![group.tasks[0].clone()],
            ..group.clone()
        };
        let v = PromptVars::new(&roadmap, &phase, &lone, &lone.tasks[0]);
        assert_eq!(v.other_tasks, "(none)");
        for (name, _) in TEMPLATE_VARIABLES {
            assert!(v.get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn single_pass_substitution() {
        let (roadmap, phase) = sample();
        let group = &phase.groups[0];
        let v = PromptVars::new(&roadmap, &phase, group, &group.tasks[0]);
        let out = render_prompt("{{task_id}}: {{ task_title }}\n{{task_body}}", &v).unwrap();
        assert_eq!(
            out,
            "B1: Login API\n- Use argon2 {{task_id}}\n- FAKE: sleep 1"
        );
    }

    #[test]
    fn non_placeholders_are_kept() {
        let v = PromptVars::default();
        let t = "a {{#each x}} b {{ }} {{ 9x }} {{task_id c {{";
        assert_eq!(render_prompt(t, &v).unwrap(), t);
        let v = PromptVars {
            task_id: "B1".into(),
            ..PromptVars::default()
        };
        assert_eq!(render_prompt("{{{task_id}}}", &v).unwrap(), "{B1}");
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let err = render_prompt("line one\nhello {{task_idd}}", &PromptVars::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`{{task_idd}}`"), "{err}");
        assert!(err.contains(":2:"), "{err}");
        assert!(err.contains("task_id, task_title"), "{err}");
    }

    #[test]
    fn default_template_renders() {
        let (roadmap, phase) = sample();
        let group = &phase.groups[0];
        let v = PromptVars::new(&roadmap, &phase, group, &group.tasks[1]);
        let out = render_prompt(DEFAULT_TEMPLATE, &v).unwrap();
        assert!(out.contains("# Your task: B2 — Sessions"));
        assert!(out.contains("- B1: Login API\n- B3: Roles"));
        assert!(out.contains("Do NOT commit"));
        assert!(!out.contains("{{"));
    }

    /// The default template's end, written out here so that a change to it
    /// shows up in these tests.
    fn how_to_work(task_id: &str) -> String {
        format!(
            "\
## How to work

1. Implement task {task_id} fully: no placeholders, no TODOs left for later, nothing stubbed out.
2. Write tests for what you build, run them, and make them pass.
3. Keep the build, the type checker and the linter passing. The runner checks all of them after every group of tasks.
4. Other agents are changing this working tree in parallel for their own tasks. Only touch the files your task needs. Do not reformat, rename or restructure code that other tasks own, and do not undo changes you did not make.
5. Do NOT commit, push, or change git state (no `git commit`, `git push`, `git reset`, `git checkout`, `git stash`). The runner commits the work when the whole phase is done.
6. Do not ask questions: nobody is there to answer. When something is unclear, make the most reasonable choice and say so in your summary.

When you are done, finish with a short summary: what you changed (files and features), how you tested it, and anything left open.
"
        )
    }

    const INTRO: &str = "You are a coding agent working unattended on the project \"EduConnect\". \
        A runner is working through the project's ROADMAP.md; it has given you exactly one task.\n\n";

    fn default_prompt(roadmap: &Roadmap, phase: &Phase, task: usize) -> String {
        let group = &phase.groups[0];
        let v = PromptVars::new(roadmap, phase, group, &group.tasks[task]);
        render_prompt(DEFAULT_TEMPLATE, &v).unwrap()
    }

    #[test]
    fn full_prompt() {
        let (roadmap, phase) = sample();
        let expected = format!(
            "{INTRO}\
# Your task: B1 — Login API

Phase 2: Core
Group B: Auth (Parallel, after A)

## Task details

- Complexity: High
- Files: src/auth.rs

- Use argon2 {{{{task_id}}}}
- FAKE: sleep 1

## Context from the roadmap

Project:

Overview.

Phase 2:

Deliverables: auth.

Group B:

Auth stuff.

## Other tasks of this group

Other agents are working on these tasks at the same time, in the same working tree:

- B2: Sessions
- B3: Roles

{}",
            how_to_work("B1")
        );
        assert_eq!(default_prompt(&roadmap, &phase, 0), expected);
    }

    #[test]
    fn a_task_without_fields_or_body_has_no_task_details() {
        let (roadmap, phase) = sample();
        let expected = format!(
            "{INTRO}\
# Your task: B2 — Sessions

Phase 2: Core
Group B: Auth (Parallel, after A)

## Context from the roadmap

Project:

Overview.

Phase 2:

Deliverables: auth.

Group B:

Auth stuff.

## Other tasks of this group

Other agents are working on these tasks at the same time, in the same working tree:

- B1: Login API
- B3: Roles

{}",
            how_to_work("B2")
        );
        assert_eq!(default_prompt(&roadmap, &phase, 1), expected);
    }

    #[test]
    fn a_group_without_title_or_context() {
        let (roadmap, mut phase) = sample();
        let group = &mut phase.groups[0];
        group.title = String::new();
        group.annotation = Some("Parallel".into());
        group.context = "\n\n".into();
        group.tasks[0].fields.clear();
        let expected = format!(
            "{INTRO}\
# Your task: B1 — Login API

Phase 2: Core
Group B (Parallel)

## Task details

- Use argon2 {{{{task_id}}}}
- FAKE: sleep 1

## Context from the roadmap

Project:

Overview.

Phase 2:

Deliverables: auth.

## Other tasks of this group

Other agents are working on these tasks at the same time, in the same working tree:

- B2: Sessions
- B3: Roles

{}",
            how_to_work("B1")
        );
        assert_eq!(default_prompt(&roadmap, &phase, 0), expected);
    }

    #[test]
    fn a_group_with_title_and_annotation_and_no_context_anywhere() {
        let (mut roadmap, mut phase) = sample();
        roadmap.context = " \n".into();
        phase.context = String::new();
        phase.groups[0].context = String::new();
        phase.groups[0].tasks[0].body = String::new();
        let expected = format!(
            "{INTRO}\
# Your task: B1 — Login API

Phase 2: Core
Group B: Auth (Parallel, after A)

## Task details

- Complexity: High
- Files: src/auth.rs

## Other tasks of this group

Other agents are working on these tasks at the same time, in the same working tree:

- B2: Sessions
- B3: Roles

{}",
            how_to_work("B1")
        );
        assert_eq!(default_prompt(&roadmap, &phase, 0), expected);
    }

    #[test]
    fn heading_lines_lose_the_separator_of_an_empty_value() {
        let (roadmap, mut phase) = sample();
        phase.title = String::new();
        let group = &mut phase.groups[0];
        group.annotation = None;
        let out = default_prompt(&roadmap, &phase, 1);
        assert!(
            out.contains("\n\nPhase 2\nGroup B: Auth\n\n## Context"),
            "{out}"
        );
        phase.groups[0].title = String::new();
        let out = default_prompt(&roadmap, &phase, 1);
        assert!(out.contains("\n\nPhase 2\nGroup B\n\n## Context"), "{out}");
    }

    fn render_with(template: &str, vars: &[(&str, &str)]) -> String {
        let mut v = PromptVars::default();
        for (name, value) in vars {
            match *name {
                "task_id" => v.task_id = value.to_string(),
                "task_title" => v.task_title = value.to_string(),
                "task_body" => v.task_body = value.to_string(),
                "group_context" => v.group_context = value.to_string(),
                other => panic!("no such test variable {other}"),
            }
        }
        render_prompt(template, &v).unwrap()
    }

    #[test]
    fn user_templates_lose_empty_sections_only() {
        let t = "# {{task_id}}\n\n## Body\n\n{{task_body}}\n\n### Sub\n\nNotes:\n\n\
                 {{group_context}}\n\n## Static\n\nAlways here.\n";
        assert_eq!(
            render_with(t, &[("task_id", "B1")]),
            "# B1\n\n## Static\n\nAlways here.\n"
        );
        // A section keeps its heading while anything of it is left.
        assert_eq!(
            render_with(t, &[("task_id", "B1"), ("group_context", "ctx")]),
            "# B1\n\n## Body\n\n### Sub\n\nNotes:\n\nctx\n\n## Static\n\nAlways here.\n"
        );
        // A heading with nothing under it in the template stays.
        assert_eq!(render_with("## A\n\n## B\n", &[]), "## A\n\n## B\n");
        // Within a block, only the lines that vanished go; line endings stay.
        assert_eq!(
            render_with(
                "x\r\n- {{task_body}}\r\ny: {{task_id}}\r\n",
                &[("task_id", "B1")]
            ),
            "x\r\ny: B1\r\n"
        );
        // Blank lines inside a code fence do not split it into blocks: only
        // the line that vanished goes.
        let fenced = "Run:\n\n```sh\nmake\n\n{{task_body}}\n\n```\n";
        assert_eq!(render_with(fenced, &[]), "Run:\n\n```sh\nmake\n\n\n```\n");
        // Separators only go from template text, never from a value.
        assert_eq!(
            render_with("{{task_title}} {{task_body}}!", &[("task_title", "a -")]),
            "a -!"
        );
    }

    #[test]
    fn template_loading() {
        assert_eq!(load_template(None).unwrap(), DEFAULT_TEMPLATE);
        let err = load_template(Some(Path::new("/nonexistent/p.md"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/p.md"));
    }

    #[test]
    fn the_resolver_prompt_holds_both_tasks_and_the_conflicting_hunks() {
        let (_, phase) = sample();
        let group = &phase.groups[0];
        let hunks = vec![(
            "src/auth.rs".to_string(),
            "<<<<<<< merged\nfn a() {}\n=======\nfn b() {}\n>>>>>>> B2: Sessions\n".to_string(),
        )];
        let text = resolver_prompt(&ResolverPrompt {
            phase: &phase,
            group,
            task: &group.tasks[1],
            others: vec![&group.tasks[0]],
            hunks: &hunks,
        });
        assert!(text.contains("## Task B2: Sessions"), "{text}");
        assert!(
            text.contains("## Task B1: Login API\n\n- Use argon2 {{task_id}}"),
            "{text}"
        );
        assert!(
            text.contains("### src/auth.rs\n\n```\n<<<<<<< merged\nfn a() {}"),
            "{text}"
        );
        assert!(text.contains("remove every conflict marker"), "{text}");
    }
}
