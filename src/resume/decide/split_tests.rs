//! The decision over a task that split: its agent does not start again,
//! and its sub-roadmap is decided by the same function over the records.

use super::*;
use crate::agent::{AgentReport, TaskOutcome};
use crate::status::{CompletedGroups, Record, TaskRecord};
use chrono::Utc;

fn task(group: &str, id: &str, outcome: TaskOutcome) -> Record {
    let now = Utc::now();
    Record::Task(TaskRecord::new(
        &GroupKey::new(1, group),
        id,
        1,
        outcome,
        &AgentReport::default(),
        now,
        now,
        std::time::Duration::from_secs(1),
        None,
    ))
}

fn state(completed: &str, records: Vec<Record>) -> RunState {
    RunState {
        completed: CompletedGroups::parse(completed).0,
        records,
        ..RunState::default()
    }
}

/// A sub-roadmap of task A2 of 1:A, keyed in its scope as the runner keys it.
fn sub_roadmap() -> Roadmap {
    let src = "# S\n\n## Phase 1: S\n\n### Group A\n\n- [ ] **A1**: a\n- [ ] **A2**: b\n\n\
               ### Group B\n\n- [ ] **B1**: c\n";
    let mut sub = crate::roadmap::parse(src).roadmap;
    for phase in &mut sub.phases {
        for g in &mut phase.groups {
            g.id = format!("A:A2/{}:{}", phase.number, g.id);
        }
    }
    sub
}

#[test]
fn a_split_task_goes_on_with_its_sub_roadmap_not_its_agent() {
    let roadmap =
        crate::roadmap::parse("# T\n\n## Phase 1: One\n\n### Group A\n\n- A1: a\n- A2: b\n")
            .roadmap;
    let records = vec![
        task("A", "A1", TaskOutcome::Succeeded),
        task("A", "A2", TaskOutcome::Split { tasks: 3 }),
    ];
    let opts = Options {
        commit: true,
        push: true,
        rerun_tasks: false,
        allow_dirty: false,
    };
    let d = decide(&roadmap, &state("", records), &Selection::default(), opts);
    let g = d.groups().next().expect("group 1:A");
    match &g.step {
        GroupStep::Run {
            tasks,
            succeeded,
            split,
            ..
        } => {
            assert!(tasks.is_empty());
            assert_eq!(succeeded, &["A1"]);
            assert_eq!(split, &["A2"]);
        }
        s => panic!("{s:?}"),
    }
}

#[test]
fn a_sub_roadmap_killed_midway_resumes_from_its_records() {
    let sub = sub_roadmap();
    let records = vec![task("A:A2/1:A", "A1", TaskOutcome::Succeeded)];
    let d = decide_sub(&sub, &state("", records));
    assert!(
        d.actions.iter().all(|a| matches!(a, Action::Group(_))),
        "no commit or push of its own: {:?}",
        d.actions
    );
    let groups: Vec<_> = d.groups().collect();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].key.to_string(), "PHASE_1:A:A2/1:A");
    let ids: Vec<&str> = groups[0].tasks().iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["A2"]);
    // Its first group complete: only the second is left.
    let d = decide_sub(&sub, &state("PHASE_1:A:A2/1:A\n", Vec::new()));
    let keys: Vec<String> = d.groups().map(|g| g.key.to_string()).collect();
    assert_eq!(keys, ["PHASE_1:A:A2/1:B"]);
}

#[test]
fn a_sub_task_selected_runs_alone_after_what_the_roadmap_owes() {
    let roadmap =
        crate::roadmap::parse("# T\n\n## Phase 1: One\n\n### Group A\n\n- A1: a\n- A2: b\n")
            .roadmap;
    let sub_key = GroupKey::parse_cli("1:A:A2/1:B").expect("scoped key");
    let selection = Selection {
        task: Some((sub_key.clone(), "B1".into())),
        scopes: vec![sub_roadmap()],
        ..Selection::default()
    };
    let records = vec![
        task("A", "A1", TaskOutcome::Succeeded),
        task("A", "A2", TaskOutcome::Split { tasks: 3 }),
    ];
    let mut state = state("PHASE_1:A:A2/1:B\n", records);
    state.git = Some(crate::resume::GitState {
        unpushed: 1,
        ..Default::default()
    });
    let opts = Options {
        commit: true,
        push: true,
        rerun_tasks: false,
        allow_dirty: false,
    };
    let d = decide_selected(&roadmap, &state, &selection, opts);
    // The roadmap's push first; its group 1:A not visited; then B1 alone,
    // although its sub-group is complete.
    assert!(matches!(d.actions[0], Action::Push), "{:?}", d.actions);
    let groups: Vec<_> = d.groups().collect();
    assert_eq!(groups.len(), 1, "{:?}", d.actions);
    assert_eq!(groups[0].key, sub_key);
    assert!(groups[0].partial);
    let ids: Vec<&str> = groups[0].tasks().iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["B1"]);
    assert_eq!(d.actions.len(), 2, "no commit: {:?}", d.actions);
}
