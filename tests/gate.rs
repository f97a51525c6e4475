//! The gate: detection on sample projects (`tests/fixtures/projects/`), the
//! configured form, and running steps for real.

use roadmap_runner::config::{CommandSpec, DurationValue, GateSettings, GateStepConfig};
use roadmap_runner::exec::StopLevel;
use roadmap_runner::gate::{
    GatePlan, GateProgress, GateReport, NO_GATE_NOTE, StepSource, StepStatus, plan_gate, run_gate,
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name)
}

/// A fixture copied into a temp dir, so running it writes nothing into the repo.
fn fixture_copy(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), tmp.path());
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn detect() -> GateSettings {
    GateSettings {
        enabled: true,
        steps: None,
    }
}

fn plan(dir: &Path) -> GatePlan {
    plan_gate(dir, &detect()).unwrap()
}

fn displays(plan: &GatePlan) -> Vec<(&str, &str)> {
    plan.steps
        .iter()
        .map(|s| (s.name.as_str(), s.display.as_str()))
        .collect()
}

fn step(name: &str, shell: &str) -> GateStepConfig {
    GateStepConfig {
        name: name.into(),
        command: CommandSpec::Shell(shell.into()),
        fatal: None,
        timeout: None,
    }
}

fn configured(steps: Vec<GateStepConfig>) -> GateSettings {
    GateSettings {
        enabled: true,
        steps: Some(steps),
    }
}

// ------------------------------------------------------------------ detection

#[test]
fn node_project_uses_npm_without_lockfile() {
    let plan = plan(&fixture("node"));
    assert_eq!(
        displays(&plan),
        [
            ("typecheck", "npm run typecheck"),
            ("lint", "npm run lint"),
            ("test", "npm test"),
            ("build", "npm run build"),
        ]
    );
    let lint = plan.step("lint").unwrap();
    assert!(!lint.fatal, "lint only warns by default");
    assert!(
        plan.steps
            .iter()
            .filter(|s| s.name != "lint")
            .all(|s| s.fatal)
    );
    assert_eq!(lint.argv, ["npm", "run", "lint"]);
    assert_eq!(lint.timeout, None);
    match &lint.source {
        StepSource::Detected { what } => assert!(what.starts_with("package.json script `lint`")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn node_project_with_pnpm_lockfile() {
    let plan = plan(&fixture("node-pnpm"));
    assert_eq!(
        displays(&plan),
        [
            ("typecheck", "pnpm run typecheck"),
            ("lint", "pnpm run lint"),
            ("test", "pnpm run test"),
            ("build", "pnpm run build"),
        ]
    );
    assert!(plan.steps[0].source.to_string().contains("pnpm-lock.yaml"));
    if which::which("pnpm").is_err() {
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("`pnpm` is not on PATH") && n.contains("crontab")),
            "{:?}",
            plan.notes
        );
    }
}

#[test]
fn node_package_managers_and_missing_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("package.json"),
        r#"{"scripts": {"type-check": "tsc --noEmit", "test": "echo \"Error: no test specified\" && exit 1"}}"#,
    )
    .unwrap();
    let p = plan(dir);
    assert_eq!(displays(&p), [("typecheck", "npm run type-check")]);
    for expected in [
        "package.json has no \"lint\" script: step skipped",
        "package.json has no \"build\" script: step skipped",
    ] {
        assert!(p.notes.iter().any(|n| n == expected), "{:?}", p.notes);
    }
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("placeholder") && n.contains("step skipped")),
        "{:?}",
        p.notes
    );

    std::fs::write(
        dir.join("package.json"),
        r#"{"scripts": {"test": "vitest run", "build": "vite build"}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("yarn.lock"), "").unwrap();
    assert_eq!(
        displays(&plan(dir)),
        [("test", "yarn test"), ("build", "yarn run build")]
    );
    std::fs::remove_file(dir.join("yarn.lock")).unwrap();
    std::fs::write(dir.join("bun.lockb"), "").unwrap();
    assert_eq!(
        displays(&plan(dir)),
        [("test", "bun run test"), ("build", "bun run build")]
    );
    std::fs::remove_file(dir.join("bun.lockb")).unwrap();
    std::fs::write(
        dir.join("package.json"),
        r#"{"packageManager": "pnpm@9.1.0", "scripts": {"lint": "eslint ."}}"#,
    )
    .unwrap();
    assert_eq!(displays(&plan(dir)), [("lint", "pnpm run lint")]);
}

