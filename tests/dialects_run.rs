//! The parser side of "never complete what was not read", end to end: a
//! group nothing was read from makes `run` refuse (exit 4) before it starts
//! an agent, records anything or commits.

mod common;

use common::*;

const UNREAD: &str = "\
# Shop

## Phase 1: Done already

### Group A

- [x] A1: Scaffold

## Phase 2: Catalog

### Group A: Products

Write the product table, then the listing page.
";

#[test]
fn run_refuses_a_group_it_could_not_read() {
    let p = Project::new(UNREAD);
    let out = p.run(&[]);
    assert_exit(&out, 4);
    assert!(
        stderr(&out).contains("group A of phase 2 has no tasks"),
        "{}",
        stderr(&out)
    );
    assert!(p.agent_events().is_empty(), "no agent may start");
    assert!(
        !p.dir.join("status/completed_tasks.txt").exists(),
        "nothing recorded"
    );
    assert_eq!(
        git(&p.dir, &["rev-list", "--count", "HEAD"]).trim(),
        "1",
        "nothing committed"
    );
    let v = p.run(&["validate"]);
    assert_exit(&v, 4);
    assert!(
        stderr(&v).contains(" --> ROADMAP.md:11:1\n"),
        "{}",
        stderr(&v)
    );
}

#[test]
fn run_with_a_forced_dialect_reads_the_same_way_as_validate() {
    // Read as spec-kit the two loose tasks run one after another (T001 has
    // no [P]); as a table roadmap they are one group.
    let roadmap = "## Phase 1: Setup\n\n- [ ] T001 First\n- [ ] T002 Second\n";
    let p = Project::new(roadmap);
    let out = p.run(&["--dry-run", "--dialect", "spec-kit"]);
    assert_exit(&out, 0);
    let v = p.run(&["validate", "--dialect", "table"]);
    assert_exit(&v, 0);
    assert!(
        stdout(&v).contains("1 phase, 1 group, 2 tasks (read as table roadmap)"),
        "{}",
        stdout(&v)
    );
    let v = p.run(&["validate", "--dialect", "spec-kit"]);
    assert!(
        stdout(&v).contains("1 phase, 2 groups, 2 tasks (read as spec-kit tasks.md)"),
        "{}",
        stdout(&v)
    );
    let dry = stdout(&out);
    assert!(dry.contains("T001") && dry.contains("T002"), "{dry}");
}

#[test]
fn validate_shows_the_reading_and_every_derived_id() {
    let roadmap = "## Phase 1: Setup\n\n- [ ] T001 [P] Lint\n- [ ] T002 [P] Test\n- [ ] T003 Ship\n\n## Phase 2: Docs\n\n### Group A\n\n- [ ] Write the guide\n";
    let p = Project::new(roadmap);
    let out = p.run(&["validate", "--dialect", "spec-kit"]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "ROADMAP.md: 2 phases, 3 groups, 4 tasks (read as spec-kit tasks.md)\n\
         derived ids (phase:group <- tasks):\n  \
         1:T001 <- T001 T002\n  \
         1:T003 <- T003\n  \
         2:A <- tee5ab1 \"Write the guide\"\n\
         roadmap-runner.toml: ok; environment: ok\n"
    );
}

/// A GSD roadmap whose later phase has no plans yet: the run does the
/// planned phase, then stops there and says what the phase needs.
#[test]
fn a_phase_with_no_tasks_yet_stops_the_run_there() {
    let roadmap = "# Project\n\n## Phase 1: Base\n\n### Group A\n\n- A1: Scaffold\n  - FAKE: write a.txt a\n\n\
        ## Phase 2: Later\n\nTo be planned.\n\n## Phase 3: After\n\n### Group C\n\n- C1: Never yet\n";
    let p = Project::new(roadmap);
    let out = p.run(&[]);
    assert_exit(&out, 4);
    assert!(
        stdout(&out).contains("Phase 2 has no tasks yet"),
        "{}",
        stdout(&out)
    );
    assert_eq!(p.agent_task_ids(), ["A1"], "no later phase runs");
    assert_eq!(p.origin_log(), ["Complete Phase 1: Base", "initial"]);
    let status = p.run(&["status"]);
    assert!(
        stdout(&status).contains("Next: stop: Phase 2 has no tasks yet"),
        "{}",
        stdout(&status)
    );
}

/// `--write-back` ticks the completed tasks: the file is byte-identical but
/// for the ticks, and they are in the phase commit.
#[test]
fn write_back_ticks_completed_tasks_and_nothing_else() {
    let roadmap = "---\ntitle: Shop\n---\n\n## Phase 1: Base\n\n- [ ] T001 [P] Write the model  \n- [ ] T002 [P] Write the view\n\n\
        | Task | Status |\n|---|---|\n\n## Phase 2: More\n\n- [x] T003 Done before\n- [ ] T004 Write the cart\n";
    let p = Project::new(roadmap);
    let out = p.run(&["--write-back", "--no-push"]);
    assert_exit(&out, 0);
    let after = p.read("ROADMAP.md");
    let expected = roadmap.replace("- [ ] T00", "- [x] T00");
    assert_eq!(after, expected);
    let committed = git(&p.dir, &["show", "HEAD:ROADMAP.md"]);
    assert_eq!(committed, expected, "the ticks are in the phase commit");
    assert_eq!(p.git_status(), "");
}
