//! Each roadmap style on a small fixture of our own: exact phases, groups,
//! ids, titles, done flags and diagnostics (line and column).

use roadmap_runner::roadmap::{Dialect, DoneMark, Parsed, Roadmap, parse, parse_as};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/roadmaps/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// One line per phase and group: `P 1 "Setup" done` / `G T002* [T002 T003x]`
/// (`*` derived id, `x` done, `?` optional).
fn shape(r: &Roadmap) -> Vec<String> {
    let mut out = Vec::new();
    for p in &r.phases {
        let done = if p.done_in_roadmap { " done" } else { "" };
        out.push(format!("P {} {:?}{done}", p.number, p.title));
        for g in &p.groups {
            let tasks: Vec<String> = g
                .tasks
                .iter()
                .map(|t| {
                    let mut s = t.id.clone();
                    s.push_str(if t.derived_id { "*" } else { "" });
                    s.push_str(if t.done_in_roadmap { "x" } else { "" });
                    s.push_str(if t.optional { "?" } else { "" });
                    s
                })
                .collect();
            let star = if g.derived_id { "*" } else { "" };
            out.push(format!("G {}{star} [{}]", g.id, tasks.join(" ")));
        }
    }
    out
}

fn titles(r: &Roadmap) -> Vec<String> {
    r.phases
        .iter()
        .flat_map(|p| &p.groups)
        .flat_map(|g| &g.tasks)
        .map(|t| format!("{}:{}", t.id, t.title))
        .collect()
}

/// `(code, line, col)` of every diagnostic.
fn diags(p: &Parsed, src: &str) -> Vec<(&'static str, usize, usize)> {
    p.diagnostics
        .iter()
        .map(|d| {
            let (l, c) = d.line_col(src);
            (d.code, l, c)
        })
        .collect()
}

#[test]
fn speckit_fixture() {
    let src = fixture("speckit-tasks.md");
    let p = parse(&src);
    assert_eq!(p.roadmap.dialect, Dialect::SpecKit);
    assert_eq!(diags(&p, &src), []);
    // Front matter is skipped and names the roadmap.
    assert_eq!(p.roadmap.title.as_deref(), Some("Tasks: Tiny CLI"));
    assert!(!p.roadmap.context.contains("feature:"));
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Setup\"",
            "G T001* [T001x]",
            "G T002* [T002 T003]",
            "G T004* [T004]",
            "P 2 \"User Story 1 - Greet (Priority: P1) 🎯 MVP\"",
            "G T005* [T005 T006x]",
            "G T007* [T007]",
        ]
    );
    assert_eq!(
        titles(&p.roadmap)[4..],
        [
            "T005:Parse the name in src/args.rs",
            "T006:Format the greeting in src/greet.rs",
            "T007:Print it"
        ]
    );
    assert!(
        p.roadmap.phases[1]
            .context
            .contains("**Checkpoint**: greeting works")
    );
}

#[test]
fn kiro_fixture() {
    let src = fixture("kiro-tasks.md");
    let p = parse(&src);
    assert_eq!(p.roadmap.dialect, Dialect::Kiro);
    assert_eq!(diags(&p, &src), []);
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Build the parser\"",
            "G 1.1* [1.1x]",
            "G 1.2* [1.2?]",
            "G 1.3* [1.3]",
            "P 2 \"Checkpoint — parser done\"",
            "G 2* [2]",
            "P 3 \"Write the docs\" done",
            "G 3* [3x]",
        ]
    );
    let r = &p.roadmap;
    assert_eq!(r.phases[0].groups[0].tasks[0].body, "- _Requirements: 1.1_");
    assert_eq!(
        r.phases[1].groups[0].tasks[0].body,
        "- Ensure all tests pass, ask the user if questions arise."
    );
    // The optional task's tick goes into its literal `[ ]`.
    let opt = &r.phases[0].groups[1].tasks[0];
    let Some(DoneMark::Checkbox { span }) = opt.done_mark else {
        panic!("{:?}", opt.done_mark)
    };
    assert_eq!(&src[span.start..span.end + 5], "[ ]* 1.2");
}

#[test]
fn superpowers_fixture_without_phase_headings() {
    let src = fixture("superpowers-plan.md");
    let p = parse(&src);
    assert_eq!(p.roadmap.dialect, Dialect::Superpowers);
    assert_eq!(diags(&p, &src), []);
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Remove the Bot — Implementation Plan\"",
            "G 1* [1x]",
            "G 2* [2]",
        ]
    );
    let t1 = &p.roadmap.phases[0].groups[0].tasks[0];
    assert_eq!(t1.title, "Delete the bot directory");
    assert!(
        t1.body
            .starts_with("- [x] Remove src/bot/\n\n**Step 1: Delete it**")
    );
    assert!(p.roadmap.context.contains("**Goal:** remove the bot."));
}

