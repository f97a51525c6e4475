//! Full-size roadmaps in the five styles people write (the native tables
//! with a Status column, spec-kit, Kiro, GSD, Superpowers), each read by the
//! real binary's `validate --json`. The fixtures in
//! `tests/fixtures/roadmaps/styles/` were written for these tests after real
//! roadmaps of each style: the same structures, quirks and traps (sections
//! after the phases that look like tasks, phases ticked while their plans
//! are not, decimal phases out of numeric order, `[P]` tasks that stand
//! alone), with their own projects, names and counts.

use assert_cmd::Command;
use serde_json::Value;

const STYLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/roadmaps/styles/"
);

/// `validate --json` of one fixture; asserts the exit code.
fn validate(file: &str, code: i32) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("roadmap-runner")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("ROADMAP_FILE")
        .env_remove("ROADMAP_DIALECT")
        .args([
            "validate",
            "--json",
            "--roadmap",
            &format!("{STYLES}{file}"),
        ])
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
fn table_roadmap_with_a_status_column() {
    let doc = validate("table-status.md", 0);
    assert_eq!(doc["dialect"], "table");
    assert_eq!(doc["reading"], "table roadmap");
    assert_eq!(codes(&doc), Vec::<&str>::new());
    assert_eq!(summary(&doc, "phases"), 4);
    assert_eq!(summary(&doc, "groups"), 12);
    assert_eq!(summary(&doc, "tasks"), 39);
    assert_eq!(summary(&doc, "tasks_done"), 21);
    // 🔶 Partial and ❌ Needed are not done; the Status cell is where a tick goes.
    let all = tasks(&doc);
    assert!(all.iter().all(|t| t["done_mark"]["kind"] == "status-cell"));
    // Phase 1 is done; after it, one task of each of two groups is.
    let later: Vec<&Value> = phases(&doc)[1..]
        .iter()
        .flat_map(groups)
        .flat_map(|g| g["tasks"].as_array().unwrap())
        .filter(|t| t["done_in_roadmap"] == true)
        .collect();
    let done = ids(&later);
    assert_eq!(done, ["G3", "I1"]);
    let letters: String = phases(&doc)
        .iter()
        .flat_map(groups)
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(letters, "ABCDEFGHIJKL");
    // The sections after the phases (a sprint list with `- ✅ B1: ...`,
    // `### Phase 1 Complete When:` with ticked checkboxes) add nothing.
    let sizes: Vec<usize> = phases(&doc).iter().map(|p| groups(p).len()).collect();
    assert_eq!(sizes, [6, 3, 2, 1]);
    assert_eq!(phases(&doc)[3]["title"], "Stewardship");
    assert!(
        !phases(&doc)[3]["context"]
            .as_str()
            .unwrap()
            .contains("Complete When")
    );
    assert_eq!(groups(&phases(&doc)[0])[1]["title"], "Gardens & Plots");
    assert_eq!(all[0]["title"], "Database Schema");
}

#[test]
fn speckit_tasks_md_runs_p_tasks_together_and_the_rest_alone() {
    let doc = validate("speckit.md", 0);
    assert_eq!(doc["reading"], "spec-kit tasks.md");
    assert_eq!(summary(&doc, "phases"), 8);
    assert_eq!(summary(&doc, "tasks"), 34);
    assert_eq!(summary(&doc, "tasks_done"), 32);
    let all = tasks(&doc);
    let want: Vec<String> = (1..=34).map(|n| format!("T{n:03}")).collect();
    assert_eq!(ids(&all), want);
    let open: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["done_in_roadmap"] == false)
        .collect();
    assert_eq!(ids(&open), ["T032", "T033"]);
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
            vec![1, 1, 2],
            vec![1, 1, 1, 2],
            vec![1, 1, 3, 1, 1],
            vec![1, 1, 1, 1],
            vec![2, 1],
            vec![1, 1],
            vec![2, 1],
            vec![2, 1, 1, 1, 1],
        ]
    );
    // 14 tasks carry [P]: the 13 in parallel runs and T020, alone after non-[P] tasks.
    let parallel: usize = sizes.iter().flatten().filter(|&&n| n > 1).sum();
    assert_eq!(parallel, 13);
    let p4: Vec<&str> = groups(&phases(&doc)[3])
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(p4, ["T017", "T018", "T019", "T020"]);
    assert_eq!(summary(&doc, "derived_group_ids"), 27);
    assert_eq!(summary(&doc, "derived_task_ids"), 0);
    // Tags are not part of the title; the phase title keeps its priority and emoji.
    assert_eq!(
        all[12]["title"],
        "Write the Atom parser in internal/parse/atom.go"
    );
    assert_eq!(
        phases(&doc)[2]["title"],
        "User Story 1 - Subscribe to a Feed (Priority: P1) 🎯 MVP"
    );
}

