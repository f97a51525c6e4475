//! The agent layer end to end against `tests/fixtures/fake-agent`, a stand-in
//! for the Claude Code CLI: build_invocation → run_process (observer fed
//! from the output) → classify.

use chrono::Utc;
use roadmap_runner::agent::command::root_permission_problem;
use roadmap_runner::agent::{
    AgentReport, StreamObserver, TaskEnv, TaskOutcome, build_invocation, classify, display_command,
};
use roadmap_runner::config::{AgentSettings, CLAUDE_ARGS, OutputFormat};
use roadmap_runner::exec::{
    ExitStatusKind, OutputStream, ProcessEvent, ProcessOutcome, StopLevel, run_process,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

fn fake_agent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-agent")
}

/// A temp project dir with the fake agent configured like the default Claude
/// command line.
struct Harness {
    dir: tempfile::TempDir,
    settings: AgentSettings,
    timeout: Duration,
    grace: Duration,
    leak_timeout: Duration,
}

struct AgentRun {
    outcome: TaskOutcome,
    report: AgentReport,
    process: ProcessOutcome,
    observer: StreamObserver,
    activities: Vec<String>,
}

impl AgentRun {
    fn reason(&self) -> &str {
        match &self.outcome {
            TaskOutcome::Failed { reason, .. } => reason,
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut command = vec![fake_agent().to_string_lossy().into_owned()];
        command.extend(CLAUDE_ARGS.iter().map(|s| s.to_string()));
        let env = BTreeMap::from([
            // The tests may run as root (containers): the real CLI then
            // refuses --dangerously-skip-permissions without this.
            ("IS_SANDBOX".to_string(), "1".to_string()),
            (
                "FAKE_AGENT_STATE_DIR".to_string(),
                dir.path().join("state").to_string_lossy().into_owned(),
            ),
            (
                "FAKE_AGENT_LOG".to_string(),
                dir.path()
                    .join("invocations.jsonl")
                    .to_string_lossy()
                    .into_owned(),
            ),
        ]);
        let settings = AgentSettings {
            command,
            extra_args: Vec::new(),
            env,
            prompt_template: None,
            output: OutputFormat::StreamJson,
            resume_args: vec!["--resume".into(), "{session_id}".into()],
            max_budget_usd: None,
        };
        std::fs::create_dir_all(dir.path().join("project")).unwrap();
        Harness {
            dir,
            settings,
            timeout: Duration::from_secs(120),
            grace: Duration::from_secs(2),
            leak_timeout: Duration::from_millis(500),
        }
    }

    fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    fn task_env(&self, task: &str) -> TaskEnv {
        TaskEnv {
            phase: 1.into(),
            group: "A".into(),
            task_id: task.into(),
            task_title: format!("Title of {task}"),
            log_file: self.log_path(task),
            split_file: None,
        }
    }

    fn log_path(&self, task: &str) -> PathBuf {
        self.dir.path().join(format!("logs/{task}.log"))
    }

    async fn run(&self, task: &str, prompt: &str) -> AgentRun {
        let (_tx, rx) = watch::channel(StopLevel::Run);
        self.run_full(task, prompt, None, rx, |_, _| {}).await
    }

    async fn run_full(
        &self,
        task: &str,
        prompt: &str,
        resume: Option<&str>,
        stop: watch::Receiver<StopLevel>,
        mut on_line: impl FnMut(u32, &str) + Send,
    ) -> AgentRun {
        let inv = build_invocation(&self.settings, prompt, resume, &self.task_env(task));
        let spec = inv.into_spec(
            self.project(),
            Some(self.log_path(task)),
            Some(self.timeout),
            self.grace,
            self.leak_timeout,
        );
        let mut observer = StreamObserver::new();
        let mut activities: Vec<String> = Vec::new();
        let mut pid = 0;
        let mut on_event = |e: ProcessEvent<'_>| match e {
            ProcessEvent::Started { pid: p } => pid = p,
            ProcessEvent::Line(OutputStream::Stdout, line) => {
                observer.observe(line);
                if let Some(a) = observer.last_activity()
                    && activities.last().map(String::as_str) != Some(a)
                {
                    activities.push(a.to_string());
                }
                on_line(pid, line);
            }
            ProcessEvent::Line(OutputStream::Stderr, line) => observer.observe_stderr(line),
        };
        let process = run_process(spec, stop, &mut on_event)
            .await
            .expect("agent process runs");
        let (outcome, report) = classify(&process, &observer, self.settings.output, self.timeout);
        AgentRun {
            outcome,
            report,
            process,
            observer,
            activities,
        }
    }

