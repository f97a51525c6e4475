//! The validated settings a run uses: defaults ← `roadmap-runner.toml` ← env ← flags.
//!
//! The file is read with unknown keys refused, so a typo in a key is an error
//! that names the file and line instead of a setting silently ignored.

pub mod cluster;
mod explain;
mod values;

pub use explain::{Origin, SettingLine, explain};
pub use values::{number_or_quoted, parse_max_parallel, parse_timeout};

pub use crate::agent::profile::{AgentKind, OutputFormat};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const CONFIG_FILE: &str = "roadmap-runner.toml";
pub const DEFAULT_MAX_PARALLEL: usize = 4;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(6 * 3600);

/// The default agent: Claude Code in batch mode, prompt on stdin.
pub const CLAUDE_ARGS: &[&str] = AgentKind::Claude.default_args();

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    /// A bad value in an environment variable: bad usage, like a bad flag.
    #[error("{var}={value}: {message}")]
    Env {
        var: &'static str,
        value: String,
        message: String,
    },
}

/// A duration as users write it: `90` (seconds), `90s`, `30m`, `2h`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    // humantime's own message lists every unit it knows; say what we document.
    humantime::parse_duration(t).map_err(|_| {
        format!("`{text}` is not a duration: write seconds (`90`) or `90s`, `30m`, `2h`")
    })
}

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

    fn resolve(&self, key: &str) -> Result<Duration, ConfigError> {
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

/// Values given on the command line or in the environment, each with where
/// it came from (a flag wins over its variable); `None` means "not given here".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub max_parallel: Option<(usize, Origin)>,
    pub timeout: Option<(Duration, Origin)>,
    pub retries: Option<u32>,
    pub fail_fast: bool,
    pub claude_bin: Option<(String, Origin)>,
    /// `--agent` / `ROADMAP_AGENT`.
    pub agent: Option<(AgentKind, Origin)>,
    pub no_commit: bool,
    pub no_push: bool,
    pub fix_attempts: Option<u32>,
    pub review: bool,
    pub max_cost: Option<(f64, Origin)>,
    pub write_back: bool,
    /// `--isolation` / `ROADMAP_ISOLATION`.
    pub isolation: Option<Isolation>,
    /// `--nats` / `ROADMAP_NATS`, `--nats-creds`.
    pub nats: Option<String>,
    pub nats_creds: Option<PathBuf>,
}

pub const ENV_MAX_COST: &str = "ROADMAP_MAX_COST";
pub const ENV_MAX_PARALLEL: &str = "MAX_PARALLEL_AGENTS";
pub const ENV_TIMEOUT: &str = "TASK_TIMEOUT";
pub const ENV_CLAUDE_BIN: &str = "CLAUDE_BIN";
pub const ENV_ISOLATION: &str = "ROADMAP_ISOLATION";
pub const ENV_AGENT: &str = "ROADMAP_AGENT";
pub const ENV_NATS: &str = "ROADMAP_NATS";

/// `--agent`'s value: a profile name.
pub(crate) fn parse_agent(text: &str) -> Result<AgentKind, ConfigError> {
    AgentKind::parse(text).ok_or_else(|| ConfigError::Invalid {
        origin: "--agent".into(),
        message: unknown_agent(text),
    })
}

pub(crate) fn unknown_agent(text: &str) -> String {
    format!(
        "unknown agent `{}`: choose one of {}",
        text.trim(),
        AgentKind::names()
    )
}

/// A profile a fallback, a roadmap annotation or `[repair]`/`[review]
/// agent can name: any agent but `command` (the run's own program).
fn named_profile(name: &str) -> Option<AgentKind> {
    AgentKind::parse(name).filter(|k| *k != AgentKind::Command)
}

/// `[repair] agent` / `[review] agent`, checked.
fn role_agent(name: Option<&str>, key: &str) -> Result<Option<AgentKind>, ConfigError> {
    let Some(name) = name else { return Ok(None) };
    named_profile(name)
        .map(Some)
        .ok_or_else(|| ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `{key}`"),
            message: format!(
                "unknown agent `{}`: choose among {}",
                name.trim(),
                AgentKind::profile_names()
            ),
        })
}

