//! Any roadmap the outline reader accepts survives a round trip through the
//! native format (`roadmap::native::write`, read back by the table reading)
//! with the same tree: phases, groups, task ids, titles and done marks.

use proptest::prelude::*;
use roadmap_runner::roadmap::{Dialect, Roadmap, has_errors, native, parse, parse_as};

/// The tree compared across the round trip.
fn tree(r: &Roadmap) -> Vec<String> {
    let mut out = Vec::new();
    for p in &r.phases {
        out.push(format!(
            "P {} {:?} {}",
            p.number, p.title, p.done_in_roadmap
        ));
        for g in &p.groups {
            out.push(format!(" G {} {:?}", g.id, g.title));
            for t in &g.tasks {
                out.push(format!("  T {} {:?} {}", t.id, t.title, t.done_in_roadmap));
            }
        }
    }
    out
}

const WORDS: [&str; 8] = [
    "Sprint",
    "Milestone",
    "Tier",
    "Week",
    "Stage",
    "Wave",
    "",
    "Part",
];
const TITLES: [&str; 8] = [
    "build the parser",
    "write the docs",
    "add a cache",
    "ship it",
    "fix login",
    "measure speed",
    "clean up",
    "add export",
];

/// One unit of work in one of the syntaxes the outline reader knows.
fn unit(kind: u8, n: usize, done: bool, phase: usize) -> String {
    let title = format!("{} {n}", TITLES[n % TITLES.len()]);
    let (x, glyph) = if done { ("x", "✅") } else { (" ", "⬜") };
    match kind {
        0 => format!("- [{x}] {title}\n"),
        1 => format!("- {glyph} {title}\n"),
        2 => format!("1. {title}\n"),
        3 => format!("- **A{n}**: {title}\n"),
        4 => format!("- [#{n}] {title}\n"),
        5 => format!("- [{x}] T{n:03}a {title}\n  - [ ] a step of it\n"),
        _ => format!("- [{x}] M{phase}-DOC-{n:03}: {title}\n"),
    }
}

/// A document: phases (a level word, or none) with sections of units.
fn document() -> impl Strategy<Value = String> {
    (
        0..WORDS.len(),
        prop::collection::vec(
            prop::collection::vec(prop::collection::vec((0u8..7, any::<bool>()), 1..4), 1..3),
            1..4,
        ),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(word, phases, parallel, crlf)| {
            let mut md = String::from("# Generated plan\n\nIntro text.\n\n");
            let mut n = 0;
            for (pi, sections) in phases.iter().enumerate() {
                let w = WORDS[word];
                if w.is_empty() {
                    md.push_str(&format!("## Area {}\n\n", pi + 1));
                } else {
                    md.push_str(&format!("## {w} {}: Step {}\n\n", pi + 1, pi + 1));
                }
                for (si, units) in sections.iter().enumerate() {
                    let p = if parallel { " (parallel)" } else { "" };
                    md.push_str(&format!("### Section {}{p}\n\n", si + 1));
                    for &(kind, done) in units {
                        n += 1;
                        md.push_str(&unit(kind, n, done, pi + 1));
                    }
                    md.push_str("\n**Acceptance criteria:**\n\n- [ ] it works\n\n");
                }
            }
            if crlf {
                md = md.replace('\n', "\r\n");
            }
            md
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn accepted_outlines_round_trip_through_the_native_format(doc in document()) {
        let outline = parse_as(&doc, Some(Dialect::Outline));
        prop_assume!(!has_errors(&outline.diagnostics));
        prop_assert!(outline.roadmap.task_count() > 0, "{doc}");
        let md = native::write(&outline.roadmap);
        let back = parse(&md);
        prop_assert_eq!(back.roadmap.dialect, Dialect::Table);
        prop_assert!(back.diagnostics.is_empty(), "{:?}\n{md}", back.diagnostics);
        prop_assert_eq!(tree(&back.roadmap), tree(&outline.roadmap), "{}", md);
        // And once native, it stays the same.
        prop_assert_eq!(native::write(&back.roadmap), md);
    }
}

#[test]
fn the_fixtures_round_trip_too() {
    let dir = format!(
        "{}/tests/fixtures/roadmaps/outline",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut n = 0;
    for f in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(f.unwrap().path()).unwrap();
        let outline = parse_as(&src, Some(Dialect::Outline));
        let md = native::write(&outline.roadmap);
        let back = parse(&md);
        assert!(back.diagnostics.is_empty(), "{:?}\n{md}", back.diagnostics);
        assert_eq!(tree(&back.roadmap), tree(&outline.roadmap), "{md}");
        n += 1;
    }
    assert_eq!(n, 14);
}
