//! The text a reader sees of a title's inline Markdown: emphasis removed
//! (`**bold**`, `*em*`, `__strong__`), code spans kept as written, and the
//! stray markers an id's bold leaves behind (`**A1: Schema** (stretch)`
//! gives the title `Schema** (stretch)`) dropped.

use pulldown_cmark::{Event, Options, Parser};
use std::borrow::Cow;
use std::ops::Range;

/// Put before the title so that pulldown-cmark reads it as a paragraph's
/// inline text, never as a list item (`1. x`), rule (`***`) or heading.
const LEAD: &str = "a ";

/// `raw` without emphasis markers; borrowed when it has none.
pub(crate) fn plain_text(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['*', '_']) {
        return Cow::Borrowed(raw);
    }
    let src = format!("{LEAD}{raw}");
    let mut text = String::with_capacity(src.len());
    // Where code spans stand in `text`: their stars are the reader's.
    let mut code = Vec::new();
    for (event, range) in Parser::new_ext(&src, Options::empty()).into_offset_iter() {
        match event {
            Event::Text(t) => text.push_str(&t),
            // Backticks are part of what a reader sees: `cargo test`.
            Event::Code(_) => {
                code.push(text.len()..text.len() + range.len());
                text.push_str(&src[range]);
            }
            Event::InlineHtml(_) | Event::Html(_) => text.push_str(&src[range]),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    let plain = drop_stray_markers(&text, &code);
    Cow::Owned(
        plain
            .strip_prefix(LEAD)
            .unwrap_or(&plain)
            .trim()
            .to_string(),
    )
}

/// Drops the emphasis markers left unmatched in `text` outside `code`: a
/// run of `*` at its start or end, a run of two or more `*` or `_` there or
/// touching a word on one side only (`Schema** (stretch)`). What stands
/// between spaces (`2 ** 8`) or inside a word (`snake__case`) is the
/// reader's text. The start is after [`LEAD`].
fn drop_stray_markers(text: &str, code: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    let mut i = 0;
    while let Some(off) = text[i..].find(['*', '_']) {
        let at = i + off;
        if let Some(span) = code.iter().find(|r| r.contains(&at)) {
            i = span.end;
            continue;
        }
        let marker = text[at..].chars().next().unwrap_or('*');
        let end = text.len() - text[at..].trim_start_matches(marker).len();
        let before = &text[..at];
        let after = &text[end..];
        let edge = before
            .strip_prefix(LEAD)
            .unwrap_or(before)
            .trim()
            .is_empty()
            || after.trim().is_empty();
        let word_before = !before.is_empty() && !before.ends_with(char::is_whitespace);
        let word_after = !after.is_empty() && !after.starts_with(char::is_whitespace);
        let long = end - at >= 2;
        let stray = (edge && (marker == '*' || long)) || (long && word_before != word_after);
        if stray {
            out.push_str(&text[from..at]);
            from = end;
        }
        i = end;
    }
    out.push_str(&text[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn emphasis_is_removed() {
        assert_eq!(plain_text("add a **migration**"), "add a migration");
        assert_eq!(plain_text("*Start*"), "Start");
        assert_eq!(plain_text("**a** and *b* and __c__"), "a and b and c");
        assert_eq!(plain_text("***both***"), "both");
    }

    #[test]
    fn the_stars_an_ids_bold_leaves_are_dropped() {
        assert_eq!(plain_text("Schema** (stretch)"), "Schema (stretch)");
        assert_eq!(plain_text("Title**"), "Title");
        assert_eq!(plain_text("Title*"), "Title");
        assert_eq!(plain_text("Title__"), "Title");
        assert_eq!(plain_text("Docs__ (draft)"), "Docs (draft)");
        assert_eq!(plain_text("**"), "");
        assert_eq!(plain_text("***"), "");
    }

    #[test]
    fn what_a_reader_sees_is_kept() {
        assert_eq!(plain_text("2 ** 8 and 3 * 4"), "2 ** 8 and 3 * 4");
        assert_eq!(
            plain_text("snake_case_name and a__b"),
            "snake_case_name and a__b"
        );
        assert_eq!(plain_text("_config.yml"), "_config.yml");
        assert_eq!(plain_text("run `a*b` and `**x**`"), "run `a*b` and `**x**`");
        assert_eq!(plain_text("1. not a list *item*"), "1. not a list item");
        assert_eq!(plain_text("- not a list"), "- not a list");
        assert_eq!(plain_text("no markers"), "no markers");
    }
}
