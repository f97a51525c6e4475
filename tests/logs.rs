//! `roadmap-runner logs` with the real binary against hand-written logs.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SESSION: &str = "9f1c2d3e-1111-4a2b-8c3d-1234567890ab";

/// A stream-json log as the runner writes it for the fake agent / Claude:
/// init, text, a Write and a Bash tool call with their results, a stderr
/// line, a rate-limit warning, a non-JSON line, the result.
fn agent_log(cwd: &str) -> String {
    [
        format!(
            r#"{{"type":"system","subtype":"init","cwd":"{cwd}","session_id":"{SESSION}","tools":["Task","Bash","Edit","Read","Write"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"none","claude_code_version":"2.1.0","uuid":"u1"}}"#
        ),
        format!(
            r#"{{"type":"assistant","message":{{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{{"type":"text","text":"I'll add the schema first.\nThen the tests."}}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":12,"output_tokens":40}}}},"parent_tool_use_id":null,"session_id":"{SESSION}","uuid":"u2"}}"#
        ),
        format!(
            r#"{{"type":"assistant","message":{{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{{"type":"tool_use","id":"toolu_000000000000000000000001","name":"Write","input":{{"file_path":"{cwd}/src/db.rs","content":"pub fn open() {{}}\n"}}}}],"stop_reason":null,"usage":{{"input_tokens":12,"output_tokens":40}}}},"parent_tool_use_id":null,"session_id":"{SESSION}","uuid":"u3"}}"#
        ),
        format!(
            r#"{{"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_000000000000000000000001","type":"tool_result","content":"File created successfully at: {cwd}/src/db.rs"}}]}},"parent_tool_use_id":null,"session_id":"{SESSION}","uuid":"u4"}}"#
        ),
        format!(
            r#"{{"type":"assistant","message":{{"id":"msg_03","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{{"type":"tool_use","id":"toolu_000000000000000000000002","name":"Bash","input":{{"command":"cargo test --lib","description":"Run the unit tests"}}}}],"stop_reason":null,"usage":{{"input_tokens":12,"output_tokens":40}}}},"parent_tool_use_id":null,"session_id":"{SESSION}","uuid":"u5"}}"#
        ),
        format!(
            r#"{{"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_000000000000000000000002","type":"tool_result","content":"running 3 tests\ntest db::open ... ok\ntest db::close ... ok\ntest db::query ... ok","is_error":false}}]}},"parent_tool_use_id":null,"session_id":"{SESSION}","uuid":"u6"}}"#
        ),
        "[stderr] warning: unused variable `x`".to_string(),
        format!(
            r#"{{"type":"rate_limit_event","rate_limit_info":{{"status":"allowed_warning","resetsAt":1760000000,"rateLimitType":"seven_day","isUsingOverage":false}},"uuid":"r0","session_id":"{SESSION}"}}"#
        ),
        "plain output from a wrapper script".to_string(),
        format!(
            r#"{{"type":"result","subtype":"success","is_error":false,"duration_ms":12034,"duration_api_ms":11020,"num_turns":6,"result":"Implemented A1: the schema and its tests.","session_id":"{SESSION}","total_cost_usd":0.0123,"usage":{{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":5000,"output_tokens":340,"service_tier":"standard"}},"permission_denials":[],"uuid":"u7"}}"#
        ),
    ]
    .map(|l| l + "\n")
    .concat()
}

const READABLE: &str = "\
● session 9f1c2d3e-1111-4a2b-8c3d-1234567890ab (claude-sonnet-4-5-20250929)
I'll add the schema first.
Then the tests.
→ Write src/db.rs
    ↳ File created successfully at: /work/shop/src/db.rs
→ Bash: cargo test --lib
    ↳ running 3 tests (+3 lines)
[stderr] warning: unused variable `x`
· rate limit allowed_warning (seven_day), resets 2025-10-09 08:53
plain output from a wrapper script
✔ result ($0.0123, 6 turns, 12.0s): Implemented A1: the schema and its tests.
";

const FAILED: &str = concat!(
    r#"{"type":"system","subtype":"init","cwd":"/work/shop","session_id":"s2","model":"claude-sonnet-4-5-20250929"}"#,
    "\n",
    r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1760000000,"rateLimitType":"five_hour"},"session_id":"s2"}"#,
    "\n",
    r#"{"type":"assistant","message":{"model":"<synthetic>","content":[{"type":"text","text":"You've hit your session limit · resets 3pm"}]},"session_id":"s2","error":"rate_limit"}"#,
    "\n",
    r#"{"type":"result","subtype":"success","is_error":true,"duration_ms":310,"num_turns":1,"result":"You've hit your session limit · resets 3pm","session_id":"s2","total_cost_usd":0}"#,
    "\n",
);

