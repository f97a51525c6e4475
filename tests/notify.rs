//! `notify::notify`: the command's environment and stdin, failures as
//! errors, nothing of the command left running, the webhook against a local
//! HTTP server, and the real binary notifying at the end of a run.

mod common;

use roadmap_runner::agent::TaskOutcome;
use roadmap_runner::config::{CommandSpec, NotifySection};
use roadmap_runner::events::{RunSummary, TaskSummary};
use roadmap_runner::notify::{self, NotifyError};
use roadmap_runner::roadmap::GroupKey;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn task(id: &str, outcome: TaskOutcome, cost: Option<f64>) -> TaskSummary {
    TaskSummary {
        key: GroupKey::new(1, "B"),
        task: id.into(),
        title: format!("Task {id}"),
        outcome,
        attempts: 1,
        duration: Duration::from_secs(42),
        cost_usd: cost,
        log: Some(PathBuf::from(format!(
            "logs/orchestrator/phase1_groupB_{id}_20260109-212750.log"
        ))),
        role: Default::default(),
    }
}

fn failed_run() -> RunSummary {
    let mut run = RunSummary {
        exit_code: 1,
        message: "Phase 1 Group B: 1 of 2 tasks did not succeed".into(),
        next_steps: vec!["fix the cause, then run roadmap-runner again".into()],
        tasks: vec![
            task("B1", TaskOutcome::Succeeded, Some(0.5)),
            task(
                "B2",
                TaskOutcome::Failed {
                    exit_code: Some(1),
                    signal: None,
                    reason: "exit 1".into(),
                },
                Some(0.25),
            ),
        ],
        groups_completed: vec![GroupKey::new(1, "A")],
        duration: Duration::from_secs(812),
        cost_usd: 0.75,
        costs: Default::default(),
        counts: Default::default(),
        group_times: vec![],
    };
    run.counts = RunSummary::count(&run.tasks, 0);
    run
}

fn project() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    std::fs::create_dir(&dir).unwrap();
    (tmp, dir)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

fn section(command: Option<CommandSpec>, webhook: Option<String>) -> NotifySection {
    NotifySection { command, webhook }
}

#[test]
fn the_command_gets_the_environment_and_the_summary_on_stdin() {
    let (_tmp, dir) = project();
    let spec = CommandSpec::Argv(vec![
        "sh".into(),
        "-c".into(),
        "env | grep '^ROADMAP_RUNNER_' | sort > env.txt; cat > stdin.txt; pwd > pwd.txt".into(),
    ]);
    let summary = failed_run();
    let errors = notify::notify(&section(Some(spec), None), None, &dir, &summary);
    assert_eq!(errors, vec![]);
    let env = read(&dir, "env.txt");
    let expected = format!(
        "\
ROADMAP_RUNNER_COST_REPAIRS_USD=0.0000
ROADMAP_RUNNER_COST_REVIEWS_USD=0.0000
ROADMAP_RUNNER_COST_TASKS_USD=0.7500
ROADMAP_RUNNER_COST_USD=0.7500
ROADMAP_RUNNER_EXIT_CODE=1
ROADMAP_RUNNER_MESSAGE=Phase 1 Group B: 1 of 2 tasks did not succeed
ROADMAP_RUNNER_OUTCOME=failed
ROADMAP_RUNNER_PROJECT=shop
ROADMAP_RUNNER_PROJECT_DIR={}
ROADMAP_RUNNER_REPAIRS=0
ROADMAP_RUNNER_REVIEWS=0
ROADMAP_RUNNER_TASKS_FAILED=1
ROADMAP_RUNNER_TASKS_INTERRUPTED=0
ROADMAP_RUNNER_TASKS_NOT_STARTED=0
ROADMAP_RUNNER_TASKS_OVER_BUDGET=0
ROADMAP_RUNNER_TASKS_SKIPPED=0
ROADMAP_RUNNER_TASKS_SUCCEEDED=1
",
        dir.display()
    );
    assert_eq!(env, expected);
    assert_eq!(
        read(&dir, "stdin.txt"),
        roadmap_runner::report::summary::render(&summary)
    );
    assert!(read(&dir, "stdin.txt").contains("B2 Task B2"));
    assert_eq!(
        Path::new(read(&dir, "pwd.txt").trim())
            .canonicalize()
            .unwrap(),
        dir.canonicalize().unwrap()
    );
}

