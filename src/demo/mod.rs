//! `roadmap-runner demo`: the whole job, end to end, on a machine with nothing
//! installed. A tiny shop project with a 2-phase roadmap is created in a
//! temporary directory with a bare `origin`; the agents are this binary
//! itself (`__simulate-agent`, which speaks Claude Code's stream-json and
//! writes each task's file, or for D1 a plan of smaller tasks); the gate
//! (`sh tests/run.sh`), the status files, the phase commits and the pushes
//! are the real ones.

pub mod agent;
pub mod cluster;
pub mod files;
pub mod project;
pub mod split;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot set up the demo project: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up the demo project: {context}: {message}")]
    Git { context: String, message: String },
    #[error("{what}")]
    Missing { what: String },
}

impl DemoError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DemoError {
        let context = context.into();
        move |source| DemoError::Io { context, source }
    }

    pub(crate) fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> DemoError {
        let context = context.into();
        move |e| DemoError::Git {
            context,
            message: e.message().to_string(),
        }
    }
}
