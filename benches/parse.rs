//! `cargo bench --bench parse`: how much the roadmap parser costs on top of
//! pulldown-cmark itself.
//!
//! Generates a roadmap of 10,000 tasks (~2 MB; 40 phases × 5 groups, table
//! and list syntaxes alternating, plus context text), then times, best of
//! N runs each, interleaved (a, b, a, b, ...) so a change in the machine's
//! load during the run shifts both alike:
//! (a) bare pulldown-cmark event iteration with the parser's options,
//! (b) `parse()` plus checking its diagnostics.
//! The target is (b)/(a) ≤ 2.0.
//!
//! It also renders 9,000 diagnostics spread over the same text, which must
//! take time linear in the source (once quadratic: 2.1 s).
//!
//! (c) the outline reader on a 10,000-task outline document (sprints with
//! sections of checklist, numbered, id and status-table units), against (b).

use pulldown_cmark::Parser;
use roadmap_runner::roadmap::diagnostics::render_all;
use roadmap_runner::roadmap::parser::markdown_options;
use roadmap_runner::roadmap::{Diagnostic, Dialect, Span, has_errors, parse, parse_as};
use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

const PHASES: usize = 40;
const GROUPS_PER_PHASE: usize = 5;
const TASKS_PER_GROUP: usize = 50;
const RUNS: usize = 40;
const DIAGNOSTICS: usize = 9_000;

fn main() {
    let src = generate();
    let mb = src.len() as f64 / 1_000_000.0;
    let expected = PHASES * GROUPS_PER_PHASE * TASKS_PER_GROUP;

    let (bare, full) = best_of_both(
        || {
            let n = Parser::new_ext(black_box(&src), markdown_options())
                .into_offset_iter()
                .count();
            black_box(n);
        },
        || {
            let parsed = parse(black_box(&src));
            assert!(!has_errors(&parsed.diagnostics));
            assert!(parsed.diagnostics.is_empty());
            assert_eq!(parsed.roadmap.task_count(), expected);
            black_box(parsed);
        },
    );
    let outline_src = generate_outline();
    let (_, outline) = best_of_both(
        || {},
        || {
            let parsed = parse_as(black_box(&outline_src), Some(Dialect::Outline));
            assert!(!has_errors(&parsed.diagnostics));
            assert_eq!(parsed.roadmap.task_count(), expected);
            black_box(parsed);
        },
    );
    let diags: Vec<Diagnostic> = (0..DIAGNOSTICS)
        .map(|i| {
            let mut at = i * (src.len() / DIAGNOSTICS);
            while !src.is_char_boundary(at) {
                at -= 1;
            }
            Diagnostic::warning("bench", Span::new(at, at), "a diagnostic").with_help("help")
        })
        .collect();
    let t = Instant::now();
    let rendered = render_all(&diags, "ROADMAP.md", &src);
    let render = t.elapsed();
    black_box(rendered);
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!(
        "input: {expected} tasks, {} phases, {} groups, {mb:.2} MB",
        PHASES,
        PHASES * GROUPS_PER_PHASE
    );
    println!(
        "(a) pulldown-cmark events: {:>8.2} ms  {:>7.1} MB/s",
        ms(bare),
        rate(bare)
    );
    println!(
        "(b) parse + diagnostics:   {:>8.2} ms  {:>7.1} MB/s",
        ms(full),
        rate(full)
    );
    println!(
        "ratio (b)/(a): {:.2} (target <= 2.0), best of {RUNS} interleaved runs",
        full.as_secs_f64() / bare.as_secs_f64()
    );
    println!("render {DIAGNOSTICS} diagnostics: {:.2} ms", ms(render));
    let omb = outline_src.len() as f64 / 1_000_000.0;
    println!(
        "(c) outline reader, {expected} tasks, {omb:.2} MB: {:>8.2} ms  {:>7.1} MB/s; (c)/(b) {:.2}",
        ms(outline),
        omb / outline.as_secs_f64(),
        outline.as_secs_f64() / full.as_secs_f64()
    );
}

