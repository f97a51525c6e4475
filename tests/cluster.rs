//! Scale-out through NATS JetStream (issue 13) with real processes: a real
//! `nats-server -js` per test, three `roadmap-runner worker`s (each with its
//! own work dir, mirror cache and agent log), the fake agent, and a project
//! whose origin `git daemon` serves to the workers. The coordinator is the
//! ordinary `roadmap-runner run` with `[cluster] nats` in its config (or
//! `--nats`).
//!
//! The roadmap has two phases: Phase 1 a group of six tasks A1..A6, Phase 2
//! a group of three B1..B3; each task writes `out/<id>.txt` ("from <id>")
//! and sleeps, so which worker ran what is in the workers' agent logs.
//!
//! The heavy tests take one lock each (three workers, a server and a
//! coordinator per test are plenty on two cores). A test that fails prints
//! every process's output (see tests/common/cluster.rs).

mod common;

use common::cluster::*;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a whole run may take in these tests.
const RUN: Duration = Duration::from_secs(60);

const PHASE1: [&str; 6] = ["A1", "A2", "A3", "A4", "A5", "A6"];
const PHASE2: [&str; 3] = ["B1", "B2", "B3"];
const PHASE1_COMMIT: &str = "Complete Phase 1: Spread";
const PHASE2_COMMIT: &str = "Complete Phase 2: Second";

fn all_tasks() -> Vec<&'static str> {
    PHASE1.iter().chain(PHASE2.iter()).copied().collect()
}

/// One heavy test at a time.
fn heavy() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn task_body(id: &str, sleep: f64) -> String {
    format!("FAKE: write out/{id}.txt from {id}\nFAKE: sleep {sleep}")
}

/// The two-phase roadmap; the tasks of each phase sleep that long.
fn roadmap(phase1_sleep: f64, phase2_sleep: f64) -> String {
    let mut s = String::from("# Cluster Test\n\n## Phase 1: Spread\n\n### Group A (Parallel)\n\n");
    for id in PHASE1 {
        s.push_str(&format!(
            "#### {id}: Task {id}\n\n{}\n\n",
            task_body(id, phase1_sleep)
        ));
    }
    s.push_str("## Phase 2: Second\n\n### Group B (Parallel)\n\n");
    for id in PHASE2 {
        s.push_str(&format!(
            "#### {id}: Task {id}\n\n{}\n\n",
            task_body(id, phase2_sleep)
        ));
    }
    s
}

/// A server, three workers w1..w3 of `slots` slots each, listed by
/// `workers` (so all of them pull from the start), and the project.
fn cluster(
    roadmap: &str,
    slots: usize,
    config: impl FnOnce(ClusterProjectBuilder) -> ClusterProjectBuilder,
) -> (NatsServer, Vec<Worker>, ClusterProject) {
    let nats = NatsServer::start();
    let mut workers: Vec<Worker> = ["w1", "w2", "w3"]
        .iter()
        .map(|n| Worker::start(&nats.url(), n, slots))
        .collect();
    wait_for_workers(&nats.url(), &mut workers, 20);
    let project = config(ClusterProject::builder(roadmap, &nats.url()).max_deliver(3)).build();
    (nats, workers, project)
}

/// Agent starts per task id, over all workers.
fn starts_per_task(workers: &[Worker]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for s in all_starts(workers) {
        *m.entry(task_of(&s)).or_insert(0) += 1;
    }
    m
}

/// Every task's agent started exactly once, over all workers.
#[track_caller]
fn assert_each_task_started_once(workers: &[Worker]) {
    let want: BTreeMap<String, usize> = all_tasks().iter().map(|t| (t.to_string(), 1)).collect();
    assert_eq!(starts_per_task(workers), want, "agent starts per task");
}

/// Every task's file is in origin's main, its text there exactly once.
#[track_caller]
fn assert_all_merged_once(cp: &ClusterProject) {
    let files = cp.origin_files();
    for id in all_tasks() {
        let text = format!("from {id}");
        assert_eq!(
            cp.origin_file(&format!("out/{id}.txt")),
            format!("{text}\n"),
            "out/{id}.txt on origin (files: {files:?})"
        );
        assert_eq!(cp.origin_count(&text), 1, "`{text}` in origin's main");
    }
}

/// Each phase commit is on origin's main, once.
#[track_caller]
fn assert_phase_commits_once(cp: &ClusterProject) {
    let log = cp.origin_log();
    for subject in [PHASE1_COMMIT, PHASE2_COMMIT] {
        let n = log.iter().filter(|s| *s == subject).count();
        assert_eq!(n, 1, "`{subject}` in origin's log: {log:?}");
    }
}

