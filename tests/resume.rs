//! Resume after a kill at any moment: the real binary, a bare origin, real
//! SIGKILLs (timed, or at a named crash point via ROADMAP_RUNNER_CRASH_AT),
//! then plain reruns that must finish the job with nothing lost, nothing
//! done twice and nothing swept into the wrong commit.

mod common;

use common::*;
use roadmap_runner::status::{InProgress, RecordStore, StatusDir};
use std::process::{Child, Stdio};
use std::time::Duration;

/// A gate that passes when every file named in `gate-needs.txt` exists.
const GATE: &str = r#"[[gate.steps]]
name = "test"
command = "for f in $(cat gate-needs.txt 2>/dev/null); do test -f \"$f\" || { echo \"missing $f\"; exit 1; }; done"
"#;

fn two_phases(sleep: &str) -> String {
    format!(
        "# Shop\n\n## Phase 1: Foundation\n\n### Group A (Parallel)\n\n\
         - A1: Schema\n  - FAKE: sleep {sleep}\n  - FAKE: write db/schema.sql create table t;\n\
         - A2: Scaffold\n  - FAKE: write src/main.txt hello\n  - FAKE: sleep {sleep}\n\n\
         ### Group B\n\n- B1: Accounts\n  - FAKE: sleep {sleep}\n  - FAKE: write src/accounts.txt accounts\n\n\
         ## Phase 2: Features\n\n### Group C\n\n\
         - C1: Cart\n  - FAKE: write src/cart.txt cart\n  - FAKE: sleep {sleep}\n\
         - C2: Checkout\n  - FAKE: sleep {sleep}\n  - FAKE: write src/checkout.txt checkout\n"
    )
}

const PHASE1_FILES: [&str; 3] = ["db/schema.sql", "src/main.txt", "src/accounts.txt"];
const PHASE2_FILES: [&str; 2] = ["src/cart.txt", "src/checkout.txt"];

fn project(sleep: &str) -> Project {
    let p = Project::with_config(&two_phases(sleep), GATE);
    p.write("gate-needs.txt", "");
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-q", "-m", "gate list"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    p
}

fn spawn(p: &Project, args: &[&str], crash_at: Option<&str>) -> Child {
    let mut c = p.cmd();
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(point) = crash_at {
        c.env("ROADMAP_RUNNER_CRASH_AT", point);
    }
    c.spawn().expect("runner starts")
}

/// Runs with a crash point: the run must die of its own SIGKILL there.
fn crash_at(p: &Project, point: &str) {
    let status = spawn(p, &[], Some(point)).wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "the run did not reach `{point}`");
}

fn kill9(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn files_in(p: &Project, rev: &str) -> Vec<String> {
    git(&p.origin, &["ls-tree", "-r", "--name-only", rev])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The remote holds one commit per phase, each with its own work only.
fn assert_one_commit_per_phase(p: &Project) {
    assert_eq!(
        p.origin_log(),
        [
            "Complete Phase 2: Features",
            "Complete Phase 1: Foundation",
            "gate list",
            "initial"
        ]
    );
    let phase1 = files_in(p, "main~1");
    for f in PHASE1_FILES {
        assert!(
            phase1.iter().any(|x| x == f),
            "{f} not in phase 1: {phase1:?}"
        );
    }
    for f in PHASE2_FILES {
        assert!(!phase1.iter().any(|x| x == f), "{f} swept into phase 1");
    }
    let phase2 = files_in(p, "main");
    for f in PHASE2_FILES {
        assert!(
            phase2.iter().any(|x| x == f),
            "{f} not in phase 2: {phase2:?}"
        );
    }
    assert_eq!(p.git_status(), "", "the tree is left dirty");
}

fn assert_status_files_sound(p: &Project) {
    let status = StatusDir::new(&p.dir);
    let (_, warnings) = RecordStore::new(&status).load().unwrap();
    assert!(warnings.is_empty(), "tasks.jsonl: {warnings:?}");
    let (_, warnings) = status.load_completed().unwrap();
    assert!(warnings.is_empty(), "completed_tasks.txt: {warnings:?}");
    let completed = p.read("status/completed_tasks.txt");
    let mut lines: Vec<&str> = completed.lines().collect();
    let n = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), n, "duplicate lines:\n{completed}");
    assert!(InProgress::load(&status).unwrap().is_empty());
}

fn assert_no_agent_left(p: &Project) {
    for e in p.agent_starts() {
        let pid = e["pid"].as_i64().unwrap() as i32;
        assert!(!alive(pid), "agent {pid} ({}) left running", e["task"]);
    }
}

fn count(p: &Project, id: &str) -> usize {
    p.agent_task_ids().iter().filter(|t| *t == id).count()
}