/// The same number of tasks as an outline: sprints, sections, and units
/// written as checklist items, numbered items, id items and status rows.
fn generate_outline() -> String {
    let mut md = String::with_capacity(2_200_000);
    md.push_str("# Benchmark sprint plan\n\nGenerated outline for the parser benchmark.\n\n");
    let mut n = 0;
    for p in 1..=PHASES {
        let _ = write!(md, "## ⏳ Sprint {p}: Layer {p}\n\nWork of sprint {p}.\n\n");
        for g in 0..GROUPS_PER_PHASE {
            let _ = write!(md, "### Area {g} (parallel)\n\n");
            if g == 4 {
                md.push_str("| ID | Task | Status |\n|---|---|---|\n");
            }
            for _ in 0..TASKS_PER_GROUP {
                n += 1;
                let _ = match g {
                    0 => writeln!(
                        md,
                        "- [ ] Feature number {n}, with tests and docs\n  - [ ] a step of it"
                    ),
                    1 => writeln!(md, "1. Feature number {n}: build the thing, keep it `fast`"),
                    2 => writeln!(md, "- **F{n}**: Feature number {n} & friends"),
                    3 => writeln!(md, "- ✅ Feature number {n} shipped"),
                    _ => writeln!(md, "| F{n} | Feature number {n} | ⬜ |"),
                };
            }
            md.push_str("\n**Acceptance criteria:**\n\n- [ ] it works offline\n\n");
        }
    }
    md
}

/// The fastest of `RUNS` timed runs of each (after one warm-up each),
/// alternating between the two.
fn best_of_both(mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed()
    };
    a();
    b();
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    for _ in 0..RUNS {
        best_a = best_a.min(time(&mut a));
        best_b = best_b.min(time(&mut b));
    }
    (best_a, best_b)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Group letters for the n-th group: A..Z, AA..ZZ (unique roadmap-wide, so
/// task ids are too).
fn letters(mut n: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
        n -= 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

fn generate() -> String {
    let mut md = String::with_capacity(2_200_000);
    md.push_str("# Benchmark Platform - Implementation Roadmap\n\n## Overview\n\n");
    md.push_str("Generated roadmap for the parser benchmark.\n\n---\n\n");
    let mut group = 0;
    for p in 1..=PHASES {
        let _ = write!(
            md,
            "## Phase {p}: Layer {p}\n\n*Everything in phase {p} depends on phase {}.*\n\n",
            p.saturating_sub(1)
        );
        for g in 0..GROUPS_PER_PHASE {
            let id = letters(group);
            let after = if g == 0 {
                String::new()
            } else {
                format!(", after {}", letters(group - 1))
            };
            let _ = write!(md, "### Group {id} (Parallel{after})\n\n");
            if group % 2 == 0 {
                table_group(&mut md, &id);
            } else {
                list_group(&mut md, &id);
            }
            group += 1;
        }
        let _ = write!(
            md,
            "**Phase {p} Deliverables:**\n- ✅ Everything works\n- ✅ Nothing breaks\n\n---\n\n"
        );
    }
    md.push_str("## Quick Reference\n\n| Group | Features |\n|---|---|\n| **A** | all |\n");
    md
}

fn table_group(md: &mut String, id: &str) {
    md.push_str("| Feature | Complexity | Spec | Description |\n");
    md.push_str("|---------|------------|------|-------------|\n");
    for t in 1..=TASKS_PER_GROUP {
        let _ = writeln!(
            md,
            "| **{id}{t}: Feature number {t} of group {id} & friends** | Medium | core | \
             Registration, login, password recovery, session management, rate limiting, audit \
             logs, notification preferences and data export |"
        );
    }
    md.push('\n');
}

fn list_group(md: &mut String, id: &str) {
    for t in 1..=TASKS_PER_GROUP {
        let _ = write!(
            md,
            "- [ ] **{id}{t}**: Feature number {t} of group {id} & friends\n  \
             Build the thing with tests, docs and a migration; keep it `fast`.\n  \
             - acceptance: it works offline, on 3G, and with a screen reader\n"
        );
    }
    md.push('\n');
}