/// The runner's `integrated` records, per task id.
fn integrated(cp: &ClusterProject) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in cp
        .read("status/tasks.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["kind"] == "integrated")
    {
        *m.entry(r["task"].as_str().unwrap_or_default().to_string())
            .or_insert(0) += 1;
    }
    m
}

#[track_caller]
fn assert_integrated_once(cp: &ClusterProject) {
    let want: BTreeMap<String, usize> = all_tasks().iter().map(|t| (t.to_string(), 1)).collect();
    assert_eq!(integrated(cp), want, "integrated records per task");
}

/// The end record of task `id` in a worker's agent log, if any.
fn end_of(w: &Worker, id: &str) -> Option<serde_json::Value> {
    w.agent_ends().into_iter().find(|e| task_of(e) == id)
}

// ------------------------------------------------------------- the tests

#[test]
fn tasks_spread_over_three_workers_and_both_phases_land_on_origin() {
    let _lock = heavy();
    let (_nats, workers, cp) = cluster(&roadmap(1.0, 0.5), 2, |b| b);
    let mut run = cp.coordinator(&[]);
    run.assert_exit(RUN, 0);

    assert_all_merged_once(&cp);
    assert_phase_commits_once(&cp);
    assert_eq!(cp.git_status(), "", "the project's tree after the run");
    for w in &workers {
        assert!(
            !w.started_tasks().is_empty(),
            "worker {} ran no task; per worker: {:?}",
            w.name,
            workers
                .iter()
                .map(|w| (w.name.clone(), w.started_tasks()))
                .collect::<Vec<_>>()
        );
    }
    // No failure, no redelivery: one agent per task, each a success.
    assert_each_task_started_once(&workers);
    for e in all_ends(&workers) {
        assert_eq!(e["exit_code"], 0, "{e}");
    }
    // The coordinator ran no agent itself: every one ran in a worker's own
    // space, not in the project.
    assert!(
        cp.agent_starts().is_empty(),
        "agents ran on the coordinator: {:?}",
        cp.agent_starts()
    );
    let project = std::fs::canonicalize(&cp.dir).unwrap();
    for w in &workers {
        let own = std::fs::canonicalize(w.tmp.path()).unwrap();
        for s in w.agent_starts() {
            let cwd = Path::new(s["cwd"].as_str().unwrap());
            assert!(!cwd.starts_with(&project), "{s}");
            assert!(
                cwd.starts_with(&own),
                "worker {}'s agent outside it: {s}",
                w.name
            );
        }
    }
}

#[test]
fn a_worker_killed_mid_task_has_its_task_redelivered_and_merged_once() {
    let _lock = heavy();
    let (_nats, mut workers, cp) = cluster(&roadmap(4.0, 0.5), 2, |b| b.ack_wait("3s"));
    let mut run = cp.coordinator(&[]);
    wait_for("an agent on w1", 30, || {
        !workers[0].agent_starts().is_empty()
    });
    // The machine dies: the worker and its agents, SIGKILLed.
    workers[0].crash();
    let lost: Vec<String> = workers[0].started_tasks();
    assert!(
        workers[0].agent_ends().is_empty(),
        "w1's agents had ended before the kill: the test needs a longer sleep"
    );

    run.assert_exit(RUN, 0);
    for id in &lost {
        let again: Vec<&str> = workers[1..]
            .iter()
            .filter(|w| end_of(w, id).is_some_and(|e| e["exit_code"] == 0))
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(
            again.len(),
            1,
            "{id}, lost with w1, finished on exactly one other worker: {again:?}"
        );
    }
    assert_all_merged_once(&cp);
    assert_phase_commits_once(&cp);
    assert_integrated_once(&cp);
    // Nothing ran twice but the lost tasks.
    let starts = starts_per_task(&workers);
    for id in all_tasks() {
        let want = if lost.iter().any(|l| l == id) { 2 } else { 1 };
        assert_eq!(starts.get(id), Some(&want), "starts of {id}: {starts:?}");
    }
}

