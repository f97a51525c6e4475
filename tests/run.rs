//! `run` end to end with the real binary and the fake agent: parallelism,
//! timeouts, signals, the lock, usage limits, auth failure, injection, dry run.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::Stdio;

#[test]
fn parallelism_never_exceeds_the_limit_and_reaches_it() {
    let p = Project::new(&roadmap_of_same_tasks(6, "FAKE: sleep 0.6"));
    let out = p.run(&["--max-parallel", "2", "--no-push", "--no-commit"]);
    assert_exit(&out, 0);

    // Sweep the start/end records in time order to find the peak concurrency.
    let mut points: Vec<(f64, i32)> = p
        .agent_events()
        .iter()
        .map(|e| {
            if e["event"] == "start" {
                (e["start"].as_f64().expect("start time"), 1)
            } else {
                (e["end"].as_f64().expect("end time"), -1)
            }
        })
        .collect();
    assert_eq!(points.len(), 12, "6 starts and 6 ends");
    points.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (mut live, mut peak) = (0, 0);
    for (_, d) in points {
        live += d;
        peak = peak.max(live);
    }
    assert_eq!(peak, 2);
}

#[test]
fn env_var_sets_parallelism() {
    let p = Project::new(&roadmap_of_same_tasks(3, "FAKE: sleep 0.4"));
    let out = p
        .cmd()
        .args(["--no-commit"])
        .env("MAX_PARALLEL_AGENTS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ev = p.agent_events();
    // With one slot, every start follows the previous end.
    let kinds: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["start", "end", "start", "end", "start", "end"]);
}

#[test]
fn timeout_kills_the_whole_process_tree() {
    let p = Project::new(&roadmap_with_tasks(&[(
        "A1",
        "FAKE: grandchild 1000\nFAKE: ignore-term\nFAKE: hang",
    )]));
    let pidfile = p.tmp.path().join("grandchild.pid");
    let out = p
        .cmd()
        .args(["--timeout", "1", "--no-commit"])
        .env("FAKE_AGENT_GRANDCHILD_PIDFILE", &pidfile)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("timed out"), "{}", stdout(&out));
    // The next step names the limit in force and how to raise it.
    assert!(
        stdout(&out).contains(
            "next: the time limit per task is 1.0s (--timeout / TASK_TIMEOUT / [run] timeout); if the task needs longer, raise it: `TASK_TIMEOUT=2s roadmap-runner`"
        ),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("fix the cause"), "{}", stdout(&out));
    let agent_pid = p.agent_starts()[0]["pid"].as_i64().unwrap() as i32;
    let grandchild: i32 = std::fs::read_to_string(&pidfile)
        .expect("grandchild pid written")
        .trim()
        .parse()
        .unwrap();
    assert!(!alive(agent_pid), "agent {agent_pid} survived");
    assert!(!alive(grandchild), "grandchild {grandchild} survived");
}

fn spawn_runner(p: &Project, args: &[&str]) -> std::process::Child {
    p.cmd()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigterm_to_the_runner_leaves_no_process() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: grandchild 1000\nFAKE: hang"),
        ("A2", "FAKE: ignore-term\nFAKE: hang"),
        ("A3", "FAKE: hang"),
    ]));
    let pidfile = p.tmp.path().join("grandchild.pid");
    let mut cmd = p.cmd();
    cmd.args(["--no-commit", "--max-parallel", "3"])
        .env("FAKE_AGENT_GRANDCHILD_PIDFILE", &pidfile)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_for("three agents to start", 20, || {
        p.agent_starts().len() == 3 && pidfile.exists()
    });
    let runner_pid = child.id() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(runner_pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 143);
    let mut pids: Vec<i32> = p
        .agent_starts()
        .iter()
        .map(|e| e["pid"].as_i64().unwrap() as i32)
        .collect();
    pids.push(
        std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap(),
    );
    for pid in pids {
        assert!(!alive(pid), "process {pid} survived the runner");
    }
    assert!(
        stdout(&out).contains("Interrupted by SIGTERM"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn ctrl_c_labels_the_stopped_tasks_interrupted_and_a_plain_rerun_goes_on() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: write notes/a1.txt x"),
        ("A2", "FAKE: hang"),
        ("A3", "FAKE: hang"),
    ]));
    let child = spawn_runner(&p, &["--no-commit", "--max-parallel", "3"]);
    wait_for("A1 done, A2 and A3 running", 20, || {
        p.agent_starts().len() == 3 && p.dir.join("notes/a1.txt").exists()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    let text = stdout(&out);
    assert!(
        text.contains("Phase 1 Group A: 1 succeeded, 2 interrupted, "),
        "{text}"
    );
    assert!(!text.contains("failed"), "nothing failed:\n{text}");
    assert!(
        text.contains("(1/3 tasks succeeded, 2 interrupted, 0 groups completed, "),
        "{text}"
    );
    assert!(
        text.contains("next: run roadmap-runner again, as it is (no flag needed): the interrupted tasks run again"),
        "{text}"
    );
    // And so it does: only the two interrupted tasks run again.
    std::fs::write(
        p.dir.join("ROADMAP.md"),
        roadmap_with_tasks(&[("A1", "FAKE: write notes/a1.txt x"), ("A2", ""), ("A3", "")]),
    )
    .unwrap();
    let again = p.run(&["--no-commit"]);
    assert_exit(&again, 0);
    let ids = p.agent_task_ids();
    assert_eq!(ids.iter().filter(|t| *t == "A1").count(), 1, "{ids:?}");
}

#[test]
fn resume_notes_are_information_not_warnings() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", ""), ("A2", "FAKE: fail")]));
    assert_exit(&p.run(&["--no-commit"]), 1);
    let plain = p.run(&["--no-commit"]);
    assert_exit(&plain, 1);
    let text = stdout(&plain);
    assert!(
        text.contains("[NOTE] PHASE_1:A: resuming: A1 succeeded in an earlier run; running A2"),
        "{text}"
    );
    assert!(!text.contains("[WARN]"), "{text}");
    let json = p.run(&["--no-commit", "--json"]);
    let note = stdout(&json)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "note")
        .unwrap_or_else(|| panic!("a note event:\n{}", stdout(&json)));
    assert!(
        note["message"].as_str().unwrap().contains("resuming: A1"),
        "{note}"
    );
}

