//! Recognisers for the roadmap's small inline grammar: phase and group
//! headings, task heads (`**A1: Title**`), titles and their markers.
//!
//! They work on the raw Markdown source of one heading, table cell or list
//! item line (the block structure comes from pulldown-cmark), and return byte
//! offsets relative to the text they were given so callers can point
//! diagnostics at the exact characters. Hand-written rather than regexes:
//! they run once per table row in big roadmaps, and every slice is taken at
//! an ASCII position or via `strip_prefix`, so they cannot split a character.

use super::agent_annotation::agent_name;
use super::inline;
use super::model::{PhaseId, is_id};
use super::scan::{contains_ignore_case, count, find_word, skip_ws, starts_with_ignore_case};
use std::ops::Range;

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

/// Leading `[P]`, `[US1]`-style tags: dropped from the title; whether `[P]` was one.
pub(crate) fn strip_tags(mut s: &str) -> (&str, bool) {
    let mut parallel = false;
    while let Some(inner) = s.strip_prefix('[') {
        let Some(close) = inner.find(']') else { break };
        let tag = &inner[..close];
        if tag.is_empty() || tag.len() > 12 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
            break;
        }
        parallel |= tag.eq_ignore_ascii_case("p");
        s = inner[close + 1..].trim_start();
    }
    (s, parallel)
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

fn has_done_word(s: &str) -> bool {
    s.split(|c: char| !c.is_alphanumeric())
        .any(|w| DONE_WORDS.iter().any(|d| d.eq_ignore_ascii_case(w)))
}

fn last_word_is_done(title: &str) -> bool {
    let last = title
        .rsplit(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty());
    last.is_some_and(|w| {
        w.len() > 3 && w.bytes().all(|b| b.is_ascii_uppercase()) && has_done_word(w)
    })
}

/// A heading task's title that ends by saying it is done: `(Done)`,
/// `— COMPLETE`.
pub(crate) fn title_says_done(title: &str) -> bool {
    let t = title.trim_end();
    let paren = t.ends_with(')')
        && matching_open(t).is_some_and(|open| is_done_status(&t[open + 1..t.len() - 1]));
    paren || last_word_is_done(t)
}

/// The text of a status value marks done: ✅ or a done word, and no "in
/// progress" / "partial" / "not" qualifier.
pub(crate) fn is_done_status(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let partial = [
        "progress",
        "partial",
        "not ",
        "incomplete",
        "pending",
        "todo",
    ]
    .iter()
    .any(|w| lower.contains(w));
    !partial && (value.contains(DONE_MARK) || has_done_word(value))
}

/// `Task 3: Title` (Superpowers): a task word, a number and a separator.
pub(crate) fn is_task_word_heading(text: &str) -> bool {
    let (lead, _) = skip_lead(text, 0);
    matches!(keyword_of(text, lead, &TASK_WORDS[..1]), Some((_, at))
        if id_token(text, lead, HeadCtx::Item).is_some()
            && text.as_bytes().get(at).is_some_and(u8::is_ascii_digit))
}

/// GSD's phase list item: `**Phase 12.1: Title** - description (INSERTED)`.
/// The phase head of the bold part, with the annotation of the rest.
pub(crate) fn bold_phase_item(text: &str) -> Option<(PhaseHead, usize)> {
    let t = text.trim_start();
    let lead = text.len() - t.len();
    let inner = t.strip_prefix("**")?;
    // Cheap refusal first: this runs on every list item during detection.
    let first = inner.as_bytes().first()?.to_ascii_lowercase();
    if !PHASE_WORDS.iter().any(|w| w.as_bytes()[0] == first) {
        return None;
    }
    let close = inner.find("**")?;
    let mut head = phase_head(&inner[..close])?;
    let shift = lead + 2;
    head.number_span = head.number_span.start + shift..head.number_span.end + shift;
    let rest = inner[close + 2..].trim();
    if head.annotation.is_none()
        && rest.ends_with(')')
        && let Some(open) = matching_open(rest)
    {
        head.annotation = Some(rest[open + 1..rest.len() - 1].trim().to_string());
    }
    Some((head, shift))
}

