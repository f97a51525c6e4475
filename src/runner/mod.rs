//! The run: phase by phase, group by group, each group's tasks in parallel.
//! The runner owns all run state; attempts talk to it through messages and it
//! alone emits events to the reporter.

pub mod attempt;
pub mod group;
pub mod preflight;
pub mod signals;

use crate::agent::command::{AgentInvocation, TaskEnv, build_invocation};
use crate::agent::prompt::{PromptError, PromptVars, render_prompt};
use crate::config::Settings;
use crate::events::{Event, Reporter, RunSummary, TaskSummary};
use crate::exec::StopLevel;
use crate::exit;
use crate::plan::PlannedGroup;
use crate::project::Project;
use crate::roadmap::{GroupKey, Roadmap};
use attempt::AttemptJob;
use group::{GroupLimits, JobFactory, QueuedTask, run_group};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::sync::watch;

/// Builds prompts, command lines and log paths for the tasks of one group.
pub struct GroupJobs<'a> {
    pub project: &'a Project,
    pub roadmap: &'a Roadmap,
    pub planned: &'a PlannedGroup<'a>,
    pub settings: &'a Settings,
    pub template: &'a str,
    /// The agent program as resolved by preflight (absolute when found on PATH).
    pub program: &'a Path,
}

impl GroupJobs<'_> {
    pub fn prompt(&self, task_id: &str) -> Result<String, PromptError> {
        let pg = self.planned;
        let task = pg
            .group
            .tasks
            .iter()
            .find(|t| t.id == task_id)
            .expect("task of this group");
        render_prompt(
            self.template,
            &PromptVars::new(self.roadmap, pg.phase, pg.group, task),
        )
    }

    pub fn invocation(
        &self,
        task_id: &str,
        title: &str,
        resume: Option<&str>,
        log_file: &Path,
    ) -> AgentInvocation {
        // Prompts were checked before the run started; a failure here is a bug.
        let prompt = self.prompt(task_id).expect("prompt rendered in preflight");
        let env = TaskEnv {
            phase: self.planned.key.phase,
            group: self.planned.key.group.clone(),
            task_id: task_id.to_string(),
            task_title: title.to_string(),
            log_file: log_file.to_path_buf(),
        };
        let mut inv = build_invocation(&self.settings.agent, &prompt, resume, &env);
        inv.program = self.program.as_os_str().to_os_string();
        inv
    }

    /// `logs/orchestrator/phase1_groupA_A1_20260109-212750.log`, made unique.
    pub fn log_path(&self, task_id: &str) -> PathBuf {
        let dir = self.project.orchestrator_logs();
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let base = format!(
            "phase{}_group{}_{}_{stamp}",
            self.planned.key.phase, self.planned.key.group, task_id
        );
        let mut path = dir.join(format!("{base}.log"));
        let mut n = 2;
        while path.exists() {
            path = dir.join(format!("{base}-{n}.log"));
            n += 1;
        }
        path
    }
}

impl JobFactory for GroupJobs<'_> {
    fn job(&mut self, task: &QueuedTask) -> AttemptJob {
        let log_path = self.log_path(&task.task_id);
        AttemptJob {
            task_id: task.task_id.clone(),
            attempt: task.attempt,
            invocation: self.invocation(
                &task.task_id,
                &task.title,
                task.resume.as_deref(),
                &log_path,
            ),
            cwd: self.project.dir.clone(),
            log_path,
            timeout: self.settings.timeout,
            grace: self.settings.grace,
            output: self.settings.agent.output,
        }
    }
}

/// The runner's inputs, validated by the caller.
pub struct RunInputs<'a> {
    pub project: &'a Project,
    pub roadmap: &'a Roadmap,
    pub roadmap_display: &'a str,
    pub settings: &'a Settings,
    pub template: &'a str,
    pub program: &'a Path,
    pub plan: &'a [PlannedGroup<'a>],
}

