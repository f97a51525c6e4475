//! The run: phase by phase, group by group, each group's tasks in parallel.
//! The runner owns all run state; attempts talk to it through messages and it
//! alone emits events to the reporter.

pub mod advice;
pub mod attempt;
pub mod budget;
pub mod executor;
pub mod finish;
pub mod group;
mod group_io;
pub mod isolation;
mod line;
pub mod merging;
pub mod phase;
pub mod preflight;
pub mod repair;
pub mod signals;
pub mod split;
mod sub;

use crate::agent::command::{AgentInvocation, TaskEnv, build_invocation};
use crate::agent::prompt::{PromptError, PromptVars, render_prompt};
use crate::config::Settings;
use crate::events::{Event, Reporter, RunSummary, TaskSummary};
use crate::exec::StopLevel;
use crate::exit;
use crate::gate;
use crate::plan::{GroupState, group_state};
use crate::project::Project;
use crate::resume::{Action, Decision, GroupAction, GroupStep, RunState};
use crate::roadmap::{GroupKey, Phase, Roadmap};
use crate::status::counts::usd;
use crate::status::{GroupBase, Store};
use crate::vcs::Repo;
use attempt::AttemptJob;
use finish::GateOutcome;
use group::{GroupIo, GroupLimits, JobFactory, QueuedTask, run_group};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Builds prompts, command lines and log paths for the tasks of one group.
pub struct GroupJobs<'a> {
    pub project: &'a Project,
    pub roadmap: &'a Roadmap,
    pub planned: &'a GroupAction<'a>,
    pub settings: &'a Settings,
    pub template: &'a str,
    /// The agent program as resolved by preflight (absolute when found on PATH).
    pub program: &'a Path,
    /// `--isolation worktree`: makes each task's worktree (None: shared tree).
    pub isolation: Option<isolation::TaskIsolation>,
    /// Where the group's tasks work (the one it began with, see
    /// [`crate::status::group_isolation`]): what the prompt tells them.
    pub mode: crate::config::Isolation,
    /// What runs the jobs: processes here, or the executor the run has
    /// (then no worktree is made here: the executor's side makes it).
    pub runner: Arc<dyn executor::TaskRunner>,
    /// Whether the tasks run on another machine: the prompt then names the
    /// split file relative to the project (the worker's checkout has it
    /// there, and sends it back; see docs/splitting.md).
    pub remote: bool,
}

impl<'a> GroupJobs<'a> {
    /// A group's jobs in the shared tree (worktrees and workers are set on
    /// the result when the group runs in them).
    pub fn new(
        project: &'a Project,
        roadmap: &'a Roadmap,
        planned: &'a GroupAction<'a>,
        settings: &'a Settings,
        template: &'a str,
        program: &'a Path,
    ) -> Self {
        GroupJobs {
            project,
            roadmap,
            planned,
            settings,
            template,
            program,
            isolation: None,
            mode: settings.isolation,
            runner: Arc::new(executor::Local),
            remote: false,
        }
    }

    /// The file a task may write its sub-roadmap to; `None` at the depth limit.
    pub fn split_file(&self, task_id: &str) -> Option<PathBuf> {
        let key = &self.planned.key;
        split::may_split(key, self.settings.max_recursion_depth)
            .then(|| split::sub_file(self.project, key, task_id))
    }

    pub fn prompt(&self, task_id: &str) -> Result<String, PromptError> {
        let pg = self.planned;
        let task = pg
            .group
            .tasks
            .iter()
            .find(|t| t.id == task_id)
            .expect("task of this group");
        let mut vars = PromptVars::new(self.roadmap, pg.phase, pg.group, task);
        vars.isolation = isolation::prompt_note(self.mode).into();
        // A worker's agent finds it where the coordinator's would, in its
        // own checkout: by the path relative to the project.
        let file = self
            .split_file(task_id)
            .map(|f| match f.strip_prefix(&self.project.dir) {
                Ok(rel) if self.remote => rel.to_path_buf(),
                _ => f,
            });
        let split = split::prompt_paragraph(file.as_deref());
        render_prompt(self.template, &vars).map(|p| {
            format!(
                "{}

{split}
",
                isolation::with_note(p, self.mode).trim_end()
            )
        })
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
        self.invocation_for(task_id, title, &prompt, resume, log_file, &[])
    }

