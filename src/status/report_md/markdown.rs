//! Text made safe inside a Markdown report: agent summaries quoted so their
//! headings and fences stay theirs, table cells and code spans that keep
//! their column, raw HTML tags shown rather than run.

use std::fmt::Write as _;

/// One line of inline text: newlines become spaces, raw HTML tags are
/// escaped.
pub(super) fn inline_text(s: &str) -> String {
    escape_html_tags(&crate::text::squash_whitespace(s))
}

/// Inline text for an ATX heading: a trailing `#` would be read as the
/// heading's closing sequence.
pub(super) fn heading_text(s: &str) -> String {
    let mut t = inline_text(s);
    if t.ends_with('#') {
        t.insert(t.len() - 1, '\\');
    }
    t
}

/// Inline text for a table cell: pipes and backslashes escaped too.
pub(super) fn cell(s: &str) -> String {
    let t = inline_text(s).replace('\\', "\\\\").replace('|', "\\|");
    if t.is_empty() { " ".into() } else { t }
}

/// `s` as a code span, on one line; in a table cell its pipes are escaped
/// (GFM reads `\|` as `|` inside a code span in a table).
pub(super) fn code_span(s: &str, in_table: bool) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let s = if in_table { s.replace('|', "\\|") } else { s };
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `<tag`, `</tag`, `<!--`, `<?` become `&lt;...` outside code spans, so no
/// raw HTML reaches the rendered page.
fn escape_html_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        let c = bytes[i];
        if c == b'`' {
            // A code span: a run of n backticks up to the next run of exactly n.
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if let Some(close) = find_backtick_run(&line[i + run..], run) {
                let end = i + run + close + run;
                out.push_str(&line[i..end]);
                i = end;
            } else {
                out.push_str(&line[i..i + run]);
                i += run;
            }
            continue;
        }
        if c == b'<'
            && bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, b'/' | b'!' | b'?'))
        {
            out.push_str("&lt;");
            i += 1;
            continue;
        }
        let ch = line[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Where in `s` a run of exactly `n` backticks starts.
fn find_backtick_run(s: &str, n: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if run == n {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// Untrusted Markdown as a blockquote that cannot affect the rest of the
/// document; ends with a blank line.
pub(super) fn quote_block(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.trim_matches('\n').lines().collect();
    // The quoted lines, without their `> `.
    let mut quoted_lines: Vec<String> = Vec::new();
    // The open fence: its character and length.
    let mut fence: Option<(char, usize)> = None;
    // Whether an indented line here starts or continues indented code (after
    // a blank line or more code); otherwise it continues a paragraph.
    let mut code_may_follow = true;
    for line in lines {
        let line = line.trim_end();
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        let mut heading = false;
        let quoted = if let Some((ch, len)) = fence {
            if indent <= 3
                && fence_run(body)
                    .is_some_and(|(c, n, rest)| c == ch && n >= len && rest.trim().is_empty())
            {
                fence = None;
            }
            line.to_string()
        } else if indent <= 3
            && let Some((ch, n, info)) = fence_run(body)
            && !(ch == '`' && info.contains('`'))
        {
            fence = Some((ch, n));
            line.to_string()
        } else if (indent >= 4 || line.starts_with('\t')) && code_may_follow {
            // Indented code: left as written.
            line.to_string()
        } else if indent >= 4 || line.starts_with('\t') {
            // A paragraph's continuation line: inline text.
            escape_html_tags(line)
        } else if let Some(text) = atx_heading(body) {
            // A heading stands apart, as a paragraph of its own.
            heading = true;
            if text.is_empty() {
                String::new()
            } else {
                format!("**{}**", escape_html_tags(text))
            }
        } else if is_setext_underline(body) {
            format!("{}\\{}", &line[..indent], body)
        } else {
            escape_html_tags(line)
        };
        code_may_follow = fence.is_none()
            && (line.is_empty() || (code_may_follow && (indent >= 4 || line.starts_with('\t'))));
        if heading && quoted_lines.last().is_some_and(|l| !l.is_empty()) {
            quoted_lines.push(String::new());
        }
        quoted_lines.push(quoted);
        if heading {
            quoted_lines.push(String::new());
            code_may_follow = true;
        }
    }
    if let Some((ch, len)) = fence {
        quoted_lines.push(ch.to_string().repeat(len));
    }
    // No blank line twice in a row (a heading next to a blank), none last.
    quoted_lines.dedup_by(|b, a| a.is_empty() && b.is_empty());
    while quoted_lines.last().is_some_and(|l| l.is_empty()) {
        quoted_lines.pop();
    }
    let mut out = String::new();
    for q in quoted_lines {
        if q.is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {q}");
        }
    }
    out.push('\n');
    out
}

/// A code fence opener/closer: its character, length and the rest.
fn fence_run(body: &str) -> Option<(char, usize, &str)> {
    let ch = body.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let n = body.chars().take_while(|&c| c == ch).count();
    (n >= 3).then(|| (ch, n, &body[n..]))
}

/// The text of an ATX heading line (`## Title ##` → `Title`).
fn atx_heading(body: &str) -> Option<&str> {
    let hashes = body.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &body[hashes..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    // An optional closing sequence of `#`s after a space.
    let trimmed = rest.trim_end_matches('#');
    let text = if trimmed.is_empty() || trimmed.ends_with([' ', '\t']) {
        trimmed.trim_end()
    } else {
        rest
    };
    Some(text)
}

fn is_setext_underline(body: &str) -> bool {
    let b = body.trim_end();
    !b.is_empty() && (b.chars().all(|c| c == '=') || b.chars().all(|c| c == '-'))
}
