//! Roadmap diagnostics: what is wrong, where (a span), and what to do.
//!
//! Rendering follows the `just`/rustc layout so users can jump straight to
//! the offending text:
//!
//! ```text
//! error: duplicate task id `A1` (first defined at line 12)
//!  --> ROADMAP.md:20:5
//!    |
//! 20 | | **A1: Other** | Low | ...
//!    |     ^^
//!    = help: give each task a unique id, e.g. `A4`
//! ```

use super::model::Span;
use serde::Serialize;
use std::fmt;

/// The UTF-8 byte order mark. Editors hide it, so columns skip it.
const BOM: &str = "\u{feff}";

/// Display width of a tab in rendered snippets (columns still count it as one character).
const TAB_WIDTH: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable short code, e.g. `duplicate-task-id`.
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    /// What the user should do about it.
    pub help: Option<String>,
}

/// True when any diagnostic is an error (the roadmap must not be run).
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column (in characters) of the span start.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        line_col(source, self.span.start)
    }

    /// The rustc-style report: header, location, source line, caret, help.
    /// Every line ends with `\n`. Never panics, whatever the span.
    pub fn render(&self, path: &str, source: &str) -> String {
        self.render_at(path, source, line_col(source, self.span.start))
    }

    /// [`render`](Self::render) with the line found in `index` (built once
    /// for many diagnostics: finding it by scanning from the start each time
    /// made thousands of diagnostics quadratic).
    pub fn render_indexed(&self, path: &str, source: &str, index: &LineIndex) -> String {
        self.render_at(path, source, index.line_col(source, self.span.start))
    }

    fn render_at(&self, path: &str, source: &str, (line_no, col): (usize, usize)) -> String {
        let start = floor_char_boundary(source, self.span.start);
        let line = line_bounds(source, start);
        // A span on the BOM or on a line's `\r\n` is shown at the nearest visible character.
        let start = start.clamp(line.start, line.end);
        let text = &source[line.start..line.end];
        // Clip the span to its first line; an empty span still gets one caret.
        let end = floor_char_boundary(source, self.span.end.clamp(start, line.end));
        let pad = display_width(&source[line.start..start]);
        let carets = display_width(&source[start..end]).max(1);

        let gutter = line_no.to_string();
        let w = gutter.len();
        let mut out = format!("{}: {}\n", self.severity, self.message);
        out.push_str(&format!(" --> {path}:{line_no}:{col}\n"));
        out.push_str(&format!("{:w$} |\n", ""));
        if text.is_empty() {
            // No trailing space after the bar on an empty line.
            out.push_str(&format!("{gutter} |\n"));
        } else {
            out.push_str(&format!("{gutter} | {}\n", expand_tabs(text)));
        }
        out.push_str(&format!(
            "{:w$} | {}{}\n",
            "",
            " ".repeat(pad),
            "^".repeat(carets)
        ));
        if let Some(help) = &self.help {
            out.push_str(&format!("{:w$} = help: {help}\n", ""));
        }
        out
    }
}

/// Every diagnostic rendered, separated by blank lines, in time linear in
/// the source and the output.
pub fn render_all(diagnostics: &[Diagnostic], path: &str, source: &str) -> String {
    let index = LineIndex::new(source);
    diagnostics
        .iter()
        .map(|d| d.render_indexed(path, source, &index))
        .collect::<Vec<_>>()
        .join("\n")
}

/// 1-based line and column (in characters, BOM not counted) of a byte offset.
/// Offsets past the end or inside a character are clamped, never a panic.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset);
    let before = &source.as_bytes()[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let skip = visible_start(source, line_start).min(offset);
    (line, source[skip..offset].chars().count() + 1)
}

/// Maps byte offsets to line numbers in O(log n): for callers that need many
/// lookups (the parser names the line of a first definition).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// What [`line_col`] says, without scanning the lines before: `source`
    /// must be the text the index was built from.
    pub fn line_col(&self, source: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(source, offset);
        let line = self.line(offset);
        let line_start = self.starts.get(line - 1).copied().unwrap_or(0).min(offset);
        let skip = visible_start(source, line_start).min(offset);
        (line, source[skip..offset].chars().count() + 1)
    }
}

