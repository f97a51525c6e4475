//! The words and marks the outline reader decides by: level words
//! (`Sprint 3`, `M1`), ids (`M0-DOC-001`, `[#7]`, `T040a`), status glyphs
//! and words, and the section names that hold no work (acceptance
//! criteria, summaries) or that hold the plan of a longer document.

use regex::Regex;
use std::sync::LazyLock;

/// Words naming a top level: each such section is a phase.
const PHASE_WORDS: [&str; 16] = [
    "phase",
    "stage",
    "milestone",
    "sprint",
    "wave",
    "tier",
    "epic",
    "release",
    "part",
    "step",
    "week",
    "iteration",
    "priority",
    "阶段",
    "里程碑",
    "迭代",
];
/// Words naming a second level: each such section is a group.
const GROUP_WORDS: [&str; 7] = [
    "track",
    "story",
    "group",
    "stream",
    "workstream",
    "batch",
    "lane",
];
/// Sections whose items are checks of the work, not work.
const NOT_WORK: [&str; 16] = [
    "acceptance",
    "success criteria",
    "exit criteria",
    "definition of done",
    "verification",
    "verify",
    "deliverables",
    "not planned",
    "declined",
    "out of scope",
    "won't do",
    "wont do",
    "non-goals",
    "example",
    "验收",
    "不做",
];
/// Sections that list work defined elsewhere (a reference, not a duplicate).
const REFERENCE: [&str; 9] = [
    "summary",
    "recap",
    "overview",
    "at a glance",
    "quick reference",
    "progress",
    "status",
    "index",
    "总结",
];
/// Section names that mark the plan part of a longer document.
const PLAN_WORDS: [&str; 10] = [
    "roadmap",
    "plan",
    "tasks",
    "todo",
    "to do",
    "backlog",
    "milestones",
    "work breakdown",
    "next steps",
    "计划",
];
const DONE_GLYPHS: [char; 5] = ['✅', '✔', '☑', '🟢', '✓'];
const OPEN_GLYPHS: [char; 9] = ['☐', '⬜', '🔲', '⭕', '⏳', '🔄', '🟡', '❌', '🔶'];

/// Which level a word names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rank {
    Phase,
    Group,
}

/// `Sprint 3` in `⏳ SPRINT 3 (NEXT)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LevelWord {
    pub rank: Rank,
    /// The word as the rule names it: `sprint`, `M-id`.
    pub word: String,
    /// The number after it, as digits where it was roman or Chinese.
    pub number: Option<String>,
    /// Offset of the title after the word and number.
    pub rest: usize,
}

