//! `roadmap-runner.toml` as written: its sections, read with unknown keys
//! refused, each value checked as it is read where its syntax allows.

use super::{
    AgentKind, CONFIG_FILE, ConfigError, OutputFormat, WorktreeSection, number_or_quoted,
    parse_duration,
};
#[allow(unused_imports)] // named by the docs of the sections
use super::{Diverged, Isolation, PushForeign};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A duration in the file: a number of seconds or a string like `30m`,
/// checked as it is read, so a bad one is reported at its line and column.
#[derive(Debug, Clone)]
pub enum DurationValue {
    Seconds(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        let value = match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a duration: a number of seconds (`90`) or a string (`\"90s\"`, `\"30m\"`, `\"2h\"`)",
            )
        })? {
            Raw::Seconds(s) => DurationValue::Seconds(s),
            Raw::Text(t) => DurationValue::Text(t),
        };
        value.to_duration().map_err(serde::de::Error::custom)?;
        Ok(value)
    }
}

impl DurationValue {
    /// The duration, or why the text is not one.
    pub fn to_duration(&self) -> Result<Duration, String> {
        match self {
            DurationValue::Seconds(s) => Ok(Duration::from_secs(*s)),
            DurationValue::Text(t) => parse_duration(t),
        }
    }

    pub(super) fn resolve(&self, key: &str) -> Result<Duration, ConfigError> {
        self.to_duration().map_err(|message| ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `{key}`"),
            message,
        })
    }
}

/// A command given either as an argv array or as one shell string.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum CommandSpec {
    Argv(Vec<String>),
    Shell(String),
}

impl CommandSpec {
    /// The argv to execute; a shell string runs through `sh -c`.
    pub fn argv(&self) -> Vec<String> {
        match self {
            CommandSpec::Argv(v) => v.clone(),
            CommandSpec::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
        }
    }

