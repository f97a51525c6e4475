//! Parser: a full-size table roadmap (toolshed) and every accepted syntax.
//! Diagnostics are in `parser_diagnostics.rs`, robustness in `parser_props.rs`.

use roadmap_runner::roadmap::seed::roadmap_tasks_txt;
use roadmap_runner::roadmap::{Parsed, Roadmap, Task, has_errors, parse};

/// Written after the roadmap the original bash orchestrator ran on: the same
/// layout and traps, its own project; the `.expected.txt` beside it was
/// written from the same list of tasks, not by this parser.
const TOOLSHED: &str = include_str!("fixtures/roadmaps/toolshed-ROADMAP.md");
const TOOLSHED_SEED: &str = include_str!("fixtures/roadmaps/toolshed-roadmap_tasks.expected.txt");

/// Parses and insists on no diagnostics at all.
fn clean(src: &str) -> Roadmap {
    let p = parse(src);
    assert!(
        p.diagnostics.is_empty(),
        "unexpected diagnostics:\n{}",
        render_all(&p, src)
    );
    p.roadmap
}

fn render_all(p: &Parsed, src: &str) -> String {
    p.diagnostics
        .iter()
        .map(|d| d.render("ROADMAP.md", src))
        .collect()
}

fn tasks(r: &Roadmap) -> Vec<&Task> {
    r.phases
        .iter()
        .flat_map(|p| &p.groups)
        .flat_map(|g| &g.tasks)
        .collect()
}

/// `id:title` of every task, in order.
fn ids_titles(r: &Roadmap) -> Vec<String> {
    tasks(r)
        .iter()
        .map(|t| format!("{}:{}", t.id, t.title))
        .collect()
}

fn task<'r>(r: &'r Roadmap, id: &str) -> &'r Task {
    tasks(r)
        .into_iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no task {id}"))
}

// ----- toolshed --------------------------------------------------------------

#[test]
fn toolshed_seed_is_byte_identical() {
    let r = clean(TOOLSHED);
    assert_eq!(roadmap_tasks_txt(&r), TOOLSHED_SEED);
}