/// Runs the plan to the end or to the first failure; returns the summary
/// whose `exit_code` is the process exit code.
pub async fn execute(
    inputs: &RunInputs<'_>,
    stop: watch::Receiver<StopLevel>,
    signals: &signals::SignalState,
    reporter: &mut dyn Reporter,
) -> RunSummary {
    let started = Instant::now();
    let settings = inputs.settings;
    reporter.report(&Event::RunStarted {
        roadmap: inputs.roadmap_display.to_string(),
        groups: inputs.plan.len(),
        tasks: inputs.plan.iter().map(|g| g.tasks.len()).sum(),
        max_parallel: settings.max_parallel,
        timeout: settings.timeout,
        dry_run: false,
    });
    let limits = GroupLimits {
        max_parallel: settings.max_parallel,
        retries: settings.retries,
        max_wait: settings.max_wait,
        fail_fast: settings.fail_fast,
    };
    let mut tasks: Vec<TaskSummary> = Vec::new();
    let mut completed: Vec<GroupKey> = Vec::new();
    let mut exit_code = exit::OK;
    let mut message = String::new();
    let mut next_steps = Vec::new();

    for planned in inputs.plan {
        if *stop.borrow() > StopLevel::Run {
            break;
        }
        let group_started = Instant::now();
        let queued: Vec<QueuedTask> = planned
            .tasks
            .iter()
            .map(|t| QueuedTask {
                task_id: t.id.clone(),
                title: t.title.clone(),
                attempt: 1,
                resume: None,
                limit_hits: 0,
            })
            .collect();
        reporter.report(&Event::GroupStarted {
            key: planned.key.clone(),
            phase_title: planned.phase.title.clone(),
            title: planned.group.title.clone(),
            annotation: planned.group.annotation.clone(),
            tasks: queued.len(),
            parallel: settings.max_parallel.min(queued.len()),
            task_ids: queued.iter().map(|t| t.task_id.clone()).collect(),
        });
        let mut jobs = GroupJobs {
            project: inputs.project,
            roadmap: inputs.roadmap,
            planned,
            settings,
            template: inputs.template,
            program: inputs.program,
        };
        let run = run_group(
            &planned.key,
            queued,
            &limits,
            &mut jobs,
            stop.clone(),
            reporter,
        )
        .await;
        let failed = run.tasks.iter().filter(|t| !t.outcome.is_success()).count();
        reporter.report(&Event::GroupFinished {
            key: planned.key.clone(),
            succeeded: run.tasks.len() - failed,
            failed,
            duration: group_started.elapsed(),
        });
        tasks.extend(run.tasks.iter().cloned());

        if let Some(signo) = signals.received() {
            exit_code = 128 + signo;
            message = format!(
                "Interrupted by {}: every agent was stopped",
                signals::signal_name(signo)
            );
            next_steps.push("run roadmap-runner again to resume where it stopped".into());
            break;
        }
        if let Some(auth) = run.auth_failure {
            exit_code = exit::PREFLIGHT_FAILED;
            message = format!("The agent is not logged in: {auth}");
            next_steps.push(
                "for unattended runs, log in with a long-lived credential: set ANTHROPIC_API_KEY, or run `claude setup-token` once and set CLAUDE_CODE_OAUTH_TOKEN in the runner's environment (cron's environment too)".into(),
            );
            next_steps.push("then run roadmap-runner again".into());
            break;
        }
        if failed > 0 {
            exit_code = exit::TASK_FAILED;
            message = format!(
                "Phase {} Group {}: {failed} of {} tasks did not succeed",
                planned.key.phase,
                planned.key.group,
                run.tasks.len()
            );
            for t in run.tasks.iter().filter(|t| !t.outcome.is_success()) {
                if let Some(log) = &t.log {
                    next_steps.push(format!(
                        "{} {}: read {}",
                        t.task,
                        t.outcome.label(),
                        log.display()
                    ));
                }
            }
            next_steps.push(
                "fix the cause, then run roadmap-runner again: it resumes with this group".into(),
            );
            break;
        }
        if !planned.partial {
            let key = planned.key.clone();
            if let Err(e) = inputs.project.status.update_completed(|c| c.add(&key)) {
                exit_code = exit::PREFLIGHT_FAILED;
                message = format!("{}: cannot record the group as complete: {e}", planned.key);
                break;
            }
            completed.push(key);
        }
    }
    if let (Some(signo), exit::OK) = (signals.received(), exit_code) {
        exit_code = 128 + signo;
        message = format!("Interrupted by {}", signals::signal_name(signo));
    }
    if exit_code == exit::OK {
        message = if inputs.plan.is_empty() {
            "Nothing to do: every selected group is complete".into()
        } else {
            "Run complete".into()
        };
    }
    let cost_usd = tasks.iter().filter_map(|t| t.cost_usd).sum();
    RunSummary {
        exit_code,
        message,
        next_steps,
        tasks,
        groups_completed: completed,
        duration: started.elapsed(),
        cost_usd,
    }
}
