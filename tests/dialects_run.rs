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
         2:A <- tee5ab1 \"Write the guide\"\n"
    );
}
