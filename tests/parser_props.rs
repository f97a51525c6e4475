//! Robustness: `parse` and `render` never panic, spans stay inside the
//! source on character boundaries, and generated roadmaps round-trip.

use proptest::prelude::*;
use roadmap_runner::roadmap::dialect::DIALECTS;
use roadmap_runner::roadmap::seed::roadmap_tasks_txt;
use roadmap_runner::roadmap::write_back::tick;
use roadmap_runner::roadmap::{Dialect, DoneMark, GroupKey, Span, is_id, parse, parse_as};

/// Parses (detected dialect), renders every diagnostic, and checks every span.
fn check(src: &str) {
    check_as(src, None);
}

/// Parses in `dialect`, renders every diagnostic, checks every span, that
/// every id is an id whose status key round-trips, and that ticking any
/// task changes nothing but its mark.
fn check_as(src: &str, dialect: Option<Dialect>) {
    let p = parse_as(src, dialect);
    let ok = |s: Span| {
        s.start <= s.end
            && s.end <= src.len()
            && src.is_char_boundary(s.start)
            && src.is_char_boundary(s.end)
    };
    for d in &p.diagnostics {
        assert!(ok(d.span), "diagnostic span {:?} in {src:?}", d.span);
        let out = d.render("ROADMAP.md", src);
        assert!(out.contains('^'));
        let (line, col) = d.line_col(src);
        assert!(line >= 1 && col >= 1);
    }
    for phase in &p.roadmap.phases {
        assert!(ok(phase.span));
        for group in &phase.groups {
            assert!(ok(group.span));
            let key = group.key(phase);
            assert!(is_id(&group.id), "group id {:?} in {src:?}", group.id);
            assert_eq!(GroupKey::parse_status(&key.to_string()), Some(key.clone()));
            for task in &group.tasks {
                assert!(ok(task.span), "task span {:?} in {src:?}", task.span);
                assert!(is_id(&task.id), "task id {:?} in {src:?}", task.id);
                if let (Ok(out), Some(mark)) = (tick(src, task), task.done_mark) {
                    let (DoneMark::Checkbox { span } | DoneMark::StatusCell { span }) = mark;
                    assert!(
                        out.starts_with(&src[..span.start]),
                        "tick changed bytes before the mark"
                    );
                    assert!(
                        out.ends_with(&src[span.end..]),
                        "tick changed bytes after the mark"
                    );
                }
            }
        }
    }
    let _ = roadmap_tasks_txt(&p.roadmap);
}

/// Roadmap-like fragments, including the awkward ones.
const FRAGMENTS: &[&str] = &[
    "# Title",
    "## Phase 1: One",
    "## Phase 2 (Parallel)",
    "## Phase 3 — Three ##",
    "### Phase 1 (4 agents)",
    "# Phase 9",
    "## Phase 99999999999999: big",
    "### Group A",
    "### Group B (Parallel, after A)",
    "### Group C — x (after A and B, Z)",
    "#### Group AA: y",
    "## Group D",
    "## Quick Reference",
    "#### A1: Heading task ✅",
    "##### B2",
    "| Feature | Complexity | Status |",
    "|---|---|---|",
    "| **A1: Row** | Low | ✅ |",
    "| **B1** | Done |",
    "| **A** | not a task |",
    "| a \\| b | `c` |",
    "- A1: item",
    "- [x] A2 — done",
    "- [ ] B3",
    "  - nested A4: sub",
    "    indented code",
    "1. C1: ordered",
    "* **A1: bold**",
    "- ✅ deliverable",
    "**Phase 1 Deliverables:**",
    "**Deliverables**",
    "---",
    "***",
    "```",
    "```rust",
    "> quote A1: x",
    "<div>html</div>",
    "",
    "",
    "\t- A5\ttabbed",
    "   ",
    "é ✅ 漢字 \u{feff}",
    "\u{feff}",
    "[link](http://x) A1: y",
    "A1:",
    "Setext heading",
    "===",
    "***Phase 1: bold***",
    "__A9__: underscores",
    // Other words, ids and marks.
    "## Stage 2: Build",
    "## 🎯 Milestone 3 ✅ COMPLETE",
    "### Wave 0",
    "## Phase 12.1 (INSERTED)",
    "## Phase 4b: Extra",
    "## Phase 1 Foundation",
    "### Track A: Backend",
    "### Stream W2 (after W1.1, Group A)",
    "#### Agent 3",
    "### Task 3: Remove it",
    "#### Item 1.1: Sub",
    "- [ ] T001 [P] Create package",
    "- [X] T002 [P] [US1] Story",
    "- [ ] T003 Alone",
    "- [ ] 1. Kiro top",
    "  - [ ]* 1.1 Optional sub",
    "  - [x] 1.2 Done sub",
    "- [x] **Phase 2.1: Listed** - what (INSERTED)",
    "- [x] 12.1-01-PLAN.md — plan",
    "- [ ] checklist without id",
    "- ~~A3: struck~~",
    "| ID | Task | Status |",
    "| W1.1 | Title | 🔶 Partial |",
    "| 1 | bare number |",
    "**Status:** complete",
    "---\ntitle: Front\n---",
    "---",
    "title: \"x\"",
];