#[test]
fn a_second_runner_is_refused_with_75_while_one_runs() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: sleep 30")]));
    let mut first = spawn_runner(&p, &["--no-commit"]);
    wait_for("the first agent", 20, || !p.agent_starts().is_empty());
    let second = p.run(&["--no-commit"]);
    assert_eq!(second.status.code(), Some(75), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains(&format!("pid={}", first.id())), "{err}");
    first.kill().unwrap();
    first.wait().unwrap();
    // SIGKILL left the lock file behind, but not the lock: the next run starts.
    let third = p.run(&["--dry-run"]);
    assert_eq!(third.status.code(), Some(0));
    let p2 = p.run(&["--no-commit", "--task", "1:A:A1", "--timeout", "1"]);
    assert_ne!(p2.status.code(), Some(75), "{}", stderr(&p2));
}

#[test]
fn usage_limit_waits_for_the_reset_and_resumes_the_session() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: rate-limit 2")]));
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("usage limit reached"), "{text}");
    let starts = p.agent_starts();
    assert_eq!(starts.len(), 2, "one limited run, one resumed run");
    let argv: Vec<String> = serde_json::from_value(starts[1]["argv"].clone()).unwrap();
    let i = argv.iter().position(|a| a == "--resume").expect("resumed");
    assert!(!argv[i + 1].is_empty());
    // The second start came after the reset time (2 s after the first).
    let gap = starts[1]["start"].as_f64().unwrap() - starts[0]["start"].as_f64().unwrap();
    assert!(gap >= 1.5, "resumed after only {gap}s");
}

#[test]
fn auth_failure_stops_the_run_with_login_advice() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: auth-fail"),
        ("A2", "FAKE: sleep 0.1"),
        ("A3", "FAKE: sleep 0.1"),
    ]));
    let out = p.run(&["--no-commit", "--max-parallel", "1"]);
    assert_exit(&out, 5);
    let text = stdout(&out);
    assert!(text.contains("Not logged in"), "{text}");
    assert!(text.contains("claude setup-token"), "{text}");
    assert_eq!(
        p.agent_starts().len(),
        1,
        "nothing launched after the auth failure"
    );
}

#[test]
fn roadmap_text_is_never_executed() {
    let roadmap = "# T\n\n## Phase 1: P\n\n### Group A\n\n\
        - A1: $(touch pwned1)\n  - `touch pwned2`; touch pwned3 && touch pwned4\n\
        - A2: \"; touch pwned5; echo \"\n";
    let p = Project::new(roadmap);
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    for i in 1..=5 {
        assert!(
            !p.dir.join(format!("pwned{i}")).exists(),
            "pwned{i} created"
        );
    }
    assert!(stdout(&out).contains("$(touch pwned1)"), "{}", stdout(&out));
}

/// Every file under the project with its content.
fn snapshot(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: write x.txt hi"),
        ("A2", ""),
    ]));
    let before = snapshot(&p.dir);
    let out = p.cmd().env("DRY_RUN", "1").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Phase 1 Group A"), "{text}");
    assert!(
        text.contains("-p --output-format stream-json --verbose --dangerously-skip-permissions"),
        "{text}"
    );
    assert!(text.contains("A2 Task A2"), "{text}");
    assert_eq!(before, snapshot(&p.dir), "dry run changed the project");
    assert!(p.agent_events().is_empty(), "dry run started an agent");
}

