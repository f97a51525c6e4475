//! Recognisers for the roadmap's small inline grammar: phase and group
//! headings, task heads (`**A1: Title**`), titles and their markers.
//!
//! They work on the raw Markdown source of one heading, table cell or list
//! item line (the block structure comes from pulldown-cmark), and return byte
//! offsets relative to the text they were given so callers can point
//! diagnostics at the exact characters. Hand-written rather than regexes:
//! they run once per table row in big roadmaps, and every slice is taken at
//! an ASCII position or via `strip_prefix`, so they cannot split a character.

use std::ops::Range;

/// Separators accepted between an id and its title.
const SEPARATORS: [&str; 4] = [":", "-", "\u{2014}", "\u{2013}"];
/// The "done" marker stripped from titles.
const DONE_MARK: char = '\u{2705}';
/// Emoji variation selector that may follow the done marker.
const VARIATION_SELECTOR: char = '\u{fe0f}';
/// Longest group-letter prefix accepted (`A`, `AA`, `ABC`).
const MAX_LETTERS: usize = 3;

/// `Phase 2 (Parallel)` / `Phase 1: Foundation Layer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhaseHead {
    pub number: Option<u32>,
    pub number_span: Range<usize>,
    pub title: String,
    pub annotation: Option<String>,
}

/// `Group B (Parallel, after A)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupHead {
    pub id: String,
    pub id_span: Range<usize>,
    pub title: String,
    pub annotation: Option<String>,
    /// Group names from `after X, Y`, with their offsets.
    pub after: Vec<(String, Range<usize>)>,
}

/// `**A1: Title** ✅` / `[x] A1 — Title`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskHead {
    pub id_span: Range<usize>,
    /// The id's letters (`A` in `A1`) as a range.
    pub letters: Range<usize>,
    pub title: String,
    /// A literal `[x]` before the id or a trailing ✅.
    pub done: bool,
}

/// Recognises a phase heading. `number` is `None` when the digits overflow
/// (the caller reports it) so the heading still reads as a phase.
pub(crate) fn phase_head(text: &str) -> Option<PhaseHead> {
    let at = keyword(text, "phase")?;
    let digits = at + count(&text[at..], |b| b.is_ascii_digit());
    if digits == at {
        return None;
    }
    let rest = skip_emphasis(text, digits);
    let (title, annotation) = title_and_annotation(text, rest)?;
    Some(PhaseHead {
        number: text[at..digits].parse().ok(),
        number_span: at..digits,
        title,
        annotation: annotation.map(|a| text[a].trim().to_string()),
    })
}

/// Recognises a group heading: `Group` + 1-3 uppercase letters + separator.
pub(crate) fn group_head(text: &str) -> Option<GroupHead> {
    let at = keyword(text, "group")?;
    let end = at + count(&text[at..], |b| b.is_ascii_uppercase());
    if end == at || end - at > MAX_LETTERS || starts_alnum(&text[end..]) {
        return None;
    }
    let rest = skip_emphasis(text, end);
    let (title, annotation) = title_and_annotation(text, rest)?;
    let after = annotation
        .as_ref()
        .map(|a| after_groups(text, a.clone()))
        .unwrap_or_default();
    Some(GroupHead {
        id: text[at..end].to_string(),
        id_span: at..end,
        title,
        annotation: annotation.map(|a| text[a].trim().to_string()),
        after,
    })
}

/// Recognises a task head at the start of `text` (one line).
pub(crate) fn task_head(text: &str) -> Option<TaskHead> {
    let mut i = skip_ws(text, 0);
    let mut done = false;
    // A literal checkbox: headings and cells have no task-list syntax.
    for (mark, checked) in [("[ ]", false), ("[x]", true), ("[X]", true)] {
        if text[i..].starts_with(mark) && text[i + 3..].starts_with([' ', '\t']) {
            done = checked;
            i = skip_ws(text, i + 3);
            break;
        }
    }
    i += count(&text[i..], |b| b == b'*' || b == b'_');
    let letters_end = i + count(&text[i..], |b| b.is_ascii_uppercase());
    if letters_end == i || letters_end - i > MAX_LETTERS {
        return None;
    }
    let id_end = letters_end + count(&text[letters_end..], |b| b.is_ascii_digit());
    if id_end == letters_end {
        return None;
    }
    let after = id_end + count(&text[id_end..], |b| b == b'*' || b == b'_');
    let rest = &text[after..];
    let title_raw = if rest.trim().is_empty() {
        ""
    } else if let Some(r) = strip_separator(rest.trim_start()) {
        r
    } else if rest.starts_with([' ', '\t']) {
        rest
    } else {
        // `A1.5`, `A1,` or `A1)`: prose that happens to start with an id.
        return None;
    };
    let (title, marked) = clean_title(title_raw);
    Some(TaskHead {
        id_span: i..id_end,
        letters: i..letters_end,
        title,
        done: done || marked,
    })
}

