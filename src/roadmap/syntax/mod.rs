//! Recognisers for the roadmap's small inline grammar: phase and group
//! headings, task heads (`**A1: Title**`), titles and their markers.
//!
//! They work on the raw Markdown source of one heading, table cell or list
//! item line (the block structure comes from pulldown-cmark), and return byte
//! offsets relative to the text they were given so callers can point
//! diagnostics at the exact characters. Hand-written rather than regexes:
//! they run once per table row in big roadmaps, and every slice is taken at
//! an ASCII position or via `strip_prefix`, so they cannot split a character.

mod done;
mod items;
mod title;

use super::agent_annotation::agent_name;
use super::model::{PhaseId, is_id};
use super::scan::{count, skip_ws, starts_with_ignore_case};
use done::{has_done_word, last_word_is_done};
pub(crate) use done::{is_done_status, is_done_status_line, title_says_done};
pub(crate) use items::{
    bold_phase_item, is_numbered_item, is_phase_notes, is_speckit_item, is_task_word_heading,
};
use std::ops::Range;
use title::{after_ids, title_and_annotation};
pub(crate) use title::{clean_title, strip_tags};

/// Separators accepted between an id and its title.
const SEPARATORS: [&str; 4] = [":", "-", "\u{2014}", "\u{2013}"];

/// The "done" marker stripped from titles.
const DONE_MARK: char = '\u{2705}';

/// Emoji variation selector that may follow the done marker.
const VARIATION_SELECTOR: char = '\u{fe0f}';

/// Longest group-letter prefix accepted (`A`, `AA`, `ABC`).
const MAX_LETTERS: usize = 3;

/// Words that name the top level (a phase), lowercase.
pub(crate) const PHASE_WORDS: [&str; 9] = [
    "phase",
    "stage",
    "milestone",
    "wave",
    "sprint",
    "part",
    "step",
    "epic",
    "release",
];

/// Words that name the second level (a group), lowercase.
pub(crate) const GROUP_WORDS: [&str; 7] = [
    "group",
    "track",
    "stream",
    "workstream",
    "batch",
    "lane",
    "agent",
];

/// Words that may precede a task number (`Task 3`, `Item 1.1`).
const TASK_WORDS: [&str; 3] = ["task", "item", "agent"];

/// Status words that mark a phase done when they follow its number or
/// stand in its annotation.
const DONE_WORDS: [&str; 4] = ["complete", "completed", "done", "finished"];

/// `Phase 2 (Parallel)` / `Stage 12.1: Foundation ✅`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhaseHead {
    /// Index into [`PHASE_WORDS`].
    pub word: usize,
    /// `None` when the number is not a phase id (too long).
    pub number: Option<PhaseId>,
    pub number_span: Range<usize>,
    pub title: String,
    pub annotation: Option<String>,
    /// ✅, `COMPLETE` or `Done` after the number, in the annotation or at the end.
    pub done: bool,
}

/// `Group B (Parallel, after A)` / `Track 2: Backend`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupHead {
    /// Uppercased, as status keys store it.
    pub id: String,
    pub id_span: Range<usize>,
    pub title: String,
    pub annotation: Option<String>,
    /// Ids named by `after X, Y`, uppercased, with their offsets.
    pub after: Vec<(String, Range<usize>)>,
    /// The name in `agent: codex`, with its offsets.
    pub agent: Option<(String, Range<usize>)>,
}

/// A task id as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdToken {
    /// The characters pointed at in diagnostics (`Task 3`, `A1`).
    pub span: Range<usize>,
    /// The id itself (`3` for `Task 3`), as a range of the text.
    pub value: Range<usize>,
    /// The letters of a letters+number id (`A` in `A1`).
    pub letters: Option<Range<usize>>,
}

/// `**A1: Title** ✅` / `[x] T001 [P] Title` / `[ ] Title` (no id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskHead {
    /// `None` for a checklist item without an id (the parser derives one).
    pub id: Option<IdToken>,
    pub title: String,
    /// A literal `[x]` before the id, a trailing ✅ or strikethrough.
    pub done: bool,
    /// A literal checkbox in the text (`[ ]`, `[x]`), for write-back.
    pub checkbox: Option<Range<usize>>,
    /// Kiro's `[ ]*`: may be skipped.
    pub optional: bool,
    /// spec-kit's `[P]`: may run in parallel with its `[P]` neighbours.
    pub parallel: bool,
}

/// Where a task head is read; decides how much an id alone may claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadCtx {
    /// A plain list item: a number needs a separator after it.
    Item,
    /// An id column: a number is an id as it is.
    Marked,
    /// A checklist item: a number is an id as it is, and no id is needed.
    Checklist,
}