#[test]
fn a_coordinator_killed_mid_run_and_restarted_runs_no_agent_twice() {
    let _lock = heavy();
    let (_nats, workers, cp) = cluster(&roadmap(3.0, 2.0), 2, |b| b.ack_wait("3s"));

    // Killed while phase 1's agents run; their results arrive meanwhile.
    let mut first = cp.coordinator(&[]);
    wait_for("phase 1's six agents", 30, || {
        all_starts(&workers).len() >= 6
    });
    first.sigkill();
    wait_for("phase 1's agents to end", 30, || {
        all_ends(&workers).len() >= 6
    });

    // Restarted: it picks those results up, then is killed again while
    // phase 2's agents run, and restarted at once (their results arrive
    // during the third run).
    let mut second = cp.coordinator(&[]);
    wait_for("phase 2's three agents", 40, || {
        all_starts(&workers).len() >= 9 || second.try_exit().is_some()
    });
    assert_eq!(second.try_exit(), None, "{}", second.dump());
    second.sigkill();
    let mut third = cp.coordinator(&[]);
    third.assert_exit(RUN, 0);

    assert_each_task_started_once(&workers);
    assert_all_merged_once(&cp);
    assert_phase_commits_once(&cp);
    assert_integrated_once(&cp);
}

#[test]
fn the_run_survives_a_nats_server_restart_while_tasks_run() {
    let _lock = heavy();
    let (mut nats, mut workers, cp) = cluster(&roadmap(3.0, 0.5), 2, |b| b.ack_wait("3s"));
    let mut run = cp.coordinator(&[]);
    wait_for("phase 1's agents", 30, || all_starts(&workers).len() >= 3);
    nats.restart_after(Duration::from_secs(1));

    run.assert_exit(RUN, 0);
    assert_all_merged_once(&cp);
    assert_phase_commits_once(&cp);
    // The workers reconnected rather than died.
    for w in workers.iter_mut() {
        assert!(w.is_running(), "worker {} exited", w.name);
    }
    wait_for_workers(&nats.url(), &mut workers, 10);
}

#[test]
fn a_sigtermed_worker_finishes_its_running_task_then_exits_0_and_takes_no_new_one() {
    let _lock = heavy();
    // The NATS URL from the command line this time.
    let (_nats, mut workers, cp) = cluster(&roadmap(3.0, 0.5), 2, |b| {
        b.nats_on_command_line().ack_wait("3s")
    });
    let mut run = cp.coordinator(&[]);
    // All of phase 1 taken: nothing is on its way to the worker we stop.
    wait_for("phase 1's six agents", 30, || {
        all_starts(&workers).len() >= 6
    });
    let w = workers
        .iter_mut()
        .max_by_key(|w| w.running_agents().len())
        .unwrap();
    let running: Vec<String> = w.running_agents().iter().map(task_of).collect();
    assert!(!running.is_empty(), "no worker runs an agent");
    let t = w.sigterm();
    let status = w.wait_exit(Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(0),
        "worker {} exit\n{}",
        w.name,
        w.dump()
    );

    let mut last_end = 0.0f64;
    for id in &running {
        let end = end_of(w, id)
            .unwrap_or_else(|| panic!("{id} was running on {} and has no end", w.name));
        assert_eq!(end["exit_code"], 0, "{end}");
        last_end = last_end.max(end["end"].as_f64().unwrap());
    }
    let exited = w.exited_at.unwrap();
    assert!(
        exited >= last_end,
        "{} exited at {exited} before its agent ended at {last_end}",
        w.name
    );
    let later: Vec<serde_json::Value> = w
        .agent_starts()
        .into_iter()
        .filter(|s| s["start"].as_f64().unwrap() > t)
        .collect();
    assert!(later.is_empty(), "started after SIGTERM at {t}: {later:?}");
    let stopped = w.name.clone();

    run.assert_exit(RUN, 0);
    assert_all_merged_once(&cp);
    assert_phase_commits_once(&cp);
    // Its finished tasks were delivered, not run again elsewhere.
    assert_each_task_started_once(&workers);
    let w = workers.iter().find(|w| w.name == stopped).unwrap();
    assert!(
        w.started_tasks().iter().all(|t| t.starts_with('A')),
        "{stopped} ran phase 2 tasks: {:?}",
        w.started_tasks()
    );
}

