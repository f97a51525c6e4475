//! A conflict of a task's merge handed to resolver agents: at most
//! `resolve_attempts` of them, each result checked for markers left and for
//! a side's change dropped.

use super::super::Ctx;
use super::super::attempt::{AttemptJob, AttemptMsg, AttemptResult, run_attempt};
use super::names;
use crate::agent::command::{TaskEnv, build_invocation};
use crate::agent::prompt::{ResolverPrompt, resolver_prompt};
use crate::events::{Event, Reporter};
use crate::resume::GroupAction;
use crate::roadmap::Task;
use crate::vcs::Repo;
use crate::worktree::{self, Conflict, Dropped, Side, Unresolved, Worktrees};
use git2::Oid;
use std::ffi::OsString;

/// A conflict being resolved: what the resolver is given.
pub(super) struct Resolving<'r> {
    pub(super) repo: &'r Repo,
    pub(super) wts: &'r Worktrees,
    pub(super) planned: &'r GroupAction<'r>,
    pub(super) task: &'r Task,
    /// The merged tasks whose changes touch the conflicted files.
    pub(super) others: Vec<&'r Task>,
    /// Every merged task with the files it changed, to name a lost side.
    pub(super) merged: &'r [(&'r Task, Vec<String>)],
    pub(super) conflict: &'r Conflict,
}

/// How one resolver attempt ended.
enum Resolution {
    Merged(Oid),
    /// Conflict markers are left in these files.
    Marked(Vec<String>),
    /// The result lost (part of) a side's change in these files.
    Dropped(Vec<Dropped>),
    Failed(String),
    /// A signal: the run stops.
    Stopped,
}

