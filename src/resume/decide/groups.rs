//! Which groups of a phase the run visits, and what each needs from its
//! records.

use super::{GroupAction, GroupStep, Options, RunState, group_state};
use crate::agent::TaskOutcome;
use crate::plan::{GroupState, Selection};
use crate::roadmap::{Group, GroupKey, Phase, Task};
use crate::status::{ResumeState, group_resume_state, latest_task_outcomes};

/// Why the run cannot go into `phase`: it has no tasks yet, or a group to
/// run has none the parser could read. Such a group is never "completed".
pub(super) fn unreadable(
    phase: &Phase,
    planned: &[GroupAction<'_>],
    selection: &Selection,
) -> Option<String> {
    let named = selection.is_everything() || selection.includes_phase(&phase.number);
    if phase.groups.is_empty() && !phase.done_in_roadmap && named {
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
pub(super) fn phase_groups<'a>(
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
        let step = match (only, group_state(state, &key, phase, group)) {
            // A single task named explicitly runs even if its group is complete.
            (Some(id), _) => GroupStep::Run {
                tasks: group.tasks.iter().filter(|t| t.id == id).collect(),
                succeeded: Vec::new(),
                split: Vec::new(),
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
    let runnable: Vec<&Task> = group
        .tasks
        .iter()
        .filter(|t| !t.done_in_roadmap && !t.optional)
        .collect();
    let ids: Vec<String> = runnable.iter().map(|t| t.id.clone()).collect();
    let all = |restart| GroupStep::Run {
        tasks: runnable.clone(),
        succeeded: Vec::new(),
        split: Vec::new(),
        restart,
    };
    match group_resume_state(&state.records, key, &ids) {
        _ if opts.rerun_tasks => all(false),
        ResumeState::Fresh => all(false),
        ResumeState::RerunFailed { succeeded, to_run } => {
            // A task that split goes on with its sub-roadmap, not its agent.
            let latest = latest_task_outcomes(&state.records, key);
            let (split, to_run): (Vec<String>, Vec<String>) = to_run.into_iter().partition(|id| {
                latest
                    .get(id)
                    .is_some_and(|t| matches!(t.outcome, TaskOutcome::Split { .. }))
            });
            GroupStep::Run {
                tasks: runnable
                    .iter()
                    .copied()
                    .filter(|t| to_run.contains(&t.id))
                    .collect(),
                succeeded,
                split,
                restart: false,
            }
        }
        ResumeState::GateOnly => GroupStep::GateOnly,
        ResumeState::GatePassed => GroupStep::RecordComplete,
        // Completed once, yet not in completed_tasks.txt: the line was removed
        // by hand to run the group again.
        ResumeState::Recorded => all(true),
    }
}

/// Whether every group of the phase is complete, or becomes complete through
/// one of `planned` (a whole-group action, not a `--task`).
pub(super) fn phase_complete(state: &RunState, phase: &Phase, planned: &[GroupAction<'_>]) -> bool {
    if phase.groups.is_empty() {
        return phase.done_in_roadmap;
    }
    phase.groups.iter().all(|g| {
        let key = g.key(phase);
        group_state(state, &key, phase, g) != GroupState::Pending
            || planned.iter().any(|p| p.key == key && !p.partial)
    })
}
