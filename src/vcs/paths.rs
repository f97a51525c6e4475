//! Which paths the runner leaves out: its own files, and the patterns a
//! project names (relative to the project directory).

/// What the runner itself writes into the project: never a reason to call the
/// tree dirty. Anchored at the project directory (see [`path_matches`]).
pub const RUNNER_FILES: &[&str] = &["status/", "logs/", "PHASE*-GROUP-*-STATUS.md"];

/// The runner's status files that describe one moment of one run: never
/// committed (`completed_tasks.txt`, `tasks.jsonl` and the reports are).
pub const TRANSIENT_FILES: &[&str] = &["status/in_progress_tasks.txt", "status/pending_tasks.txt"];

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::sync::LazyLock;

/// Whether `path` is one of the runner's own files ([`RUNNER_FILES`]).
pub fn is_runner_file(path: &str) -> bool {
    static OWN: LazyLock<PathPatterns> = LazyLock::new(|| PathPatterns::new(RUNNER_FILES));
    OWN.matches(path)
}

/// Whether a '/'-separated path matches a pattern. Patterns are anchored at
/// the start of the path (`status/` does not match `src/status/x`):
///
/// * `dir/` matches everything under `dir`;
/// * otherwise the whole path must match, where `*` stands for any run of
///   characters except '/' and `?` for one such character:
///   `PHASE*-GROUP-*-STATUS.md`, `logs/*.log`.
pub fn path_matches(path: &str, pattern: &str) -> bool {
    PathPatterns::new(&[pattern]).matches(path)
}

/// Patterns compiled once for many paths (see [`path_matches`]).
#[derive(Debug, Clone)]
pub struct PathPatterns {
    set: GlobSet,
}

impl PathPatterns {
    pub fn new(patterns: &[&str]) -> Self {
        let mut set = GlobSetBuilder::new();
        for glob in patterns.iter().filter_map(|p| glob(p)) {
            set.add(glob);
        }
        PathPatterns {
            set: set.build().unwrap_or_else(|_| GlobSet::empty()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    pub fn matches(&self, path: &str) -> bool {
        self.set.is_match(path)
    }
}

/// One pattern as a glob: only `*` and `?` are wildcards (`[` and `{` are
/// plain characters, `**` is one `*`) and neither crosses a '/'; `dir/` is
/// everything under `dir`. `None` for an empty pattern, which matches nothing.
fn glob(pattern: &str) -> Option<Glob> {
    let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
    if pattern.is_empty() {
        return None;
    }
    let (body, under) = match pattern.strip_suffix('/') {
        Some(dir) => (dir, "/**"),
        None => (pattern, ""),
    };
    let mut text = String::with_capacity(body.len() + under.len());
    for c in body.chars() {
        match c {
            '*' if text.ends_with('*') => {}
            '[' | ']' | '{' | '}' => text.extend(['[', c, ']']),
            _ => text.push(c),
        }
    }
    text.push_str(under);
    GlobBuilder::new(&text)
        .literal_separator(true)
        .backslash_escape(false)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(path_matches("status/completed_tasks.txt", "status/"));
        assert!(path_matches("status/a/b.txt", "status/"));
        assert!(!path_matches("src/status/mod.rs", "status/"));
        assert!(!path_matches("status", "status/"));
        assert!(!path_matches("statusx/a", "status/"));
        assert!(path_matches(
            "PHASE1-GROUP-A-STATUS.md",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(path_matches(
            "PHASE12-GROUP-AA-STATUS.md",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(!path_matches(
            "docs/PHASE1-GROUP-A-STATUS.md",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(!path_matches(
            "PHASE1-GROUP-A-STATUS.md.bak",
            "PHASE*-GROUP-*-STATUS.md"
        ));
        assert!(path_matches("logs/x.log", "logs/*.log"));
        assert!(!path_matches("logs/a/x.log", "logs/*.log"));
        assert!(path_matches("a.txt", "?.txt"));
        assert!(path_matches("out/run-1/x", "out/run-*/"));
        assert!(path_matches("roadmap-runner.toml", "./roadmap-runner.toml"));
        assert!(!path_matches("x", ""));
        // Only `*` and `?` are wildcards; `**` stays within one component.
        assert!(path_matches("a[1]{x}.txt", "a[1]{x}.txt"));
        assert!(!path_matches("a1.txt", "a[1].txt"));
        assert!(!path_matches("logs/a/x.log", "logs/**.log"));
        assert!(path_matches("logs/x.log", "logs/**.log"));
    }
}