/// Strips emphasis markers, surrounding backticks and a trailing ✅ (which
/// means done) from a title; returns the title and whether ✅ was present.
pub(crate) fn clean_title(raw: &str) -> (String, bool) {
    let mut s = raw.trim();
    let mut done = false;
    loop {
        let before = s.len();
        let t = s.trim_end_matches(VARIATION_SELECTOR);
        if let Some(t) = t.strip_suffix(DONE_MARK) {
            done = true;
            s = t;
        }
        s = s.trim().trim_matches('*').trim();
        s = s.strip_prefix("__").unwrap_or(s);
        s = s.strip_suffix("__").unwrap_or(s).trim();
        if s.len() == before {
            break;
        }
    }
    if s.len() >= 2
        && s.starts_with('`')
        && s.ends_with('`')
        && s[1..s.len() - 1].find('`').is_none()
    {
        s = &s[1..s.len() - 1];
    }
    (s.to_string(), done)
}

/// A paragraph that opens with bold text naming the phase or its
/// deliverables (`**Phase 1 Deliverables:**`): it and what follows up to the
/// next heading describe the phase, not the group above it.
pub(crate) fn is_phase_notes(paragraph: &str) -> bool {
    let p = paragraph.trim_start();
    let Some(inner) = p.strip_prefix("**").or_else(|| p.strip_prefix("__")) else {
        return false;
    };
    let bold = inner.find(['*', '_']).map_or(inner, |e| &inner[..e]);
    contains_ignore_case(bold, "phase") || starts_with_ignore_case(bold.trim(), "deliverables")
}

/// Position after `keyword` + whitespace at the start of `text` (leading
/// emphasis allowed, keyword case-insensitive).
fn keyword(text: &str, keyword: &str) -> Option<usize> {
    let i = skip_ws(text, 0);
    let i = i + count(&text[i..], |b| b == b'*' || b == b'_');
    if !starts_with_ignore_case(&text[i..], keyword) {
        return None;
    }
    let k = i + keyword.len();
    let at = skip_ws(text, k);
    (at > k).then_some(at)
}

/// Splits what follows a phase number or group letters into a title and an
/// optional `(annotation)` range. `None` when the heading has no separator
/// there (`Phase 1 notes` is prose, not a phase).
fn title_and_annotation(text: &str, rest: usize) -> Option<(String, Option<Range<usize>>)> {
    let tail = text[rest..].trim_end_matches(['*', ' ', '\t']);
    let body_start = rest + (tail.len() - tail.trim_start().len());
    let body = tail.trim_start();
    if body.is_empty() {
        return Some((String::new(), None));
    }
    let (start, inner) = match strip_separator(body) {
        Some(r) => (body_start + body.len() - r.len(), r),
        None if body.starts_with('(') => (body_start, body),
        None => return None,
    };
    let end = start + inner.len();
    let (title_range, annotation) = split_annotation(text, start..end);
    Some((clean_title(&text[title_range]).0, annotation))
}

/// `Title (annotation)` or `(annotation) Title`: returns the title range and
/// the annotation's inner range (parentheses excluded).
fn split_annotation(text: &str, r: Range<usize>) -> (Range<usize>, Option<Range<usize>>) {
    let s = &text[r.clone()];
    let trimmed = s.trim();
    let lead = s.len() - s.trim_start().len();
    let (t0, t1) = (r.start + lead, r.start + lead + trimmed.len());
    if trimmed.starts_with('(') {
        let close = matching_paren(trimmed).unwrap_or(trimmed.len());
        let after = (t0 + close + 1).min(t1);
        let title_start =
            strip_separator(text[after..t1].trim_start()).map_or(after, |x| t1 - x.len());
        return (title_start..t1, Some(t0 + 1..t0 + close));
    }
    if trimmed.ends_with(')')
        && let Some(open) = matching_open(trimmed)
    {
        return (t0..t0 + open, Some(t0 + open + 1..t1 - 1));
    }
    (t0..t1, None)
}

