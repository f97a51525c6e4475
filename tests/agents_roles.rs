//! Which agent runs what: `(agent: X)` on a task line picks that task's
//! agent only, an unknown name there is a diagnostic with its position,
//! `[review] agent` runs the review on another agent than the tasks (the
//! record says which), and preflight checks every agent the run may start.
//! The real binary runs with the Claude fake as the run's agent.

mod common;

use common::*;

fn codex_profile() -> String {
    format!(
        "[agent.codex]\nbinary = \"{}\"\n",
        fixture("fake-codex").display()
    )
}

const TASK_ANNOTATED: &str = "# Test Project\n\n## Phase 1: Only\n\n### Group A\n\n- [ ] A1: Plain task\n  - FAKE: write a1.txt one\n- [ ] A2: Annotated task (agent: codex)\n  - FAKE: write a2.txt two\n";

#[test]
fn a_task_annotation_picks_the_agent_of_that_task_only() {
    let p = Project::with_config(TASK_ANNOTATED, &codex_profile());
    let out = p.run(&["--dry-run", "--json"]);
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let agents: Vec<&str> = plan["actions"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["claude", "codex"]);
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    assert_eq!(p.read("a1.txt"), "one\n");
    assert_eq!(p.read("a2.txt"), "two\n");
    let mut by_task: Vec<(String, Option<String>)> = task_records(&p)
        .into_iter()
        .map(|t| (t.task, t.agent))
        .collect();
    by_task.sort();
    assert_eq!(
        by_task,
        [
            ("A1".to_string(), Some("claude".to_string())),
            ("A2".to_string(), Some("codex".to_string()))
        ]
    );
    let codex_starts: Vec<String> = p
        .agent_starts()
        .iter()
        .filter(|s| s["cli"] == "codex")
        .map(|s| s["task"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codex_starts, ["A2"]);
}

#[test]
fn an_unknown_agent_on_a_task_line_is_a_diagnostic_with_its_position() {
    let roadmap = TASK_ANNOTATED.replace("(agent: codex)", "(agent: gpt4)");
    let p = Project::new(&roadmap);
    let out = p.run(&["--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("task `A2` names unknown agent `gpt4`"),
        "{text}"
    );
    // `- [ ] A2: Annotated task (agent: gpt4)` is line 9; `gpt4` at column 34.
    assert!(text.contains(":9:34"), "{text}");
    assert!(
        text.contains("`agent: copilot`"),
        "the help lists the names: {text}"
    );
    assert!(p.agent_starts().is_empty());
}

#[test]
fn a_review_runs_on_the_review_agent_and_its_record_says_so() {
    let roadmap = "# Shop\n\n## Phase 1: Base\n\n### Group A\n\n- A1: Model\n  - FAKE: write src/model.txt model\n";
    let config = format!(
        "[review]\nenabled = true\nagent = \"codex\"\n\n{}",
        codex_profile()
    );
    let p = Project::with_config(roadmap, &config);
    let out = p.run(&["config"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let row = |key: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{key} in {text}"))
            .to_string()
    };
    assert!(row("review.agent").contains("codex"), "{text}");
    assert!(row("repair.agent").contains("the run's: claude"), "{text}");

    let out = p.run(&["--no-push"]);
    assert_exit(&out, 0);
    let reviews: Vec<_> =
        roadmap_runner::status::RecordStore::new(&roadmap_runner::status::StatusDir::new(&p.dir))
            .load()
            .unwrap()
            .0
            .into_iter()
            .filter_map(|r| match r {
                roadmap_runner::status::Record::Task(t) if t.role.as_deref() == Some("review") => {
                    Some(t)
                }
                _ => None,
            })
            .collect();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].agent.as_deref(), Some("codex"));
    assert_eq!(task_records(&p)[0].agent.as_deref(), Some("claude"));
    let review_start = p
        .agent_starts()
        .into_iter()
        .find(|s| s["task"] == "review-1")
        .expect("the reviewer started");
    assert_eq!(review_start["cli"], "codex");
    // Codex has no --json-schema: the verdict is read from its reply.
    assert!(!review_start["argv"].to_string().contains("--json-schema"));
}

#[test]
fn preflight_checks_the_review_agent_before_anything_starts() {
    let roadmap =
        "# Shop\n\n## Phase 1: Base\n\n### Group A\n\n- A1: Model\n  - FAKE: write m.txt m\n";
    let config = "[review]\nenabled = true\nagent = \"copilot\"\n\n[agent.copilot]\nbinary = \"/nonexistent/copilot\"\n";
    let p = Project::with_config(roadmap, config);
    let out = p.run(&["--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    let text = stderr(&out);
    assert!(
        text.contains("[review] agent") && text.contains("/nonexistent/copilot"),
        "{text}"
    );
    assert!(p.agent_starts().is_empty());
    let p = Project::with_config(roadmap, "[review]\nagent = \"aider\"\n");
    let out = p.run(&["--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    let text = stderr(&out);
    assert!(
        text.contains("review.agent") && text.contains("unknown agent `aider`"),
        "{text}"
    );
}