/// Kiro's top-level item: `1. Title` (a whole number and a dot).
pub(crate) fn is_numbered_item(text: &str) -> bool {
    let t = text.trim_start();
    let t = t
        .strip_prefix("[ ]")
        .or_else(|| t.strip_prefix("[x]"))
        .unwrap_or(t);
    let t = t.trim_start_matches('*').trim_start();
    let n = count(t, |b| b.is_ascii_digit());
    n > 0 && t[n..].starts_with(". ")
}

/// spec-kit's item: `T001 ...` (a `T` and three or more digits).
pub(crate) fn is_speckit_item(text: &str) -> bool {
    let t = text.trim_start().trim_start_matches(['*', '_']);
    let n = t
        .strip_prefix('T')
        .map_or(0, |r| count(r, |b| b.is_ascii_digit()));
    n >= 3
}

/// `**Status:** complete` (a Superpowers phase's status line).
pub(crate) fn is_done_status_line(paragraph: &str) -> bool {
    let p = paragraph.trim_start().trim_start_matches(['*', '_']);
    let Some(rest) = p
        .get(..7)
        .filter(|h| h.eq_ignore_ascii_case("status:"))
        .map(|_| &p[7..])
    else {
        return false;
    };
    let value = rest.trim_start_matches(['*', '_', ' ']);
    let first = value
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    DONE_WORDS.iter().any(|d| d.eq_ignore_ascii_case(first)) || value.starts_with(DONE_MARK)
}

/// The title a reader sees: emphasis removed (the one place a title is
/// made from Markdown, see [`inline::plain_text`]), then a trailing ✅ (which
/// means done) and surrounding backticks; returns the title and whether ✅
/// was present.
pub(crate) fn clean_title(raw: &str) -> (String, bool) {
    let plain = inline::plain_text(raw.trim());
    let mut s = plain.trim();
    let mut done = false;
    while let Some(t) = s
        .trim_end_matches(VARIATION_SELECTOR)
        .strip_suffix(DONE_MARK)
    {
        done = true;
        s = t.trim_end();
    }
    if s.len() >= 2
        && s.starts_with('`')
        && s.ends_with('`')
        && s[1..s.len() - 1].find('`').is_none()
    {
        s = &s[1..s.len() - 1];
    }
    (s.to_string(), done)
}