    /// The command line of an agent given `prompt`, with `extra` arguments
    /// (a reviewer's `--json-schema`).
    pub fn invocation_for(
        &self,
        task_id: &str,
        title: &str,
        prompt: &str,
        resume: Option<&str>,
        log_file: &Path,
        extra: &[String],
    ) -> AgentInvocation {
        let env = self.task_env(task_id, title, log_file, true);
        self.invocation_on(self.task_agent(task_id), prompt, resume, &env, extra)
    }

    /// The `ROADMAP_*` variables of a task's agent.
    fn task_env(&self, task_id: &str, title: &str, log_file: &Path, task: bool) -> TaskEnv {
        TaskEnv {
            split_file: self.split_file(task_id).filter(|_| task),
            phase: self.planned.key.phase.clone(),
            group: self.planned.key.group.clone(),
            task_id: task_id.to_string(),
            task_title: title.to_string(),
            log_file: log_file.to_path_buf(),
        }
    }

    /// The settings of the agent a job runs on: the `profile`-th fallback
    /// (as in [`QueuedTask::profile`]) after a usage limit; else, by role,
    /// `[repair] agent` / `[review] agent`, or for a task its own `(agent:
    /// X)`, its group's, and last the run's agent.
    pub fn agent_for(
        &self,
        profile: usize,
        role: budget::Role,
        task_id: &str,
    ) -> &crate::config::AgentSettings {
        if let Some(i) = profile.checked_sub(1) {
            return &self.settings.agent_fallback[i];
        }
        match role {
            budget::Role::Repair => self.settings.repair_agent(),
            budget::Role::Review => self.settings.review_agent(),
            _ => self.task_agent(task_id),
        }
    }

    /// The agent a task of this group runs on first: the one a roadmap
    /// annotation names (the task's own, else its group's), else the run's.
    pub fn task_agent(&self, task_id: &str) -> &crate::config::AgentSettings {
        let group = self.planned.group;
        let named = group
            .tasks
            .iter()
            .find(|t| t.id == task_id)
            .and_then(|t| t.agent())
            .or_else(|| group.agent());
        match named {
            Some(name) => self.settings.agent_named(name.into()),
            None => &self.settings.agent,
        }
    }

    fn invocation_on(
        &self,
        agent: &crate::config::AgentSettings,
        prompt: &str,
        resume: Option<&str>,
        env: &TaskEnv,
        extra: &[String],
    ) -> AgentInvocation {
        let mut inv = build_invocation(agent, prompt, resume, env);
        // Another profile's program is found on PATH as preflight found it.
        if std::ptr::eq(agent, &self.settings.agent) {
            inv.program = self.program.as_os_str().to_os_string();
        }
        inv.args.extend(extra.iter().map(Into::into));
        inv
    }

    /// The job of an agent working for `role` on `prompt`.
    pub fn job_for(
        &self,
        task: &QueuedTask,
        prompt: &str,
        role: budget::Role,
        fingerprint: Option<String>,
        extra: &[String],
    ) -> AttemptJob {
        let log_path = self.log_path(&task.task_id);
        let env = self.task_env(
            &task.task_id,
            &task.title,
            &log_path,
            role == budget::Role::Task,
        );
        let agent = self.agent_for(task.profile, role, &task.task_id);
        let invocation = self.invocation_on(agent, prompt, task.resume.as_deref(), &env, extra);
        AttemptJob {
            task_id: task.task_id.clone(),
            attempt: task.attempt,
            invocation,
            cwd: self.project.dir.clone(),
            log_path,
            timeout: self.settings.timeout,
            grace: self.settings.grace,
            output: agent.output,
            role,
            fingerprint,
            setup: None,
            worktree: None,
        }
    }

