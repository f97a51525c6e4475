//! The subcommands. Each returns the process exit code, or a typed error that
//! knows its exit code; `main` only prints and exits.

pub mod clean;
pub mod completions;
pub mod config;
pub mod demo;
pub mod dry_run;
pub mod edit;
pub mod gate;
pub mod import;
pub mod init;
pub mod logs;
pub mod man;
pub mod reading_tree;
pub mod run;
pub mod status;
pub mod validate;
pub mod worker;

use crate::config::ConfigError;
use crate::exit;
use crate::plan::PlanError;
use crate::project::ProjectError;
use crate::status::StatusError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Status(#[from] StatusError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("{0}")]
    Usage(String),
    /// The environment or configuration is not fit for a run.
    #[error("{0}")]
    Preflight(String),
    #[error(transparent)]
    Output(#[from] std::io::Error),
}

impl CommandError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CommandError::Project(ProjectError::NoDir(_)) => exit::USAGE,
            CommandError::Project(_) => exit::ROADMAP_INVALID,
            CommandError::Plan(_) | CommandError::Usage(_) => exit::USAGE,
            // A bad environment variable is bad usage, as the flag would be.
            CommandError::Config(ConfigError::Env { .. }) => exit::USAGE,
            CommandError::Config(_)
            | CommandError::Demo(_)
            | CommandError::Cluster(_)
            | CommandError::Preflight(_) => exit::PREFLIGHT_FAILED,
            CommandError::Status(_) | CommandError::Output(_) => exit::PREFLIGHT_FAILED,
        }
    }
}

/// Where a command writes: stdout for its report, stderr for diagnostics.
pub struct Io<'a> {
    pub out: &'a mut dyn std::io::Write,
    pub err: &'a mut dyn std::io::Write,
}
