//! The run: phase by phase, group by group, each group's tasks in parallel.
//! The runner owns all run state; attempts talk to it through messages and it
//! alone emits events to the reporter.

pub mod advice;
pub mod attempt;
pub mod finish;
pub mod group;
pub mod phase;
pub mod preflight;
pub mod recorder;
pub mod signals;

use crate::agent::command::{AgentInvocation, TaskEnv, build_invocation};
use crate::agent::prompt::{PromptError, PromptVars, render_prompt};
use crate::config::Settings;
use crate::events::{Event, Reporter, RunSummary, TaskSummary};
use crate::exec::StopLevel;
use crate::exit;
use crate::plan::PlannedGroup;
use crate::plan::{GroupState, group_state};
use crate::project::Project;
use crate::roadmap::{GroupKey, Roadmap};
use crate::status::{RecordStore, ResumeState, group_resume_state, write_pending};
use crate::vcs::Repo;
use attempt::AttemptJob;
use finish::GateOutcome;
use group::{GroupLimits, JobFactory, QueuedTask, run_group};
use recorder::Recorder;
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
    /// `None` only when the project is not a git repository (tests of parts).
    pub repo: Option<&'a Repo>,
    /// Run the agents again even where the records say only the gate failed.
    pub rerun_tasks: bool,
}

/// How the run is going: the summary being built.
struct Progress {
    tasks: Vec<TaskSummary>,
    completed: Vec<GroupKey>,
    exit_code: i32,
    message: String,
    next_steps: Vec<String>,
}

impl Progress {
    fn fail(&mut self, code: i32, message: String, next_steps: Vec<String>) {
        self.exit_code = code;
        self.message = message;
        self.next_steps.extend(next_steps);
    }
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
    let mut run = Progress {
        tasks: Vec::new(),
        completed: Vec::new(),
        exit_code: exit::OK,
        message: String::new(),
        next_steps: Vec::new(),
    };
    // A phase committed but not pushed by an earlier run goes out first.
    if let (Some(repo), true) = (inputs.repo, settings.git.push)
        && let Ok(n) = repo.unpushed_commits(&settings.git)
        && n > 0
        && let Err(f) = phase::push(repo, None, &settings.git, reporter)
    {
        run.fail(exit::VCS_FAILED, f.message, f.next_steps);
        return finish_summary(run, inputs, signals, started);
    }
    write_pending_file(inputs, reporter);
    let mut noted_no_gate = false;
    for planned in inputs.plan {
        if *stop.borrow() > StopLevel::Run {
            break;
        }
        if !run_one_group(
            inputs,
            planned,
            &stop,
            signals,
            reporter,
            &mut run,
            &mut noted_no_gate,
        )
        .await
        {
            break;
        }
    }
    finish_summary(run, inputs, signals, started)
}

