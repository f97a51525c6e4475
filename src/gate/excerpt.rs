//! A failing step's output as people (plain lines, the live view) and
//! repair agents are shown it: the first failure lines (the assertion, the
//! error, its file:line) and the end of the output, bounded. The end alone
//! is often a test runner's summary (`# pass 1`, `# fail 1`) that says
//! nothing of what failed.

use regex::Regex;
use std::collections::VecDeque;
use std::sync::LazyLock;

/// Lines kept from the first failure line on.
pub const FIRST_FAILURE_LINES: usize = 15;
/// Put between the first failure lines and the tail (which a reader of the
/// lines can then tell apart).
pub const ELLIPSIS: &str = "...";

/// Words of a failure: test runners' and compilers' markers.
static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)error|fail|panic|assert|expected|not ok\b|traceback|✗|✘|✕|●").unwrap()
});
/// A count of none (`0 failed`, `failures: 0`, `errors=0`): a passing summary.
static NONE_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b0\s+(errors?|fail(ed|ures?)?)\b|\b(errors?|fail(ed|ures?)?)\s*[:=]?\s*0\b")
        .unwrap()
});

/// Whether a line reads like the start of a failure.
pub fn looks_failed(line: &str) -> bool {
    FAILURE.is_match(&NONE_COUNT.replace_all(line, ""))
}

/// Built line by line as the output streams: the first failure lines and
/// the last `tail_lines` lines, each line counted once.
#[derive(Debug, Clone)]
pub struct Excerpt {
    first: Vec<String>,
    /// The index of the first failure line.
    first_at: Option<usize>,
    tail: VecDeque<(usize, String)>,
    tail_lines: usize,
    seen: usize,
}

impl Excerpt {
    pub fn new(tail_lines: usize) -> Excerpt {
        Excerpt {
            first: Vec::new(),
            first_at: None,
            tail: VecDeque::with_capacity(tail_lines),
            tail_lines,
            seen: 0,
        }
    }

    pub fn push(&mut self, line: &str) {
        let n = self.seen;
        self.seen += 1;
        if self.first.len() < FIRST_FAILURE_LINES && (self.first_at.is_some() || looks_failed(line))
        {
            self.first_at.get_or_insert(n);
            self.first.push(line.to_string());
        }
        if self.tail_lines == 0 {
            return;
        }
        if self.tail.len() == self.tail_lines {
            self.tail.pop_front();
        }
        self.tail.push_back((n, line.to_string()));
    }

    /// Whether no line was pushed.
    pub fn is_empty(&self) -> bool {
        self.seen == 0
    }

    /// The first failure lines the tail does not hold, [`ELLIPSIS`], then
    /// the tail.
    pub fn lines(&self) -> Vec<String> {
        let tail_start = self.tail.front().map_or(self.seen, |(i, _)| *i);
        let mut out: Vec<String> = match self.first_at {
            Some(at) => self
                .first
                .iter()
                .enumerate()
                .take_while(|(k, _)| at + k < tail_start)
                .map(|(_, l)| l.clone())
                .collect(),
            None => Vec::new(),
        };
        if !out.is_empty() {
            out.push(ELLIPSIS.to_string());
        }
        out.extend(self.tail.iter().map(|(_, l)| l.clone()));
        out
    }
}

/// The excerpt of output already read whole (from a log).
pub fn excerpt(lines: &[String], tail_lines: usize) -> Vec<String> {
    let mut e = Excerpt::new(tail_lines);
    for l in lines {
        e.push(l);
    }
    e.lines()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("ok {i} - fine")).collect()
    }

    #[test]
    fn the_first_failure_in_the_middle_comes_before_the_tail() {
        let mut out = lines(50);
        out[20] = "not ok 21 - adds".into();
        out[21] = "  error: 'Expected values to be strictly equal: 1 !== 2'".into();
        out.extend(["# pass 1".to_string(), "# fail 1".to_string()]);
        let e = excerpt(&out, 5);
        assert_eq!(e[0], "not ok 21 - adds");
        assert!(e[1].contains("1 !== 2"), "{e:?}");
        assert_eq!(e.len(), FIRST_FAILURE_LINES + 1 + 5, "{e:?}");
        assert_eq!(e[FIRST_FAILURE_LINES], ELLIPSIS);
        assert_eq!(e.last().unwrap(), "# fail 1");
    }

    #[test]
    fn lines_in_both_parts_are_shown_once() {
        let mut out = lines(8);
        out[4] = "FAILED: x".into();
        let e = excerpt(&out, 5);
        assert_eq!(e, out[3..].to_vec());
        assert_eq!(excerpt(&lines(3), 5), lines(3));
    }

    #[test]
    fn a_passing_count_is_no_failure() {
        assert!(!looks_failed(
            "test result: ok. 3 passed; 0 failed; 0 ignored"
        ));
        assert!(!looks_failed("errors: 0, failures: 0"));
        assert!(looks_failed("test result: FAILED. 2 passed; 1 failed"));
        assert!(looks_failed("thread 'x' panicked at src/lib.rs:4:9:"));
        assert!(!looks_failed("# pass 10"));
    }
}