    /// `logs/orchestrator/phase1_groupA_A1_20260109-212750.log`, made unique.
    pub fn log_path(&self, task_id: &str) -> PathBuf {
        let name = format!(
            "{}_{}",
            self.planned.key.log_stem(),
            crate::roadmap::slug(task_id)
        );
        crate::project::new_log_path(&self.project.orchestrator_logs(), &name)
    }
}

impl JobFactory for GroupJobs<'_> {
    fn job(&mut self, task: &QueuedTask) -> AttemptJob {
        let full = self
            .prompt(&task.task_id)
            .expect("prompt rendered in preflight");
        // A retry after a failure is told how the attempt ended: in its own
        // session a short follow-up is enough; a cold start gets it all (on
        // a worker always: the session stayed where the attempt ran).
        let resume = task.resume.as_ref().filter(|_| !self.remote);
        let prompt = match (&task.previous, resume) {
            (Some(prev), Some(_)) => format!(
                "Your previous attempt at task {} ended with: {prev}\n\nGo on from where you stopped and finish the task as it was given to you.\n",
                task.task_id
            ),
            (Some(prev), None) => {
                format!("{full}\n\nYour previous attempt at this task ended with: {prev}\n")
            }
            (None, _) => full,
        };
        // What an earlier attempt wrote was examined then: this one starts clean.
        let file = split::sub_file(self.project, &self.planned.key, &task.task_id);
        let _ = std::fs::remove_file(&file);
        if let Some(dir) = file
            .parent()
            .filter(|_| self.split_file(&task.task_id).is_some())
        {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut job = self.job_for(task, &prompt, budget::Role::Task, None, &[]);
        if let Some(iso) = &mut self.isolation {
            // Worktree mode: the task's own worktree becomes its cwd.
            iso.prepare(task, &mut job);
        }
        job
    }

    fn runner(&self) -> Arc<dyn executor::TaskRunner> {
        self.runner.clone()
    }

    fn succeeded(&mut self, task_id: &str, io: &mut GroupIo<'_, '_>) {
        // `--task` integrates nothing: the group's next full run does.
        if self.planned.partial {
            return;
        }
        let task = self.planned.group.tasks.iter().find(|t| t.id == task_id);
        if let (Some(iso), Some(task)) = (&mut self.isolation, task) {
            iso.merge_now(task, io);
        }
    }

    fn ahead(&mut self, next: &QueuedTask) {
        if let Some(iso) = &mut self.isolation {
            iso.make_ahead(next);
        }
    }

    fn examine(&mut self, res: &mut attempt::AttemptResult, reporter: &mut dyn Reporter) {
        if res.job.role != budget::Role::Task {
            return;
        }
        let file = split::sub_file(self.project, &self.planned.key, &res.job.task_id);
        let allowed = self.split_file(&res.job.task_id).is_some();
        if let Some(message) = split::examine(res, &file, allowed) {
            reporter.report(&Event::Warning { message });
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
    /// The state the decision was made from (loaded under the lock).
    pub state: &'a RunState,
    pub decision: &'a Decision<'a>,
    /// `None` only when the project is not a git repository (tests of parts).
    pub repo: Option<&'a Repo>,
    /// Where the tasks run, chosen by the command.
    pub executor: &'a dyn executor::Executor,
}

impl RunInputs<'_> {
    /// The command lines, prompts and logs of a group's agents.
    fn jobs<'p>(
        &'p self,
        planned: &'p GroupAction<'p>,
        isolation: Option<isolation::TaskIsolation>,
        mode: crate::config::Isolation,
    ) -> GroupJobs<'p> {
        GroupJobs {
            project: self.project,
            roadmap: self.roadmap,
            planned,
            settings: self.settings,
            template: self.template,
            program: self.program,
            isolation,
            mode,
            runner: Arc::new(executor::Local),
            remote: false,
        }
    }
}

