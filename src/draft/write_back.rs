//! `--write-back` on an imported roadmap: a finished task's box is ticked
//! in the native file (by [`crate::roadmap::write_back`]) and, through its
//! source comment (`<!-- PLAN.md:12 -->`), on its line of the original
//! document, where that line has a `[ ]` box. Every other byte stays.

use crate::roadmap::Task;
use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::sync::LazyLock;

/// An open box after a list marker: `- [ ] ...`, `1. [ ] ...`.
static OPEN_BOX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*(?:[-*+]|\d+[.)])\s+)\[ \]").expect("valid regex"));

/// Ticks the source lines of `tasks` (read from `roadmap_source`) in their
/// documents under `project_dir`; returns how many boxes were ticked. A
/// document that is gone, or named outside the project, is left alone.
pub fn tick_sources(
    project_dir: &Path,
    roadmap_source: &str,
    tasks: &[&Task],
) -> Result<usize, String> {
    let mut by_doc: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for task in tasks {
        let text = roadmap_source
            .get(task.span.start..task.span.end)
            .unwrap_or_default();
        for (doc, line) in super::summary::comments(text) {
            by_doc.entry(doc).or_default().push(line);
        }
    }
    let mut ticked = 0;
    for (doc, lines) in by_doc {
        // Roadmap text is untrusted: only a relative path inside the project.
        let rel = Path::new(&doc);
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            continue;
        }
        let path = project_dir.join(rel);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let (new, n) = tick_lines(&text, &lines);
        if n > 0 {
            crate::status::write_atomic(&path, new.as_bytes())
                .map_err(|e| format!("cannot write {doc}: {e}"))?;
            ticked += n;
        }
    }
    Ok(ticked)
}

/// The text with the open box of each of `lines` (1-based) ticked.
pub fn tick_lines(text: &str, lines: &[usize]) -> (String, usize) {
    let mut n = 0;
    let out = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| match OPEN_BOX.find(line) {
            Some(m) if lines.contains(&(i + 1)) => {
                n += 1;
                format!("{}[x]{}", &line[..m.end() - 3], &line[m.end()..])
            }
            _ => line.to_string(),
        })
        .collect();
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_open_boxes_are_ticked() {
        let text = "# Plan\n- [ ] one\n- two\n  3. [ ] three\r\n- [x] four\n- [ ] five";
        let (out, n) = tick_lines(text, &[2, 3, 4, 5]);
        assert_eq!(n, 2);
        assert_eq!(
            out,
            "# Plan\n- [x] one\n- two\n  3. [x] three\r\n- [x] four\n- [ ] five"
        );
    }
}
