//! Whether and where a group's `PHASE<N>-GROUP-<X>-STATUS.md` report is
//! written: none for a group that did not run, and for a roadmap whose
//! every task is its own group, under `status/reports/` unless `[report]
//! dir` says otherwise. Real binary, real git repositories, the fake agent.

mod common;

use common::*;
use std::path::Path;

/// A spec-kit tasks.md with every task but T006 ticked.
const MOSTLY_DONE: &str = "# Tasks: Tiny CLI\n\n## Phase 1: Setup\n\n\
- [X] T001 Create the package\n\
- [X] T002 [P] Add the linter config\n\
- [X] T003 [P] Add the test runner\n\
- [X] T004 Wire CI\n\
- [X] T005 Write the readme\n\
- [ ] T006 Format the greeting\n\
- [X] T007 Print it\n";

/// The group reports under `dir` (not recursive).
fn reports_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("PHASE") && n.ends_with("-STATUS.md"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_spec_kit_run_reports_only_the_group_that_ran_under_status_reports() {
    let p = Project::new(MOSTLY_DONE);
    let out = p.run(&["--dialect", "spec-kit"]);
    assert_exit(&out, 0);
    assert_eq!(p.agent_task_ids(), ["T006"], "{}", stdout(&out));
    assert_eq!(reports_in(&p.dir), Vec::<String>::new());
    let reports = reports_in(&p.dir.join("status/reports"));
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("T006"), "{reports:?}");
    let text = std::fs::read_to_string(p.dir.join("status/reports").join(&reports[0])).unwrap();
    assert!(!text.contains("not run"), "{text}");
    // The groups that did not run are complete all the same.
    let completed = p.read("status/completed_tasks.txt");
    assert!(completed.contains("T001"), "{completed}");
}

#[test]
fn report_dir_overrides_the_default_of_a_spec_kit_roadmap() {
    let p = Project::with_config(MOSTLY_DONE, "[report]\ndir = \"docs/reports\"\n");
    let out = p.run(&["--dialect", "spec-kit"]);
    assert_exit(&out, 0);
    let reports = reports_in(&p.dir.join("docs/reports"));
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(
        reports_in(&p.dir.join("status/reports")),
        Vec::<String>::new()
    );
    assert_eq!(reports_in(&p.dir), Vec::<String>::new());
}

#[test]
fn a_table_roadmap_keeps_its_reports_at_the_root_but_none_for_a_ticked_group() {
    let roadmap = "# P\n\n## Phase 1: Only\n\n### Group A (Parallel)\n\n- [x] A1: done by hand\n\n### Group B (Parallel)\n\n- [ ] B1: to do\n";
    let p = Project::new(roadmap);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(reports_in(&p.dir), ["PHASE1-GROUP-B-STATUS.md"]);
}
