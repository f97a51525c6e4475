//! Byte scanning over one line of roadmap text: words, whitespace and
//! ASCII case-insensitive matches, shared by the heading grammar and the
//! agent annotation.

/// Offset of `word` (ASCII case-insensitive) with non-alphanumeric neighbours.
pub(crate) fn find_word(hay: &str, word: &str) -> Option<usize> {
    let bytes = hay.as_bytes();
    let n = word.len();
    (0..bytes.len().saturating_sub(n - 1)).find(|&i| {
        bytes[i..i + n].eq_ignore_ascii_case(word.as_bytes())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + n).is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// Past the spaces and tabs at `at`.
pub(crate) fn skip_ws(text: &str, at: usize) -> usize {
    at + count(&text[at..], |b| b == b' ' || b == b'\t')
}

/// Length of the leading run of ASCII bytes matching `f`.
pub(crate) fn count(s: &str, f: impl Fn(u8) -> bool) -> usize {
    s.bytes().take_while(|&b| f(b)).count()
}

/// Whether `s` starts with `prefix`, ASCII case ignored.
pub(crate) fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Whether `s` contains `needle`, ASCII case ignored.
pub(crate) fn contains_ignore_case(s: &str, needle: &str) -> bool {
    s.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}