    fn invocations(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("invocations.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn pid_alive(pid: i32) -> bool {
    // A zombie is dead: this container's init may never reap orphans.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat[stat.rfind(')').unwrap() + 2..].chars().next().unwrap();
            state != 'Z' && state != 'X'
        }
    }
}

fn eventually_dead(pid: i32) -> bool {
    for _ in 0..500 {
        if !pid_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[tokio::test]
async fn success() {
    let h = Harness::new();
    let r = h
        .run("A1", "Implement A1.\n- FAKE: write src/a1.txt done by A1\n")
        .await;
    assert_eq!(r.outcome, TaskOutcome::Succeeded, "{:?}", r.process.tail);
    assert_eq!(r.report.result_text.as_deref(), Some("Implemented A1"));
    assert_eq!(r.report.cost_usd, Some(0.0123));
    assert!(r.report.num_turns.unwrap() >= 1);
    assert!(r.report.usage.is_some());
    let session = r.report.session_id.clone().unwrap();
    assert_eq!(session.len(), 36, "{session}");
    assert_eq!(
        std::fs::read_to_string(h.project().join("src/a1.txt")).unwrap(),
        "done by A1\n"
    );
    // The live view saw the tool use, then the closing text.
    assert!(
        r.activities
            .iter()
            .any(|a| a.starts_with("Tool: Write ") && a.ends_with("src/a1.txt")),
        "{:?}",
        r.activities
    );
    assert_eq!(r.observer.last_activity(), Some("Implemented A1."));

    // The prompt went through stdin, not argv; the env named the task.
    let inv = h.invocations();
    assert_eq!(inv.len(), 2);
    assert_eq!(inv[0]["event"], "start");
    assert_eq!(inv[1]["event"], "end");
    assert_eq!(inv[0]["task"], "A1");
    assert_eq!(
        inv[0]["pgid"], inv[0]["pid"],
        "the agent leads its own group"
    );
    let argv: Vec<&str> = inv[0]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(argv, CLAUDE_ARGS);

    let log = std::fs::read_to_string(h.log_path("A1")).unwrap();
    assert!(log.lines().next().unwrap().contains(r#""subtype":"init""#));
    assert!(log.lines().last().unwrap().contains(r#""type":"result""#));
}

#[tokio::test]
async fn failure_with_exit_code() {
    let h = Harness::new();
    let r = h.run("A2", "FAKE: fail 3").await;
    match &r.outcome {
        TaskOutcome::Failed {
            exit_code, signal, ..
        } => assert_eq!((*exit_code, *signal), (Some(3), None)),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.reason(), "exit code 3: Simulated failure of A2");
}

#[tokio::test]
async fn error_result_with_exit0_is_a_failure() {
    let h = Harness::new();
    let r = h.run("A3", "FAKE: error-result").await;
    assert_eq!(r.process.status, ExitStatusKind::Code(0));
    let result = r.observer.result().unwrap();
    assert_eq!(
        (result.subtype.as_deref(), result.is_error),
        (Some("success"), true)
    );
    assert!(r.reason().contains("API Error: 500"), "{}", r.reason());
}

#[tokio::test]
async fn auth_failure() {
    let h = Harness::new();
    let r = h.run("A4", "FAKE: auth-fail").await;
    assert_eq!(r.process.status, ExitStatusKind::Code(1));
    assert_eq!(
        r.outcome,
        TaskOutcome::AuthFailure {
            message: "Not logged in · Please run /login".into()
        }
    );
}

#[tokio::test]
async fn usage_limit_then_resume_succeeds() {
    let h = Harness::new();
    let before = Utc::now();
    let prompt = "Implement B1\nFAKE: rate-limit 120\n";
    let first = h.run("B1", prompt).await;
    let TaskOutcome::UsageLimit { resets_at, message } = &first.outcome else {
        panic!("{:?}", first.outcome)
    };
    assert_eq!(message, "You've hit your session limit · resets 3pm");
    let resets_at = resets_at.expect("reset time from the rate_limit_event");
    assert!(resets_at >= before + chrono::Duration::seconds(110));
    assert!(resets_at <= Utc::now() + chrono::Duration::seconds(130));
    let session = first.report.session_id.clone().expect("session id");

    let (_tx, rx) = watch::channel(StopLevel::Run);
    let second = h
        .run_full("B1", prompt, Some(&session), rx, |_, _| {})
        .await;
    assert_eq!(second.outcome, TaskOutcome::Succeeded);
    assert_eq!(second.report.session_id.as_deref(), Some(session.as_str()));

    let inv = h.invocations();
    let argv = inv.iter().filter(|i| i["event"] == "start").nth(1).unwrap()["argv"].clone();
    let argv: Vec<String> = serde_json::from_value(argv).unwrap();
    assert_eq!(argv[argv.len() - 2..], ["--resume".to_string(), session]);

    // Resuming a session that does not exist fails like the real CLI.
    let (_tx, rx) = watch::channel(StopLevel::Run);
    let bad = h
        .run_full("B1", prompt, Some("no-such-session"), rx, |_, _| {})
        .await;
    assert!(
        bad.reason().contains("No conversation found"),
        "{}",
        bad.reason()
    );
}

#[tokio::test]
async fn mentions_of_limits_are_not_misread() {
    let h = Harness::new();
    let r = h.run("A5", "FAKE: mention-limits").await;
    assert_eq!(r.outcome, TaskOutcome::Succeeded, "{:?}", r.process.tail);
    let log = std::fs::read_to_string(h.log_path("A5")).unwrap();
    assert!(log.contains("rate limit") && log.contains("Not logged in"));
}

#[tokio::test]
async fn stream_json_without_verbose_is_refused() {
    let mut h = Harness::new();
    h.settings.command = vec![
        fake_agent().to_string_lossy().into_owned(),
        "-p".into(),
        "--output-format".into(),
        "stream-json".into(),
    ];
    let r = h.run("A6", "do it").await;
    assert_eq!(r.process.status, ExitStatusKind::Code(1));
    assert_eq!(
        r.reason(),
        "exit code 1: Error: When using --print, --output-format=stream-json requires --verbose"
    );
}

#[tokio::test]
async fn unknown_option_is_refused() {
    let mut h = Harness::new();
    h.settings.extra_args = vec!["--frobnicate".into()];
    let r = h.run("A7", "do it").await;
    assert_eq!(
        r.reason(),
        "exit code 1: error: unknown option '--frobnicate'"
    );
}

#[tokio::test]
async fn root_without_sandbox_is_refused() {
    let mut h = Harness::new();
    h.settings
        .env
        .insert("IS_SANDBOX".to_string(), "0".to_string());
    let root = nix::unistd::geteuid().is_root();
    // The preflight check predicts what the CLI will do.
    assert_eq!(
        root_permission_problem(&h.settings, root, None).is_some(),
        root
    );
    let r = h.run("A8", "do it").await;
    if root {
        assert!(
            r.reason()
                .contains("cannot be used with root/sudo privileges"),
            "{}",
            r.reason()
        );
    } else {
        assert_eq!(r.outcome, TaskOutcome::Succeeded);
    }
}

#[tokio::test]
async fn timeout_on_hang() {
    let mut h = Harness::new();
    h.timeout = Duration::from_secs(1);
    let r = h.run("A9", "FAKE: hang").await;
    assert_eq!(r.outcome, TaskOutcome::TimedOut { after_secs: 1 });
    assert_eq!(r.process.status, ExitStatusKind::Signal(15));
}

#[tokio::test]
async fn agent_ignoring_sigterm_is_killed_after_grace() {
    let mut h = Harness::new();
    // Long enough for python to start and ignore SIGTERM before it comes.
    h.timeout = Duration::from_secs(3);
    h.grace = Duration::from_millis(500);
    let r = h.run("A10", "FAKE: ignore-term\nFAKE: hang\n").await;
    assert_eq!(r.outcome, TaskOutcome::TimedOut { after_secs: 3 });
    assert_eq!(r.process.status, ExitStatusKind::Signal(9));
    assert!(r.process.duration >= Duration::from_millis(3500));
}

#[tokio::test]
async fn grandchild_is_killed() {
    let mut h = Harness::new();
    let pidfile = h.dir.path().join("grandchild.pid");
    h.settings.env.insert(
        "FAKE_AGENT_GRANDCHILD_PIDFILE".into(),
        pidfile.to_string_lossy().into_owned(),
    );
    let r = h.run("A11", "FAKE: grandchild 1000").await;
    // The agent itself finished its task; the leftover was cleaned up.
    assert_eq!(r.outcome, TaskOutcome::Succeeded);
    assert!(r.process.leaked, "the grandchild held stdout open");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(eventually_dead(pid), "grandchild {pid} survived");
}

#[tokio::test]
async fn stop_request_interrupts() {
    let h = Harness::new();
    let (tx, rx) = watch::channel(StopLevel::Run);
    let r = h
        .run_full(
            "A12",
            "FAKE: write ready.txt x\nFAKE: hang",
            None,
            rx,
            |_, line| {
                if line.contains("ready.txt") {
                    tx.send_replace(StopLevel::Terminate);
                }
            },
        )
        .await;
    assert_eq!(r.outcome, TaskOutcome::Interrupted);
    assert_eq!(r.process.stopped, Some(StopLevel::Terminate));
}

#[tokio::test]
async fn exit0_after_sigint_is_not_success() {
    // Someone else (a terminal's Ctrl-C) interrupts the agent: Claude exits 0
    // with an error_during_execution result.
    let h = Harness::new();
    let (_tx, rx) = watch::channel(StopLevel::Run);
    let mut sent = false;
    let r = h
        .run_full(
            "A13",
            "FAKE: exit-after-sigint\nFAKE: write ready.txt x\nFAKE: hang",
            None,
            rx,
            |pid, line| {
                if !sent && line.contains("ready.txt") {
                    sent = true;
                    nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGINT,
                    )
                    .unwrap();
                }
            },
        )
        .await;
    assert_eq!(r.process.status, ExitStatusKind::Code(0));
    assert_eq!(
        r.observer.result().unwrap().subtype.as_deref(),
        Some("error_during_execution")
    );
    assert!(!r.outcome.is_success());
    assert!(
        r.reason()
            .starts_with("exit code 0 but the agent reported an error")
    );
}

#[tokio::test]
async fn flood_of_output() {
    let h = Harness::new();
    let r = h.run("A14", "FAKE: flood 5").await;
    assert_eq!(r.outcome, TaskOutcome::Succeeded);
    assert!(
        r.observer.event_count() > 3000,
        "{}",
        r.observer.event_count()
    );
    let size = std::fs::metadata(h.log_path("A14")).unwrap().len();
    assert!(size > 5_000_000, "{size}");
}

#[tokio::test]
async fn parallel_agents_overlap() {
    let h = Harness::new();
    let prompt = "FAKE: sleep 0.5";
    let (a, b, c) = tokio::join!(
        h.run("C1", prompt),
        h.run("C2", prompt),
        h.run("C3", prompt)
    );
    for r in [&a, &b, &c] {
        assert_eq!(r.outcome, TaskOutcome::Succeeded);
    }
    // Max concurrency from the invocation log, as the runner's tests do it.
    let mut events: Vec<(f64, i32)> = h
        .invocations()
        .iter()
        .map(|i| {
            if i["event"] == "start" {
                (i["start"].as_f64().unwrap(), 1)
            } else {
                (i["end"].as_f64().unwrap(), -1)
            }
        })
        .collect();
    events.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let (mut now, mut max) = (0, 0);
    for (_, d) in events {
        now += d;
        max = max.max(now);
    }
    assert_eq!(max, 3);
}

#[tokio::test]
async fn plain_format_with_text_output() {
    let mut h = Harness::new();
    h.settings.command = vec![
        fake_agent().to_string_lossy().into_owned(),
        "-p".into(),
        "--output-format".into(),
        "text".into(),
    ];
    h.settings.output = OutputFormat::Plain;
    let r = h.run("A15", "do it").await;
    assert_eq!(r.outcome, TaskOutcome::Succeeded);
    let r = h.run("A15", "FAKE: fail 4").await;
    assert_eq!(r.reason(), "exit code 4: Simulated failure of A15");
}

#[test]
fn display_command_is_copy_pasteable() {
    let h = Harness::new();
    let mut settings = h.settings.clone();
    settings.extra_args = vec!["--append-system-prompt".into(), "Don't push".into()];
    let inv = build_invocation(&settings, "prompt", None, &h.task_env("A1"));
    let shown = display_command(&inv);
    assert!(
        shown.ends_with("-p --output-format stream-json --verbose --dangerously-skip-permissions --append-system-prompt 'Don'\\''t push'"),
        "{shown}"
    );
    // The shell reads back the same argv.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf '%s\\n' {}",
            shown.split_once(' ').unwrap().1
        ))
        .output()
        .unwrap();
    let words: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let expected: Vec<String> = inv
        .args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(words, expected);
}