#[test]
fn killed_before_any_task_finished_the_next_run_kills_its_agents_and_resumes() {
    let p = project("1.5");
    let runner = spawn(&p, &[], None);
    // A2 has written its file and sleeps; A1 sleeps before writing.
    wait_for("A2's file", 20, || p.dir.join("src/main.txt").exists());
    kill9(runner);
    assert!(p.git_status().contains("src/"), "{}", p.git_status());
    // A2 sleeps after writing: it outlives the runner (A1 may have ended
    // already on a loaded machine).
    let orphans: Vec<i32> = p
        .agent_starts()
        .iter()
        .map(|e| e["pid"].as_i64().unwrap() as i32)
        .filter(|&pid| alive(pid))
        .collect();
    assert!(!orphans.is_empty(), "the agents outlive the runner");
    // The dry run already knows the phase has started: no dirty-tree refusal.
    let out = p.run(&["--dry-run"]);
    assert!(!stdout(&out).contains("would stop"), "{}", stdout(&out));
    let out = p.run(&[]);
    for pid in orphans {
        assert!(!alive(pid), "the killed run's agent {pid} was left running");
    }
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("interrupted"), "{}", stdout(&out));
    assert_one_commit_per_phase(&p);
    assert_status_files_sound(&p);
    assert_no_agent_left(&p);
}

#[test]
fn killed_during_the_gate_its_processes_die_and_only_the_gate_reruns() {
    let p = project("0");
    let pids = p.tmp.path().join("gate-pids");
    let ok = p.tmp.path().join("gate-ok");
    let gate = format!(
        "[[gate.steps]]\nname = \"test\"\ncommand = \"echo $$ >> {} && (test -f {} || sleep 60)\"\n",
        pids.display(),
        ok.display()
    );
    p.write(
        "roadmap-runner.toml",
        &format!("[run]\ngrace_period = 1\n\n{gate}"),
    );
    git(&p.dir, &["commit", "-qam", "slow gate"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    let runner = spawn(&p, &[], None);
    wait_for("the gate", 20, || pids.exists());
    // While the gate runs, the in-progress file names it.
    wait_for("the gate in the in-progress file", 10, || {
        InProgress::load(&StatusDir::new(&p.dir))
            .is_ok_and(|ip| ip.gate.as_ref().is_some_and(|g| g.pid.is_some()))
    });
    let out = p.run(&["status"]);
    assert!(stdout(&out).contains("Running now"), "{}", stdout(&out));
    kill9(runner);
    let gate_pid: i32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        alive(gate_pid),
        "the gate step should outlive the killed runner"
    );

    std::fs::write(&ok, "").unwrap();
    let before = p.agent_starts().len();
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert!(
        !alive(gate_pid),
        "the killed run's gate step {gate_pid} was left running"
    );
    // Group A's agents had all succeeded: only its gate ran again.
    assert_eq!(count(&p, "A1"), 1);
    assert_eq!(count(&p, "A2"), 1);
    assert_eq!(p.agent_starts().len(), before + 3, "B1, C1, C2 only");
    assert_status_files_sound(&p);
}

#[test]
fn killed_between_the_gate_record_and_completion_no_agent_reruns() {
    let p = project("0");
    crash_at(&p, "gate");
    assert_eq!(p.agent_task_ids().len(), 2);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(
        (count(&p, "A1"), count(&p, "A2")),
        (1, 1),
        "{:?}",
        p.agent_task_ids()
    );
    assert_one_commit_per_phase(&p);
    assert_status_files_sound(&p);
}

#[test]
fn killed_between_completion_and_commit_the_phase_is_committed_on_its_own() {
    let p = project("0");
    // The second `complete` is Group B's, the last of phase 1.
    crash_at(&p, "complete:2");
    assert_eq!(
        p.read("status/completed_tasks.txt"),
        "PHASE_1:A\nPHASE_1:B\n"
    );
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("committing it now"),
        "{}",
        stdout(&out)
    );
    assert_eq!(p.agent_task_ids().len(), 5, "{:?}", p.agent_task_ids());
    assert_one_commit_per_phase(&p);
    assert_status_files_sound(&p);
}

#[test]
fn killed_right_after_the_commit_it_is_not_made_twice() {
    let p = project("0");
    crash_at(&p, "committed");
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_one_commit_per_phase(&p);
}