#[test]
fn gsd_fixture() {
    let src = fixture("gsd-roadmap.md");
    let p = parse(&src);
    assert_eq!(p.roadmap.dialect, Dialect::Gsd);
    assert_eq!(diags(&p, &src), [("empty-phase", 30, 1)]);
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Foundation\" done",
            "P 2 \"Auth\" done",
            "G 02-01-PLAN.MD* [02-01-PLAN.mdx]",
            "G 02-02-PLAN.MD* [02-02-PLAN.mdx]",
            "P 2.1 \"Auth hardening\"",
            "G 2.1-01-PLAN.MD* [2.1-01-PLAN.mdx]",
            "G 2.1-02-PLAN.MD* [2.1-02-PLAN.md]",
            "P 3 \"Sharing\"",
        ]
    );
    let r = &p.roadmap;
    assert_eq!(r.phases[2].annotation.as_deref(), Some("INSERTED"));
    assert!(r.phases[1].context.starts_with("**Goal**: users log in"));
    assert_eq!(titles(r)[3], "2.1-02-PLAN.md:Lockout UI");
}

#[test]
fn words_ids_and_marks_fixture() {
    let src = fixture("words-and-ids.md");
    let p = parse(&src);
    assert_eq!(p.roadmap.dialect, Dialect::Table);
    // `after Track 9` names nothing earlier: reported where it is written.
    assert_eq!(diags(&p, &src), [("after-not-earlier", 28, 37)]);
    assert_eq!(
        &src[p.diagnostics[0].span.start..p.diagnostics[0].span.end],
        "9"
    );
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Setup\" done",
            "G 1 [W1.1x W1.2]",
            "G B [1.1 B2x td5db2d*x ta090af* 3]",
            "P 2b \"Polish\"",
            "G 01-01* [01-01 t0928fd*x]",
            "G 2 [A1]",
        ]
    );
    let r = &p.roadmap;
    // `after W1.2` resolves to a task of an earlier group.
    assert_eq!(r.phases[0].groups[1].after, ["W1.2"]);
    assert_eq!(r.phases[1].annotation.as_deref(), Some("in progress"));
    assert_eq!(
        titles(r),
        [
            "W1.1:Schema",
            "W1.2:Migrations",
            "1.1:Seed data",
            "B2:Old idea",
            "td5db2d:Write the seed script",
            "ta090af:Document the seeds",
            "3:Heading task",
            "01-01:Tidy up",
            "t0928fd:Release notes",
            "A1:Guide",
        ]
    );
    let w12 = &r.phases[0].groups[0].tasks[1];
    assert_eq!(w12.field("Status"), Some("🔶 Partial"));
    let Some(DoneMark::StatusCell { span }) = w12.done_mark else {
        panic!("{:?}", w12.done_mark)
    };
    assert_eq!(&src[span.start..span.end], "🔶 Partial");
    assert_eq!(r.phases[0].groups[1].tasks[4].body, "Body of task 3.");
}

#[test]
fn derived_ids_are_stable_when_other_tasks_are_added() {
    let before =
        "## Phase 1: A\n\n- [ ] Write docs\n- [ ] Ship it\n\n## Phase 2: B\n\n- [ ] Write docs\n";
    let after = "## Phase 1: A\n\n- [ ] New first task\n- [ ] Write docs\n- [ ] Another\n- [ ] Ship it\n\n## Phase 2: B\n\n- [ ] Zero\n- [ ] Write docs\n";
    let id_of = |src: &str, phase: usize, title: &str| {
        let r = parse(src).roadmap;
        let found = r.phases[phase]
            .groups
            .iter()
            .flat_map(|g| &g.tasks)
            .find(|t| t.title == title)
            .map(|t| t.id.clone());
        found.unwrap()
    };
    for (phase, title) in [(0, "Write docs"), (0, "Ship it"), (1, "Write docs")] {
        assert_eq!(
            id_of(before, phase, title),
            id_of(after, phase, title),
            "{title}"
        );
    }
    // The same title in one phase gets a suffix, in order.
    let r = parse("## Phase 1: A\n\n- [ ] Same\n- [ ] Same\n").roadmap;
    let ids: Vec<&str> = r.phases[0].groups[0]
        .tasks
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1], format!("{}-2", ids[0]));
}

#[test]
fn every_id_is_an_id_and_round_trips_through_status_keys() {
    use roadmap_runner::roadmap::{GroupKey, is_id};
    for name in [
        "speckit-tasks.md",
        "kiro-tasks.md",
        "superpowers-plan.md",
        "gsd-roadmap.md",
        "words-and-ids.md",
        "toolshed-ROADMAP.md",
    ] {
        let r = parse(&fixture(name)).roadmap;
        for (phase, group) in r.groups() {
            let key = group.key(phase);
            assert_eq!(
                GroupKey::parse_status(&key.to_string()),
                Some(key.clone()),
                "{name}"
            );
            assert!(is_id(&group.id), "{name}: group {:?}", group.id);
            for t in &group.tasks {
                assert!(is_id(&t.id), "{name}: task {:?}", t.id);
                assert!(!key.task_key(&t.id).contains(' '));
            }
        }
    }
}

