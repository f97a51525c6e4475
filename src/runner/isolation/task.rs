//! One group's task worktrees: made from the group's base as each attempt
//! is built (or ahead, on a thread of their own, while the slots are busy),
//! and each success merged as it arrives.

use super::super::attempt::{AttemptJob, Setup};
use super::super::group::QueuedTask;
use crate::config::{Isolation, Settings};
use crate::project::Project;
use crate::roadmap::{GroupKey, Task};
use crate::vcs::Repo;
use crate::worktree::{self, Worktrees, task_name};
use git2::Oid;

/// Makes each task's worktree as its attempt is built (`GroupJobs::job`).
pub struct TaskIsolation {
    wts: Worktrees,
    repo: Repo,
    key: GroupKey,
    /// The group's base, made before the first worktree of this run.
    base: Option<Result<Oid, String>>,
    arriving: super::super::merging::Arriving,
    /// Worktrees being made ahead, off the runner's loop, for first
    /// attempts while agents run, by task id: a freed slot starts its next
    /// task without waiting for one.
    ahead: std::collections::HashMap<String, MadeAhead>,
    /// Run on workers: no worktree is made here.
    remote: bool,
}

impl TaskIsolation {
    /// `remote`: the tasks run on workers (`--nats`), which make their own
    /// worktrees; only their branches are merged here, as they arrive.
    pub fn new(
        project: &Project,
        settings: &Settings,
        isolation: Isolation,
        key: &GroupKey,
        remote: bool,
    ) -> Option<TaskIsolation> {
        if isolation != Isolation::Worktree {
            return None;
        }
        let repo = Repo::open(&project.dir).ok()?;
        Some(TaskIsolation {
            wts: Worktrees::new(&project.dir, repo.workdir(), &settings.worktree),
            repo,
            key: key.clone(),
            base: None,
            arriving: match remote {
                true => super::super::merging::Arriving::remote(settings.git.clone()),
                false => Default::default(),
            },
            ahead: Default::default(),
            remote,
        })
    }

    /// A task succeeded: its change merged into the project tree now
    /// ([`super::merging`]).
    pub fn merge_now(&mut self, task: &Task, io: &mut super::super::group::GroupIo<'_, '_>) {
        self.arriving
            .merge(&self.repo, &self.wts, &self.key, task, io);
    }

    fn base(&mut self) -> Result<Oid, String> {
        let (repo, wts, key) = (&self.repo, &self.wts, &self.key);
        self.base
            .get_or_insert_with(|| {
                worktree::make_base(repo, key, &wts.excluded()).map_err(|e| e.to_string())
            })
            .clone()
    }

    /// A fresh worktree from the base: its cwd.
    fn make(&mut self, task_id: &str) -> Result<std::path::PathBuf, String> {
        let name = task_name(&self.key, task_id);
        self.base().and_then(|base| {
            worktree::create_task_worktree(&self.wts, self.repo.git2(), &name, base)
                .map(|wt| wt.cwd)
                .map_err(|e| format!("cannot make the task's worktree: {e}"))
        })
    }

    /// The next queued task's worktree, made on a thread of its own while
    /// the slots are busy (the loop goes on recording and merging). First
    /// attempts only: a retry's fresh worktree replaces the failed one's,
    /// which stays for inspection until the retry starts.
    pub fn make_ahead(&mut self, task: &QueuedTask) {
        let first = task.attempt == 1 && task.resume.is_none() && task.profile == 0;
        if !first || self.remote || self.ahead.contains_key(&task.task_id) {
            return;
        }
        let Ok(base) = self.base() else {
            return; // `prepare` reports it.
        };
        let (wts, git_dir) = (self.wts.clone(), self.repo.git2().path().to_path_buf());
        let name = task_name(&self.key, &task.task_id);
        let thread = std::thread::Builder::new()
            .name(format!("worktree {name}"))
            .spawn(move || {
                let git = git2::Repository::open(&git_dir).map_err(|e| e.to_string())?;
                worktree::create_task_worktree(&wts, &git, &name, base)
                    .map(|wt| wt.cwd)
                    .map_err(|e| e.to_string())
            });
        if let Ok(thread) = thread {
            self.ahead
                .insert(task.task_id.clone(), MadeAhead(Some(thread)));
        }
    }

    /// Points the job at the task's worktree (made fresh from the base, or
    /// ahead, or kept when a limited session resumes) with its setup commands.
    pub fn prepare(&mut self, task: &QueuedTask, job: &mut AttemptJob) {
        if self.remote {
            return;
        }
        let name = task_name(&self.key, &task.task_id);
        let log_path = job.log_path.with_extension("setup.log");
        let path = self.wts.root.join(&name);
        let ahead = (self.ahead.remove(&task.task_id))
            .filter(|_| task.attempt == 1 && task.profile == 0)
            .and_then(|mut made| made.join());
        let made = if task.resume.is_some() && path.join(".git").exists() {
            Ok(self.wts.cwd_in(&path))
        } else if let Some(Ok(cwd)) = ahead {
            Ok(cwd)
        } else {
            // Not made ahead, or that failed (e.g. a ref locked by a merge
            // of the moment): made here, once more.
            self.make(&task.task_id)
        };
        match made {
            Ok(cwd) => {
                job.worktree = Some(path);
                if let Some(dir) = self.wts.cargo_target_dir(&name) {
                    job.invocation
                        .env
                        .push(("CARGO_TARGET_DIR".into(), dir.into_os_string()));
                }
                job.cwd = cwd;
                let fresh = task.resume.is_none();
                job.setup = Some(Setup {
                    commands: if fresh {
                        self.wts.settings.setup.clone()
                    } else {
                        Vec::new()
                    },
                    env: job.invocation.env.clone(),
                    log_path,
                    error: None,
                });
            }
            Err(e) => {
                job.setup = Some(Setup {
                    log_path,
                    error: Some(e),
                    ..Setup::default()
                })
            }
        }
    }
}

/// A worktree being made on its own thread: its cwd once made. Dropped
/// unused (the group ended first), it waits for the thread, so no worktree
/// appears after the group's clean-up.
struct MadeAhead(Option<std::thread::JoinHandle<Result<std::path::PathBuf, String>>>);

impl MadeAhead {
    fn join(&mut self) -> Option<Result<std::path::PathBuf, String>> {
        let thread = self.0.take()?;
        Some(
            thread
                .join()
                .unwrap_or_else(|_| Err("the worktree's thread panicked".into())),
        )
    }
}

impl Drop for MadeAhead {
    fn drop(&mut self) {
        let _ = self.join();
    }
}
