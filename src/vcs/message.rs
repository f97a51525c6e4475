//! The runner's commit messages: the phase commit's text and the trailers
//! that tell the runner's commits from the user's own.

use crate::roadmap::model::Phase;

/// The commit trailer that marks a phase commit.
pub const PHASE_TRAILER: &str = "Roadmap-Phase";

/// The commit trailer of the runner's other commits (a merge of a diverged
/// remote): with [`PHASE_TRAILER`], what tells the runner's commits from the
/// user's own.
pub const RUNNER_TRAILER: &str = "Roadmap-Runner";

/// The value of the `Roadmap-Phase` trailer of a commit message, if any.
pub fn phase_of_message(message: &str) -> Option<String> {
    trailer(message, PHASE_TRAILER)
}

/// Whether roadmap-runner made the commit with this message.
pub fn made_by_runner(message: &str) -> bool {
    trailer(message, PHASE_TRAILER).is_some() || trailer(message, RUNNER_TRAILER).is_some()
}

fn trailer(message: &str, key: &str) -> Option<String> {
    let trailers = git2::message_trailers_strs(message).ok()?;
    trailers
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
}

/// The commit message of a finished phase:
///
/// ```text
/// Complete Phase 1: Foundation Layer
///
/// Group A: Database (Parallel)
/// - A1: Schema
/// - A2: Migrations
///
/// Roadmap-Phase: 1
/// ```
pub fn commit_message(phase: &Phase) -> String {
    phase_commit_message(phase, &[])
}

/// [`commit_message`], with the groups of `skipped` (group ids) marked as
/// skipped by hand: they are complete without having run.
pub fn phase_commit_message(phase: &Phase, skipped: &[String]) -> String {
    let mut msg = format!("Complete Phase {}", phase.number);
    let title = crate::text::squash_whitespace(&phase.title);
    if !title.is_empty() {
        msg.push_str(": ");
        msg.push_str(&title);
    }
    msg.push_str("\n\n");
    for group in &phase.groups {
        msg.push_str(&crate::text::squash_whitespace(&group.label()));
        if let Some(a) = group
            .annotation
            .as_deref()
            .map(crate::text::squash_whitespace)
            && !a.is_empty()
        {
            msg.push_str(&format!(" ({a})"));
        }
        if skipped.contains(&group.id) {
            msg.push_str(" [skipped by hand: not run]");
        }
        msg.push('\n');
        for task in &group.tasks {
            msg.push_str(&format!(
                "- {}: {}\n",
                task.id,
                crate::text::squash_whitespace(&task.title)
            ));
        }
        msg.push('\n');
    }
    msg.push_str(&format!("{PHASE_TRAILER}: {}\n", phase.number));
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_parsing() {
        assert_eq!(
            phase_of_message("Complete Phase 2\n\nbody\n\nRoadmap-Phase: 2\n").as_deref(),
            Some("2")
        );
        assert_eq!(phase_of_message("Roadmap-Phase: 2"), None);
        assert_eq!(
            phase_of_message("x\n\nroadmap-phase:  7\nCo-authored-by: a <b@c>\n").as_deref(),
            Some("7")
        );
    }
}
