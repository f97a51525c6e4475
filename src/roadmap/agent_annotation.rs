//! Finding `agent: NAME` in an annotation or a task title; the name is
//! checked against the known agents by [`AgentName`](super::AgentName).

use super::scan::{find_word, skip_ws};
use std::ops::Range;

/// The name after `agent:` in an annotation (`Parallel, agent: codex`),
/// with its range; not checked against the known agents here.
pub(crate) fn agent_name(text: &str, r: Range<usize>) -> Option<(String, Range<usize>)> {
    let k = r.start + find_word(&text[r.clone()], "agent")?;
    let colon = skip_ws(text, k + "agent".len()).min(r.end);
    if !text[colon..r.end].starts_with(':') {
        return None;
    }
    let start = skip_ws(text, colon + 1).min(r.end);
    let len = text[start..r.end]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .count();
    (len > 0).then(|| (text[start..start + len].to_string(), start..start + len))
}

/// `NAME` of the first `(… agent: NAME …)` in `text` (a task title).
pub(crate) fn agent_in_parens(text: &str) -> Option<String> {
    let mut from = 0;
    while let Some(open) = text[from..].find('(').map(|i| from + i) {
        let close = text[open..].find(')').map_or(text.len(), |i| open + i);
        if let Some((name, _)) = agent_name(text, open + 1..close) {
            return Some(name);
        }
        from = open + 1;
    }
    None
}
