//! One count of outcomes, shown the same everywhere: random runs (groups of
//! task, repair and review agents with random outcomes and costs) go through
//! the reporters as events, and every view of them (the group lines, the
//! summary table and line, the notify environment, `--json`, the group
//! report's Totals) must say the same numbers, and their costs must add up.

use proptest::prelude::*;
use roadmap_runner::agent::TaskOutcome;
use roadmap_runner::events::{Event, Reporter, RunSummary, TaskSummary};
use roadmap_runner::report::PlainReporter;
use roadmap_runner::roadmap::GroupKey;
use roadmap_runner::runner::budget::Role;
use roadmap_runner::status::{
    AttemptReport, GroupReportInput, HelperReport, TaskReport, TaskReportOutcome,
    render_group_report,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// How the test itself sorts an outcome (the oracle the views are held to).
fn category(label: &str) -> &'static str {
    match label {
        "succeeded" => "succeeded",
        "interrupted" => "interrupted",
        "not started" => "not started",
        "over budget" => "over budget",
        "failed" | "timed out" | "auth failure" | "usage limit" | "worker lost" => "failed",
        other => panic!("unknown outcome label {other:?}"),
    }
}

fn outcome() -> impl Strategy<Value = TaskOutcome> {
    prop_oneof![
        Just(TaskOutcome::Succeeded),
        Just(TaskOutcome::Interrupted),
        Just(TaskOutcome::Failed {
            exit_code: Some(1),
            signal: None,
            reason: "exit code 1".into()
        }),
        Just(TaskOutcome::TimedOut { after_secs: 60 }),
        Just(TaskOutcome::AuthFailure {
            message: "Not logged in".into()
        }),
        Just(TaskOutcome::UsageLimit {
            resets_at: None,
            message: "limit".into()
        }),
        Just(TaskOutcome::OverBudget {
            message: "cap".into()
        }),
        Just(TaskOutcome::WorkerLost {
            message: "gone".into()
        }),
    ]
}

/// One agent of a group: role, outcome, attempts (0: never started) and the
/// cost of each attempt in units of $0.0001 (what agents report).
#[derive(Debug, Clone)]
struct Agent {
    role: Role,
    outcome: TaskOutcome,
    attempt_costs: Vec<Option<u32>>,
}

fn agent() -> impl Strategy<Value = Agent> {
    let role = prop_oneof![
        6 => Just(Role::Task),
        1 => Just(Role::Repair),
        1 => Just(Role::Review),
    ];
    let costs = prop::collection::vec(prop::option::weighted(0.8, 0u32..500), 0..4);
    (role, outcome(), costs).prop_map(|(role, outcome, mut attempt_costs)| {
        // A repair or review that is listed ran.
        if role != Role::Task && attempt_costs.is_empty() {
            attempt_costs.push(Some(1));
        }
        Agent {
            role,
            outcome,
            attempt_costs,
        }
    })
}

fn groups() -> impl Strategy<Value = Vec<Vec<Agent>>> {
    prop::collection::vec(prop::collection::vec(agent(), 0..6), 1..4)
}

fn dollars(units: u32) -> f64 {
    units as f64 / 10_000.0
}

fn task_summaries(key: &GroupKey, agents: &[Agent]) -> Vec<TaskSummary> {
    agents
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let costs: Vec<f64> = a
                .attempt_costs
                .iter()
                .flatten()
                .map(|c| dollars(*c))
                .collect();
            TaskSummary {
                key: key.clone(),
                task: match a.role {
                    Role::Task => format!("{}{}", key.group, i + 1),
                    Role::Repair => format!("repair-{}", i + 1),
                    Role::Review => format!("review-{}", i + 1),
                },
                title: "T".into(),
                outcome: a.outcome.clone(),
                attempts: a.attempt_costs.len() as u32,
                duration: Duration::from_millis(100),
                cost_usd: costs.iter().copied().reduce(|x, y| x + y),
                log: None,
                role: a.role,
            }
        })
        .collect()
}

/// Amounts compared in units of $0.0001.
fn units(text: &str) -> i64 {
    let v: f64 = text.trim_start_matches('$').parse().unwrap();
    (v * 10_000.0).round() as i64
}

/// `3 succeeded, 1 not started` / `2/4 tasks succeeded, ...` as word -> n.
fn parse_counts(text: &str) -> BTreeMap<String, usize> {
    let re = regex::Regex::new(
        r"(\d+)(?:/\d+ tasks?)? (succeeded|failed|over budget|interrupted|not started|skipped|repairs?|reviews?)\b",
    )
    .unwrap();
    let mut out = BTreeMap::new();
    for c in re.captures_iter(text) {
        let word = match &c[2] {
            "repairs" => "repair",
            "reviews" => "review",
            w => w,
        };
        *out.entry(word.to_string()).or_default() += c[1].parse::<usize>().unwrap();
    }
    out.retain(|_, n| *n > 0);
    out
}