#[test]
fn forced_dialect_is_used() {
    let src = fixture("speckit-tasks.md");
    let p = parse_as(&src, Some(Dialect::Table));
    assert_eq!(p.roadmap.dialect, Dialect::Table);
    // Read as a table roadmap, a phase's loose tasks are one implicit group.
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Setup\"",
            "G T001* [T001x T002 T003 T004]",
            "P 2 \"User Story 1 - Greet (Priority: P1) 🎯 MVP\"",
            "G T005* [T005 T006x T007]",
        ]
    );
}

#[test]
fn decimal_and_lettered_phases_are_never_dropped() {
    let src = "## Phase 4: Four\n\n- [ ] a\n\n## Phase 4b: Extra\n\n- [ ] b\n\n## Phase 12.1 (INSERTED)\n\n- [ ] c\n\n## Phase 3.1 - UI\n\n- [ ] d\n";
    let p = parse(src);
    let numbers: Vec<&str> = p
        .roadmap
        .phases
        .iter()
        .map(|ph| ph.number.as_str())
        .collect();
    assert_eq!(numbers, ["4", "4b", "12.1", "3.1"]);
    // 3.1 after 12.1 runs out of numeric order: said, at the number.
    assert_eq!(diags(&p, src), [("phase-out-of-order", 13, 10)]);
    assert_eq!(p.roadmap.phases[2].annotation.as_deref(), Some("INSERTED"));
}

#[test]
fn heading_levels_case_and_emoji() {
    let src = "# P\n\n#### 🚀 STAGE 1: Launch\n\n##### track a: lower-case letters are no group\n\n##### TRACK B: Upper\n\n- [ ] Go\n";
    let p = parse(src);
    assert_eq!(shape(&p.roadmap), ["P 1 \"Launch\"", "G B [t1bfd71*]"]);
    assert_eq!(diags(&p, src), []);
}

#[test]
fn done_markers_everywhere_and_partial_ones_not() {
    let src = "\
## Phase 1: Marks

### Group A

- [x] A1: lower x
- [X] A2: upper X
- A3: check ✅
- ~~A4: struck~~
- [ ] A5: open 🔶

#### A6: Heading (DONE)

#### A7: Heading — COMPLETE

#### A8: Heading (in progress)

### Group B

| Task | Status |
|---|---|
| **B1: a** | ✅ |
| **B2: b** | Complete |
| **B3: c** | 🔶 Partial |
| **B4: d** | in progress |
| **B5: e** | Not done |
";
    let p = parse(src);
    assert_eq!(diags(&p, src), []);
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Marks\"",
            "G A [A1x A2x A3x A4x A5 A6x A7x A8]",
            "G B [B1x B2x B3 B4 B5]",
        ]
    );
}

#[test]
fn readme_examples_read_as_their_dialects() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## The roadmap format").unwrap();
    let end = start + readme[start..].find("\n## Commands").unwrap();
    let examples: Vec<&str> = readme[start..end]
        .split("```markdown\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .collect();
    let want = [
        Dialect::Table,
        Dialect::SpecKit,
        Dialect::Kiro,
        Dialect::Superpowers,
        Dialect::Gsd,
    ];
    assert_eq!(examples.len(), want.len());
    for (src, dialect) in examples.iter().zip(want) {
        assert_eq!(src.lines().count(), 5, "{src}");
        let p = parse(src);
        assert_eq!(p.roadmap.dialect, dialect, "{src}");
        assert!(
            !roadmap_runner::roadmap::has_errors(&p.diagnostics),
            "{src}\n{:?}",
            p.diagnostics
        );
        assert!(p.roadmap.task_count() > 0, "{src}");
    }
}

#[test]
fn superpowers_step_headings_stay_inside_their_task() {
    let src = "# Plan\n\n### Task 1: First\n\n#### Step 1: Write the test\n\nx\n\n#### Step 2: Commit\n\n### Task 2: Second\n\n- [ ] Do it\n";
    let p = parse(src);
    assert_eq!(p.roadmap.dialect, Dialect::Superpowers);
    assert_eq!(diags(&p, src), []);
    assert_eq!(shape(&p.roadmap), ["P 1 \"Plan\"", "G 1* [1]", "G 2* [2]"]);
    let t1 = &p.roadmap.phases[0].groups[0].tasks[0];
    assert_eq!(
        t1.body,
        "#### Step 1: Write the test\n\nx\n\n#### Step 2: Commit"
    );
}