#[test]
fn toolshed_shape() {
    let r = clean(TOOLSHED);
    assert_eq!(
        r.title.as_deref(),
        Some("Toolshed Lending Library - Implementation Roadmap")
    );
    // `### Phase 1 (3 parallel agents max)` under Agent Assignment is not a phase.
    let numbers: Vec<&str> = r.phases.iter().map(|p| p.number.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4"]);
    assert_eq!(r.group_count(), 14);
    // Quick Reference rows (`| **A** | ...`), Agent Assignment bullets
    // (`- Agent 1: ...`) and Risk Mitigation bullets (`- E1: ...`) are not tasks.
    assert_eq!(r.task_count(), 41);
    let sizes: Vec<usize> = r.phases.iter().map(|p| p.groups.len()).collect();
    assert_eq!(sizes, [3, 4, 4, 3]);
    assert_eq!(r.phases[0].title, "Core Platform");
    assert_eq!(r.phases[1].title, "Lending & Inventory");
    let letters: String = r.groups().map(|(_, g)| g.id.as_str()).collect();
    assert_eq!(letters, "ABCDEFGHIJKLMN");
    assert!(tasks(&r).iter().all(|t| !t.done_in_roadmap));
}

#[test]
fn toolshed_fields_and_annotations() {
    let r = clean(TOOLSHED);
    let a1 = task(&r, "A1");
    assert_eq!(a1.title, "Data Store & Migrations");
    assert_eq!(a1.field("Complexity"), Some("Low"));
    assert_eq!(a1.field("Spec"), Some("core"));
    assert_eq!(
        a1.field("Description"),
        Some("SQLite schema, migration runner, seed loader")
    );
    let names: Vec<&str> = a1.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Complexity", "Spec", "Description"]);
    assert_eq!(a1.field("Feature"), None);
    assert!(TOOLSHED[a1.span.start..a1.span.end].starts_with("| **A1: Data Store"));

    let (a, b) = (&r.phases[0].groups[0], &r.phases[0].groups[1]);
    assert_eq!(a.annotation.as_deref(), Some("Parallel"));
    assert!(a.after.is_empty());
    assert_eq!(b.annotation.as_deref(), Some("Parallel, after A"));
    assert_eq!(b.after, ["A"]);
    assert_eq!(
        &TOOLSHED[b.span.start..b.span.end],
        "### Group B (Parallel, after A)"
    );
}

#[test]
fn toolshed_context_goes_to_the_right_level() {
    let r = clean(TOOLSHED);
    assert!(r.context.starts_with("## Overview"));
    assert!(r.context.contains("**Legend:**"));
    assert!(!r.context.contains("Phase 1: Core Platform"));
    let p1 = &r.phases[0];
    assert!(p1.context.starts_with("*Nothing lends without these."));
    assert!(p1.context.contains("**Phase 1 Deliverables:**"));
    assert!(
        p1.context
            .contains("- ✅ The API answers with one error format")
    );
    assert!(!p1.context.contains("---"));
    let c = &p1.groups[2];
    assert_eq!(c.id, "C");
    assert!(!c.context.contains("Deliverables"), "{:?}", c.context);
    // Post-phase sections belong to nobody.
    let all: String = r.phases.iter().map(|p| p.context.as_str()).collect();
    assert!(!all.contains("Implementation Summary"));
    assert!(!all.contains("Quick Reference"));
    assert!(!r.phases[3].context.contains("Agent Assignment"));
}

#[test]
fn toolshed_with_crlf_and_bom_is_identical() {
    let crlf = format!("\u{feff}{}", TOOLSHED.replace('\n', "\r\n"));
    let r = clean(&crlf);
    assert_eq!(roadmap_tasks_txt(&r), TOOLSHED_SEED);
    let a1 = task(&r, "A1");
    assert!(crlf[a1.span.start..a1.span.end].starts_with("| **A1: Data Store"));
    assert!(!r.phases[0].context.contains('\r'));
    let lf = clean(TOOLSHED);
    assert_eq!(r.phases[0].context, lf.phases[0].context);
    assert_eq!(r.context, lf.context);
}

// ----- syntaxes ------------------------------------------------------------

/// Titles are the text a reader sees: emphasis is removed wherever a title
/// is made (roadmap, phase, group, table cell, list item, heading task), and
/// the stars an id's bold leaves behind (`**A1: Schema** (stretch)`) go too.
#[test]
fn titles_are_plain_text_wherever_they_are_made() {
    let src = "\
# The *Big* Plan

## Phase 1: **Core** work

### Group A: *Data* (Parallel)

| Task | Notes |
|------|-------|
| **A1: Schema** (stretch) | `**kept**` |
| **A2**: add a *fast* path | |

- **A3: Seeds** — from *fixtures*
- [ ] A4: Check `a*b` and 2 ** 8

### Group B

#### **B1: __Heading__ task**
";
    let r = clean(src);
    assert_eq!(r.title.as_deref(), Some("The Big Plan"));
    assert_eq!(r.phases[0].title, "Core work");
    assert_eq!(r.phases[0].groups[0].title, "Data");
    assert_eq!(
        ids_titles(&r),
        [
            "A1:Schema (stretch)",
            "A2:add a fast path",
            "A3:Seeds — from fixtures",
            "A4:Check `a*b` and 2 ** 8",
            "B1:Heading task"
        ]
    );
    assert_eq!(task(&r, "A1").field("Notes"), Some("`**kept**`"));
    assert_eq!(
        roadmap_tasks_txt(&r).lines().next(),
        Some("PHASE_1:A:A1:Schema (stretch)")
    );
}

#[test]
fn table_tasks_take_fields_from_the_header() {
    let src = "\
# T

## Phase 1: One

### Group A: Data

| Task | Owner | Status | Notes |
|------|-------|--------|-------|
| **A1: First** | ann | ✅ | a \\| b |
| **A2**: Second | bob | Done | |
| A3 — Third | | in progress | x |
| **A4 Fourth** | | done! | |
";
    let r = clean(src);
    assert_eq!(
        ids_titles(&r),
        ["A1:First", "A2:Second", "A3:Third", "A4:Fourth"]
    );
    let a1 = task(&r, "A1");
    let fields: Vec<(&str, &str)> = a1
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        fields,
        [("Owner", "ann"), ("Status", "✅"), ("Notes", "a | b")]
    );
    let done: Vec<bool> = tasks(&r).iter().map(|t| t.done_in_roadmap).collect();
    assert_eq!(done, [true, true, false, true]);
    assert_eq!(task(&r, "A2").field("notes"), Some(""));
    assert_eq!(r.phases[0].groups[0].title, "Data");
}