#[test]
fn the_command_line_option_wins_over_the_file() {
    let (_tmp, dir) = project();
    let file = CommandSpec::Shell("echo file > who.txt".into());
    let errors = notify::notify(
        &section(Some(file.clone()), None),
        Some("echo \"cli $ROADMAP_RUNNER_OUTCOME\" > who.txt"),
        &dir,
        &failed_run(),
    );
    assert_eq!(errors, vec![]);
    assert_eq!(read(&dir, "who.txt"), "cli failed\n");
    // A shell string from the file runs through sh too.
    let errors = notify::notify(&section(Some(file), None), None, &dir, &failed_run());
    assert_eq!(errors, vec![]);
    assert_eq!(read(&dir, "who.txt"), "file\n");
}

#[test]
fn a_failing_command_is_an_error_with_its_stderr() {
    let (_tmp, dir) = project();
    let errors = notify::notify(
        &section(None, None),
        Some("echo 'mail: cannot connect to smtp' >&2; exit 3"),
        &dir,
        &failed_run(),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].to_string();
    assert!(e.starts_with("notify command `echo"), "{e}");
    assert!(e.contains("exited with 3"), "{e}");
    assert!(e.contains("mail: cannot connect to smtp"), "{e}");

    let missing = CommandSpec::Argv(vec!["/nonexistent/notify-me".into()]);
    let errors = notify::notify(&section(Some(missing), None), None, &dir, &failed_run());
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("cannot start"), "{errors:?}");
}

#[test]
fn a_command_that_runs_too_long_is_stopped() {
    let (_tmp, dir) = project();
    let spec = CommandSpec::Shell("sleep 30 & sleep 30".into());
    let start = Instant::now();
    let e =
        notify::run_command(&spec, &dir, &failed_run(), Duration::from_millis(500)).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(e.message.contains("still running"), "{e}");
}

fn pid_in(dir: &Path, name: &str) -> i32 {
    read(dir, name).trim().parse().unwrap_or_else(|e| {
        panic!("{name} holds no pid ({e}): {:?}", read(dir, name));
    })
}

#[test]
fn nothing_the_command_starts_outlives_it() {
    let (_tmp, dir) = project();
    // One grandchild keeps the command's output pipes (the leak timeout ends
    // it), one let go of them (the group kill after the exit ends it).
    let script = "sleep 300 & echo $! > held.pid; \
                  sleep 300 >/dev/null 2>&1 & echo $! > free.pid; \
                  echo $$ > sh.pid";
    let start = Instant::now();
    let errors = notify::notify(&section(None, None), Some(script), &dir, &failed_run());
    assert_eq!(errors, vec![]);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    for name in ["held.pid", "free.pid", "sh.pid"] {
        let pid = pid_in(&dir, name);
        common::wait_for(&format!("{name} ({pid}) to be gone"), 10, || {
            !common::alive(pid)
        });
    }
}

#[test]
fn a_command_that_hangs_is_killed_at_the_timeout() {
    let (_tmp, dir) = project();
    // SIGTERM is ignored (and so by the sleep too): only the SIGKILL after the
    // grace period ends them.
    let script = "echo $$ > sh.pid; trap '' TERM; sleep 300 & echo $! > sleep.pid; wait";
    let start = Instant::now();
    let errors = notify::notify_with_timeout(
        &section(None, None),
        Some(script),
        &dir,
        &failed_run(),
        Duration::from_millis(500),
    );
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(
        took < notify::COMMAND_GRACE + Duration::from_secs(30),
        "{took:?}"
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].message, "still running after 0.5s: stopped");
    for name in ["sh.pid", "sleep.pid"] {
        let pid = pid_in(&dir, name);
        common::wait_for(&format!("{name} ({pid}) to be gone"), 10, || {
            !common::alive(pid)
        });
    }
}