/// One group from agents to completion (and its phase's commit when it is the
/// phase's last). Returns false when the run must stop.
async fn run_one_group(
    inputs: &RunInputs<'_>,
    planned: &PlannedGroup<'_>,
    stop: &watch::Receiver<StopLevel>,
    signals: &signals::SignalState,
    reporter: &mut dyn Reporter,
    run: &mut Progress,
    noted_no_gate: &mut bool,
) -> bool {
    let settings = inputs.settings;
    let project = inputs.project;
    let key = &planned.key;
    let group_started = Instant::now();
    tracing::info!(group = %key, tasks = planned.tasks.len(), "group");
    let before = finish::changed_fingerprints(inputs.repo, &project.dir);

    let to_run = tasks_to_run(inputs, planned, reporter);
    if planned.tasks.is_empty() {
        reporter.report(&Event::GroupSkipped {
            key: key.clone(),
            reason: "every task is marked done in the roadmap".into(),
        });
    } else if to_run.is_empty() {
        reporter.report(&Event::GroupSkipped {
            key: key.clone(),
            reason: "every task succeeded in an earlier run, only the gate runs again (--rerun-tasks runs the agents again)".into(),
        });
    } else {
        let queued: Vec<QueuedTask> = to_run
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
            key: key.clone(),
            phase_title: planned.phase.title.clone(),
            title: planned.group.title.clone(),
            annotation: planned.group.annotation.clone(),
            tasks: queued.len(),
            parallel: settings.max_parallel.min(queued.len()),
            task_ids: queued.iter().map(|t| t.task_id.clone()).collect(),
        });
        let mut jobs = GroupJobs {
            project,
            roadmap: inputs.roadmap,
            planned,
            settings,
            template: inputs.template,
            program: inputs.program,
        };
        let limits = GroupLimits {
            max_parallel: settings.max_parallel,
            retries: settings.retries,
            max_wait: settings.max_wait,
            fail_fast: settings.fail_fast,
        };
        let mut recorder = Recorder::new(reporter, &project.status, &project.dir, key);
        let group = run_group(key, queued, &limits, &mut jobs, stop.clone(), &mut recorder).await;
        recorder.finish();
        let failed = group
            .tasks
            .iter()
            .filter(|t| !t.outcome.is_success())
            .count();
        let interrupted = group
            .tasks
            .iter()
            .filter(|t| t.outcome == crate::agent::TaskOutcome::Interrupted)
            .count();
        reporter.report(&Event::GroupFinished {
            key: key.clone(),
            succeeded: group.tasks.len() - failed,
            failed: failed - interrupted,
            interrupted,
            duration: group_started.elapsed(),
        });
        run.tasks.extend(group.tasks.iter().cloned());
        if signals.received().is_some() {
            return false;
        }
        if let Some(auth) = group.auth_failure {
            run.fail(
                exit::PREFLIGHT_FAILED,
                format!("The agent is not logged in: {auth}"),
                vec![
                    "for unattended runs, log in with a long-lived credential: set ANTHROPIC_API_KEY, or run `claude setup-token` once and set CLAUDE_CODE_OAUTH_TOKEN in the runner's environment (cron's environment too)".into(),
                    "then run roadmap-runner again".into(),
                ],
            );
            return false;
        }
        if failed > 0 {
            let next = advice::after_failed_tasks(&group.tasks, settings.timeout);
            run.fail(
                exit::TASK_FAILED,
                format!(
                    "Phase {} Group {}: {failed} of {} did not succeed",
                    key.phase,
                    key.group,
                    crate::project::plural(group.tasks.len(), "task")
                ),
                next,
            );
            return false;
        }
    }
    if planned.partial {
        // One task run alone (`--task`) does not complete its group.
        return true;
    }

    let gate_steps = if planned.tasks.is_empty() {
        Vec::new()
    } else {
        match finish::run_group_gate(
            project,
            planned,
            settings,
            stop.clone(),
            reporter,
            noted_no_gate,
        )
        .await
        {
            GateOutcome::Passed(steps) => steps,
            GateOutcome::Skipped => Vec::new(),
            _ if signals.received().is_some() => return false,
            GateOutcome::Failed { report, log } => {
                let failing = report
                    .failure()
                    .map(|s| s.summary())
                    .unwrap_or_else(|| "a step".into());
                run.fail(
                    exit::GATE_FAILED,
                    format!("Phase {} Group {}: the gate failed: {failing}", key.phase, key.group),
                    vec![
                        format!("read the gate log {}", log.display()),
                        "fix the code, check with `roadmap-runner gate`, then run again: only the gate reruns (--rerun-tasks runs the agents again)".into(),
                    ],
                );
                return false;
            }
            GateOutcome::Error(e) => {
                run.fail(
                    exit::GATE_FAILED,
                    format!(
                        "Phase {} Group {}: the gate could not run: {e}",
                        key.phase, key.group
                    ),
                    vec!["fix the cause (see above), then run again: only the gate reruns".into()],
                );
                return false;
            }
        }
    };

    let after = finish::changed_fingerprints(inputs.repo, &project.dir);
    let changed = finish::files_changed_by_group(&before, &after);
    match finish::record_completion(
        project,
        &project.dir.join(&settings.report_dir),
        planned,
        &gate_steps,
        changed,
        group_started.elapsed(),
    ) {
        Ok(report) => {
            reporter.report(&Event::GroupCompleted {
                key: key.clone(),
                report: Some(report),
            });
            run.completed.push(key.clone());
        }
        Err(e) => {
            run.fail(
                exit::PREFLIGHT_FAILED,
                format!("{key}: cannot record the group as complete: {e}"),
                vec!["fix the status directory (permissions, disk space), then run again: only the gate reruns".into()],
            );
            return false;
        }
    }
    write_pending_file(inputs, reporter);

    if settings.git.commit
        && let Some(repo) = inputs.repo
        && phase_complete(inputs, planned.phase)
        && let Err(f) = phase::commit_phase(repo, planned.phase, &settings.git, reporter)
    {
        run.fail(exit::VCS_FAILED, f.message, f.next_steps);
        return false;
    }
    true
}