#[test]
fn broken_package_json_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("package.json"), "{ \"scripts\": ").unwrap();
    let err = plan_gate(tmp.path(), &detect()).unwrap_err().to_string();
    assert!(err.contains("package.json is not valid JSON"), "{err}");
    assert!(err.contains("[gate]"), "{err}");
}

#[test]
fn cargo_project() {
    let plan = plan(&fixture("cargo"));
    assert_eq!(
        displays(&plan),
        [
            ("typecheck", "cargo check --all-targets"),
            ("lint", "cargo clippy --all-targets"),
            ("test", "cargo test"),
            ("build", "cargo build --release"),
        ]
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"a\"]\n",
    )
    .unwrap();
    assert_eq!(
        plan_gate(tmp.path(), &detect()).unwrap().steps[2].display,
        "cargo test --workspace"
    );
}

#[test]
fn python_project_runs_only_what_is_configured() {
    let plan = plan(&fixture("python"));
    assert_eq!(
        displays(&plan),
        [
            ("typecheck", "mypy ."),
            ("lint", "ruff check ."),
            ("test", "pytest")
        ]
    );
    assert!(plan.step("build").is_none());

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n[tool.pytest.ini_options]\naddopts = \"-q\"\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("uv.lock"), "").unwrap();
    let p = plan_gate(tmp.path(), &detect()).unwrap();
    assert_eq!(displays(&p), [("test", "uv run pytest")]);
    assert!(
        p.notes.iter().any(|n| n.contains("no [tool.mypy]")),
        "{:?}",
        p.notes
    );
    assert!(
        p.notes.iter().any(|n| n.contains("no [tool.ruff]")),
        "{:?}",
        p.notes
    );
}

#[test]
fn makefile_targets() {
    let plan = plan(&fixture("make"));
    assert_eq!(
        displays(&plan),
        [
            ("lint", "make lint"),
            ("test", "make test"),
            ("build", "make build")
        ]
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n == "Makefile has no \"typecheck\" target: step skipped"),
        "{:?}",
        plan.notes
    );
}

#[test]
fn ecosystems_combine_per_step_with_package_json_first() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("package.json"),
        r#"{"scripts": {"lint": "eslint ."}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("Makefile"),
        "test:\n\tprove\nlint:\n\tshellcheck *.sh\n",
    )
    .unwrap();
    let p = plan(dir);
    assert_eq!(
        displays(&p),
        [("lint", "npm run lint"), ("test", "make test")]
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.starts_with("Makefile also provides `lint` (`make lint`), not run")),
        "{:?}",
        p.notes
    );
}

#[test]
fn nothing_recognised_says_how_to_configure_a_gate() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("README.md"), "# hello\n").unwrap();
    let plan = plan(tmp.path());
    assert!(plan.steps.is_empty());
    assert_eq!(plan.notes, [NO_GATE_NOTE]);
    let note = &plan.notes[0];
    for needle in [
        "[gate]",
        "roadmap-runner.toml",
        "[[gate.steps]]\nname = \"test\"\ncommand = [\"make\", \"check\"]",
    ] {
        assert!(note.contains(needle), "missing {needle:?} in {note}");
    }
}

#[test]
fn explicit_config_replaces_detection() {
    let settings = configured(vec![
        step("lint", "npm run lint -- --max-warnings 0"),
        GateStepConfig {
            command: CommandSpec::Argv(vec!["make".into(), "check".into()]),
            fatal: Some(false),
            timeout: Some(DurationValue::Text("20m".into())),
            ..step("test", "")
        },
        GateStepConfig {
            fatal: Some(true),
            ..step("e2e", "./e2e.sh")
        },
    ]);
    // The node fixture would be detected; the config wins.
    let plan = plan_gate(&fixture("node"), &settings).unwrap();
    assert_eq!(
        displays(&plan),
        [
            ("lint", "npm run lint -- --max-warnings 0"),
            ("test", "make check"),
            ("e2e", "./e2e.sh"),
        ]
    );
    assert!(!plan.steps[0].fatal && !plan.steps[1].fatal && plan.steps[2].fatal);
    assert_eq!(plan.steps[1].timeout, Some(Duration::from_secs(1200)));
    assert_eq!(plan.steps[0].argv[..2], ["sh", "-c"]);
    assert!(plan.steps.iter().all(|s| s.source == StepSource::Config));

    let bad = configured(vec![GateStepConfig {
        timeout: Some(DurationValue::Text("forever".into())),
        ..step("build", "make")
    }]);
    let err = plan_gate(&fixture("node"), &bad).unwrap_err().to_string();
    assert!(
        err.contains("[[gate.steps]] `build`") && err.contains("forever"),
        "{err}"
    );
}

