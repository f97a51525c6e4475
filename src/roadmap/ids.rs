//! Ids the readers derive: for a task the roadmap gave none, and a free
//! variant of a taken one (the table parser and the outline reader alike).

use super::model::is_id;

/// The id of a task the roadmap gave none: `t` and 6 hex digits of its
/// title's hash, `-2`, `-3` when `taken` already has it (every reading
/// derives ids this one way, so a document converted keeps its ids).
pub(crate) fn derived_id(title: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = format!("t{:06x}", title_hash(title) & 0xff_ffff);
    unique(&base, taken)
}

/// `base` if free, else the first free `base-N`; always an id.
pub(crate) fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let base: String = base.chars().take(56).collect();
    if !taken(&base) && is_id(&base) {
        return base;
    }
    (2u32..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or(base)
}

/// FNV-1a over the title's words, lowercased: spacing and case changes
/// keep the id.
fn title_hash(title: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for word in title.split_whitespace() {
        for b in word.bytes().map(|b| b.to_ascii_lowercase()).chain([b' ']) {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_depend_on_the_title_only() {
        assert_eq!(title_hash("Add  login"), title_hash("add login"));
        assert_ne!(title_hash("Add login"), title_hash("Add logout"));
        assert_eq!(unique("t1", |id| id == "t1"), "t1-2");
        assert!(is_id(&unique(&"x".repeat(80), |_| false)));
    }
}
