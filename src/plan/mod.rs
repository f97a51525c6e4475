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
    /// A sub-group or sub-task named in a scope with no sub-roadmap.
    #[error("{0}: {1}")]
    NoSubRoadmap(String, String),
    #[error("{0}: the sub-roadmap of {1} has no group {2} (it has {3})")]
    NoSubGroup(String, String, String, String),
}

/// Finds the kept sub-roadmap that holds a scoped group (`1:A:A2/1:B`),
/// its groups keyed in their scope; why not, said for the user.
pub type SubRoadmaps<'a> = dyn Fn(&GroupKey) -> Result<Roadmap, String> + 'a;

/// What the user asked to run; empty means everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub phases: Vec<(PhaseId, PhaseId)>,
    pub groups: Vec<GroupKey>,
    /// One task alone: its group and id.
    pub task: Option<(GroupKey, String)>,
    /// The sub-roadmaps holding the scoped groups named (`--task
    /// 1:A:A2/1:B:B1`, `--group 1:A:A2/1:B`), one per parent task, in the
    /// order named: decided as the roadmap is (see
    /// [`crate::resume::decide_selected`]).
    pub scopes: Vec<Roadmap>,
}

impl Selection {
    /// Checks every named phase, group and task exists in the roadmap
    /// (a scoped group, `1:A:A2/1:B`, is refused: see [`Self::with_subs`]).
    pub fn new(
        roadmap: &Roadmap,
        phases: &[(PhaseId, PhaseId)],
        groups: &[String],
        task: Option<&str>,
    ) -> Result<Selection, PlanError> {
        let none = |_: &GroupKey| Err("sub-roadmaps are not read here".to_string());
        Self::with_subs(roadmap, phases, groups, task, &none)
    }

    /// [`Self::new`], a scoped group checked in the sub-roadmap `subs` finds.
    pub fn with_subs(
        roadmap: &Roadmap,
        phases: &[(PhaseId, PhaseId)],
        groups: &[String],
        task: Option<&str>,
        subs: &SubRoadmaps<'_>,
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
        let mut scopes = Scopes::default();
        let mut keys = Vec::new();
        for g in groups {
            let key = GroupKey::parse_cli(g).ok_or_else(|| PlanError::BadGroup(g.clone()))?;
            scopes.check_group(roadmap, subs, &key, &format!("--group {g}"))?;
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
                let group = scopes.check_group(roadmap, subs, &key, &format!("--task {t}"))?;
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
            scopes: scopes.0,
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

/// The sub-roadmaps a selection's scoped groups are in, each loaded once.
#[derive(Default)]
struct Scopes(Vec<Roadmap>);

impl Scopes {
    /// The named group, in the roadmap or (scoped) in its sub-roadmap,
    /// which is kept for the decision. `flag` is how it was given.
    fn check_group<'s>(
        &'s mut self,
        roadmap: &'s Roadmap,
        subs: &SubRoadmaps<'_>,
        key: &GroupKey,
        flag: &str,
    ) -> Result<&'s Group, PlanError> {
        let given = flag.split_once(' ').map_or(flag, |(_, g)| g);
        if key.depth() == 0 {
            return check_group(roadmap, key, given).map(|(_, g)| g);
        }
        let (parent, _) = key.group.rsplit_once('/').expect("a scoped group");
        let parent = format!("{}:{parent}", key.phase);
        let at = match self.0.iter().position(|s| s.group(key).is_some()) {
            Some(at) => at,
            None => {
                let sub = subs(key).map_err(|why| PlanError::NoSubRoadmap(flag.into(), why))?;
                if sub.group(key).is_none() {
                    let ids = sub.groups().map(|(p, g)| format!("{}:{}", p.number, g.id));
                    let ids: Vec<String> = ids.collect();
                    let shown = format!("{}:{}", key.phase, key.group);
                    return Err(PlanError::NoSubGroup(
                        flag.into(),
                        parent,
                        shown,
                        ids.join(", "),
                    ));
                }
                self.0.push(sub);
                self.0.len() - 1
            }
        };
        let (_, group) = self.0[at].group(key).expect("found above");
        Ok(group)
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