// -------------------------------------------------------------------- running

struct Run {
    report: GateReport,
    log: String,
    events: Vec<String>,
}

async fn run(plan: &GatePlan, dir: &Path, stop_level: StopLevel) -> Run {
    let log_path = dir.join("logs/gate.log");
    let (_tx, stop) = watch::channel(stop_level);
    let mut events = Vec::new();
    let mut on_step = |p: GateProgress| match p {
        GateProgress::StepStarted { name, .. } => events.push(format!("start {name}")),
        // A step that started has a process group, named before its end.
        GateProgress::StepSpawned { name, pid } => {
            assert!(pid > 1);
            assert_eq!(events.last(), Some(&format!("start {name}")));
        }
        GateProgress::StepFinished { result } => {
            events.push(format!("{} {}", result.name, result.status))
        }
    };
    let report = run_gate(
        plan,
        dir,
        &log_path,
        Duration::from_secs(120),
        stop,
        &mut on_step,
    )
    .await
    .unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    Run {
        report,
        log,
        events,
    }
}

fn statuses(report: &GateReport) -> Vec<(&str, StepStatus)> {
    report
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.status.clone()))
        .collect()
}

#[tokio::test]
async fn empty_plan_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(&GatePlan::default(), tmp.path(), StopLevel::Run).await;
    assert!(r.report.passed);
    assert!(r.report.steps.is_empty());
}

#[tokio::test]
async fn stop_requested_before_the_gate_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_gate(tmp.path(), &configured(vec![step("test", "exit 0")])).unwrap();
    let r = run(&plan, tmp.path(), StopLevel::Terminate).await;
    assert!(!r.report.passed);
    assert_eq!(statuses(&r.report), [("test", StepStatus::NotRun)]);
    assert_eq!(r.events, ["test not run"]);
}

#[tokio::test]
async fn npm_runs_the_node_fixture() {
    assert!(
        which::which("npm").is_ok() && which::which("node").is_ok(),
        "npm and node run the node fixture's gate (.ci/run installs them)"
    );
    let tmp = fixture_copy("node");
    let plan = plan(tmp.path());
    let r = run(&plan, tmp.path(), StopLevel::Run).await;
    assert!(r.report.passed, "{}\n{}", r.report.summary(), r.log);
    assert_eq!(
        statuses(&r.report),
        [
            ("typecheck", StepStatus::Passed),
            ("lint", StepStatus::Passed),
            ("test", StepStatus::Passed),
            ("build", StepStatus::Passed),
        ]
    );
    assert!(tmp.path().join("build-output.txt").is_file());
    let test = &r.report.steps[2];
    assert!(
        test.tail.iter().any(|l| l.contains("tests ok, CI=true")),
        "{:?}",
        test.tail
    );
    for expected in [
        "==> [typecheck] npm run typecheck",
        "typecheck ok",
        "==> [lint] npm run lint",
        "lint ok",
        "==> [test] npm test",
        "==> [build] npm run build",
        "build ok",
        "==> [build] passed after ",
    ] {
        assert!(
            r.log.contains(expected),
            "{expected:?} not in log:\n{}",
            r.log
        );
    }
    // headers come before their step's output, in order
    let pos = |s: &str| r.log.find(s).unwrap();
    assert!(pos("==> [typecheck]") < pos("typecheck ok"));
    assert!(pos("typecheck ok") < pos("==> [lint]"));
    assert!(pos("==> [build]") < pos("build ok"));
    assert_eq!(
        r.events,
        [
            "start typecheck",
            "typecheck passed",
            "start lint",
            "lint passed",
            "start test",
            "test passed",
            "start build",
            "build passed",
        ]
    );
}

