//! The one decision of what a run does next: a pure function from the
//! roadmap, the loaded [`RunState`] and the selection to a list of typed
//! actions. `run`, `--dry-run`, `status` and the dirty-tree check all read
//! this list, so they cannot disagree; every crash window is a unit test of
//! this function over a constructed state (see the tests below).

use super::state::RunState;
use crate::plan::{GroupState, Selection};
use crate::roadmap::{Group, GroupKey, Phase, Roadmap, Task};
use crate::status::{CommitState, ResumeState, group_resume_state, group_started};

/// What the caller allows the run to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub commit: bool,
    pub push: bool,
    /// `--rerun-tasks`: agents run again where only the gate failed.
    pub rerun_tasks: bool,
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
        match self.actions.first()? {
            Action::Group(g) if !phase_started(state, g.phase) => Some(g.phase),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

/// The state of one group, as `status` shows it.
pub fn group_state(state: &RunState, key: &GroupKey, group: &Group) -> GroupState {
    crate::plan::group_state(key, group, &state.completed)
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
    Decision { actions }
}

/// Why the run cannot go into `phase`: it has no tasks yet, or a group to
/// run has none the parser could read. Such a group is never "completed".
fn unreadable(phase: &Phase, planned: &[GroupAction<'_>], selection: &Selection) -> Option<String> {
    if phase.groups.is_empty()
        && (selection.is_everything() || selection.includes_phase(&phase.number))
    {
        return Some(format!(
            "Phase {} has no tasks yet: add its tasks to the roadmap (task items under the phase heading, or groups of them), then run again",
            phase.number
        ));
    }
    let group = planned.iter().find(|g| g.group.tasks.is_empty())?;
    Some(format!(
        "Phase {} Group {} has no task the runner could read: write its tasks as list items, table rows or headings with ids (see the README's roadmap format), then run again",
        phase.number, group.key.group
    ))
}

/// The selected groups of `phase` that are not complete, with their steps.
fn phase_groups<'a>(
    state: &RunState,
    phase: &'a Phase,
    selection: &Selection,
    opts: Options,
) -> Vec<GroupAction<'a>> {
    let mut out = Vec::new();
    for group in &phase.groups {
        let key = group.key(phase);
        if !selection.includes(&key) {
            continue;
        }
        let only = selection.task.as_ref().map(|(_, id)| id.as_str());
        let step = match (only, group_state(state, &key, group)) {
            // A single task named explicitly runs even if its group is complete.
            (Some(id), _) => GroupStep::Run {
                tasks: group.tasks.iter().filter(|t| t.id == id).collect(),
                succeeded: Vec::new(),
                restart: false,
            },
            (None, GroupState::Completed) => continue,
            (None, GroupState::DoneInRoadmap) => GroupStep::DoneInRoadmap,
            (None, GroupState::Pending) => group_step(state, &key, group, opts),
        };
        out.push(GroupAction {
            phase,
            group,
            key,
            step,
            partial: only.is_some(),
        });
    }
    out
}

/// What a pending group needs, from its records.
fn group_step<'a>(
    state: &RunState,
    key: &GroupKey,
    group: &'a Group,
    opts: Options,
) -> GroupStep<'a> {
    let runnable: Vec<&Task> = group.tasks.iter().filter(|t| !t.done_in_roadmap).collect();
    let ids: Vec<String> = runnable.iter().map(|t| t.id.clone()).collect();
    let all = |restart| GroupStep::Run {
        tasks: runnable.clone(),
        succeeded: Vec::new(),
        restart,
    };
    match group_resume_state(&state.records, key, &ids) {
        _ if opts.rerun_tasks => all(false),
        ResumeState::Fresh => all(false),
        ResumeState::RerunFailed { succeeded, to_run } => GroupStep::Run {
            tasks: runnable
                .iter()
                .copied()
                .filter(|t| to_run.contains(&t.id))
                .collect(),
            succeeded,
            restart: false,
        },
        ResumeState::GateOnly => GroupStep::GateOnly,
        ResumeState::GatePassed => GroupStep::RecordComplete,
        // Completed once, yet not in completed_tasks.txt: the line was removed
        // by hand to run the group again.
        ResumeState::Recorded => all(true),
    }
}

/// Whether every group of the phase is complete, or becomes complete through
/// one of `planned` (a whole-group action, not a `--task`).
fn phase_complete(state: &RunState, phase: &Phase, planned: &[GroupAction<'_>]) -> bool {
    !phase.groups.is_empty()
        && phase.groups.iter().all(|g| {
            let key = g.key(phase);
            group_state(state, &key, g) != GroupState::Pending
                || planned.iter().any(|p| p.key == key && !p.partial)
        })
}

/// The commit the phase is owed, if any, once it is complete.
fn owed_commit<'a>(
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
