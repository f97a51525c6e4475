//! `status/completed_tasks.txt`: the authority on which groups are complete.
//!
//! One `PHASE_<N>:<GROUP>` per line. Users edit it by hand to skip a group
//! (add its line) or run it again (remove its line), so the runner keeps every
//! other line (comments, blanks, even lines it does not understand) exactly as
//! written and only ever adds or removes its own entries.

use crate::roadmap::GroupKey;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Entry(GroupKey, String),
    /// Blank, comment, or unrecognised: kept verbatim.
    Other(String),
}

/// A line that is neither an entry, a comment nor blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    pub line: usize,
    pub text: String,
}

impl std::fmt::Display for LineWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: `{}` is not a `PHASE_<N>:<GROUP>` entry (e.g. `PHASE_1:A`) nor a `#` comment; it is ignored and kept",
            self.line, self.text
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletedGroups {
    lines: Vec<Line>,
}

impl CompletedGroups {
    /// Reads the file's text; unknown lines become warnings, never errors.
    pub fn parse(text: &str) -> (Self, Vec<LineWarning>) {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut warnings = Vec::new();
        let lines = text
            .lines()
            .enumerate()
            .map(|(i, raw)| {
                let raw = raw.strip_suffix('\r').unwrap_or(raw);
                let trimmed = raw.trim();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    return Line::Other(raw.to_string());
                }
                match GroupKey::parse_status(trimmed) {
                    Some(key) => Line::Entry(key, raw.to_string()),
                    None => {
                        warnings.push(LineWarning {
                            line: i + 1,
                            text: trimmed.to_string(),
                        });
                        Line::Other(raw.to_string())
                    }
                }
            })
            .collect();
        (CompletedGroups { lines }, warnings)
    }

    pub fn contains(&self, key: &GroupKey) -> bool {
        self.keys().any(|k| k == key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &GroupKey> {
        self.lines.iter().filter_map(|l| match l {
            Line::Entry(k, _) => Some(k),
            Line::Other(_) => None,
        })
    }

    /// Appends the entry unless present; returns whether the file changed.
    pub fn add(&mut self, key: &GroupKey) -> bool {
        if self.contains(key) {
            return false;
        }
        self.lines.push(Line::Entry(key.clone(), key.to_string()));
        true
    }

    /// Removes every entry for the key; returns whether the file changed.
    pub fn remove(&mut self, key: &GroupKey) -> bool {
        let before = self.lines.len();
        self.lines
            .retain(|l| !matches!(l, Line::Entry(k, _) if k == key));
        self.lines.len() != before
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            match line {
                Line::Entry(_, raw) | Line::Other(raw) => out.push_str(raw),
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_reading_and_faithful_rewrite() {
        let text =
            "\u{feff}# done by hand\r\nPHASE_1:A\r\n  phase_1:b  \n\nnonsense here\nPHASE_2:C\n";
        let (mut c, w) = CompletedGroups::parse(text);
        assert_eq!(
            w,
            vec![LineWarning {
                line: 5,
                text: "nonsense here".into()
            }]
        );
        assert!(c.contains(&GroupKey::new(1, "B")));
        assert!(c.add(&GroupKey::new(2, "D")));
        assert!(!c.add(&GroupKey::new(2, "D")));
        assert!(c.remove(&GroupKey::new(1, "A")));
        assert_eq!(
            c.render(),
            "# done by hand\n  phase_1:b  \n\nnonsense here\nPHASE_2:C\nPHASE_2:D\n"
        );
    }
}
