//! The five real roadmaps in `../shared/roadmaps/real/` (other people's
//! files: read in place, never copied), each read by the real binary's
//! `validate --json` the way its README says a person reads it.
//!
//! Two readings differ from that README, because the files say otherwise:
//! - `gsd-cipherbox.md` holds 47 plan items, not 39: 39 are named
//!   `NN-NN-PLAN.md` (all ticked, the README's count), 8 more are named
//!   `NN-PLAN-NN.md` (phase 12's five, unticked although its list entry is
//!   `[x]`; phase 12.2's three, ticked). So 42 plans are marked done.
//! - `superpowers-plan.md` ticks the checkbox of tasks 1-5 and says
//!   `**Status:** complete` for phases 1-4: 5 of its 8 tasks are done.

use assert_cmd::Command;
use serde_json::Value;

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/roadmaps/real/");

/// `validate --json` of one real roadmap; asserts the exit code.
fn validate(file: &str, code: i32) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("roadmap-runner")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("ROADMAP_FILE")
        .env_remove("ROADMAP_DIALECT")
        .args(["validate", "--json", "--roadmap", &format!("{REAL}{file}")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn summary(doc: &Value, key: &str) -> u64 {
    doc["summary"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no summary.{key}"))
}

fn phases(doc: &Value) -> &Vec<Value> {
    doc["phases"].as_array().unwrap()
}

fn groups(phase: &Value) -> &Vec<Value> {
    phase["groups"].as_array().unwrap()
}

fn tasks(doc: &Value) -> Vec<&Value> {
    phases(doc)
        .iter()
        .flat_map(groups)
        .flat_map(|g| g["tasks"].as_array().unwrap())
        .collect()
}

fn ids(values: &[&Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

fn number(phase: &Value) -> String {
    match &phase["number"] {
        Value::String(s) => s.clone(),
        n => n.to_string(),
    }
}

fn codes(doc: &Value) -> Vec<&str> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect()
}

#[test]
fn educonnect_v2_table_roadmap_with_status_column() {
    let doc = validate("educonnect-v2.md", 0);
    assert_eq!(doc["dialect"], "table");
    assert_eq!(doc["reading"], "table roadmap");
    assert_eq!(codes(&doc), Vec::<&str>::new());
    assert_eq!(summary(&doc, "phases"), 4);
    assert_eq!(summary(&doc, "groups"), 22);
    assert_eq!(summary(&doc, "tasks"), 112);
    assert_eq!(summary(&doc, "tasks_done"), 50);
    // 🔶 Partial and ❌ Not Started are not done; the Status cell is where a tick goes.
    let all = tasks(&doc);
    assert!(all.iter().all(|t| t["done_mark"]["kind"] == "status-cell"));
    let letters: String = phases(&doc)
        .iter()
        .flat_map(groups)
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(letters, "ABCDEFGHIJKLMNOPQRSTUV");
}

#[test]
fn speckit_tasks_md_runs_p_tasks_together_and_the_rest_alone() {
    let doc = validate("speckit-spectra.md", 0);
    assert_eq!(doc["reading"], "spec-kit tasks.md");
    assert_eq!(summary(&doc, "phases"), 10);
    assert_eq!(summary(&doc, "tasks"), 53);
    assert_eq!(summary(&doc, "tasks_done"), 51);
    let all = tasks(&doc);
    let want: Vec<String> = (1..=53).map(|n| format!("T{n:03}")).collect();
    assert_eq!(ids(&all), want);
    let open: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["done_in_roadmap"] == false)
        .collect();
    assert_eq!(ids(&open), ["T050", "T051"]);
    // Group sizes per phase: a run of [P] tasks is one group, every other task its own.
    let sizes: Vec<Vec<usize>> = phases(&doc)
        .iter()
        .map(|p| {
            groups(p)
                .iter()
                .map(|g| g["tasks"].as_array().unwrap().len())
                .collect()
        })
        .collect();
    assert_eq!(
        sizes,
        [
            vec![1, 1, 3],
            vec![1, 1, 1, 1, 2],
            vec![1, 1, 1, 1, 5, 1, 1, 1],
            vec![1, 1, 1, 1, 1, 1],
            vec![1, 1, 1],
            vec![1, 1],
            vec![1, 1, 1, 1, 1],
            vec![1, 1],
            vec![2, 1, 1, 1],
            vec![2, 1, 1, 1, 1, 1],
        ]
    );
    // 15 tasks carry [P]: the 14 in parallel runs and T029, alone after non-[P] tasks.
    let parallel: usize = sizes.iter().flatten().filter(|&&n| n > 1).sum();
    assert_eq!(parallel, 14);
    let p4: Vec<&str> = groups(&phases(&doc)[3])
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(p4, ["T024", "T025", "T026", "T027", "T028", "T029"]);
    assert_eq!(summary(&doc, "derived_group_ids"), 44);
    assert_eq!(summary(&doc, "derived_task_ids"), 0);
}

#[test]
fn kiro_tasks_md_is_sequential_top_level_tasks_with_sub_tasks() {
    let doc = validate("kiro-sagemaker.md", 0);
    assert_eq!(doc["reading"], "Kiro tasks.md");
    let ps = phases(&doc);
    // Each top-level task is a phase (one commit each), its sub-tasks run one at a time.
    assert_eq!(
        ps.iter().map(number).collect::<Vec<_>>(),
        (1..=12).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    let done: Vec<String> = ps
        .iter()
        .filter(|p| p["done_in_roadmap"] == true)
        .map(number)
        .collect();
    assert_eq!(done, ["4", "8"]);
    let checkpoints: Vec<String> = ps
        .iter()
        .filter(|p| p["title"].as_str().unwrap().contains("heckpoint"))
        .map(number)
        .collect();
    assert_eq!(checkpoints, ["3", "5", "7", "9", "12"]);
    let all = tasks(&doc);
    let subs: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["id"].as_str().unwrap().contains('.'))
        .collect();
    assert_eq!(subs.len(), 33);
    assert_eq!(
        subs.iter().filter(|t| t["done_in_roadmap"] == true).count(),
        9
    );
    let optional: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["optional"] == true)
        .collect();
    assert_eq!(
        ids(&optional),
        ["1.3", "2.5", "2.6", "4.6", "4.7", "4.8", "6.5"]
    );
    // A checkpoint without sub-tasks is its own single task.
    assert_eq!(summary(&doc, "tasks"), 33 + 5);
    assert!(
        ps.iter()
            .flat_map(groups)
            .all(|g| g["tasks"].as_array().unwrap().len() == 1)
    );
    assert_eq!(
        groups(&ps[0])[0]["tasks"][0]["title"]
            .as_str()
            .unwrap()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>(),
        ["Add", "new", "variables"]
    );
}

#[test]
fn gsd_roadmap_lists_phases_and_runs_plans_one_by_one() {
    let doc = validate("gsd-cipherbox.md", 0);
    assert_eq!(doc["reading"], "GSD roadmap");
    let ps = phases(&doc);
    assert_eq!(ps.len(), 37);
    let detailed = ps
        .iter()
        .filter(|p| !p["context"].as_str().unwrap().is_empty())
        .count();
    assert_eq!(detailed, 15);
    // Roadmap order, decimal "INSERTED" phases where the list puts them.
    let order: Vec<String> = ps.iter().map(number).collect();
    assert_eq!(&order[..6], ["1", "2", "3", "4", "4.1", "4.2"]);
    let i = order.iter().position(|n| n == "12.6").unwrap();
    assert_eq!(&order[i..i + 3], ["12.6", "11.2", "13"]);
    assert_eq!(ps[4]["annotation"], "INSERTED");
    let all = tasks(&doc);
    assert_eq!(all.len(), 47);
    let named: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["id"].as_str().unwrap().ends_with("-PLAN.md"))
        .collect();
    assert_eq!(named.len(), 39);
    assert!(named.iter().all(|t| t["done_in_roadmap"] == true));
    assert_eq!(summary(&doc, "tasks_done"), 42);
    assert!(
        ps.iter()
            .flat_map(groups)
            .all(|g| g["tasks"].as_array().unwrap().len() == 1)
    );
    let not_done: Vec<String> = ps
        .iter()
        .filter(|p| p["done_in_roadmap"] == false)
        .map(number)
        .collect();
    assert_eq!(not_done, ["11", "15", "16", "17", "18", "19", "20", "21"]);
    assert!(
        ps.iter()
            .filter(|p| p["done_in_roadmap"] == false)
            .all(|p| groups(p).is_empty())
    );
    // Each of them is said to stop a run, and nothing else is reported.
    assert_eq!(codes(&doc), vec!["empty-phase"; 8]);
    // A phase with a detail section is pointed at there, one without at its list item.
    let at = |i: usize| {
        let d = &doc["diagnostics"][i];
        (
            d["message"].as_str().unwrap().to_string(),
            d["line"].as_u64(),
            d["column"].as_u64(),
        )
    };
    let msg = |n: &str| format!("phase {n} has no plans yet; a run stops before it");
    assert_eq!(at(0), (msg("18"), Some(70), Some(7)));
    assert_eq!(at(4), (msg("11"), Some(79), Some(1)));
}

#[test]
fn superpowers_plan_is_a_sequence_of_tasks() {
    let doc = validate("superpowers-plan.md", 0);
    assert_eq!(doc["reading"], "Superpowers plan");
    assert_eq!(summary(&doc, "phases"), 6);
    let all = tasks(&doc);
    assert_eq!(ids(&all), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    assert_eq!(
        all[0]["title"],
        "Delete bot directory, notify script, and refactor cleanup.js"
    );
    assert!(
        all[0]["body"]
            .as_str()
            .unwrap()
            .contains("**Step 5: Commit**")
    );
    assert_eq!(summary(&doc, "groups"), 8);
    let done: Vec<bool> = all.iter().map(|t| t["done_in_roadmap"] == true).collect();
    assert_eq!(done, [true, true, true, true, true, false, false, false]);
    let phases_done: Vec<bool> = phases(&doc)
        .iter()
        .map(|p| p["done_in_roadmap"] == true)
        .collect();
    assert_eq!(phases_done, [true, true, true, true, false, false]);
}

#[test]
fn forcing_another_dialect_changes_the_reading() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("roadmap-runner")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("ROADMAP_FILE")
        .args([
            "validate",
            "--dialect",
            "table",
            "--roadmap",
            &format!("{REAL}speckit-spectra.md"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Read as a table roadmap, the tasks under each phase are one implicit group.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!(
            "{REAL}speckit-spectra.md: 10 phases, 10 groups, 53 tasks (read as table roadmap)\n"
        )),
        "{stdout}"
    );
}