/// Index of the `)` closing the `(` at index 0.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Index of the `(` opening the `)` that ends `s`.
fn matching_open(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate().rev() {
        match b {
            b')' => depth += 1,
            b'(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Group names after the word `after` in an annotation: `after A`,
/// `after A and B`, `after A, B`, `after A & B`. Phrases such as
/// `after Phase 1` name no group and yield nothing.
fn after_groups(text: &str, r: Range<usize>) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut from = r.start;
    while let Some(k) = find_word(&text[from..r.end], "after") {
        let mut i = from + k + "after".len();
        loop {
            let start = skip_ws(text, i).min(r.end);
            let end = start + count(&text[start..r.end], |b| b.is_ascii_uppercase());
            if end == start || end - start > MAX_LETTERS || starts_alnum(&text[end..r.end]) {
                break;
            }
            out.push((text[start..end].to_string(), start..end));
            i = skip_list_joiner(text, end, r.end);
            if i == end {
                break;
            }
        }
        from = from + k + "after".len();
    }
    out
}

/// Skips `,`, `&`, `and`, `, and` between two group names; returns `at` when
/// there is no joiner (the list ended).
fn skip_list_joiner(text: &str, at: usize, limit: usize) -> usize {
    let mut i = skip_ws(text, at).min(limit);
    let mut joined = false;
    if text[i..limit].starts_with([',', '&']) {
        i = skip_ws(text, i + 1).min(limit);
        joined = true;
    }
    if starts_with_ignore_case(&text[i..limit], "and ") {
        i = skip_ws(text, i + 3).min(limit);
        joined = true;
    }
    if joined { i } else { at }
}

/// Offset of `word` (ASCII case-insensitive) with non-alphanumeric neighbours.
fn find_word(hay: &str, word: &str) -> Option<usize> {
    let bytes = hay.as_bytes();
    let n = word.len();
    (0..bytes.len().saturating_sub(n - 1)).find(|&i| {
        bytes[i..i + n].eq_ignore_ascii_case(word.as_bytes())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + n).is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// The text after a leading `:`, `-`, `—` or `–` (and whitespace).
fn strip_separator(s: &str) -> Option<&str> {
    SEPARATORS
        .iter()
        .find_map(|sep| s.strip_prefix(sep))
        .map(str::trim_start)
}

fn skip_emphasis(text: &str, at: usize) -> usize {
    at + count(&text[at..], |b| b == b'*' || b == b'_')
}

fn skip_ws(text: &str, at: usize) -> usize {
    at + count(&text[at..], |b| b == b' ' || b == b'\t')
}

/// Length of the leading run of ASCII bytes matching `f`.
fn count(s: &str, f: impl Fn(u8) -> bool) -> usize {
    s.bytes().take_while(|&b| f(b)).count()
}

fn starts_alnum(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn contains_ignore_case(s: &str, needle: &str) -> bool {
    s.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(t: &str) -> Option<(Option<u32>, String, Option<String>)> {
        phase_head(t).map(|p| (p.number, p.title, p.annotation))
    }

    #[test]
    fn phase_heading_forms() {
        let s = |x: &str| x.to_string();
        assert_eq!(
            phase("Phase 1: Foundation Layer"),
            Some((Some(1), s("Foundation Layer"), None))
        );
        assert_eq!(
            phase("Phase 2 (Parallel)"),
            Some((Some(2), s(""), Some(s("Parallel"))))
        );
        assert_eq!(
            phase("Phase 3 — Polish"),
            Some((Some(3), s("Polish"), None))
        );
        assert_eq!(
            phase("Phase 3 – Polish ✅"),
            Some((Some(3), s("Polish"), None))
        );
        assert_eq!(
            phase("phase 4 - X (after 3)"),
            Some((Some(4), s("X"), Some(s("after 3"))))
        );
        assert_eq!(phase("**Phase 5**: Bold"), Some((Some(5), s("Bold"), None)));
        assert_eq!(phase("Phase 6"), Some((Some(6), s(""), None)));
        assert_eq!(
            phase("Phase 1 (4 parallel agents max)").map(|p| p.0),
            Some(Some(1))
        );
        assert_eq!(phase("Phase 99999999999: x").map(|p| p.0), Some(None));
        assert_eq!(phase("Phase 1 notes"), None);
        assert_eq!(phase("Phase one: x"), None);
        assert_eq!(phase("Phases 1: x"), None);
        assert_eq!(phase("Implementation Summary"), None);
    }

    #[test]
    fn group_heading_forms() {
        let g = group_head("Group B (Parallel, after A)").unwrap_or_else(|| panic!("group"));
        assert_eq!(g.id, "B");
        assert_eq!(g.id_span, 6..7);
        assert_eq!(g.title, "");
        assert_eq!(g.annotation.as_deref(), Some("Parallel, after A"));
        assert_eq!(g.after, vec![("A".to_string(), 25..26)]);

        let g =
            group_head("Group AC: Database (after A and AB, C & D)").unwrap_or_else(|| panic!());
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
    }

    fn task(t: &str) -> Option<(String, String, bool)> {
        task_head(t).map(|h| (t[h.id_span].to_string(), h.title, h.done))
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
            "A1.5 x",
            "A1, A2",
            "a1: x",
            "ABCD1: x",
            "✅ Users",
            "Agent 1: x",
            "",
        ] {
            assert_eq!(task(t), None, "{t}");
        }
    }

    #[test]
    fn phase_notes_paragraphs() {
        assert!(is_phase_notes("**Phase 1 Deliverables:**"));
        assert!(is_phase_notes("**Deliverables**: all of it"));
        assert!(!is_phase_notes("**Note:** phase later"));
        assert!(!is_phase_notes("Phase 1 Deliverables"));
    }
}