/// The test's own count of what the agents were.
fn oracle(all: &[TaskSummary], skipped: usize) -> BTreeMap<String, usize> {
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for t in all {
        let word = match t.role {
            Role::Repair => "repair",
            Role::Review => "review",
            Role::Task if t.attempts == 0 => "not started",
            Role::Task => category(t.outcome.label()),
        };
        *out.entry(word.to_string()).or_default() += 1;
    }
    if skipped > 0 {
        out.insert("skipped".into(), skipped);
    }
    out
}

fn plain_output(events: &[Event]) -> String {
    let mut out = Vec::new();
    {
        let mut r = PlainReporter::new(&mut out, false);
        for e in events {
            r.report(e);
        }
    }
    String::from_utf8(out).unwrap()
}

/// A group report of the same agents: tasks with their attempts, repairs
/// and reviews as helpers.
fn report_input(key: &GroupKey, tasks: &[TaskSummary], agents: &[Agent]) -> GroupReportInput {
    let mut input = GroupReportInput {
        phase: key.phase.clone(),
        phase_title: String::new(),
        group_id: key.group.clone(),
        group_title: String::new(),
        group_annotation: None,
        completed_at: chrono::Local::now().fixed_offset(),
        duration: Duration::from_secs(1),
        tasks: Vec::new(),
        changed_files: Vec::new(),
        gate: Vec::new(),
        helpers: Vec::new(),
    };
    for (t, a) in tasks.iter().zip(agents) {
        match t.role {
            Role::Task if t.attempts > 0 => input.tasks.push(TaskReport {
                id: t.task.clone(),
                title: t.title.clone(),
                outcome: TaskReportOutcome::Ran(t.outcome.clone()),
                duration: t.duration,
                attempts: a
                    .attempt_costs
                    .iter()
                    .map(|c| AttemptReport {
                        outcome: t.outcome.label().into(),
                        duration: Duration::from_millis(10),
                        cost_usd: c.map(dollars),
                    })
                    .collect(),
                summary: None,
                log: None,
                files: None,
                sub: Vec::new(),
            }),
            Role::Task => {}
            role => input.helpers.push(HelperReport {
                id: t.task.clone(),
                role: role.record_name().unwrap().into(),
                outcome: t.outcome.label().into(),
                cost_usd: t.cost_usd,
                verdict: None,
            }),
        }
    }
    input
}