static LEVEL_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Z])(\d+(?:\.\d+)?)(?:$|[\s:.\u{2014}\u{2013}]|-\s)").unwrap()
});
static TASK_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\[?(#\d+|[A-Z][A-Za-z0-9]*(?:[.\-_][A-Za-z0-9]+)*)\]?[*_]*(?:$|[\s:.)\u{2014}\u{2013}]|-\s)",
    )
    .unwrap()
});
static STATUS_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^[\s*_>-]*status[\s*_]*:[\s*_]*(.+)").unwrap());
static DEPS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:after|depends on|blocked by|requires)\s*:?\s*\[?((?:#?[A-Za-z0-9][\w.\-]*\s*(?:,|&|\band\b)?\s*)+)\]?")
        .unwrap()
});

/// Leading blanks, emphasis, `#`s and symbols (emoji, glyphs) skipped;
/// the glyph status seen among them.
pub(crate) fn skip_lead(text: &str) -> (usize, Option<bool>) {
    let mut status = None;
    for (i, c) in text.char_indices() {
        if DONE_GLYPHS.contains(&c) {
            status = Some(true);
        } else if OPEN_GLYPHS.contains(&c) {
            status.get_or_insert(false);
        } else if c.is_alphanumeric() || c == '[' || c == '#' || c == '~' {
            return (i, status);
        }
    }
    (text.len(), status)
}

/// The status a glyph or word anywhere in `text` gives: `Some(true)` done,
/// `Some(false)` open, `None` nothing said.
pub(crate) fn status_of(text: &str) -> Option<bool> {
    if text.chars().any(|c| DONE_GLYPHS.contains(&c)) {
        return Some(true);
    }
    let lower = text.to_lowercase();
    const OPEN: [&str; 8] = [
        "todo",
        "planned",
        "in progress",
        "pending",
        "not started",
        "next",
        "partial",
        "blocked",
    ];
    if OPEN.iter().any(|w| lower.contains(w)) || text.chars().any(|c| OPEN_GLYPHS.contains(&c)) {
        return Some(false);
    }
    const DONE: [&str; 6] = [
        "done",
        "complete",
        "shipped",
        "finished",
        "merged",
        "已完成",
    ];
    DONE.iter().any(|w| lower.contains(w)).then_some(true)
}

/// A heading's level word and number, if it has one.
pub(crate) fn level_word(text: &str) -> Option<LevelWord> {
    let (at, _) = skip_lead(text);
    let t = &text[at..];
    if let Some(c) = LEVEL_ID.captures(t) {
        let id = c.get(0).map_or(0, |m| m.as_str().trim_end().len());
        return Some(LevelWord {
            rank: Rank::Phase,
            word: format!("{}-id", &c[1]),
            number: Some(c[2].to_string()),
            rest: at + id,
        });
    }
    // `第一阶段` / `阶段一`: the word may follow an ordinal.
    let (t, ordinal) = match t.strip_prefix('第') {
        Some(r) => {
            let n = r
                .chars()
                .take_while(|c| chinese_digit(*c).is_some())
                .count();
            let digits: String = r.chars().take(n).collect();
            (&r[digits.len()..], Some(chinese_number(&digits)))
        }
        None => (t, None),
    };
    let lower = t.to_lowercase();
    let (rank, word) = PHASE_WORDS
        .iter()
        .map(|w| (Rank::Phase, *w))
        .chain(GROUP_WORDS.iter().map(|w| (Rank::Group, *w)))
        .find(|(_, w)| {
            lower.starts_with(w)
                && lower[w.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_ascii_alphabetic())
        })?;
    let after = &t[word.len()..];
    let (number, used) = match ordinal {
        Some(n) => (Some(n), 0),
        None => number_at(after),
    };
    let rest = text.len() - after.len() + used;
    Some(LevelWord {
        rank,
        word: word.to_string(),
        number,
        rest,
    })
}

/// A number after a level word: `3`, `12.1`, `4b`, `II`, `一`; its length.
fn number_at(s: &str) -> (Option<String>, usize) {
    let t = s.trim_start_matches([' ', '\t']);
    let lead = s.len() - t.len();
    let run: String = t
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let run = run.trim_end_matches('.');
    if run.starts_with(|c: char| c.is_ascii_digit()) {
        return (Some(run.to_ascii_lowercase()), lead + run.len());
    }
    if run.len() == 1
        && run.bytes().all(|b| b.is_ascii_uppercase())
        && !matches!(run, "I" | "V" | "X")
    {
        return (Some(run.to_string()), lead + 1);
    }
    if let Some(n) = roman(run) {
        return (Some(n.to_string()), lead + run.len());
    }
    let zh: String = t
        .chars()
        .take_while(|c| chinese_digit(*c).is_some())
        .collect();
    if !zh.is_empty() {
        return (Some(chinese_number(&zh)), lead + zh.len());
    }
    (None, 0)
}

fn roman(s: &str) -> Option<u32> {
    let s = s.to_ascii_uppercase();
    let table = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"];
    table.iter().position(|r| *r == s).map(|i| i as u32 + 1)
}

fn chinese_digit(c: char) -> Option<u32> {
    "零一二三四五六七八九十"
        .chars()
        .position(|d| d == c)
        .map(|i| i as u32)
}

fn chinese_number(s: &str) -> String {
    let digits: Vec<u32> = s.chars().filter_map(chinese_digit).collect();
    let n = match digits.as_slice() {
        [10] => 10,
        [10, d] => 10 + d,
        [d, 10] => d * 10,
        [d, 10, e] => d * 10 + e,
        [d] => *d,
        _ => 0,
    };
    n.to_string()
}

/// An id at the start of a heading or item: `M0-DOC-001`, `T040a`, `A1.2`,
/// `[#7]` (id `7`); the id and where the title starts.
pub(crate) fn task_id(text: &str) -> Option<(String, usize)> {
    let (at, _) = skip_lead(text);
    let t = &text[at..];
    let bold = t.len() - t.trim_start_matches(['*', '_', '~']).len();
    let c = TASK_ID.captures(&t[bold..])?;
    let id = c[1].trim_start_matches('#').to_string();
    // `US-101`, `T040a`, not `Web3` or `Setup`: a digit, and capitals before it.
    let digit = id.find(|c: char| c.is_ascii_digit())?;
    if !c[1].starts_with('#') && id[..digit].chars().any(|c| c.is_ascii_lowercase()) {
        return None;
    }
    if id.ends_with(['.', '-']) {
        return None;
    }
    let m = c.get(0).map_or(0, |m| m.end());
    let rest = at + bold + m;
    let rest = rest - usize::from(text[..rest].ends_with([' ', '\t']));
    Some((id, rest))
}

/// Whether `text` names a section that holds no work.
pub(crate) fn is_not_work(text: &str) -> bool {
    has_any(text, &NOT_WORK)
}

pub(crate) fn is_reference(text: &str) -> bool {
    has_any(text, &REFERENCE)
}

pub(crate) fn is_plan_name(text: &str) -> bool {
    has_any(text, &PLAN_WORDS)
}

/// A section for one worker: `Agent 3: Frontend`, `Worker 2`.
pub(crate) fn is_agent(text: &str) -> bool {
    let (at, _) = skip_lead(text);
    let lower = text[at..].to_lowercase();
    ["agent", "worker"].iter().any(|w| {
        lower
            .strip_prefix(w)
            .is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// Says its tasks may run at the same time.
pub(crate) fn says_parallel(text: &str) -> bool {
    let lower = text.to_lowercase();
    let yes = lower.contains("parallel") || lower.contains("concurrent") || lower.contains("并行");
    let no = [
        "not parallel",
        "not in parallel",
        "cannot run in parallel",
        "sequential",
    ]
    .iter()
    .any(|w| lower.contains(w));
    yes && !no
}

/// `**Status:** Done` → the status it gives.
pub(crate) fn status_line(paragraph: &str) -> Option<bool> {
    let first = paragraph.lines().next()?;
    let c = STATUS_LINE.captures(first)?;
    status_of(&c[1]).or(Some(false))
}

/// Ids named by `after X` / `depends on [#3, #4]`, `#` dropped.
pub(crate) fn deps(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in DEPS.captures_iter(text) {
        for tok in c[1].split([',', '&', ' ']) {
            let id = tok
                .trim()
                .trim_start_matches('#')
                .trim_end_matches(['.', ']']);
            if !id.is_empty()
                && !id.eq_ignore_ascii_case("and")
                && id.chars().any(|c| c.is_ascii_digit())
            {
                out.push(id.to_string());
            }
        }
    }
    out
}

fn has_any(text: &str, words: &[&str]) -> bool {
    let lower = text.to_lowercase();
    words.iter().any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + w.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphabetic())
                && !after.is_some_and(|c| c.is_ascii_alphabetic() && c != 's')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words_with_numbers_and_marks() {
        let l = level_word("⏳ SPRINT 3 (NEXT)").unwrap();
        assert_eq!(
            (l.rank, l.word.as_str(), l.number.as_deref()),
            (Rank::Phase, "sprint", Some("3"))
        );
        assert_eq!(
            level_word("Part II: Later").unwrap().number.as_deref(),
            Some("2")
        );
        assert_eq!(
            level_word("第二阶段：构建").unwrap().number.as_deref(),
            Some("2")
        );
        assert_eq!(level_word("阶段三").unwrap().number.as_deref(), Some("3"));
        assert_eq!(level_word("M1: Foundation").unwrap().word, "M-id");
        assert_eq!(level_word("Track A: Backend").unwrap().rank, Rank::Group);
        assert!(level_word("M0-DOC-001 Write").is_none());
        assert!(level_word("Stagecraft").is_none());
        assert!(level_word("Setup").is_none());
    }

    #[test]
    fn ids_statuses_and_deps() {
        assert_eq!(task_id("M0-DOC-001: Spec"), Some(("M0-DOC-001".into(), 11)));
        assert_eq!(task_id("[#7] Thing").map(|t| t.0), Some("7".into()));
        assert_eq!(task_id("**A1.2** Thing").map(|t| t.0), Some("A1.2".into()));
        assert_eq!(task_id("T040a add").map(|t| t.0), Some("T040a".into()));
        assert!(task_id("Setup the repo").is_none());
        assert!(task_id("2024 goals").is_none());
        assert!(task_id("Web3 wallet").is_none());
        assert_eq!(
            task_id("US-101: Sign-up").map(|t| t.0),
            Some("US-101".into())
        );
        assert_eq!(status_of("✅ Done"), Some(true));
        assert_eq!(status_of("In progress"), Some(false));
        assert_eq!(status_of("Shipped"), Some(true));
        assert_eq!(status_line("**Status:** Complete"), Some(true));
        assert_eq!(deps("API — after [#3, #4]"), ["3", "4"]);
        assert_eq!(deps("depends on A1 and B2"), ["A1", "B2"]);
        assert!(is_not_work("Acceptance Criteria") && !is_not_work("Unacceptable"));
        assert!(is_agent("Agent 3: Frontend") && !is_agent("Agent Assignment"));
        assert!(says_parallel("(Parallel)") && !says_parallel("sequential, not parallel"));
    }
}
