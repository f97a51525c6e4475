//! The one decision of what a run does next: a pure function from the
//! roadmap, the loaded [`RunState`] and the selection to a list of typed
//! actions. `run`, `--dry-run`, `status` and the dirty-tree check all read
//! this list, so they cannot disagree; every crash window is a unit test of
//! this function over a constructed state (see the tests below).

mod commit;
mod groups;

use super::state::RunState;
use crate::plan::{GroupState, Selection};
use crate::roadmap::{Group, GroupKey, Phase, Roadmap, Task};
use crate::status::{group_passed_gate, group_started};
use crate::vcs::LeftOut;
use commit::owed_commit;
use groups::{phase_complete, phase_groups, unreadable};

/// What the caller allows the run to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub commit: bool,
    pub push: bool,
    /// `--rerun-tasks`: agents run again where only the gate failed.
    pub rerun_tasks: bool,
    /// `--allow-dirty`: what the user changed is taken into the phase commit.
    pub allow_dirty: bool,
}

/// What happens to one group.
#[derive(Debug, Clone)]
pub enum GroupStep<'a> {
    /// Run these tasks' agents, then the gate. `succeeded` ran earlier;
    /// `restart` forgets earlier attempts first (the group's line was
    /// removed from `completed_tasks.txt` by hand after it completed).
    Run {
        tasks: Vec<&'a Task>,
        succeeded: Vec<String>,
        /// Tasks whose latest attempt split them: their sub-roadmap (decided
        /// by [`decide_sub`]) goes on in their place, no agent starts.
        split: Vec<String>,
        restart: bool,
    },
    /// Every task succeeded earlier; only the gate runs.
    GateOnly,
    /// The gate passed but the run stopped before the group was recorded
    /// complete: record it now, nothing runs.
    RecordComplete,
    /// Every task is marked done in the roadmap itself: recorded complete,
    /// nothing runs.
    DoneInRoadmap,
}

/// A group the run visits, and what it does there.
#[derive(Debug, Clone)]
pub struct GroupAction<'a> {
    pub phase: &'a Phase,
    pub group: &'a Group,
    pub key: GroupKey,
    pub step: GroupStep<'a>,
    /// Only part of the group runs (`--task`): the group is not completed by it.
    pub partial: bool,
}

impl GroupAction<'_> {
    /// The tasks whose agents start.
    pub fn tasks(&self) -> &[&Task] {
        match &self.step {
            GroupStep::Run { tasks, .. } => tasks,
            _ => &[],
        }
    }

    /// Whether the group's gate runs.
    pub fn runs_gate(&self) -> bool {
        !self.partial && matches!(self.step, GroupStep::Run { .. } | GroupStep::GateOnly)
    }
}

/// One step of the run, in the order they happen.
#[derive(Debug, Clone)]
pub enum Action<'a> {
    /// Commit a complete phase that has no commit since its completion.
    /// `leftover`: it was complete before this run (a failed or interrupted
    /// commit), so it is committed on its own before any new work.
    CommitPhase {
        phase: &'a Phase,
        leftover: bool,
    },
    /// Push the branch: earlier phase commits are not on the remote yet.
    Push,
    Group(GroupAction<'a>),
    /// The run cannot go past this phase (it has no tasks yet).
    Stop {
        phase: &'a Phase,
        reason: String,
    },
}

/// The run's actions, in order.
#[derive(Debug, Clone, Default)]
pub struct Decision<'a> {
    pub actions: Vec<Action<'a>>,
    /// What the user changed since the runner last held the tree, in a
    /// phase that has begun: kept out of every snapshot and commit of the run.
    pub left_out: Option<LeftOut>,
    /// Groups complete without having run (marked complete by hand), by
    /// phase: their phase commit says so.
    pub hand_skipped: Vec<GroupKey>,
}

impl<'a> Decision<'a> {
    pub fn groups(&self) -> impl Iterator<Item = &GroupAction<'a>> {
        self.actions.iter().filter_map(|a| match a {
            Action::Group(g) => Some(g),
            _ => None,
        })
    }

    /// The first action that does something, for `status`'s "Next:".
    pub fn next(&self) -> Option<&Action<'a>> {
        self.actions.first()
    }

    /// The phase whose first group starts afresh: its commit would sweep in
    /// whatever the tree holds, so the tree must be clean. `None` when the
    /// first work resumes a started phase or commits a finished one.
    pub fn fresh_phase(&self, state: &RunState) -> Option<&'a Phase> {
        // A push of earlier commits changes nothing in the tree.
        let first = self.actions.iter().find(|a| !matches!(a, Action::Push))?;
        match first {
            Action::Group(g) if !phase_started(state, g.phase) => Some(g.phase),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

/// The state of one group, as `status` shows it.
pub fn group_state(state: &RunState, key: &GroupKey, phase: &Phase, group: &Group) -> GroupState {
    crate::plan::group_state(key, phase, group, &state.completed)
}

/// Decides the run. A push of what earlier runs committed comes first, then
/// earlier phases' owed commits, then the selected groups in roadmap order,
/// each phase followed by its commit once all its groups are complete.
pub fn decide<'a>(
    roadmap: &'a Roadmap,
    state: &RunState,
    selection: &Selection,
    opts: Options,
) -> Decision<'a> {
    let mut actions = Vec::new();
    if opts.push && state.git.as_ref().is_some_and(|g| g.unpushed > 0) {
        actions.push(Action::Push);
    }
    for phase in &roadmap.phases {
        if phase_complete(state, phase, &[]) {
            actions.extend(owed_commit(state, phase, opts, true));
        }
    }
    for phase in &roadmap.phases {
        let planned = phase_groups(state, phase, selection, opts);
        if phase_complete(state, phase, &[]) {
            // Its commit, if owed, came first; groups done in the roadmap
            // are still recorded complete.
            actions.extend(planned.into_iter().map(Action::Group));
            continue;
        }
        if let Some(reason) = unreadable(phase, &planned, selection) {
            actions.push(Action::Stop { phase, reason });
            break;
        }
        let completes = phase_complete(state, phase, &planned);
        actions.extend(planned.into_iter().map(Action::Group));
        if completes {
            actions.extend(owed_commit(state, phase, opts, false));
        }
    }
    let mut decision = Decision {
        actions,
        left_out: None,
        hand_skipped: hand_skipped(roadmap, state),
    };
    decision.left_out = users_changes(state, opts, &decision);
    decision
}

