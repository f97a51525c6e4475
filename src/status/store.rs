//! The one writer of run state. Every change a run makes to `tasks.jsonl`,
//! `in_progress_tasks.txt` and `completed_tasks.txt` goes through here, in
//! an order where any prefix of the writes is a state the decision
//! (`crate::resume::decide`) handles:
//!
//! 1. `start` (and a `reset` first when a hand-removed group reruns) before
//!    the group's first agent or gate process spawns;
//! 2. the in-progress file names each agent and gate step with its process
//!    group while it runs, so a later run can kill what a dead one left;
//! 3. one `task` record per finished attempt, one `gate` record per gate;
//! 4. with `--isolation worktree`, before the gate: per task `integrating`
//!    before its change is written into the project tree, `integrated`
//!    after (a crash in between writes the same result again);
//! 5. the group's line in `completed_tasks.txt`, then `complete`;
//! 6. `commit` just before a phase commit (which holds it), and nothing
//!    after: the tree is clean once the phase is committed.
//!
//! The store holds what the files hold ([`RunView`]): loaded once, before
//! the run, and kept up to date by its own writes, so nothing during a run
//! reads a status file again. A write that fails is not in the view either.
//!
//! Besides, a `snapshot` of the working tree before a group's first agent
//! (ahead of its `start`) and after the group ended, whatever its outcome:
//! the latest one is the line between the runner's work and the user's. A
//! crash before an end snapshot leaves the start one latest: everything
//! changed since is the killed group's.

use super::records::cap_text;
use super::view::RunView;
use super::{
    CommitRecord, CompleteRecord, CompletedGroups, GateRecord, InProgress, IntegrationRecord,
    Record, RecordStore, ResetRecord, RunningGate, RunningGroup, RunningTask, SnapshotPoint,
    SnapshotRecord, StartRecord, StatusDir, StatusError, TaskRecord,
};
use crate::config::Isolation;
use crate::roadmap::{GroupKey, PhaseId};
use chrono::Utc;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `ROADMAP_RUNNER_CRASH_AT=<point>[:<n>]`: the process SIGKILLs itself
/// right after the n-th (default first) write named `point`, so the tests
/// can stop a real run in each crash window ([`crash_point`]'s names).
pub const CRASH_AT_ENV: &str = "ROADMAP_RUNNER_CRASH_AT";

static CRASH_AT: LazyLock<Option<(String, usize)>> = LazyLock::new(|| {
    let v = std::env::var(CRASH_AT_ENV).ok()?;
    let (name, n) = match v.split_once(':') {
        Some((name, n)) => (name.to_string(), n.parse().ok()?),
        None => (v, 1),
    };
    Some((name, n))
});
static CRASH_COUNT: AtomicUsize = AtomicUsize::new(0);

/// A named moment between two writes: `start`, `task`, `gate-step`, `gate`,
/// `completed-line`, `complete`, `snapshot`, `commit-record`, `committed`,
/// `pushed`. Does nothing
/// unless [`CRASH_AT_ENV`] names it.
pub fn crash_point(name: &str) {
    let Some((want, n)) = CRASH_AT.as_ref() else {
        return;
    };
    if want == name && CRASH_COUNT.fetch_add(1, Ordering::SeqCst) + 1 == *n {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
    }
}

pub struct Store<'a> {
    status: &'a StatusDir,
    file: RecordStore,
    in_progress: InProgress,
    view: RunView,
}

/// Where a group starts from: HEAD and the blob ids of the files that
/// differed from it (earlier groups' uncommitted work).
#[derive(Debug, Clone, Default)]
pub struct GroupBase {
    pub head: Option<String>,
    pub files: BTreeMap<String, String>,
}

impl<'a> Store<'a> {
    /// The store over `view`, the files as they were just loaded (a run's
    /// [`crate::resume::RunState`]).
    pub fn open(status: &'a StatusDir, view: RunView) -> Self {
        Store {
            status,
            file: RecordStore::new(status),
            in_progress: InProgress::default(),
            view,
        }
    }