/// The displayed part of the line holding `offset`: no BOM, no `\r\n`.
fn line_bounds(source: &str, offset: usize) -> std::ops::Range<usize> {
    let bytes = source.as_bytes();
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let mut end = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(source.len(), |i| offset + i);
    if end > start && bytes[end - 1] == b'\r' {
        end -= 1;
    }
    visible_start(source, start).min(end)..end
}

/// Skips a BOM at the very start of the source.
fn visible_start(source: &str, line_start: usize) -> usize {
    if line_start == 0 && source.starts_with(BOM) {
        BOM.len()
    } else {
        line_start
    }
}

/// The largest char boundary `<= offset` (std's version is unstable).
pub(crate) fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut i = offset.min(source.len());
    while !source.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if c == '\t' { TAB_WIDTH } else { 1 })
        .sum()
}

fn expand_tabs(s: &str) -> String {
    s.replace('\t', &" ".repeat(TAB_WIDTH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_and_skips_bom() {
        let src = "\u{feff}ab\nxé\tz";
        assert_eq!(line_col(src, 3), (1, 1));
        assert_eq!(line_col(src, 4), (1, 2));
        assert_eq!(line_col(src, 6), (2, 1));
        // `é` is two bytes: `\t` is the third character.
        assert_eq!(line_col(src, 9), (2, 3));
        assert_eq!(line_col(src, 999), (2, 5));
        // Inside a multi-byte char: clamped down, no panic.
        assert_eq!(line_col(src, 1), (1, 1));
    }

    #[test]
    fn line_index_matches_line_col() {
        let src = "a\r\nb\n\nc";
        let idx = LineIndex::new(src);
        for off in 0..=src.len() {
            assert_eq!(idx.line(off), line_col(src, off).0, "offset {off}");
        }
    }

    #[test]
    fn indexed_line_col_and_render_match_the_scanning_ones() {
        let src = "\u{feff}ab\r\nxé\tz\n\n| **A1** |\n";
        let idx = LineIndex::new(src);
        for off in 0..=src.len() + 2 {
            assert_eq!(idx.line_col(src, off), line_col(src, off), "offset {off}");
            let d = Diagnostic::error("e", Span::new(off, off + 2), "m").with_help("h");
            assert_eq!(d.render_indexed("p", src, &idx), d.render("p", src));
        }
        let diags = vec![Diagnostic::warning("w", Span::new(4, 5), "one"); 3];
        let all = render_all(&diags, "p", src);
        assert_eq!(all, vec![diags[0].render("p", src); 3].join("\n"));
    }

    #[test]
    fn render_matches_the_documented_layout() {
        let mut src = String::new();
        for i in 1..20 {
            src.push_str(&format!("line {i}\n"));
        }
        src.push_str("| **A1: Other** | Low | ...\n");
        let start = src.find("A1").unwrap_or(0);
        let d = Diagnostic::error(
            "duplicate-task-id",
            Span::new(start, start + 2),
            "duplicate task id `A1` (first defined at line 12)",
        )
        .with_help("give each task a unique id, e.g. `A4`");
        assert_eq!(
            d.render("ROADMAP.md", &src),
            "error: duplicate task id `A1` (first defined at line 12)\n \
             --> ROADMAP.md:20:5\n   \
             |\n\
             20 | | **A1: Other** | Low | ...\n   \
             |     ^^\n   \
             = help: give each task a unique id, e.g. `A4`\n"
        );
    }

    #[test]
    fn render_survives_odd_spans() {
        let src = "\u{feff}é\r\n\tx";
        for (s, e) in [(0, 0), (1, 2), (5, 3), (7, 100), (100, 200)] {
            let d = Diagnostic::warning("w", Span::new(s, e), "m");
            let out = d.render("p", src);
            assert!(out.starts_with("warning: m\n"), "{out}");
            assert!(out.contains('^'));
        }
        let d = Diagnostic::warning("w", Span::new(8, 9), "m");
        assert_eq!(
            d.render("p", src),
            "warning: m\n --> p:2:2\n  |\n2 |     x\n  |     ^\n"
        );
    }
}