/// The run's decision for the selection as given: [`decide`] over the
/// roadmap, then for each sub-roadmap the selection names a group or task
/// of (`--task 1:A:A2/1:B:B1`, `--group 1:A:A2/1:B`, see
/// [`Selection::scopes`]) the same decision over it, its groups only: the
/// commits and pushes are the roadmap's.
pub fn decide_selected<'a>(
    roadmap: &'a Roadmap,
    state: &RunState,
    selection: &'a Selection,
    opts: Options,
) -> Decision<'a> {
    let mut decision = decide(roadmap, state, selection, opts);
    if selection.scopes.is_empty() {
        return decision;
    }
    for sub in &selection.scopes {
        let groups = decide(sub, state, selection, opts).actions.into_iter();
        decision
            .actions
            .extend(groups.filter(|a| matches!(a, Action::Group(_) | Action::Stop { .. })));
    }
    decision.left_out = users_changes(state, opts, &decision);
    decision
}

/// What is left of a task's sub-roadmap (its groups keyed in the task's
/// scope, see [`crate::roadmap::is_scoped_group`]): the same decision over
/// the same records, with no commit or push of its own (the sub-roadmap's
/// work goes into the parent's phase commit).
pub fn decide_sub<'a>(sub: &'a Roadmap, state: &RunState) -> Decision<'a> {
    let opts = Options {
        commit: false,
        push: false,
        rerun_tasks: false,
        allow_dirty: true,
    };
    let mut decision = decide(sub, state, &Selection::default(), opts);
    // Its phases are the parent's: committed with it, never alone.
    decision
        .actions
        .retain(|a| matches!(a, Action::Group(_) | Action::Stop { .. }));
    decision.hand_skipped.clear();
    decision
}

/// The user's changes since the runner last held the tree (its latest
/// snapshot), when the run works in a phase that has begun. After a
/// group's end, everything changed since is the user's; after a start
/// without an end (the run was killed), what changed since is the killed
/// group's, except the user's changes that start left out, as long as
/// they hold what they held then. With `--allow-dirty` nothing is left out,
/// nor in a fresh phase (its tree passed the dirty-tree check).
fn users_changes(state: &RunState, opts: Options, decision: &Decision<'_>) -> Option<LeftOut> {
    if !opts.commit || opts.allow_dirty || decision.fresh_phase(state).is_some() {
        return None;
    }
    let works = decision
        .actions
        .iter()
        .any(|a| matches!(a, Action::Group(_) | Action::CommitPhase { .. }));
    let line = state.git.as_ref()?.line.as_ref().filter(|_| works)?;
    let paths: std::collections::BTreeMap<String, String> = if line.ended {
        line.changed.clone()
    } else {
        line.left_out
            .iter()
            .filter(|(p, found)| line.changed.get(*p) == Some(*found))
            .map(|(p, found)| (p.clone(), found.clone()))
            .collect()
    };
    (!paths.is_empty()).then(|| LeftOut {
        line: line.tree.clone(),
        paths,
    })
}

/// The groups `completed_tasks.txt` holds that never got past their gate
/// (nor are done in the roadmap): marked complete by hand.
fn hand_skipped(roadmap: &Roadmap, state: &RunState) -> Vec<GroupKey> {
    roadmap
        .groups()
        .filter(|(p, g)| {
            let key = g.key(p);
            let ids: Vec<String> = g
                .tasks
                .iter()
                .filter(|t| !t.done_in_roadmap && !t.optional)
                .map(|t| t.id.clone())
                .collect();
            state.completed.contains(&key)
                && !ids.is_empty()
                && !group_passed_gate(&state.records, &key, &ids)
        })
        .map(|(p, g)| g.key(p))
        .collect()
}

/// A phase has begun when any of its groups is complete or has records
/// (a `start` is written before its first agent), or a dead run was in it.
pub fn phase_started(state: &RunState, phase: &Phase) -> bool {
    let interrupted_here = state
        .interrupted
        .as_ref()
        .and_then(|ip| ip.group.as_ref())
        .is_some_and(|g| g.key.phase == phase.number);
    interrupted_here
        || phase.groups.iter().any(|g| {
            let key = g.key(phase);
            state.completed.contains(&key) || group_started(&state.records, &key)
        })
}

/// One unit test per crash window: each builds the state a run killed at
/// that moment leaves and checks what the next run does.
#[cfg(test)]
mod tests;

/// The decision over split tasks and their sub-roadmaps.
#[cfg(test)]
mod split_tests;