    /// Loads the files, then the store over them (`skip`, `rollback`).
    pub fn load(status: &'a StatusDir) -> Result<Self, StatusError> {
        Ok(Self::open(status, RunView::load(status)?.view))
    }

    /// [`Store::load`], or over nothing when the files cannot be read
    /// (its writes say so then).
    pub fn new(status: &'a StatusDir) -> Self {
        Self::load(status).unwrap_or_else(|_| Self::open(status, RunView::default()))
    }

    pub fn status(&self) -> &StatusDir {
        self.status
    }

    /// What the files hold, this run's writes included.
    pub fn view(&self) -> &RunView {
        &self.view
    }

    /// Appends one record; the view has it, as a load would read it, once
    /// the file has.
    fn append(&mut self, record: Record) -> Result<(), StatusError> {
        let stored = self.file.append_read_back(&record)?;
        self.view.push(stored);
        Ok(())
    }

    fn append_reset(&mut self, key: &GroupKey) -> Result<(), StatusError> {
        self.append(Record::Reset(ResetRecord {
            phase: key.phase.clone(),
            group: key.group.clone(),
            at: Utc::now(),
        }))
    }

    /// Applies `edit` to `completed_tasks.txt` (re-read first, so a hand
    /// edit made meanwhile stays) and to the view.
    fn edit_completed(
        &mut self,
        edit: impl FnOnce(&mut CompletedGroups) -> bool,
    ) -> Result<bool, StatusError> {
        let mut now = None;
        let changed = self.status.update_completed(|c| {
            let changed = edit(c);
            now = Some(c.clone());
            changed
        })?;
        if let Some(now) = now {
            self.view.set_completed(now);
        }
        Ok(changed)
    }

    /// `skip`: the group's line added by hand; returns whether it was new.
    pub fn mark_complete(&mut self, key: &GroupKey) -> Result<bool, StatusError> {
        self.edit_completed(|c| c.add(key))
    }

    /// `rollback`: the group's line removed, then a `reset` so its earlier
    /// attempts stop counting. Returns whether the line was there.
    pub fn roll_back(&mut self, key: &GroupKey) -> Result<bool, StatusError> {
        let changed = self.edit_completed(|c| c.remove(key))?;
        self.append_reset(key)?;
        Ok(changed)
    }

    /// `status/pending_tasks.txt`: the groups not yet complete, in order.
    pub fn write_pending(&self, groups: &[(GroupKey, Vec<String>)]) -> Result<(), StatusError> {
        super::write_pending(self.status, groups)
    }

    /// The group begins: `reset` when `restart`, then `start` (with the base
    /// on a first start), then the in-progress file names the group.
    pub fn group_started(
        &mut self,
        key: &GroupKey,
        restart: bool,
        base: Option<GroupBase>,
        isolation: Isolation,
    ) -> Result<(), StatusError> {
        if restart {
            self.append_reset(key)?;
        }
        self.append(Record::Start(StartRecord {
            phase: key.phase.clone(),
            group: key.group.clone(),
            at: Utc::now(),
            head: base.as_ref().and_then(|b| b.head.clone()),
            base: base.map(|b| b.files),
            isolation: Some(isolation),
        }))?;
        self.in_progress = InProgress::new(RunningGroup::this_process(key.clone()));
        self.in_progress.write(self.status)?;
        crash_point("start");
        Ok(())
    }

    /// The group goes on after its split tasks' sub-roadmaps ran (each
    /// named itself in the in-progress file): it names the group again.
    pub fn group_resumed(&mut self, key: &GroupKey) -> Result<(), StatusError> {
        self.in_progress = InProgress::new(RunningGroup::this_process(key.clone()));
        self.in_progress.write(self.status)
    }

