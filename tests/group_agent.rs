//! `(agent: X)` in a group heading: that group's tasks run on the named
//! profile, the others on the run's agent. The real binary runs with the
//! Claude fake as the run's agent and the Codex fake for group B.

mod common;

use common::*;

const ROADMAP: &str = "# Test Project\n\n## Phase 1: Only\n\n### Group A\n\n#### A1: Task A1\n\nFAKE: write a1.txt one\n\n### Group B (agent: codex)\n\n#### B1: Task B1\n\nFAKE: write b1.txt two\n\n";

#[test]
fn a_group_annotation_runs_its_tasks_on_the_named_agent() {
    let config = format!(
        "[agent.codex]\nbinary = \"{}\"\n",
        fixture("fake-codex").display()
    );
    let p = Project::with_config(ROADMAP, &config);
    let out = p.run(&["--dry-run", "--json"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("\"agent\":\"claude\"") && text.contains("\"agent\":\"codex\""),
        "{text}"
    );
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    assert_eq!(p.read("a1.txt"), "one\n");
    assert_eq!(p.read("b1.txt"), "two\n");
    let clis: Vec<(String, String)> = p
        .agent_starts()
        .iter()
        .map(|s| {
            (
                s["task"].as_str().unwrap_or_default().to_string(),
                s["cli"].as_str().unwrap_or("claude").to_string(),
            )
        })
        .collect();
    assert_eq!(
        clis,
        [
            ("A1".to_string(), "claude".to_string()),
            ("B1".to_string(), "codex".to_string())
        ]
    );
    let agents: Vec<(String, Option<String>)> = task_records(&p)
        .into_iter()
        .map(|t| (t.task, t.agent))
        .collect();
    assert_eq!(
        agents,
        [
            ("A1".to_string(), Some("claude".to_string())),
            ("B1".to_string(), Some("codex".to_string()))
        ]
    );
}

#[test]
fn an_unknown_agent_in_a_group_heading_is_a_diagnostic_with_its_position() {
    let p = Project::with_config(&ROADMAP.replace("agent: codex", "agent: aider"), "");
    let out = p.cmd().arg("validate").output().unwrap();
    assert_exit(&out, 4);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    // `### Group B (agent: aider)` is line 11; `aider` starts at column 21.
    assert!(text.contains("ROADMAP.md:11:21"), "{text}");
    assert!(text.contains("unknown agent `aider`"), "{text}");
}
