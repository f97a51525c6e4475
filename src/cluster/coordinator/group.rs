//! A group sent to the workers: its run id (stable across coordinator
//! restarts: it comes from the group's recorded start), its base pushed to
//! the remote, and each attempt's message.

use super::{Dispatcher, Origin, RemoteTask};
use crate::cluster::protocol::{self, AgentSpec, AttemptKey, TaskMsg};
use crate::config::Settings;
use crate::exec::StopLevel;
use crate::roadmap::GroupKey;
use crate::runner::attempt::{AttemptJob, AttemptMsg};
use crate::runner::executor::{AttemptFuture, GroupSetup, TaskRunner};
use crate::runner::group::QueuedTask;
use crate::runner::split;
use crate::status::{Record, group_base, task_attempts};
use crate::worktree::{self, Worktrees, task_name};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What every attempt of the group shares.
pub struct RemoteGroup {
    dispatcher: Arc<Dispatcher>,
    key: GroupKey,
    run: String,
    /// The remote as workers see it (without user info).
    remote: String,
    /// The remote as the coordinator reaches it.
    origin: Arc<Origin>,
    base_ref: String,
    base: String,
    prefix: String,
    /// Attempts recorded by earlier runs of the group, by task: numbering
    /// goes on from there, so a rerun after a failure is a new attempt
    /// while a coordinator killed mid-attempt asks for the same one again.
    earlier: std::collections::BTreeMap<String, u32>,
    /// The run's agent and what its workers run around it.
    agent: AgentSpec,
    setup: Vec<Vec<String>>,
    timeout_secs: u64,
    grace_secs: u64,
    /// Attempts publish in the order the group loop starts them.
    turns: super::turnstile::Turnstile,
    /// Where a task's sub-roadmap from a worker is written (see [`split`]).
    project: crate::project::Project,
}

impl RemoteGroup {
    /// Makes the group's base and pushes it for the workers.
    pub fn prepare(
        dispatcher: Arc<Dispatcher>,
        group: &GroupSetup<'_>,
    ) -> Result<RemoteGroup, String> {
        let (settings, key) = (group.settings, group.key);
        let repo = group
            .repo
            .ok_or_else(|| "--nats needs a git repository".to_string())?;
        let wts = Worktrees::new(&group.project.dir, repo.workdir(), &settings.worktree);
        // This run's `start` record included: the run id comes from it.
        let records = group.records;
        let url = repo
            .push_url(&settings.git)
            .map_err(|e| format!("the workers need the project's remote: {e}"))?;
        let run = run_id(records, key, &url);
        let base = worktree::make_base(repo, key, &wts.excluded())
            .map_err(|e| format!("cannot make the group's base: {e}"))?;
        let base_ref = protocol::base_ref(&run, &worktree::group_name(key));
        crate::vcs::transfer::push_refspecs(
            repo.git2(),
            &url,
            &[format!("+{base}:{base_ref}")],
            &settings.git,
        )
        .map_err(|e| format!("cannot push the group's base for the workers: {e}"))?;
        let earlier = task_attempts(records, key)
            .into_iter()
            .map(|(task, a)| (task, a.len() as u32))
            .collect();
        Ok(RemoteGroup {
            dispatcher,
            key: key.clone(),
            run,
            remote: crate::userinfo::without_userinfo(&url),
            origin: Arc::new(Origin {
                git_dir: repo.git2().path().to_path_buf(),
                url: url.clone(),
                git: settings.git.clone(),
                fetches: Default::default(),
            }),
            base_ref,
            base: base.to_string(),
            prefix: wts.prefix.clone(),
            earlier,
            agent: agent_spec(settings),
            setup: settings.worktree.setup.iter().map(|c| c.argv()).collect(),
            timeout_secs: settings.timeout.as_secs(),
            grace_secs: settings.grace.as_secs(),
            turns: Default::default(),
            project: group.project.clone(),
        })
    }

