//! A task that splits itself with `--nats`: real `nats-server -js`, real
//! `roadmap-runner worker`s, the fake agent, and a project whose origin
//! `git daemon` serves. The worker's agent writes the sub-roadmap in its own
//! checkout; the worker sends it back with the result, and the coordinator
//! examines it as a local split and runs it in the task's place, its
//! sub-tasks on the workers too.
//!
//! One test at a time (a server, two workers and a coordinator each).

mod common;

use common::cluster::*;
use common::*;
use roadmap_runner::agent::TaskOutcome;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a whole run may take in these tests.
const RUN: Duration = Duration::from_secs(60);

/// Every gate run appends a line to `gates.txt` beside the project.
const GATE: &str = "[[gate.steps]]\nname = \"test\"\ncommand = \"echo gate >> ../gates.txt\"\n";

/// Where task A2's sub-roadmap is kept (`status/sub/<slug of 1:A:A2>.md`).
const A2_SUB: &str = "status/sub/1+3AA+3AA2.md";

fn heavy() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A sub-roadmap of two groups: A with two parallel tasks, B with one.
const TWO_GROUPS: &str = "# Parts\n\n## Phase 1: Parts\n\n### Group A: First (Parallel)\n\n\
     - [ ] **A1**: Part one\n  FAKE: write out/part1.txt one\n  FAKE: sleep 0.3\n\
     - [ ] **A2**: Part two\n  FAKE: write out/part2.txt two\n  FAKE: sleep 0.3\n\n\
     ### Group B: Second (Parallel, after A)\n\n\
     - [ ] **B1**: Part three\n  FAKE: write out/part3.txt three\n";

/// A server, workers w1.. (`n` of them, two slots each) listed as live, and
/// a project whose task A1 writes a file and A2 splits into `sub`.
fn cluster(n: usize, sub: &str) -> (NatsServer, Vec<Worker>, ClusterProject) {
    let nats = NatsServer::start();
    let mut workers: Vec<Worker> = (1..=n)
        .map(|i| Worker::start(&nats.url(), &format!("w{i}"), 2))
        .collect();
    wait_for_workers(&nats.url(), &mut workers, 20);
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let (_, path) = file.keep().expect("kept");
    std::fs::write(&path, sub).unwrap();
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: write out/a1.txt done"),
        ("A2", &format!("FAKE: split {}", path.display())),
    ]);
    let cp = ClusterProject::builder(&roadmap, &nats.url())
        .max_deliver(3)
        .config(GATE)
        .build();
    (nats, workers, cp)
}

fn gate_runs(cp: &ClusterProject) -> usize {
    std::fs::read_to_string(cp.tmp.path().join("gates.txt"))
        .unwrap_or_default()
        .lines()
        .count()
}

/// The prompts the workers' agents got whose text holds `needle`.
fn prompts_with(workers: &[Worker], needle: &str) -> Vec<String> {
    workers
        .iter()
        .flat_map(Worker::prompts)
        .map(|(_, text)| text)
        .filter(|t| t.contains(needle))
        .collect()
}

#[test]
fn a_task_split_on_a_worker_runs_its_sub_roadmap_on_the_workers() {
    let _lock = heavy();
    let (_nats, workers, cp) = cluster(2, TWO_GROUPS);
    let mut run = cp.coordinator(&[]);
    run.assert_exit(RUN, 0);

    // The parent's agent was offered the file in its checkout, by its path
    // relative to the project.
    let parent = prompts_with(&workers, "FAKE: split");
    assert_eq!(parent.len(), 1, "{parent:?}");
    assert!(
        parent[0].contains(&format!(
            "to {A2_SUB} (the path in $ROADMAP_RUNNER_SPLIT_FILE)"
        )),
        "{}",
        parent[0]
    );
    // Every agent ran on a worker: the parent's two, then the three sub-tasks.
    assert!(
        cp.agent_starts().is_empty(),
        "agents ran on the coordinator"
    );
    let mut ids: Vec<String> = all_starts(&workers).iter().map(task_of).collect();
    ids.sort();
    assert_eq!(ids, ["A1", "A1", "A2", "A2", "B1"], "{}", run.dump());
    // The records name the worker of each sub-task; the parent split, then
    // succeeded once its sub-roadmap was complete.
    let records = task_records(&cp);
    let parent: Vec<&str> = records
        .iter()
        .filter(|r| r.group == "A" && r.task == "A2")
        .map(|r| r.outcome.label())
        .collect();
    assert_eq!(parent, ["split", "succeeded"]);
    let names: Vec<&str> = workers.iter().map(|w| w.name.as_str()).collect();
    for (group, task) in [("A:A2/1:A", "A1"), ("A:A2/1:A", "A2"), ("A:A2/1:B", "B1")] {
        let r = records
            .iter()
            .find(|r| r.group == group && r.task == task)
            .unwrap_or_else(|| panic!("a record of {group}:{task}: {records:?}"));
        assert!(r.outcome.is_success(), "{r:?}");
        let worker = r.worker.as_deref().unwrap_or_default();
        assert!(names.contains(&worker), "{group}:{task} ran on {worker:?}");
    }
    // So do the run's lines.
    let output = run.output();
    for title in ["Part one", "Part two", "Part three"] {
        assert!(
            output
                .lines()
                .any(|l| l.contains("[START]") && l.contains(&format!("{title} on worker w"))),
            "{title}: {output}"
        );
    }
    // A gate after each sub-group, then the parent group's.
    assert_eq!(gate_runs(&cp), 3, "{}", run.dump());
    let completed = cp.read("status/completed_tasks.txt");
    for k in ["PHASE_1:A:A2/1:A", "PHASE_1:A:A2/1:B", "PHASE_1:A"] {
        assert!(completed.lines().any(|l| l == k), "{k} in {completed}");
    }
    // One push of one phase commit: the sub-tasks' work and the
    // sub-roadmap in it, the commit listing the sub-tasks.
    let log = cp.origin_log();
    assert_eq!(log.len(), 2, "{log:?}");
    let files = cp.origin_files();
    for f in [
        "out/a1.txt",
        "out/part1.txt",
        "out/part2.txt",
        "out/part3.txt",
        A2_SUB,
    ] {
        assert!(files.iter().any(|x| x == f), "{f} in {files:?}");
    }
    assert_eq!(cp.origin_file(A2_SUB), TWO_GROUPS);
    let message = git(&cp.origin, &["log", "-1", "--format=%B", "main"]);
    assert!(message.contains("1:A:A2/1:B:B1"), "{message}");
    assert_eq!(cp.git_status(), "", "clean tree");
}