#[tokio::test]
async fn fatal_failure_stops_later_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_gate(
        tmp.path(),
        &configured(vec![
            step("typecheck", "echo 'src/a.ts(3,1): error TS2304'; exit 3"),
            step("test", "echo should-not-run"),
            step("build", "echo should-not-run"),
        ]),
    )
    .unwrap();
    let r = run(&plan, tmp.path(), StopLevel::Run).await;
    assert!(!r.report.passed);
    assert_eq!(
        statuses(&r.report),
        [
            ("typecheck", StepStatus::Failed { exit: Some(3) }),
            ("test", StepStatus::NotRun),
            ("build", StepStatus::NotRun),
        ]
    );
    let failure = r.report.failure().unwrap();
    assert_eq!(failure.name, "typecheck");
    assert_eq!(failure.tail, ["src/a.ts(3,1): error TS2304"]);
    assert!(r.log.contains("error TS2304"));
    assert!(!r.log.contains("should-not-run"));
    assert!(!r.log.contains("==> [test]"));
    assert_eq!(
        r.events,
        [
            "start typecheck",
            "typecheck failed (exit 3)",
            "test not run",
            "build not run"
        ]
    );
}

#[tokio::test]
async fn lint_failure_is_only_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_gate(
        tmp.path(),
        &configured(vec![
            step("lint", "echo 'warning: unused variable' >&2; exit 1"),
            step("test", "echo tests ok"),
        ]),
    )
    .unwrap();
    let r = run(&plan, tmp.path(), StopLevel::Run).await;
    assert!(r.report.passed, "{}", r.report.summary());
    assert_eq!(
        statuses(&r.report),
        [
            ("lint", StepStatus::Failed { exit: Some(1) }),
            ("test", StepStatus::Passed),
        ]
    );
    let warnings: Vec<_> = r.report.warnings().map(|s| s.name.as_str()).collect();
    assert_eq!(warnings, ["lint"]);
    assert!(r.report.failure().is_none());
    assert!(
        r.log.contains("[stderr] warning: unused variable"),
        "{}",
        r.log
    );
    assert!(
        r.log.contains("==> [lint] failed (exit 1) after "),
        "{}",
        r.log
    );
    assert!(
        r.log.contains(", warning only\n==> [test] echo tests ok\n"),
        "{}",
        r.log
    );
    assert!(r.log.contains("tests ok"));
}

#[tokio::test]
async fn a_step_over_its_timeout_is_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_gate(
        tmp.path(),
        &configured(vec![
            GateStepConfig {
                timeout: Some(DurationValue::Seconds(1)),
                ..step("test", "echo started; sleep 60")
            },
            step("build", "echo should-not-run"),
        ]),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let r = run(&plan, tmp.path(), StopLevel::Run).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!r.report.passed);
    assert_eq!(
        statuses(&r.report),
        [
            ("test", StepStatus::TimedOut),
            ("build", StepStatus::NotRun)
        ]
    );
    let detail = r.report.steps[0].detail.as_deref().unwrap();
    assert!(detail.contains("1.0s timeout"), "{detail}");
    assert!(r.log.contains("started"));
}

#[tokio::test]
async fn a_missing_program_is_a_failed_step_that_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = configured(vec![GateStepConfig {
        command: CommandSpec::Argv(vec!["roadmap-runner-no-such-program".into()]),
        ..step("test", "")
    }]);
    let plan = plan_gate(tmp.path(), &settings).unwrap();
    let r = run(&plan, tmp.path(), StopLevel::Run).await;
    assert!(!r.report.passed);
    assert_eq!(r.report.steps[0].status, StepStatus::Failed { exit: None });
    let detail = r.report.steps[0].detail.as_deref().unwrap();
    assert!(
        detail.contains("cannot start `roadmap-runner-no-such-program`") && detail.contains("PATH"),
        "{detail}"
    );
    assert!(r.log.contains("cannot start"));
}

#[tokio::test]
async fn a_stop_request_interrupts_the_running_step_and_skips_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_gate(
        tmp.path(),
        &configured(vec![
            step("test", "echo started; sleep 60"),
            step("build", "echo should-not-run"),
        ]),
    )
    .unwrap();
    let (tx, stop) = watch::channel(StopLevel::Run);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        tx.send(StopLevel::Terminate).unwrap();
        tx
    });
    let started = std::time::Instant::now();
    let report = run_gate(
        &plan,
        tmp.path(),
        &tmp.path().join("gate.log"),
        Duration::from_secs(120),
        stop,
        &mut |_| {},
    )
    .await
    .unwrap();
    drop(stopper.await.unwrap());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!report.passed);
    assert_eq!(
        statuses(&report),
        [
            ("test", StepStatus::Interrupted),
            ("build", StepStatus::NotRun)
        ]
    );
    assert_eq!(report.failure().unwrap().name, "test");
}
