//! `exec::run_process` against real processes: output, logs, timeouts,
//! process groups, stop requests, leaked pipes, big output, stdin.
//!
//! No assertion depends on how fast the machine is, except upper bounds that
//! are orders of magnitude above the expected time (a stuck run would take
//! 1000 s).

use roadmap_runner::exec::{
    ExecError, ExitStatusKind, OutputStream, ProcessEvent, ProcessOutcome, ProcessSpec,
    StdinSource, StopLevel, run_process,
};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

mod common {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;

    /// State letter from /proc/<pid>/stat and the process group, or None
    /// when the process is gone.
    fn stat(pid: i32) -> Option<(char, i32)> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) S ppid pgrp ...`; comm may hold spaces and parentheses.
        let rest = &text[text.rfind(')')? + 2..];
        let mut fields = rest.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let _ppid = fields.next()?;
        let pgrp = fields.next()?.parse().ok()?;
        Some((state, pgrp))
    }

    /// Whether `pid` is running. A zombie is not: in a container whose init
    /// does not reap orphans, a killed grandchild stays a zombie forever.
    pub fn pid_alive(pid: i32) -> bool {
        matches!(stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
    }

    /// Whether any live (non-zombie) process is in group `pgid`.
    pub fn group_alive(pgid: i32) -> bool {
        if kill(Pid::from_raw(-pgid), None) == Err(Errno::ESRCH) {
            return false;
        }
        // The group still exists, perhaps only as unreaped zombies.
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .any(|pid| matches!(stat(pid), Some((s, g)) if g == pgid && s != 'Z' && s != 'X'))
    }

    /// SIGKILL is delivered asynchronously: a process killed just before
    /// `run_process` returned may take a moment to die. Polls for up to 10 s.
    pub fn eventually(mut dead: impl FnMut() -> bool) -> bool {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < until {
            if dead() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        dead()
    }

    pub fn pid_gone(pid: i32) -> bool {
        eventually(|| !pid_alive(pid))
    }

    pub fn group_gone(pgid: u32) -> bool {
        eventually(|| !group_alive(pgid as i32))
    }
}
use common::{group_gone, pid_gone};

fn sh(script: &str, dir: &Path) -> ProcessSpec {
    ProcessSpec {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        env: Vec::new(),
        cwd: dir.to_path_buf(),
        stdin: StdinSource::Null,
        log_path: Some(dir.join("logs/task.log")),
        timeout: Some(Duration::from_secs(120)),
        grace: Duration::from_secs(2),
        leak_timeout: Duration::from_secs(2),
    }
}

struct Run {
    outcome: ProcessOutcome,
    started: Vec<u32>,
    lines: Vec<(OutputStream, String)>,
}

impl Run {
    fn stdout(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|(s, _)| *s == OutputStream::Stdout)
            .map(|(_, l)| l.as_str())
            .collect()
    }
}

async fn run_with(spec: ProcessSpec, stop: watch::Receiver<StopLevel>) -> Run {
    try_run(spec, stop).await.expect("run_process failed")
}

async fn try_run(spec: ProcessSpec, stop: watch::Receiver<StopLevel>) -> Result<Run, ExecError> {
    let mut started = Vec::new();
    let mut lines = Vec::new();
    let mut on_event = |e: ProcessEvent<'_>| match e {
        ProcessEvent::Started { pid } => started.push(pid),
        ProcessEvent::Line(s, l) => lines.push((s, l.to_string())),
    };
    let outcome = run_process(spec, stop, &mut on_event).await?;
    Ok(Run {
        outcome,
        started,
        lines,
    })
}

async fn run(spec: ProcessSpec) -> Run {
    let (tx, rx) = watch::channel(StopLevel::Run);
    let r = run_with(spec, rx).await;
    drop(tx);
    r
}

/// Sends `levels` at the given delays after the call, on its own task.
fn stop_later(tx: watch::Sender<StopLevel>, plan: Vec<(u64, StopLevel)>) {
    tokio::spawn(async move {
        for (ms, level) in plan {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            tx.send_replace(level);
        }
        // Keep the sender alive so the receiver does not see it dropped.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
}

fn log_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("logs/task.log")).unwrap()
}

fn first_pid(run: &Run) -> i32 {
    run.stdout()[0].trim().parse().expect("grandchild pid line")
}

#[tokio::test]
async fn lines_arrive_in_order_and_go_to_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(sh(
        "for i in $(seq 1 200); do echo line$i; done; echo oops >&2; printf 'no newline'",
        dir.path(),
    ))
    .await;
    assert_eq!(r.started, [r.outcome.pid]);
    assert_eq!(r.outcome.status, ExitStatusKind::Code(0));
    assert!(!r.outcome.timed_out && !r.outcome.leaked && r.outcome.stopped.is_none());

    let mut expected: Vec<String> = (1..=200).map(|i| format!("line{i}")).collect();
    expected.push("no newline".into());
    assert_eq!(r.stdout(), expected);
    assert!(r.lines.contains(&(OutputStream::Stderr, "oops".into())));

    let log = log_text(dir.path());
    // The two streams interleave as their chunks arrive; each is in order.
    let (err, out): (Vec<&str>, Vec<&str>) = log.lines().partition(|l| l.starts_with("[stderr] "));
    assert_eq!(out, expected);
    assert_eq!(err, ["[stderr] oops"]);
    assert!(log.ends_with('\n'));
}

#[tokio::test]
async fn tail_keeps_the_last_lines_of_both_streams() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(sh(
        "for i in $(seq 1 50); do echo line$i; done; sleep 0.1; echo last-err >&2",
        dir.path(),
    ))
    .await;
    assert_eq!(r.outcome.tail.len(), 20);
    assert_eq!(r.outcome.tail[18], "line50");
    assert_eq!(r.outcome.tail[19], "[stderr] last-err");
}

#[tokio::test]
async fn log_is_appended_and_parent_dirs_created() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("echo one", dir.path());
    spec.log_path = Some(dir.path().join("a/b/c/run.log"));
    run(spec.clone()).await;
    spec.args[1] = "echo two".into();
    run(spec).await;
    let log = std::fs::read_to_string(dir.path().join("a/b/c/run.log")).unwrap();
    assert_eq!(log, "one\ntwo\n");
}

#[tokio::test]
async fn exit_codes_and_signals() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(sh("exit 3", dir.path())).await;
    assert_eq!(r.outcome.status, ExitStatusKind::Code(3));
    let r = run(sh("kill -9 $$", dir.path())).await;
    assert_eq!(r.outcome.status, ExitStatusKind::Signal(9));
}

#[tokio::test]
async fn env_and_cwd_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("echo \"$FOO\"; pwd -P", dir.path());
    spec.env.push(("FOO".into(), "bar baz".into()));
    spec.log_path = None;
    let r = run(spec).await;
    let cwd = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(r.stdout(), ["bar baz", cwd.to_str().unwrap()]);
}

#[tokio::test]
async fn timeout_kills_the_whole_process_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("sleep 1000 & echo $!; wait", dir.path());
    spec.timeout = Some(Duration::from_millis(300));
    let r = run(spec).await;
    assert!(r.outcome.timed_out);
    assert!(r.outcome.stopped.is_none());
    assert_eq!(r.outcome.status, ExitStatusKind::Signal(15));
    assert!(r.outcome.duration < Duration::from_secs(60));
    let grandchild = first_pid(&r);
    assert!(pid_gone(grandchild), "grandchild {grandchild} survived");
    assert!(group_gone(r.outcome.pid), "process group survived");
}

#[tokio::test]
async fn child_ignoring_sigterm_is_killed_after_grace() {
    let dir = tempfile::tempdir().unwrap();
    // The ignored disposition is inherited by the grandchild too.
    let mut spec = sh("trap '' TERM; sleep 1000 & echo $!; wait", dir.path());
    // Long enough for the shell to have set its trap before the SIGTERM.
    spec.timeout = Some(Duration::from_millis(1000));
    spec.grace = Duration::from_millis(500);
    let r = run(spec).await;
    assert!(r.outcome.timed_out);
    assert_eq!(r.outcome.status, ExitStatusKind::Signal(9));
    assert!(r.outcome.duration >= Duration::from_millis(1500));
    assert!(r.outcome.duration < Duration::from_secs(60));
    assert!(pid_gone(first_pid(&r)));
    assert!(group_gone(r.outcome.pid));
}

#[tokio::test]
async fn stop_terminate() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = watch::channel(StopLevel::Run);
    stop_later(tx, vec![(200, StopLevel::Terminate)]);
    let r = run_with(sh("sleep 1000 & echo $!; wait", dir.path()), rx).await;
    assert_eq!(r.outcome.stopped, Some(StopLevel::Terminate));
    assert!(!r.outcome.timed_out);
    assert_eq!(r.outcome.status, ExitStatusKind::Signal(15));
    assert!(pid_gone(first_pid(&r)));
    assert!(group_gone(r.outcome.pid));
}

#[tokio::test]
async fn stop_kill_is_immediate() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = watch::channel(StopLevel::Run);
    stop_later(tx, vec![(200, StopLevel::Kill)]);
    let mut spec = sh("trap '' TERM; sleep 1000", dir.path());
    spec.grace = Duration::from_secs(600);
    let r = run_with(spec, rx).await;
    assert_eq!(r.outcome.stopped, Some(StopLevel::Kill));
    assert_eq!(r.outcome.status, ExitStatusKind::Signal(9));
    assert!(r.outcome.duration < Duration::from_secs(60));
}

#[tokio::test]
async fn kill_after_terminate_escalates_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = watch::channel(StopLevel::Run);
    let tx = std::sync::Arc::new(tx);
    // Requests are raised once the shell has set its trap and printed the
    // grandchild's pid, so the SIGTERM is certainly ignored.
    let mut lines = Vec::new();
    let mut on_event = |e: ProcessEvent<'_>| {
        if let ProcessEvent::Line(OutputStream::Stdout, l) = e {
            lines.push(l.to_string());
            tx.send_replace(StopLevel::Terminate);
            let tx = tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                tx.send_replace(StopLevel::Kill);
            });
        }
    };
    let mut spec = sh("trap '' TERM; sleep 1000 & echo $!; wait", dir.path());
    spec.grace = Duration::from_secs(600);
    let outcome = run_process(spec, rx, &mut on_event).await.unwrap();
    assert_eq!(outcome.stopped, Some(StopLevel::Kill));
    assert_eq!(outcome.status, ExitStatusKind::Signal(9));
    assert!(outcome.duration >= Duration::from_millis(300));
    assert!(outcome.duration < Duration::from_secs(60));
    assert!(pid_gone(lines[0].parse().unwrap()));
}

#[tokio::test]
async fn stop_raised_before_the_start_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = watch::channel(StopLevel::Run);
    tx.send_replace(StopLevel::Kill);
    let r = run_with(sh("sleep 1000", dir.path()), rx).await;
    drop(tx);
    assert_eq!(r.outcome.stopped, Some(StopLevel::Kill));
    assert_eq!(r.outcome.status, ExitStatusKind::Signal(9));
}

#[tokio::test]
async fn dropped_stop_sender_means_no_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = watch::channel(StopLevel::Run);
    drop(tx);
    let r = run_with(sh("sleep 0.2; echo done", dir.path()), rx).await;
    assert_eq!(r.outcome.status, ExitStatusKind::Code(0));
    assert_eq!(r.stdout(), ["done"]);
    assert!(r.outcome.stopped.is_none());
}

#[tokio::test]
async fn leaked_grandchild_holding_stdout_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("sleep 1000 & echo $!; echo parent-done", dir.path());
    spec.leak_timeout = Duration::from_millis(500);
    let r = run(spec).await;
    assert!(r.outcome.leaked);
    assert!(!r.outcome.timed_out);
    assert_eq!(r.outcome.status, ExitStatusKind::Code(0));
    assert_eq!(r.stdout()[1], "parent-done");
    assert!(r.outcome.duration >= Duration::from_millis(500));
    assert!(r.outcome.duration < Duration::from_secs(30));
    assert!(pid_gone(first_pid(&r)));
    assert!(group_gone(r.outcome.pid));
}

#[tokio::test]
async fn detached_grandchild_not_holding_pipes_is_killed_too() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(sh("sleep 1000 >/dev/null 2>&1 & echo $!", dir.path())).await;
    assert!(!r.outcome.leaked);
    assert_eq!(r.outcome.status, ExitStatusKind::Code(0));
    assert!(pid_gone(first_pid(&r)));
    assert!(group_gone(r.outcome.pid));
}

#[tokio::test]
async fn twenty_megabytes_of_output() {
    let dir = tempfile::tempdir().unwrap();
    let script = "import sys\n\
                  line = 'x' * 999 + '\\n'\n\
                  sys.stdout.write(line * 20000)\n\
                  sys.stdout.write('y' * (3 << 20) + '\\n')\n\
                  sys.stderr.write('e' * 100 + '\\n')\n\
                  print('end')\n";
    let spec = ProcessSpec {
        program: "python3".into(),
        args: vec!["-c".into(), script.into()],
        ..sh("", dir.path())
    };
    let mut count = 0usize;
    let mut longest = 0usize;
    let mut last = String::new();
    let mut on_event = |e: ProcessEvent<'_>| {
        if let ProcessEvent::Line(OutputStream::Stdout, l) = e {
            count += 1;
            longest = longest.max(l.len());
            last = l.to_string();
        }
    };
    let (_tx, rx) = watch::channel(StopLevel::Run);
    let outcome = run_process(spec, rx, &mut on_event).await.unwrap();
    assert_eq!(outcome.status, ExitStatusKind::Code(0));
    assert_eq!(count, 20_002);
    assert_eq!(longest, 1 << 20, "long lines are capped at 1 MiB");
    assert_eq!(last, "end");
    assert!(outcome.tail.iter().all(|l| l.len() <= 4096 + 9));

    let log = dir.path().join("logs/task.log");
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size > 20_000_000 + (1 << 20) && size < 22_000_000, "{size}");
    let text = std::fs::read_to_string(&log).unwrap();
    let truncated = 3 * (1 << 20) - (1 << 20);
    assert!(text.contains(&format!(" [... {truncated} bytes truncated]\n")));
    assert!(text.ends_with("end\n") || text.contains("\nend\n"));
}

#[tokio::test]
async fn stdin_bytes_reach_the_child_then_eof() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("cat; echo EOF-SEEN", dir.path());
    spec.stdin = StdinSource::Bytes(b"hello\nworld\n".to_vec());
    let r = run(spec).await;
    assert_eq!(r.stdout(), ["hello", "world", "EOF-SEEN"]);

    let mut spec = sh("cat; echo EOF-SEEN", dir.path());
    spec.stdin = StdinSource::Null;
    assert_eq!(run(spec).await.stdout(), ["EOF-SEEN"]);
}

#[tokio::test]
async fn child_not_reading_stdin_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("echo ignoring-stdin", dir.path());
    spec.stdin = StdinSource::Bytes(vec![b'z'; 8 << 20]);
    let r = run(spec).await;
    assert_eq!(r.outcome.status, ExitStatusKind::Code(0));
    assert_eq!(r.stdout(), ["ignoring-stdin"]);
}

#[tokio::test]
async fn spawn_failure_names_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ProcessSpec {
        program: OsString::from("no-such-agent-xyz"),
        args: Vec::new(),
        ..sh("", dir.path())
    };
    let (_tx, rx) = watch::channel(StopLevel::Run);
    let err = try_run(spec, rx).await.err().expect("spawn must fail");
    assert!(matches!(&err, ExecError::Spawn { program, .. } if program == "no-such-agent-xyz"));
    assert!(err.to_string().contains("no-such-agent-xyz"), "{err}");
}

#[tokio::test]
async fn missing_working_directory_is_a_spawn_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sh("true", &PathBuf::from("/nonexistent/dir/xyz"));
    let spec = ProcessSpec {
        log_path: Some(dir.path().join("x.log")),
        ..spec
    };
    let (_tx, rx) = watch::channel(StopLevel::Run);
    let err = try_run(spec, rx).await.err().expect("must fail");
    assert!(matches!(err, ExecError::Spawn { .. }));
    assert!(err.to_string().contains("/nonexistent/dir/xyz"), "{err}");
}

#[tokio::test]
async fn unwritable_log_is_a_log_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let mut spec = sh("true", dir.path());
    spec.log_path = Some(dir.path().join("file/sub/x.log"));
    let (_tx, rx) = watch::channel(StopLevel::Run);
    let err = try_run(spec, rx).await.err().expect("must fail");
    assert!(matches!(err, ExecError::Log { .. }), "{err}");
}

#[test]
fn liveness_helpers_see_a_live_process() {
    // Guards the helpers above against vacuous passes.
    let mut child = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    assert!(common::pid_alive(pid));
    assert!(common::group_alive(nix::unistd::getpgrp().as_raw()));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(pid_gone(pid));
}

#[tokio::test]
async fn dropping_the_future_kills_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = watch::channel(StopLevel::Run);
    let mut pid = 0u32;
    let mut grandchild = 0i32;
    let mut on_event = |e: ProcessEvent<'_>| match e {
        ProcessEvent::Started { pid: p } => pid = p,
        ProcessEvent::Line(_, l) => grandchild = l.parse().unwrap(),
    };
    let spec = sh("sleep 1000 & echo $!; wait", dir.path());
    // Cancel the run once the grandchild exists (its pid is printed).
    let run = run_process(spec, rx, &mut on_event);
    let cancelled = tokio::time::timeout(Duration::from_millis(1500), run).await;
    assert!(cancelled.is_err(), "the run should still be going");
    assert!(pid > 0 && grandchild > 0);
    assert!(group_gone(pid));
    assert!(pid_gone(grandchild));
}

#[tokio::test]
async fn huge_durations_mean_never() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("echo hi", dir.path());
    spec.timeout = Some(Duration::MAX);
    spec.grace = Duration::MAX;
    spec.leak_timeout = Duration::MAX;
    let r = run(spec).await;
    assert_eq!(r.stdout(), ["hi"]);
    assert!(!r.outcome.timed_out);
}
