//! The one mapping of roadmap ids (untrusted text) to names safe in file
//! names, git ref names and directory names.
//!
//! Letters, digits and `-`/`.` are kept where they are safe; every other
//! byte, a leading `-` or `.`, a `.` after a `.`, a trailing `.` and the `.`
//! of a `.lock` ending become `+XX` (hex). `+` itself is always encoded, so
//! the mapping is injective: two ids never share a slug.

/// A safe, stable, collision-free name for `id`: no `/`, no `..`, no leading
/// `-` or `.`, no control characters, nothing `git check-ref-format` rejects.
pub fn slug(id: &str) -> String {
    let bytes = id.as_bytes();
    let lock_dot = id.len().checked_sub(5).filter(|_| id.ends_with(".lock"));
    let mut out = String::with_capacity(id.len());
    for (i, &b) in bytes.iter().enumerate() {
        let keep = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
            b'-' => i > 0,
            b'.' => i > 0 && bytes[i - 1] != b'.' && i + 1 < bytes.len() && Some(i) != lock_dot,
            _ => false,
        };
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push('+');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::slug;
    use std::collections::HashSet;

    /// What `git check-ref-format` rejects in one component, and more.
    fn is_safe(s: &str) -> bool {
        !s.is_empty()
            && !s.contains("..")
            && !s.contains('/')
            && !s.contains("@{")
            && !s.starts_with(['-', '.'])
            && !s.ends_with('.')
            && !s.ends_with(".lock")
            && s.bytes().all(|b| b.is_ascii_graphic())
            && !s.contains(['~', '^', ':', '?', '*', '[', '\\', ' '])
    }

    #[test]
    fn plain_ids_stay_as_they_are() {
        for id in ["A1", "T001", "12.1-01-PLAN.md", "W2.1", "01-01"] {
            assert_eq!(slug(id), id);
        }
    }

    #[test]
    fn hostile_ids_become_safe_and_distinct() {
        let hostile = [
            "../../etc/passwd",
            "-rf",
            ".hidden",
            "a..b",
            "a/b",
            "a b",
            "x.lock",
            "end.",
            "new\nline",
            "tab\there",
            "@{u}",
            "a~1^2:3?*[\\",
            "é",
            "",
            "+",
            "+2B",
            "a_b",
            "a+5Fb",
            "HEAD",
            "\u{202e}rtl",
        ];
        let mut seen = HashSet::new();
        for id in hostile {
            let s = slug(id);
            assert!(is_safe(&s), "{id:?} -> {s:?}");
            assert!(seen.insert(s.clone()), "{id:?} collides as {s:?}");
        }
    }

    #[test]
    fn slugs_are_injective_over_many_ids() {
        let alphabet = ['a', '.', '-', '+', '_', '/', '0'];
        let mut seen = std::collections::HashMap::new();
        for n in 0..(7usize.pow(4)) {
            let mut id = String::new();
            let mut k = n;
            for _ in 0..4 {
                id.push(alphabet[k % 7]);
                k /= 7;
            }
            let s = slug(&id);
            assert!(is_safe(&s), "{id:?} -> {s:?}");
            if let Some(other) = seen.insert(s.clone(), id.clone()) {
                panic!("{id:?} and {other:?} both become {s:?}");
            }
        }
    }
}
