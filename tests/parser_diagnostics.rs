//! Every parser diagnostic: code, severity, exact line:col, the text under
//! the span, and some full renderings.

use roadmap_runner::roadmap::{Diagnostic, Parsed, Severity, has_errors, parse};

/// Parses and returns the diagnostics, asserting their codes in order.
fn diags(src: &str, codes: &[&str]) -> Parsed {
    let p = parse(src);
    let got: Vec<&str> = p.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(got, codes, "\n{}", render_all(&p, src));
    p
}

fn render_all(p: &Parsed, src: &str) -> String {
    p.diagnostics
        .iter()
        .map(|d| d.render("ROADMAP.md", src))
        .collect()
}

/// `(line, col, spanned text)` of a diagnostic.
fn at<'s>(d: &Diagnostic, src: &'s str) -> (usize, usize, &'s str) {
    let (l, c) = d.line_col(src);
    (l, c, &src[d.span.start..d.span.end])
}

const DUP_TABLE: &str = "\
# T

## Phase 1: One

### Group A

| Feature | Complexity |
|---|---|
| **A1: First** | Low |
| **A2: Second** | Low |
| **A3: Third** | Low |
| **A1: Other** | Low |
";

#[test]
fn duplicate_task_id_renders_like_rustc() {
    let p = diags(DUP_TABLE, &["duplicate-task-id"]);
    let d = &p.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at(d, DUP_TABLE), (12, 5, "A1"));
    assert_eq!(
        d.render("ROADMAP.md", DUP_TABLE),
        "\
error: duplicate task id `A1` (first defined at line 9)
 --> ROADMAP.md:12:5
   |
12 | | **A1: Other** | Low |
   |     ^^
   = help: give each task a unique id, e.g. `A4`
"
    );
    assert!(has_errors(&p.diagnostics));
}

#[test]
fn duplicate_task_id_across_groups_and_syntaxes() {
    let src = "\
## Phase 1: One

### Group A

- A1: x

### Group B

#### A1: again
";
    let p = diags(src, &["task-group-mismatch", "duplicate-task-id"]);
    let d = &p.diagnostics[1];
    assert_eq!(at(d, src), (9, 6, "A1"));
    assert_eq!(
        d.message,
        "duplicate task id `A1` (first defined at line 5)"
    );
    assert_eq!(at(&p.diagnostics[0], src), (9, 6, "A1"));
}

#[test]
fn task_ids_are_scoped_by_phase() {
    // Every phase starts again at Group A / A1 (issue 8).
    let src = "\
## Phase 1: One

### Group A

- A1: x
- A2: y

## Phase 2: Two

### Group A

- A1: again
- A2: and again
";
    let p = diags(src, &[]);
    assert_eq!(p.roadmap.task_count(), 4);
}

#[test]
fn two_duplicates_get_distinct_free_ids() {
    let src = "## Phase 1: One\n\n### Group A\n\n- A1: x\n- A2: y\n- A1: dup\n- A2: dup\n\n## Phase 2: Two\n\n### Group A\n\n- A7: other phase\n";
    let p = diags(src, &["duplicate-task-id", "duplicate-task-id"]);
    let helps: Vec<&str> = p
        .diagnostics
        .iter()
        .filter_map(|d| d.help.as_deref())
        .collect();
    assert_eq!(
        helps,
        [
            "give each task a unique id, e.g. `A3`",
            "give each task a unique id, e.g. `A4`"
        ]
    );
    let got: Vec<_> = p.diagnostics.iter().map(|d| at(d, src)).collect();
    assert_eq!(got, [(7, 3, "A1"), (8, 3, "A2")]);
}

#[test]
fn duplicate_phase_number() {
    let src = "## Phase 1: One\n\n### Group A\n\n- A1: x\n\n## Phase 1: Again\n\n### Group B\n\n- B1: y\n";
    let p = diags(src, &["duplicate-phase"]);
    let d = &p.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at(d, src), (7, 10, "1"));
    assert_eq!(
        d.render("ROADMAP.md", src),
        "\
error: duplicate phase number `1` (first defined at line 1)
 --> ROADMAP.md:7:10
  |
7 | ## Phase 1: Again
  |          ^
  = help: give each phase its own number, e.g. `Phase 2`
"
    );
}

