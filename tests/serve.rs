//! `roadmap-runner serve` over real HTTP on 127.0.0.1: auth, runs started
//! with POST /runs and followed on /events to the end (commits pushed to a
//! bare origin), the lock as 409, bad input as 4xx, Last-Event-ID replays,
//! runs started from the CLI on the same stream, and the bind refusal.

mod common;

use common::server::{Server, finished_tasks, until_run_finished};
use common::*;

const KEY: &str = "k3y-for-tests";

/// Two phases, five short tasks; A1 takes a moment so a second start meets the lock.
fn two_phases() -> String {
    "# Shop\n\n## Phase 1: Foundation\n\n### Group A (Parallel)\n\n\
     - A1: Schema\n  - FAKE: sleep 0.8\n  - FAKE: write db/schema.sql create table t;\n\
     - A2: Scaffold\n  - FAKE: write src/main.txt hello\n\n\
     ### Group B\n\n- B1: Accounts\n  - FAKE: write src/accounts.txt accounts\n\n\
     ## Phase 2: Features\n\n### Group C\n\n\
     - C1: Cart\n  - FAKE: write src/cart.txt cart\n\
     - C2: Checkout\n  - FAKE: write src/checkout.txt checkout\n"
        .to_string()
}

#[test]
fn a_run_started_over_http_is_followed_to_its_end_and_pushed() {
    let p = Project::new(&two_phases());
    let s = Server::start(&p, Some(KEY));

    // 401 without a key or with a wrong one; 200 with either header.
    let (code, body) = s.get_with("/api/v1/status", None);
    assert_eq!(code, 401, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("API key"),
        "{body}"
    );
    let (code, _) = s.get_with("/api/v1/status", Some(("x-api-key", "wrong".into())));
    assert_eq!(code, 401);
    let (code, status) = s.get_with(
        "/api/v1/status",
        Some(("authorization", format!("Bearer {KEY}"))),
    );
    assert_eq!(code, 200, "{status}");
    assert_eq!(status["phases"][0]["groups"][0]["tasks"][0]["id"], "A1");
    assert_eq!(s.get("/api/v1/status").0, 200);
    // `?key=` is for EventSource on /events only.
    assert_eq!(
        s.get_with(&format!("/api/v1/status?key={KEY}"), None).0,
        401
    );

    // Bad bodies: 4xx with a JSON message, and the server keeps serving.
    let (code, body) = s.post("/api/v1/runs", "{\"max_parallel\": ");
    assert_eq!(code, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("invalid JSON"),
        "{body}"
    );
    let (code, body) = s.post("/api/v1/runs", r#"{"isolate": "worktree"}"#);
    assert_eq!(code, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `isolate`")
    );
    let (code, body) = s.post("/api/v1/runs", r#"{"phases": ["x"]}"#);
    assert_eq!(code, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a phase number"),
        "{body}"
    );
    let (code, body) = s.post(
        "/api/v1/runs",
        &format!("{{\"task\": \"{}\"}}", "a".repeat(100_000)),
    );
    assert_eq!(code, 413, "{body}");
    assert!(p.agent_starts().is_empty(), "a refused start ran agents");

    let live = s.events(None);
    let (code, started) = s.post("/api/v1/runs", "{}");
    assert_eq!(code, 202, "{started}");
    let id = started["id"].as_str().unwrap().to_string();
    // The first run holds the lock: a second start is refused, with the
    // message alone (no log prefix).
    let (code, body) = s.post("/api/v1/runs", "{}");
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("another roadmap-runner holds the lock"),
        "{body}"
    );

    let events = until_run_finished(&live, 60);
    assert_eq!(finished_tasks(&events), ["A1", "A2", "B1", "C1", "C2"]);
    let last = &events.last().unwrap().1;
    assert_eq!(last["summary"]["exit_code"], 0, "{last}");
    assert_eq!(events[0].1["event"], "run_started");
    let kinds: Vec<&str> = events
        .iter()
        .map(|(_, e)| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "phase_committed").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        p.origin_log(),
        [
            "Complete Phase 2: Features",
            "Complete Phase 1: Foundation",
            "initial"
        ]
    );

    // The run's own state, once its child has exited.
    wait_for("the run to be finished", 20, || {
        s.get(&format!("/api/v1/runs/{id}")).1["state"] == "finished"
    });
    let (_, run) = s.get(&format!("/api/v1/runs/{id}"));
    assert_eq!(run["exit_code"], 0, "{run}");
    assert_eq!(run["tasks"].as_array().unwrap().len(), 5, "{run}");
    assert!(
        run["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "succeeded"),
        "{run}"
    );
    assert_eq!(s.get("/api/v1/runs/nope").0, 404);
    let (code, body) = s.get(&format!("/api/v1/runs/{id}/stop"));
    assert_eq!(code, 405, "{body}");
    assert!(body["error"].is_string(), "{body}");

    // A client that reconnects after the third event gets exactly the rest.
    let replay = until_run_finished(&s.events(Some(&events[2].0)), 10);
    let ids = |evs: &[(String, serde_json::Value)]| {
        evs.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&replay), ids(&events[3..]));
    assert_eq!(replay[0].1, events[3].1);

    // Logs by task, with a tail; ids are checked before they reach a file name.
    let (code, log) = s.get("/api/v1/tasks/1/A/A1/log?tail=2");
    assert_eq!(code, 200, "{log}");
    assert!(log["text"].as_str().unwrap().contains("result"), "{log}");
    assert_eq!(log["text"].as_str().unwrap().lines().count(), 2, "{log}");
    assert_eq!(s.get("/api/v1/tasks/1/A/..%2F..%2Fetc/log").0, 400);
    assert_eq!(s.get("/api/v1/tasks/1/..%2F/A1/log").0, 400);
    assert_eq!(s.get("/api/v1/tasks/1/A/A9/log").0, 404);
    assert_eq!(s.get("/api/v1/tasks/1/A/A1/log?tail=x").0, 400);

    // The OpenAPI document and the dashboard are served.
    let (code, api) = s.get("/api/v1/openapi.json");
    assert_eq!(code, 200);
    assert!(api["paths"]["/runs/{id}/stop"]["post"].is_object(), "{api}");
    let (code, page) = s.get_with("/", None);
    assert_eq!(code, 200);
    assert!(page.as_str().unwrap().contains("EventSource"));
}

