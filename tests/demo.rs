//! `roadmap-runner demo`: the README's first command, from the real binary,
//! and the simulated agent it runs (`__simulate-agent`).

mod common;

use common::*;
use roadmap_runner::demo::agent::{NEEDS_VERBOSE, NO_INPUT};
use roadmap_runner::demo::files::FILES;
use roadmap_runner::demo::project::INITIAL_COMMIT;
use roadmap_runner::demo::split;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn demo(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("demo")
        .args(args)
        .env_remove("CLAUDE_BIN")
        .stdin(Stdio::null())
        .output()
        .expect("the demo starts")
}

/// The path after `prefix` on the line that starts with it.
fn path_after(text: &str, prefix: &str, end: &str) -> PathBuf {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{text}"));
    PathBuf::from(line.split(end).next().unwrap().trim())
}

/// Removes the kept demo directory even when an assertion fails.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn demo_keep_runs_both_phases_and_pushes_one_commit_per_phase() {
    let out = demo(&["--keep"]);
    let text = stdout(&out);
    let root = path_after(&text, "Kept in ", "\n");
    let _cleanup = Cleanup(root.clone());
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        root.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("roadmap-runner-demo-"),
        "{root:?}"
    );
    // Plain lines (stdout is a pipe), with the phase commits and pushes.
    assert!(
        !text.contains('\x1b'),
        "escape codes in piped output:\n{text}"
    );
    for line in [
        "[COMMIT] Phase 1: Catalog committed",
        "[PUSH] Phase 1: 1 commit pushed to origin/main",
        "[COMMIT] Phase 2: Checkout committed",
        "[PUSH] Phase 2: 1 commit pushed to origin/main",
        "Run complete",
        " Complete Phase 1: Catalog\n",
        " Complete Phase 2: Checkout\n",
        // The demo's one broken file is mended by a repair agent.
        "[GATE] Phase 2 Group C: gate FAILED",
        "repair-1",
        // D1 splits itself into a sub-roadmap of 3 tasks in 2 groups.
        "[SPLIT] 2:D:D1 split into a sub-roadmap of 3 tasks: 2 groups to go",
        "[GROUP] D1 Checkout: split: 0/3 sub-tasks done",
        "[GATE]   Phase 2 Group D:D1/1:A: gate passed",
        "[GATE]   Phase 2 Group D:D1/1:B: gate passed",
        "[NOTE] 2:D:D1: its sub-roadmap is complete, so it succeeded",
        "12/12 tasks succeeded, 1 repair, 6 groups completed,",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    let report = std::fs::read_to_string(root.join("shop/PHASE2-GROUP-C-STATUS.md")).unwrap();
    assert!(
        report.contains("Repairs: 1, gate passed after attempt 1"),
        "{report}"
    );
    let discounts = std::fs::read_to_string(root.join("shop/src/discounts.js")).unwrap();
    assert!(
        discounts.contains("export function applyDiscount(totalCents, code) {"),
        "{discounts}"
    );
    assert!(text.contains("/shop && "), "no cd hint in:\n{text}");
    assert!(text.contains(" status\n"), "no status hint in:\n{text}");

    let origin = root.join("origin.git");
    let subjects: Vec<String> = git(&origin, &["log", "--format=%s", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        subjects,
        [
            "Complete Phase 2: Checkout",
            "Complete Phase 1: Catalog",
            INITIAL_COMMIT
        ]
    );
    // Each phase's commit holds its own work, and the remote has all of it.
    let phase1 = git(&origin, &["ls-tree", "-r", "--name-only", "main~1"]);
    let phase2 = git(&origin, &["ls-tree", "-r", "--name-only", "main"]);
    for f in FILES {
        let in_phase1 = phase1.lines().any(|l| l == f.path);
        assert_eq!(in_phase1, f.group.starts_with("PHASE_1"), "{}", f.path);
        assert!(phase2.lines().any(|l| l == f.path), "{} not pushed", f.path);
    }

    let shop = root.join("shop");
    assert_eq!(
        read(&shop, "status/completed_tasks.txt"),
        "PHASE_1:A\nPHASE_1:B\nPHASE_2:C\nPHASE_2:D:D1/1:A\nPHASE_2:D:D1/1:B\nPHASE_2:D\n"
    );
    // The plan D1's agent wrote is kept and committed, and the phase's
    // commit message lists its sub-tasks under it.
    assert_eq!(read(&shop, "status/sub/2+3AD+3AD1.md"), split::PLAN);
    assert!(
        phase2.lines().any(|l| l == "status/sub/2+3AD+3AD1.md"),
        "{phase2}"
    );
    let message = git(&origin, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("- D1: Checkout\n  - 2:D:D1/1:A:A1: Cart validation\n"),
        "{message}"
    );
    for report in [
        "PHASE1-GROUP-A-STATUS.md",
        "PHASE1-GROUP-B-STATUS.md",
        "PHASE2-GROUP-C-STATUS.md",
        "PHASE2-GROUP-D-STATUS.md",
    ] {
        assert!(shop.join(report).is_file(), "no {report}");
    }
    // The agents wrote exactly what the roadmap asked for.
    for f in FILES {
        assert_eq!(read(&shop, f.path), f.content, "{}", f.path);
    }
    assert_eq!(git(&shop, &["status", "--porcelain"]), "", "dirty tree");
    // The local branch tracks the remote and is level with it.
    assert_eq!(
        git(&shop, &["rev-parse", "main"]),
        git(&origin, &["rev-parse", "main"])
    );
    assert_eq!(
        git(&shop, &["rev-parse", "--abbrev-ref", "main@{upstream}"]).trim(),
        "origin/main"
    );

    // The kept project works with the ordinary commands.
    let logs = Command::new(bin())
        .args(["logs", "1:A:A1"])
        .current_dir(&shop)
        .output()
        .unwrap();
    assert_eq!(logs.status.code(), Some(0), "{}", stderr(&logs));
    let logs = stdout(&logs);
    assert!(logs.contains("Working on A1: Product catalog"), "{logs}");
    assert!(logs.contains("→ Write src/catalog.js"), "{logs}");
    let gate = Command::new(bin())
        .arg("gate")
        .current_dir(&shop)
        .output()
        .unwrap();
    assert_eq!(gate.status.code(), Some(0), "{}", stdout(&gate));
}

/// `demo --workers 2`: the same run, its tasks on two workers through a
/// real nats-server (the cluster tests' server; `.ci/run` installs it).
#[test]
fn demo_with_workers_spreads_the_tasks_and_still_pushes_both_phases() {
    let out = demo(&["--keep", "--workers", "2"]);
    let text = stdout(&out);
    let root = path_after(&text, "Kept in ", "\n");
    let _cleanup = Cleanup(root.clone());
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for w in ["demo-1", "demo-2"] {
        assert!(
            text.lines().any(|l| l.contains("[START]")
                && l.ends_with(".log")
                && l.contains(&format!("on worker {w}"))),
            "no task started on {w}:\n{text}"
        );
    }
    let workers = text
        .lines()
        .find(|l| l.starts_with("Workers (through NATS JetStream"))
        .unwrap_or_else(|| panic!("no workers line:\n{text}"));
    let ran: usize = workers
        .split(" ran ")
        .skip(1)
        .map(|s| {
            s.split(',')
                .next()
                .unwrap()
                .trim()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    // The 9 tasks, D1 among them, and the 3 of its sub-roadmap.
    assert_eq!(ran, 12, "{workers}");
    assert!(
        text.contains("[SPLIT] 2:D:D1 split into a sub-roadmap of 3 tasks"),
        "{text}"
    );
    // The phases are on the remote, and nothing of the workers is left there.
    let origin = root.join("origin.git");
    let log = git(&origin, &["log", "--format=%s", "main"]);
    assert!(
        log.contains("Complete Phase 1: Catalog") && log.contains("Complete Phase 2: Checkout"),
        "{log}"
    );
    let refs = git(&origin, &["for-each-ref", "--format=%(refname)"]);
    assert_eq!(refs.trim(), "refs/heads/main", "{refs}");
    // The server and the workers are gone with the demo.
    let server_log = std::fs::read_to_string(root.join("nats/server.log")).unwrap();
    assert!(server_log.contains("Server Exiting"), "{server_log}");
}

#[test]
fn demo_without_keep_removes_its_directory() {
    let out = demo(&[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let root = path_after(&text, "Removed ", " (");
    let _cleanup = Cleanup(root.clone());
    assert!(!root.exists(), "{root:?} is still there");
    assert!(text.contains("--keep"), "{text}");
    assert!(!text.contains("Kept in "), "{text}");
    assert!(
        !text.contains("&& "),
        "a cd hint for a removed directory:\n{text}"
    );
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_default()
}

/// The simulated agent, run like the runner runs an agent: prompt on stdin.
fn simulate(dir: &Path, args: &[&str], prompt: &str) -> Output {
    let mut child = Command::new(bin())
        .arg("__simulate-agent")
        .args(args)
        .current_dir(dir)
        .env("ROADMAP_TASK_ID", "C1")
        .env("ROADMAP_TASK_TITLE", "Cart")
        .env("IS_SANDBOX", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // An agent that refuses its options exits before reading the prompt (as
    // the real CLI does): the pipe is then closed, which is no test failure.
    let written = child.stdin.take().unwrap().write_all(prompt.as_bytes());
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

#[test]
fn simulated_agent_refuses_stream_json_without_verbose_like_claude() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(
        dir.path(),
        &["-p", "--output-format", "stream-json"],
        "Create file: src/cart.js\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), format!("{NEEDS_VERBOSE}\n"));
    assert_eq!(stdout(&out), "");
    assert!(!dir.path().join("src/cart.js").exists());

    // An empty prompt is refused too.
    let out = simulate(
        dir.path(),
        &["-p", "--output-format", "stream-json", "--verbose"],
        "  \n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), format!("{NO_INPUT}\n"));
}

#[test]
fn simulated_agent_prints_stream_json_and_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(
        dir.path(),
        &[
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--dangerously-skip-permissions",
        ],
        "# Your task: C1 — Cart\n\nCreate file: `src/cart.js`\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events[0]["type"], "system");
    assert_eq!(events[0]["subtype"], "init");
    let session = events[0]["session_id"].as_str().unwrap();
    let write = events
        .iter()
        .find(|e| e["message"]["content"][0]["type"] == "tool_use")
        .expect("a tool_use event");
    assert_eq!(write["message"]["content"][0]["name"], "Write");
    let result = events.last().unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["is_error"], false);
    assert_eq!(result["session_id"], session);
    assert!(result["total_cost_usd"].as_f64().unwrap() > 0.0);
    for key in ["num_turns", "duration_ms", "usage", "result"] {
        assert!(!result[key].is_null(), "no {key} in {result}");
    }
    let cart = FILES.iter().find(|f| f.path == "src/cart.js").unwrap();
    assert_eq!(read(dir.path(), "src/cart.js"), cart.content);
}

#[test]
fn the_simulated_agent_is_hidden_and_demo_is_listed() {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    let help = stdout(&out);
    assert!(help.contains("demo"), "{help}");
    assert!(!help.contains("__simulate-agent"), "{help}");
}
