//! Checks made before anything is launched, each failing with what is wrong
//! and how to fix it. Cron runs with a short PATH and often as root: both are
//! named explicitly.

use crate::agent::AgentKind;
use crate::agent::command::root_permission_problem;
use crate::config::Settings;
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