#[test]
fn phase_out_of_order() {
    let src =
        "## Phase 2: Two\n\n### Group A\n\n- A1: x\n\n## Phase 1 — One\n\n### Group B\n\n- B1: y\n";
    let p = diags(src, &["phase-out-of-order"]);
    assert_eq!(at(&p.diagnostics[0], src), (7, 10, "1"));
    assert_eq!(p.diagnostics[0].message, "phase 1 comes after phase 2");
}

#[test]
fn invalid_phase_number() {
    let big = "9".repeat(40);
    let src = format!(
        "## Phase 1: One\n\n### Group A\n\n- A1: x\n\n## Phase {big}: Big\n\n### Group B\n\n- B1: y\n"
    );
    // The section is skipped (not merged into phase 1), so its group is stray.
    let p = diags(&src, &["invalid-phase-number", "group-outside-phase"]);
    assert_eq!(at(&p.diagnostics[0], &src), (7, 10, big.as_str()));
    assert_eq!(p.roadmap.task_count(), 1);
    // Eleven digits are a phase id like any other now.
    let p = diags(&src.replace(&big, "99999999999"), &[]);
    assert_eq!(p.roadmap.phases[1].number.as_str(), "99999999999");
}

#[test]
fn duplicate_group() {
    let src = "## Phase 1: One\n\n### Group A\n\n- A1: x\n\n### Group A: Again\n\n- A2: y\n";
    let p = diags(src, &["duplicate-group"]);
    let d = &p.diagnostics[0];
    assert_eq!(at(d, src), (7, 11, "A"));
    assert_eq!(
        d.message,
        "duplicate group `A` in phase 1 (first defined at line 3)"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("give each group of a phase its own letters, e.g. `Group B`")
    );
}

#[test]
fn after_must_name_an_earlier_group() {
    let src = "\
## Phase 1: One

### Group A

- A1: x

### Group B (Parallel, after C)

- B1: x

### Group C (after A, B and C)

- C1: x

## Phase 2: Two

### Group D (after A)

- D1: x
";
    let p = diags(
        src,
        &[
            "after-not-earlier",
            "after-not-earlier",
            "after-not-earlier",
        ],
    );
    let got: Vec<_> = p.diagnostics.iter().map(|d| at(d, src)).collect();
    assert_eq!(got, [(7, 30, "C"), (11, 29, "C"), (17, 20, "A")]);
    assert_eq!(
        p.diagnostics[0].render("ROADMAP.md", src),
        "\
error: group `B` runs after `C`, which is not an earlier group of phase 1
 --> ROADMAP.md:7:30
  |
7 | ### Group B (Parallel, after C)
  |                              ^
  = help: groups run in the order they appear; name a group defined above this one (earlier groups: A)
"
    );
    assert_eq!(
        p.diagnostics[2].help.as_deref(),
        Some(
            "groups run in the order they appear; name a group defined above this one \
             (it is the first group of the phase)"
        )
    );
}

#[test]
fn task_letters_differ_from_group() {
    let src = "## Phase 1: One\n\n### Group A\n\n- A1: x\n- B1: misplaced\n";
    let p = diags(src, &["task-group-mismatch"]);
    let d = &p.diagnostics[0];
    assert_eq!(d.severity, Severity::Warning);
    assert!(!has_errors(&p.diagnostics));
    assert_eq!(at(d, src), (6, 3, "B1"));
    assert_eq!(
        d.render("ROADMAP.md", src),
        "\
warning: task `B1` is in group A but its id names another group
 --> ROADMAP.md:6:3
  |
6 | - B1: misplaced
  |   ^^
  = help: rename it `A2` or move it under its own group
"
    );
    // Still a task of group A.
    assert_eq!(p.roadmap.phases[0].groups[0].tasks.len(), 2);
}