fn fragment_doc() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40),
        prop::collection::vec(prop::sample::select(&["\n", "\r\n", "\r", " "][..]), 40),
        any::<bool>(),
    )
        .prop_map(|(frags, seps, bom)| {
            let mut s = String::new();
            if bom {
                s.push('\u{feff}');
            }
            for (f, sep) in frags.iter().zip(seps.iter().cycle()) {
                s.push_str(f);
                s.push_str(sep);
            }
            s
        })
}

/// A structure (phases × groups × tasks) written with random syntaxes.
#[derive(Debug, Clone)]
struct Plan {
    phases: Vec<Vec<Vec<u8>>>, // phase → group → task syntax choices
    crlf: bool,
    /// Which phase and group words the roadmap uses.
    words: (usize, usize),
    front_matter: bool,
}

const PHASE_WORDS: [&str; 4] = ["Phase", "Stage", "Milestone", "sprint"];
const GROUP_WORDS: [&str; 4] = ["Group", "Track", "Lane", "WORKSTREAM"];

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::collection::vec(
            prop::collection::vec(prop::collection::vec(0u8..8, 1..5), 1..4),
            1..4,
        ),
        any::<bool>(),
        (0..PHASE_WORDS.len(), 0..GROUP_WORDS.len()),
        any::<bool>(),
    )
        .prop_map(|(phases, crlf, words, front_matter)| Plan {
            phases,
            crlf,
            words,
            front_matter,
        })
}

/// Writes the plan as Markdown and the seed lines it must parse into.
fn write_plan(plan: &Plan) -> (String, String) {
    let mut md = String::new();
    if plan.front_matter {
        md.push_str("---\ntitle: Generated\ntags: [a, b]\n---\n");
    }
    md.push_str("# Generated\n\nIntro.\n\n");
    let (pw, gw) = (PHASE_WORDS[plan.words.0], GROUP_WORDS[plan.words.1]);
    let mut seed = String::new();
    let mut letter = b'A';
    for (pi, groups) in plan.phases.iter().enumerate() {
        md.push_str(&format!("## {pw} {}: P{}\n\nAbout it.\n\n", pi + 1, pi + 1));
        for (gi, tasks) in groups.iter().enumerate() {
            let g = char::from(letter);
            letter += 1;
            let after = if gi > 0 {
                format!(" (after {})", char::from(letter - 2))
            } else {
                String::new()
            };
            md.push_str(&format!("### {gw} {g}{after}\n\n"));
            let mut in_table = false;
            // A heading task's body runs to the next heading: once one is
            // used, the rest of the group must be heading tasks too.
            let mut headings = false;
            for (ti, &syntax) in tasks.iter().enumerate() {
                headings |= syntax == 4;
                let syntax = if headings { 4 } else { syntax };
                let id = format!("{g}{}", ti + 1);
                let title = format!("Task {id} & more");
                if syntax != 0 && in_table {
                    md.push('\n');
                    in_table = false;
                }
                match syntax {
                    0 => {
                        if !in_table {
                            md.push_str("| Feature | Notes |\n|---|---|\n");
                            in_table = true;
                        }
                        md.push_str(&format!("| **{id}: {title}** | n |\n"));
                    }
                    1 => md.push_str(&format!("- {id}: {title}\n  body\n\n")),
                    2 => md.push_str(&format!("- [x] **{id}** — {title}\n\n")),
                    3 => md.push_str(&format!("1. {id} - {title}\n\n")),
                    4 => md.push_str(&format!("#### {id}: {title}\n\nBody.\n\n")),
                    6 => md.push_str(&format!("- [ ] {id} [P] {title}\n\n")),
                    7 => md.push_str(&format!("- [X] ~~{id}: {title}~~\n\n")),
                    _ => md.push_str(&format!("* **{id}: {title}** ✅\n\n")),
                }
                seed.push_str(&format!("PHASE_{}:{g}:{id}:{title}\n", pi + 1));
            }
            md.push('\n');
        }
        md.push_str(&format!(
            "**Phase {} Deliverables:**\n- ✅ done\n\n---\n\n",
            pi + 1
        ));
    }
    if plan.crlf {
        md = md.replace('\n', "\r\n");
    }
    (md, seed)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Failures are printed with their minimal input; no files written.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn roadmap_fragments_never_panic(doc in fragment_doc()) {
        check(&doc);
    }

    #[test]
    fn every_dialect_reads_any_fragments(doc in fragment_doc(), d in 0..DIALECTS.len()) {
        check_as(&doc, Some(DIALECTS[d].0));
    }

    #[test]
    fn generated_roadmaps_round_trip(plan in plan()) {
        let (md, seed) = write_plan(&plan);
        let p = parse(&md);
        prop_assert!(p.diagnostics.is_empty(), "{:?}\n{md}", p.diagnostics);
        prop_assert_eq!(roadmap_tasks_txt(&p.roadmap), seed);
        check(&md);
    }
}
