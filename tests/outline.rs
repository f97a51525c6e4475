//! The outline reader on one fixture of our own per structure: the phases,
//! groups (which tasks run together), task titles, ids and done marks, and
//! that the default reading picks it.

use roadmap_runner::roadmap::{Dialect, Parsed, Roadmap, parse, parse_as};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/roadmaps/outline/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// `P 3 "title" (annotation) done` then one `G` line per group with its
/// tasks (`x` done): tasks on one line run together.
fn shape(r: &Roadmap) -> Vec<String> {
    let mut out = Vec::new();
    for p in &r.phases {
        let done = if p.done_in_roadmap { " done" } else { "" };
        let ann = p
            .annotation
            .as_ref()
            .map_or(String::new(), |a| format!(" ({a})"));
        out.push(format!("P {} {:?}{ann}{done}", p.number, p.title));
        for g in &p.groups {
            let tasks: Vec<String> = g
                .tasks
                .iter()
                .map(|t| {
                    let id = if t.derived_id {
                        String::new()
                    } else {
                        format!("{} ", t.id)
                    };
                    let x = if t.done_in_roadmap { " x" } else { "" };
                    format!("{id}{}{x}", t.title)
                })
                .collect();
            out.push(format!("  G {}", tasks.join(" | ")));
        }
    }
    out
}

fn codes(p: &Parsed) -> Vec<&'static str> {
    p.diagnostics.iter().map(|d| d.code).collect()
}

/// Read by default (detected or by fallback) as an outline, without any
/// diagnostic, and the same when forced with `--dialect outline`.
fn outline(name: &str) -> Roadmap {
    let src = fixture(name);
    let p = parse(&src);
    assert_eq!(p.roadmap.dialect, Dialect::Outline, "{name}");
    assert_eq!(codes(&p), Vec::<&str>::new(), "{name}");
    let forced = parse_as(&src, Some(Dialect::Outline));
    assert_eq!(shape(&forced.roadmap), shape(&p.roadmap), "{name}");
    p.roadmap
}

#[test]
fn tracks_outside_a_phase_are_groups_of_one_phase() {
    let r = outline("tracks.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Docs site\"",
            "  G Write the landing page x",
            "  G Write the install guide",
            "  G Set up the static site generator",
            "  G Deploy previews",
        ]
    );
    // Sequential by default: each group is titled by its track.
    let titles: Vec<&str> = r.phases[0]
        .groups
        .iter()
        .map(|g| g.title.as_str())
        .collect();
    assert_eq!(titles, ["Content", "Content", "Build", "Build"]);
}

#[test]
fn milestones_with_heading_tasks() {
    let r = outline("milestones.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Foundations\" done",
            "  G M1-DOC-001 Write the design doc x",
            "  G M1-API-002 Scaffold the API x",
            "P 2 \"Charging\"",
            "  G M2-API-001 Charge a card",
            "  G M2-API-002 Refunds",
        ]
    );
    // The checkboxes under a task heading are its steps, in its body.
    let t = &r.phases[1].groups[0].tasks[0];
    assert!(
        t.body.contains("- [x] happy path\n- [ ] declined cards"),
        "{:?}",
        t.body
    );
}

#[test]
fn sprints_with_per_agent_sections() {
    let r = outline("sprints-agents.md");
    assert_eq!(
        shape(&r),
        [
            "P 2 \"\" (DONE) done",
            "  G Agent 1: Backend x | Agent 2: Frontend x",
            "P 3 \"\" (NEXT)",
            "  G Agent 1: Backend | Agent 2: Frontend | Agent 3: QA",
        ]
    );
    // Each agent is one task: its bullets are the task's body (not 6 tasks).
    assert_eq!(r.task_count(), 5);
    let backend = &r.phases[1].groups[0].tasks[0];
    assert_eq!(
        backend.body,
        "- Password reset\n- Email templates\n- Token expiry"
    );
}

#[test]
fn priority_tiers_of_numbered_features() {
    let r = outline("tiers.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Must have\"",
            "  G Sign up with email",
            "  G Log in",
            "  G Reset a password",
            "P 2 \"Should have\"",
            "  G Social login",
            "  G Two-factor codes",
            "P 3 \"Nice to have\"",
            "  G Dark mode",
        ]
    );
}

