//! What travels through NATS: the subjects, the names, and the JSON of a
//! task, a claim, a result and a heartbeat. Nothing here carries a
//! credential: the remote's URL goes without its user info, and each worker
//! authenticates with its own machine's git credentials.

use crate::agent::{AgentReport, TaskOutcome};
use crate::config::OutputFormat;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The protocol version a message carries; a worker refuses other versions.
pub const VERSION: u32 = 1;

/// The work queue: one message per task attempt (`rr.task.<run>.<name>.<attempt>`).
pub const TASKS_STREAM: &str = "ROADMAP_TASKS";
/// Claims and results, kept so a restarted coordinator reads what it missed.
pub const RESULTS_STREAM: &str = "ROADMAP_RESULTS";
/// The server's "max deliveries reached" advisories of the work queue.
pub const LOST_STREAM: &str = "ROADMAP_LOST";
/// The one durable pull consumer every worker shares.
pub const WORKERS_CONSUMER: &str = "workers";
/// Worker heartbeats, one key per worker, expiring with the bucket's TTL.
pub const WORKERS_BUCKET: &str = "roadmap_runner_workers";
/// Agents' full logs, one object per attempt.
pub const LOGS_BUCKET: &str = "roadmap_runner_logs";

/// The advisory the server publishes when a task message ran out of deliveries.
pub fn lost_subject() -> String {
    format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{TASKS_STREAM}.{WORKERS_CONSUMER}")
}

/// One attempt at one task, as subjects and ids name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AttemptKey {
    pub run: String,
    /// `1-A-A1`: phase, group and task, as the worktree mode names them.
    pub name: String,
    pub attempt: u32,
}

impl AttemptKey {
    /// `<run>.<name>.<attempt>`, with every token safe for a subject.
    fn tokens(&self) -> String {
        format!(
            "{}.{}.{}",
            token(&self.run),
            token(&self.name),
            self.attempt
        )
    }

    /// `<name>.<attempt>`.
    fn attempt_tokens(&self) -> String {
        format!("{}.{}", token(&self.name), self.attempt)
    }

    pub fn task_subject(&self) -> String {
        format!("rr.task.{}", self.tokens())
    }

    /// Stored: `rr.out.<run>.claim.<name>.<attempt>` (one filter per run:
    /// a 2.9 server takes a consumer filter only within one stream subject).
    pub fn claim_subject(&self) -> String {
        format!(
            "rr.out.{}.claim.{}",
            token(&self.run),
            self.attempt_tokens()
        )
    }

    pub fn result_subject(&self) -> String {
        format!(
            "rr.out.{}.result.{}",
            token(&self.run),
            self.attempt_tokens()
        )
    }

    /// Core NATS only (no stream): what the agent is doing now.
    pub fn activity_subject(&self) -> String {
        format!("rr.live.{}", self.tokens())
    }

    /// Core NATS only (no stream): the attempt's log as it is written.
    pub fn log_subject(&self) -> String {
        format!("rr.log.{}", self.tokens())
    }

    /// Core NATS only: the coordinator stopped; the worker stops the agent.
    pub fn cancel_subject(&self) -> String {
        format!("rr.cancel.{}", self.tokens())
    }

    /// `Nats-Msg-Id` of the task message: a second publish is dropped.
    pub fn task_msg_id(&self) -> String {
        format!("task-{}-{}-{}", self.run, self.name, self.attempt)
    }

    pub fn result_msg_id(&self) -> String {
        format!("result-{}-{}-{}", self.run, self.name, self.attempt)
    }

    /// The object store key of the attempt's log.
    pub fn log_key(&self) -> String {
        format!("{}/{}/{}", self.run, self.name, self.attempt)
    }

    /// `roadmap-runner/<run>/<name>-<commit>`: the branch a worker pushes
    /// for the commit it made. The commit is in the name, so two deliveries
    /// of one attempt (a server restart can hand one out twice) push two
    /// branches: neither replaces the other, and whichever result the
    /// coordinator takes names a commit the remote still has.
    pub fn branch_for(&self, commit: &str) -> String {
        let short = commit.get(..12).unwrap_or(commit);
        format!("roadmap-runner/{}/{}-{short}", self.run, self.name)
    }
}

/// A subject token: slugs keep `.`, which separates tokens.
fn token(s: &str) -> String {
    s.replace(['.', '*', '>', ' '], "_")
}

/// The results stream's subjects.
pub const RESULTS_SUBJECTS: &str = "rr.out.>";

/// `rr.out.<run>.>`: everything stored about one run's attempts.
pub fn run_filter(run: &str) -> String {
    format!("rr.out.{}.>", token(run))
}

/// Whether a results-stream subject is a claim (else a result).
pub fn is_claim(subject: &str) -> bool {
    subject.split('.').nth(3) == Some("claim")
}

/// The ref the group's base is pushed under for the workers.
pub fn base_ref(run: &str, group_name: &str) -> String {
    format!("refs/roadmap-runner/runs/{run}/base/{group_name}")
}

