//! Ticking a finished task in the roadmap file itself: `- [ ]` becomes
//! `- [x]`, or the Status cell says `✅ Done`. A pure function of the text:
//! every other byte stays as it was, so the user's formatting survives and
//! the change reviews as a one-character diff.

use super::model::{DoneMark, Span, Task};

/// What a ticked Status cell says.
pub const DONE_CELL: &str = "✅ Done";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteBackError {
    #[error("task `{0}` has no checkbox or Status cell to tick")]
    NoMark(String),
    #[error(
        "the roadmap changed since it was read: bytes {start}..{end} are no longer task `{id}`'s checkbox"
    )]
    Moved {
        id: String,
        start: usize,
        end: usize,
    },
}

/// The source with `task` marked done. Already done: the text unchanged.
pub fn tick(source: &str, task: &Task) -> Result<String, WriteBackError> {
    let mark = task
        .done_mark
        .ok_or_else(|| WriteBackError::NoMark(task.id.clone()))?;
    let (span, replacement) = match mark {
        DoneMark::Checkbox { span } => match source.get(span.start..span.end) {
            Some("[x]" | "[X]") => return Ok(source.to_string()),
            Some("[ ]") => (span, "[x]"),
            _ => return Err(moved(task, span)),
        },
        DoneMark::StatusCell { span } => {
            let cell = source
                .get(span.start..span.end)
                .ok_or_else(|| moved(task, span))?;
            if cell.contains('\n') || cell.contains('|') && !cell.contains("\\|") {
                return Err(moved(task, span));
            }
            if task.done_in_roadmap {
                return Ok(source.to_string());
            }
            (span, DONE_CELL)
        }
    };
    let mut out = String::with_capacity(source.len() + replacement.len());
    out.push_str(&source[..span.start]);
    out.push_str(replacement);
    out.push_str(&source[span.end..]);
    Ok(out)
}

fn moved(task: &Task, span: Span) -> WriteBackError {
    WriteBackError::Moved {
        id: task.id.clone(),
        start: span.start,
        end: span.end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roadmap::parse;

    fn only_diff(a: &str, b: &str) -> (usize, String, String) {
        let pre = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let suf = a[pre..]
            .bytes()
            .rev()
            .zip(b[pre..].bytes().rev())
            .take_while(|(x, y)| x == y)
            .count();
        (
            pre,
            a[pre..a.len() - suf].to_string(),
            b[pre..b.len() - suf].to_string(),
        )
    }

    #[test]
    fn checkbox_ticks_and_nothing_else_changes() {
        let src = "\u{feff}## Phase 1: One\r\n\r\n- [ ] T001 [P] First\r\n- [ ] T002 Second  \r\n- [x] T003 Third\r\n";
        let p = parse(src);
        let tasks: Vec<&Task> = p.roadmap.phases[0]
            .groups
            .iter()
            .flat_map(|g| &g.tasks)
            .collect();
        let out = tick(src, tasks[1]).unwrap();
        assert_eq!(out.len(), src.len());
        let (at, was, now) = only_diff(src, &out);
        assert_eq!((was.as_str(), now.as_str()), (" ", "x"));
        assert_eq!(&src[at - 1..at + 2], "[ ]");
        assert!(out.contains("- [x] T002 Second  \r\n"));
        assert_eq!(tick(src, tasks[2]).unwrap(), src);
        let again = tick(&out, &parse(&out).roadmap.phases[0].groups[1].tasks[0]).unwrap();
        assert_eq!(again, out);
    }

    #[test]
    fn kiro_optional_and_literal_boxes_tick() {
        let src = "## Tasks\n\n- [ ] 1. Top\n  - [ ]* 1.1 Optional one\n  - [ ] 1.2 Plain\n";
        let p = crate::roadmap::parse_as(src, Some(crate::roadmap::Dialect::Kiro));
        let t = &p.roadmap.phases[0].groups[0].tasks[0];
        assert!(t.optional);
        let out = tick(src, t).unwrap();
        assert_eq!(out, src.replacen("[ ]* 1.1", "[x]* 1.1", 1));
    }

    #[test]
    fn status_cell_is_replaced_in_place() {
        let src = "## Phase 1: One\n\n### Group A\n\n| Feature | Status | Notes |\n|---|---|---|\n| **A1: X** | 🔶 Partial | keep \\| me |\n| **A2: Y** | ✅ Done | |\n";
        let p = parse(src);
        let g = &p.roadmap.phases[0].groups[0];
        let out = tick(src, &g.tasks[0]).unwrap();
        assert_eq!(out, src.replacen("🔶 Partial", DONE_CELL, 1));
        assert_eq!(tick(src, &g.tasks[1]).unwrap(), src);
    }

    #[test]
    fn no_mark_and_moved_text_are_errors() {
        let src = "## Phase 1: One\n\n### Group A\n\n#### A1: Heading task\n";
        let p = parse(src);
        let t = &p.roadmap.phases[0].groups[0].tasks[0];
        assert_eq!(tick(src, t), Err(WriteBackError::NoMark("A1".into())));
        let src = "## Phase 1: One\n\n- [ ] A1: x\n";
        let t = parse(src).roadmap.phases[0].groups[0].tasks[0].clone();
        assert!(matches!(
            tick("short", &t),
            Err(WriteBackError::Moved { .. })
        ));
    }
}
