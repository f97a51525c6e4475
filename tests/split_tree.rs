//! A split task's sub-roadmap shown beneath it: in the parent group's
//! report (PHASE1-GROUP-A-STATUS.md), in `status --json` and in the API's
//! status, whose OpenAPI schema names the same nested type.

mod common;

use common::server::Server;
use common::*;
use serde_json::Value;

const GATE: &str = "[[gate.steps]]\nname = \"test\"\ncommand = \"true\"\n";

/// A sub-roadmap of two groups: A with two parallel tasks, B with one.
const SUB: &str = "# Parts\n\n## Phase 1: Parts\n\n### Group A: First (Parallel)\n\n\
     - [ ] **A1**: Part one\n  FAKE: write part1.txt one\n\
     - [ ] **A2**: Part `two` | <b>\n  FAKE: write part2.txt two\n\n\
     ### Group B: Second (Parallel, after A)\n\n\
     - [ ] **B1**: Part three\n  FAKE: write part3.txt three\n";

/// A project whose task A2 splits into [`SUB`], run to its end.
fn split_run() -> Project {
    let (_, sub) = tempfile::NamedTempFile::new().unwrap().keep().unwrap();
    std::fs::write(&sub, SUB).unwrap();
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: write a1.txt done"),
        ("A2", &format!("FAKE: split {}", sub.display())),
    ]);
    let p = Project::with_config(&roadmap, GATE);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    p
}

#[test]
fn the_group_report_nests_the_sub_roadmap_under_its_task() {
    let p = split_run();
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    let section = report
        .split("## A2: Task A2")
        .nth(1)
        .expect("A2's section")
        .split("\n## ")
        .next()
        .unwrap();
    assert!(
        section.contains("- **Sub-roadmap:** 3/3 sub-tasks done"),
        "{section}"
    );
    let lines: Vec<&str> = section.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("{needle:?} in:\n{section}"))
    };
    let g1 = at("  - Group 1:A:A2/1:A: First (Parallel) · completed");
    let t1 = at("    - 1:A:A2/1:A:A1: Part one · succeeded");
    // An agent's title stays inline text: no HTML, no code span opened.
    let t2 = at("    - 1:A:A2/1:A:A2: Part `two` | &lt;b> · succeeded");
    let g2 = at("  - Group 1:A:A2/1:B: Second (Parallel, after A) · completed");
    let t3 = at("    - 1:A:A2/1:B:B1: Part three · succeeded");
    assert!(g1 < t1 && t1 < t2 && t2 < g2 && g2 < t3, "{section}");
    // A1 did not split: no sub-roadmap in its section.
    let a1 = report.split("## A1: Task A1").nth(1).unwrap();
    let a1 = a1.split("\n## ").next().unwrap();
    assert!(!a1.contains("Sub-roadmap"), "{a1}");
}

/// The `sub` tree of task A2 in a status document.
fn a2_sub(doc: &Value) -> &Value {
    let a2 = &doc["phases"][0]["groups"][0]["tasks"][1];
    assert_eq!(a2["id"], "A2", "{doc}");
    &a2["sub"]
}

#[test]
fn status_json_and_the_api_carry_the_same_tree_and_the_schema_names_it() {
    let p = split_run();
    let out = p.run(&["status", "--json"]);
    assert_exit(&out, 0);
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sub = a2_sub(&cli);
    let keys: Vec<&str> = sub
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["PHASE_1:A:A2/1:A", "PHASE_1:A:A2/1:B"]);
    assert_eq!(sub[0]["tasks"][1]["state"], "succeeded");
    assert_eq!(sub[1]["state"], "completed");
    assert!(
        cli["phases"][0]["groups"][0]["tasks"][0]
            .get("sub")
            .is_none(),
        "no `sub` for a task that did not split"
    );

    // `status` says it on the task's line.
    let out = p.run(&["status", "--all"]);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.trim() == "A2 Task A2  split: 3/3 sub-tasks done"),
        "{text}"
    );

    let s = Server::start(&p, None);
    let (code, api) = s.get("/api/v1/status");
    assert_eq!(code, 200, "{api}");
    assert_eq!(a2_sub(&api), sub);
    // A sub-task's log by its scoped group, as the dashboard asks for it.
    let (code, log) = s.get("/api/v1/tasks/1/A%3AA2%2F1%3AB/B1/log?tail=50");
    assert_eq!(code, 200, "{log}");
    assert_eq!(log["target"], "1:A:A2/1:B:B1");
    assert!(
        log["text"].as_str().unwrap().contains("Implemented B1"),
        "{log}"
    );

    // The OpenAPI document types the reply: a task's `sub` is a list of
    // the same group schema as the phase's groups.
    let (_, doc) = s.get("/api/v1/openapi.json");
    let reply = &doc["paths"]["/status"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        reply["properties"]["phases"]["items"]["$ref"], "#/components/schemas/StatusPhase",
        "{reply}"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["StatusPhase"]["properties"]["groups"]["items"]["$ref"],
        "#/components/schemas/StatusGroup"
    );
    assert_eq!(
        schemas["StatusGroup"]["properties"]["tasks"]["items"]["$ref"],
        "#/components/schemas/StatusTask"
    );
    assert_eq!(
        schemas["StatusTask"]["properties"]["sub"]["items"]["$ref"],
        "#/components/schemas/StatusGroup",
        "{}",
        schemas["StatusTask"]
    );
}