/// The Totals of a group report agree with its rows: the tasks by outcome,
/// the repairs and reviews, and the cost of every row above it.
fn check_report(input: &GroupReportInput) -> Result<(), TestCaseError> {
    let text = render_group_report(input);
    let totals = &text[text.find("## Totals").unwrap()..];
    let tasks_line = totals
        .lines()
        .find(|l| l.starts_with("- **Tasks:**"))
        .unwrap();
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for t in &input.tasks {
        if let TaskReportOutcome::Ran(o) = &t.outcome {
            *expected.entry(category(o.label()).into()).or_default() += 1;
        }
    }
    let inner = &tasks_line[tasks_line.find('(').unwrap()..];
    prop_assert_eq!(parse_counts(inner), expected, "{}", totals);
    for (role, word) in [("repair", "Repairs"), ("review", "Reviews")] {
        let n = input.helpers.iter().filter(|h| h.role == role).count();
        let line = format!("- **{word}:** {n}");
        prop_assert_eq!(totals.contains(&line), n > 0, "{}\n{}", line, totals);
    }
    // Every cost listed above the Totals: task sections and helper rows.
    let money = regex::Regex::new(r"\$\d+\.\d+").unwrap();
    let above = &text[..text.find("## Totals").unwrap()];
    let mut listed = 0;
    for l in above.lines() {
        if l.starts_with("- **Cost:**") || (l.starts_with("| repair") || l.starts_with("| review"))
        {
            listed += money.find_iter(l).map(|m| units(m.as_str())).sum::<i64>();
        }
    }
    let cost_line = totals
        .lines()
        .find(|l| l.starts_with("- **Cost:**"))
        .unwrap();
    match money.find(cost_line) {
        Some(total) => prop_assert_eq!(units(total.as_str()), listed, "{}", text),
        None => prop_assert_eq!(listed, 0, "{}", text),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_view_of_a_run_says_the_same_counts(groups in groups(), skipped in 0usize..4) {
        let mut events = Vec::new();
        let mut all = Vec::new();
        for (i, agents) in groups.iter().enumerate() {
            let key = GroupKey::new(1, ((b'A' + i as u8) as char).to_string());
            let tasks = task_summaries(&key, agents);
            events.push(Event::GroupFinished {
                key: key.clone(),
                counts: RunSummary::count(&tasks, 0),
                duration: Duration::from_secs(1),
            });
            check_report(&report_input(&key, &tasks, agents))?;
            all.extend(tasks);
        }
        let counts = RunSummary::count(&all, skipped);
        let summary = RunSummary {
            exit_code: 1,
            message: "Run stopped".into(),
            next_steps: vec![],
            tasks: all.clone(),
            groups_completed: vec![],
            duration: Duration::from_secs(3),
            cost_usd: counts.cost.total(),
            costs: counts.cost,
            counts,
            group_times: vec![],
        };
        events.push(Event::RunFinished { summary: summary.clone() });
        let text = plain_output(&events);
        let expected = oracle(&all, skipped);

        // The group lines add up to the run's count (less what was skipped).
        let mut from_groups: BTreeMap<String, usize> = BTreeMap::new();
        for l in text.lines().filter(|l| l.contains("[GROUP]")) {
            for (k, n) in parse_counts(l) {
                *from_groups.entry(k).or_default() += n;
            }
        }
        let tasks_only: BTreeMap<String, usize> = expected
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "repair" | "review" | "skipped"))
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        prop_assert_eq!(&from_groups, &tasks_only, "{}", text);

        // The table: one row per agent, with its outcome and cost.
        let mut from_table: BTreeMap<String, usize> = BTreeMap::new();
        let mut table_cost = 0;
        let split = regex::Regex::new(r"\s{2,}").unwrap();
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("GROUP  TASK"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        prop_assert_eq!(rows.len(), all.len(), "{}", text);
        for row in rows {
            let cells: Vec<&str> = split.split(row).collect();
            let word = if cells[1].starts_with("repair-") {
                "repair"
            } else if cells[1].starts_with("review-") {
                "review"
            } else {
                category(cells[2])
            };
            *from_table.entry(word.into()).or_default() += 1;
            if let Some(c) = cells.get(4).filter(|c| c.starts_with('$')) {
                table_cost += units(c);
            }
        }
        let mut table_expected = expected.clone();
        table_expected.remove("skipped");
        prop_assert_eq!(&from_table, &table_expected, "{}", text);

        // The summary line: the counts, and a total that is the table's sum
        // and the sum of its parts by role.
        let line = text.lines().find(|l| l.starts_with("Run stopped  (")).unwrap();
        prop_assert_eq!(&parse_counts(line), &expected, "{}", line);
        let money = regex::Regex::new(r"\$\d+\.\d+").unwrap();
        let amounts: Vec<i64> = money.find_iter(line).map(|m| units(m.as_str())).collect();
        // Agents ran and none reported a cost: no `$0.00`, the words.
        let unreported = line.contains(roadmap_runner::status::counts::COST_NOT_REPORTED);
        let amounts = if unreported { vec![0] } else { amounts };
        prop_assert_eq!(amounts[0], table_cost, "{}", text);
        if amounts.len() > 1 {
            prop_assert_eq!(amounts[0], amounts[1..].iter().sum::<i64>(), "{}", line);
        }

        // The notify environment.
        let env: BTreeMap<&str, String> =
            roadmap_runner::notify::command_env(std::path::Path::new("."), &summary)
                .into_iter()
                .collect();
        let get = |k: &str| env[k].parse::<usize>().unwrap();
        let n = |k: &str| expected.get(k).copied().unwrap_or(0);
        prop_assert_eq!(get("ROADMAP_RUNNER_TASKS_SUCCEEDED"), n("succeeded"));
        prop_assert_eq!(get("ROADMAP_RUNNER_TASKS_FAILED"), n("failed"));
        prop_assert_eq!(get("ROADMAP_RUNNER_TASKS_INTERRUPTED"), n("interrupted"));
        prop_assert_eq!(get("ROADMAP_RUNNER_TASKS_NOT_STARTED"), n("not started"));
        prop_assert_eq!(get("ROADMAP_RUNNER_TASKS_OVER_BUDGET"), n("over budget"));
        prop_assert_eq!(get("ROADMAP_RUNNER_TASKS_SKIPPED"), n("skipped"));
        prop_assert_eq!(get("ROADMAP_RUNNER_REPAIRS"), n("repair"));
        prop_assert_eq!(get("ROADMAP_RUNNER_REVIEWS"), n("review"));
        prop_assert_eq!(units(&env["ROADMAP_RUNNER_COST_USD"]), table_cost);
        let by_role: i64 = ["TASKS", "REPAIRS", "REVIEWS"]
            .iter()
            .map(|r| units(&env[format!("ROADMAP_RUNNER_COST_{r}_USD").as_str()]))
            .sum();
        prop_assert_eq!(by_role, table_cost);

        // `--json`: the run_finished event carries the same counts.
        let json = serde_json::to_value(&summary).unwrap();
        let c = &json["counts"];
        prop_assert_eq!(c["succeeded"].as_u64(), Some(n("succeeded") as u64));
        prop_assert_eq!(c["not_started"].as_u64(), Some(n("not started") as u64));
        prop_assert_eq!(c["interrupted"].as_u64(), Some(n("interrupted") as u64));
        prop_assert_eq!(c["repairs"].as_u64(), Some(n("repair") as u64));
        let json_total: f64 = ["tasks", "repairs", "reviews"]
            .iter()
            .map(|r| c["cost"][r].as_f64().unwrap())
            .sum();
        prop_assert_eq!((json_total * 10_000.0).round() as i64, table_cost);
    }
}

