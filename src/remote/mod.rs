//! Driving roadmap-runner from other programs: `mcp` (a stdio MCP server)
//! and `serve` (an HTTP API with live events and a dashboard).
//!
//! Both surfaces sit on the same pieces: [`capture`] calls the CLI's own
//! command functions with in-memory output (no second implementation of any
//! command), [`runs`] starts runs as child processes of this binary and
//! tracks them, [`event_log`] tails the events files every run writes,
//! [`options`] is the one type of a run's options both take, and
//! [`orchestrate`] the request that drafts a roadmap, then runs it.

pub mod capture;
pub mod event_log;
pub mod http;
pub mod mcp;
pub mod options;
pub mod orchestrate;
pub mod runs;
pub mod stdio;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// A command failed: the message is what the CLI prints.
    #[error("{message}")]
    Command { message: String, exit_code: i32 },
    /// Another run holds the project's lock.
    #[error("{0}")]
    Locked(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// What would be overwritten exists.
    #[error("{0}")]
    Exists(String),
    /// The run asked about has already ended.
    #[error("{0}")]
    Finished(String),
    #[error("cannot start the run: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("{0}")]
    Refused(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the API key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the MCP session failed: {0}")]
    Mcp(String),
}

impl RemoteError {
    /// The process exit code when the error ends `serve` or `mcp`.
    pub fn exit_code(&self) -> i32 {
        match self {
            RemoteError::BadRequest(_) => crate::exit::USAGE,
            RemoteError::Locked(_) => crate::exit::LOCKED,
            RemoteError::Command { exit_code, .. } => *exit_code,
            _ => crate::exit::PREFLIGHT_FAILED,
        }
    }
}

/// The project both servers act on, as the global options named it.
#[derive(Debug, Clone)]
pub struct Target {
    pub project: crate::project::Project,
    /// `--roadmap` as given, passed on to the runs this server starts.
    pub roadmap: Option<PathBuf>,
}
