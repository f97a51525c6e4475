//! Longest expected first with the real binary and the fake agent: a
//! group's second run starts its longest task first, from the durations
//! its first run recorded; the dry run shows the order and the expected
//! makespan; a roadmap's Complexity column is the prior.

mod common;

use common::*;

/// Three tasks, the slow one listed last.
fn slow_last() -> String {
    roadmap_with_tasks(&[
        ("A1", "FAKE: sleep 0.1\nFAKE: write a1.txt A1"),
        ("A2", "FAKE: sleep 0.2\nFAKE: write a2.txt A2"),
        ("A3", "FAKE: sleep 1.5\nFAKE: write a3.txt A3"),
    ])
}

fn dry_run_json(p: &Project) -> serde_json::Value {
    let out = p.run(&["--dry-run", "--json"]);
    assert_exit(&out, 0);
    serde_json::from_str(stdout(&out).trim()).expect("one JSON document")
}

#[test]
fn the_second_run_of_a_group_starts_its_longest_task_first() {
    let p = Project::new(&slow_last());
    // Nothing known yet: roadmap order, no makespan.
    let doc = dry_run_json(&p);
    let group = &doc["groups"][0];
    assert_eq!(group["order"], serde_json::json!(["A1", "A2", "A3"]));
    assert!(group["expected_makespan_secs"].is_null(), "{group}");
    let out = p.run(&["--max-parallel", "1"]);
    assert_exit(&out, 0);
    assert_eq!(p.agent_task_ids(), ["A1", "A2", "A3"]);

    assert_exit(&p.run(&["rollback", "1:A"]), 0);
    // The dry run now orders from the recorded durations.
    let doc = dry_run_json(&p);
    let group = &doc["groups"][0];
    assert_eq!(group["order"], serde_json::json!(["A3", "A2", "A1"]));
    let a3 = &group["tasks"][2];
    assert_eq!(a3["expected_from"], "history");
    assert!(a3["expected_secs"].as_f64().unwrap() >= 1.5, "{a3}");
    let makespan = group["expected_makespan_secs"].as_f64().unwrap();
    assert!(makespan >= a3["expected_secs"].as_f64().unwrap(), "{group}");
    let out = p.run(&["--dry-run", "--max-parallel", "1"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("order, longest expected first: A3 (") && text.contains(", history), A2 ("),
        "{text}"
    );

    let out = p.run(&["--max-parallel", "1"]);
    assert_exit(&out, 0);
    assert_eq!(p.agent_task_ids()[3..], ["A3", "A2", "A1"]);
    // The summary sets the expectation against what the group took.
    let text = stdout(&out);
    assert!(
        text.contains("Group times (longest first): 1:A expected "),
        "{text}"
    );
}

#[test]
fn a_complexity_column_orders_a_group_that_never_ran() {
    let roadmap = "# Test Project\n\n## Phase 1: Only\n\n### Group A: Things\n\n\
        | Feature | Complexity | Description |\n\
        |---------|------------|-------------|\n\
        | **A1: One** | Low | the first |\n\
        | **A2: Two** | High | the second |\n\
        | **A3: Three** | 30 min | the third |\n\
        | **A4: Four** | | the fourth |\n";
    let p = Project::new(roadmap);
    let doc = dry_run_json(&p);
    let group = &doc["groups"][0];
    // A4 has no estimate: it counts as the median (30 min), after A3.
    assert_eq!(
        group["order"],
        serde_json::json!(["A2", "A3", "A4", "A1"]),
        "{group}"
    );
    let from: Vec<&str> = group["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["expected_from"].as_str().unwrap())
        .collect();
    assert_eq!(from, ["estimate", "estimate", "estimate", "unknown"]);
}
