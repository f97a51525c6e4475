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

mod render;

use crate::roadmap::model::{Group, Phase, Roadmap, Task};
pub use render::{render_named, render_prompt};
use std::path::{Path, PathBuf};

/// The built-in prompt template (used when `agent.prompt_template` is unset).
pub const DEFAULT_TEMPLATE: &str = include_str!("../default_prompt.md");

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

#[cfg(test)]
mod tests;