#[test]
fn a_failed_commit_is_made_first_on_the_next_run_as_its_own_commit() {
    let p = project("0");
    // A stale index lock, made by the last gate of phase 1: the commit fails.
    let once = p.tmp.path().join("lock-once");
    std::fs::write(&once, "").unwrap();
    let gate = format!(
        "{GATE}\n[[gate.steps]]\nname = \"build\"\ncommand = \"if test -f {0} && test -f src/accounts.txt; then rm {0}; touch .git/index.lock; fi\"\n",
        once.display()
    );
    p.write(
        "roadmap-runner.toml",
        &format!("[run]\ngrace_period = 1\n\n{gate}"),
    );
    git(&p.dir, &["commit", "-qam", "gate"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    let out = p.run(&[]);
    assert_exit(&out, 3);
    assert!(
        stdout(&out).contains("could not be committed"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_file(p.dir.join(".git/index.lock")).unwrap();

    let out = p.run(&[]);
    assert_exit(&out, 0);
    let log = p.origin_log();
    assert_eq!(
        log[..2],
        ["Complete Phase 2: Features", "Complete Phase 1: Foundation"]
    );
    let phase1 = files_in(&p, "main~1");
    assert!(!phase1.iter().any(|f| f == "src/cart.txt"), "{phase1:?}");
    assert_eq!(p.agent_task_ids().len(), 5);
}

#[test]
fn a_rollback_after_the_commit_reruns_and_commits_again() {
    let p = project("0");
    assert_exit(&p.run(&[]), 0);
    let out = p.run(&["rollback", "1:B"]);
    assert_exit(&out, 0);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(count(&p, "B1"), 2);
    let log = p.origin_log();
    assert_eq!(log[0], "Complete Phase 1: Foundation", "{log:?}");
    assert!(stdout(&out).contains("pushed"), "{}", stdout(&out));
    assert_eq!(p.git_status(), "");
}

#[test]
fn no_commit_runs_across_a_phase_boundary() {
    let p = project("0");
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    assert_eq!(p.agent_task_ids().len(), 5);
    assert_eq!(p.origin_log()[0], "gate list");
    for f in PHASE1_FILES.iter().chain(&PHASE2_FILES) {
        assert!(p.dir.join(f).exists(), "{f}");
    }
    // Nothing is owed: a later run has nothing to do.
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Nothing to do"), "{}", stdout(&out));
}

#[test]
fn skip_and_rollback_during_a_run_exit_75() {
    let p = project("3");
    let runner = spawn(&p, &[], None);
    wait_for("an agent", 20, || !p.agent_starts().is_empty());
    for args in [["skip", "1:B"], ["rollback", "1:A"]] {
        let out = p.run(&args);
        assert_exit(&out, 75);
        assert!(stderr(&out).contains("holds the lock"), "{}", stderr(&out));
    }
    kill9(runner);
    assert_eq!(p.read("status/completed_tasks.txt"), "");
}

#[test]
fn dry_run_and_status_after_a_gate_failure_show_gate_only() {
    let p = project("0");
    p.write("gate-needs.txt", "never.txt\n");
    let out = p.run(&["--allow-dirty"]);
    assert_exit(&out, 2);
    let out = p.run(&["--dry-run"]);
    let text = stdout(&out);
    let section = text
        .split("\n\n")
        .find(|s| s.starts_with("Phase 1 Group A"))
        .unwrap_or_default();
    assert!(
        section.starts_with("Phase 1 Group A (Parallel): gate only"),
        "{text}"
    );
    assert!(
        !section.contains("$ "),
        "an agent of group A would start: {text}"
    );
    let out = p.run(&["--dry-run", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["groups"][0]["step"], "gate_only");
    assert_eq!(doc["groups"][0]["tasks"], serde_json::json!([]));
    let out = p.run(&["status"]);
    assert!(
        stdout(&out).contains(
            "Next: Phase 1 Group A: gate only (every task succeeded earlier; no agent runs)"
        ),
        "{}",
        stdout(&out)
    );
    let out = p.run(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["next"]["action"], "gate_only");
}

/// SIGKILL at random moments, again and again, then plain runs until done.
#[test]
fn torture_kill_at_random_moments_then_finish() {
    let p = project("0.6");
    // A seed per run, printed, so a failure can be replayed.
    let seed = std::env::var("TORTURE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64
        });
    eprintln!("torture seed {seed} (TORTURE_SEED to replay)");
    let mut rng = seed;
    let mut next = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % 400
    };
    let mut kills = 0;
    for _ in 0..12 {
        let mut runner = spawn(&p, &[], None);
        std::thread::sleep(Duration::from_millis(30 + next()));
        match runner.try_wait().unwrap() {
            Some(_) => break,
            None => {
                kill9(runner);
                kills += 1;
            }
        }
    }
    assert!(
        kills >= 8,
        "only {kills} kills before the run finished (seed {seed})"
    );
    let mut done = false;
    for _ in 0..6 {
        let out = p.run(&[]);
        if out.status.code() == Some(0) {
            done = true;
            break;
        }
        eprintln!(
            "rerun exited {:?}: {}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
    }
    assert!(done, "plain reruns did not finish (seed {seed})");
    assert_one_commit_per_phase(&p);
    assert_status_files_sound(&p);
    assert_no_agent_left(&p);
    for f in PHASE1_FILES.iter().chain(&PHASE2_FILES) {
        assert!(p.dir.join(f).exists(), "{f} lost (seed {seed})");
    }
}

/// A group resumed in a second run: its report covers both runs.
#[test]
fn a_resumed_groups_report_covers_every_run_and_attempt() {
    let failing = "# T\n\n## Phase 1: P\n\n### Group B\n\n\
        - B5: five\n  - FAKE: write B5.js five\n\
        - B6: six\n  - FAKE: write B6.js draft\n  - FAKE: cost 0.02\n  - FAKE: fail\n";
    let p = Project::with_config(failing, "");
    let out = p.run(&["--no-push"]);
    assert_exit(&out, 1);
    p.write(
        "ROADMAP.md",
        &failing
            .replace("  - FAKE: cost 0.02\n  - FAKE: fail\n", "")
            .replace("draft", "final"),
    );
    let out = p.run(&["--no-push"]);
    assert_exit(&out, 0);
    let mut ids = p.agent_task_ids();
    ids.sort();
    assert_eq!(ids, ["B5", "B6", "B6"]);
    let report = p.read("PHASE1-GROUP-B-STATUS.md");
    // B5.js was written by the first run: still a file the group changed.
    assert!(
        report.contains("- `B5.js`") && report.contains("- `B6.js`"),
        "{report}"
    );
    assert!(!report.contains("No files changed"), "{report}");
    assert!(report.contains("- **Attempts:** 2"), "{report}");
    assert!(report.contains("1. failed after"), "{report}");
    assert!(report.contains("$0.02\n  2. succeeded after"), "{report}");
    // B6: $0.02 + $0.0123.
    assert!(
        report.contains("| B6 | six | ✅ succeeded | 2 |"),
        "{report}"
    );
    assert!(report.contains("$0.0323 |"), "{report}");
}

/// Two attempts in one run: the summary shows their total cost. The retry
/// goes on in the failed attempt's own session, told how it ended.
#[test]
fn a_retry_resumes_its_session_and_the_summary_counts_every_attempts_cost() {
    let roadmap = roadmap_with_tasks(&[("A14", "FAKE: cost 0.0123\nFAKE: fail")]);
    let p = Project::new(&roadmap);
    let out = p.run(&["--no-commit", "--retries", "1", "--json"]);
    // The resumed session still fails: two attempts at $0.0123 each.
    assert_exit(&out, 1);
    let finished = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "run_finished")
        .unwrap();
    let task = &finished["summary"]["tasks"][0];
    assert_eq!(task["attempts"], 2);
    assert!(
        (task["cost_usd"].as_f64().unwrap() - 0.0246).abs() < 1e-9,
        "{task}"
    );
    let starts = p.agent_starts();
    let argv = |i: usize| starts[i]["argv"].as_array().unwrap().clone();
    assert!(!argv(0).iter().any(|a| a == "--resume"));
    let second = argv(1);
    let at = second
        .iter()
        .position(|a| a == "--resume")
        .expect("the retry resumes");
    assert!(second[at + 1].as_str().is_some_and(|s| !s.is_empty()));
}

/// A run that stops at preflight changes nothing git shows, and its error
/// is timestamped (a cron mail) and kept in the runner log.
#[test]
fn a_failed_preflight_leaves_no_trace_in_git_and_is_logged() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    let out = p
        .cmd()
        .env("CLAUDE_BIN", "/nonexistent/claude")
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let err = stderr(&out);
    let first = err
        .lines()
        .find(|l| l.contains("error: "))
        .unwrap_or_default();
    let stamp = first.split(" error: ").next().unwrap_or_default();
    assert!(
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").is_ok(),
        "no timestamp: {err}"
    );
    assert_eq!(p.git_status(), "", "a failed preflight left files behind");
    let logs = std::fs::read_dir(p.dir.join("logs/orchestrator")).unwrap();
    let runner_log = logs
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("runner_"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap_or_default();
    assert!(
        runner_log.contains("/nonexistent/claude"),
        "runner log: {runner_log}"
    );
}

/// `status` reads the state once: each completed_tasks.txt warning once.
#[test]
fn status_says_each_status_file_warning_once() {
    let p = Project::new(&roadmap_with_tasks(&[("A1", "")]));
    p.write("status/completed_tasks.txt", "PHASE_1:A\nnonsense\n");
    let out = p.run(&["status"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert_eq!(err.matches("`nonsense`").count(), 1, "{err}");
}