/// A one-request HTTP server on 127.0.0.1: answers `status`, returns the
/// request (head and body) it got.
fn http_server(status: &'static str) -> (String, std::thread::JoinHandle<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hooks/secret-token",
        listener.local_addr().unwrap().port()
    );
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).unwrap();
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nbad hook"
        );
        let mut stream = stream;
        stream.write_all(reply.as_bytes()).unwrap();
        stream.flush().unwrap();
        (head, String::from_utf8(body).unwrap())
    });
    (url, handle)
}

#[test]
fn the_webhook_gets_the_summary_as_json() {
    let (_tmp, dir) = project();
    let (url, server) = http_server("200 OK");
    let summary = failed_run();
    let errors = notify::notify(&section(None, Some(url)), None, &dir, &summary);
    assert_eq!(errors, vec![]);
    let (head, body) = server.join().unwrap();
    assert!(
        head.starts_with("POST /hooks/secret-token HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json\r\n"),
        "{head}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["project"], "shop");
    assert_eq!(v["project_dir"], dir.display().to_string());
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["outcome"], "failed");
    assert_eq!(
        v["text"],
        "roadmap-runner shop: Phase 1 Group B: 1 of 2 tasks did not succeed"
    );
    assert_eq!(v["summary"], serde_json::to_value(&summary).unwrap());
    assert_eq!(v["summary"]["tasks"][1]["task"], "B2");
    assert_eq!(v["summary"]["cost_usd"], 0.75);
}

#[test]
fn a_webhook_that_answers_an_error_status_is_an_error() {
    let (_tmp, dir) = project();
    let (url, server) = http_server("500 Internal Server Error");
    let errors = notify::notify(&section(None, Some(url)), None, &dir, &failed_run());
    server.join().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].to_string();
    assert!(e.contains("500"), "{e}");
    assert!(e.contains("bad hook"), "{e}");
    // The URL's path may be a secret: only the host is shown.
    assert!(!e.contains("secret-token"), "{e}");
}

#[test]
fn an_unreachable_webhook_is_an_error_quickly() {
    let (_tmp, dir) = project();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let start = Instant::now();
    let errors = notify::notify(
        &section(None, Some(url)),
        Some("exit 1"),
        &dir,
        &failed_run(),
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // The command and the webhook fail independently.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].target.starts_with("notify command"));
    let NotifyError { target, message } = &errors[1];
    assert_eq!(target, &format!("webhook http://127.0.0.1:{port}/…"));
    assert!(!message.is_empty());
}

#[test]
fn nothing_configured_does_nothing() {
    let (_tmp, dir) = project();
    assert_eq!(
        notify::notify(&NotifySection::default(), None, &dir, &failed_run()),
        vec![]
    );
}

#[test]
fn the_binary_notifies_once_the_run_has_ended() {
    let p = common::Project::new(&common::roadmap_with_tasks(&[("A1", "FAKE: sleep 0")]));
    let out_file = p.tmp.path().join("notified.txt");
    let script = format!(
        "{{ echo \"$ROADMAP_RUNNER_OUTCOME\"; cat; }} > '{}'; echo 'smtp down' >&2; exit 4",
        out_file.display()
    );
    let out = p.run(&["--no-commit", "--no-push", "--notify", &script]);
    // A failed notification is a warning: the run's exit code stays.
    common::assert_exit(&out, 0);
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(text.starts_with("success\n"), "{text}");
    assert!(text.contains("A1"), "{text}");
    let err = common::stderr(&out);
    assert!(
        err.contains("warning: notification failed: notify command `")
            && err.contains("exited with 4:\nsmtp down"),
        "{err}"
    );
}