#[test]
fn workers_lists_the_live_workers_and_forgets_one_that_stopped() {
    let _lock = heavy();
    let nats = NatsServer::start();
    let url = nats.url();
    let mut workers = vec![
        Worker::start(&url, "w1", 2),
        Worker::start(&url, "w2", 3),
        Worker::start(&url, "w3", 1),
    ];
    wait_for_workers(&url, &mut workers, 20);

    let list = workers_json(&url);
    for w in &workers {
        let entry = list
            .iter()
            .find(|e| e["name"] == w.name.as_str())
            .unwrap_or_else(|| panic!("{} missing: {list:?}", w.name));
        assert_eq!(entry["slots"], w.slots, "{entry}");
        assert!(
            entry["host"].as_str().is_some_and(|h| !h.is_empty()),
            "{entry}"
        );
        assert_eq!(entry["running"], serde_json::json!([]), "{entry}");
        assert!(!entry["last_heartbeat"].is_null(), "{entry}");
    }
    // The plain listing names them too.
    let out = std::process::Command::new(bin())
        .args(["workers", "--nats", &url])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    for w in &workers {
        assert!(stdout(&out).contains(&w.name), "{}", stdout(&out));
    }

    // A running task is listed under its worker (heartbeats every 2 s).
    let cp = ClusterProject::builder(&roadmap_with_tasks(&[("A1", "FAKE: sleep 5")]), &url).build();
    let mut run = cp.coordinator(&[]);
    wait_for("the agent of A1", 30, || !all_starts(&workers).is_empty());
    let on = workers
        .iter()
        .find(|w| !w.agent_starts().is_empty())
        .unwrap()
        .name
        .clone();
    let mut seen = serde_json::Value::Null;
    wait_for("A1 under its worker in `workers --json`", 6, || {
        let list = workers_json(&url);
        let entry = list.iter().find(|e| e["name"] == on.as_str()).cloned();
        seen = entry.unwrap_or_default();
        seen["running"].as_array().is_some_and(|r| {
            r.iter()
                .any(|t| t.as_str().is_some_and(|t| t.contains("A1")))
        })
    });
    run.assert_exit(RUN, 0);

    // A graceful exit takes the worker off the list at once.
    workers[1].sigterm();
    let status = workers[1].wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", workers[1].dump());
    let mut names = Vec::new();
    wait_for("w2 off the list", 1, || {
        names = worker_names(&workers_json(&url));
        names == ["w1", "w3"]
    });
}

#[test]
fn a_republished_task_message_is_dropped_as_a_duplicate_and_starts_no_second_agent() {
    let _lock = heavy();
    let (nats, workers, cp) = cluster(&roadmap(4.0, 0.3), 2, |b| b);
    let mut run = cp.coordinator(&[]);
    wait_for("phase 1's six agents", 30, || {
        all_starts(&workers).len() >= 6
    });

    // The task messages are in the stream until their workers ack them at
    // the end. Publish each again, byte for byte with its headers (so with
    // its Nats-Msg-Id): JetStream must drop every copy as a duplicate.
    // TODO(lead): name the task stream (and subject) here once fixed; for
    // now every message with a Nats-Msg-Id in a stream that is neither a KV
    // bucket nor an object store is taken (no result exists yet: the agents
    // still sleep).
    let mut c = nats.client();
    let mut copies = Vec::new();
    for stream in c.stream_names() {
        if stream.starts_with("KV_") || stream.starts_with("OBJ_") {
            continue;
        }
        for m in c.stream_msgs(&stream) {
            if m.header("Nats-Msg-Id").is_some() {
                copies.push((stream.clone(), m));
            }
        }
    }
    assert!(
        copies.len() >= PHASE1.len(),
        "expected phase 1's {} task messages with a Nats-Msg-Id in the streams {:?}, found {}",
        PHASE1.len(),
        c.stream_names(),
        copies.len()
    );
    for (stream, m) in &copies {
        let headers: Vec<(&str, &str)> = m
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let ack = c
            .js_publish(&m.subject, &headers, &m.payload)
            .unwrap_or_else(|e| panic!("republish to {}: {e}", m.subject));
        assert_eq!(ack["stream"], stream.as_str(), "{ack}");
        assert_eq!(
            ack["duplicate"],
            true,
            "a copy of {} ({:?}) was stored again: {ack}",
            m.subject,
            m.header("Nats-Msg-Id")
        );
    }

    run.assert_exit(RUN, 0);
    assert_each_task_started_once(&workers);
    assert_all_merged_once(&cp);
    assert_phase_commits_once(&cp);
}

// ------------------------------------------------- the harness's own tests