#[test]
fn tasks_outside_a_group_get_an_implicit_group() {
    let src = "\
## Phase 1: One

- A1: before any group

| Feature | X |
|---|---|
| **A2: table** | y |

### Group A

- A3: fine

### Notes

#### A4: under a non-group section
";
    let p = diags(src, &[]);
    // A1 and A2 form one implicit group named after A1; A4 gets its own.
    let groups: Vec<(&str, bool, Vec<&str>)> = p.roadmap.phases[0]
        .groups
        .iter()
        .map(|g| {
            (
                g.id.as_str(),
                g.derived_id,
                g.tasks.iter().map(|t| t.id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("A1", true, vec!["A1", "A2"]),
            ("A", false, vec!["A3"]),
            ("A4", true, vec!["A4"])
        ]
    );
    let a4 = &p.roadmap.phases[0].groups[2];
    assert_eq!(
        &src[a4.span.start..a4.span.end],
        "#### A4: under a non-group section"
    );
}

#[test]
fn empty_phase_and_group() {
    let src = "## Phase 1: One\n\n### Group A\n\n- A1: x\n\n### Group B\n\nNothing yet.\n\n## Phase 2: Empty ##\n\nJust words.\n";
    let p = diags(src, &["empty-group", "empty-phase"]);
    let got: Vec<_> = p.diagnostics.iter().map(|d| at(d, src)).collect();
    assert_eq!(
        got,
        [(7, 1, "### Group B"), (11, 1, "## Phase 2: Empty ##")]
    );
    // A group nothing was read from must never be completed: an error.
    assert_eq!(p.diagnostics[0].severity, Severity::Error);
    assert_eq!(p.diagnostics[1].severity, Severity::Warning);
    assert_eq!(
        p.diagnostics[0].message,
        "group B of phase 1 has no tasks: nothing under it was read as a task, so it could never be completed"
    );
    assert_eq!(
        p.diagnostics[1].message,
        "phase 2 has no groups or tasks; a run stops before it"
    );
}

#[test]
fn group_with_nothing_read_is_an_error() {
    // The issue's case: a group nothing was read from was "every task is
    // marked done" and got committed. Now: an error, and no task at all too.
    let src = "## Phase 1: One\n\n### Group A: Setup\n\nWrite the schema, then a migration.\n\n> quoted: - [ ] not a task\n";
    let p = diags(src, &["no-tasks", "empty-group"]);
    assert!(has_errors(&p.diagnostics));
    assert_eq!(at(&p.diagnostics[1], src), (3, 1, "### Group A: Setup"));
    assert!(
        p.diagnostics[1]
            .help
            .as_deref()
            .unwrap()
            .contains("`- [ ] Title`")
    );
}

#[test]
fn group_of_plain_list_items_takes_them_as_tasks() {
    let src = "## Phase 1: One\n\n### Group A: Setup\n\nIntro.\n\n- write the schema\n- add a **migration**\n  with a body\n\n### Group B\n\n- B1: real\n- a note, not a task\n";
    let p = diags(src, &[]);
    let a = &p.roadmap.phases[0].groups[0];
    let got: Vec<(&str, bool, &str)> = a
        .tasks
        .iter()
        .map(|t| (t.title.as_str(), t.derived_id, t.body.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("write the schema", true, ""),
            ("add a migration", true, "with a body")
        ]
    );
    assert_eq!(a.context, "Intro.");
    assert!(
        a.tasks
            .iter()
            .all(|t| t.id.starts_with('t') && t.id.len() == 7)
    );
    let b = &p.roadmap.phases[0].groups[1];
    assert_eq!(b.tasks.len(), 1);
    assert_eq!(b.context, "- a note, not a task");
}

#[test]
fn done_phase_without_tasks_is_not_reported() {
    let src = "## Phase 1: Shipped ✅\n\nAll done.\n\n## Phase 2: Next\n\n- [ ] Build it\n";
    let p = diags(src, &[]);
    assert!(p.roadmap.phases[0].done_in_roadmap);
    assert_eq!(p.roadmap.task_count(), 1);
}

#[test]
fn no_tasks_names_the_headings_it_saw() {
    let src = "# Plan\n\n## Phase 1: One\n\nWords.\n\n## Phase 2: Two\n\n* more words\n";
    let p = diags(src, &["empty-phase", "no-tasks", "empty-phase"]);
    let d = &p.diagnostics[1];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at(d, src), (3, 1, "## Phase 1: One"));
    assert_eq!(
        d.message,
        "no task was read in any of the 2 phases (`## Phase 1: One` (line 3), `## Phase 2: Two` (line 7)), so nothing would run"
    );
    assert!(d.help.as_deref().unwrap().contains("table roadmap"));
}

#[test]
fn phase_heading_without_separator_is_pointed_at() {
    let src = "# Plan\n\n## Phase 1 Foundation\n\n### Group A\n\n- A1: x\n\n## Phase 2: Two\n\n### Group B\n\n- B1: y\n\n## Release 2024 notes\n";
    let p = diags(src, &["phase-heading-format", "group-outside-phase"]);
    let d = &p.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at(d, src), (3, 4, "Phase 1"));
    assert_eq!(
        d.render("ROADMAP.md", src),
        "\
error: `Phase 1` looks like a phase heading but is not read as one
 --> ROADMAP.md:3:4
  |
3 | ## Phase 1 Foundation
  |    ^^^^^^^
  = help: put `:`, `-`, `—` or `(` after the number, e.g. `Phase 1: Title`; without it the heading and everything under it is not run
"
    );
}