#[test]
fn failed_task_fails_the_run_with_its_log_and_outcome() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: fail 3"),
        ("A2", "FAKE: error-result"),
        ("A3", "FAKE: sleep 0.1"),
    ]));
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("2/3 tasks") || text.contains("1/3 tasks"),
        "{text}"
    );
    assert!(
        text.contains("logs/orchestrator/phase1_groupA_A1_"),
        "{text}"
    );
    // The rest of the group finished; the group is not complete.
    assert_eq!(p.agent_starts().len(), 3);
    assert!(!p.read("status/completed_tasks.txt").contains("PHASE_1:A"));
}

#[test]
fn retries_run_a_failed_task_again() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: fail 2")]));
    let out = p.run(&["--no-commit", "--retries", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(p.agent_starts().len(), 3, "1 attempt + 2 retries");
}

#[test]
fn missing_agent_is_a_preflight_failure_naming_path() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    let out = p
        .cmd()
        .env("CLAUDE_BIN", "definitely-not-an-agent")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("definitely-not-an-agent"), "{err}");
    assert!(err.contains("/usr/bin:/bin"), "{err}");
}

#[test]
fn root_without_sandbox_is_refused_before_launch() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    let out = p.cmd().env_remove("IS_SANDBOX").output().unwrap();
    if nix::unistd::geteuid().is_root() {
        // Claude refuses --dangerously-skip-permissions as root: said first.
        assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
        assert!(stderr(&out).contains("IS_SANDBOX=1"), "{}", stderr(&out));
        assert!(p.agent_events().is_empty());
    } else {
        // Not root: nothing to refuse, the run goes on.
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stderr(&out).contains("IS_SANDBOX"), "{}", stderr(&out));
    }
}

#[test]
fn not_a_git_repo_is_a_preflight_failure() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    std::fs::remove_dir_all(p.dir.join(".git")).unwrap();
    let out = p.run(&[]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn status_during_a_run_shows_the_running_tasks_and_after_a_kill_the_interruption() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: sleep 30"),
        ("A2", "FAKE: sleep 30"),
    ]));
    let mut runner = spawn_runner(&p, &["--no-commit"]);
    wait_for("both agents", 20, || p.agent_starts().len() == 2);
    wait_for("the in-progress file", 10, || {
        p.read("status/in_progress_tasks.txt")
            .contains("PHASE_1:A:A2")
    });
    let out = p.run(&["status"]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("Running now: pid={}", runner.id())),
        "{text}"
    );
    assert!(text.contains("  PHASE_1:A, for "), "{text}");
    assert!(text.contains("    A1 running for "), "{text}");
    assert!(
        text.contains("logs/orchestrator/phase1_groupA_A2_"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&p.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["in_progress"]["group"], "PHASE_1:A");
    assert_eq!(json["in_progress"]["tasks"].as_array().unwrap().len(), 2);

    runner.kill().unwrap();
    runner.wait().unwrap();
    let text = stdout(&p.run(&["status"]));
    assert!(!text.contains("Running now"), "{text}");
    assert!(
        text.contains(
            "Note: the previous run was interrupted during PHASE_1:A (tasks A1, A2 were running)"
        ) || text.contains(
            "Note: the previous run was interrupted during PHASE_1:A (tasks A2, A1 were running)"
        ),
        "{text}"
    );
    // Leave no agent behind: the next run kills the orphans it finds.
    for e in p.agent_starts() {
        let pid = e["pid"].as_i64().unwrap() as i32;
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[test]
fn fail_fast_stops_the_rest_of_the_group() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: sleep 0.3\nFAKE: fail 1"),
        ("A2", "FAKE: hang"),
        ("A3", "FAKE: sleep 0.1"),
    ]));
    let out = p.run(&["--no-commit", "--max-parallel", "2", "--fail-fast"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("A2 Task A2  interrupted"), "{text}");
    assert!(text.contains("A3 Task A3  not started"), "{text}");
    for e in p.agent_starts() {
        assert!(!alive(e["pid"].as_i64().unwrap() as i32));
    }
}

#[test]
fn a_grandchild_holding_the_output_open_does_not_hang_the_run() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: grandchild 1000")]));
    let pidfile = p.tmp.path().join("grandchild.pid");
    let out = p
        .cmd()
        .args(["--no-commit"])
        .env("FAKE_AGENT_GRANDCHILD_PIDFILE", &pidfile)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let grandchild: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !alive(grandchild),
        "grandchild {grandchild} outlived its task"
    );
}

#[test]
fn an_unknown_prompt_placeholder_stops_the_run_before_any_agent() {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "")]),
        "[agent]\nprompt_template = \"prompt.md\"\n",
    );
    p.write("prompt.md", "Do {{task_id}} for {{custmer}}\n");
    let out = p.run(&["--no-commit"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("custmer"), "{err}");
    assert!(
        err.contains("task_title"),
        "names the known variables: {err}"
    );
    assert!(p.agent_events().is_empty());
}

#[test]
fn dry_run_warns_about_what_would_stop_a_real_run() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    let out = p
        .cmd()
        .args(["--dry-run"])
        .env("CLAUDE_BIN", "no-such-agent-here")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out)
            .contains("warning: a real run would stop here: agent `no-such-agent-here` not found"),
        "{}",
        stderr(&out)
    );
}