/// A spending cap in USD: a positive number (`5`, `0.50`).
pub fn parse_cost(text: &str) -> Result<f64, String> {
    match text.trim().trim_start_matches('$').parse::<f64>() {
        Ok(c) if c > 0.0 && c.is_finite() => Ok(c),
        _ => Err(format!(
            "`{text}` is not an amount in USD: write a positive number, e.g. 5 or 0.50"
        )),
    }
}

/// A variable's value parsed, or an error that names the variable.
pub(crate) fn from_env<T>(
    var: &'static str,
    value: Option<String>,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<(T, Origin)>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match parse(&value) {
        Ok(v) => Ok(Some((v, Origin::Env(var)))),
        Err(message) => Err(ConfigError::Env {
            var,
            value,
            message,
        }),
    }
}

impl AgentSettings {
    /// The agent of a run: `--agent` / `ROADMAP_AGENT`, else `[agent] kind`,
    /// else Claude Code (or, with `[agent] command` alone, that program).
    fn resolve(a: &AgentSection, over: &Overrides) -> Result<AgentSettings, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `agent.{key}`"),
            message,
        };
        let file_kind = match &a.kind {
            Some(k) => Some(AgentKind::parse(k).ok_or_else(|| invalid("kind", unknown_agent(k)))?),
            None => None,
        };
        let kind = over.agent.map(|(k, _)| k).or(file_kind);
        let profile = kind.and_then(|k| a.profile(k));
        let command = match &a.command {
            Some(cmd) => {
                if cmd.is_empty() || cmd[0].trim().is_empty() {
                    return Err(invalid(
                        "command",
                        "must name a program, e.g. [\"claude\", \"-p\"]".into(),
                    ));
                }
                cmd.clone()
            }
            None if kind == Some(AgentKind::Command) => {
                return Err(invalid(
                    "kind",
                    "`command` runs the program of `[agent] command`, which is not set: \
                     add e.g. command = [\"aider\", \"--yes-always\"]"
                        .into(),
                ));
            }
            None => {
                let kind = kind.unwrap_or_default();
                let claude_bin = over.claude_bin.as_ref().map(|(b, _)| b.as_str());
                let bin = match kind {
                    AgentKind::Claude => claude_bin.or(a.claude.binary.as_deref()),
                    _ => profile.and_then(|p| p.binary.as_deref()),
                };
                kind.command(bin)
            }
        };
        let output = a.output.unwrap_or(match (kind, &a.command) {
            (Some(k), _) => k.output(),
            (None, Some(_)) => OutputFormat::Plain,
            (None, None) => OutputFormat::StreamJson,
        });
        let reads_as = AgentKind::of_output(output);
        if a.max_budget_usd.is_some() && !matches!(reads_as, AgentKind::Claude | AgentKind::Command)
        {
            return Err(invalid(
                "max_budget_usd",
                format!("{reads_as} has no spending cap option: remove it"),
            ));
        }
        let resume_args = match &a.resume_args {
            Some(v) => v.clone(),
            None => reads_as
                .resume_args()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let mut extra_args = a.extra_args.clone();
        let mut env = a.env.clone();
        if let Some(p) = profile {
            if let (Some(model), Some(flag)) = (&p.model, kind.and_then(|k| k.model_flag())) {
                extra_args.extend([flag.to_string(), model.clone()]);
            }
            extra_args.extend(p.extra_args.iter().cloned());
            env.extend(p.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(AgentSettings {
            command,
            extra_args,
            env,
            prompt_template: a.prompt_template.clone(),
            output,
            resume_args,
            max_budget_usd: a.max_budget_usd,
        })
    }

    /// `[agent] fallback`: each named profile with its own `[agent.<kind>]`
    /// table and the shared `extra_args`/`env`, but never `[agent] command`
    /// (that is the run's own agent).
    fn resolve_fallback(
        a: &AgentSection,
        run: &Overrides,
    ) -> Result<Vec<AgentSettings>, ConfigError> {
        a.fallback
            .iter()
            .map(|name| {
                let kind = named_profile(name).ok_or_else(|| ConfigError::Invalid {
                    origin: format!("{CONFIG_FILE} `agent.fallback`"),
                    message: format!(
                        "unknown fallback agent `{}`: choose among {}",
                        name.trim(),
                        AgentKind::profile_names()
                    ),
                })?;
                Self::resolve_profile(a, run, kind)
            })
            .collect()
    }

    /// One named profile as a fallback or a group's `(agent: X)` runs it.
    fn resolve_profile(
        a: &AgentSection,
        run: &Overrides,
        kind: AgentKind,
    ) -> Result<AgentSettings, ConfigError> {
        let section = AgentSection {
            command: None,
            output: None,
            resume_args: None,
            max_budget_usd: a.max_budget_usd.filter(|_| kind == AgentKind::Claude),
            ..a.clone()
        };
        let over = Overrides {
            agent: Some((kind, Origin::File)),
            claude_bin: run.claude_bin.clone(),
            ..Overrides::default()
        };
        AgentSettings::resolve(&section, &over)
    }

    /// The profile these settings run: the one whose dialect they read.
    pub fn kind(&self) -> AgentKind {
        AgentKind::of_output(self.output)
    }
}

/// The settings of the agent command.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// argv: program then arguments, before `extra_args`.
    pub command: Vec<String>,
    pub extra_args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub prompt_template: Option<PathBuf>,
    pub output: OutputFormat,
    /// Empty when the agent cannot resume sessions.
    pub resume_args: Vec<String>,
    /// `--max-budget-usd` for Claude Code, when set.
    pub max_budget_usd: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct GateSettings {
    pub enabled: bool,
    /// `None`: detect from the project.
    pub steps: Option<Vec<GateStepConfig>>,
}

/// What a push does with unpushed commits that the runner did not make
/// (no `Roadmap-Phase` trailer): the user's own work in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushForeign {
    /// Push nothing while there are any: the run exits 3 and names them.
    #[default]
    Refuse,
    Allow,
}

