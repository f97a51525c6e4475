use super::*;

fn phase(t: &str) -> Option<(Option<String>, String, Option<String>)> {
    phase_head(t).map(|p| (p.number.map(|n| n.to_string()), p.title, p.annotation))
}

fn n(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[test]
fn phase_heading_forms() {
    let s = |x: &str| x.to_string();
    assert_eq!(
        phase("Phase 1: Foundation Layer"),
        Some((n("1"), s("Foundation Layer"), None))
    );
    assert_eq!(
        phase("Phase 2 (Parallel)"),
        Some((n("2"), s(""), Some(s("Parallel"))))
    );
    assert_eq!(phase("Phase 3 — Polish"), Some((n("3"), s("Polish"), None)));
    assert_eq!(
        phase("Phase 3 – Polish ✅"),
        Some((n("3"), s("Polish"), None))
    );
    assert_eq!(
        phase("phase 4 - X (after 3)"),
        Some((n("4"), s("X"), Some(s("after 3"))))
    );
    assert_eq!(phase("**Phase 5**: Bold"), Some((n("5"), s("Bold"), None)));
    assert_eq!(phase("Phase 6"), Some((n("6"), s(""), None)));
    assert_eq!(
        phase("Phase 1 (4 parallel agents max)").map(|p| p.0),
        Some(n("1"))
    );
    assert_eq!(
        phase(&format!("Phase {}: x", "9".repeat(40))).map(|p| p.0),
        Some(None)
    );
    assert_eq!(phase("Phase 1 notes"), None);
    assert_eq!(phase("Phase one: x"), None);
    assert_eq!(phase("Phases 1: x"), None);
    assert_eq!(phase("Implementation Summary"), None);
}

#[test]
fn phase_words_numbers_emoji_and_status() {
    let s = |x: &str| x.to_string();
    assert_eq!(phase("Phase 4b: Extra"), Some((n("4b"), s("Extra"), None)));
    assert_eq!(
        phase("Phase 12.1 (INSERTED)"),
        Some((n("12.1"), s(""), Some(s("INSERTED"))))
    );
    assert_eq!(phase("Phase 3.1 - UI"), Some((n("3.1"), s("UI"), None)));
    assert_eq!(phase("Wave 0: Spike"), Some((n("0"), s("Spike"), None)));
    assert_eq!(phase("🎯 Phase 1: Goals"), Some((n("1"), s("Goals"), None)));
    for (word, t) in PHASE_WORDS.iter().zip(0..) {
        let h = phase_head(&format!("{} {t}: x", word.to_uppercase())).unwrap();
        assert_eq!(PHASE_WORDS[h.word], *word);
    }
    let done = |t: &str| phase_head(t).map(|h| (h.done, h.title));
    assert_eq!(
        done("Phase 1 ✅ — Done thing"),
        Some((true, s("Done thing")))
    );
    assert_eq!(done("Phase 8 ✅ COMPLETE"), Some((true, s(""))));
    assert_eq!(done("Phase 8 COMPLETE"), Some((true, s(""))));
    assert_eq!(done("✅ Phase 2: Shipped"), Some((true, s("Shipped"))));
    assert_eq!(done("Phase 2: Auth (Done)"), Some((true, s("Auth"))));
    assert_eq!(
        done("Phase 2: Auth — COMPLETE"),
        Some((true, s("Auth — COMPLETE")))
    );
    assert_eq!(
        done("Phase 2: Auth (in progress)"),
        Some((false, s("Auth")))
    );
    assert_eq!(done("Phase 2: Auth 🔶"), Some((false, s("Auth 🔶"))));
    assert_eq!(
        done("Phase 2: Done criteria"),
        Some((false, s("Done criteria")))
    );
    assert_eq!(done("Phase 1 Complete When:"), None);
    assert_eq!(phase_like("## Phase 1 Foundation"), None);
    assert_eq!(phase_like("Phase 1 Foundation"), Some((0, 0..7)));
    assert_eq!(phase_like("🎯 Stage 2 build"), Some((1, 5..12)));
    assert_eq!(phase_like("Phase 1: Foundation"), None);
    assert_eq!(phase_like("Phase one"), None);
}

#[test]
fn group_heading_forms() {
    let g = group_head("Group B (Parallel, after A)").unwrap_or_else(|| panic!("group"));
    assert_eq!(g.id, "B");
    assert_eq!(g.id_span, 6..7);
    assert_eq!(g.title, "");
    assert_eq!(g.annotation.as_deref(), Some("Parallel, after A"));
    assert_eq!(g.after, vec![("A".to_string(), 25..26)]);

    let g = group_head("Group AC: Database (after A and AB, C & D)").unwrap_or_else(|| panic!());
    assert_eq!((g.id.as_str(), g.title.as_str()), ("AC", "Database"));
    let names: Vec<_> = g.after.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(names, ["A", "AB", "C", "D"]);

    let g = group_head("Group C — Auth").unwrap_or_else(|| panic!());
    assert_eq!((g.title.as_str(), g.annotation), ("Auth", None));
    let g = group_head("Group D - X").unwrap_or_else(|| panic!());
    assert_eq!(g.title, "X");
    let g = group_head("Group E (after Phase 1) Extra").unwrap_or_else(|| panic!());
    assert_eq!(g.title, "Extra");
    assert!(g.after.is_empty());
    assert!(group_head("Group A").is_some());
    assert!(group_head("Group Sessions").is_none());
    assert!(group_head("Group a: x").is_none());
    assert!(group_head("Group A notes").is_none());
    assert!(group_head("Grouping A: x").is_none());
    assert!(group_head("Agent Assignment Recommendations").is_none());
}

#[test]
fn group_words_and_ids() {
    let id = |t: &str| group_head(t).map(|g| g.id);
    assert_eq!(id("Group 1: Setup"), n("1"));
    assert_eq!(id("Track A: Backend"), n("A"));
    assert_eq!(id("🚀 Stream w2 — UI"), n("W2"));
    assert_eq!(id("Workstream 2.1"), n("2.1"));
    assert_eq!(id("BATCH 3 (after 2)"), n("3"));
    assert_eq!(id("Lane B"), n("B"));
    assert_eq!(id("Agent 2: Auth"), n("2"));
    let g = group_head("Track C (after W2.1, Group B and t003)").unwrap();
    let names: Vec<_> = g.after.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(names, ["W2.1", "B", "T003"]);
    let g = group_head("Track D (after the schema is done)").unwrap();
    assert!(g.after.is_empty());
}

fn task(t: &str) -> Option<(String, String, bool)> {
    task_ctx(t, HeadCtx::Item)
}

fn task_ctx(t: &str, ctx: HeadCtx) -> Option<(String, String, bool)> {
    task_head(t, ctx).map(|h| {
        let id = h.id.map_or(String::new(), |i| t[i.value].to_string());
        (id, h.title, h.done)
    })
}

#[test]
fn task_head_forms() {
    let s = |x: &str| x.to_string();
    let want = Some((s("A1"), s("Title"), false));
    for t in [
        "**A1: Title**",
        "**A1**: Title",
        "A1: Title",
        "A1 — Title",
        "A1 – Title",
        "A1 - Title",
        "A1 Title",
        "*A1: Title*",
        "__A1: Title__",
        "A1: `Title`",
    ] {
        assert_eq!(task(t), want, "{t}");
    }
    assert_eq!(task("[x] A1: Title"), Some((s("A1"), s("Title"), true)));
    assert_eq!(task("A1: Title ✅"), Some((s("A1"), s("Title"), true)));
    assert_eq!(
        task("**A1: Title** ✅\u{fe0f}"),
        Some((s("A1"), s("Title"), true))
    );
    assert_eq!(task("AA12"), Some((s("AA12"), s(""), false)));
    assert_eq!(task("**B3**"), Some((s("B3"), s(""), false)));
    assert_eq!(
        task("**A1: Database Schema & Infrastructure**"),
        Some((s("A1"), s("Database Schema & Infrastructure"), false))
    );
    for t in [
        "**A**",
        "A1, A2",
        "a1: x",
        "ABCD1: x",
        "✅ Users",
        "Task force 3",
        "2 cups of flour",
        "",
    ] {
        assert_eq!(task(t), None, "{t}");
    }
}

#[test]
fn task_id_forms() {
    let s = |x: &str| x.to_string();
    let cases = [
        ("W2.1: Wire it", "W2.1", "Wire it"),
        ("A1.5 x", "A1.5", "x"),
        ("T001 Create package", "T001", "Create package"),
        ("1.1: Sub", "1.1", "Sub"),
        ("01-01: Plan", "01-01", "Plan"),
        (
            "12.1-01-PLAN.md — CTR crypto",
            "12.1-01-PLAN.md",
            "CTR crypto",
        ),
        ("Task 3: Remove bot", "3", "Remove bot"),
        ("Item 1.1: Sub item", "1.1", "Sub item"),
        ("Agent 2: Auth", "2", "Auth"),
        ("~~A3: Old~~", "A3", "Old"),
    ];
    for (text, id, title) in cases {
        let got = task(text).map(|(i, t, _)| (i, t));
        assert_eq!(got, Some((s(id), s(title))), "{text}");
    }
    assert!(task("~~A3: Old~~").unwrap().2, "strikethrough is done");
    // A bare number is an id only where the context says so.
    assert_eq!(task("1.1 Sub"), None);
    let c = |t| task_ctx(t, HeadCtx::Checklist);
    assert_eq!(c("1.1 Add vars"), Some((s("1.1"), s("Add vars"), false)));
    assert_eq!(
        c("1. Refactor module"),
        Some((s("1"), s("Refactor module"), false))
    );
    assert_eq!(
        c("Write the docs"),
        Some((s(""), s("Write the docs"), false))
    );
    let h = task_head("T003 [P] [US1] Create tests/", HeadCtx::Checklist).unwrap();
    assert!(h.parallel);
    assert_eq!(h.title, "Create tests/");
    let text = "[ ]* 1.3 Write property test";
    let h = task_head(text, HeadCtx::Item).unwrap();
    assert!(h.optional && !h.done);
    assert_eq!(h.checkbox, Some(0..3));
    assert_eq!(h.id.map(|i| &text[i.value]), Some("1.3"));
}

#[test]
fn dialect_marks() {
    assert!(is_task_word_heading("Task 1: Delete bot directory"));
    assert!(!is_task_word_heading("Tasks"));
    assert!(!is_task_word_heading("A1: Schema"));
    let (h, _) = bold_phase_item("**Phase 12.1: AES-CTR** - streaming (INSERTED)").unwrap();
    assert_eq!(h.number.map(|n| n.to_string()), n("12.1"));
    assert_eq!(h.title, "AES-CTR");
    assert_eq!(h.annotation.as_deref(), Some("INSERTED"));
    assert!(bold_phase_item("Milestone 1: MVP").is_none());
    assert!(is_numbered_item("1. Refactor"));
    assert!(!is_numbered_item("1.1 Refactor"));
    assert!(is_speckit_item("T001 Create"));
    assert!(!is_speckit_item("T1 Create"));
    assert!(is_done_status_line("**Status:** complete (merged)"));
    assert!(!is_done_status_line("**Status:** pending"));
    assert!(is_done_status("✅ Done") && is_done_status("Complete"));
    assert!(!is_done_status("🔶 Partial") && !is_done_status("in progress"));
    assert!(!is_done_status("Not done"));
}

#[test]
fn titles_are_what_a_reader_sees() {
    let s = |x: &str| x.to_string();
    let t = |text: &str| task(text).map(|(id, title, _)| (id, title));
    assert_eq!(
        t("**A1: Schema** (stretch)"),
        Some((s("A1"), s("Schema (stretch)")))
    );
    assert_eq!(
        t("**A2**: add a *fast* path"),
        Some((s("A2"), s("add a fast path")))
    );
    assert_eq!(t("A3: **Bold** ✅"), Some((s("A3"), s("Bold"))));
    let p = phase_head("Phase 2: *Polish* **now**").unwrap();
    assert_eq!(p.title, "Polish now");
    let g = group_head("Group B: __Docs__ (after A)").unwrap();
    assert_eq!(
        (g.title.as_str(), g.annotation.as_deref()),
        ("Docs", Some("after A"))
    );
    assert_eq!(clean_title("**Title ✅**"), (s("Title"), true));
    assert_eq!(clean_title("`cargo test`"), (s("cargo test"), false));
}

#[test]
fn titles_that_say_done() {
    assert!(title_says_done("Schema (DONE)"));
    assert!(title_says_done("Schema — COMPLETE"));
    assert!(!title_says_done("Schema (in progress)"));
    assert!(!title_says_done("Done criteria"));
    assert!(!title_says_done("Mark tasks complete"));
}

#[test]
fn phase_notes_paragraphs() {
    assert!(is_phase_notes("**Phase 1 Deliverables:**"));
    assert!(is_phase_notes("**Deliverables**: all of it"));
    assert!(!is_phase_notes("**Note:** phase later"));
    assert!(!is_phase_notes("Phase 1 Deliverables"));
}