    pub fn display(&self) -> String {
        match self {
            CommandSpec::Argv(v) => v.join(" "),
            CommandSpec::Shell(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub run: RunSection,
    #[serde(default)]
    pub agent: AgentSection,
    #[serde(default)]
    pub gate: GateSection,
    #[serde(default)]
    pub git: GitSection,
    #[serde(default)]
    pub notify: NotifySection,
    #[serde(default)]
    pub report: ReportSection,
    #[serde(default)]
    pub repair: RepairSection,
    #[serde(default)]
    pub review: ReviewSection,
    #[serde(default)]
    pub worktree: WorktreeSection,
    #[serde(default)]
    pub cluster: ClusterSection,
}

/// `[cluster]`: tasks run by workers through NATS JetStream.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// The NATS server (`nats://host:4222`; `tls://` for TLS).
    pub nats: Option<String>,
    /// A `.creds` file (JWT and NKey seed) for the server.
    pub creds: Option<PathBuf>,
    /// How long a worker may go silent before its task goes to another.
    pub ack_wait: Option<DurationValue>,
    /// Deliveries of one task attempt before it is "worker lost".
    pub max_deliver: Option<u32>,
    /// `wait` (default) or `stop`: while no worker is live and tasks wait.
    pub no_workers: Option<String>,
    /// With `no_workers = "stop"`: how long to wait first (default 10 min).
    pub no_workers_after: Option<DurationValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairSection {
    /// Repair agents after a failed gate, per group (0: none).
    #[serde(default, deserialize_with = "number_or_quoted")]
    pub attempts: Option<u32>,
    /// A repair prompt template file (default: the built-in one).
    pub prompt: Option<PathBuf>,
    /// The agent of repairs and conflict resolution (default: the run's).
    pub agent: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSection {
    pub enabled: Option<bool>,
    /// Review → repair rounds per group.
    #[serde(default, deserialize_with = "number_or_quoted")]
    pub rounds: Option<u32>,
    /// A review prompt template file (default: the built-in one).
    pub prompt: Option<PathBuf>,
    /// The agent of reviews (default: the run's).
    pub agent: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSection {
    /// Where the `PHASE<N>-GROUP-<X>-STATUS.md` reports go, relative to the
    /// project directory (default: the project directory itself).
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    #[serde(default, deserialize_with = "number_or_quoted")]
    pub max_parallel: Option<usize>,
    pub timeout: Option<DurationValue>,
    pub grace_period: Option<DurationValue>,
    #[serde(default, deserialize_with = "number_or_quoted")]
    pub retries: Option<u32>,
    pub max_wait: Option<DurationValue>,
    pub fail_fast: Option<bool>,
    /// What one run may spend on agents, in USD.
    pub max_cost: Option<f64>,
    /// Tick finished tasks in the roadmap file (`[ ]` → `[x]`).
    pub write_back: Option<bool>,
    /// `shared` or `worktree`: see [`Isolation`].
    pub isolation: Option<String>,
    /// How deep a task may split itself into sub-roadmaps (0: never).
    #[serde(default, deserialize_with = "number_or_quoted")]
    pub max_recursion_depth: Option<u32>,
}

/// `[agent.claude]`, `[agent.codex]`, `[agent.gemini]`: one profile's settings,
/// used when that profile runs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSection {
    /// The program (default: the CLI's name on PATH).
    pub binary: Option<String>,
    /// Passed as `--model <model>`.
    pub model: Option<String>,
    #[serde(default)]
    pub extra_args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// The whole agent command line as an argv array (replaces the default).
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub extra_args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub prompt_template: Option<PathBuf>,
    pub output: Option<OutputFormat>,
    /// Passed to Claude Code as `--max-budget-usd`: one agent's cap, in USD.
    pub max_budget_usd: Option<f64>,
    /// Arguments that resume a session; `{session_id}` is replaced.
    pub resume_args: Option<Vec<String>>,
    /// `claude` (default), `codex`, `gemini` or `command`.
    pub kind: Option<String>,
    /// Profiles tried in order when the agent reports a usage limit.
    #[serde(default)]
    pub fallback: Vec<String>,
    #[serde(default)]
    pub claude: ProfileSection,
    #[serde(default)]
    pub codex: ProfileSection,
    #[serde(default)]
    pub gemini: ProfileSection,
    #[serde(default)]
    pub opencode: ProfileSection,
    #[serde(default)]
    pub copilot: ProfileSection,
}

impl AgentSection {
    /// The settings of one profile (`command` has none: `[agent] command` is its argv).
    pub fn profile(&self, kind: AgentKind) -> Option<&ProfileSection> {
        match kind {
            AgentKind::Claude => Some(&self.claude),
            AgentKind::Codex => Some(&self.codex),
            AgentKind::Gemini => Some(&self.gemini),
            AgentKind::Opencode => Some(&self.opencode),
            AgentKind::Copilot => Some(&self.copilot),
            AgentKind::Command => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    /// `false` turns the gate off.
    pub enabled: Option<bool>,
    pub steps: Option<Vec<GateStepConfig>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateStepConfig {
    pub name: String,
    pub command: CommandSpec,
    /// Fatal steps fail the group; others only warn. Default: all but `lint`.
    pub fatal: Option<bool>,
    pub timeout: Option<DurationValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitSection {
    pub remote: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<bool>,
    pub push: Option<bool>,
    /// Name of an env var holding an HTTPS token for push.
    pub token_env: Option<String>,
    /// `refuse` or `allow`: see [`PushForeign`].
    pub push_foreign: Option<String>,
    /// `rebase`, `merge` or `stop`: see [`Diverged`].
    pub diverged: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    pub command: Option<CommandSpec>,
    pub webhook: Option<String>,
}

impl FileConfig {
    /// Loads `roadmap-runner.toml` from the project dir; a missing file is the defaults.
    pub fn load(project_dir: &Path) -> Result<(FileConfig, Option<PathBuf>), ConfigError> {
        let path = project_dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((FileConfig::default(), None));
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let config = Self::parse(&text, &path)?;
        Ok((config, Some(path)))
    }

    pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|s| crate::roadmap::diagnostics::line_col(text, s.start))
                .unwrap_or((1, 1));
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                col,
                message: e.message().to_string(),
            }
        })
    }
}