#[test]
fn list_task_forms() {
    let src = "\
# T

## Phase 1: One

### Group A

- **A1**: Bold id
- A2: Plain
- [ ] A3 — Unchecked
- [x] A4: Checked
- [X] A5 – Upper X
* **A6: Bold all**
+ A7 Whitespace only
- `A8`: not an id, context

1. A9: Ordered
2. A10 - Ordered dash
";
    let r = clean(src);
    assert_eq!(
        ids_titles(&r),
        [
            "A1:Bold id",
            "A2:Plain",
            "A3:Unchecked",
            "A4:Checked",
            "A5:Upper X",
            "A6:Bold all",
            "A7:Whitespace only",
            "A9:Ordered",
            "A10:Ordered dash"
        ]
    );
    let done: Vec<&str> = tasks(&r)
        .iter()
        .filter(|t| t.done_in_roadmap)
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(done, ["A4", "A5"]);
    assert_eq!(r.phases[0].groups[0].context, "- `A8`: not an id, context");
}

#[test]
fn list_task_body_is_its_nested_content() {
    let src = "\
## Phase 1: One

### Group A

- A1: Schema
  Tables for users.

  - users
  - communities

  ```sql
  create table x;
  ```
- A2: Next
    - deeper
- A3: No body

Notes after the list.
";
    let r = clean(src);
    assert_eq!(
        task(&r, "A1").body,
        "Tables for users.\n\n- users\n- communities\n\n```sql\ncreate table x;\n```"
    );
    assert_eq!(task(&r, "A2").body, "- deeper");
    assert_eq!(task(&r, "A3").body, "");
    assert_eq!(r.phases[0].groups[0].context, "Notes after the list.");
    let a1 = task(&r, "A1");
    assert!(src[a1.span.start..a1.span.end].starts_with("- A1: Schema"));
    assert!(src[a1.span.start..a1.span.end].ends_with("```"));
}

#[test]
fn loose_list_items_keep_their_checkbox_and_body() {
    let src =
        "## Phase 1: One\n\n### Group A\n\n- [x] A1: Done\n\n  Body para.\n\n- [ ] A2: Open\n";
    let r = clean(src);
    assert_eq!(ids_titles(&r), ["A1:Done", "A2:Open"]);
    assert!(task(&r, "A1").done_in_roadmap);
    assert!(!task(&r, "A2").done_in_roadmap);
    assert_eq!(task(&r, "A1").body, "Body para.");
}

#[test]
fn heading_tasks_take_the_section_as_body() {
    let src = "\
# T

## Phase 1: One

### Group A: Core

Group intro.

#### A1: Schema ✅

Design the tables.

##### Details

- users

#### A2 — Scaffolding

Set up the repo.

### Group B (after A)

#### **B1: Auth**
";
    let r = clean(src);
    assert_eq!(ids_titles(&r), ["A1:Schema", "A2:Scaffolding", "B1:Auth"]);
    let a1 = task(&r, "A1");
    assert!(a1.done_in_roadmap);
    assert_eq!(a1.body, "Design the tables.\n\n##### Details\n\n- users");
    assert_eq!(
        &src[a1.span.start..a1.span.end],
        "#### A1: Schema ✅\n\nDesign the tables.\n\n##### Details\n\n- users"
    );
    assert_eq!(task(&r, "A2").body, "Set up the repo.");
    assert_eq!(task(&r, "B1").body, "");
    assert_eq!(r.phases[0].groups[0].context, "Group intro.");
    assert_eq!(r.phases[0].groups[1].after, ["A"]);
}

#[test]
fn heading_task_body_stops_at_rule_and_phase_notes() {
    let src = "\
## Phase 1: One

### Group A

#### A1: Only

Body.

**Phase 1 Deliverables:**
- it works

## Phase 2: Two

### Group B

#### B1: Last

Body B.

---

Phase two closing words.
";
    let r = clean(src);
    assert_eq!(task(&r, "A1").body, "Body.");
    assert_eq!(task(&r, "B1").body, "Body B.");
    assert_eq!(r.phases[0].context, "**Phase 1 Deliverables:**\n- it works");
    assert_eq!(r.phases[1].context, "Phase two closing words.");
    assert_eq!(r.phases[1].groups[0].context, "");
}

#[test]
fn syntaxes_mix_within_a_group() {
    let src = "\
## Phase 1 — Mixed

### Group A - Everything

| Feature | Complexity |
|---|---|
| **A1: From table** | Low |

- A2: From list
- Not a task

#### A3: From heading

Heading body.
";
    let r = clean(src);
    assert_eq!(
        ids_titles(&r),
        ["A1:From table", "A2:From list", "A3:From heading"]
    );
    assert_eq!(r.phases[0].title, "Mixed");
    assert_eq!(r.phases[0].groups[0].title, "Everything");
    assert_eq!(r.phases[0].groups[0].context, "- Not a task");
    assert_eq!(task(&r, "A3").body, "Heading body.");
}

