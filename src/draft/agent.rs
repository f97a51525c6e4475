//! The drafting agent's calls: the configured agent command
//! ([`crate::agent::command`]), spawned and read exactly as a task's or a
//! repair's agent is ([`crate::runner::attempt::run_attempt`]: the one
//! process path and stream-json reader). Every call of a drafting session
//! after the first goes on with the first one's session.

use super::{Call, DraftError, PLAN_FILE_ENV, Request};
use crate::agent::TaskOutcome;
use crate::agent::command::{can_resume, invocation_with_env};
use crate::exec::StopLevel;
use crate::runner::attempt::{AttemptJob, run_attempt};
use crate::runner::{preflight, signals};
use std::ffi::OsString;
use std::path::PathBuf;
use tokio::sync::{mpsc, watch};

/// The agent program, found and checked before anything starts.
pub struct Agent {
    program: PathBuf,
}

/// A drafting session: its runtime, its stop signals and its session id.
pub struct Session {
    program: PathBuf,
    rt: tokio::runtime::Runtime,
    stop: watch::Receiver<StopLevel>,
    signals: signals::SignalState,
    session: Option<String>,
}

/// One call's end.
pub struct Answer {
    pub call: Call,
    pub succeeded: bool,
    pub reason: String,
}

impl Agent {
    /// The checks a run makes before its first agent: the program is there,
    /// and Claude's root refusal will not hit.
    pub fn prepare(req: &Request<'_>) -> Result<Agent, DraftError> {
        let settings = req.settings;
        preflight::check_root_sandbox(settings)
            .map_err(|e| DraftError::Preflight(e.to_string()))?;
        let program = preflight::find_agent(
            &settings.agent.command[0],
            settings.agent.kind(),
            &req.project.dir,
        )
        .map_err(|e| DraftError::Preflight(e.to_string()))?;
        Ok(Agent { program })
    }

    pub fn start(self) -> Result<Session, DraftError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (stop_tx, stop) = watch::channel(StopLevel::Run);
        let signals = rt.block_on(async { signals::install(stop_tx) })?;
        Ok(Session {
            program: self.program,
            rt,
            stop,
            signals,
            session: None,
        })
    }
}

impl Session {
    /// The session later calls go on with (none when the agent cannot resume).
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// One call: `prompt` to the agent, in the project directory, with the
    /// plan file named in its environment.
    pub fn ask(
        &mut self,
        req: &Request<'_>,
        prompt: &str,
        attempt: u32,
    ) -> Result<Answer, DraftError> {
        let settings = req.settings;
        let vars: Vec<(OsString, OsString)> = vec![
            (PLAN_FILE_ENV.into(), req.plan_file.clone().into()),
            ("ROADMAP_ROLE".into(), "planner".into()),
        ];
        let mut invocation =
            invocation_with_env(&settings.agent, prompt, self.session.as_deref(), vars);
        invocation.program = self.program.clone().into_os_string();
        let log_path = req
            .plan_file
            .with_extension("")
            .with_extension(format!("{attempt}.log"));
        let job = AttemptJob {
            task_id: format!("{}-draft", req.name),
            attempt,
            invocation,
            cwd: req.project.dir.clone(),
            log_path: log_path.clone(),
            timeout: settings.timeout,
            grace: settings.grace,
            output: settings.agent.output,
            role: Default::default(),
            fingerprint: None,
            setup: None,
            worktree: None,
        };
        let (tx, _rx) = mpsc::unbounded_channel();
        let result = self.rt.block_on(run_attempt(job, self.stop.clone(), tx));
        if let Some(signo) = self.signals.received() {
            return Err(DraftError::Interrupted(signo));
        }
        let report = &result.report;
        if self.session.is_none() && can_resume(&settings.agent) {
            self.session = report.session_id.clone();
        }
        let reason = match &result.outcome {
            TaskOutcome::Failed { reason, .. } => reason.clone(),
            TaskOutcome::TimedOut { after_secs } => format!("timed out after {after_secs}s"),
            TaskOutcome::AuthFailure { message }
            | TaskOutcome::UsageLimit { message, .. }
            | TaskOutcome::OverBudget { message }
            | TaskOutcome::WorkerLost { message } => message.clone(),
            TaskOutcome::Interrupted | TaskOutcome::Succeeded | TaskOutcome::Split { .. } => {
                String::new()
            }
        };
        Ok(Answer {
            call: Call {
                attempt,
                session_id: report.session_id.clone(),
                cost_usd: report.cost_usd,
                log: log_path,
                outcome: result.outcome.label().to_string(),
            },
            succeeded: result.outcome.is_success(),
            reason,
        })
    }
}
