//! A heading's title and its `(annotation)`, and the group ids an annotation
//! names after the word `after`.

use super::{
    DONE_MARK, GROUP_WORDS, MAX_LETTERS, VARIATION_SELECTOR, id_run, keyword_of, strip_separator,
};
use crate::roadmap::inline;
use crate::roadmap::model::is_id;
use crate::roadmap::scan::{find_word, skip_ws, starts_with_ignore_case};
use std::ops::Range;

/// Leading `[P]`, `[US1]`-style tags: dropped from the title; whether `[P]` was one.
pub(crate) fn strip_tags(mut s: &str) -> (&str, bool) {
    let mut parallel = false;
    while let Some(inner) = s.strip_prefix('[') {
        let Some(close) = inner.find(']') else { break };
        let tag = &inner[..close];
        if tag.is_empty() || tag.len() > 12 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
            break;
        }
        parallel |= tag.eq_ignore_ascii_case("p");
        s = inner[close + 1..].trim_start();
    }
    (s, parallel)
}

/// The title a reader sees: emphasis removed (the one place a title is
/// made from Markdown, see [`inline::plain_text`]), then a trailing ✅ (which
/// means done) and surrounding backticks; returns the title and whether ✅
/// was present.
pub(crate) fn clean_title(raw: &str) -> (String, bool) {
    let plain = inline::plain_text(raw.trim());
    let mut s = plain.trim();
    let mut done = false;
    while let Some(t) = s
        .trim_end_matches(VARIATION_SELECTOR)
        .strip_suffix(DONE_MARK)
    {
        done = true;
        s = t.trim_end();
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

/// Splits what follows a phase number or group letters into a title and an
/// optional `(annotation)` range. `None` when the heading has no separator
/// there (`Phase 1 notes` is prose, not a phase).
type TitleParts = ((String, bool), Option<Range<usize>>);

pub(super) fn title_and_annotation(text: &str, rest: usize) -> Option<TitleParts> {
    let tail = text[rest..].trim_end_matches(['*', ' ', '\t']);
    let body_start = rest + (tail.len() - tail.trim_start().len());
    let body = tail.trim_start();
    if body.is_empty() {
        return Some(((String::new(), false), None));
    }
    let (start, inner) = match strip_separator(body) {
        Some(r) => (body_start + body.len() - r.len(), r),
        None if body.starts_with('(') => (body_start, body),
        None => return None,
    };
    let end = start + inner.len();
    let (title_range, annotation) = split_annotation(text, start..end);
    Some((clean_title(&text[title_range]), annotation))
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
pub(super) fn matching_open(s: &str) -> Option<usize> {
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

/// Ids after the word `after` in an annotation: `after A`, `after A and
/// B`, `after W2.1, T003`, `after Group A`. Phrases such as `after Phase 1`
/// or `after the schema` name no group and yield nothing.
pub(super) fn after_ids(text: &str, r: Range<usize>) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut from = r.start;
    while let Some(k) = find_word(&text[from..r.end], "after") {
        let mut i = from + k + "after".len();
        loop {
            let mut start = skip_ws(text, i).min(r.end);
            if let Some((_, at)) = keyword_of(&text[..r.end], start, &GROUP_WORDS) {
                start = at;
            }
            let len = id_run(&text[start..r.end]);
            let id = &text[start..start + len];
            let letters = !id.is_empty()
                && id.len() <= MAX_LETTERS
                && id.bytes().all(|b| b.is_ascii_uppercase());
            let numbered = id.bytes().any(|b| b.is_ascii_digit()) && is_id(id);
            if !(letters || numbered) {
                break;
            }
            let end = start + len;
            out.push((id.to_ascii_uppercase(), start..end));
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
