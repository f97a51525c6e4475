//! A group's jobs: each task's prompt, environment, agent command line and
//! log path, and the hooks the group's loop calls (a success merged, the
//! next worktree made ahead, a split file examined).

use super::attempt::{self, AttemptJob};
use super::group::{GroupIo, JobFactory, QueuedTask};
use super::{budget, executor, isolation, split};
use crate::agent::command::{AgentInvocation, TaskEnv, build_invocation};
use crate::agent::prompt::{PromptError, PromptVars, render_prompt};
use crate::config::Settings;
use crate::events::{Event, Reporter};
use crate::project::Project;
use crate::resume::GroupAction;
use crate::roadmap::Roadmap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
