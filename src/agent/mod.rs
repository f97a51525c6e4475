//! The coding agent: its command line, the prompt it gets, and reading what it
//! says about the run (Claude's stream-json) into a task outcome.
//!
//! One attempt at a task, end to end:
//!
//! ```text
//! PromptVars::new(roadmap, phase, group, task) ─▶ render_prompt(template, vars)
//!   ─▶ build_invocation(settings, prompt, resume, task_env) ─▶ exec::run_process
//!        each stdout line ─▶ StreamObserver::observe (stderr: observe_stderr)
//!   ─▶ classify(process outcome, observer, format, timeout) ─▶ (TaskOutcome, AgentReport)
//! ```

pub mod classify;
pub mod codex_json;
pub mod command;
pub mod copilot_json;
pub mod gemini_json;
mod observe;
pub mod opencode_json;
pub mod outcome;
pub mod profile;
pub mod prompt;
pub mod stream_json;

pub use classify::classify;
pub use command::{AgentInvocation, TaskEnv, build_invocation, display_command};
pub use outcome::{AgentReport, TaskOutcome};
pub use profile::AgentKind;
pub use prompt::{
    DEFAULT_TEMPLATE, PromptError, PromptVars, TEMPLATE_VARIABLES, load_template, render_prompt,
};
pub use stream_json::StreamObserver;