/// How the run is going: the summary being built.
struct Progress {
    tasks: Vec<TaskSummary>,
    completed: Vec<GroupKey>,
    exit_code: i32,
    message: String,
    next_steps: Vec<String>,
    /// The no-gate note is said once per run.
    noted_no_gate: bool,
    /// Tasks of the groups acted on that did not run: done in the roadmap
    /// or succeeded in an earlier run.
    skipped: usize,
    group_times: Vec<crate::events::GroupTime>,
}

impl Progress {
    fn fail(&mut self, code: i32, message: String, next_steps: Vec<String>) {
        self.exit_code = code;
        self.message = message;
        self.next_steps.extend(next_steps);
    }
}

/// What every step of the run shares.
struct Ctx<'i, 'a, 's> {
    inputs: &'i RunInputs<'a>,
    stop: &'i watch::Receiver<StopLevel>,
    signals: &'i signals::SignalState,
    store: Store<'s>,
    run: Progress,
    /// What the run may spend (`--max-cost`) and has spent.
    budget: budget::Budget,
    /// Where the current group's tasks work: the isolation it began with.
    isolation: crate::config::Isolation,
    /// The user's changes kept out of every snapshot and commit of the run.
    left_out: Option<crate::vcs::LeftOut>,
    /// The tree the last group of this run handed back.
    held: Option<String>,
}

/// Runs the decision's actions to the end or to the first failure; returns
/// the summary whose `exit_code` is the process exit code.
pub async fn execute(
    inputs: &RunInputs<'_>,
    stop: watch::Receiver<StopLevel>,
    signals: &signals::SignalState,
    reporter: &mut dyn Reporter,
) -> RunSummary {
    let started = Instant::now();
    let settings = inputs.settings;
    let groups: Vec<&GroupAction> = inputs.decision.groups().collect();
    reporter.report(&Event::RunStarted {
        roadmap: inputs.roadmap_display.to_string(),
        groups: groups.len(),
        tasks: groups.iter().map(|g| g.tasks().len()).sum(),
        max_parallel: settings.max_parallel,
        timeout: settings.timeout,
        dry_run: false,
        max_cost: settings.max_cost,
    });
    let mut ctx = Ctx {
        inputs,
        stop: &stop,
        signals,
        store: Store::open(&inputs.project.status, inputs.state.view()),
        budget: budget::Budget::new(settings.max_cost),
        isolation: settings.isolation,
        left_out: inputs.decision.left_out.clone(),
        held: None,
        run: Progress {
            tasks: Vec::new(),
            completed: Vec::new(),
            exit_code: exit::OK,
            message: String::new(),
            next_steps: Vec::new(),
            noted_no_gate: false,
            skipped: 0,
            group_times: Vec::new(),
        },
    };
    write_pending_file(inputs, &ctx.store, reporter);
    if let Some(left_out) = &ctx.left_out {
        reporter.report(&Event::Warning {
            message: line::left_out_warning(left_out),
        });
    }
    if !ctx.start_executor(reporter).await {
        return finish_summary(ctx.run, inputs, signals, started);
    }
    for action in &inputs.decision.actions {
        if *stop.borrow() > StopLevel::Run || !ctx.act(action, reporter).await {
            break;
        }
    }
    // Whatever the run did: a phase whose commit is out (a run killed
    // after its push, say) needs its task branches no more.
    ctx.release_committed(reporter);
    finish_summary(ctx.run, inputs, signals, started)
}

