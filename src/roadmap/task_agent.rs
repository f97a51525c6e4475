//! Checking the agent a task line names (`(agent: gemini)` in its title, or
//! an `Agent` column, read by [`Task::agent_written`]) after a parse, whatever
//! dialect read the task: an unknown name is an error at its position.
//!
//! [`Task::agent_written`]: super::model::Task::agent_written

use super::agent_name::AgentName;
use super::diagnostics::Diagnostic;
use super::model::{Roadmap, Span};

/// An `unknown-agent` error for each task naming an agent that is none.
pub(crate) fn check(source: &str, roadmap: &Roadmap) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for task in roadmap
        .phases
        .iter()
        .flat_map(|p| &p.groups)
        .flat_map(|g| &g.tasks)
    {
        let Some(name) = task.agent_written() else {
            continue;
        };
        if AgentName::parse(&name).is_some() {
            continue;
        }
        found.push(
            Diagnostic::error(
                "unknown-agent",
                name_span(source, task.span, &name),
                format!("task `{}` names unknown agent `{name}`", task.id),
            )
            .with_help(format!("write {}", AgentName::choices())),
        );
    }
    found
}

/// Where `name` is written in the task's source (the task's start when it
/// cannot be found, e.g. after an escape).
fn name_span(source: &str, task: Span, name: &str) -> Span {
    let text = source.get(task.start..task.end).unwrap_or("");
    let at = text
        .find("agent")
        .and_then(|k| text[k..].find(name).map(|i| k + i))
        .or_else(|| text.find(name));
    match at {
        Some(i) => Span::new(task.start + i, task.start + i + name.len()),
        None => Span::new(task.start, task.start),
    }
}

#[cfg(test)]
mod tests {
    use crate::roadmap::{AgentName, parse};

    #[test]
    fn a_task_line_names_its_agent() {
        let src = "# R\n\n## Phase 1: A\n\n### Group A: G\n\n- [ ] A1: Parse (agent: codex)\n- [ ] A2: Plain\n";
        let p = parse(src);
        let tasks = &p.roadmap.phases[0].groups[0].tasks;
        assert_eq!(tasks[0].agent(), Some(AgentName::Codex));
        assert_eq!(tasks[1].agent(), None);
        assert!(p.diagnostics.iter().all(|d| d.code != "unknown-agent"));
    }

    #[test]
    fn an_unknown_agent_is_an_error_at_its_name() {
        let src = "# R\n\n## Phase 1: A\n\n### Group A: G\n\n- [ ] A1: Parse (agent: gpt4)\n";
        let p = parse(src);
        let d = p
            .diagnostics
            .iter()
            .find(|d| d.code == "unknown-agent")
            .unwrap();
        assert_eq!(&src[d.span.start..d.span.end], "gpt4");
        assert!(d.message.contains("task `A1`"), "{}", d.message);
    }

    #[test]
    fn a_table_column_names_it_too() {
        let src = "# R\n\n## Phase 1: A\n\n### Group A: G\n\n| ID | Task | Agent |\n|----|------|-------|\n| A1 | Parse | gemini |\n| A2 | Lex | aider |\n";
        let p = parse(src);
        let tasks = &p.roadmap.phases[0].groups[0].tasks;
        assert_eq!(tasks[0].agent(), Some(AgentName::Gemini));
        let d = p
            .diagnostics
            .iter()
            .find(|d| d.code == "unknown-agent")
            .unwrap();
        assert_eq!(&src[d.span.start..d.span.end], "aider");
    }
}
