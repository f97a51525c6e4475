//! Checks made before anything is launched, each failing with what is wrong
//! and how to fix it. Cron runs with a short PATH and often as root: both are
//! named explicitly.

use crate::agent::AgentKind;
use crate::agent::command::root_permission_problem;
use crate::config::{AgentSettings, Settings};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "agent `{program}` not found. Searched PATH: {path}\n  Cron runs with a short PATH: set PATH in the crontab, {hint}, or set [agent] command in roadmap-runner.toml"
    )]
    AgentNotFound {
        program: String,
        path: String,
        /// How to name the binary of this agent.
        hint: &'static str,
    },
    #[error("agent `{0}` exists but is not an executable file: check its permissions (chmod +x)")]
    AgentNotExecutable(PathBuf),
    #[error("{0}")]
    RootWithoutSandbox(String),
    /// An agent the run uses besides its own, with what uses it.
    #[error("{user}: {source}")]
    Of {
        user: String,
        #[source]
        source: Box<PreflightError>,
    },
}

/// The agents besides the run's own that any group may start: each
/// `[agent] fallback` (a usage limit moves tasks there), `[repair] agent`
/// and `[review] agent` (when reviews are on), each with what uses it.
pub fn role_agents(settings: &Settings) -> Vec<(String, &AgentSettings)> {
    let mut out: Vec<(String, &AgentSettings)> = settings
        .agent_fallback
        .iter()
        .map(|a| ("[agent] fallback".to_string(), a))
        .collect();
    if settings.repair.agent.is_some() && settings.repair.attempts > 0 {
        out.push(("[repair] agent".into(), settings.repair_agent()));
    }
    if settings.review.agent.is_some() && settings.review.enabled {
        out.push(("[review] agent".into(), settings.review_agent()));
    }
    out
}

/// Checks one agent that `user` needs: its program is there and runs,
/// and Claude's root check passes. The run's own agent is checked by
/// [`find_agent`] and [`check_root_sandbox`] (its program is kept).
pub fn check_agent(
    user: &str,
    agent: &AgentSettings,
    project_dir: &Path,
) -> Result<(), PreflightError> {
    let of = |source| PreflightError::Of {
        user: user.to_string(),
        source: Box::new(source),
    };
    find_agent(&agent.command[0], agent.kind(), project_dir).map_err(of)?;
    let is_root = crate::exec::unix::running_as_root();
    let env = std::env::var_os("IS_SANDBOX");
    match root_permission_problem(agent, is_root, env.as_deref()) {
        Some(message) => Err(of(PreflightError::RootWithoutSandbox(message))),
        None => Ok(()),
    }
}

/// Resolves the agent program the way the child's exec will (PATH search,
/// or a path relative to the project for names with a `/`).
pub fn find_agent(
    program: &str,
    kind: AgentKind,
    project_dir: &Path,
) -> Result<PathBuf, PreflightError> {
    let hint = kind.binary_hint();
    if program.contains('/') {
        let p = Path::new(program);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            project_dir.join(p)
        };
        if !p.exists() {
            return Err(PreflightError::AgentNotFound {
                program: program.into(),
                path: "(not searched: the name is a path)".into(),
                hint,
            });
        }
        return match which::which(&p) {
            Ok(found) => Ok(found),
            Err(_) => Err(PreflightError::AgentNotExecutable(p)),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    which::which_in(program, Some(&path), project_dir).map_err(|_| PreflightError::AgentNotFound {
        program: program.into(),
        path: path.to_string_lossy().into_owned(),
        hint,
    })
}

/// Claude refuses `--dangerously-skip-permissions` as root outside a sandbox.
pub fn check_root_sandbox(settings: &Settings) -> Result<(), PreflightError> {
    let is_root = crate::exec::unix::running_as_root();
    let env = std::env::var_os("IS_SANDBOX");
    match root_permission_problem(&settings.agent, is_root, env.as_deref()) {
        Some(message) => Err(PreflightError::RootWithoutSandbox(message)),
        None => Ok(()),
    }
}
