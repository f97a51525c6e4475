//! An agent writes a roadmap: `init --goal` (from a goal) and `import` (from
//! a plan document) share this one mechanism.
//!
//! The protocol (DESIGN.md, "Protocols with agents that write roadmaps"):
//! the runner names a file in `ROADMAP_RUNNER_PLAN_FILE`; the agent writes
//! the roadmap there, and its reply text is never parsed for one. The file
//! is validated by the roadmap parser (and read in the native dialect, so a
//! nightly run reads it the same way); what is wrong goes back to the agent
//! in the same session (`--resume`), a bounded number of times. Nothing is
//! written for the user until an answer validates.

pub mod agent;
pub mod events;
pub mod summary;
pub mod write_back;

use crate::config::Settings;
use crate::project::Project;
use crate::roadmap::{Dialect, Roadmap, diagnostics, parse};
use std::path::{Path, PathBuf};

/// The environment variable naming the file the agent writes.
pub const PLAN_FILE_ENV: &str = "ROADMAP_RUNNER_PLAN_FILE";
/// The native format's rules, given to every drafting agent.
pub const FORMAT_RULES: &str = include_str!("prompts/native_format.md");
/// `init --goal`: the first prompt.
pub const GOAL_TEMPLATE: &str = include_str!("prompts/goal.md");
/// `import`: the first prompt.
pub const IMPORT_TEMPLATE: &str = include_str!("prompts/import.md");
/// An answer that did not validate: what goes back to the agent.
pub const RETRY_TEMPLATE: &str = include_str!("prompts/retry.md");

/// What a drafting agent is asked for.
pub struct Request<'a> {
    pub project: &'a Project,
    pub settings: &'a Settings,
    /// `init` or `import`: names the logs.
    pub name: &'static str,
    /// The first prompt, made by [`goal_prompt`] or [`import_prompt`] with
    /// [`Request::plan_file`].
    pub prompt: String,
    pub attempts: u32,
    /// `import`: every task must name its line of this document.
    pub source: Option<&'a summary::SourceDoc>,
    pub plan_file: PathBuf,
}

impl<'a> Request<'a> {
    /// Where this request's agent writes: `logs/draft/<name>_<stamp>.plan.md`
    /// (kept, like every agent log; logs are never committed).
    pub fn plan_file_for(project: &Project, name: &str) -> PathBuf {
        let dir = project.logs_dir.join("draft");
        let log = crate::project::new_log_path(&dir, name);
        log.with_extension("plan.md")
    }
}

/// One agent call, as the summary shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub attempt: u32,
    pub session_id: Option<String>,
    pub cost_usd: Option<f64>,
    pub log: PathBuf,
    /// How the agent ended (`succeeded`, `failed`, ...).
    pub outcome: String,
}

/// A roadmap that validated.
#[derive(Debug)]
pub struct Drafted {
    pub source: String,
    pub roadmap: Roadmap,
    /// Warnings of the parser, rendered (they do not stop anything).
    pub warnings: String,
    pub calls: Vec<Call>,
}

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error("{0}")]
    Preflight(String),
    #[error("the drafting agent ({outcome}) did not finish: {reason} (log: {})", log.display())]
    Agent {
        outcome: String,
        reason: String,
        log: PathBuf,
        calls: Vec<Call>,
    },
    #[error(
        "no valid roadmap after {attempts} attempt(s); the last answer ({}) still had these problems:\n{problems}",
        plan.display()
    )]
    NeverValid {
        attempts: u32,
        problems: String,
        plan: PathBuf,
        calls: Vec<Call>,
    },
    #[error("interrupted by {}", crate::runner::signals::signal_name(*.0))]
    Interrupted(i32),
    #[error("cannot prepare the drafting agent: {0}")]
    Io(#[from] std::io::Error),
}

impl DraftError {
    pub fn exit_code(&self) -> i32 {
        use crate::exit;
        match self {
            DraftError::Preflight(_) | DraftError::Io(_) => exit::PREFLIGHT_FAILED,
            DraftError::Agent { outcome, .. } if outcome == "auth failure" => {
                exit::PREFLIGHT_FAILED
            }
            DraftError::Agent { .. } => exit::TASK_FAILED,
            DraftError::NeverValid { .. } => exit::ROADMAP_INVALID,
            DraftError::Interrupted(signo) => exit::interrupted(*signo),
        }
    }

    /// The agent calls made before it failed.
    pub fn calls(&self) -> &[Call] {
        match self {
            DraftError::Agent { calls, .. } | DraftError::NeverValid { calls, .. } => calls,
            _ => &[],
        }
    }
}

/// The first prompt of `init --goal`.
pub fn goal_prompt(goal: &str, gate: &str, plan_file: &Path) -> String {
    render(
        GOAL_TEMPLATE,
        vec![
            ("goal", goal.trim().to_string()),
            ("gate", gate.to_string()),
            ("format", FORMAT_RULES.trim_end().to_string()),
            ("plan_file", plan_file.display().to_string()),
        ],
    )
}

/// The first prompt of `import`.
pub fn import_prompt(doc: &summary::SourceDoc, plan_file: &Path) -> String {
    render(
        IMPORT_TEMPLATE,
        vec![
            ("document", doc.name.clone()),
            ("line_count", doc.line_count().to_string()),
            ("numbered", doc.numbered()),
            ("format", FORMAT_RULES.trim_end().to_string()),
            ("plan_file", plan_file.display().to_string()),
        ],
    )
}