impl Ctx<'_, '_, '_> {
    /// One action; false when the run must stop.
    async fn act(&mut self, action: &Action<'_>, reporter: &mut dyn Reporter) -> bool {
        let git = &self.inputs.settings.git;
        match action {
            Action::Group(g) => {
                let ok = self.run_one_group(g, reporter).await;
                // However the group ended, the runner hands the tree back.
                self.snapshot(&g.key, crate::status::SnapshotPoint::End, reporter);
                ok
            }
            Action::CommitPhase { phase, leftover } => self.commit(phase, *leftover, reporter),
            // A phase committed but not pushed by an earlier run goes out first
            // (never the user's own unpushed commits, unless push_foreign allows it).
            Action::Push => match self.inputs.repo {
                Some(repo) if git.push => match phase::push_pending(repo, git, reporter) {
                    Ok(()) => {
                        self.release_committed(reporter);
                        true
                    }
                    Err(f) => {
                        self.run.fail(exit::VCS_FAILED, f.message, f.next_steps);
                        false
                    }
                },
                _ => true,
            },
            Action::Stop { reason, .. } => {
                self.run.fail(
                    exit::ROADMAP_INVALID,
                    reason.clone(),
                    vec!["`roadmap-runner validate` shows what was read under each heading".into()],
                );
                false
            }
        }
    }

    fn push_after_commit(&mut self, phase: Option<&Phase>, reporter: &mut dyn Reporter) -> bool {
        let git = &self.inputs.settings.git;
        let Some(repo) = self.inputs.repo.filter(|_| git.push) else {
            return true;
        };
        match phase::push(repo, phase.map(|p| &p.number), git, reporter) {
            Ok(()) => {
                crate::status::store::crash_point("pushed");
                true
            }
            Err(f) => {
                self.run.fail(exit::VCS_FAILED, f.message, f.next_steps);
                false
            }
        }
    }

    /// Commits a complete phase (with commits off: records that none is owed).
    fn commit(&mut self, phase: &Phase, leftover: bool, reporter: &mut dyn Reporter) -> bool {
        let git = &self.inputs.settings.git;
        let Some(repo) = self.inputs.repo.filter(|_| git.commit) else {
            if let Err(e) = self.store.commit_skipped(&phase.number) {
                reporter.report(&Event::Warning {
                    message: format!("cannot record Phase {} as complete: {e}", phase.number),
                });
            }
            return true;
        };
        if leftover {
            reporter.report(&Event::Note {
                message: format!(
                    "Phase {} is complete but was not committed (the commit failed or the run stopped first): committing it now, before any new work",
                    phase.number
                ),
            });
        }
        let skipped: Vec<String> = self
            .inputs
            .decision
            .hand_skipped
            .iter()
            .filter(|k| k.phase == phase.number)
            .map(|k| k.group.clone())
            .collect();
        let what = phase::PhaseCommit {
            phase,
            left_out: self.left_out.as_ref(),
            skipped: &skipped,
            splits: split::commit_lines(self.inputs.project, phase),
        };
        match phase::commit_phase(repo, &what, &mut self.store, reporter) {
            Ok(()) => {
                let out = self.push_after_commit(Some(phase), reporter);
                if out {
                    // The phase commit is out: its task branches can go.
                    self.release_committed(reporter);
                }
                out
            }
            Err(f) => {
                self.run.fail(exit::VCS_FAILED, f.message, f.next_steps);
                false
            }
        }
    }

    /// One group from agents to completion. Returns false when the run must stop.
    async fn run_one_group(
        &mut self,
        planned: &GroupAction<'_>,
        reporter: &mut dyn Reporter,
    ) -> bool {
        let key = &planned.key;
        let to_run = planned.tasks();
        tracing::info!(group = %key, tasks = to_run.len(), "group");
        if !planned.partial {
            self.run.skipped += planned.group.tasks.len().saturating_sub(to_run.len());
        }
        match planned.step {
            GroupStep::RecordComplete => {
                reporter.report(&Event::Note {
                    message: format!(
                        "{key}: its gate passed in a run that stopped before recording the group complete: recording it now"
                    ),
                });
                return self.complete(planned, &[], reporter);
            }
            GroupStep::DoneInRoadmap => {
                reporter.report(&Event::GroupSkipped {
                    key: key.clone(),
                    reason: "every task is marked done in the roadmap".into(),
                });
                return self.complete(planned, &[], reporter);
            }
            GroupStep::Run { .. } | GroupStep::GateOnly => {}
        }
        self.group_started(planned, reporter);
        if let GroupStep::Run { succeeded, .. } = &planned.step
            && !succeeded.is_empty()
        {
            let ids: Vec<&str> = to_run.iter().map(|t| t.id.as_str()).collect();
            reporter.report(&Event::Note {
                message: format!(
                    "{key}: resuming: {} succeeded in an earlier run; running {}",
                    succeeded.join(", "),
                    ids.join(", ")
                ),
            });
        }
        let splits_left =
            matches!(&planned.step, GroupStep::Run { split, .. } if !split.is_empty());
        if to_run.is_empty() && !splits_left {
            reporter.report(&Event::GroupSkipped {
                key: key.clone(),
                reason: "every task succeeded in an earlier run, only the gate runs again (--rerun-tasks runs the agents again)".into(),
            });
        } else if !to_run.is_empty() && !self.run_agents(planned, reporter).await {
            self.group_ended(reporter);
            return false;
        }
        // The split tasks' sub-roadmaps run in their place, before the gate.
        if !self.run_splits(planned, reporter).await {
            self.group_ended(reporter);
            return false;
        }
        if planned.partial {
            // One task run alone (`--task`) does not complete its group.
            self.group_ended(reporter);
            return true;
        }
        // Worktree mode: every task's change merged into the tree the gate checks.
        if !self.integrate(planned, reporter).await {
            self.group_ended(reporter);
            return false;
        }
        let gate_steps = self.gate(planned, reporter).await;
        let ok = match gate_steps {
            Some(steps) => self.complete(planned, &steps, reporter),
            None => false,
        };
        self.group_ended(reporter);
        ok
    }

    fn group_started(&mut self, planned: &GroupAction<'_>, reporter: &mut dyn Reporter) {
        let key = &planned.key;
        let restart = matches!(planned.step, GroupStep::Run { restart: true, .. });
        let first = restart || self.store.view().base(key).is_none();
        let base = first.then(|| group_base_now(self.inputs.repo));
        self.snapshot(key, crate::status::SnapshotPoint::Start, reporter);
        if restart {
            reporter.report(&Event::Note {
                message: format!(
                    "{key} completed in an earlier run but is not in status/completed_tasks.txt (removed by hand?): running it again"
                ),
            });
        }
        self.isolation = self.group_isolation(planned, restart, reporter);
        if let Err(e) = self.store.group_started(key, restart, base, self.isolation) {
            reporter.report(&Event::Warning {
                message: format!("cannot record the start of {key}: {e}"),
            });
        }
    }

    /// The run's budget is spent: it stops here, and the next run goes on.
    fn budget_spent(&mut self) {
        let limit = self.budget.limit.unwrap_or_default();
        self.run.fail(
            exit::BUDGET_SPENT,
            format!(
                "The run's budget is spent: {} of {} (--max-cost); no agent was started after that",
                usd(self.budget.spent.total()),
                usd(limit)
            ),
            vec![
                "run roadmap-runner again (with a new --max-cost or [run] max_cost) to go on: what succeeded is not run again".into(),
            ],
        );
    }

    fn group_ended(&mut self, reporter: &mut dyn Reporter) {
        if let Err(e) = self.store.group_ended() {
            reporter.report(&Event::Warning {
                message: format!("cannot clear the in-progress file: {e}"),
            });
        }
    }

    /// The group's agents; false when the run must stop (a task failed, the
    /// agent is not logged in, or a signal).
    async fn run_agents(&mut self, planned: &GroupAction<'_>, reporter: &mut dyn Reporter) -> bool {
        let inputs = self.inputs;
        let settings = inputs.settings;
        let key = &planned.key;
        let group_started = Instant::now();
        // Queued longest expected first, from the records of earlier runs.
        let records = &inputs.state.records;
        let order =
            crate::plan::order::group_order(records, key, planned.tasks(), settings.max_parallel);
        let queued: Vec<QueuedTask> = planned
            .tasks()
            .iter()
            .zip(&order.expected)
            .map(|(t, e)| QueuedTask {
                expected: e.duration,
                ..QueuedTask::new(t.id.clone(), t.title.clone())
            })
            .collect();
        // Run elsewhere, every task is handed over at once: the slots there decide.
        let remote = inputs.executor.remote();
        let max_parallel = if remote {
            queued.len().max(1)
        } else {
            settings.max_parallel
        };
        reporter.report(&Event::GroupStarted {
            key: key.clone(),
            phase_title: planned.phase.title.clone(),
            title: planned.group.title.clone(),
            annotation: planned.group.annotation.clone(),
            tasks: queued.len(),
            parallel: max_parallel.min(queued.len()),
            task_ids: queued.iter().map(|t| t.task_id.clone()).collect(),
        });
        let isolation = self.task_isolation(key);
        let mut jobs = inputs.jobs(planned, isolation, self.isolation);
        jobs.remote = remote;
        match self.dispatch(planned) {
            Ok(runner) => jobs.runner = runner,
            Err(refusal) => {
                let message = format!("{key}: {}", refusal.message);
                self.run.fail(exit::VCS_FAILED, message, refusal.next_steps);
                return false;
            }
        }
        let limits = GroupLimits {
            max_parallel,
            retries: settings.retries,
            max_wait: settings.max_wait,
            fail_fast: settings.fail_fast,
            fallbacks: settings
                .agent_fallback
                .iter()
                .map(|a| a.kind().to_string())
                .collect(),
        };
        let mut io = GroupIo {
            reporter: &mut *reporter,
            store: &mut self.store,
            project_dir: &inputs.project.dir,
            budget: &mut self.budget,
        };
        let group = run_group(key, queued, &limits, &mut jobs, self.stop.clone(), &mut io).await;
        let counts = RunSummary::count(&group.tasks, 0);
        let failed = counts.did_not_succeed();
        self.run.group_times.push(crate::events::GroupTime {
            key: key.clone(),
            expected: order.makespan,
            duration: group_started.elapsed(),
        });
        reporter.report(&Event::GroupFinished {
            key: key.clone(),
            counts,
            duration: group_started.elapsed(),
        });
        self.run.tasks.extend(group.tasks.iter().cloned());
        self.agents_ended(key, &group, failed)
    }

    /// After the group's agents: false (with the run failed) when the run
    /// must stop.
    fn agents_ended(&mut self, key: &GroupKey, group: &group::GroupRun, failed: usize) -> bool {
        let settings = self.inputs.settings;
        if self.signals.received().is_some() {
            return false;
        }
        if group.budget_stopped {
            self.budget_spent();
            return false;
        }
        if let Some(auth) = &group.auth_failure {
            self.run.fail(
                exit::PREFLIGHT_FAILED,
                format!("The agent is not logged in: {auth}"),
                vec![
                    settings.agent.kind().login_advice().into(),
                    "then run roadmap-runner again".into(),
                ],
            );
            return false;
        }
        if failed > 0 {
            let mut next = advice::after_failed_tasks(&group.tasks, settings.timeout);
            next.extend(self.kept_worktrees(key, &group.tasks));
            self.run.fail(
                exit::TASK_FAILED,
                format!(
                    "Phase {} Group {}: {failed} of {} did not succeed",
                    key.phase,
                    key.group,
                    crate::text::plural(group.tasks.len(), "task")
                ),
                next,
            );
            return false;
        }
        true
    }

    /// One run of the group's gate.
    async fn gate_once(
        &mut self,
        planned: &GroupAction<'_>,
        reporter: &mut dyn Reporter,
    ) -> GateOutcome {
        finish::run_group_gate(
            self.inputs.project,
            planned,
            self.inputs.settings,
            self.stop.clone(),
            &mut finish::GateIo {
                reporter: &mut *reporter,
                store: &mut self.store,
                noted_no_gate: &mut self.run.noted_no_gate,
            },
        )
        .await
    }

    /// Records the group complete: report, `completed_tasks.txt`, record.
    fn complete(
        &mut self,
        planned: &GroupAction<'_>,
        gate_steps: &[gate::StepResult],
        reporter: &mut dyn Reporter,
    ) -> bool {
        let key = &planned.key;
        // A sub-roadmap's tasks are not in the roadmap file.
        if self.inputs.settings.write_back && key.depth() == 0 {
            match finish::write_back(self.inputs.project, planned) {
                Ok(0) => {}
                Ok(n) => reporter.report(&Event::Note {
                    message: format!(
                        "{key}: ticked {} in the roadmap",
                        crate::text::plural(n, "task")
                    ),
                }),
                Err(e) => reporter.report(&Event::Warning {
                    message: format!("{key}: cannot tick its tasks in the roadmap: {e}"),
                }),
            }
        }
        // A group none of whose tasks ran (all ticked in the roadmap) gets no report.
        let report_dir = match key.depth() {
            0 => crate::status::report_dir(
                &self.inputs.project.dir,
                &self.inputs.settings.report_dir,
                self.inputs.roadmap.dialect,
            ),
            _ => self.inputs.project.status.file("reports"),
        };
        let ran = !matches!(planned.step, GroupStep::DoneInRoadmap);
        match finish::record_completion(
            self.inputs.repo,
            ran.then_some(report_dir.as_path()),
            planned,
            gate_steps,
            &mut self.store,
            &|key, task| split::load(self.inputs.project, key, task).ok(),
        ) {
            Ok(report) => {
                reporter.report(&Event::GroupCompleted {
                    key: key.clone(),
                    report,
                });
                self.run.completed.push(key.clone());
                write_pending_file(self.inputs, &self.store, reporter);
                true
            }
            Err(e) => {
                self.run.fail(
                    exit::PREFLIGHT_FAILED,
                    format!("{key}: cannot record the group as complete: {e}"),
                    vec!["fix the status directory (permissions, disk space), then run again: only the gate reruns".into()],
                );
                false
            }
        }
    }
}