#[test]
fn phase_and_group_heading_forms() {
    let src = "\
# Project

## Phase 1: Foundation Layer ##

### Group A: Database ###

- A1: x

## Phase 2 (Parallel)

### Group B (Parallel, after Phase 1)

- B1: x

### Group C — Auth (after B)

- C1: x

## Phase 3 – Polish

### Group D - X

- D1: x

### Group E: Why (Parallel)

- E1: x

### Group F (after D and E)

- F1: x

### Group AA (after D, E, F)

- AA1: x
";
    let r = clean(src);
    let phases: Vec<(u32, &str, Option<&str>)> = r
        .phases
        .iter()
        .map(|p| {
            let n = p.number.leading_number().unwrap() as u32;
            (n, p.title.as_str(), p.annotation.as_deref())
        })
        .collect();
    assert_eq!(
        phases,
        [
            (1, "Foundation Layer", None),
            (2, "", Some("Parallel")),
            (3, "Polish", None)
        ]
    );
    let groups: Vec<(&str, &str, Option<&str>, Vec<String>)> = r
        .groups()
        .map(|(_, g)| {
            (
                g.id.as_str(),
                g.title.as_str(),
                g.annotation.as_deref(),
                g.after.clone(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        groups,
        [
            ("A", "Database", None, s(&[])),
            ("B", "", Some("Parallel, after Phase 1"), s(&[])),
            ("C", "Auth", Some("after B"), s(&["B"])),
            ("D", "X", None, s(&[])),
            ("E", "Why", Some("Parallel"), s(&[])),
            ("F", "", Some("after D and E"), s(&["D", "E"])),
            ("AA", "", Some("after D, E, F"), s(&["D", "E", "F"])),
        ]
    );
    assert_eq!(
        ids_titles(&r),
        ["A1:x", "B1:x", "C1:x", "D1:x", "E1:x", "F1:x", "AA1:x"]
    );
}

#[test]
fn phase_headings_nested_under_other_sections_are_not_phases() {
    let src = "\
# Plan

## Overview

### Phase 1 (2 agents)
- A1: mentioned in prose

## Phase 1: Real

### Group A

- A1: Real task

## Agent Assignment

### Phase 2 (4 parallel agents max)
- Agent 1: stuff (A1)

### Group Z
";
    let p = parse(src);
    let codes: Vec<&str> = p.diagnostics.iter().map(|d| d.code).collect();
    // The stray `### Group Z` is flagged; nothing else.
    assert_eq!(codes, ["group-outside-phase"]);
    assert_eq!(p.roadmap.phases.len(), 1);
    assert_eq!(ids_titles(&p.roadmap), ["A1:Real task"]);
    assert!(p.roadmap.context.contains("### Phase 1 (2 agents)"));
}

#[test]
fn phase_level_is_the_shallowest_phase_heading() {
    // The first phase-looking heading is nested deeper than the real phases.
    let src = "\
# Plan

## Summary

### Phase 1: summary only

# Phase 1: Real

## Group A

- A1: One

# Phase 2: Also real

## Group B

- B1: Two
";
    let r = clean(src);
    assert_eq!(r.phases.len(), 2);
    assert_eq!(r.title.as_deref(), Some("Plan"));
    assert_eq!(ids_titles(&r), ["A1:One", "B1:Two"]);
}

#[test]
fn non_phase_heading_at_phase_level_ends_the_phase() {
    let src = "\
## Phase 1: One

### Group A

- A1: x

## Risks

- A2: Risky thing, not a task
| **A3: nor this** |
|---|

## Phase 2: Two

### Group B

- B1: y
";
    let r = clean(src);
    assert_eq!(ids_titles(&r), ["A1:x", "B1:y"]);
    assert_eq!(r.phases[0].context, "");
}

#[test]
fn sub_headings_inside_a_phase() {
    let src = "\
## Phase 1: One

Phase intro.

### Group A

#### Notes

Group notes.

- A1: Task

### Prerequisites

Phase prerequisites.
";
    let r = clean(src);
    assert_eq!(
        r.phases[0].context,
        "Phase intro.\n\n### Prerequisites\n\nPhase prerequisites."
    );
    assert_eq!(r.phases[0].groups[0].context, "#### Notes\n\nGroup notes.");
    assert_eq!(ids_titles(&r), ["A1:Task"]);
}

#[test]
fn rule_moves_following_text_to_the_phase() {
    let src = "\
## Phase 1: One

### Group A

Before the rule.

- A1: x

---

After the rule.

- A2: still in group A
";
    let r = clean(src);
    let g = &r.phases[0].groups[0];
    assert_eq!(g.context, "Before the rule.");
    assert_eq!(r.phases[0].context, "After the rule.");
    assert_eq!(ids_titles(&r), ["A1:x", "A2:still in group A"]);
}

#[test]
fn deliverables_are_phase_context_even_with_ids() {
    let src = "\
## Phase 1: One

### Group A

- A1: x

**Deliverables:**
- A1: users can log in
";
    let r = clean(src);
    assert_eq!(ids_titles(&r), ["A1:x"]);
    assert_eq!(
        r.phases[0].context,
        "**Deliverables:**\n- A1: users can log in"
    );
}

#[test]
fn title_cleanup() {
    let src = "\
# **My Project** ✅

## Phase 1: *Start* ✅

### Group A: `core`

- **A1: `cargo` setup** ✅
- *A2*: Emphasis
- A3:    Spaces   \t
";
    let r = clean(src);
    assert_eq!(r.title.as_deref(), Some("My Project"));
    assert_eq!(r.phases[0].title, "Start");
    assert_eq!(r.phases[0].groups[0].title, "core");
    assert_eq!(
        ids_titles(&r),
        ["A1:`cargo` setup", "A2:Emphasis", "A3:Spaces"]
    );
    assert!(task(&r, "A1").done_in_roadmap);
}

#[test]
fn tabs_trailing_spaces_and_trailing_hashes() {
    let src = "# T #\n\n##\tPhase 1:\tOne   ##   \n\n###   Group A   ###\n\n-\tA1:\tTabbed   \n";
    let r = clean(src);
    assert_eq!(r.title.as_deref(), Some("T"));
    assert_eq!(r.phases[0].title, "One");
    assert_eq!(r.phases[0].groups[0].id, "A");
    assert_eq!(ids_titles(&r), ["A1:Tabbed"]);
}

#[test]
fn crlf_and_bom_spans_index_the_original_source() {
    let lf = "# T\n\n## Phase 1: One\n\n### Group A\n\n- A1: First\n  body\n\n| Feature | X |\n|---|---|\n| **A2: Second** | y |\n";
    for src in [
        lf.to_string(),
        lf.replace('\n', "\r\n"),
        format!("\u{feff}{}", lf.replace('\n', "\r\n")),
    ] {
        let r = clean(&src);
        assert_eq!(ids_titles(&r), ["A1:First", "A2:Second"]);
        let a1 = task(&r, "A1");
        assert_eq!(
            &src[a1.span.start..a1.span.end],
            if src.contains('\r') {
                "- A1: First\r\n  body"
            } else {
                "- A1: First\n  body"
            }
        );
        assert_eq!(a1.body, "body");
        let a2 = task(&r, "A2");
        assert_eq!(&src[a2.span.start..a2.span.end], "| **A2: Second** | y |");
        assert_eq!(a2.field("X"), Some("y"));
        let p = &r.phases[0];
        assert_eq!(&src[p.span.start..p.span.end], "## Phase 1: One");
    }
}

#[test]
fn seed_format() {
    let r = clean("## Phase 3: X\n\n### Group AB\n\n- AB1: One: with colon\n- AB2: Two\n");
    assert_eq!(
        roadmap_tasks_txt(&r),
        "PHASE_3:AB:AB1:One: with colon\nPHASE_3:AB:AB2:Two\n"
    );
}

#[test]
fn errors_do_not_lose_the_rest_of_the_roadmap() {
    let src = "## Phase 1: One\n\n### Group A\n\n- A1: x\n- A1: y\n\n### Group B\n\n- B1: z\n";
    let p = parse(src);
    assert!(has_errors(&p.diagnostics));
    assert_eq!(ids_titles(&p.roadmap), ["A1:x", "A1:y", "B1:z"]);
}

#[test]
fn setext_and_emphasised_headings() {
    let src = "\
Project
=======

Phase 1: One
------------

### **Group A**: Database

- A1: x
";
    let r = clean(src);
    assert_eq!(r.title.as_deref(), Some("Project"));
    assert_eq!(r.phases[0].title, "One");
    assert_eq!(r.phases[0].groups[0].title, "Database");
    assert_eq!(ids_titles(&r), ["A1:x"]);
}
