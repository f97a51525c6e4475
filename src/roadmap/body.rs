//! A task's body as written under its line, its common indentation removed.

/// Removes the common indentation of a list item's nested content; lines
/// end with `\n` (CRLF dropped), surrounding blank space trimmed.
pub(crate) fn dedent(raw: &str) -> String {
    let raw = raw.trim_end();
    // Leading blank lines go; the first line's indentation must stay
    // until the common indentation is known.
    let start = raw.len() - raw.trim_start_matches(['\n', '\r', ' ', '\t']).len();
    let start = raw[..start].rfind('\n').map_or(0, |i| i + 1);
    let raw = &raw[start..];
    let indent = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let min = raw
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(indent)
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line.get(indent(line).min(min)..).unwrap_or(""));
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out
}