#[test]
fn a_run_started_from_the_cli_shows_on_events_and_makes_post_runs_409() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: sleep 1.5"),
        ("A2", "FAKE: write a2.txt x"),
    ]));
    let s = Server::start(&p, None);
    let live = s.events(None);
    let mut cli = p
        .cmd()
        .args(["run", "--no-push"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the CLI run to take the lock", 20, || {
        p.read(".git/roadmap-runner.lock").contains("pid=")
    });
    let (code, body) = s.get("/api/v1/status");
    assert_eq!(code, 200);
    assert!(body["running"].is_string(), "{body}");
    let (code, body) = s.post("/api/v1/runs", "{}");
    assert_eq!(code, 409, "{body}");
    // Other sites' pages are refused: a cross-origin POST, a rebound host name.
    let (code, body) = s.post_with("/api/v1/runs", "{}", &[("origin", "http://evil.example")]);
    assert_eq!(code, 403, "{body}");
    assert!(raw_get(&s, "/api/v1/status", "evil.example:7474").starts_with("HTTP/1.1 403"));
    assert!(raw_get(&s, "/api/v1/status", "localhost").starts_with("HTTP/1.1 200"));

    let events = until_run_finished(&live, 30);
    assert!(cli.wait().unwrap().success());
    assert_eq!(finished_tasks(&events), ["A1", "A2"]);
    assert!(events[0].0.starts_with("events_"), "{:?}", events[0].0);
}

#[test]
fn stop_ends_a_run_like_sigterm() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: sleep 30")]));
    let s = Server::start(&p, None);
    let (code, started) = s.post("/api/v1/runs", r#"{"no_push": true, "timeout": 60}"#);
    assert_eq!(code, 202, "{started}");
    let id = started["id"].as_str().unwrap();
    wait_for("the agent to start", 20, || !p.agent_starts().is_empty());
    let (code, _) = s.post(&format!("/api/v1/runs/{id}/stop"), "");
    assert_eq!(code, 200);
    wait_for("the run to stop", 20, || {
        s.get(&format!("/api/v1/runs/{id}")).1["state"] == "finished"
    });
    let (_, run) = s.get(&format!("/api/v1/runs/{id}"));
    assert_eq!(run["exit_code"], 143, "{run}");
    assert_eq!(run["summary"]["exit_code"], 143, "{run}");
    // Nothing holds the lock any more.
    wait_for("the lock to be free", 10, || {
        s.get("/api/v1/status").1["running"].is_null()
    });
    assert_eq!(s.post("/api/v1/runs/nope/stop", "").0, 404);
    // A finished run has nothing to stop.
    let (code, body) = s.post(&format!("/api/v1/runs/{id}/stop"), "");
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("has finished"),
        "{body}"
    );
}