#[test]
fn no_phases_points_at_phase_like_headings() {
    let src =
        "---\ntitle: My plan\n---\n# Plan\n\n## Stage 1 setup\n\n## Stage 2 build\n\n- [ ] thing\n";
    let p = diags(
        src,
        &["no-phases", "phase-heading-format", "phase-heading-format"],
    );
    assert_eq!(at(&p.diagnostics[1], src), (6, 4, "Stage 1"));
    let d = &p.diagnostics[0];
    assert_eq!(at(d, src), (6, 1, "## Stage 1 setup"));
    assert_eq!(
        d.message,
        "the roadmap has no phases; these headings look like phases but are not written as one: \
         `## Stage 1 setup` (line 6), `## Stage 2 build` (line 8)"
    );
    assert_eq!(p.roadmap.title.as_deref(), Some("My plan"));
}

#[test]
fn empty_task_title() {
    let src = "## Phase 1: One\n\n### Group A\n\n- A1:\n- **A2**\n\n#### A3\n";
    let p = diags(
        src,
        &["empty-task-title", "empty-task-title", "empty-task-title"],
    );
    let got: Vec<_> = p.diagnostics.iter().map(|d| at(d, src)).collect();
    assert_eq!(got, [(5, 3, "A1"), (6, 5, "A2"), (8, 6, "A3")]);
    let titles: Vec<&str> = p.roadmap.phases[0].groups[0]
        .tasks
        .iter()
        .map(|t| t.title.as_str())
        .collect();
    assert_eq!(titles, ["", "", ""]);
}

#[test]
fn group_outside_phase() {
    let src = "# T\n\n## Group A: Early\n\n- A1: x\n\n## Phase 1: One\n\n### Group B\n\n- B1: y\n\n## Appendix\n\n### Group C\n";
    let p = diags(src, &["group-outside-phase", "group-outside-phase"]);
    let got: Vec<_> = p.diagnostics.iter().map(|d| at(d, src)).collect();
    assert_eq!(got, [(3, 10, "A"), (15, 11, "C")]);
    assert_eq!(p.roadmap.task_count(), 1);
}

#[test]
fn non_task_row_in_a_task_table() {
    let src = "## Phase 1: One\n\n### Group A\n\n| Feature | X |\n|---|---|\n| **A1: t** | y |\n| Total | 1 |\n|  | blank first cell is fine |\n";
    let p = diags(src, &["non-task-row"]);
    assert_eq!(at(&p.diagnostics[0], src), (8, 3, "Total"));
}

#[test]
fn no_phases_in_an_empty_file() {
    let p = diags("", &["no-phases"]);
    let d = &p.diagnostics[0];
    assert_eq!((d.span.start, d.span.end), (0, 0));
    assert_eq!(
        d.render("ROADMAP.md", ""),
        "\
error: the roadmap has no phases
 --> ROADMAP.md:1:1
  |
1 |
  | ^
  = help: add a phase heading such as `## Phase 1: Foundation`, with groups (`### Group A: Database`) and tasks (`- A1: Schema`) under it
"
    );
}

#[test]
fn no_phases_in_prose() {
    let src = "\u{feff}# Just a title\r\n\r\nSome text.\r\n";
    let p = diags(src, &["no-phases"]);
    assert_eq!(p.diagnostics[0].line_col(src), (1, 1));
    assert_eq!(p.roadmap.title.as_deref(), Some("Just a title"));
    assert_eq!(p.roadmap.context, "Some text.");
    // It points at the headings it saw, here the only one.
    assert_eq!(
        p.diagnostics[0].message,
        "the roadmap has no phases; its headings are `# Just a title` (line 1)"
    );
    assert!(
        p.diagnostics[0]
            .render("R", src)
            .contains("1 | # Just a title\n  | ^^^^^^^^^^^^^^\n")
    );
}

#[test]
fn crlf_and_bom_keep_positions() {
    let lf_render = render_all(&parse(DUP_TABLE), DUP_TABLE);
    for src in [
        DUP_TABLE.replace('\n', "\r\n"),
        format!("\u{feff}{DUP_TABLE}"),
        format!("\u{feff}{}", DUP_TABLE.replace('\n', "\r\n")),
    ] {
        let p = diags(&src, &["duplicate-task-id"]);
        assert_eq!(at(&p.diagnostics[0], &src), (12, 5, "A1"));
        assert_eq!(render_all(&p, &src), lf_render);
    }
}