/// A paragraph that opens with bold text naming the phase or its
/// deliverables (`**Phase 1 Deliverables:**`): it and what follows up to the
/// next heading describe the phase, not the group above it.
pub(crate) fn is_phase_notes(paragraph: &str) -> bool {
    let p = paragraph.trim_start();
    let Some(inner) = p.strip_prefix("**").or_else(|| p.strip_prefix("__")) else {
        return false;
    };
    let bold = inner.find(['*', '_']).map_or(inner, |e| &inner[..e]);
    contains_ignore_case(bold, "phase") || starts_with_ignore_case(bold.trim(), "deliverables")
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

/// Splits what follows a phase number or group letters into a title and an
/// optional `(annotation)` range. `None` when the heading has no separator
/// there (`Phase 1 notes` is prose, not a phase).
type TitleParts = ((String, bool), Option<Range<usize>>);

fn title_and_annotation(text: &str, rest: usize) -> Option<TitleParts> {
    let tail = text[rest..].trim_end_matches(['*', ' ', '\t']);
    let body_start = rest + (tail.len() - tail.trim_start().len());
    let body = tail.trim_start();
    if body.is_empty() {
        return Some(((String::new(), false), None));
    }
    let (start, inner) = match strip_separator(body) {
        Some(r) => (body_start + body.len() - r.len(), r),
        None if body.starts_with('(') => (body_start, body),
        None => return None,
    };
    let end = start + inner.len();
    let (title_range, annotation) = split_annotation(text, start..end);
    Some((clean_title(&text[title_range]), annotation))
}

/// `Title (annotation)` or `(annotation) Title`: returns the title range and
/// the annotation's inner range (parentheses excluded).
fn split_annotation(text: &str, r: Range<usize>) -> (Range<usize>, Option<Range<usize>>) {
    let s = &text[r.clone()];
    let trimmed = s.trim();
    let lead = s.len() - s.trim_start().len();
    let (t0, t1) = (r.start + lead, r.start + lead + trimmed.len());
    if trimmed.starts_with('(') {
        let close = matching_paren(trimmed).unwrap_or(trimmed.len());
        let after = (t0 + close + 1).min(t1);
        let title_start =
            strip_separator(text[after..t1].trim_start()).map_or(after, |x| t1 - x.len());
        return (title_start..t1, Some(t0 + 1..t0 + close));
    }
    if trimmed.ends_with(')')
        && let Some(open) = matching_open(trimmed)
    {
        return (t0..t0 + open, Some(t0 + open + 1..t1 - 1));
    }
    (t0..t1, None)
}

/// Index of the `)` closing the `(` at index 0.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Index of the `(` opening the `)` that ends `s`.
fn matching_open(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate().rev() {
        match b {
            b')' => depth += 1,
            b'(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Ids after the word `after` in an annotation: `after A`, `after A and
/// B`, `after W2.1, T003`, `after Group A`. Phrases such as `after Phase 1`
/// or `after the schema` name no group and yield nothing.
fn after_ids(text: &str, r: Range<usize>) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut from = r.start;
    while let Some(k) = find_word(&text[from..r.end], "after") {
        let mut i = from + k + "after".len();
        loop {
            let mut start = skip_ws(text, i).min(r.end);
            if let Some((_, at)) = keyword_of(&text[..r.end], start, &GROUP_WORDS) {
                start = at;
            }
            let len = id_run(&text[start..r.end]);
            let id = &text[start..start + len];
            let letters = !id.is_empty()
                && id.len() <= MAX_LETTERS
                && id.bytes().all(|b| b.is_ascii_uppercase());
            let numbered = id.bytes().any(|b| b.is_ascii_digit()) && is_id(id);
            if !(letters || numbered) {
                break;
            }
            let end = start + len;
            out.push((id.to_ascii_uppercase(), start..end));
            i = skip_list_joiner(text, end, r.end);
            if i == end {
                break;
            }
        }
        from = from + k + "after".len();
    }
    out
}

/// Skips `,`, `&`, `and`, `, and` between two group names; returns `at` when
/// there is no joiner (the list ended).
fn skip_list_joiner(text: &str, at: usize, limit: usize) -> usize {
    let mut i = skip_ws(text, at).min(limit);
    let mut joined = false;
    if text[i..limit].starts_with([',', '&']) {
        i = skip_ws(text, i + 1).min(limit);
        joined = true;
    }
    if starts_with_ignore_case(&text[i..limit], "and ") {
        i = skip_ws(text, i + 3).min(limit);
        joined = true;
    }
    if joined { i } else { at }
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
mod tests {
    use super::*;

    fn phase(t: &str) -> Option<(Option<String>, String, Option<String>)> {
        phase_head(t).map(|p| (p.number.map(|n| n.to_string()), p.title, p.annotation))
    }

    fn n(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn phase_heading_forms() {
        let s = |x: &str| x.to_string();
        assert_eq!(
            phase("Phase 1: Foundation Layer"),
            Some((n("1"), s("Foundation Layer"), None))
        );
        assert_eq!(
            phase("Phase 2 (Parallel)"),
            Some((n("2"), s(""), Some(s("Parallel"))))
        );
        assert_eq!(phase("Phase 3 — Polish"), Some((n("3"), s("Polish"), None)));
        assert_eq!(
            phase("Phase 3 – Polish ✅"),
            Some((n("3"), s("Polish"), None))
        );
        assert_eq!(
            phase("phase 4 - X (after 3)"),
            Some((n("4"), s("X"), Some(s("after 3"))))
        );
        assert_eq!(phase("**Phase 5**: Bold"), Some((n("5"), s("Bold"), None)));
        assert_eq!(phase("Phase 6"), Some((n("6"), s(""), None)));
        assert_eq!(
            phase("Phase 1 (4 parallel agents max)").map(|p| p.0),
            Some(n("1"))
        );
        assert_eq!(
            phase(&format!("Phase {}: x", "9".repeat(40))).map(|p| p.0),
            Some(None)
        );
        assert_eq!(phase("Phase 1 notes"), None);
        assert_eq!(phase("Phase one: x"), None);
        assert_eq!(phase("Phases 1: x"), None);
        assert_eq!(phase("Implementation Summary"), None);
    }

    #[test]
    fn phase_words_numbers_emoji_and_status() {
        let s = |x: &str| x.to_string();
        assert_eq!(phase("Phase 4b: Extra"), Some((n("4b"), s("Extra"), None)));
        assert_eq!(
            phase("Phase 12.1 (INSERTED)"),
            Some((n("12.1"), s(""), Some(s("INSERTED"))))
        );
        assert_eq!(phase("Phase 3.1 - UI"), Some((n("3.1"), s("UI"), None)));
        assert_eq!(phase("Wave 0: Spike"), Some((n("0"), s("Spike"), None)));
        assert_eq!(phase("🎯 Phase 1: Goals"), Some((n("1"), s("Goals"), None)));
        for (word, t) in PHASE_WORDS.iter().zip(0..) {
            let h = phase_head(&format!("{} {t}: x", word.to_uppercase())).unwrap();
            assert_eq!(PHASE_WORDS[h.word], *word);
        }
        let done = |t: &str| phase_head(t).map(|h| (h.done, h.title));
        assert_eq!(
            done("Phase 1 ✅ — Done thing"),
            Some((true, s("Done thing")))
        );
        assert_eq!(done("Phase 8 ✅ COMPLETE"), Some((true, s(""))));
        assert_eq!(done("Phase 8 COMPLETE"), Some((true, s(""))));
        assert_eq!(done("✅ Phase 2: Shipped"), Some((true, s("Shipped"))));
        assert_eq!(done("Phase 2: Auth (Done)"), Some((true, s("Auth"))));
        assert_eq!(
            done("Phase 2: Auth — COMPLETE"),
            Some((true, s("Auth — COMPLETE")))
        );
        assert_eq!(
            done("Phase 2: Auth (in progress)"),
            Some((false, s("Auth")))
        );
        assert_eq!(done("Phase 2: Auth 🔶"), Some((false, s("Auth 🔶"))));
        assert_eq!(
            done("Phase 2: Done criteria"),
            Some((false, s("Done criteria")))
        );
        assert_eq!(done("Phase 1 Complete When:"), None);
        assert_eq!(phase_like("## Phase 1 Foundation"), None);
        assert_eq!(phase_like("Phase 1 Foundation"), Some((0, 0..7)));
        assert_eq!(phase_like("🎯 Stage 2 build"), Some((1, 5..12)));
        assert_eq!(phase_like("Phase 1: Foundation"), None);
        assert_eq!(phase_like("Phase one"), None);
    }

    #[test]
    fn group_heading_forms() {
        let g = group_head("Group B (Parallel, after A)").unwrap_or_else(|| panic!("group"));
        assert_eq!(g.id, "B");
        assert_eq!(g.id_span, 6..7);
        assert_eq!(g.title, "");
        assert_eq!(g.annotation.as_deref(), Some("Parallel, after A"));
        assert_eq!(g.after, vec![("A".to_string(), 25..26)]);

        let g =
            group_head("Group AC: Database (after A and AB, C & D)").unwrap_or_else(|| panic!());
        assert_eq!((g.id.as_str(), g.title.as_str()), ("AC", "Database"));
        let names: Vec<_> = g.after.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(names, ["A", "AB", "C", "D"]);

        let g = group_head("Group C — Auth").unwrap_or_else(|| panic!());
        assert_eq!((g.title.as_str(), g.annotation), ("Auth", None));
        let g = group_head("Group D - X").unwrap_or_else(|| panic!());
        assert_eq!(g.title, "X");
        let g = group_head("Group E (after Phase 1) Extra").unwrap_or_else(|| panic!());
        assert_eq!(g.title, "Extra");
        assert!(g.after.is_empty());
        assert!(group_head("Group A").is_some());
        assert!(group_head("Group Sessions").is_none());
        assert!(group_head("Group a: x").is_none());
        assert!(group_head("Group A notes").is_none());
        assert!(group_head("Grouping A: x").is_none());
        assert!(group_head("Agent Assignment Recommendations").is_none());
    }

    #[test]
    fn group_words_and_ids() {
        let id = |t: &str| group_head(t).map(|g| g.id);
        assert_eq!(id("Group 1: Setup"), n("1"));
        assert_eq!(id("Track A: Backend"), n("A"));
        assert_eq!(id("🚀 Stream w2 — UI"), n("W2"));
        assert_eq!(id("Workstream 2.1"), n("2.1"));
        assert_eq!(id("BATCH 3 (after 2)"), n("3"));
        assert_eq!(id("Lane B"), n("B"));
        assert_eq!(id("Agent 2: Auth"), n("2"));
        let g = group_head("Track C (after W2.1, Group B and t003)").unwrap();
        let names: Vec<_> = g.after.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(names, ["W2.1", "B", "T003"]);
        let g = group_head("Track D (after the schema is done)").unwrap();
        assert!(g.after.is_empty());
    }

    fn task(t: &str) -> Option<(String, String, bool)> {
        task_ctx(t, HeadCtx::Item)
    }

    fn task_ctx(t: &str, ctx: HeadCtx) -> Option<(String, String, bool)> {
        task_head(t, ctx).map(|h| {
            let id = h.id.map_or(String::new(), |i| t[i.value].to_string());
            (id, h.title, h.done)
        })
    }

    #[test]
    fn task_head_forms() {
        let s = |x: &str| x.to_string();
        let want = Some((s("A1"), s("Title"), false));
        for t in [
            "**A1: Title**",
            "**A1**: Title",
            "A1: Title",
            "A1 — Title",
            "A1 – Title",
            "A1 - Title",
            "A1 Title",
            "*A1: Title*",
            "__A1: Title__",
            "A1: `Title`",
        ] {
            assert_eq!(task(t), want, "{t}");
        }
        assert_eq!(task("[x] A1: Title"), Some((s("A1"), s("Title"), true)));
        assert_eq!(task("A1: Title ✅"), Some((s("A1"), s("Title"), true)));
        assert_eq!(
            task("**A1: Title** ✅\u{fe0f}"),
            Some((s("A1"), s("Title"), true))
        );
        assert_eq!(task("AA12"), Some((s("AA12"), s(""), false)));
        assert_eq!(task("**B3**"), Some((s("B3"), s(""), false)));
        assert_eq!(
            task("**A1: Database Schema & Infrastructure**"),
            Some((s("A1"), s("Database Schema & Infrastructure"), false))
        );
        for t in [
            "**A**",
            "A1, A2",
            "a1: x",
            "ABCD1: x",
            "✅ Users",
            "Task force 3",
            "2 cups of flour",
            "",
        ] {
            assert_eq!(task(t), None, "{t}");
        }
    }

    #[test]
    fn task_id_forms() {
        let s = |x: &str| x.to_string();
        let cases = [
            ("W2.1: Wire it", "W2.1", "Wire it"),
            ("A1.5 x", "A1.5", "x"),
            ("T001 Create package", "T001", "Create package"),
            ("1.1: Sub", "1.1", "Sub"),
            ("01-01: Plan", "01-01", "Plan"),
            (
                "12.1-01-PLAN.md — CTR crypto",
                "12.1-01-PLAN.md",
                "CTR crypto",
            ),
            ("Task 3: Remove bot", "3", "Remove bot"),
            ("Item 1.1: Sub item", "1.1", "Sub item"),
            ("Agent 2: Auth", "2", "Auth"),
            ("~~A3: Old~~", "A3", "Old"),
        ];
        for (text, id, title) in cases {
            let got = task(text).map(|(i, t, _)| (i, t));
            assert_eq!(got, Some((s(id), s(title))), "{text}");
        }
        assert!(task("~~A3: Old~~").unwrap().2, "strikethrough is done");
        // A bare number is an id only where the context says so.
        assert_eq!(task("1.1 Sub"), None);
        let c = |t| task_ctx(t, HeadCtx::Checklist);
        assert_eq!(c("1.1 Add vars"), Some((s("1.1"), s("Add vars"), false)));
        assert_eq!(
            c("1. Refactor module"),
            Some((s("1"), s("Refactor module"), false))
        );
        assert_eq!(
            c("Write the docs"),
            Some((s(""), s("Write the docs"), false))
        );
        let h = task_head("T003 [P] [US1] Create tests/", HeadCtx::Checklist).unwrap();
        assert!(h.parallel);
        assert_eq!(h.title, "Create tests/");
        let text = "[ ]* 1.3 Write property test";
        let h = task_head(text, HeadCtx::Item).unwrap();
        assert!(h.optional && !h.done);
        assert_eq!(h.checkbox, Some(0..3));
        assert_eq!(h.id.map(|i| &text[i.value]), Some("1.3"));
    }

    #[test]
    fn dialect_marks() {
        assert!(is_task_word_heading("Task 1: Delete bot directory"));
        assert!(!is_task_word_heading("Tasks"));
        assert!(!is_task_word_heading("A1: Schema"));
        let (h, _) = bold_phase_item("**Phase 12.1: AES-CTR** - streaming (INSERTED)").unwrap();
        assert_eq!(h.number.map(|n| n.to_string()), n("12.1"));
        assert_eq!(h.title, "AES-CTR");
        assert_eq!(h.annotation.as_deref(), Some("INSERTED"));
        assert!(bold_phase_item("Milestone 1: MVP").is_none());
        assert!(is_numbered_item("1. Refactor"));
        assert!(!is_numbered_item("1.1 Refactor"));
        assert!(is_speckit_item("T001 Create"));
        assert!(!is_speckit_item("T1 Create"));
        assert!(is_done_status_line("**Status:** complete (merged)"));
        assert!(!is_done_status_line("**Status:** pending"));
        assert!(is_done_status("✅ Done") && is_done_status("Complete"));
        assert!(!is_done_status("🔶 Partial") && !is_done_status("in progress"));
        assert!(!is_done_status("Not done"));
    }

    #[test]
    fn titles_are_what_a_reader_sees() {
        let s = |x: &str| x.to_string();
        let t = |text: &str| task(text).map(|(id, title, _)| (id, title));
        assert_eq!(
            t("**A1: Schema** (stretch)"),
            Some((s("A1"), s("Schema (stretch)")))
        );
        assert_eq!(
            t("**A2**: add a *fast* path"),
            Some((s("A2"), s("add a fast path")))
        );
        assert_eq!(t("A3: **Bold** ✅"), Some((s("A3"), s("Bold"))));
        let p = phase_head("Phase 2: *Polish* **now**").unwrap();
        assert_eq!(p.title, "Polish now");
        let g = group_head("Group B: __Docs__ (after A)").unwrap();
        assert_eq!(
            (g.title.as_str(), g.annotation.as_deref()),
            ("Docs", Some("after A"))
        );
        assert_eq!(clean_title("**Title ✅**"), (s("Title"), true));
        assert_eq!(clean_title("`cargo test`"), (s("cargo test"), false));
    }

    #[test]
    fn titles_that_say_done() {
        assert!(title_says_done("Schema (DONE)"));
        assert!(title_says_done("Schema — COMPLETE"));
        assert!(!title_says_done("Schema (in progress)"));
        assert!(!title_says_done("Done criteria"));
        assert!(!title_says_done("Mark tasks complete"));
    }

    #[test]
    fn phase_notes_paragraphs() {
        assert!(is_phase_notes("**Phase 1 Deliverables:**"));
        assert!(is_phase_notes("**Deliverables**: all of it"));
        assert!(!is_phase_notes("**Note:** phase later"));
        assert!(!is_phase_notes("Phase 1 Deliverables"));
    }
}