#[test]
fn kiro_tasks_md_is_sequential_top_level_tasks_with_sub_tasks() {
    let doc = validate("kiro.md", 0);
    assert_eq!(doc["reading"], "Kiro tasks.md");
    let ps = phases(&doc);
    // Each top-level task is a phase (one commit each), its sub-tasks run one at a time.
    assert_eq!(
        ps.iter().map(number).collect::<Vec<_>>(),
        (1..=10).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    let done: Vec<String> = ps
        .iter()
        .filter(|p| p["done_in_roadmap"] == true)
        .map(number)
        .collect();
    assert_eq!(done, ["4", "7"]);
    let checkpoints: Vec<String> = ps
        .iter()
        .filter(|p| p["title"].as_str().unwrap().contains("heckpoint"))
        .map(number)
        .collect();
    assert_eq!(checkpoints, ["3", "5", "8", "10"]);
    let all = tasks(&doc);
    let subs: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["id"].as_str().unwrap().contains('.'))
        .collect();
    assert_eq!(subs.len(), 17);
    let subs_done: Vec<&Value> = subs
        .iter()
        .copied()
        .filter(|t| t["done_in_roadmap"] == true)
        .collect();
    assert_eq!(ids(&subs_done), ["4.1", "4.2", "4.3", "7.1", "7.2"]);
    let optional: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["optional"] == true)
        .collect();
    assert_eq!(ids(&optional), ["1.3", "2.3", "4.4"]);
    // A checkpoint without sub-tasks is its own single task.
    assert_eq!(summary(&doc, "tasks"), 17 + 4);
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
        ["Add", "new", "settings"]
    );
}