#[test]
fn bom_on_the_first_line_is_not_a_column() {
    let src = "\u{feff}## Phase 1: One\n\n### Group A\n\n- A1: x\n\n## Phase 1: Dup\n";
    let p = diags(src, &["empty-phase", "duplicate-phase"]);
    // The empty second phase 1 is reported too, at its heading.
    assert_eq!(at(&p.diagnostics[1], src), (7, 10, "1"));
    assert_eq!(p.diagnostics[0].line_col(src), (7, 1));
}

#[test]
fn diagnostics_are_sorted_by_position() {
    let src = "## Phase 2: Two\n\n### Group A\n\n- A1: x\n- A1: y\n\n## Phase 1: One\n\n### Group B (after Z)\n";
    let p = diags(
        src,
        &[
            "duplicate-task-id",
            "phase-out-of-order",
            "empty-group",
            "after-not-earlier",
        ],
    );
    let starts: Vec<usize> = p.diagnostics.iter().map(|d| d.span.start).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn every_diagnostic_has_help_and_a_kebab_case_code() {
    let src = "\
## Group Q

## Phase 2: Two

- Z1: loose

### Group A (after B)

- B1
- A1: x
- A1: x

| Feature | S |
|---|---|
| **A2: t** | y |
| Total | 1 |

### Group A

## Phase 2: Again

## Phase 1: Back

## Phase 9999999999999999999999999999999999999: Big

## Phase 3 Without colon

## Phase 4: Four

### Phase 4.1: Nested

- [ ] inside
";
    let p = parse(src);
    let mut codes: Vec<&str> = p.diagnostics.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(
        codes,
        [
            "after-not-earlier",
            "duplicate-group",
            "duplicate-phase",
            "duplicate-task-id",
            "empty-group",
            "empty-phase",
            "empty-task-title",
            "group-outside-phase",
            "invalid-phase-number",
            "nested-phase",
            "non-task-row",
            "phase-heading-format",
            "phase-out-of-order",
            "task-group-mismatch",
        ]
    );
    for d in &p.diagnostics {
        assert!(d.help.as_deref().is_some_and(|h| !h.is_empty()), "{d:?}");
        assert!(d.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
        assert!(d.span.end <= src.len() && d.span.start <= d.span.end);
    }
    // `no-phases` and `no-tasks` are the codes this roadmap cannot show.
    diags("no phases here", &["no-phases"]);
    diags("## Phase 1: Words only\n", &["empty-phase", "no-tasks"]);
}

#[test]
fn thousands_of_diagnostics_render_in_linear_time() {
    // 9,000 duplicates once took 2.1 s to render: each found its line by
    // scanning from the start. A quadratic renderer needs minutes here in a
    // debug build; a linear one, milliseconds.
    let mut src = String::from("## Phase 1: One\n\n### Group A\n\n");
    for i in 0..9_000 {
        src.push_str(&format!(
            "- A1: duplicate number {i} with some words to make the line longer\n"
        ));
    }
    let t = std::time::Instant::now();
    let p = parse(&src);
    assert_eq!(p.diagnostics.len(), 8_999);
    let out = roadmap_runner::roadmap::diagnostics::render_all(&p.diagnostics, "ROADMAP.md", &src);
    let took = t.elapsed();
    assert!(out.contains(" --> ROADMAP.md:9004:3\n"));
    // Every suggestion is distinct.
    let helps: std::collections::HashSet<_> =
        p.diagnostics.iter().map(|d| d.help.clone()).collect();
    assert_eq!(helps.len(), 8_999);
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
}

#[test]
fn phase_heading_nested_in_a_phase_is_said() {
    let src = "## Phase 3: Three\n\n### Group A\n\n- A1: x\n\n### Phase 3.1: Hotfix (INSERTED)\n\n- [ ] Patch it\n";
    let p = diags(src, &["nested-phase"]);
    let d = &p.diagnostics[0];
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(at(d, src), (7, 11, "3.1"));
    assert_eq!(
        d.message,
        "this level-3 phase heading is inside phase 3; its tasks are read as phase 3's"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("to run it as a phase of its own, make it a `##` heading like the other phases")
    );
    // Its task is not lost: phase 3 reads it (in an implicit group).
    assert_eq!(p.roadmap.task_count(), 2);
}