#[test]
fn glyph_status_without_brackets() {
    let r = outline("glyphs.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Shell\"",
            "  G App skeleton x",
            "  G Navigation x",
            "  G Settings screen",
            "P 2 \"Sync\"",
            "  G Offline queue",
            "  G Conflict resolution",
        ]
    );
}

#[test]
fn status_table_with_emoji_cells() {
    let r = outline("status-table.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Ingest\"",
            "  G Read from S3 x",
            "  G Parse CSV x",
            "  G Validate rows",
            "P 2 \"Publish\"",
            "  G Write parquet",
        ]
    );
    let t = &r.phases[0].groups[0].tasks[0];
    assert_eq!(t.field("Owner"), Some("ana"));
    assert!(
        t.done_mark.is_some(),
        "the Status cell is where a tick goes"
    );
}

#[test]
fn waves_with_ids_and_after_lists() {
    let r = outline("waves.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"\"",
            "  G 1 Define the index schema | 2 Write the tokenizer",
            "  G 3 Build the indexer",
            "P 2 \"\"",
            "  G 4 Query parser",
            "  G 5 Ranking",
            "  G 6 Search API",
        ]
    );
}

#[test]
fn a_summary_table_that_repeats_tasks_is_a_reference() {
    let src = fixture("summary.md");
    // The table reading already reads it (its tasks run together).
    let p = parse(&src);
    assert_eq!(p.roadmap.dialect, Dialect::Table);
    assert_eq!(
        shape(&p.roadmap),
        [
            "P 1 \"Core\"",
            "  G C1 Argument parsing x | C2 Config file",
            "P 2 \"Polish\"",
            "  G C3 Shell completions",
        ]
    );
    let o = parse_as(&src, Some(Dialect::Outline));
    assert_eq!(codes(&o), Vec::<&str>::new());
    assert_eq!(
        shape(&o.roadmap),
        [
            "P 1 \"Core\"",
            "  G C1 Argument parsing x",
            "  G C2 Config file",
            "P 2 \"Polish\"",
            "  G C3 Shell completions",
        ]
    );
    let skipped = &o.roadmap.reading.as_ref().unwrap().skipped;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(
        (skipped[0].line, skipped[0].rule.as_str()),
        (3, "a reference: lists tasks defined elsewhere")
    );
}

#[test]
fn a_retrospective_roadmap_with_no_open_task() {
    let src = fixture("retro.md");
    for p in [parse(&src), parse_as(&src, Some(Dialect::Outline))] {
        assert_eq!(codes(&p), Vec::<&str>::new());
        assert!(p.roadmap.phases.iter().all(|p| p.done_in_roadmap));
        let tasks: Vec<_> = p
            .roadmap
            .phases
            .iter()
            .flat_map(|p| &p.groups)
            .flat_map(|g| &g.tasks)
            .collect();
        assert_eq!(tasks.len(), 3);
        assert!(tasks.iter().all(|t| t.done_in_roadmap));
    }
}

#[test]
fn acceptance_criteria_inside_tasks_are_not_tasks() {
    let r = outline("acceptance.md");
    assert_eq!(
        shape(&r),
        [
            "P 4 \"Accounts\"",
            "  G US-101 Sign-up flow",
            "  G US-102 Profile page x",
        ]
    );
    assert!(
        r.phases[0].groups[0].tasks[0]
            .body
            .contains("- [ ] A new user can sign up")
    );
}

#[test]
fn a_spec_with_one_plan_section() {
    let r = outline("spec.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Spec: Export to CSV\"",
            "  G Add the export endpoint",
            "  G Stream rows as CSV",
            "  G Add the Export button",
        ]
    );
    let plan = r.reading.as_ref().unwrap().plan.clone().unwrap();
    assert_eq!((plan.first_line, plan.last_line), (12, 16));
    assert_eq!(plan.headings, ["## Implementation Plan"]);
}

#[test]
fn front_matter_and_an_html_comment_header() {
    let r = outline("front-matter.md");
    assert_eq!(r.title.as_deref(), Some("Release checklist"));
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Prepare\"",
            "  G Freeze the branch x",
            "  G Write the changelog",
            "P 2 \"Ship\"",
            "  G Tag the release",
        ]
    );
}