/// HEAD and the blob ids of the files that differ from it now.
fn group_base_now(repo: Option<&Repo>) -> GroupBase {
    let Some(repo) = repo else {
        return GroupBase::default();
    };
    let files = repo
        .changed_files_since(None)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| !crate::vcs::is_runner_file(f))
        .map(|f| {
            let id = repo.file_id(&f);
            (f, id)
        })
        .collect();
    GroupBase {
        head: repo.head_commit_id(),
        files,
    }
}

/// `status/pending_tasks.txt`: every group not yet complete, in order.
fn write_pending_file(inputs: &RunInputs<'_>, store: &Store<'_>, reporter: &mut dyn Reporter) {
    let completed = store.view().completed();
    let pending: Vec<(GroupKey, Vec<String>)> = inputs
        .roadmap
        .groups()
        .filter(|(p, g)| group_state(&g.key(p), p, g, completed) == GroupState::Pending)
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
    if let Err(e) = store.write_pending(&pending) {
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
        run.message = if inputs.decision.is_empty() {
            "Nothing to do: every selected group is complete".into()
        } else {
            "Run complete".into()
        };
    }
    let counts = RunSummary::count(&run.tasks, run.skipped);
    RunSummary {
        exit_code: run.exit_code,
        message: run.message,
        next_steps: run.next_steps,
        tasks: run.tasks,
        groups_completed: run.completed,
        duration: started.elapsed(),
        cost_usd: counts.cost.total(),
        costs: counts.cost,
        counts,
        group_times: run.group_times,
    }
}