    /// The attempt's message for a worker, numbered after the attempts
    /// recorded before this run (the job takes that number).
    fn message(&self, task: &QueuedTask, job: &mut AttemptJob) -> TaskMsg {
        let split_file = self.split_file(&task.task_id);
        let attempt = self.earlier.get(&task.task_id).copied().unwrap_or(0) + task.attempt;
        job.attempt = attempt;
        let key = AttemptKey {
            run: self.run.clone(),
            name: task_name(&self.key, &task.task_id),
            attempt,
        };
        TaskMsg {
            v: protocol::VERSION,
            key,
            phase: self.key.phase.to_string(),
            group: self.key.group.clone(),
            task: task.task_id.clone(),
            title: task.title.clone(),
            remote: self.remote.clone(),
            base_ref: self.base_ref.clone(),
            base: self.base.clone(),
            prefix: self.prefix.clone(),
            prompt: String::from_utf8_lossy(&job.invocation.stdin).into_owned(),
            agent: self.agent.clone(),
            setup: self.setup.clone(),
            timeout_secs: self.timeout_secs,
            grace_secs: self.grace_secs,
            split_file: split_file
                .strip_prefix(&self.project.dir)
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
            // The runner offers the file as it would here: by the variable.
            may_split: job
                .invocation
                .env
                .iter()
                .any(|(k, _)| k == split::SPLIT_FILE_ENV),
        }
    }

    /// `status/sub/<slug>.md` of a task of the group, in the project.
    fn split_file(&self, task: &str) -> std::path::PathBuf {
        split::sub_file(&self.project, &self.key, task)
    }
}

/// Each attempt goes to a worker, which makes its worktree from the
/// group's pushed base.
impl TaskRunner for RemoteGroup {
    fn run(
        &self,
        task: &QueuedTask,
        mut job: AttemptJob,
        stop: watch::Receiver<StopLevel>,
        tx: mpsc::UnboundedSender<AttemptMsg>,
    ) -> AttemptFuture {
        // A task's agent may split (the runner's own agents run here).
        let split_file =
            (job.role == crate::status::counts::Role::Task).then(|| self.split_file(&task.task_id));
        let remote = RemoteTask {
            split_file,
            dispatcher: self.dispatcher.clone(),
            msg: self.message(task, &mut job),
            origin: self.origin.clone(),
            turn: Arc::new(self.turns.next()),
        };
        Box::pin(super::attempt::run_remote(job, remote, stop, tx))
    }
}

/// The run's `[agent]` as a worker runs it.
fn agent_spec(settings: &Settings) -> AgentSpec {
    let agent = &settings.agent;
    AgentSpec {
        command: agent.command.clone(),
        extra_args: agent.extra_args.clone(),
        env: shareable_env(&agent.env),
        output: agent.output,
        resume_args: agent.resume_args.clone(),
        max_budget_usd: agent.max_budget_usd,
    }
}

/// `[agent] env` without what looks like a secret (`*KEY*`, `*TOKEN*`,
/// `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`): messages are stored for days,
/// and each worker has its own credentials in its own environment.
pub fn shareable_env(
    env: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    env.iter()
        .filter(|(k, _)| !is_secret_name(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The `[agent] env` names kept back from the workers.
pub fn withheld_env(env: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    env.keys().filter(|k| is_secret_name(k)).cloned().collect()
}

fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|w| n.contains(w))
}

/// `20261201T113600-1f2e3d4c`: the group's first recorded start and a hash
/// of the remote and group, so two projects on one server never share one.
fn run_id(records: &[Record], key: &GroupKey, url: &str) -> String {
    let at = group_base(records, key)
        .map(|s| s.at)
        .unwrap_or_else(chrono::Utc::now);
    let seed = format!(
        "{}|{}|{key}|{}",
        crate::userinfo::without_userinfo(url),
        at.timestamp_nanos_opt().unwrap_or_default(),
        at
    );
    let hash = worktree::fnv1a(seed.as_bytes());
    format!("{}-{:08x}", at.format("%Y%m%dT%H%M%S"), hash & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_agent_env_stay_home() {
        let env: std::collections::BTreeMap<String, String> = [
            ("ANTHROPIC_API_KEY", "sk-1"),
            ("GH_TOKEN", "t"),
            ("db_password", "p"),
            ("RUST_LOG", "info"),
            ("NODE_ENV", "test"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sent = shareable_env(&env);
        assert_eq!(sent.keys().collect::<Vec<_>>(), ["NODE_ENV", "RUST_LOG"]);
        assert_eq!(
            withheld_env(&env),
            ["ANTHROPIC_API_KEY", "GH_TOKEN", "db_password"]
        );
    }
}