    pub fn task_started(
        &mut self,
        task: &str,
        pid: u32,
        log: Option<String>,
    ) -> Result<(), StatusError> {
        self.in_progress
            .task_started(RunningTask::new(task, pid, log));
        self.in_progress.write(self.status)
    }

    /// With `--nats`: a worker took the task; named with no pid.
    pub fn task_claimed(
        &mut self,
        task: &str,
        worker: &str,
        log: Option<String>,
    ) -> Result<(), StatusError> {
        self.in_progress
            .task_started(RunningTask::on_worker(task, worker, log));
        self.in_progress.write(self.status)
    }

    /// A process that is not a task attempt (a resolver agent) ended: the
    /// in-progress file stops naming it; nothing is recorded.
    pub fn helper_finished(&mut self, name: &str) -> Result<(), StatusError> {
        self.in_progress.task_finished(name);
        self.in_progress.write(self.status)
    }

    /// The attempt's record, then the in-progress file without it.
    pub fn task_finished(&mut self, record: &TaskRecord) -> Result<(), StatusError> {
        self.in_progress.task_finished(&record.task);
        let mut record = record.clone();
        record.result_text = record.result_text.as_deref().map(cap_text);
        let appended = self.append(Record::Task(record));
        let written = self.in_progress.write(self.status);
        crash_point("task");
        appended.and(written)
    }

    /// A gate step is about to start (`pid` none) or has spawned.
    pub fn gate_step(
        &mut self,
        step: &str,
        pid: Option<u32>,
        log: Option<String>,
    ) -> Result<(), StatusError> {
        let started = match &self.in_progress.gate {
            Some(g) if g.step == step => g.started,
            _ => Utc::now(),
        };
        self.in_progress.gate = Some(RunningGate {
            step: step.to_string(),
            started,
            pid,
            pid_start: pid.and_then(super::process_start_time),
            log,
        });
        self.in_progress.write(self.status)?;
        if pid.is_some() {
            crash_point("gate-step");
        }
        Ok(())
    }

    pub fn gate_finished(&mut self, record: &GateRecord) -> Result<(), StatusError> {
        let appended = self.append(Record::Gate(record.clone()));
        self.in_progress.gate = None;
        let written = self.in_progress.write(self.status);
        crash_point("gate");
        appended.and(written)
    }

    /// The authority first (`completed_tasks.txt`), then the `complete`
    /// record: a crash in between leaves a complete group, which is right.
    pub fn group_completed(&mut self, key: &GroupKey) -> Result<(), StatusError> {
        self.edit_completed(|c| c.add(key))?;
        crash_point("completed-line");
        self.append(Record::Complete(CompleteRecord {
            phase: key.phase.clone(),
            group: key.group.clone(),
            at: Utc::now(),
        }))?;
        crash_point("complete");
        Ok(())
    }

    /// The working tree as the runner holds it at the group's `point`.
    pub fn snapshot(
        &mut self,
        key: &GroupKey,
        point: SnapshotPoint,
        tree: String,
        left_out: BTreeMap<String, String>,
    ) -> Result<(), StatusError> {
        self.append(Record::Snapshot(SnapshotRecord {
            phase: key.phase.clone(),
            group: key.group.clone(),
            point,
            tree,
            left_out,
            at: Utc::now(),
        }))?;
        crash_point("snapshot");
        Ok(())
    }

    /// A task's merged result is about to be written into the project tree.
    pub fn integrating(&mut self, record: &IntegrationRecord) -> Result<(), StatusError> {
        self.append(Record::Integrating(record.clone()))
    }

    /// The task's merged result is in the project tree.
    pub fn integrated(&mut self, record: &IntegrationRecord) -> Result<(), StatusError> {
        self.append(Record::Integrated(record.clone()))
    }

    /// Nothing of the group runs any more.
    pub fn group_ended(&mut self) -> Result<(), StatusError> {
        self.in_progress = InProgress::default();
        InProgress::clear(self.status)
    }

