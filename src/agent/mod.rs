//! The coding agent: its command line, the prompt it gets, and reading what it
//! says about the run (Claude's stream-json) into a task outcome.

pub mod outcome;

pub use outcome::{AgentReport, TaskOutcome};