/// Recognises a phase heading. `number` is `None` when the id is too long
/// (the caller reports it) so the heading still reads as a phase.
pub(crate) fn phase_head(text: &str) -> Option<PhaseHead> {
    let (lead, lead_done) = skip_lead(text, 0);
    let (word, at) = keyword_of(text, lead, &PHASE_WORDS)?;
    let end = at + id_run(&text[at..]);
    if end == at || !text.as_bytes()[at].is_ascii_digit() {
        return None;
    }
    let (rest, marked) = skip_status(text, end);
    let (title, annotation) = title_and_annotation(text, rest)?;
    let annotation = annotation.map(|a| text[a].trim().to_string());
    let done = lead_done
        || marked
        || title.1
        || annotation.as_deref().is_some_and(has_done_word)
        || last_word_is_done(&title.0);
    Some(PhaseHead {
        word,
        number: PhaseId::parse(&text[at..end]),
        number_span: at..end,
        title: title.0,
        annotation,
        done,
    })
}

/// A heading that starts like a phase (`Phase 1 Foundation`) but is not
/// one: the span of the word and number, for a diagnostic.
/// The index of its phase word comes first.
pub(crate) fn phase_like(text: &str) -> Option<(usize, Range<usize>)> {
    let (lead, _) = skip_lead(text, 0);
    let (word, at) = keyword_of(text, lead, &PHASE_WORDS)?;
    let end = at + id_run(&text[at..]);
    let digit = text.as_bytes().get(at).is_some_and(u8::is_ascii_digit);
    (digit && phase_head(text).is_none()).then_some((word, lead..end))
}

/// Recognises a group heading: a group word, an id (1-3 uppercase letters,
/// or any id with a digit) and a separator.
pub(crate) fn group_head(text: &str) -> Option<GroupHead> {
    let (lead, _) = skip_lead(text, 0);
    let (_, at) = keyword_of(text, lead, &GROUP_WORDS)?;
    let end = at + group_id_len(&text[at..])?;
    let rest = skip_emphasis(text, end);
    let (title, annotation) = title_and_annotation(text, rest)?;
    let after = annotation
        .as_ref()
        .map(|a| after_ids(text, a.clone()))
        .unwrap_or_default();
    let agent = annotation
        .as_ref()
        .and_then(|a| agent_name(text, a.clone()));
    Some(GroupHead {
        id: text[at..end].to_ascii_uppercase(),
        id_span: at..end,
        title: title.0,
        annotation: annotation.map(|a| text[a].trim().to_string()),
        after,
        agent,
    })
}

/// Length of a group id at the start of `s`: `A`, `AB`, `1`, `W2`, `2.1`.
fn group_id_len(s: &str) -> Option<usize> {
    let n = id_run(s);
    let id = &s[..n];
    let letters =
        !id.is_empty() && id.len() <= MAX_LETTERS && id.bytes().all(|b| b.is_ascii_uppercase());
    let numbered = id.bytes().any(|b| b.is_ascii_digit()) && is_id(id);
    (letters || numbered).then_some(n)
}

/// Recognises a task head at the start of `text` (one line). Without an id
/// it is a task only when it has a checkbox (the caller derives the id).
pub(crate) fn task_head(text: &str, ctx: HeadCtx) -> Option<TaskHead> {
    let mut i = skip_ws(text, 0);
    let mut done = false;
    let mut optional = false;
    let mut checkbox = None;
    for (mark, checked) in [("[ ]", false), ("[x]", true), ("[X]", true)] {
        let after = &text[i..];
        if after.starts_with(mark) && after[3..].starts_with([' ', '\t', '*']) {
            done = checked;
            checkbox = Some(i..i + 3);
            optional = after[3..].starts_with('*');
            i = skip_ws(text, i + 3 + usize::from(optional));
            break;
        }
    }
    let checklist = checkbox.is_some() || ctx == HeadCtx::Checklist;
    let ctx = if checklist { HeadCtx::Marked } else { ctx };
    let struck = text[i..].starts_with("~~");
    let (id, rest) = match id_token(text, i, ctx) {
        Some((id, rest)) => (Some(id), rest),
        None if checklist => (None, i),
        None => return None,
    };
    let (title, parallel) = strip_tags(text[rest..].trim());
    let (mut title, marked) = clean_title(title);
    if title.starts_with('~') || title.ends_with('~') {
        title = title.trim_matches('~').trim().to_string();
    }
    Some(TaskHead {
        id,
        title,
        done: done || marked || struck,
        checkbox,
        optional,
        parallel,
    })
}

