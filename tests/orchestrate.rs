//! `POST /api/v1/orchestrate`: from a request to a finished roadmap over
//! HTTP. The fake agent drafts (canned answers, FAKE_AGENT_PLANS), the
//! drafted roadmap runs to pushed phases, drafting and run events arrive on
//! the event stream; bad bodies are refused and start nothing.

mod common;

use common::plans::{DUPLICATE_A1, SHOP_API, plans};
use common::server::{Server, finished_tasks, until_run_finished};
use common::*;
use serde_json::{Value, json};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const KEY: &str = "orch-k3y";

/// The server, its runs' agent answering with `answer`.
fn server(p: &Project, answer: &str) -> Server {
    Server::start_env(p, Some(KEY), &[("FAKE_AGENT_PLANS", &plans(p, &[answer]))])
}

fn names(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(_, e)| e["event"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Events until (and with) the first named `last`.
fn until(rx: &Receiver<(String, Value)>, last: &str, secs: u64) -> Vec<(String, Value)> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while let Ok(ev) = rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
        let done = ev.1["event"] == last;
        seen.push(ev);
        if done {
            return seen;
        }
    }
    panic!("no {last} within {secs}s: {:?}", names(&seen));
}

fn wait_finished(s: &Server, id: &str) -> Value {
    let mut run = Value::Null;
    wait_for("the run to finish", 60, || {
        run = s.get(&format!("/api/v1/runs/{id}")).1;
        run["state"] == "finished"
    });
    run
}

#[test]
fn a_request_is_drafted_then_run_to_pushed_phases_with_events_on_the_stream() {
    let p = Project::emptied(&["ROADMAP.md"]);
    let s = server(&p, SHOP_API);
    let body = r#"{"request": "Build a REST API with auth", "config": {"max_workers": 5, "enable_recursion": true, "max_recursion_depth": 2}}"#;
    // The key is required, as for every route that starts work.
    let (code, _) = s.post_with("/api/v1/orchestrate", body, &[("x-api-key", "nope")]);
    assert_eq!(code, 401);
    assert!(p.agent_starts().is_empty());

    let rx = s.events(None);
    let (code, started) = s.post("/api/v1/orchestrate", body);
    assert_eq!(code, 202, "{started}");
    let id = started["id"].as_str().unwrap().to_string();
    assert_eq!(started["run"]["request"], "Build a REST API with auth");
    assert_eq!(started["run"]["max_recursion_depth"], 2);
    let args: Vec<&str> = started["run"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.contains(&"init") && args.contains(&"--goal=Build a REST API with auth"),
        "{args:?}"
    );
    assert!(args.contains(&"--max-parallel=5"), "{args:?}");

    let events = until_run_finished(&rx, 90);
    let seen = names(&events);
    let at = |name: &str| {
        seen.iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no {name}: {seen:?}"))
    };
    assert_eq!(seen[0], "drafting_started", "{seen:?}");
    assert!(at("drafting_attempt") < at("drafting_done"), "{seen:?}");
    assert!(at("drafting_done") < at("run_started"), "{seen:?}");
    let done = &events[at("drafting_done")].1;
    assert_eq!(
        (done["phases"].as_u64(), done["tasks"].as_u64()),
        (Some(2), Some(3)),
        "{done}"
    );
    assert_eq!(events[at("run_started")].1["max_parallel"], 5);
    assert!(seen.contains(&"phase_pushed".to_string()), "{seen:?}");
    assert_eq!(finished_tasks(&events), ["A1", "A2", "B1"]);
    // Event ids order as they came: the drafting's file, then the run's.
    let ids: Vec<&String> = events.iter().map(|(id, _)| id).collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| {
        let (stem, line) = id.rsplit_once(':').unwrap();
        (stem.to_string(), line.parse::<u64>().unwrap())
    });
    assert_eq!(ids, sorted);

    let run = wait_finished(&s, &id);
    assert_eq!(run["exit_code"], 0, "{run}");
    assert_eq!(p.read("ROADMAP.md"), SHOP_API);
    let log = p.origin_log();
    assert_eq!(log[0], "Complete Phase 2: Features", "{log:?}");
    assert_eq!(log[1], "Complete Phase 1: Foundation", "{log:?}");
    let tasks = p.agent_task_ids();
    assert_eq!(tasks[0], "", "the drafting agent came first: {tasks:?}");

    // Now the project has a roadmap: it is not replaced unless asked.
    let (code, refused) = s.post("/api/v1/orchestrate", r#"{"request": "Again"}"#);
    assert_eq!(code, 409, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("\"force\": true"),
        "{refused}"
    );
    assert_eq!(p.agent_task_ids().len(), tasks.len());
}

