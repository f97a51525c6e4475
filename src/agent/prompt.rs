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

use crate::roadmap::model::{Group, Phase, Roadmap, Task};
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
];

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
        }
    }

    /// The value of a variable by its template name.
    pub fn get(&self, name: &str) -> Option<&str> {
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
            _ => return None,
        };
        Some(v)
    }
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
    vars: &PromptVars,
    origin: &str,
) -> Result<String, PromptError> {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match placeholder(after) {
            Some((name, len)) => {
                let Some(value) = vars.get(name) else {
                    let consumed = template.len() - rest.len() + open;
                    return Err(PromptError::UnknownVariable {
                        origin: origin.to_string(),
                        line: template[..consumed].matches('\n').count() + 1,
                        name: name.to_string(),
                        known: TEMPLATE_VARIABLES
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                out.push_str(value);
                rest = &after[len..];
            }
            None => {
                // Not a placeholder: keep one brace and look again from the
                // next one, so `{{{task_id}}}` gives `{B1}`.
                out.push('{');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
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

    #[test]
    fn template_loading() {
        assert_eq!(load_template(None).unwrap(), DEFAULT_TEMPLATE);
        let err = load_template(Some(Path::new("/nonexistent/p.md"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/p.md"));
    }
}
