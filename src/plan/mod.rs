//! The selection flags checked against the roadmap, and the state of a group
//! as `completed_tasks.txt` and the roadmap give it. What runs, in which
//! order, is decided in [`crate::resume::decide`].

pub mod order;

use crate::roadmap::{Group, GroupKey, Phase, PhaseId, Roadmap};
use crate::status::CompletedGroups;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GroupState {
    /// Listed in `completed_tasks.txt`.
    Completed,
    /// Every task is marked done in the roadmap itself.
    DoneInRoadmap,
    Pending,
}

impl GroupState {
    pub fn label(self) -> &'static str {
        match self {
            GroupState::Completed => "completed",
            GroupState::DoneInRoadmap => "done in roadmap",
            GroupState::Pending => "pending",
        }
    }
}

/// A group's state. Done in the roadmap: every task is marked done or
/// optional (Kiro's `- [ ]*`, which the runner leaves to the user), or the
/// phase heading itself is marked done (`## Phase 8 ✅ COMPLETE`).
pub fn group_state(
    key: &GroupKey,
    phase: &Phase,
    group: &Group,
    completed: &CompletedGroups,
) -> GroupState {
    let done = |t: &crate::roadmap::Task| t.done_in_roadmap || t.optional;
    if completed.contains(key) {
        GroupState::Completed
    } else if !group.tasks.is_empty() && (phase.done_in_roadmap || group.tasks.iter().all(done)) {
        GroupState::DoneInRoadmap
    } else {
        GroupState::Pending
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("--phase {0}: the roadmap has no phase {0} (it has {1})")]
    NoPhase(String, String),
    #[error("--group {0}: expected PHASE:GROUP, e.g. `1:B`")]
    BadGroup(String),
    #[error("--group {0}: the roadmap has no such group (phase {1} has {2})")]
    NoGroup(String, PhaseId, String),
    #[error("--task {0}: expected PHASE:GROUP:TASK, e.g. `1:A:A2`")]
    BadTask(String),
    #[error("--task {0}: group {1} has no task {2} (it has {3})")]
    NoTask(String, GroupKey, String, String),
}

/// What the user asked to run; empty means everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub phases: Vec<(PhaseId, PhaseId)>,
    pub groups: Vec<GroupKey>,
    /// One task alone: its group and id.
    pub task: Option<(GroupKey, String)>,
}

impl Selection {
    /// Checks every named phase, group and task exists in the roadmap.
    pub fn new(
        roadmap: &Roadmap,
        phases: &[(PhaseId, PhaseId)],
        groups: &[String],
        task: Option<&str>,
    ) -> Result<Selection, PlanError> {
        let phase_list = || {
            roadmap
                .phases
                .iter()
                .map(|p| p.number.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (a, b) in phases {
            if !roadmap.phases.iter().any(|p| (a..=b).contains(&&p.number)) {
                let shown = if a == b {
                    a.to_string()
                } else {
                    format!("{a}..{b}")
                };
                return Err(PlanError::NoPhase(shown, phase_list()));
            }
        }
        let mut keys = Vec::new();
        for g in groups {
            let key = GroupKey::parse_cli(g).ok_or_else(|| PlanError::BadGroup(g.clone()))?;
            check_group(roadmap, &key, g)?;
            keys.push(key);
        }
        let task = match task {
            None => None,
            Some(t) => {
                let (group_part, id) = t
                    .rsplit_once(':')
                    .ok_or_else(|| PlanError::BadTask(t.into()))?;
                let key =
                    GroupKey::parse_cli(group_part).ok_or_else(|| PlanError::BadTask(t.into()))?;
                let (_, group) = check_group(roadmap, &key, t)?;
                let id = id.trim();
                let Some(task) = group.tasks.iter().find(|x| x.id.eq_ignore_ascii_case(id)) else {
                    let ids = group
                        .tasks
                        .iter()
                        .map(|x| x.id.as_str())
                        .collect::<Vec<_>>();
                    let id = id.to_string();
                    return Err(PlanError::NoTask(t.into(), key, id, ids.join(", ")));
                };
                let id = task.id.clone();
                Some((key, id))
            }
        };
        Ok(Selection {
            phases: phases.to_vec(),
            groups: keys,
            task,
        })
    }

    pub fn is_everything(&self) -> bool {
        self.phases.is_empty() && self.groups.is_empty() && self.task.is_none()
    }

    /// Whether the selection names the phase (all of it, or a group or task of it).
    pub fn includes_phase(&self, phase: &PhaseId) -> bool {
        if let Some((k, _)) = &self.task {
            return &k.phase == phase;
        }
        self.phases.iter().any(|(a, b)| (a..=b).contains(&phase))
            || self.groups.iter().any(|k| &k.phase == phase)
    }

    pub fn includes(&self, key: &GroupKey) -> bool {
        if let Some((k, _)) = &self.task {
            return k == key;
        }
        let phase_ok = self.phases.is_empty()
            || self
                .phases
                .iter()
                .any(|(a, b)| (a..=b).contains(&&key.phase));
        let group_ok = self.groups.is_empty() || self.groups.contains(key);
        // `--phase 1 --group 2:B` means both, not only what both allow.
        if !self.phases.is_empty() && !self.groups.is_empty() {
            return phase_ok || group_ok;
        }
        phase_ok && group_ok
    }
}

fn check_group<'a>(
    roadmap: &'a Roadmap,
    key: &GroupKey,
    given: &str,
) -> Result<(&'a Phase, &'a Group), PlanError> {
    roadmap.group(key).ok_or_else(|| {
        let ids = roadmap
            .phase(&key.phase)
            .map(|p| {
                p.groups
                    .iter()
                    .map(|g| g.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "no such phase".into());
        PlanError::NoGroup(given.into(), key.phase.clone(), ids)
    })
}
