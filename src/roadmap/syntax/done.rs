//! Done markers in titles and status values: ✅, `(Done)`, `— COMPLETE`,
//! `**Status:** complete`.

use super::title::matching_open;
use super::{DONE_MARK, DONE_WORDS};

pub(super) fn has_done_word(s: &str) -> bool {
    s.split(|c: char| !c.is_alphanumeric())
        .any(|w| DONE_WORDS.iter().any(|d| d.eq_ignore_ascii_case(w)))
}

pub(super) fn last_word_is_done(title: &str) -> bool {
    let last = title
        .rsplit(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty());
    last.is_some_and(|w| {
        w.len() > 3 && w.bytes().all(|b| b.is_ascii_uppercase()) && has_done_word(w)
    })
}

/// A heading task's title that ends by saying it is done: `(Done)`,
/// `— COMPLETE`.
pub(crate) fn title_says_done(title: &str) -> bool {
    let t = title.trim_end();
    let paren = t.ends_with(')')
        && matching_open(t).is_some_and(|open| is_done_status(&t[open + 1..t.len() - 1]));
    paren || last_word_is_done(t)
}

/// The text of a status value marks done: ✅ or a done word, and no "in
/// progress" / "partial" / "not" qualifier.
pub(crate) fn is_done_status(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let partial = [
        "progress",
        "partial",
        "not ",
        "incomplete",
        "pending",
        "todo",
    ]
    .iter()
    .any(|w| lower.contains(w));
    !partial && (value.contains(DONE_MARK) || has_done_word(value))
}

/// `**Status:** complete` (a Superpowers phase's status line).
pub(crate) fn is_done_status_line(paragraph: &str) -> bool {
    let p = paragraph.trim_start().trim_start_matches(['*', '_']);
    let Some(rest) = p
        .get(..7)
        .filter(|h| h.eq_ignore_ascii_case("status:"))
        .map(|_| &p[7..])
    else {
        return false;
    };
    let value = rest.trim_start_matches(['*', '_', ' ']);
    let first = value
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    DONE_WORDS.iter().any(|d| d.eq_ignore_ascii_case(first)) || value.starts_with(DONE_MARK)
}
