//! What a run is given from outside the file: flags (or the fields of an
//! API request) and the environment. Config defines these and knows no
//! command line: the CLI and the servers convert into them.

use super::{
    AgentKind, ConfigError, Isolation, Origin, parse_isolation, parse_max_parallel, parse_timeout,
};
use crate::roadmap::PhaseId;
use std::path::PathBuf;
use std::time::Duration;

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
    /// `--max-depth`: how deep a task may split itself.
    pub max_recursion_depth: Option<u32>,
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
pub(crate) fn named_profile(name: &str) -> Option<AgentKind> {
    AgentKind::parse(name).filter(|k| *k != AgentKind::Command)
}

/// `[repair] agent` / `[review] agent`, checked.
pub(crate) fn role_agent(name: Option<&str>, key: &str) -> Result<Option<AgentKind>, ConfigError> {
    let Some(name) = name else { return Ok(None) };
    named_profile(name)
        .map(Some)
        .ok_or_else(|| ConfigError::Invalid {
            origin: format!("{} `{key}`", super::CONFIG_FILE),
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

impl Overrides {
    /// These overrides with the settings not given filled in from the
    /// process's environment.
    pub fn with_process_env(self) -> Result<Overrides, ConfigError> {
        self.with_env(|name| std::env::var(name).ok())
    }

    /// The same, with the environment read through `env` (tests). An empty
    /// (or blank) variable counts as unset, as in most tools; a given value
    /// wins over its variable.
    pub fn with_env(self, env: impl Fn(&str) -> Option<String>) -> Result<Overrides, ConfigError> {
        let var = |name: &'static str| env(name).filter(|v| !v.trim().is_empty());
        let max_parallel = match self.max_parallel {
            Some(n) => Some(n),
            None => from_env(ENV_MAX_PARALLEL, var(ENV_MAX_PARALLEL), parse_max_parallel)?,
        };
        let timeout = match self.timeout {
            Some(t) => Some(t),
            None => from_env(ENV_TIMEOUT, var(ENV_TIMEOUT), parse_timeout)?,
        };
        let claude_bin = self
            .claude_bin
            .or_else(|| var(ENV_CLAUDE_BIN).map(|b| (b, Origin::Env(ENV_CLAUDE_BIN))));
        let agent = match self.agent {
            Some(a) => Some(a),
            None => from_env(ENV_AGENT, var(ENV_AGENT), |v| {
                AgentKind::parse(v).ok_or_else(|| unknown_agent(v))
            })?,
        };
        let max_cost = match self.max_cost {
            Some(c) => Some(c),
            None => from_env(ENV_MAX_COST, var(ENV_MAX_COST), parse_cost)?,
        };
        let isolation = match self.isolation {
            Some(i) => Some(i),
            None => from_env(ENV_ISOLATION, var(ENV_ISOLATION), parse_isolation)?.map(|(i, _)| i),
        };
        let nats = self
            .nats
            .or_else(|| var(ENV_NATS))
            .filter(|u| !u.trim().is_empty());
        Ok(Overrides {
            max_parallel,
            timeout,
            claude_bin,
            agent,
            max_cost,
            isolation,
            nats,
            ..self
        })
    }
}

/// What one run is asked for, however it was asked (the command line, the
/// HTTP API, MCP): the settings it overrides and the run's own choices.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// As given: the environment fills in when the run resolves them.
    pub overrides: Overrides,
    /// Only these phases: inclusive ranges.
    pub phases: Vec<(PhaseId, PhaseId)>,
    /// Only these groups (`1:B`).
    pub groups: Vec<String>,
    /// Only this task (`1:A:A2`).
    pub task: Option<String>,
    /// Run the agents again where only the gate failed.
    pub rerun_tasks: bool,
    /// Take uncommitted changes into the phase commit.
    pub allow_dirty: bool,
    /// Print the plan, change nothing.
    pub dry_run: bool,
    /// One JSON object per event (the plan as JSON, for a dry run).
    pub json: bool,
    /// A shell command run when the run ends.
    pub notify: Option<String>,
}