fn retry_prompt(problems: &str, plan_file: &Path, attempt: u32, attempts: u32) -> String {
    render(
        RETRY_TEMPLATE,
        vec![
            ("problems", problems.trim_end().to_string()),
            ("plan_file", plan_file.display().to_string()),
            ("attempt", attempt.to_string()),
            ("attempts", attempts.to_string()),
        ],
    )
}

/// The built-in templates name only the variables given: an error is a bug.
fn render(template: &str, vars: Vec<(&'static str, String)>) -> String {
    let vars = crate::agent::prompt::NamedVars(vars);
    crate::agent::prompt::render_named(template, &vars, "built-in drafting prompt")
        .expect("the built-in drafting prompts use known variables")
}

/// Asks the agent until its answer validates or the attempts are used.
pub fn draft(req: &Request<'_>) -> Result<Drafted, DraftError> {
    draft_observed(req, &mut |_| {})
}

/// [`draft`], each step told to `on` as it happens.
pub fn draft_observed(
    req: &Request<'_>,
    on: &mut dyn FnMut(events::DraftEvent),
) -> Result<Drafted, DraftError> {
    let program = agent::Agent::prepare(req)?;
    if let Some(dir) = req.plan_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::project::ensure_gitignore(&req.project.logs_dir, crate::project::LOGS_GITIGNORE)?;
    let mut agent = program.start()?;
    let mut calls = Vec::new();
    let mut prompt = req.prompt.clone();
    let mut problems = String::new();
    let of = req.attempts.max(1);
    on(events::DraftEvent::DraftingStarted {
        name: req.name.to_string(),
        attempts: of,
        plan_file: req.plan_file.clone(),
    });
    for attempt in 1..=of {
        // A stale answer must never pass for this attempt's.
        let _ = std::fs::remove_file(&req.plan_file);
        let call = agent.ask(req, &prompt, attempt)?;
        calls.push(call.call.clone());
        on(events::DraftEvent::attempt(&call.call, of));
        if !call.succeeded {
            return Err(DraftError::Agent {
                outcome: call.call.outcome.clone(),
                reason: call.reason,
                log: call.call.log,
                calls,
            });
        }
        match validate(&req.plan_file, req.source) {
            Ok((source, roadmap, warnings)) => {
                return Ok(Drafted {
                    source,
                    roadmap,
                    warnings,
                    calls,
                });
            }
            Err(found) => problems = found,
        }
        if let Some(last) = calls.last_mut() {
            last.outcome.push_str(", its roadmap had problems");
        }
        tracing::info!(attempt, "the drafted roadmap did not validate");
        on(events::DraftEvent::DraftingDiagnostics {
            attempt,
            of,
            problems: problems.clone(),
        });
        let retry = retry_prompt(&problems, &req.plan_file, attempt, req.attempts);
        // Without a session to go on with, the agent starts again from the
        // whole request.
        prompt = match agent.session() {
            Some(_) => retry,
            None => format!("{}\n\n{retry}", req.prompt),
        };
    }
    Err(DraftError::NeverValid {
        attempts: req.attempts.max(1),
        problems,
        plan: req.plan_file.clone(),
        calls,
    })
}

/// The plan file read and checked: the roadmap, or every problem as the
/// agent is told it.
pub fn validate(
    path: &Path,
    doc: Option<&summary::SourceDoc>,
) -> Result<(String, Roadmap, String), String> {
    validate_as(path, &format!("${PLAN_FILE_ENV}"), doc)
}

/// [`validate`] of a roadmap an agent wrote to the file the variable `name`
/// named (a task's sub-roadmap too).
pub fn validate_as(
    path: &Path,
    name: &str,
    doc: Option<&summary::SourceDoc>,
) -> Result<(String, Roadmap, String), String> {
    let name = name.to_string();
    let source = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| format!("{name} is not valid UTF-8: write it as UTF-8 text"))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "no roadmap was written to {name} ({}): write the roadmap to that file",
                path.display()
            ));
        }
        Err(e) => return Err(format!("cannot read {name}: {e}")),
    };
    let parsed = parse(&source);
    let mut problems = Vec::new();
    let errors: Vec<_> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !errors.is_empty() {
        problems.push(diagnostics::render_all(&errors, &name, &source));
    }
    if parsed.roadmap.dialect != Dialect::Table {
        problems.push(format!(
            "the file reads as the {} format, not the native one: write `## Phase N: Title`, `### Group X: Title (Parallel)` and `- [ ] **X1**: Title` lines as shown in the format",
            parsed.roadmap.dialect.name()
        ));
    }
    if parsed.roadmap.task_count() == 0 {
        problems
            .push("the roadmap has no task: every group needs `- [ ] **A1**: Title` items".into());
    }
    if let Some(doc) = doc {
        problems.extend(summary::source_problems(&parsed.roadmap, &source, doc));
    }
    if !problems.is_empty() {
        return Err(problems.join("\n\n"));
    }
    let warnings: Vec<_> = parsed
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .cloned()
        .collect();
    let warnings = diagnostics::render_all(&warnings, &name, &source);
    Ok((source, parsed.roadmap, warnings))
}