/// The tasks that still need an agent, from the attempt records: a fresh
/// group runs them all, a group that failed reruns only what did not
/// succeed, a group whose gate failed reruns none.
fn tasks_to_run<'a>(
    inputs: &RunInputs<'_>,
    planned: &PlannedGroup<'a>,
    reporter: &mut dyn Reporter,
) -> Vec<&'a crate::roadmap::Task> {
    if planned.partial || inputs.rerun_tasks {
        return planned.tasks.clone();
    }
    let records = match RecordStore::new(&inputs.project.status).load() {
        Ok((records, warnings)) => {
            for w in warnings {
                reporter.report(&Event::Warning {
                    message: format!("status/tasks.jsonl: {w}"),
                });
            }
            records
        }
        Err(e) => {
            reporter.report(&Event::Warning {
                message: format!("cannot read the attempt records, so every task runs: {e}"),
            });
            return planned.tasks.clone();
        }
    };
    let ids: Vec<String> = planned.tasks.iter().map(|t| t.id.clone()).collect();
    match group_resume_state(&records, &planned.key, &ids) {
        ResumeState::Fresh => planned.tasks.clone(),
        ResumeState::RerunFailed { succeeded, to_run } => {
            if !succeeded.is_empty() {
                reporter.report(&Event::Note {
                    message: format!(
                        "{}: resuming: {} succeeded in an earlier run; running {}",
                        planned.key,
                        succeeded.join(", "),
                        to_run.join(", ")
                    ),
                });
            }
            planned
                .tasks
                .iter()
                .copied()
                .filter(|t| to_run.contains(&t.id))
                .collect()
        }
        ResumeState::GateOnly => Vec::new(),
        // Completed once, yet not in completed_tasks.txt: the line was removed
        // by hand to run the group again.
        ResumeState::Complete => {
            reporter.report(&Event::Warning {
                message: format!(
                    "{} completed in an earlier run but is not in status/completed_tasks.txt (removed by hand?): running it again",
                    planned.key
                ),
            });
            planned.tasks.clone()
        }
    }
}

/// Every group of the phase is complete (or done in the roadmap).
fn phase_complete(inputs: &RunInputs<'_>, phase: &crate::roadmap::Phase) -> bool {
    let Ok((completed, _)) = inputs.project.status.load_completed() else {
        return false;
    };
    phase
        .groups
        .iter()
        .all(|g| group_state(&g.key(phase), g, &completed) != GroupState::Pending)
}

/// `status/pending_tasks.txt`: every group not yet complete, in order.
fn write_pending_file(inputs: &RunInputs<'_>, reporter: &mut dyn Reporter) {
    let status = &inputs.project.status;
    let Ok((completed, _)) = status.load_completed() else {
        return;
    };
    let pending: Vec<(GroupKey, Vec<String>)> = inputs
        .roadmap
        .groups()
        .filter(|(p, g)| group_state(&g.key(p), g, &completed) == GroupState::Pending)
        .map(|(p, g)| {
            let ids = g
                .tasks
                .iter()
                .filter(|t| !t.done_in_roadmap)
                .map(|t| t.id.clone())
                .collect();
            (g.key(p), ids)
        })
        .collect();
    if let Err(e) = write_pending(status, &pending) {
        reporter.report(&Event::Warning {
            message: format!("cannot update status/pending_tasks.txt: {e}"),
        });
    }
}

fn finish_summary(
    mut run: Progress,
    inputs: &RunInputs<'_>,
    signals: &signals::SignalState,
    started: Instant,
) -> RunSummary {
    if let Some(signo) = signals.received() {
        run.exit_code = exit::interrupted(signo);
        run.message = format!(
            "Interrupted by {}: every agent was stopped",
            signals::signal_name(signo)
        );
        run.next_steps.push(
            "run roadmap-runner again, as it is (no flag needed): the interrupted tasks run again, the ones that succeeded are kept".into(),
        );
    } else if run.exit_code == exit::OK {
        run.message = if inputs.plan.is_empty() {
            "Nothing to do: every selected group is complete".into()
        } else {
            "Run complete".into()
        };
    }
    // Folding from +0.0: an empty `sum()` of f64 is -0.0, shown as `$-0.00`.
    let cost_usd = run
        .tasks
        .iter()
        .filter_map(|t| t.cost_usd)
        .fold(0.0, |a, c| a + c);
    RunSummary {
        exit_code: run.exit_code,
        message: run.message,
        next_steps: run.next_steps,
        tasks: run.tasks,
        groups_completed: run.completed,
        duration: started.elapsed(),
        cost_usd,
    }
}