impl Ctx<'_, '_, '_> {
    /// Resolver agents on the conflicted merge, at most `resolve_attempts`,
    /// stopping early when the same files keep their markers. The merge
    /// commit of the resolved tree, or what the last attempt's result lost
    /// (empty when it failed otherwise).
    pub(super) async fn resolve(
        &mut self,
        r: &Resolving<'_>,
        reporter: &mut dyn Reporter,
    ) -> Result<Oid, Vec<Dropped>> {
        let key = &r.planned.key;
        let attempts = self.inputs.settings.worktree.resolve_attempts;
        let mut last: Option<Vec<String>> = None;
        let mut result = Err(Vec::new());
        for attempt in 1..=attempts {
            reporter.report(&Event::Warning {
                message: format!(
                    "{key}: {} conflicts with {} in {}: a resolver agent merges them (attempt {attempt} of {attempts})",
                    r.task.id,
                    names(&r.others),
                    r.conflict.files.join(", ")
                ),
            });
            let why = match self.resolve_once(r, reporter).await {
                Resolution::Merged(to) => {
                    result = Ok(to);
                    break;
                }
                Resolution::Stopped => break,
                Resolution::Dropped(dropped) => {
                    let lost = lost_changes(&dropped, r.task, r.merged);
                    result = Err(dropped);
                    format!("its result lost {}: not taken", lost.join("; "))
                }
                Resolution::Marked(files) => {
                    result = Err(Vec::new());
                    let same = last.as_ref() == Some(&files);
                    let why = format!("conflict markers are left in {}", files.join(", "));
                    last = Some(files);
                    if same {
                        reporter.report(&Event::Warning {
                            message: format!(
                                "{key}: resolving {}: {why} again: giving up",
                                r.task.id
                            ),
                        });
                        break;
                    }
                    why
                }
                Resolution::Failed(why) => {
                    result = Err(Vec::new());
                    why
                }
            };
            reporter.report(&Event::Warning {
                message: format!("{key}: resolving {}: {why}", r.task.id),
            });
        }
        if let Err(e) = worktree::remove_group_worktrees(r.repo, r.wts, key, &[]) {
            reporter.report(&Event::Warning {
                message: format!("{key}: cannot remove the resolver's worktree: {e}"),
            });
        }
        result
    }

    /// One resolver agent in a fresh worktree holding the conflicted merge.
    async fn resolve_once(&mut self, r: &Resolving<'_>, reporter: &mut dyn Reporter) -> Resolution {
        let wt = match worktree::start_resolver(r.repo, r.wts, &r.planned.key, r.conflict) {
            Ok(wt) => wt,
            Err(e) => return Resolution::Failed(format!("cannot start the resolver: {e}")),
        };
        let job = self.resolver_job(r, &wt);
        let log = job.log_path.clone();
        let res = self.run_tracked(job, reporter).await;
        if self.signals.received().is_some() {
            return Resolution::Stopped;
        }
        if !res.outcome.is_success() {
            let label = res.outcome.label();
            return Resolution::Failed(format!("the resolver {label} (log {})", log.display()));
        }
        let message = format!("{}: {}", r.task.id, r.task.title);
        match worktree::resolved_merge(r.repo, r.wts, &wt, r.conflict, &message) {
            Ok(Ok(to)) => Resolution::Merged(to),
            Ok(Err(Unresolved::Marked(marked))) => Resolution::Marked(marked),
            Ok(Err(Unresolved::Dropped(dropped))) => Resolution::Dropped(dropped),
            Err(e) => Resolution::Failed(format!("cannot take its result: {e}")),
        }
    }

    /// Runs a resolver attempt, named in the in-progress file while it runs
    /// so a run killed meanwhile leaves no agent behind.
    async fn run_tracked(&mut self, job: AttemptJob, reporter: &mut dyn Reporter) -> AttemptResult {
        let id = job.task_id.clone();
        let rel = crate::project::relative_display(&self.inputs.project.dir, &job.log_path);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let attempt = run_attempt(job, self.stop.clone(), tx);
        tokio::pin!(attempt);
        let res = loop {
            tokio::select! {
                Some(msg) = rx.recv() => {
                    if let AttemptMsg::Started { pid, .. } = msg
                        && let Err(e) = self.store.task_started(&id, pid, Some(rel.clone()))
                    {
                        reporter.report(&Event::Warning { message: format!("cannot update the in-progress file: {e}") });
                    }
                }
                res = &mut attempt => break res,
            }
        };
        if let Err(e) = self.store.helper_finished(&id) {
            reporter.report(&Event::Warning {
                message: format!("cannot update the in-progress file: {e}"),
            });
        }
        res
    }

    fn resolver_job(&self, r: &Resolving<'_>, wt: &worktree::TaskWorktree) -> AttemptJob {
        let settings = self.inputs.settings;
        let (planned, task, conflict) = (r.planned, r.task, r.conflict);
        let prompt = resolver_prompt(&ResolverPrompt {
            phase: planned.phase,
            group: planned.group,
            task,
            others: r.others.clone(),
            hunks: &conflict.hunks,
        });
        let log_path = self.inputs.project.orchestrator_logs().join(format!(
            "{}_{}_resolve_{}.log",
            planned.key.log_stem(),
            crate::roadmap::slug(&task.id),
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        ));
        let env = TaskEnv {
            phase: planned.key.phase.clone(),
            group: planned.key.group.clone(),
            task_id: task.id.clone(),
            task_title: task.title.clone(),
            log_file: log_path.clone(),
            split_file: None,
        };
        // `[repair] agent` resolves conflicts too; the run's keeps its program.
        let agent = settings.repair_agent();
        let mut invocation = build_invocation(agent, &prompt, None, &env);
        if std::ptr::eq(agent, &settings.agent) {
            invocation.program = self.inputs.program.as_os_str().to_os_string();
        }
        invocation
            .env
            .push(("ROADMAP_ROLE".into(), "resolver".into()));
        invocation.env.push((
            "ROADMAP_CONFLICT_FILES".into(),
            OsString::from(conflict.files.join("\n")),
        ));
        AttemptJob {
            // An id the in-progress file reads back (no task runs while a resolver does).
            task_id: format!("{}_resolve", task.id),
            attempt: 1,
            invocation,
            cwd: wt.cwd.clone(),
            log_path,
            timeout: settings.timeout,
            grace: settings.grace,
            output: agent.output,
            // Conflict resolution spends from the run's budget as repairs do.
            role: super::super::budget::Role::Repair,
            fingerprint: None,
            setup: None,
            worktree: None,
        }
    }
}

/// "A1's change to shared.txt" for each file a resolution lost, the side
/// named by the task (or merged tasks) whose change it was.
pub(super) fn lost_changes(
    dropped: &[Dropped],
    task: &Task,
    merged: &[(&Task, Vec<String>)],
) -> Vec<String> {
    dropped
        .iter()
        .map(|d| {
            let whose = match d.side {
                Side::Task => format!("{}'s change", task.id),
                Side::Merged => {
                    let by: Vec<&Task> = merged
                        .iter()
                        .filter(|(_, files)| files.contains(&d.file))
                        .map(|(t, _)| *t)
                        .collect();
                    match by.is_empty() {
                        true => "the project tree's own change".to_string(),
                        false => format!("{}'s change", names(&by)),
                    }
                }
            };
            format!("{whose} to {}", d.file)
        })
        .collect()
}
