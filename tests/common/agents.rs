//! The fakes of the other agent CLIs (tests/fixtures/fake-codex, fake-gemini,
//! ...) as a project's agent, and what every run of one must show.

use super::{Project, argv, assert_exit, fixture, roadmap_with_tasks, stdout, task_records};
use roadmap_runner::agent::TaskOutcome;
use roadmap_runner::status::TaskRecord;
use std::process::Output;

/// Two tasks, each writing a file (the fakes' `FAKE: write` directive).
pub fn two_tasks() -> String {
    roadmap_with_tasks(&[
        ("A1", "FAKE: write a1.txt one"),
        ("A2", "FAKE: write sub/a2.txt two"),
    ])
}

/// [`two_tasks`] run by `kind` (its profile with `extra`) with `args`, to
/// exit 0 with both files written: the project and the run's output.
#[track_caller]
pub fn two_tasks_run(kind: &str, extra: &str, args: &[&str]) -> (Project, Output) {
    let p = Project::with_config(&two_tasks(), &agent_config(kind, extra));
    let out = p.run(args);
    assert_exit(&out, 0);
    assert_eq!(p.read("a1.txt"), "one\n");
    assert_eq!(p.read("sub/a2.txt"), "two\n");
    (p, out)
}

/// `[agent]` choosing `kind`, its binary the fake of that CLI.
pub fn agent_config(kind: &str, extra: &str) -> String {
    format!(
        "[agent]\nkind = \"{kind}\"\n\n[agent.{kind}]\nbinary = \"{}\"\n{extra}",
        fixture(&format!("fake-{kind}")).display()
    )
}

/// Every agent the run started is `cli`, with exactly `expected` as its
/// command line.
#[track_caller]
pub fn assert_every_start(p: &Project, cli: &str, expected: &[&str]) {
    for s in p.agent_starts() {
        assert_eq!(s["cli"], cli);
        assert_eq!(argv(&s), expected);
    }
}

/// The run's task records, each run by `kind` and succeeded.
#[track_caller]
pub fn successful_records(p: &Project, kind: &str) -> Vec<TaskRecord> {
    let records = task_records(p);
    for r in &records {
        assert_eq!(r.agent.as_deref(), Some(kind));
        assert!(r.outcome.is_success(), "{:?}", r.outcome);
    }
    records
}

/// A run of `kind` whose first task fails to log in: it stops with exit 5
/// and starts nothing more. Its output, for the login advice.
#[track_caller]
pub fn auth_failure_output(kind: &str) -> String {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "FAKE: auth-fail"), ("A2", "FAKE: sleep 0.1")]),
        &agent_config(kind, ""),
    );
    let out = p.run(&["--no-commit", "--max-parallel", "1"]);
    assert_exit(&out, 5);
    assert_eq!(
        p.agent_starts().len(),
        1,
        "{kind}: nothing after the failure"
    );
    let r = &task_records(&p)[0];
    assert_eq!(r.outcome.label(), "auth failure", "{kind}: {:?}", r.outcome);
    stdout(&out)
}

/// A one-task run of `kind` (its profile with `extra`) that fails: the
/// failed attempt's exit code and reason.
#[track_caller]
pub fn failed_task(kind: &str, task: &str, extra: &str) -> (Option<i32>, String) {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", task)]),
        &agent_config(kind, extra),
    );
    let out = p.run(&["--no-commit"]);
    assert_ne!(out.status.code(), Some(0));
    match &task_records(&p)[0].outcome {
        TaskOutcome::Failed {
            exit_code, reason, ..
        } => (*exit_code, reason.clone()),
        other => panic!("{kind}: {other:?}"),
    }
}

/// A one-task run of `kind` that hits a usage limit once, waits and runs
/// again, the second attempt succeeding: the first attempt's session, the
/// second start's command line after its first four words, and the output.
#[track_caller]
pub fn resumed_after_limit(kind: &str) -> (String, Vec<String>, Output) {
    let p = Project::with_config(
        &roadmap_with_tasks(&[("A1", "FAKE: rate-limit 1")]),
        &agent_config(kind, ""),
    );
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    let starts = p.agent_starts();
    assert_eq!(starts.len(), 2, "one limited run, one resumed run");
    let records = task_records(&p);
    assert_eq!(records[0].outcome.label(), "usage limit");
    let session = records[0].session_id.clone().expect("session recorded");
    assert!(records[1].outcome.is_success());
    (session, argv(&starts[1])[4..].to_vec(), out)
}