// ---- The real binary: a budget stop, a Ctrl-C and a gate-only rerun. ----

mod common;
use common::{Project, assert_exit, stdout, wait_for};

/// A roadmap of one phase: Group A with `a`, Group B with `b` (id, body).
fn two_groups(a: &[(&str, &str)], b: &[(&str, &str)]) -> String {
    let mut s = String::from("# Shop\n\n## Phase 1: Only\n\n");
    for (group, tasks) in [("A", a), ("B", b)] {
        s.push_str(&format!("### Group {group} (Parallel)\n\n"));
        for (id, body) in tasks {
            s.push_str(&format!("#### {id}: Task {id}\n\n{body}\n\n"));
        }
    }
    s
}

/// `--notify` that keeps the command's environment (its ROADMAP_RUNNER_
/// variables) and its stdin in files beside the project.
fn notify_args(p: &Project) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let env = p.tmp.path().join("notify.env");
    let stdin = p.tmp.path().join("notify.stdin");
    let script = format!(
        "env | grep '^ROADMAP_RUNNER_' > '{}'; cat > '{}'",
        env.display(),
        stdin.display()
    );
    (script, env, stdin)
}

fn notify_env(path: &std::path::Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim_start_matches("ROADMAP_RUNNER_").into(), v.into()))
        .collect()
}

/// The summary table's outcome of `task`.
fn table_outcome(text: &str, task: &str) -> String {
    let split = regex::Regex::new(r"\s{2,}").unwrap();
    let row = text
        .lines()
        .skip_while(|l| !l.starts_with("GROUP  TASK"))
        .find(|l| {
            split
                .split(l)
                .nth(1)
                .is_some_and(|c| c.starts_with(&format!("{task} ")))
        })
        .unwrap_or_else(|| panic!("no row of {task}:\n{text}"));
    split.split(row).nth(2).unwrap().to_string()
}

#[track_caller]
fn assert_env(env: &BTreeMap<String, String>, expected: &[(&str, &str)]) {
    for (k, v) in expected {
        assert_eq!(env.get(*k).map(String::as_str), Some(*v), "{k} in {env:#?}");
    }
}

#[test]
fn a_budget_stop_is_counted_the_same_in_every_view() {
    let p = Project::new(&two_groups(
        &[("A1", ""), ("A2", "")],
        &[("B1", ""), ("B2", ""), ("B3", "")],
    ));
    let (script, env_file, stdin_file) = notify_args(&p);
    // A costs $0.0246 (under the cap); B1 and B2 start together, and at
    // $0.0492 B3 may not start.
    let out = p.run(&[
        "--no-commit",
        "--max-parallel",
        "2",
        "--max-cost",
        "0.03",
        "--notify",
        &script,
    ]);
    assert_exit(&out, 7);
    let text = stdout(&out);
    assert!(
        text.contains("Phase 1 Group B: 2 succeeded, 1 not started, "),
        "{text}"
    );
    assert!(
        !text.contains("interrupted"),
        "nothing was interrupted:\n{text}"
    );
    assert_eq!(table_outcome(&text, "B3"), "not started");
    assert_eq!(table_outcome(&text, "B1"), "succeeded");
    assert!(
        text.contains("(4/5 tasks succeeded, 1 not started, 1 group completed, "),
        "{text}"
    );
    assert!(text.contains(", $0.0492)\n"), "{text}");
    assert!(
        text.contains("The run's budget is spent: $0.0492 of $0.03 (--max-cost)"),
        "{text}"
    );
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    assert!(
        report.contains("- **Tasks:** 2 (2 succeeded)\n"),
        "{report}"
    );
    assert!(report.contains("- **Cost:** $0.0246\n"), "{report}");
    let env = notify_env(&env_file);
    assert_env(
        &env,
        &[
            ("EXIT_CODE", "7"),
            ("OUTCOME", "budget_spent"),
            ("TASKS_SUCCEEDED", "4"),
            ("TASKS_FAILED", "0"),
            ("TASKS_INTERRUPTED", "0"),
            ("TASKS_NOT_STARTED", "1"),
            ("COST_USD", "0.0492"),
        ],
    );
    let stdin = std::fs::read_to_string(stdin_file).unwrap();
    assert!(
        stdin.contains("(4/5 tasks succeeded, 1 not started, "),
        "{stdin}"
    );
}