/// An id at `i` and where its title starts, or `None` (prose).
fn id_token(text: &str, i: usize, ctx: HeadCtx) -> Option<(IdToken, usize)> {
    let i = i + count(&text[i..], |b| matches!(b, b'*' | b'_' | b'~'));
    let (start, value_at, word) = match keyword_of(text, i, &TASK_WORDS) {
        Some((_, at)) if text.as_bytes().get(at).is_some_and(u8::is_ascii_digit) => (i, at, true),
        _ => (i, i, false),
    };
    let letters_end = value_at + count(&text[value_at..], |b| b.is_ascii_uppercase());
    let n_letters = letters_end - value_at;
    if n_letters > MAX_LETTERS || (word && n_letters > 0) {
        return None;
    }
    let digits_end = letters_end + count(&text[letters_end..], |b| b.is_ascii_digit());
    if digits_end == letters_end {
        return None;
    }
    let mut end = value_at + id_run(&text[value_at..]);
    // A letters+number id continues only with `.N` parts (`W2.1`); a
    // number may continue with any id characters (`12.1-01-PLAN.md`).
    if n_letters > 0 {
        end = digits_end + dotted_len(&text[digits_end..]);
    }
    if !is_id(&text[value_at..end]) {
        return None;
    }
    let after = end + count(&text[end..], |b| matches!(b, b'*' | b'_' | b'~'));
    let rest = &text[after..];
    let loose = n_letters > 0 || word || ctx == HeadCtx::Marked;
    let title_at = if rest.trim().is_empty() {
        text.len()
    } else if let Some(r) = strip_separator(rest.trim_start()) {
        text.len() - r.len()
    } else if rest.starts_with([' ', '\t']) && loose {
        after
    } else if n_letters == 0 && ctx == HeadCtx::Marked && text.as_bytes().get(end) == Some(&b'.') {
        after + 1 // Kiro's `1. Title`
    } else {
        return None;
    };
    let letters = (n_letters > 0).then_some(value_at..letters_end);
    let token = IdToken {
        span: start..end,
        value: value_at..end,
        letters,
    };
    Some((token, title_at.min(text.len())))
}

/// Length of `.1.2` parts after a number.
fn dotted_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n = 0;
    while b.get(n) == Some(&b'.') && b.get(n + 1).is_some_and(u8::is_ascii_digit) {
        n += 1 + count(&s[n + 1..], |c| c.is_ascii_digit());
    }
    n
}

/// Length of the run of id characters at the start of `s`, without a
/// trailing `.` or `-` (`1.` in `1. Title` is the id `1`).
fn id_run(s: &str) -> usize {
    let n = count(s, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
    });
    n - s[..n].len() + s[..n].trim_end_matches(['.', '-']).len()
}

/// Skips leading blanks, emphasis and non-ASCII symbols (emoji); returns
/// the position and whether a ✅ was among them.
fn skip_lead(text: &str, from: usize) -> (usize, bool) {
    let mut done = false;
    let mut i = from;
    for c in text[from..].chars() {
        if c == DONE_MARK {
            done = true;
        } else if !(c.is_whitespace() || c == '*' || c == '_' || !c.is_ascii())
            || c == '\u{2014}'
            || c == '\u{2013}'
        {
            break;
        }
        i += c.len_utf8();
    }
    (i, done)
}

/// After the number: emphasis, ✅ and status words; returns the position and
/// whether a done marker was seen.
fn skip_status(text: &str, at: usize) -> (usize, bool) {
    let mut i = skip_emphasis(text, at);
    let mut done = false;
    loop {
        let j = skip_ws(text, i);
        if let Some(r) = text[j..].strip_prefix(DONE_MARK) {
            let r = r.trim_start_matches(VARIATION_SELECTOR);
            i = skip_emphasis(text, text.len() - r.len());
            done = true;
            continue;
        }
        let w = j + count(&text[j..], |b| b.is_ascii_alphabetic());
        let tail = text[w..].trim_start();
        let ends = tail.is_empty() || strip_separator(tail).is_some() || tail.starts_with('(');
        if j > i
            && ends
            && DONE_WORDS
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&text[j..w]))
        {
            done = true;
            i = w;
        } else {
            return (i, done);
        }
    }
}

/// `(index, position after the word and its whitespace)` when one of
/// `words` starts `text` at `i` (case-insensitive, a whole word).
fn keyword_of(text: &str, i: usize, words: &[&str]) -> Option<(usize, usize)> {
    let i = i + count(&text[i..], |b| b == b'*' || b == b'_');
    words.iter().enumerate().find_map(|(n, w)| {
        if !starts_with_ignore_case(&text[i..], w) {
            return None;
        }
        let k = i + w.len();
        let at = skip_ws(text, k);
        (at > k).then_some((n, at))
    })
}

/// The text after a leading `:`, `-`, `—` or `–` (and whitespace).
fn strip_separator(s: &str) -> Option<&str> {
    SEPARATORS
        .iter()
        .find_map(|sep| s.strip_prefix(sep))
        .map(str::trim_start)
}

fn skip_emphasis(text: &str, at: usize) -> usize {
    at + count(&text[at..], |b| b == b'*' || b == b'_')
}

#[cfg(test)]
mod tests;