#[test]
fn crlf_line_endings_and_roman_numerals() {
    let src = fixture("crlf.md");
    assert!(src.contains("\r\n"));
    let r = outline("crlf.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"Design\"",
            "  G Moodboard x",
            "  G Wireframes",
            "P 2 \"Build\"",
            "  G Templates",
            "  G Content migration",
        ]
    );
    let t = &r.phases[0].groups[0].tasks[0];
    assert_eq!(&src[t.span.start..t.span.end], "- [x] Moodboard");
}

#[test]
fn chinese_headings() {
    let r = outline("chinese.md");
    assert_eq!(
        shape(&r),
        [
            "P 1 \"基础设施\"",
            "  G 搭建仓库 x",
            "  G 配置持续集成",
            "P 2 \"功能开发\" (并行)",
            "  G 用户登录 | 数据导出",
        ]
    );
}

#[test]
fn phases_without_a_task_are_an_error() {
    let src =
        "# Plan\n\n## Sprint 1: Setup\n\nWe set things up.\n\n## Sprint 2: Build\n\n- build it\n";
    let p = parse_as(src, Some(Dialect::Outline));
    assert_eq!(codes(&p), ["no-tasks"]);
    assert_eq!(
        p.diagnostics[0].message,
        "the document has 2 phase heading(s) (`## Sprint 1: Setup` (line 3), `## Sprint 2: Build` (line 7)) but not one task under them, so nothing would run"
    );
    // Phases marked done with no task at all are no plan either.
    let done = "## Phase 1: Old ✅\n\nShipped.\n\n## Phase 2: Older ✅\n";
    assert!(codes(&parse(done)).contains(&"no-tasks"));
}

#[test]
fn a_document_that_is_not_a_plan_says_so() {
    let src = "# Meeting notes\n\nWe talked.\n\n- coffee\n- cake\n";
    let p = parse_as(src, Some(Dialect::Outline));
    assert_eq!(codes(&p), ["not-a-plan"]);
    assert_eq!(
        p.diagnostics[0].message,
        "this document is not a plan: no phase, group or task was found; the closest thing is a list of plain bullets at line 5: \"- coffee\""
    );
}

#[test]
fn validate_prints_the_reading_as_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ROADMAP.md"), fixture("sprints-agents.md")).unwrap();
    let out = assert_cmd::Command::cargo_bin("roadmap-runner")
        .unwrap()
        .current_dir(dir.path())
        .arg("validate")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("phase 3 ← heading \"## ⏳ SPRINT 3 (NEXT)\" (sprint) line 12\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "    task t4297e9 \"Agent 3: QA\" ← heading \"### Agent 3: QA\" (section for one worker) line 22\n"
        ),
        "{stdout}"
    );
    // `--json` carries the same reading.
    let out = assert_cmd::Command::cargo_bin("roadmap-runner")
        .unwrap()
        .current_dir(dir.path())
        .args(["validate", "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phase = &doc["reading"]["phases"][1];
    assert_eq!(phase["rule"], "sprint");
    assert_eq!(phase["line"], 12);
    assert_eq!(
        phase["groups"][0]["tasks"][2]["rule"],
        "section for one worker"
    );
}

/// `validate` in a temp project holding `roadmap`: exit code and stderr.
fn validate(roadmap: &str, args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ROADMAP.md"), roadmap).unwrap();
    let out = assert_cmd::Command::cargo_bin("roadmap-runner")
        .unwrap()
        .current_dir(dir.path())
        .arg("validate")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn no_task_and_no_plan_exit_4() {
    // Phases marked done and not one task: once "0 tasks, exit 0".
    let (code, err) = validate(
        "# Plan\n\n## Phase 1: Old ✅\n\nShipped.\n\n## Phase 2: Older ✅\n",
        &[],
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("error: no task was read in any of the 2 phases"),
        "{err}"
    );
    let (code, err) = validate(
        "# Plan\n\n## Sprint 1: Setup\n\n- set up\n",
        &["--dialect", "outline"],
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("but not one task under them"), "{err}");
    let (code, err) = validate("# Notes\n\n- coffee\n", &["--dialect", "outline"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("error: this document is not a plan"), "{err}");
    assert!(err.contains(" --> ROADMAP.md:3:1"), "{err}");
}