/// What a push does when the remote branch has commits the local one lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Diverged {
    /// Replay the unpushed commits onto the remote branch, when they apply cleanly.
    #[default]
    Rebase,
    /// Merge the remote branch into the local one (a merge commit).
    Merge,
    /// Stop with exit 3, as a plain `git push` would.
    Stop,
}

impl PushForeign {
    pub const CHOICES: &[(&str, PushForeign)] = &[
        ("refuse", PushForeign::Refuse),
        ("allow", PushForeign::Allow),
    ];
}

impl Diverged {
    pub const CHOICES: &[(&str, Diverged)] = &[
        ("rebase", Diverged::Rebase),
        ("merge", Diverged::Merge),
        ("stop", Diverged::Stop),
    ];
}

/// One of `choices` by name, or an error naming the key and the choices.
fn choice<T: Copy + Default>(
    value: Option<&str>,
    key: &str,
    choices: &[(&str, T)],
) -> Result<T, ConfigError> {
    let Some(value) = value else {
        return Ok(T::default());
    };
    choices
        .iter()
        .find(|(name, _)| *name == value.trim())
        .map(|(_, v)| *v)
        .ok_or_else(|| ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `{key}`"),
            message: format!(
                "`{value}` is not one of {}",
                choices
                    .iter()
                    .map(|(n, _)| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

#[derive(Debug, Clone)]
pub struct GitSettings {
    pub remote: Option<String>,
    pub branch: Option<String>,
    pub commit: bool,
    pub push: bool,
    pub token_env: Option<String>,
    pub push_foreign: PushForeign,
    pub diverged: Diverged,
}

/// What an empty `[git]` section gives: commit and push, refuse foreign
/// commits, rebase onto a diverged remote.
impl Default for GitSettings {
    fn default() -> Self {
        GitSettings {
            remote: None,
            branch: None,
            commit: true,
            push: true,
            token_env: None,
            push_foreign: PushForeign::default(),
            diverged: Diverged::default(),
        }
    }
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_parallel: usize,
    pub timeout: Duration,
    pub grace: Duration,
    pub retries: u32,
    pub max_wait: Duration,
    pub fail_fast: bool,
    pub agent: AgentSettings,
    /// `[agent] fallback`: the profiles a task moves to, in order, on a usage limit.
    pub agent_fallback: Vec<AgentSettings>,
    /// Claude, Codex and Gemini as a group's `(agent: X)` runs them.
    pub agent_profiles: Vec<AgentSettings>,
    pub gate: GateSettings,
    pub git: GitSettings,
    pub notify: NotifySection,
    /// Where the group reports go, relative to the project directory
    /// (empty: the project directory itself).
    pub report_dir: PathBuf,
    pub repair: RepairSettings,
    pub review: ReviewSettings,
    /// What one run may spend on agents (tasks, repairs, reviews), in USD.
    pub max_cost: Option<f64>,
    /// Tick each task of a completed group in the roadmap file.
    pub write_back: bool,
    pub isolation: Isolation,
    pub worktree: WorktreeSettings,
    pub cluster: ClusterSettings,
}

/// Where the tasks run with `--nats` / `[cluster]` (none: on this machine).
#[derive(Debug, Clone, Default)]
pub struct ClusterSettings {
    pub nats: Option<cluster::NatsTarget>,
    pub redelivery: cluster::Redelivery,
}

impl ClusterSettings {
    fn resolve(c: &ClusterSection, over: &Overrides) -> Result<ClusterSettings, ConfigError> {
        let mut redelivery = cluster::Redelivery::default();
        if let Some(w) = &c.ack_wait {
            redelivery.ack_wait = w.resolve("cluster.ack_wait")?.max(Duration::from_secs(1));
        }
        if let Some(n) = c.max_deliver {
            redelivery.max_deliver = i64::from(n.max(1));
        }
        let url = over.nats.clone().or_else(|| c.nats.clone());
        Ok(ClusterSettings {
            nats: url.map(|url| cluster::NatsTarget {
                url,
                creds: over.nats_creds.clone().or_else(|| c.creds.clone()),
            }),
            redelivery,
        })
    }
}

/// Two repair agents per failed gate: one is given the failure; a second
/// sees what the first left. Peers cap such loops at 1–3 because more drift.
pub const DEFAULT_FIX_ATTEMPTS: u32 = 2;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepairSettings {
    pub attempts: u32,
    pub prompt: Option<PathBuf>,
    /// `[repair] agent`: repairs and conflict resolution (none: the run's).
    pub agent: Option<AgentKind>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewSettings {
    pub enabled: bool,
    pub rounds: u32,
    pub prompt: Option<PathBuf>,
    /// `[review] agent` (none: the run's).
    pub agent: Option<AgentKind>,
}

impl Settings {
    /// The settings `kind` runs with: the run's own agent when it is that
    /// kind (its command and options as configured), else its profile.
    pub fn agent_named(&self, kind: AgentKind) -> &AgentSettings {
        if kind == self.agent.kind() {
            return &self.agent;
        }
        self.agent_profiles
            .iter()
            .find(|a| a.kind() == kind)
            .unwrap_or(&self.agent)
    }

    /// The agent of repairs and conflict resolution: `[repair] agent`, else the run's.
    pub fn repair_agent(&self) -> &AgentSettings {
        self.repair
            .agent
            .map_or(&self.agent, |k| self.agent_named(k))
    }

    /// The agent of reviews: `[review] agent`, else the run's.
    pub fn review_agent(&self) -> &AgentSettings {
        self.review
            .agent
            .map_or(&self.agent, |k| self.agent_named(k))
    }

    pub fn resolve(file: &FileConfig, over: &Overrides) -> Result<Settings, ConfigError> {
        let run = &file.run;
        // Flags and variables were checked as they were read; the file's now.
        let max_parallel = over
            .max_parallel
            .map(|(n, _)| n)
            .or(run.max_parallel)
            .unwrap_or(DEFAULT_MAX_PARALLEL);
        if max_parallel == 0 {
            return Err(ConfigError::Invalid {
                origin: format!("{CONFIG_FILE} `run.max_parallel`"),
                message: "must be at least 1".into(),
            });
        }
        let timeout = match over.timeout {
            Some((t, _)) => t,
            None => match &run.timeout {
                Some(v) => v.resolve("run.timeout")?,
                None => DEFAULT_TIMEOUT,
            },
        };
        if timeout.is_zero() {
            return Err(ConfigError::Invalid {
                origin: format!("{CONFIG_FILE} `run.timeout`"),
                message: "must be more than zero".into(),
            });
        }
        let grace = match &run.grace_period {
            Some(v) => v.resolve("run.grace_period")?,
            None => DEFAULT_GRACE,
        };
        let max_wait = match &run.max_wait {
            Some(v) => v.resolve("run.max_wait")?,
            None => DEFAULT_MAX_WAIT,
        };

        let agent = AgentSettings::resolve(&file.agent, over)?;
        let agent_fallback = AgentSettings::resolve_fallback(&file.agent, over)?;
        let agent_profiles = AgentKind::CHOICES
            .iter()
            .filter(|(_, k)| *k != AgentKind::Command)
            .map(|(_, k)| AgentSettings::resolve_profile(&file.agent, over, *k))
            .collect::<Result<_, _>>()?;
        let cluster = ClusterSettings::resolve(&file.cluster, over)?;
        Ok(Settings {
            max_parallel,
            timeout,
            grace,
            retries: over.retries.or(run.retries).unwrap_or(0),
            max_wait,
            fail_fast: over.fail_fast || run.fail_fast.unwrap_or(false),
            agent,
            agent_fallback,
            agent_profiles,
            gate: GateSettings {
                enabled: file.gate.enabled.unwrap_or(true),
                steps: file.gate.steps.clone(),
            },
            git: GitSettings {
                remote: file.git.remote.clone(),
                branch: file.git.branch.clone(),
                commit: !over.no_commit && file.git.commit.unwrap_or(true),
                push: !over.no_push && !over.no_commit && file.git.push.unwrap_or(true),
                token_env: file.git.token_env.clone(),
                push_foreign: choice(
                    file.git.push_foreign.as_deref(),
                    "git.push_foreign",
                    PushForeign::CHOICES,
                )?,
                diverged: choice(
                    file.git.diverged.as_deref(),
                    "git.diverged",
                    Diverged::CHOICES,
                )?,
            },
            notify: file.notify.clone(),
            report_dir: file.report.dir.clone().unwrap_or_default(),
            repair: RepairSettings {
                attempts: over
                    .fix_attempts
                    .or(file.repair.attempts)
                    .unwrap_or(DEFAULT_FIX_ATTEMPTS),
                prompt: file.repair.prompt.clone(),
                agent: role_agent(file.repair.agent.as_deref(), "repair.agent")?,
            },
            review: ReviewSettings {
                enabled: over.review || file.review.enabled.unwrap_or(false),
                rounds: file.review.rounds.unwrap_or(1),
                prompt: file.review.prompt.clone(),
                agent: role_agent(file.review.agent.as_deref(), "review.agent")?,
            },
            write_back: over.write_back || file.run.write_back.unwrap_or(false),
            max_cost: match over.max_cost {
                Some((c, _)) => Some(c),
                None => file
                    .run
                    .max_cost
                    .map(|c| {
                        parse_cost(&c.to_string()).map_err(|message| ConfigError::Invalid {
                            origin: format!("{CONFIG_FILE} `run.max_cost`"),
                            message,
                        })
                    })
                    .transpose()?,
            },
            // Remote tasks always run in worktrees of their own.
            isolation: match over.isolation {
                _ if cluster.nats.is_some() => Isolation::Worktree,
                Some(i) => i,
                None => choice(
                    file.run.isolation.as_deref(),
                    "run.isolation",
                    Isolation::CHOICES,
                )?,
            },
            worktree: WorktreeSettings::resolve(&file.worktree)?,
            cluster,
        })
    }
}

// --- isolation: `[run] isolation` and `[worktree]` -------------------------

/// Where each task's agent works.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// Every agent of a group edits the project's own working tree.
    #[default]
    Shared,
    /// Each task in its own git worktree, merged back before the gate.
    Worktree,
}

impl Isolation {
    pub const CHOICES: &[(&str, Isolation)] = &[
        ("shared", Isolation::Shared),
        ("worktree", Isolation::Worktree),
    ];
}

/// `shared` or `worktree`.
pub fn parse_isolation(text: &str) -> Result<Isolation, String> {
    Isolation::CHOICES
        .iter()
        .find(|(name, _)| *name == text.trim())
        .map(|(_, i)| *i)
        .ok_or_else(|| format!("`{text}` is not an isolation mode: write shared or worktree"))
}

/// What integration does when a task's change conflicts with the merged tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolve {
    /// Start a resolver agent on the conflicted merge.
    #[default]
    Agent,
    /// Stop the run, naming the files and the two tasks.
    Stop,
}

impl Resolve {
    pub const CHOICES: &[(&str, Resolve)] = &[("agent", Resolve::Agent), ("stop", Resolve::Stop)];
}

/// Peers cap repair loops at 1–3 attempts: beyond that the model drifts.
pub const MAX_RESOLVE_ATTEMPTS: u32 = 3;
pub const DEFAULT_RESOLVE_ATTEMPTS: u32 = 2;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorktreeSection {
    /// Where task worktrees live (default: under the user's cache directory).
    pub dir: Option<PathBuf>,
    /// Commands run in each new worktree before its agent starts.
    #[serde(default)]
    pub setup: Vec<CommandSpec>,
    /// Project paths symlinked into each worktree (never committed).
    #[serde(default)]
    pub link: Vec<String>,
    /// `agent` or `stop`: see [`Resolve`].
    pub resolve: Option<String>,
    pub resolve_attempts: Option<u32>,
    /// `CARGO_TARGET_DIR` for every worktree (default: one per worktree).
    pub cargo_target_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct WorktreeSettings {
    pub dir: Option<PathBuf>,
    pub setup: Vec<CommandSpec>,
    /// Relative, '/'-separated, without `..` or a trailing '/'.
    pub link: Vec<String>,
    pub resolve: Resolve,
    pub resolve_attempts: u32,
    pub cargo_target_dir: Option<PathBuf>,
}

impl WorktreeSettings {
    fn resolve(w: &WorktreeSection) -> Result<WorktreeSettings, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `worktree.{key}`"),
            message,
        };
        let mut link = Vec::new();
        for l in &w.link {
            let path = l.trim().trim_end_matches('/');
            let p = Path::new(path);
            if path.is_empty()
                || p.is_absolute()
                || p.components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(invalid(
                    "link",
                    format!("`{l}` must be a path inside the project, e.g. \"node_modules\""),
                ));
            }
            link.push(path.to_string());
        }
        let resolve_attempts = w.resolve_attempts.unwrap_or(DEFAULT_RESOLVE_ATTEMPTS);
        if !(1..=MAX_RESOLVE_ATTEMPTS).contains(&resolve_attempts) {
            return Err(invalid(
                "resolve_attempts",
                format!("must be 1 to {MAX_RESOLVE_ATTEMPTS}, not {resolve_attempts}"),
            ));
        }
        Ok(WorktreeSettings {
            dir: w.dir.clone(),
            setup: w.setup.clone(),
            link,
            resolve: choice(w.resolve.as_deref(), "worktree.resolve", Resolve::CHOICES)?,
            resolve_attempts,
            cargo_target_dir: w.cargo_target_dir.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("soon").unwrap_err().contains("`soon`"));
    }

    #[test]
    fn unknown_key_names_line() {
        let err = FileConfig::parse("[run]\nmax_paralel = 3\n", Path::new("x.toml")).unwrap_err();
        match err {
            ConfigError::Syntax { line, col, .. } => assert_eq!((line, col), (2, 1)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn precedence() {
        let file = FileConfig::parse(
            "[run]\nmax_parallel = 3\ntimeout = \"30m\"\n",
            Path::new("x"),
        )
        .unwrap();
        let s = Settings::resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(s.max_parallel, 3);
        assert_eq!(s.timeout, Duration::from_secs(1800));
        let over = Overrides {
            max_parallel: Some((8, Origin::Flag("--max-parallel"))),
            ..Default::default()
        };
        assert_eq!(Settings::resolve(&file, &over).unwrap().max_parallel, 8);
        assert_eq!(s.agent.command[0], "claude");
        assert_eq!(s.agent.output, OutputFormat::StreamJson);
    }

    #[test]
    fn isolation_settings() {
        let resolve = |text: &str, over: &Overrides| {
            Settings::resolve(&FileConfig::parse(text, Path::new("x")).unwrap(), over)
        };
        let none = Overrides::default();
        let s = resolve("", &none).unwrap();
        assert_eq!(s.isolation, Isolation::Shared);
        assert_eq!(s.worktree.resolve, Resolve::Agent);
        assert_eq!(s.worktree.resolve_attempts, DEFAULT_RESOLVE_ATTEMPTS);
        let text = "[run]\nisolation = \"worktree\"\n[worktree]\nsetup = [\"npm ci\"]\nlink = [\"node_modules/\"]\nresolve = \"stop\"\nresolve_attempts = 1\n";
        let s = resolve(text, &none).unwrap();
        assert_eq!(s.isolation, Isolation::Worktree);
        assert_eq!(s.worktree.link, vec!["node_modules".to_string()]);
        assert_eq!(s.worktree.resolve, Resolve::Stop);
        assert_eq!(s.worktree.setup, vec![CommandSpec::Shell("npm ci".into())]);
        let over = Overrides {
            isolation: Some(Isolation::Shared),
            ..Default::default()
        };
        assert_eq!(resolve(text, &over).unwrap().isolation, Isolation::Shared);
        for bad in [
            "[worktree]\nlink = [\"../x\"]\n",
            "[worktree]\nlink = [\"/abs\"]\n",
            "[worktree]\nresolve_attempts = 9\n",
            "[worktree]\nresolve = \"merge\"\n",
            "[run]\nisolation = \"docker\"\n",
        ] {
            assert!(resolve(bad, &none).is_err(), "{bad}");
        }
    }

    #[test]
    fn git_choices_default_and_reject_unknown_values() {
        let resolve = |text: &str| {
            Settings::resolve(
                &FileConfig::parse(text, Path::new("x")).unwrap(),
                &Overrides::default(),
            )
        };
        let s = resolve("").unwrap();
        assert_eq!(s.git.push_foreign, PushForeign::Refuse);
        assert_eq!(s.git.diverged, Diverged::Rebase);
        let s = resolve("[git]\npush_foreign = \"allow\"\ndiverged = \"merge\"\n").unwrap();
        assert_eq!(s.git.push_foreign, PushForeign::Allow);
        assert_eq!(s.git.diverged, Diverged::Merge);
        assert_eq!(
            resolve("[git]\ndiverged = \"stop\"\n")
                .unwrap()
                .git
                .diverged,
            Diverged::Stop
        );
        let err = resolve("[git]\npush_foreign = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "roadmap-runner.toml `git.push_foreign`: `yes` is not one of \"refuse\", \"allow\""
        );
        let err = resolve("[git]\ndiverged = \"force\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("roadmap-runner.toml `git.diverged`: `force`"),
            "{err}"
        );
    }

    #[test]
    fn a_number_in_quotes_is_the_number() {
        let file = FileConfig::parse(
            "[run]\nmax_parallel = \"2\"\nretries = \"1\"\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(
            (file.run.max_parallel, file.run.retries),
            (Some(2), Some(1))
        );
        let err = FileConfig::parse("[run]\nmax_parallel = \"two\"\n", Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x.toml:2:16: "), "{err}");
        assert!(
            err.contains("\"two\" is not a whole number: write one without quotes, e.g. 2"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_duration_in_the_file_names_its_line_and_column() {
        let err = FileConfig::parse("[run]\ntimeout = \"10x\"\n", Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x.toml:2:11: `10x` is not a duration: write seconds (`90`) or `90s`, `30m`, `2h`"
        );
    }
}