#[test]
fn bad_bodies_get_400_with_what_is_wrong_and_start_nothing() {
    let p = Project::emptied(&["ROADMAP.md"]);
    let s = server(&p, SHOP_API);
    for (body, expected) in [
        ("", "request: it is empty"),
        (r#"{"request": "  "}"#, "request: it is empty"),
        (r#"{"config": {}}"#, "missing field `request`"),
        (
            r#"{"request": "x", "workers": 2}"#,
            "unknown field `workers`",
        ),
        (
            r#"{"request": "x", "config": {"max_workers": 2, "depth": 1}}"#,
            "unknown field `depth`",
        ),
        (
            r#"{"request": 5}"#,
            "invalid type: integer `5`, expected a string",
        ),
        (
            r#"{"request": "x", "config": {"max_workers": "5"}}"#,
            "invalid type: string \"5\"",
        ),
        (
            r#"{"request": "x", "config": {"enable_recursion": "yes"}}"#,
            "invalid type: string \"yes\"",
        ),
        (
            r#"{"request": "x", "config": {"max_workers": 0}}"#,
            "config.max_workers: at least 1",
        ),
        (
            r#"{"request": "x", "config": {"max_recursion_depth": 6}}"#,
            "config.max_recursion_depth: 6 is out of range: 1 to 5",
        ),
        (
            r#"{"request": "x", "config": {"max_recursion_depth": -1}}"#,
            "invalid value: integer `-1`",
        ),
        (r#"["x"]"#, "the body must be a JSON object"),
        (r#"{"request": "x""#, "invalid JSON body"),
    ] {
        let (code, answer) = s.post("/api/v1/orchestrate", body);
        assert_eq!(code, 400, "{body}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    assert_eq!(s.get("/api/v1/runs").1["runs"], json!([]));
    assert!(p.agent_starts().is_empty());
    assert!(!p.dir.join("ROADMAP.md").exists());
    // POST /runs checks the same depth where it is a run option.
    let (code, answer) = s.post("/api/v1/runs", r#"{"max_recursion_depth": 9}"#);
    assert_eq!(code, 400, "{answer}");
    // The document describes the route and its body.
    let doc = s.get("/api/v1/openapi.json").1;
    let op = &doc["paths"]["/orchestrate"]["post"];
    assert_eq!(op["requestBody"]["required"], true, "{op}");
    assert!(
        op["responses"]["202"].is_object() && op["responses"]["400"].is_object(),
        "{op}"
    );
}

#[test]
fn a_draft_that_never_validates_ends_with_its_diagnostics_on_the_stream() {
    let p = Project::emptied(&["ROADMAP.md"]);
    let s = server(&p, DUPLICATE_A1);
    let rx = s.events(None);
    let (code, started) = s.post("/api/v1/orchestrate", r#"{"request": "Build it"}"#);
    assert_eq!(code, 202, "{started}");
    let events = until(&rx, "drafting_failed", 60);
    let seen = names(&events);
    assert_eq!(
        seen.iter().filter(|n| *n == "drafting_attempt").count(),
        3,
        "{seen:?}"
    );
    let diagnostics: Vec<&Value> = events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e["event"] == "drafting_diagnostics")
        .collect();
    assert_eq!(diagnostics.len(), 3, "{seen:?}");
    assert!(
        diagnostics[0]["problems"]
            .as_str()
            .unwrap()
            .contains("duplicate task id `A1`"),
        "{}",
        diagnostics[0]
    );
    let failed = &events.last().unwrap().1;
    assert_eq!(failed["exit_code"], 4, "{failed}");
    let run = wait_finished(&s, started["id"].as_str().unwrap());
    assert_eq!(run["exit_code"], 4, "{run}");
    assert!(!p.dir.join("ROADMAP.md").exists());
    assert!(!seen.contains(&"run_started".to_string()));
}

#[test]
fn a_stop_while_drafting_ends_the_agent_and_writes_nothing() {
    let p = Project::emptied(&["ROADMAP.md"]);
    let s = server(&p, SHOP_API);
    // The request is in the drafting prompt: the fake agent takes its time.
    let (code, started) = s.post("/api/v1/orchestrate", r#"{"request": "FAKE: sleep 30"}"#);
    assert_eq!(code, 202, "{started}");
    let id = started["id"].as_str().unwrap().to_string();
    wait_for("the drafting agent", 20, || !p.agent_starts().is_empty());
    // Another start waits for the drafting to end.
    let (code, busy) = s.post("/api/v1/runs", "{}");
    assert_eq!(code, 409, "{busy}");
    assert!(
        busy["error"].as_str().unwrap().contains("drafting"),
        "{busy}"
    );
    let (code, _) = s.post(&format!("/api/v1/runs/{id}/stop"), "");
    assert_eq!(code, 200);
    let run = wait_finished(&s, &id);
    assert_eq!(run["exit_code"], 143, "{run}");
    assert!(!p.dir.join("ROADMAP.md").exists());
    let pid = p.agent_starts()[0]["pid"].as_i64().unwrap() as i32;
    assert!(!alive(pid), "the drafting agent was stopped");
}