#[test]
fn a_tiny_budget_names_its_outcome_and_shows_its_digits() {
    let p = Project::new(&two_groups(&[("A1", "")], &[("B1", ""), ("B2", "")]));
    let (script, env_file, _) = notify_args(&p);
    let out = p.run(&["--no-commit", "--max-cost", "0.001", "--notify", &script]);
    assert_exit(&out, 7);
    let text = stdout(&out);
    assert!(
        text.contains("The run's budget is spent: $0.0123 of $0.001 (--max-cost)"),
        "{text}"
    );
    assert!(
        text.contains("Phase 1 Group B: 0 succeeded, 2 not started, "),
        "{text}"
    );
    let env = notify_env(&env_file);
    assert_env(
        &env,
        &[
            ("OUTCOME", "budget_spent"),
            ("TASKS_SUCCEEDED", "1"),
            ("TASKS_FAILED", "0"),
            ("TASKS_NOT_STARTED", "2"),
        ],
    );
}

#[test]
fn ctrl_c_is_counted_the_same_in_every_view() {
    let p = Project::new(&two_groups(
        &[("A1", "")],
        &[("B1", "FAKE: hang"), ("B2", "FAKE: hang"), ("B3", "")],
    ));
    let (script, env_file, _) = notify_args(&p);
    let child = p
        .cmd()
        .args(["--no-commit", "--max-parallel", "2", "--notify", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("B1 and B2 running", 20, || p.agent_starts().len() == 3);
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    let text = stdout(&out);
    assert!(
        text.contains("Phase 1 Group B: 0 succeeded, 2 interrupted, 1 not started, "),
        "{text}"
    );
    assert_eq!(table_outcome(&text, "B1"), "interrupted");
    assert_eq!(table_outcome(&text, "B2"), "interrupted");
    assert_eq!(table_outcome(&text, "B3"), "not started");
    assert!(
        text.contains("(1/4 tasks succeeded, 2 interrupted, 1 not started, 1 group completed, "),
        "{text}"
    );
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    assert!(
        report.contains("- **Tasks:** 1 (1 succeeded)\n"),
        "{report}"
    );
    let env = notify_env(&env_file);
    assert_env(
        &env,
        &[
            ("EXIT_CODE", "130"),
            ("OUTCOME", "interrupted"),
            ("TASKS_SUCCEEDED", "1"),
            ("TASKS_FAILED", "0"),
            ("TASKS_INTERRUPTED", "2"),
            ("TASKS_NOT_STARTED", "1"),
        ],
    );
}

#[test]
fn a_gate_only_rerun_counts_the_tasks_it_skipped() {
    let gate = "[[gate.steps]]\nname = \"test\"\ncommand = \"test -f ready.txt\"\n";
    let p = Project::with_config(&common::roadmap_of_same_tasks(2, ""), gate);
    let first = p.run(&["--no-commit", "--fix-attempts", "0"]);
    assert_exit(&first, 2);
    p.write("ready.txt", "ok\n");
    let (script, env_file, _) = notify_args(&p);
    let out = p.run(&["--no-commit", "--fix-attempts", "0", "--notify", &script]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("(no task ran, 2 skipped (done earlier), 1 group completed, "),
        "{text}"
    );
    assert!(!text.contains("0/0"), "{text}");
    let env = notify_env(&env_file);
    assert_env(
        &env,
        &[
            ("OUTCOME", "success"),
            ("TASKS_SUCCEEDED", "0"),
            ("TASKS_SKIPPED", "2"),
        ],
    );
}
