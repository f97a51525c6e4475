//! The status files under `status/`: what is complete, what runs now, what
//! every attempt did. All writes are atomic; all reads are tolerant.

pub mod atomic;
pub mod completed;
pub mod counts;
pub mod lock;
pub mod progress;
pub mod records;
pub mod report_md;
pub mod store;
pub mod view;

pub use atomic::write_atomic;
pub use completed::{CompletedGroups, LineWarning};
pub use lock::{LockError, RunLock};
pub use progress::{
    InProgress, RunningGate, RunningGroup, RunningTask, kill_leftovers, process_alive,
    process_start_time, recover_in_progress, write_pending,
};
pub use records::{
    CommitRecord, CommitState, CompleteRecord, GateRecord, GateStepRecord, IntegrationRecord,
    IntegrationState, Record, RecordStore, ResetRecord, ResumeState, SnapshotPoint, SnapshotRecord,
    StartRecord, StepStatus, TaskRecord, group_base, group_isolation, group_passed_gate,
    group_resume_state, group_run_time, group_started, latest_snapshot, latest_task_outcomes,
    phase_commit_state, runner_attempts, task_attempts, task_integrations,
};
pub use report_md::{
    AttemptReport, GateStepReport, GroupReportInput, HelperReport, SubGroupReport, SubTaskReport,
    TaskReport, TaskReportOutcome, render_group_report, report_dir, report_file_name,
    write_group_report,
};
pub use store::{GroupBase, Store};
pub use view::RunView;

use std::path::{Path, PathBuf};

pub const COMPLETED_FILE: &str = "completed_tasks.txt";
pub const ROADMAP_TASKS_FILE: &str = "roadmap_tasks.txt";
pub const LOCK_FILE: &str = ".lock";
pub const GIT_LOCK_FILE: &str = "roadmap-runner.lock";

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The `status/` directory of one project.
#[derive(Debug, Clone)]
pub struct StatusDir {
    dir: PathBuf,
}

impl StatusDir {
    pub fn new(project_dir: &Path) -> Self {
        StatusDir {
            dir: project_dir.join("status"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The run lock. In a project at the root of its git work tree it lives
    /// in `.git/` (`roadmap-runner.lock`), where it can never show as an
    /// untracked file, not even after a run that stopped at preflight;
    /// elsewhere `status/.lock` (ignored by `status/.gitignore`).
    pub fn lock_path(&self) -> PathBuf {
        match self.dir.parent().map(|p| p.join(".git")) {
            Some(git) if git.is_dir() => git.join(GIT_LOCK_FILE),
            _ => self.file(LOCK_FILE),
        }
    }

    /// Reads `completed_tasks.txt`; a missing file means nothing is complete.
    pub fn load_completed(&self) -> Result<(CompletedGroups, Vec<LineWarning>), StatusError> {
        let path = self.file(COMPLETED_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(CompletedGroups::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok((CompletedGroups::default(), Vec::new()))
            }
            Err(source) => Err(StatusError::Read { path, source }),
        }
    }

    /// Re-reads `completed_tasks.txt`, applies `edit`, writes it back if it
    /// changed. Reading right before writing keeps a hand edit made during a
    /// run.
    pub fn update_completed(
        &self,
        edit: impl FnOnce(&mut CompletedGroups) -> bool,
    ) -> Result<bool, StatusError> {
        let (mut completed, _) = self.load_completed()?;
        if !edit(&mut completed) {
            return Ok(false);
        }
        self.write(COMPLETED_FILE, completed.render().as_bytes())?;
        Ok(true)
    }

    pub fn write(&self, name: &str, contents: &[u8]) -> Result<(), StatusError> {
        let path = self.file(name);
        write_atomic(&path, contents).map_err(|source| StatusError::Write { path, source })
    }
}