#[test]
fn gsd_roadmap_lists_phases_and_runs_plans_one_by_one() {
    let doc = validate("gsd.md", 0);
    assert_eq!(doc["reading"], "GSD roadmap");
    let ps = phases(&doc);
    assert_eq!(ps.len(), 19);
    let detailed: Vec<String> = ps
        .iter()
        .filter(|p| !p["context"].as_str().unwrap().is_empty())
        .map(number)
        .collect();
    assert_eq!(detailed, ["6", "7", "7.1", "7.1.1", "7.2", "6.2", "8", "9"]);
    // Roadmap order, decimal "INSERTED" phases where the list puts them.
    let order: Vec<String> = ps.iter().map(number).collect();
    assert_eq!(&order[..7], ["1", "2", "2.1", "3", "4", "4.1", "5"]);
    let i = order.iter().position(|n| n == "7.2").unwrap();
    assert_eq!(&order[i..i + 3], ["7.2", "6.2", "8"]);
    assert_eq!(ps[2]["annotation"], "INSERTED");
    assert_eq!(ps[2]["title"], "Account Service Tests");
    let all = tasks(&doc);
    assert_eq!(all.len(), 13);
    // Both namings of a plan: `7.1-01-PLAN.md` and `7-PLAN-01.md`.
    let named: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|t| t["id"].as_str().unwrap().ends_with("-PLAN.md"))
        .collect();
    assert_eq!(named.len(), 8);
    assert!(named.iter().all(|t| t["done_in_roadmap"] == true));
    // Phase 7 is ticked in the list, its three plans are not.
    let p7 = ps.iter().find(|p| number(p) == "7").unwrap();
    assert_eq!(p7["done_in_roadmap"], true);
    let p7_tasks: Vec<&Value> = groups(p7)
        .iter()
        .flat_map(|g| g["tasks"].as_array().unwrap())
        .collect();
    assert_eq!(p7_tasks.len(), 3);
    assert!(p7_tasks.iter().all(|t| t["done_in_roadmap"] == false));
    assert_eq!(summary(&doc, "tasks_done"), 10);
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
    assert_eq!(not_done, ["6", "9", "10", "11", "12"]);
    assert!(
        ps.iter()
            .filter(|p| p["done_in_roadmap"] == false)
            .all(|p| groups(p).is_empty())
    );
    // Each of them is said to stop a run; besides, phase 7's mark and its
    // unticked plans disagree, said once, naming both lines.
    let mut expected = vec!["empty-phase"; 5];
    expected.insert(4, "done-phase-unticked-plan");
    assert_eq!(codes(&doc), expected);
    let mismatch = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "done-phase-unticked-plan")
        .unwrap();
    assert_eq!(
        mismatch["message"],
        "Phase 7 is marked done on line 41, but its plan `7-PLAN-01.md` is not ticked"
    );
    assert_eq!(mismatch["line"], 86);
    // A phase with a detail section is pointed at there, one without at its list item.
    let at = |n: &str| {
        let msg = format!("phase {n} has no plans yet; a run stops before it");
        let d = doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["message"] == msg.as_str())
            .unwrap_or_else(|| panic!("no diagnostic says {msg:?}"));
        (d["line"].as_u64(), d["column"].as_u64())
    };
    assert_eq!(at("6"), (Some(61), Some(1)));
    assert_eq!(at("9"), (Some(173), Some(1)));
    assert_eq!(at("10"), (Some(48), Some(7)));
    assert_eq!(at("12"), (Some(55), Some(7)));
}

#[test]
fn superpowers_plan_is_a_sequence_of_tasks() {
    let doc = validate("superpowers.md", 0);
    assert_eq!(doc["reading"], "Superpowers plan");
    assert_eq!(summary(&doc, "phases"), 6);
    let all = tasks(&doc);
    assert_eq!(ids(&all), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    assert_eq!(
        all[0]["title"],
        "Delete the importer package, hook script, and trim tasks.js"
    );
    // A task's body is all of its section: steps, files, code blocks with
    // `#` comment lines and a `## Heading` inside a fence.
    let body = all[0]["body"].as_str().unwrap();
    assert!(body.contains("**Step 5: Commit**"), "{body}");
    assert!(
        body.contains("# the help text no longer lists --import"),
        "{body}"
    );
    assert!(
        all[6]["body"]
            .as_str()
            .unwrap()
            .contains("## Legacy Importer"),
        "{}",
        all[6]["body"]
    );
    assert_eq!(summary(&doc, "groups"), 8);
    let sizes: Vec<usize> = phases(&doc).iter().map(|p| groups(p).len()).collect();
    assert_eq!(sizes, [1, 1, 2, 1, 2, 1]);
    let done: Vec<bool> = all.iter().map(|t| t["done_in_roadmap"] == true).collect();
    assert_eq!(done, [true, true, true, true, true, false, false, false]);
    // `**Status:** complete (folded into ...)` is complete too.
    let phases_done: Vec<bool> = phases(&doc)
        .iter()
        .map(|p| p["done_in_roadmap"] == true)
        .collect();
    assert_eq!(phases_done, [true, true, true, true, false, false]);
}

#[test]
fn forcing_another_dialect_changes_the_reading() {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{STYLES}speckit.md");
    let out = Command::cargo_bin("roadmap-runner")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("ROADMAP_FILE")
        .args(["validate", "--dialect", "table", "--roadmap", &file])
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
            "{file}: 8 phases, 8 groups, 34 tasks (read as table roadmap)\n"
        )),
        "{stdout}"
    );
}
