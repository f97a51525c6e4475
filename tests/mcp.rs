//! `roadmap-runner mcp` spoken to over stdio as an MCP client would:
//! JSON-RPC lines in, JSON-RPC lines out, nothing else on stdout.

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

struct Client {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
}

impl Client {
    fn start(p: &Project) -> Client {
        Self::start_env(p, &[])
    }

    fn start_env(p: &Project, env: &[(&str, &str)]) -> Client {
        let mut child = p
            .cmd()
            .envs(env.iter().copied())
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mcp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            lines,
            next_id: 0,
        }
    }

    fn send(&mut self, msg: Value) {
        writeln!(self.stdin, "{msg}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// A request and its response; every stdout line must be JSON-RPC.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout is not the protocol: {line:?}: {e}"));
            assert_eq!(msg["jsonrpc"], "2.0", "{line}");
            if msg["id"] == id {
                return msg;
            }
        }
    }

    /// The next line on stdout, as JSON.
    fn next(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("an answer");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
    }

    fn initialize(&mut self) {
        let init = self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}),
        );
        assert!(init["result"].is_object(), "{init}");
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    }

    fn call(&mut self, tool: &str, args: Value) -> Value {
        let msg = self.request("tools/call", json!({"name": tool, "arguments": args}));
        assert!(msg["error"].is_null(), "{tool}: {msg}");
        msg["result"].clone()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_mcp_client_starts_a_run_and_follows_it_to_the_end() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: write a1.txt one"),
        ("A2", "FAKE: write a2.txt two"),
    ]));
    let mut c = Client::start(&p);
    let init = c.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "test", "version": "1"}}),
    );
    assert_eq!(
        init["result"]["serverInfo"]["name"], "roadmap-runner",
        "{init}"
    );
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    c.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    let list = c.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "orchestrate",
            "plan",
            "rollback_group",
            "run_status",
            "skip_group",
            "start_run",
            "status",
            "stop_run",
            "task_log",
            "validate"
        ]
    );
    let start = tools.iter().find(|t| t["name"] == "start_run").unwrap();
    assert_eq!(start["inputSchema"]["type"], "object", "{start}");
    assert!(
        start["inputSchema"]["properties"]["max_parallel"].is_object(),
        "{start}"
    );

    let status = c.call("status", json!({}));
    assert_eq!(status["isError"], false, "{status}");
    assert_eq!(
        status["structuredContent"]["phases"][0]["groups"][0]["tasks"][1]["id"],
        "A2"
    );
    assert!(
        status["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Phase 1 Group A"),
        "{status}"
    );

    let plan = c.call("plan", json!({}));
    assert_eq!(plan["isError"], false, "{plan}");
    // A bad group is a tool error with the CLI's message.
    let bad = c.call("skip_group", json!({"group": "9:Z"}));
    assert_eq!(bad["isError"], true, "{bad}");
    assert!(
        bad["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("is not a group of ROADMAP.md"),
        "{bad}"
    );
    let unknown = c.request(
        "tools/call",
        json!({"name": "start_run", "arguments": {"isolate": "x"}}),
    );
    assert_eq!(unknown["result"]["isError"], true, "{unknown}");
    let text = unknown["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("unknown field `isolate`"), "{unknown}");
    // A run holding the lock (here: this test) makes start_run a tool error.
    let held = roadmap_runner::status::RunLock::acquire(
        &roadmap_runner::status::StatusDir::new(&p.dir).lock_path(),
    )
    .unwrap();
    let locked = c.call("start_run", json!({}));
    assert_eq!(locked["isError"], true, "{locked}");
    assert!(
        locked["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("holds the lock"),
        "{locked}"
    );
    drop(held);

    let started = c.call("start_run", json!({"no_push": true, "max_parallel": 2}));
    assert_eq!(started["isError"], false, "{started}");
    let id = started["structuredContent"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let end = std::time::Instant::now() + Duration::from_secs(60);
    let run = loop {
        let r = c.call("run_status", json!({"id": id}));
        if r["structuredContent"]["state"] == "finished" {
            break r;
        }
        assert!(std::time::Instant::now() < end, "the run did not end: {r}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let run = &run["structuredContent"];
    assert_eq!(run["exit_code"], 0, "{run}");
    assert_eq!(run["summary"]["exit_code"], 0, "{run}");
    let mut done: Vec<&str> = run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task"].as_str().unwrap())
        .collect();
    done.sort();
    assert_eq!(done, ["A1", "A2"]);
    assert_eq!(p.read("a2.txt"), "two\n");
    let stop = c.call("stop_run", json!({"id": id}));
    assert_eq!(stop["isError"], true, "{stop}");
    assert!(
        stop["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("has finished"),
        "{stop}"
    );

    // The agent's result, then the line `logs` ends with: how the attempt ended.
    let log = c.call("task_log", json!({"task": "1:A:A1", "tail": 2}));
    assert_eq!(log["isError"], false, "{log}");
    let text = log["structuredContent"]["text"].as_str().unwrap();
    assert!(text.starts_with("✔ result"), "{log}");
    assert!(text.contains("\n── ended: succeeded (attempt 1, "), "{log}");
    let again = c.call("rollback_group", json!({"group": "1:A"}));
    assert!(
        again["structuredContent"]["message"]
            .as_str()
            .unwrap()
            .contains("pending again"),
        "{again}"
    );
}

/// Input JSON-RPC asks an answer for gets it: an unparseable line `-32700`
/// with `"id": null`, arguments that are not an object `-32602`; a
/// `start_run` the run would refuse is a tool error and starts nothing.
#[test]
fn bad_input_gets_the_answers_json_rpc_and_the_cli_give() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: write a1.txt one")]));
    let mut c = Client::start(&p);
    c.initialize();

    writeln!(c.stdin, "{{\"jsonrpc\": \"2.0\", \"id\": 1,").unwrap();
    c.stdin.flush().unwrap();
    let parse = c.next();
    assert_eq!(parse["error"]["code"], -32700, "{parse}");
    assert!(parse.get("id").is_some_and(Value::is_null), "{parse}");

    let args = c.request(
        "tools/call",
        json!({"name": "start_run", "arguments": [["2"]]}),
    );
    assert_eq!(args["error"]["code"], -32602, "{args}");

    for (options, expected) in [
        (json!({"groups": ["x"]}), "--group x: expected PHASE:GROUP"),
        (json!({"phases": ["9"]}), "the roadmap has no phase 9"),
        (json!({"task": ""}), "expected PHASE:GROUP:TASK"),
        (json!({"max_parallel": 0}), "max_parallel: at least 1 agent"),
    ] {
        let refused = c.call("start_run", options.clone());
        assert_eq!(refused["isError"], true, "{options}: {refused}");
        let text = refused["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(expected), "{options}: {refused}");
        assert!(!text.starts_with("20"), "{options}: log prefix: {refused}");
    }
    let none = c.call("run_status", json!({}));
    assert_eq!(none["isError"], true, "no run was started: {none}");
    assert!(!p.dir.join(".git/roadmap-runner.lock").exists());
    assert!(p.agent_starts().is_empty());

    // The input schema is the options' schema: every run option, its bounds.
    let list = c.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let start = tools.iter().find(|t| t["name"] == "start_run").unwrap();
    let props = &start["inputSchema"]["properties"];
    for name in [
        "isolation",
        "fix_attempts",
        "review",
        "max_cost",
        "write_back",
    ] {
        assert!(props[name].is_object(), "{name}: {start}");
    }
    assert_eq!(props["max_parallel"]["minimum"], 1, "{start}");
}

/// The `orchestrate` tool: its arguments are those of `POST /orchestrate`;
/// a bad one is `-32602` and starts nothing; a good one drafts the roadmap
/// and runs it to a pushed phase.
#[test]
fn the_orchestrate_tool_drafts_a_roadmap_and_runs_it() {
    let p = Project::new("# x\n");
    git(&p.dir, &["rm", "-q", "ROADMAP.md"]);
    git(&p.dir, &["commit", "-q", "-m", "no roadmap"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    let plan = p.tmp.path().join("answer.md");
    std::fs::write(
        &plan,
        "# Shop\n\n## Phase 1: One\n\n### Group A: Base (Parallel)\n\n- [ ] **A1**: Scaffolding\n  Acceptance: it builds\n- [ ] **A2**: Schema\n  Acceptance: it migrates\n",
    )
    .unwrap();
    let mut c = Client::start_env(&p, &[("FAKE_AGENT_PLANS", plan.to_str().unwrap())]);
    c.initialize();
    for (args, expected) in [
        (json!({"request": ""}), "request: it is empty"),
        (
            json!({"request": "x", "config": {"max_recursion_depth": 7}}),
            "config.max_recursion_depth: 7 is out of range",
        ),
        (
            json!({"request": "x", "config": {"max_workers": 0}}),
            "config.max_workers: at least 1",
        ),
        (
            json!({"request": "x", "workers": 1}),
            "unknown field `workers`",
        ),
        (
            json!({"config": {"max_workers": 2}}),
            "missing field `request`",
        ),
    ] {
        let answer = c.request(
            "tools/call",
            json!({"name": "orchestrate", "arguments": args}),
        );
        assert_eq!(answer["error"]["code"], -32602, "{args}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{args}: {message}");
    }
    assert!(p.agent_starts().is_empty());

    let list = c.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let tool = tools.iter().find(|t| t["name"] == "orchestrate").unwrap();
    assert_eq!(
        tool["inputSchema"]["required"],
        json!(["request"]),
        "{tool}"
    );

    let started = c.call(
        "orchestrate",
        json!({"request": "Build a shop", "config": {"max_workers": 2, "enable_recursion": false}}),
    );
    assert_ne!(started["isError"], true, "{started}");
    let run = &started["structuredContent"];
    assert_eq!(run["request"], "Build a shop", "{started}");
    assert_eq!(run["max_recursion_depth"], 0, "{started}");
    let id = run["id"].as_str().unwrap().to_string();
    let mut status = Value::Null;
    wait_for("the orchestrated run to finish", 60, || {
        status = c.call("run_status", json!({"id": id}))["structuredContent"].clone();
        status["state"] == "finished"
    });
    assert_eq!(status["exit_code"], 0, "{status}");
    assert_eq!(status["tasks"].as_array().unwrap().len(), 2, "{status}");
    assert_eq!(p.origin_log()[0], "Complete Phase 1: One");
}
