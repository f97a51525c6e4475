//! Snapshots of what users read: the plain run output (what cron mails), the
//! summary table, the JSON event stream and `status`. Times, pids, paths and
//! durations are masked; everything else must match exactly.

mod common;

use common::*;
use roadmap_runner::agent::TaskOutcome;
use roadmap_runner::events::{RunSummary, TaskSummary};
use roadmap_runner::roadmap::GroupKey;
use std::path::PathBuf;
use std::time::Duration;

fn roadmap() -> String {
    "# Snap\n\n## Phase 1: Base\n\n### Group A (Parallel)\n\n\
     - A1: First\n  - FAKE: write a1.txt one\n\
     - A2: Second\n  - FAKE: fail 3\n"
        .to_string()
}

/// Masks what differs between runs.
fn masked(p: &Project, text: &str) -> String {
    let tmp = p.tmp.path().display().to_string();
    let rules: &[(&str, &str)] = &[
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[UUID]",
        ),
        (r"msg_[0-9a-f]+", "msg_[ID]"),
        (
            r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?",
            "[TIME]",
        ),
        (r"_\d{8}-\d{6}(-\d+)?\.log", "_[STAMP].log"),
        (r"pid \d+", "pid [PID]"),
        (r"pid=\d+", "pid=[PID]"),
        (r"\d+\.\ds\b", "[DUR]"),
        (r"\d+m \d\ds\b", "[DUR]"),
        (r#""(duration|timeout|time)":\s*[0-9.]+"#, "\"$1\":[N]"),
        (r#""pid":\d+"#, "\"pid\":[PID]"),
        (r#""session_id":"[^"]*""#, "\"session_id\":\"[SID]\""),
        // Also inside JSON tails, where the quotes are escaped.
        (r#"(duration_ms|duration_api_ms)(\\?"):\d+"#, "$1$2:[N]"),
    ];
    let mut out = text.replace(&tmp, "[TMP]");
    for (re, with) in rules {
        out = regex::Regex::new(re)
            .unwrap()
            .replace_all(&out, *with)
            .into_owned();
    }
    out
}

#[test]
fn plain_run_output() {
    let p = Project::new(&roadmap());
    let out = p.run(&["--no-commit", "--max-parallel", "1"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("plain_run_output", masked(&p, &stdout(&out)));
}

#[test]
fn json_event_stream() {
    let p = Project::new(&roadmap());
    let out = p.run(&["--no-commit", "--max-parallel", "1", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    // Every line is one JSON object with the schema version.
    for line in stdout(&out).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect(line);
        assert_eq!(v["schema"], 1, "{line}");
    }
    insta::assert_snapshot!("json_event_stream", masked(&p, &stdout(&out)));
}

#[test]
fn summary_table() {
    let key = GroupKey::new(2, "B");
    let task =
        |id: &str, title: &str, outcome: TaskOutcome, secs: u64, cost: Option<f64>| TaskSummary {
            key: key.clone(),
            task: id.into(),
            title: title.into(),
            outcome,
            attempts: 1,
            duration: Duration::from_secs(secs),
            cost_usd: cost,
            log: Some(PathBuf::from(format!(
                "logs/orchestrator/phase2_groupB_{id}.log"
            ))),
            role: Default::default(),
        };
    let mut summary = RunSummary {
        exit_code: 1,
        message: "Phase 2 Group B: 3 of 4 tasks did not succeed".into(),
        next_steps: vec![
            "B2 failed: read logs/orchestrator/phase2_groupB_B2.log".into(),
            "fix the cause, then run roadmap-runner again".into(),
        ],
        tasks: vec![
            task(
                "B1",
                "Accounts and sessions",
                TaskOutcome::Succeeded,
                125,
                Some(0.4213),
            ),
            task(
                "B2",
                "A title long enough to be cut in the table because nobody reads that far anyway",
                TaskOutcome::Failed {
                    exit_code: Some(1),
                    signal: None,
                    reason: "exit 1".into(),
                },
                3,
                Some(0.01),
            ),
            task(
                "B3",
                "Gateway",
                TaskOutcome::TimedOut { after_secs: 3600 },
                3600,
                None,
            ),
            TaskSummary {
                attempts: 0,
                ..task("B4", "Rate limits", TaskOutcome::Interrupted, 0, None)
            },
        ],
        groups_completed: vec![GroupKey::new(2, "A")],
        duration: Duration::from_secs(3725),
        cost_usd: 0.4313,
        costs: Default::default(),
        counts: Default::default(),
        group_times: vec![],
    };
    summary.counts = RunSummary::count(&summary.tasks, 0);
    insta::assert_snapshot!(
        "summary_table",
        roadmap_runner::report::summary::render(&summary)
    );
}

#[test]
fn status_tree() {
    let p =
        Project::new(&std::fs::read_to_string(fixture("roadmaps/toolshed-ROADMAP.md")).unwrap());
    p.write("status/completed_tasks.txt", "PHASE_1:A\nPHASE_1:B\n");
    let out = p.run(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("status_tree", stdout(&out));
}

/// The dry run after a failed gate: the gate, the gate-only group (no
/// agent), the other groups' command lines, each phase's commit and push.
/// Titles are plain text in the plan and the commit message (`**More** work`
/// commits as "More work", `**C1: Fourth** (*stretch*)` is "Fourth (stretch)").
#[test]
fn dry_run_plan() {
    let roadmap = "# Snap\n\n## Phase 1: Base\n\n### Group A: Models (Parallel)\n\n\
         - A1: First\n  - FAKE: write a1.txt one\n- A2: Second\n\n\
         ### Group B: Views\n\n- B1: Third\n\n## Phase 2: **More** work\n\n### Group C\n\n\
         - **C1: Fourth** (*stretch*)\n";
    let gate = "[[gate.steps]]\nname = \"test\"\ncommand = \"test -f never.txt\"\n";
    let p = Project::with_config(roadmap, gate);
    assert_exit(&p.run(&["--group", "1:A"]), 2);
    p.write("dirty.txt", "mine\n");
    let out = p.run(&["--dry-run"]);
    assert_exit(&out, 0);
    let mut text = masked(&p, &stdout(&out));
    // A fresh phase on a dirty tree: the refusal the real run would stop with.
    let fresh = Project::with_config(roadmap, gate);
    fresh.write("dirty.txt", "mine\n");
    let out = fresh.run(&["--dry-run", "--phase", "2"]);
    assert_exit(&out, 0);
    text.push_str("\n--- a fresh phase on a dirty tree ---\n");
    text.push_str(&masked(&fresh, &stdout(&out)));
    let text = text.replace(&fake_agent().display().to_string(), "[AGENT]");
    insta::assert_snapshot!("dry_run_plan", text);
}
