//! The commit a complete phase is owed, from its `commit` records and the
//! phase commits in git.

use super::{Action, Options, RunState};
use crate::roadmap::Phase;
use crate::status::CommitState;

/// The commit the phase is owed, if any, once it is complete.
pub(super) fn owed_commit<'a>(
    state: &RunState,
    phase: &'a Phase,
    opts: Options,
    leftover: bool,
) -> Option<Action<'a>> {
    // With commits off, a phase completed now still gets its action: the
    // runner records that no commit is owed for it.
    if !opts.commit && leftover {
        return None;
    }
    let committed = |parent: Option<&Option<String>>| {
        state.git.as_ref().is_some_and(|g| {
            g.phase_commits
                .iter()
                .any(|(p, par)| p == phase.number.as_str() && parent.is_none_or(|want| want == par))
        })
    };
    match state.commit_state(&phase.number) {
        CommitState::Skipped => None,
        // Nothing ran for it (its groups were skipped or done in the roadmap).
        CommitState::Owed { worked: false, .. } if leftover => None,
        // Committed by a version that wrote no commit records.
        CommitState::Owed {
            recorded: false, ..
        } if leftover && committed(None) => None,
        CommitState::Owed { .. } => Some(Action::CommitPhase { phase, leftover }),
        // Made, unless the commit failed (or the run died before it): the
        // commit holds its own record, and a rebase keeps it.
        CommitState::Intended { parent, index } => {
            let held = state.git.as_ref().and_then(|g| g.committed_records);
            let made = held.is_some_and(|n| n > index) || committed(Some(&parent));
            (!made).then_some(Action::CommitPhase { phase, leftover })
        }
    }
}
