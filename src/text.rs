//! Small text helpers that every layer uses: durations, plurals, and text
//! cut to a size. A leaf: it imports nothing of the crate, so any module may
//! use it without running back up the layers.

use std::time::Duration;

/// `1m 05s`, `3.2s`, `1h 02m`: short and readable in a table.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// `1 task`, `3 tasks`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The text on one line: every run of whitespace (newlines too) is one space.
pub fn squash_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first line, control characters made spaces: one text never breaks
/// a row or a line of a report.
pub fn one_line(text: &str) -> String {
    text.trim()
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The first line that is not blank, trimmed: a tool result's gist.
pub fn first_nonblank_line(s: &str) -> &str {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Every line break made a space, nothing else changed: a value written on
/// one line of a `key=value` file keeps its spaces.
pub fn breaks_as_spaces(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// POSIX-shell quoting: bare when only safe characters, otherwise single
/// quotes with `'` written as `'\''`.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// At most `max` characters, with `…` when cut.
pub fn cap_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => {
            let mut out = s[..i].trim_end().to_string();
            out.pop();
            out.push('…');
            out
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char
/// boundary (a cut never splits a character).
pub fn prefix_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(Duration::from_millis(3200)), "3.2s");
        assert_eq!(short_duration(Duration::from_secs(65)), "1m 05s");
        assert_eq!(short_duration(Duration::from_secs(3720)), "1h 02m");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "task"), "1 task");
        assert_eq!(plural(0, "task"), "0 tasks");
    }

    #[test]
    fn whitespace_is_squashed() {
        assert_eq!(squash_whitespace(" a\n  b\tc "), "a b c");
    }

    #[test]
    fn lines_and_quotes() {
        assert_eq!(one_line("  a\u{1b}[31mb\nc"), "a [31mb");
        assert_eq!(first_nonblank_line("\n  x \ny"), "x");
        assert_eq!(breaks_as_spaces("a  b\r\nc"), "a  b  c");
        assert_eq!(shell_quote("src/a.rs"), "src/a.rs");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn caps_never_split_a_character() {
        assert_eq!(cap_chars("abcdef", 4), "abc…");
        assert_eq!(cap_chars("abc", 4), "abc");
        assert_eq!(prefix_at_char("héllo", 2), "h");
        assert_eq!(prefix_at_char("héllo", 3), "hé");
        assert_eq!(prefix_at_char("abc", 10), "abc");
    }
}