    /// Just before a phase commit on top of `parent`.
    pub fn commit_intended(
        &mut self,
        phase: &PhaseId,
        parent: Option<String>,
    ) -> Result<(), StatusError> {
        self.commit(phase, parent, false)
    }

    /// The phase completed with commits off: no commit is owed for it.
    pub fn commit_skipped(&mut self, phase: &PhaseId) -> Result<(), StatusError> {
        self.commit(phase, None, true)
    }

    fn commit(
        &mut self,
        phase: &PhaseId,
        parent: Option<String>,
        skipped: bool,
    ) -> Result<(), StatusError> {
        self.append(Record::Commit(CommitRecord {
            phase: phase.clone(),
            at: Utc::now(),
            parent,
            skipped,
        }))?;
        crash_point("commit-record");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentReport, TaskOutcome};

    fn attempt(key: &GroupKey, task: &str, summary: String) -> TaskRecord {
        let report = AgentReport {
            result_text: Some(summary),
            ..AgentReport::default()
        };
        let now = Utc::now();
        let second = std::time::Duration::from_secs(1);
        TaskRecord::new(
            key,
            task,
            1,
            TaskOutcome::Succeeded,
            &report,
            now,
            now,
            second,
            None,
        )
    }

    /// What the store answers from memory is what a fresh load of the
    /// files says: every write reaches the file, then the view.
    #[test]
    fn the_view_follows_the_writes_as_a_load_would_read_them() {
        let dir = tempfile::tempdir().unwrap();
        let status = StatusDir::new(dir.path());
        std::fs::create_dir_all(status.path()).unwrap();
        let key = GroupKey::new(1, "A");
        let other = GroupKey::new(1, "B");
        let mut store = Store::open(&status, RunView::default());
        store.mark_complete(&other).unwrap();
        let base = GroupBase {
            head: Some("h".into()),
            files: BTreeMap::new(),
        };
        store
            .group_started(&key, false, Some(base), Isolation::Worktree)
            .unwrap();
        let long = "x".repeat(super::super::records::RESULT_TEXT_CAP * 2);
        store.task_finished(&attempt(&key, "A1", long)).unwrap();
        store.group_completed(&key).unwrap();
        store.roll_back(&other).unwrap();
        store.group_ended().unwrap();

        let view = store.view();
        assert_eq!(view.base_head(&key).as_deref(), Some("h"));
        assert_eq!(
            view.isolation(&key),
            None,
            "complete: the isolation is over"
        );
        let text = view.latest_outcomes(&key)["A1"]
            .result_text
            .clone()
            .unwrap();
        assert!(text.len() <= super::super::records::RESULT_TEXT_CAP);
        assert!(view.completed().contains(&key));
        assert!(!view.completed().contains(&other));
        let loaded = RunView::load(&status).unwrap();
        assert!(loaded.record_warnings.is_empty());
        assert_eq!(loaded.view.records(), view.records());
        assert_eq!(loaded.view.completed(), view.completed());
    }

    /// The completed set is read again before it is written: a line added
    /// by hand during the run stays, and the view takes it in.
    #[test]
    fn a_hand_edit_of_the_completed_file_is_kept_and_seen() {
        let dir = tempfile::tempdir().unwrap();
        let status = StatusDir::new(dir.path());
        std::fs::create_dir_all(status.path()).unwrap();
        let mut store = Store::open(&status, RunView::default());
        status
            .write(super::super::COMPLETED_FILE, b"# mine\nPHASE_2:C\n")
            .unwrap();
        store.group_completed(&GroupKey::new(1, "A")).unwrap();
        assert!(store.view().completed().contains(&GroupKey::new(2, "C")));
        assert_eq!(
            std::fs::read_to_string(status.file(super::super::COMPLETED_FILE)).unwrap(),
            "# mine\nPHASE_2:C\nPHASE_1:A\n"
        );
    }
}
