//! The one decision of what a run does next: a pure function from the
//! roadmap, the loaded [`RunState`] and the selection to a list of typed
//! actions. `run`, `--dry-run`, `status` and the dirty-tree check all read
//! this list, so they cannot disagree; every crash window is a unit test of
//! this function over a constructed state (see the tests below).

use super::state::RunState;
use crate::plan::{GroupState, Selection};
use crate::roadmap::{Group, GroupKey, Phase, Roadmap, Task};
use crate::status::{
    CommitState, ResumeState, group_passed_gate, group_resume_state, group_started,
};
use crate::vcs::LeftOut;

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

/// Why the run cannot go into `phase`: it has no tasks yet, or a group to
/// run has none the parser could read. Such a group is never "completed".
fn unreadable(phase: &Phase, planned: &[GroupAction<'_>], selection: &Selection) -> Option<String> {
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
        let step = match (only, group_state(state, &key, phase, group)) {
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
    let runnable: Vec<&Task> = group
        .tasks
        .iter()
        .filter(|t| !t.done_in_roadmap && !t.optional)
        .collect();
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
    if phase.groups.is_empty() {
        return phase.done_in_roadmap;
    }
    phase.groups.iter().all(|g| {
        let key = g.key(phase);
        group_state(state, &key, phase, g) != GroupState::Pending
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

/// One unit test per crash window: each builds the state a run killed at
/// that moment leaves and checks what the next run does.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentReport, TaskOutcome};
    use crate::resume::GitState;
    use crate::status::{
        CommitRecord, CompleteRecord, CompletedGroups, GateRecord, Record, ResetRecord,
        StartRecord, TaskRecord,
    };
    use chrono::Utc;

    const ROADMAP: &str = "# T\n\n## Phase 1: One\n\n### Group A\n\n- A1: a\n- A2: b\n\n\
        ### Group B\n\n- B1: c\n\n## Phase 2: Two\n\n### Group A\n\n- A3: d\n";

    fn roadmap(src: &str) -> Roadmap {
        let parsed = crate::roadmap::parse(src);
        assert!(
            !crate::roadmap::has_errors(&parsed.diagnostics),
            "{:?}",
            parsed.diagnostics
        );
        parsed.roadmap
    }

    fn key(phase: u32, group: &str) -> GroupKey {
        GroupKey::new(phase, group)
    }

    fn start(phase: u32, group: &str) -> Record {
        Record::Start(StartRecord {
            phase: phase.into(),
            group: group.into(),
            at: Utc::now(),
            head: None,
            base: None,
            isolation: None,
        })
    }

    fn task(phase: u32, group: &str, id: &str, ok: bool) -> Record {
        let outcome = if ok {
            TaskOutcome::Succeeded
        } else {
            TaskOutcome::Failed {
                exit_code: Some(1),
                signal: None,
                reason: "exit 1".into(),
            }
        };
        let now = Utc::now();
        let r = AgentReport::default();
        let d = std::time::Duration::from_secs(1);
        Record::Task(TaskRecord::new(
            &key(phase, group),
            id,
            1,
            outcome,
            &r,
            now,
            now,
            d,
            None,
        ))
    }

    fn gate(phase: u32, group: &str, passed: bool) -> Record {
        Record::Gate(GateRecord {
            phase: phase.into(),
            group: group.into(),
            passed,
            steps: Vec::new(),
            at: Utc::now(),
            log: None,
        })
    }

    fn complete(phase: u32, group: &str) -> Record {
        Record::Complete(CompleteRecord {
            phase: phase.into(),
            group: group.into(),
            at: Utc::now(),
        })
    }

    fn commit(phase: u32) -> Record {
        Record::Commit(CommitRecord {
            phase: phase.into(),
            at: Utc::now(),
            parent: Some("p".into()),
            skipped: false,
        })
    }

    fn reset(phase: u32, group: &str) -> Record {
        Record::Reset(ResetRecord {
            phase: phase.into(),
            group: group.into(),
            at: Utc::now(),
        })
    }

    /// Group 1:A done and recorded complete.
    fn group_a_done() -> Vec<Record> {
        vec![
            start(1, "A"),
            task(1, "A", "A1", true),
            task(1, "A", "A2", true),
            gate(1, "A", true),
            complete(1, "A"),
        ]
    }

    /// Both groups of phase 1 done and recorded complete.
    fn phase_one_done() -> Vec<Record> {
        let mut records = group_a_done();
        records.extend([
            start(1, "B"),
            task(1, "B", "B1", true),
            gate(1, "B", true),
            complete(1, "B"),
        ]);
        records
    }

    fn state(completed: &str, records: Vec<Record>) -> RunState {
        RunState {
            completed: CompletedGroups::parse(completed).0,
            records,
            git: Some(GitState::default()),
            ..RunState::default()
        }
    }

    const ON: Options = Options {
        commit: true,
        push: true,
        rerun_tasks: false,
        allow_dirty: false,
    };

    /// The actions, one word each: `1:A run A1,A2`, `1:B gate`, `commit 1`, ...
    fn plan(roadmap: &Roadmap, state: &RunState, opts: Options) -> Vec<String> {
        decide(roadmap, state, &Selection::default(), opts)
            .actions
            .iter()
            .map(|a| match a {
                Action::Push => "push".to_string(),
                Action::CommitPhase {
                    phase,
                    leftover: true,
                } => format!("commit {} first", phase.number),
                Action::CommitPhase { phase, .. } => format!("commit {}", phase.number),
                Action::Stop { phase, .. } => format!("stop {}", phase.number),
                Action::Group(g) => {
                    let k = format!("{}:{}", g.key.phase, g.key.group);
                    match &g.step {
                        GroupStep::Run { tasks, restart, .. } => {
                            let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
                            let again = if *restart { " again" } else { "" };
                            format!("{k} run{again} {}", ids.join(","))
                        }
                        GroupStep::GateOnly => format!("{k} gate"),
                        GroupStep::RecordComplete => format!("{k} record"),
                        GroupStep::DoneInRoadmap => format!("{k} done"),
                    }
                }
            })
            .collect()
    }

    #[test]
    fn a_fresh_roadmap_runs_everything_with_a_commit_per_phase() {
        let r = roadmap(ROADMAP);
        let s = state("", vec![]);
        assert_eq!(
            plan(&r, &s, ON),
            [
                "1:A run A1,A2",
                "1:B run B1",
                "commit 1",
                "2:A run A3",
                "commit 2"
            ]
        );
        let d = decide(&r, &s, &Selection::default(), ON);
        assert_eq!(
            d.fresh_phase(&s).map(|p| p.number.to_string()),
            Some("1".into())
        );
    }

    #[test]
    fn killed_before_any_task_finished_the_phase_has_started() {
        let r = roadmap(ROADMAP);
        let s = state("", vec![start(1, "A")]);
        assert_eq!(plan(&r, &s, ON)[0], "1:A run A1,A2");
        // Its files are the phase's own work: no dirty-tree refusal.
        let d = decide(&r, &s, &Selection::default(), ON);
        assert!(d.fresh_phase(&s).is_none());
    }

    #[test]
    fn a_dead_run_in_the_phase_counts_as_started_too() {
        let r = roadmap(ROADMAP);
        let mut s = state("", vec![]);
        s.interrupted = Some(crate::status::InProgress::new(
            crate::status::RunningGroup::this_process(key(1, "A")),
        ));
        let d = decide(&r, &s, &Selection::default(), ON);
        assert!(d.fresh_phase(&s).is_none());
    }

    #[test]
    fn killed_mid_group_only_what_did_not_succeed_runs() {
        let r = roadmap(ROADMAP);
        let s = state("", vec![start(1, "A"), task(1, "A", "A2", true)]);
        assert_eq!(plan(&r, &s, ON)[0], "1:A run A1");
        let s = state(
            "",
            vec![
                start(1, "A"),
                task(1, "A", "A1", false),
                task(1, "A", "A2", true),
            ],
        );
        assert_eq!(plan(&r, &s, ON)[0], "1:A run A1");
    }

    #[test]
    fn killed_during_the_gate_or_after_it_failed_only_the_gate_runs() {
        let r = roadmap(ROADMAP);
        let tasks = vec![
            start(1, "A"),
            task(1, "A", "A1", true),
            task(1, "A", "A2", true),
        ];
        assert_eq!(plan(&r, &state("", tasks.clone()), ON)[0], "1:A gate");
        let mut failed = tasks.clone();
        failed.push(gate(1, "A", false));
        assert_eq!(plan(&r, &state("", failed.clone()), ON)[0], "1:A gate");
        // A resumed gate-only run writes a start; still gate only.
        failed.push(start(1, "A"));
        assert_eq!(plan(&r, &state("", failed), ON)[0], "1:A gate");
        let rerun = Options {
            rerun_tasks: true,
            ..ON
        };
        assert_eq!(plan(&r, &state("", tasks), rerun)[0], "1:A run A1,A2");
    }

    #[test]
    fn killed_between_the_gate_record_and_completion_no_agent_reruns() {
        let r = roadmap(ROADMAP);
        let mut records = group_a_done();
        records.pop(); // no `complete`, no completed line
        assert_eq!(
            plan(&r, &state("", records), ON)[..2],
            ["1:A record", "1:B run B1"]
        );
    }

    #[test]
    fn killed_between_the_completed_line_and_its_record_the_group_is_complete() {
        let r = roadmap(ROADMAP);
        let mut records = group_a_done();
        records.pop();
        assert_eq!(
            plan(&r, &state("PHASE_1:A\n", records), ON)[0],
            "1:B run B1"
        );
    }

    #[test]
    fn killed_between_completion_and_commit_the_commit_comes_first() {
        let r = roadmap(ROADMAP);
        let records = phase_one_done();
        let s = state("PHASE_1:A\nPHASE_1:B\n", records);
        assert_eq!(
            plan(&r, &s, ON),
            ["commit 1 first", "2:A run A3", "commit 2"]
        );
        // Committing first is not a fresh phase: the dirt is phase 1's work.
        let d = decide(&r, &s, &Selection::default(), ON);
        assert!(d.fresh_phase(&s).is_none());
    }

    #[test]
    fn a_failed_commit_is_made_again_first() {
        let r = roadmap(ROADMAP);
        let mut records = phase_one_done();
        records.push(commit(1));
        // HEAD's tasks.jsonl does not hold the commit record: not made.
        let mut s = state("PHASE_1:A\nPHASE_1:B\n", records.clone());
        s.git.as_mut().unwrap().committed_records = Some(records.len() - 1);
        assert_eq!(plan(&r, &s, ON)[0], "commit 1 first");
        // It does: made (a rebase keeps it too).
        s.git.as_mut().unwrap().committed_records = Some(records.len());
        assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
        // Without the file in git, the history's phase commit on that parent tells.
        s.git.as_mut().unwrap().committed_records = None;
        s.git.as_mut().unwrap().phase_commits = vec![("1".into(), Some("p".into()))];
        assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
        let d = decide(&r, &s, &Selection::default(), ON);
        assert_eq!(
            d.fresh_phase(&s).map(|p| p.number.to_string()),
            Some("2".into())
        );
    }

    #[test]
    fn a_rollback_after_the_commit_makes_a_new_commit() {
        let r = roadmap(ROADMAP);
        let mut records = phase_one_done();
        records.push(commit(1));
        records.push(reset(1, "B"));
        let mut s = state("PHASE_1:A\n", records.clone());
        s.git.as_mut().unwrap().committed_records = Some(records.len() - 1);
        assert_eq!(plan(&r, &s, ON)[..2], ["1:B run B1", "commit 1"]);
    }

    #[test]
    fn a_group_removed_by_hand_after_completing_runs_again_from_scratch() {
        let r = roadmap(ROADMAP);
        assert_eq!(
            plan(&r, &state("", group_a_done()), ON)[0],
            "1:A run again A1,A2"
        );
    }

    #[test]
    fn with_commits_off_a_phase_owes_no_commit_later() {
        let r = roadmap(ROADMAP);
        let off = Options {
            commit: false,
            push: false,
            ..ON
        };
        let mut records = phase_one_done();
        let s = state("PHASE_1:A\nPHASE_1:B\n", records.clone());
        // Phase 1 completed before this run: with commits off nothing is owed now.
        assert_eq!(plan(&r, &s, off), ["2:A run A3", "commit 2"]);
        // The runner recorded phase 1 as skipped when it completed.
        records.push(Record::Commit(CommitRecord {
            phase: 1.into(),
            at: Utc::now(),
            parent: None,
            skipped: true,
        }));
        let s = state("PHASE_1:A\nPHASE_1:B\n", records);
        assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
    }

    #[test]
    fn unpushed_commits_are_pushed_first() {
        let r = roadmap(ROADMAP);
        let mut s = state("", vec![]);
        s.git.as_mut().unwrap().unpushed = 1;
        assert_eq!(plan(&r, &s, ON)[0], "push");
        // The phase after the push still starts fresh: the tree must be clean.
        let d = decide(&r, &s, &Selection::default(), ON);
        assert_eq!(
            d.fresh_phase(&s).map(|p| p.number.to_string()),
            Some("1".into())
        );
        assert_ne!(plan(&r, &s, Options { push: false, ..ON })[0], "push");
    }

    #[test]
    fn phases_committed_before_these_records_existed_are_not_committed_again() {
        let r = roadmap(ROADMAP);
        let records = vec![
            task(1, "A", "A1", true),
            task(1, "A", "A2", true),
            gate(1, "A", true),
        ];
        let mut s = state("PHASE_1:A\nPHASE_1:B\n", records);
        s.git.as_mut().unwrap().phase_commits = vec![("1".into(), None)];
        assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
    }

    #[test]
    fn a_phase_without_tasks_stops_the_run_there() {
        let r = roadmap(
            "# T\n\n## Phase 1: One\n\n### Group A\n\n- A1: a\n\n## Phase 2: Later\n\nTo plan.\n\n## Phase 3: Three\n\n### Group A\n\n- A5: x\n",
        );
        assert_eq!(
            plan(&r, &state("", vec![]), ON),
            ["1:A run A1", "commit 1", "stop 2"]
        );
    }

    #[test]
    fn done_in_the_roadmap_is_recorded_and_a_skipped_phase_owes_no_commit() {
        let r = roadmap(
            "# T\n\n## Phase 1: One\n\n### Group A\n\n- [x] A1: a\n\n### Group B\n\n- B1: b\n",
        );
        assert_eq!(
            plan(&r, &state("", vec![]), ON),
            ["1:A done", "1:B run B1", "commit 1"]
        );
        assert!(plan(&r, &state("PHASE_1:A\nPHASE_1:B\n", vec![]), ON).is_empty());
    }

    #[test]
    fn a_task_run_alone_does_not_complete_or_commit() {
        let r = roadmap(ROADMAP);
        let sel = Selection::new(&r, &[], &[], Some("1:B:B1")).unwrap();
        let d = decide(&r, &state("", vec![]), &sel, ON);
        let steps: Vec<bool> = d.groups().map(|g| g.partial).collect();
        assert_eq!(steps, [true]);
        assert!(
            !d.actions
                .iter()
                .any(|a| matches!(a, Action::CommitPhase { .. }))
        );
    }

    fn line(
        ended: bool,
        left_out: &[(&str, &str)],
        changed: &[(&str, &str)],
    ) -> crate::resume::LineState {
        let map = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(p, i)| (p.to_string(), i.to_string()))
                .collect()
        };
        crate::resume::LineState {
            tree: "t".into(),
            ended,
            left_out: map(left_out),
            changed: map(changed),
        }
    }

    fn left_out(r: &Roadmap, s: &RunState, opts: Options) -> Vec<String> {
        decide(r, s, &Selection::default(), opts)
            .left_out
            .map(|l| l.paths.into_keys().collect())
            .unwrap_or_default()
    }

    /// Group A done, Group B failed: the run ended, the runner handed the tree back.
    fn b_failed() -> RunState {
        let mut records = group_a_done();
        records.extend([start(1, "B"), task(1, "B", "B1", false)]);
        state("PHASE_1:A\n", records)
    }

    #[test]
    fn what_changed_after_a_groups_end_is_the_users_and_left_out() {
        let r = roadmap(ROADMAP);
        let mut s = b_failed();
        s.git.as_mut().unwrap().line = Some(line(
            true,
            &[],
            &[("mynotes.txt", "n"), ("src/index.js", "e")],
        ));
        assert_eq!(left_out(&r, &s, ON), ["mynotes.txt", "src/index.js"]);
        let d = decide(&r, &s, &Selection::default(), ON);
        assert_eq!(d.left_out.unwrap().line, "t");
        // --allow-dirty takes them in; with commits off nothing is committed anyway.
        assert!(
            left_out(
                &r,
                &s,
                Options {
                    allow_dirty: true,
                    ..ON
                }
            )
            .is_empty()
        );
        assert!(
            left_out(
                &r,
                &s,
                Options {
                    commit: false,
                    push: false,
                    ..ON
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn killed_mid_group_what_changed_since_its_start_is_the_groups() {
        let r = roadmap(ROADMAP);
        // The latest snapshot is the killed group's start (also: killed
        // after the group ended but before its end snapshot was recorded).
        let mut s = b_failed();
        s.git.as_mut().unwrap().line = Some(line(false, &[], &[("src/partial.txt", "p")]));
        assert!(left_out(&r, &s, ON).is_empty());
        // The user's changes that start left out still are, while unchanged.
        s.git.as_mut().unwrap().line = Some(line(
            false,
            &[("mynotes.txt", "n"), ("src/index.js", "e")],
            &[
                ("mynotes.txt", "n"),
                ("src/index.js", "changed by B1"),
                ("src/partial.txt", "p"),
            ],
        ));
        assert_eq!(left_out(&r, &s, ON), ["mynotes.txt"]);
    }

    #[test]
    fn a_fresh_phase_or_nothing_to_do_leaves_nothing_out() {
        let r = roadmap(ROADMAP);
        // Phase 1 committed: phase 2 starts fresh, its tree passed the dirty-tree check.
        let mut records = phase_one_done();
        records.push(commit(1));
        let mut s = state("PHASE_1:A\nPHASE_1:B\n", records.clone());
        s.git.as_mut().unwrap().committed_records = Some(records.len());
        s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
        assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
        assert!(left_out(&r, &s, ON).is_empty());
        // Everything complete and committed: nothing is said.
        let n = records.len();
        let mut s = state("PHASE_1:A\nPHASE_1:B\nPHASE_2:A\n", records);
        s.git.as_mut().unwrap().committed_records = Some(n);
        s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
        let sel = Selection::new(&r, &[(1.into(), 1.into())], &[], None).unwrap();
        let d = decide(&r, &s, &sel, ON);
        assert!(d.is_empty(), "{:?}", d.actions.len());
        assert!(d.left_out.is_none());
    }

    #[test]
    fn a_leftover_commit_and_a_rerun_after_rollback_leave_the_users_changes_out() {
        let r = roadmap(ROADMAP);
        // Killed between completion and commit, the user edits, reruns.
        let mut s = state("PHASE_1:A\nPHASE_1:B\n", phase_one_done());
        s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
        assert_eq!(plan(&r, &s, ON)[0], "commit 1 first");
        assert_eq!(left_out(&r, &s, ON), ["mynotes.txt"]);
        // Committed, then 1:B rolled back by hand: it runs again, in a begun phase.
        let mut records = phase_one_done();
        records.push(commit(1));
        records.push(reset(1, "B"));
        let mut s = state("PHASE_1:A\n", records.clone());
        s.git.as_mut().unwrap().committed_records = Some(records.len() - 1);
        s.git.as_mut().unwrap().line = Some(line(true, &[], &[("mynotes.txt", "n")]));
        assert_eq!(plan(&r, &s, ON)[..2], ["1:B run B1", "commit 1"]);
        assert_eq!(left_out(&r, &s, ON), ["mynotes.txt"]);
    }

    #[test]
    fn a_snapshot_is_not_work_that_owes_a_commit() {
        let r = roadmap(ROADMAP);
        let mut records = phase_one_done();
        records.push(commit(1));
        records.push(Record::Snapshot(crate::status::SnapshotRecord {
            phase: 1.into(),
            group: "B".into(),
            point: crate::status::SnapshotPoint::End,
            tree: "t".into(),
            left_out: Default::default(),
            at: Utc::now(),
        }));
        let mut s = state("PHASE_1:A\nPHASE_1:B\n", records);
        s.git.as_mut().unwrap().committed_records = Some(10);
        assert_eq!(plan(&r, &s, ON), ["2:A run A3", "commit 2"]);
    }

    #[test]
    fn a_group_marked_complete_by_hand_is_named_skipped() {
        let r = roadmap(ROADMAP);
        let s = state("PHASE_1:A\nPHASE_1:B\n", group_a_done());
        let d = decide(&r, &s, &Selection::default(), ON);
        assert_eq!(d.hand_skipped, [key(1, "B")]);
        // Killed between the completed line and its record: it ran, gate passed.
        let mut records = phase_one_done();
        records.pop();
        let s = state("PHASE_1:A\nPHASE_1:B\n", records);
        assert!(
            decide(&r, &s, &Selection::default(), ON)
                .hand_skipped
                .is_empty()
        );
    }
}