/// How the worker runs the agent: the coordinator's `[agent]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSpec {
    pub command: Vec<String>,
    pub extra_args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub output: OutputFormat,
    pub resume_args: Vec<String>,
    pub max_budget_usd: Option<f64>,
}

/// One task attempt for a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskMsg {
    pub v: u32,
    #[serde(flatten)]
    pub key: AttemptKey,
    pub phase: String,
    pub group: String,
    pub task: String,
    pub title: String,
    /// The remote to fetch from and push to, without user info.
    pub remote: String,
    pub base_ref: String,
    pub base: String,
    /// The project directory inside the repository (`""` or `sub/dir/`).
    pub prefix: String,
    pub prompt: String,
    pub agent: AgentSpec,
    /// `[worktree] setup` commands, as argv.
    pub setup: Vec<Vec<String>>,
    pub timeout_secs: u64,
    pub grace_secs: u64,
    /// Where the task's sub-roadmap goes, relative to the project
    /// (`status/sub/<slug>.md`): the worker looks there in its checkout
    /// after the agent, and sends back what it finds (see docs/splitting.md).
    #[serde(default)]
    pub split_file: Option<String>,
    /// Whether the task may split (its depth is under the limit): only then
    /// is the agent given `ROADMAP_RUNNER_SPLIT_FILE`.
    #[serde(default)]
    pub may_split: bool,
}

/// A worker took the attempt (one per delivery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimMsg {
    pub worker: String,
    pub host: String,
    /// 1 for the first delivery, counting redeliveries.
    pub delivery: u64,
    pub at: DateTime<Utc>,
}

/// How an attempt ended, as the worker saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultMsg {
    pub v: u32,
    #[serde(flatten)]
    pub key: AttemptKey,
    pub worker: String,
    pub host: String,
    pub outcome: TaskOutcome,
    pub report: AgentReport,
    pub duration_secs: f64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The last lines of the agent's output (for a failure's message).
    pub tail: Vec<String>,
    /// The pushed branch and its commit, when the agent succeeded.
    pub branch: Option<String>,
    pub commit: Option<String>,
    /// The object store key of the full log, when it was stored.
    pub log_key: Option<String>,
    /// The sub-roadmap the agent wrote to its split file, at most
    /// [`MAX_SPLIT_BYTES`]: the coordinator examines it as a local split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
}

/// The largest sub-roadmap a result carries (a result is one message, and
/// a server takes 1 MiB by default); a larger one fails the attempt.
pub const MAX_SPLIT_BYTES: u64 = 256 * 1024;

/// A worker's heartbeat, the value of its key in [`WORKERS_BUCKET`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub name: String,
    pub host: String,
    pub pid: u32,
    pub slots: usize,
    /// `<run>/<name>#<attempt>` of each running attempt.
    pub running: Vec<String>,
    pub started_at: DateTime<Utc>,
    #[serde(rename = "last_heartbeat")]
    pub at: DateTime<Utc>,
    pub version: String,
}

/// A key of [`WORKERS_BUCKET`] for a worker name (KV keys allow few characters).
pub fn worker_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_keep_ids_in_single_tokens() {
        let k = AttemptKey {
            run: "20261201T113600-ab12".into(),
            name: "12.1-A-A.1".into(),
            attempt: 2,
        };
        assert_eq!(
            k.task_subject(),
            "rr.task.20261201T113600-ab12.12_1-A-A_1.2"
        );
        assert_eq!(
            k.result_subject(),
            "rr.out.20261201T113600-ab12.result.12_1-A-A_1.2"
        );
        assert_eq!(
            k.claim_subject(),
            "rr.out.20261201T113600-ab12.claim.12_1-A-A_1.2"
        );
        assert!(is_claim(&k.claim_subject()) && !is_claim(&k.result_subject()));
        assert_eq!(run_filter(&k.run), "rr.out.20261201T113600-ab12.>");
        assert_eq!(
            k.branch_for("c2b9cbd0123456789abcdef0123456789abcdef0"),
            "roadmap-runner/20261201T113600-ab12/12.1-A-A.1-c2b9cbd01234"
        );
    }

    #[test]
    fn a_task_round_trips_through_json() {
        let k = AttemptKey {
            run: "r".into(),
            name: "1-A-A1".into(),
            attempt: 1,
        };
        let json = serde_json::to_value(&k).unwrap();
        assert_eq!(json["name"], "1-A-A1");
        // A result without a sub-roadmap says nothing of one.
        let result = ResultMsg {
            v: VERSION,
            key: k.clone(),
            worker: "w1".into(),
            host: "h".into(),
            outcome: TaskOutcome::Succeeded,
            report: AgentReport::default(),
            duration_secs: 1.0,
            started_at: Utc::now(),
            finished_at: Utc::now(),
            tail: Vec::new(),
            branch: None,
            commit: None,
            log_key: None,
            split: None,
        };
        let json = serde_json::to_value(&result).unwrap();
        assert!(json.get("split").is_none());
        let back: ResultMsg = serde_json::from_value(json).unwrap();
        assert_eq!(back, result);
        assert_eq!(worker_key("box.local/2"), "box_local_2");
    }
}