/// What the run would refuse before it starts is refused by `POST /runs`:
/// 400 with the message alone, and nothing started (no run listed, no lock
/// taken, no events file written, no agent).
#[test]
fn bad_run_options_are_refused_before_anything_starts() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: write a1.txt x")]));
    let s = Server::start(&p, None);
    for (body, expected) in [
        (r#"{"groups": ["x"]}"#, "--group x: expected PHASE:GROUP"),
        (r#"{"groups": ["1:Z"]}"#, "the roadmap has no such group"),
        (r#"{"phases": ["9"]}"#, "the roadmap has no phase 9"),
        (r#"{"task": ""}"#, "expected PHASE:GROUP:TASK"),
        (r#"{"task": "1:A:A9"}"#, "has no task A9"),
        (r#"[["2"]]"#, "the body must be a JSON object"),
        (r#""2""#, "the body must be a JSON object"),
        (r#"{"max_parallel": 0}"#, "max_parallel: at least 1 agent"),
        (
            r#"{"timeout": 0}"#,
            "timeout: the time limit must be more than zero",
        ),
        (r#"{"max_cost": -1}"#, "max_cost: `-1` is not an amount"),
        (r#"{"isolation": "nowhere"}"#, "unknown variant `nowhere`"),
    ] {
        let (code, answer) = s.post("/api/v1/runs", body);
        assert_eq!(code, 400, "{body}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {answer}");
        assert!(
            !message.starts_with("20") && !message.starts_with("error:"),
            "{body}: the message carries a log prefix: {answer}"
        );
    }
    let (_, runs) = s.get("/api/v1/runs");
    assert_eq!(runs["runs"], serde_json::json!([]), "{runs}");
    assert!(!p.dir.join(".git/roadmap-runner.lock").exists());
    let events = std::fs::read_dir(p.dir.join("logs/orchestrator"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(events, 0, "a refused start wrote logs");
    assert!(p.agent_starts().is_empty());
    // A good value still starts a run (with the options the CLI has).
    let (code, started) = s.post(
        "/api/v1/runs",
        r#"{"isolation": "worktree", "fix_attempts": 0, "write_back": true, "no_push": true}"#,
    );
    assert_eq!(code, 202, "{started}");
    assert!(
        started["run"]["args"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("--isolation=worktree")),
        "{started}"
    );
    let id = started["id"].as_str().unwrap();
    wait_for("the run to end", 60, || {
        s.get(&format!("/api/v1/runs/{id}")).1["state"] == "finished"
    });
    let (_, run) = s.get(&format!("/api/v1/runs/{id}"));
    assert_eq!(run["exit_code"], 0, "{run}");
}

#[test]
fn a_non_loopback_bind_needs_a_key() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    let out = p
        .cmd()
        .args(["serve", "--bind", "0.0.0.0:0"])
        .env_remove("ROADMAP_RUNNER_API_KEY")
        .output()
        .unwrap();
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("without an API key"),
        "{}",
        stderr(&out)
    );
    let out = p
        .cmd()
        .args([
            "serve",
            "--bind",
            "0.0.0.0:0",
            "--api-key-file",
            "/nonexistent/key",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("cannot read the API key file"),
        "{}",
        stderr(&out)
    );
    let out = p
        .cmd()
        .args(["serve", "--bind", "nowhere"])
        .output()
        .unwrap();
    assert_exit(&out, 64);
    // With a key from a file, the same address is served.
    p.write("key.txt", "from-a-file\n");
    let mut serve = p
        .cmd()
        .args(["serve", "--bind", "0.0.0.0:0", "--api-key-file", "key.txt"])
        .env_remove("ROADMAP_RUNNER_API_KEY")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut err = std::io::BufReader::new(serve.stderr.take().unwrap());
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    serve.kill().unwrap();
    serve.wait().unwrap();
    assert!(line.contains("listening on http://0.0.0.0:"), "{line}");
}

/// A GET with a chosen `Host` header; the response's head.
fn raw_get(s: &Server, path: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).unwrap();
    text
}
