//! `[agent]`, its profiles and fallbacks, with `--agent` and `CLAUDE_BIN`:
//! the command line of the agent a task runs on.

use super::overrides::{named_profile, unknown_agent};
use super::{
    AgentKind, AgentSection, CONFIG_FILE, ConfigError, Origin, OutputFormat, Overrides,
    ProfileSection,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

impl AgentSettings {
    /// The agent of a run: `--agent` / `ROADMAP_AGENT`, else `[agent] kind`,
    /// else Claude Code (or, with `[agent] command` alone, that program).
    pub(super) fn resolve(
        a: &AgentSection,
        over: &Overrides,
    ) -> Result<AgentSettings, ConfigError> {
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
        let command = command(a, kind, profile, over)?;
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
    pub(super) fn resolve_fallback(
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
    pub(super) fn resolve_profile(
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

/// The agent's argv before its extra arguments: `[agent] command`, else the
/// kind's own command line (with `--claude-bin`, or the profile's binary).
fn command(
    a: &AgentSection,
    kind: Option<AgentKind>,
    profile: Option<&ProfileSection>,
    over: &Overrides,
) -> Result<Vec<String>, ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        origin: format!("{CONFIG_FILE} `agent.{key}`"),
        message,
    };
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
    Ok(command)
}
