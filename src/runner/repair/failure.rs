//! The failing gate step as a repair agent is shown it: its section of the
//! gate log, trimmed to the first errors and the tail, and a fingerprint that
//! says whether the same failure came back.

use crate::gate::GateReport;
use crate::gate::excerpt::{ELLIPSIS, excerpt};
use std::path::Path;

/// The failing output a repair agent is shown, at most.
const OUTPUT_CAP: usize = 8 * 1024;

/// The last lines of the failing output shown after its first failure lines.
const TAIL: usize = 40;

/// A line of the failing output shown, at most (in characters).
const LINE_CAP: usize = 500;

/// The failing step, as a repair agent is shown it.
pub struct Failure {
    pub step: String,
    pub command: String,
    /// The first error lines and the tail of the step's output, bounded.
    pub output: String,
    /// The step's whole output, for the fingerprint.
    full: Vec<String>,
}

impl Failure {
    /// The failing fatal step of `report`, with its output from the gate log.
    pub fn read(report: &GateReport, log: &Path) -> Failure {
        let step = report.failure();
        let name = step.map_or("gate", |s| s.name.as_str());
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let mut full = step_section(&text, name);
        if full.is_empty() {
            full = step.map(|s| s.tail.clone()).unwrap_or_default();
        }
        Failure {
            step: name.to_string(),
            command: step.map(|s| s.display.clone()).unwrap_or_default(),
            output: trimmed(&full),
            full,
        }
    }

    /// The failure with what differs between runs (numbers, paths, hex ids,
    /// times) taken out, hashed: the same failure twice has one fingerprint.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.step, &self.full)
    }

    pub(super) fn describe(&self) -> String {
        format!(
            "The gate step `{}` failed. Its command:\n\n    {}\n\nIts output (the first errors, then the end):\n\n```text\n{}\n```",
            self.step, self.command, self.output
        )
    }
}

/// The lines between the last `==> [name] <command>` and the
/// `==> [name] <outcome>` after it.
fn step_section(log: &str, name: &str) -> Vec<String> {
    let head = format!("==> [{name}] ");
    let mut lines = Vec::new();
    let mut inside = false;
    for line in log.lines() {
        if line.starts_with(&head) {
            inside = !inside;
            if inside {
                lines.clear();
            }
            continue;
        }
        if inside {
            lines.push(line.to_string());
        }
    }
    lines
}

/// The first failure lines, then the tail ([`crate::gate::excerpt`]), at
/// most [`OUTPUT_CAP`]: the tail gives way first, the first lines say what
/// failed.
fn trimmed(lines: &[String]) -> String {
    let mut shown: Vec<String> = excerpt(lines, TAIL)
        .iter()
        .map(|l| crate::text::cap_chars(l, LINE_CAP))
        .collect();
    let size = |v: &[String]| v.iter().map(|l| l.len() + 1).sum::<usize>();
    let keep_from = shown
        .iter()
        .position(|l| l == ELLIPSIS)
        .map_or(0, |i| i + 1);
    while size(&shown) > OUTPUT_CAP && shown.len() > keep_from {
        shown.remove(keep_from);
    }
    while size(&shown) > OUTPUT_CAP && !shown.is_empty() {
        shown.remove(0);
    }
    shown.join("\n")
}

/// FNV-1a over the normalised lines: stable across runs and builds.
fn fingerprint(step: &str, lines: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in std::iter::once(step.to_string())
        .chain(lines.iter().map(|l| normalise(l)))
        .flat_map(|l| l.into_bytes().into_iter().chain([b'\n']))
    {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A line without what changes from run to run: paths, hex ids, numbers.
fn normalise(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for word in line.split_whitespace() {
        let w = word.trim_matches(|c: char| "\"'`()[],;".contains(c));
        let shown = if w.contains('/') {
            "<path>".to_string()
        } else if w.len() >= 7 && w.chars().all(|c| c.is_ascii_hexdigit()) {
            "<hex>".to_string()
        } else {
            let mut s = String::new();
            let mut digits = false;
            for c in w.chars() {
                if c.is_ascii_digit() {
                    if !digits {
                        s.push('0');
                    }
                    digits = true;
                } else {
                    s.push(c);
                    digits = false;
                }
            }
            s
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_times_paths_and_numbers() {
        let a = vec![
            "FAIL src/app.test.js (1.23 s)".to_string(),
            "  expected 3 to be 4 at /tmp/x123/src/app.js:10:5".to_string(),
        ];
        let b = vec![
            "FAIL src/app.test.js (0.98 s)".to_string(),
            "  expected 3 to be 4 at /home/ci/work/src/app.js:11:7".to_string(),
        ];
        assert_eq!(fingerprint("test", &a), fingerprint("test", &b));
        let c = vec!["FAIL src/other.test.js".to_string()];
        assert_ne!(fingerprint("test", &a), fingerprint("test", &c));
        assert_ne!(fingerprint("test", &a), fingerprint("lint", &a));
    }

    #[test]
    fn the_output_keeps_the_first_errors_and_the_tail() {
        let mut lines: Vec<String> = (0..200).map(|i| format!("ok line {i}")).collect();
        lines[5] = "error: the first failure".into();
        let out = trimmed(&lines);
        // The first failure with the lines after it, then the end.
        assert!(
            out.starts_with("error: the first failure\nok line 6\n"),
            "{out}"
        );
        assert!(out.contains("ok line 19\n...\nok line 160\n"), "{out}");
        assert!(out.ends_with("ok line 199"));
        assert!(!out.contains("ok line 100\n"));
        let huge: Vec<String> = (0..10_000)
            .map(|i| format!("error {i} {}", "x".repeat(50)))
            .collect();
        assert!(trimmed(&huge).len() <= OUTPUT_CAP + 3);
    }

    #[test]
    fn a_step_section_is_read_from_the_gate_log() {
        let log = "==> [lint] npm run lint\nfine\n==> [lint] passed after 1.0s\n==> [test] npm test\nboom\nbang\n==> [test] failed (exit 1) after 2.0s\n";
        assert_eq!(step_section(log, "test"), ["boom", "bang"]);
    }
}