struct Logs {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Logs {
    fn new() -> Logs {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shop");
        std::fs::create_dir_all(dir.join("logs/orchestrator")).unwrap();
        Logs { _tmp: tmp, dir }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join("logs/orchestrator").join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(["-C", self.dir.to_str().unwrap(), "logs"])
            .args(args)
            .env("TZ", "UTC")
            .env_remove("ROADMAP_FILE")
            .env_remove("RUST_LOG");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
}

#[test]
fn readable_by_default() {
    let l = Logs::new();
    l.write(
        "phase1_groupA_A1_20260109-212750.log",
        &agent_log("/work/shop"),
    );
    let out = l.run(&["1:A:A1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), READABLE);
    assert_eq!(stderr(&out), "");
    // Case and the status-file form do not matter.
    for form in ["PHASE_1:A:A1", "1:a:a1"] {
        assert_eq!(stdout(&l.run(&[form])), READABLE, "{form}");
    }
}

#[test]
fn errors_and_limits_read_as_such() {
    let l = Logs::new();
    l.write("phase2_groupB_B3_20260109-212750.log", FAILED);
    let out = l.run(&["2:B:B3"]);
    assert_eq!(
        stdout(&out),
        "\
● session s2 (claude-sonnet-4-5-20250929)
⏸ rate limit rejected (five_hour), resets 2025-10-09 08:53
✘ api error (rate_limit): You've hit your session limit · resets 3pm
✘ error ($0.0000, 1 turn, 0.3s): You've hit your session limit · resets 3pm
"
    );
}

#[test]
fn raw_prints_the_file_unchanged() {
    let l = Logs::new();
    let text = agent_log("/work/shop") + "a last line without newline";
    l.write("phase1_groupA_A1_20260109-212750.log", &text);
    let out = l.run(&["1:A:A1", "--raw"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), text);
}

#[test]
fn the_latest_log_is_shown() {
    let l = Logs::new();
    let line = |s: &str| format!("plain {s}\n");
    for name in [
        "phase1_groupA_A1_20260109-212750.log",
        "phase1_groupA_A1_20260110-020000.log",
        "phase1_groupA_A1_20260110-020000-2.log",
        "phase1_groupA_A1_20260109-235959-9.log",
        // Other tasks, groups and phases, however recent, are not A1's.
        "phase1_groupA_A12_20270101-000000.log",
        "phase1_groupAB_A1_20270101-000000.log",
        "phase11_groupA_A1_20270101-000000.log",
        "phase1_groupA_gate_20270101-000000.log",
    ] {
        l.write(name, &line(name));
    }
    let out = l.run(&["1:A:A1"]);
    assert_eq!(stdout(&out), line("phase1_groupA_A1_20260110-020000-2.log"));
    l.write("phase1_groupA_A1_20260110-020000-10.log", &line("ten"));
    assert_eq!(stdout(&l.run(&["1:A:A1"])), line("ten"));
}

#[test]
fn gate_logs_are_plain_text() {
    let l = Logs::new();
    let older = "== test: cargo test\nold\n";
    let gate = "== test: cargo test\n{\"type\":\"result\",\"result\":\"json from a test, shown as is\"}\ntest result: ok. 3 passed\n== PASSED\n";
    l.write("phase1_groupA_gate_20260109-212750.log", older);
    l.write("phase1_groupA_gate_20260109-213000.log", gate);
    l.write("phase1_groupA_A1_20260109-220000.log", "not the gate\n");
    for form in ["1:A", "PHASE_1:A", "1:A:gate"] {
        let out = l.run(&[form]);
        assert_eq!(out.status.code(), Some(0), "{form}: {}", stderr(&out));
        assert_eq!(stdout(&out), gate, "{form}");
    }
}

#[test]
fn a_missing_log_says_where_it_looked_and_what_is_there() {
    let l = Logs::new();
    l.write("phase1_groupA_A1_20260109-212750.log", "x\n");
    l.write("phase1_groupA_gate_20260109-213000.log", "x\n");
    l.write("phase2_groupA_A1_20260109-212750.log", "x\n");
    let out = l.run(&["1:A:A2"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let dir = l.dir.canonicalize().unwrap().join("logs/orchestrator");
    assert_eq!(
        stderr(&out),
        format!(
            "error: no log for PHASE_1:A:A2 in {}\nlogs of PHASE_1:A there:\n  phase1_groupA_A1_20260109-212750.log\n  phase1_groupA_gate_20260109-213000.log\n",
            dir.display()
        )
    );

    let out = l.run(&["3:C"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no log for the gate of PHASE_3:C in")
            && stderr(&out).ends_with("no logs of PHASE_3:C there\n"),
        "{}",
        stderr(&out)
    );

    std::fs::remove_dir_all(l.dir.join("logs")).unwrap();
    let out = l.run(&["1:A:A1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

#[test]
fn bad_targets_are_usage_errors() {
    let l = Logs::new();
    for bad in ["1", "A:1", "1:A:../A1"] {
        let out = l.run(&[bad]);
        assert_eq!(out.status.code(), Some(64), "{bad}");
        assert!(stderr(&out).contains("N:X:ID"), "{}", stderr(&out));
    }
}

fn in_progress(l: &Logs, log: &Path) {
    let me = std::process::id();
    let text = format!(
        "# roadmap-runner: running now (rewritten as tasks start and end)\nPHASE_1:B started=2026-01-09T21:27:50+00:00 runner_pid={me}\nPHASE_1:B:B1 started=2026-01-09T21:27:50+00:00 pid={me} log=logs/orchestrator/{}\n",
        log.file_name().unwrap().to_str().unwrap()
    );
    std::fs::create_dir_all(l.dir.join("status")).unwrap();
    std::fs::write(l.dir.join("status/in_progress_tasks.txt"), text).unwrap();
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Waits for the child, bounded; kills it and fails the test when it hangs.
fn wait_output(mut child: std::process::Child, secs: u64) -> Output {
    let end = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("`logs --follow` did not exit: {}", stdout(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn follow_prints_appended_lines_until_the_result() {
    let l = Logs::new();
    let all = agent_log("/work/shop");
    let lines: Vec<&str> = all.lines().collect();
    let log = l.write(
        "phase1_groupB_B1_20260109-212750.log",
        &format!("{}\n", lines[0]),
    );
    in_progress(&l, &log);
    let child = l
        .cmd(&["1:B:B1", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = {
        let log = log.clone();
        let lines: Vec<String> = lines[1..].iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            for line in lines {
                std::thread::sleep(Duration::from_millis(60));
                // Half a line first: it is printed only once complete.
                let (a, b) = line.split_at(line.len() / 2);
                append(&log, a);
                std::thread::sleep(Duration::from_millis(30));
                append(&log, &format!("{b}\n"));
            }
        })
    };
    let out = wait_output(child, 20);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), READABLE);
}

#[test]
fn follow_stops_when_the_task_is_no_longer_running() {
    let l = Logs::new();
    let log = l.write(
        "phase1_groupB_B1_20260109-212750.log",
        "[stderr] starting\n",
    );
    in_progress(&l, &log);
    let child = l
        .cmd(&["1:B:B1", "--follow", "--raw"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    append(&log, "more\n");
    std::thread::sleep(Duration::from_millis(500));
    append(&log, "last words");
    std::fs::write(
        l.dir.join("status/in_progress_tasks.txt"),
        "# roadmap-runner: running now (rewritten as tasks start and end)\n",
    )
    .unwrap();
    let out = wait_output(child, 10);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[stderr] starting\nmore\nlast words");
}

#[test]
fn follow_of_a_finished_task_prints_and_exits() {
    let l = Logs::new();
    l.write("phase1_groupA_A1_20260109-212750.log", "no result line\n");
    // No status/in_progress_tasks.txt: nothing runs.
    let child = l
        .cmd(&["1:A:A1", "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_output(child, 10);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "no result line\n");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let l = Logs::new();
    let big: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    l.write("phase1_groupA_A1_20260109-212750.log", &big);
    let mut child = l
        .cmd(&["1:A:A1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, then close the pipe (as `| head` does).
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut buf).unwrap();
    drop(stdout);
    let out = wait_output(child, 10);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn ctrl_c_stops_following() {
    let l = Logs::new();
    let log = l.write("phase1_groupB_B1_20260109-212750.log", "partial");
    in_progress(&l, &log);
    let child = l
        .cmd(&["1:B:B1", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = wait_output(child, 10);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // What was there is printed, the unfinished last line too.
    assert_eq!(stdout(&out), "partial\n");
}

#[test]
fn a_task_not_in_the_roadmap_is_named_with_the_groups_tasks() {
    let l = Logs::new();
    std::fs::write(
        l.dir.join("ROADMAP.md"),
        "# Shop\n\n## Phase 1: Catalog\n\n### Group A\n\n- A1: Products\n- A2: Prices\n\n### Group B\n\n- B1: Search\n",
    )
    .unwrap();
    l.write("phase1_groupA_A1_20260109-212750.log", "x\n");
    let out = l.run(&["1:A:Z9"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: Phase 1 Group A of ROADMAP.md has no task Z9; its tasks:\n  1:A:A1  Products\n  1:A:A2  Prices\n"
    );
    let out = l.run(&["1:C:C1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: ROADMAP.md has no group 1:C; the groups of phase 1 are 1:A, 1:B\n"
    );
    // A task of the roadmap without a log yet still says "no log".
    let out = l.run(&["1:A:A2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: no log for PHASE_1:A:A2 in "),
        "{}",
        stderr(&out)
    );
}
