//! `status/pending_tasks.txt`: the groups not yet complete, in run order,
//! with the task ids still to run.

use crate::roadmap::GroupKey;
use crate::status::{StatusDir, StatusError};

pub const PENDING_FILE: &str = "pending_tasks.txt";

pub const PENDING_HEADER: &str =
    "# roadmap-runner: groups not yet complete, in run order (rewritten as groups complete)";

/// Rewrites `pending_tasks.txt`: every group not yet complete, in run order,
/// with the task ids still to run.
pub fn write_pending(
    status: &StatusDir,
    groups: &[(GroupKey, Vec<String>)],
) -> Result<(), StatusError> {
    status.write(PENDING_FILE, render_pending(groups).as_bytes())
}

pub fn render_pending(groups: &[(GroupKey, Vec<String>)]) -> String {
    let mut out = format!("{PENDING_HEADER}\n");
    for (key, tasks) in groups {
        out.push_str(&key.to_string());
        for t in tasks {
            out.push(' ');
            out.push_str(t);
        }
        out.push('\n');
    }
    out
}

/// Reads `pending_tasks.txt`'s text, skipping lines it cannot read.
pub fn parse_pending(text: &str) -> Vec<(GroupKey, Vec<String>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let mut words = line.split_whitespace();
            let key = GroupKey::parse_status(words.next()?)?;
            Some((key, words.map(str::to_string).collect()))
        })
        .collect()
}
