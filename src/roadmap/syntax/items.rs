//! Which dialect's line an item or paragraph is: `Task 3:` headings, GSD's bold
//! phase items, Kiro's numbered items, spec-kit's `T001`, phase notes.

use super::title::matching_open;
use super::{
    HeadCtx, PHASE_WORDS, PhaseHead, TASK_WORDS, id_token, keyword_of, phase_head, skip_lead,
};
use crate::roadmap::scan::{contains_ignore_case, count, starts_with_ignore_case};

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
