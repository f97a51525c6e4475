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