#[test]
fn an_invalid_split_from_a_worker_fails_the_attempt_and_the_retry_is_told_why() {
    let _lock = heavy();
    let (_nats, workers, cp) = cluster(1, "# Nothing\n\nJust prose, no phases.\n");
    let mut run = cp.coordinator(&["--retries", "1"]);
    run.assert_exit(RUN, 1);

    let records = task_records(&cp);
    let a2: Vec<_> = records.iter().filter(|r| r.task == "A2").collect();
    assert_eq!(a2.len(), 2, "tried again: {records:?}");
    for r in a2 {
        match &r.outcome {
            TaskOutcome::Failed { reason, .. } => {
                assert!(reason.contains("sub-roadmap"), "{reason}");
                assert!(reason.contains("no task"), "{reason}");
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(r.worker.as_deref(), Some("w1"));
    }
    // The retry's prompt, on the worker, holds the diagnostics.
    let retry = prompts_with(&workers, "Your previous attempt");
    assert_eq!(retry.len(), 1, "{:?}", workers[0].prompts());
    assert!(retry[0].contains("is not valid"), "{}", retry[0]);
    assert!(retry[0].contains("no task"), "{}", retry[0]);
    assert!(!cp.dir.join(A2_SUB).exists());
}

#[test]
fn at_the_depth_limit_a_worker_s_agent_is_not_offered_the_file() {
    let _lock = heavy();
    // Depth 1 is the limit: S1 would split if it were offered the file, S2
    // writes one anyway.
    let other = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(other.path(), TWO_GROUPS).unwrap();
    let s2_sub = "status/sub/1+3AA+3AA2+2F1+3AA+3AS2.md";
    let sub = format!(
        "# Deep\n\n## Phase 1: Deep\n\n### Group A: Deep (Parallel)\n\n\
         - [ ] **S1**: Would split\n  FAKE: split {}\n\
         - [ ] **S2**: Writes anyway\n  FAKE: write {s2_sub} # Not wanted\n",
        other.path().display()
    );
    let (_nats, workers, cp) = cluster(2, &sub);
    let mut run = cp.coordinator(&["--max-depth", "1"]);
    run.assert_exit(RUN, 0);

    let output = run.output();
    assert!(
        output.contains("although splitting is not available"),
        "{output}"
    );
    for title in ["# Your task: S1", "# Your task: S2"] {
        let prompts = prompts_with(&workers, title);
        assert_eq!(prompts.len(), 1, "{title}: {prompts:?}");
        assert!(prompts[0].contains("is not available"), "{}", prompts[0]);
        assert!(!prompts[0].contains("ROADMAP_RUNNER_SPLIT_FILE"));
    }
    // Neither sub-task split: both succeeded, nothing more ran.
    let records = task_records(&cp);
    for task in ["S1", "S2"] {
        let r: Vec<_> = records.iter().filter(|r| r.task == task).collect();
        assert_eq!(r.len(), 1, "{records:?}");
        assert!(r[0].outcome.is_success(), "{:?}", r[0]);
        assert_eq!(r[0].group, "A:A2/1:A");
    }
    assert_eq!(all_starts(&workers).len(), 4);
    assert!(!cp.dir.join(s2_sub).exists());
    assert!(!cp.origin_files().iter().any(|f| f == s2_sub));
    assert_eq!(cp.origin_log().len(), 2);
}

#[test]
fn a_coordinator_killed_inside_a_sub_roadmap_resumes_without_running_an_agent_twice() {
    let _lock = heavy();
    let (_nats, workers, cp) = cluster(2, TWO_GROUPS);
    // Killed at the 4th task record: A1, A2 (split), then one sub-task.
    let mut first = cp.coordinator_env(&[], &[("ROADMAP_RUNNER_CRASH_AT", "task:4")]);
    let status = first.wait(RUN);
    assert_eq!(status.code(), None, "killed: {}", first.dump());
    assert!(cp.dir.join(A2_SUB).exists(), "the split is kept");
    let mut second = cp.coordinator(&[]);
    second.assert_exit(RUN, 0);

    // The sub-task still running at the kill finished on its worker, and
    // its stored result was taken: every agent ran once.
    wait_for("the workers' agents to end", 10, || {
        all_ends(&workers).len() >= 5
    });
    let mut ids: Vec<String> = all_starts(&workers).iter().map(task_of).collect();
    ids.sort();
    assert_eq!(ids, ["A1", "A1", "A2", "A2", "B1"], "{}", second.dump());
    let files = cp.origin_files();
    for f in [
        "out/a1.txt",
        "out/part1.txt",
        "out/part2.txt",
        "out/part3.txt",
        A2_SUB,
    ] {
        assert!(files.iter().any(|x| x == f), "{f} in {files:?}");
    }
    assert_eq!(cp.origin_log().len(), 2);
    assert_eq!(gate_runs(&cp), 3);
}
