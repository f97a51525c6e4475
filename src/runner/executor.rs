//! Where a group's task attempts run: as processes on this machine
//! ([`Local`]), or wherever an [`Executor`] hands them to (the cluster's
//! coordinator is one, for `--nats`). The command chooses it once and the
//! runner is given it: the runner knows this seam, not what is behind it.

use super::attempt::{AttemptJob, AttemptMsg, AttemptResult, QueuedTask, run_attempt};
use crate::config::{GitSettings, Settings};
use crate::events::Reporter;
use crate::exec::StopLevel;
use crate::project::Project;
use crate::roadmap::{GroupKey, PhaseId};
use crate::vcs::Repo;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// An attempt under way, owned, so a group can run it on its own task.
pub type AttemptFuture = Pin<Box<dyn Future<Output = AttemptResult> + Send>>;

/// Why an executor cannot take the run, or a group: the run fails with it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub message: String,
    pub next_steps: Vec<String>,
}

/// A group about to run, as its executor is told of it.
pub struct GroupSetup<'a> {
    pub project: &'a Project,
    pub repo: Option<&'a Repo>,
    pub settings: &'a Settings,
    pub key: &'a GroupKey,
    /// The run's records, this run's `start` of the group included.
    pub records: &'a [crate::status::Record],
}

/// Where the run's tasks go, and what that asks of the run around them.
pub trait Executor: Send + Sync {
    /// Before the first group (not called when no group runs): an executor
    /// that cannot work refuses the run here, before anything starts.
    fn start<'a>(
        &'a self,
        settings: &'a Settings,
        reporter: &'a mut dyn Reporter,
    ) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + 'a>>;

    /// True when tasks run on other machines: every task of a group is then
    /// handed over at once (their slots decide), and a group always runs in
    /// the run's isolation (the workers make their own worktrees).
    fn remote(&self) -> bool;

    /// Dispatch: what runs the attempts of the group's tasks.
    fn group(&self, group: &GroupSetup<'_>) -> Result<Arc<dyn TaskRunner>, Refusal>;

    /// A phase's commit is out: what the executor left of the phase
    /// elsewhere (branches on the remote) goes.
    fn release_phase(&self, repo: &Repo, git: &GitSettings, phase: &PhaseId) -> Result<(), String>;
}

/// Runs the attempts of one group's tasks.
pub trait TaskRunner: Send + Sync {
    fn run(
        &self,
        task: &QueuedTask,
        job: AttemptJob,
        stop: watch::Receiver<StopLevel>,
        tx: mpsc::UnboundedSender<AttemptMsg>,
    ) -> AttemptFuture;
}

/// Every attempt a process on this machine, in the job's cwd.
#[derive(Debug, Clone, Copy, Default)]
pub struct Local;

impl Executor for Local {
    fn start<'a>(
        &'a self,
        _: &'a Settings,
        _: &'a mut dyn Reporter,
    ) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + 'a>> {
        Box::pin(async { Ok(()) })
    }

    fn remote(&self) -> bool {
        false
    }

    fn group(&self, _: &GroupSetup<'_>) -> Result<Arc<dyn TaskRunner>, Refusal> {
        Ok(Arc::new(Local))
    }

    fn release_phase(&self, _: &Repo, _: &GitSettings, _: &PhaseId) -> Result<(), String> {
        Ok(())
    }
}

impl TaskRunner for Local {
    fn run(
        &self,
        _: &QueuedTask,
        job: AttemptJob,
        stop: watch::Receiver<StopLevel>,
        tx: mpsc::UnboundedSender<AttemptMsg>,
    ) -> AttemptFuture {
        Box::pin(run_attempt(job, stop, tx))
    }
}

impl super::Ctx<'_, '_, '_> {
    /// Starts the run's executor when a group will run; false (with the
    /// run failed) when it refuses.
    pub(super) async fn start_executor(&mut self, reporter: &mut dyn Reporter) -> bool {
        let inputs = self.inputs;
        if inputs.decision.groups().next().is_none() {
            return true;
        }
        match inputs.executor.start(inputs.settings, reporter).await {
            Ok(()) => true,
            Err(refusal) => {
                let code = crate::exit::PREFLIGHT_FAILED;
                self.run.fail(code, refusal.message, refusal.next_steps);
                false
            }
        }
    }

    /// What runs the attempts of the group's tasks.
    pub(super) fn dispatch(
        &self,
        planned: &crate::resume::GroupAction<'_>,
    ) -> Result<Arc<dyn TaskRunner>, Refusal> {
        let inputs = self.inputs;
        inputs.executor.group(&GroupSetup {
            project: inputs.project,
            repo: inputs.repo,
            settings: inputs.settings,
            key: &planned.key,
            records: self.store.view().records(),
        })
    }
}