#[test]
fn harness_nats_server_starts_restarts_and_keeps_jetstream_data() {
    let mut nats = NatsServer::start();
    let c = nats.client();
    assert_eq!(c.info["jetstream"], true, "{}", c.info);
    assert_eq!(c.info["port"], nats.port(), "{}", c.info);
    assert!(nats.url().starts_with("nats://127.0.0.1:"));
    drop(c);

    // A file-stored stream with a duplicate window; a repeated Nats-Msg-Id
    // is dropped, which the duplicate test relies on.
    let mut c = nats.client();
    let created = c
        .js_api(
            "$JS.API.STREAM.CREATE.HARNESS",
            &serde_json::json!({
                "name": "HARNESS", "subjects": ["harness.>"], "storage": "file",
                "retention": "workqueue", "duplicate_window": 120_000_000_000u64,
            }),
        )
        .unwrap();
    assert!(created["error"].is_null(), "{created}");
    let id = [("Nats-Msg-Id", "m1")];
    let ack = c.js_publish("harness.task", &id, b"one").unwrap();
    assert_eq!(
        (ack["seq"].as_u64(), &ack["duplicate"]),
        (Some(1), &serde_json::Value::Null),
        "{ack}"
    );
    let ack = c.js_publish("harness.task", &id, b"one").unwrap();
    assert_eq!(ack["duplicate"], true, "{ack}");
    let ack = c
        .js_publish("harness.task", &[("Nats-Msg-Id", "m2")], b"two")
        .unwrap();
    assert_eq!(ack["seq"], 2, "{ack}");
    // Read back with its headers.
    let m = c.stream_msg("HARNESS", 1).unwrap();
    assert_eq!(
        (m.subject.as_str(), m.header("nats-msg-id"), &m.payload[..]),
        ("harness.task", Some("m1"), &b"one"[..])
    );
    assert_eq!(c.stream_msgs("HARNESS").len(), 2);
    // Nobody listens: a 503 status, not a hang.
    let none = c
        .request("nobody.here", &[], b"", Duration::from_secs(2))
        .unwrap();
    assert_eq!(none.status.as_deref(), Some("503"));
    drop(c);

    // A clean restart on the same port and store keeps the stream.
    let pid = nats.pid();
    nats.restart();
    assert_ne!(nats.pid(), pid);
    let mut c = nats.client();
    assert_eq!(c.stream_info("HARNESS")["state"]["messages"], 2);
    drop(c);

    // Killed, nobody answers; started again, the data is still there.
    nats.kill();
    assert!(NatsClient::connect(nats.port()).is_err());
    nats.start_again();
    let mut c = nats.client();
    assert_eq!(c.stream_names(), ["HARNESS"]);
    assert_eq!(c.stream_info("HARNESS")["state"]["messages"], 2);
}

#[test]
fn harness_git_daemon_serves_a_clone_and_takes_a_push() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    git(base, &["init", "-q", "--bare", "-b", "main", "origin.git"]);
    let seed = base.join("seed");
    std::fs::create_dir(&seed).unwrap();
    git(&seed, &["init", "-q", "-b", "main"]);
    git(
        &seed,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ],
    );
    git(
        &seed,
        &[
            "push",
            "-q",
            base.join("origin.git").to_str().unwrap(),
            "main",
        ],
    );

    let daemon = GitDaemon::start(base);
    let url = daemon.url("origin.git");
    assert_eq!(url, format!("git://127.0.0.1:{}/origin.git", daemon.port));
    git(base, &["clone", "-q", &url, "clone"]);
    let clone = base.join("clone");
    std::fs::write(clone.join("f.txt"), "pushed\n").unwrap();
    git(&clone, &["add", "f.txt"]);
    git(
        &clone,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-q",
            "-m",
            "second",
        ],
    );
    git(
        &clone,
        &[
            "push",
            "-q",
            "origin",
            "main",
            "main:refs/heads/roadmap-runner/r1/1-A-A1",
        ],
    );
    let origin = base.join("origin.git");
    assert_eq!(git(&origin, &["show", "main:f.txt"]), "pushed\n");
    assert_eq!(
        git(&origin, &["branch", "--format=%(refname:short)"]),
        "main\nroadmap-runner/r1/1-A-A1\n"
    );
}

#[test]
fn harness_a_cluster_project_pushes_through_the_daemon() {
    let nats = NatsServer::start();
    let cp = ClusterProject::builder(&roadmap(0.0, 0.0), &nats.url())
        .ack_wait("3s")
        .max_deliver(3)
        .build();
    assert_eq!(
        git(&cp.dir, &["remote", "get-url", "origin"]).trim(),
        cp.origin_url
    );
    let config = cp.read("roadmap-runner.toml");
    assert!(
        config.ends_with(&format!(
            "\n[cluster]\nnats = \"{}\"\nack_wait = \"3s\"\nmax_deliver = 3\n",
            nats.url()
        )),
        "{config}"
    );
    // The origin takes pushes through git://.
    cp.write("out/x.txt", "through the daemon\n");
    git(&cp.dir, &["add", "out/x.txt"]);
    git(&cp.dir, &["commit", "-q", "-m", "x"]);
    git(&cp.dir, &["push", "-q", "origin", "main"]);
    assert_eq!(cp.origin_log()[0], "x");
    assert_eq!(cp.origin_file("out/x.txt"), "through the daemon\n");
    assert_eq!(cp.origin_count("through the daemon"), 1);
    assert_eq!(cp.origin_count("nowhere"), 0);
}
