//! The gate: typecheck, lint, test, build after every group.
//!
//! [`plan_gate`] decides which commands make up the gate — the `[gate]` table of
//! `roadmap-runner.toml` when it lists steps, otherwise what the project itself
//! declares (see [`detect`] for the rules) — and [`run_gate`] runs them in order,
//! all output going to one log, stopping at the first failing *fatal* step.
//! A failing non-fatal step (by default only `lint`) is a warning.

mod detect;
pub mod excerpt;
mod run;

pub use run::{GateProgress, GateReport, StepResult, StepStatus, run_gate};

use crate::config::{CONFIG_FILE, GateSettings, GateStepConfig};
use crate::exec::ExecError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The detected steps, in the order they run.
pub const STEP_ORDER: [&str; 4] = ["typecheck", "lint", "test", "build"];

/// The one step that only warns unless configured otherwise.
pub const NON_FATAL_BY_DEFAULT: &str = "lint";

/// Where a step came from, for messages ("package.json script `lint`").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepSource {
    /// A `[[gate.steps]]` entry in `roadmap-runner.toml`.
    Config,
    /// Found in the project; `what` says where, e.g. "package.json script `lint`".
    Detected { what: String },
}

impl fmt::Display for StepSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepSource::Config => write!(f, "{CONFIG_FILE} [[gate.steps]]"),
            StepSource::Detected { what } => f.write_str(what),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateStep {
    pub name: String,
    /// Program then arguments.
    pub argv: Vec<String>,
    /// The command as shown to people: `npm run lint`.
    pub display: String,
    /// A failing fatal step fails the gate; a failing non-fatal one only warns.
    pub fatal: bool,
    /// `None`: the run's default timeout.
    pub timeout: Option<Duration>,
    pub source: StepSource,
}

/// The steps to run, and what the planner wants the user to know about them
/// (skipped steps, how to configure the gate, missing programs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatePlan {
    pub steps: Vec<GateStep>,
    pub notes: Vec<String>,
}

impl GatePlan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn step(&self, name: &str) -> Option<&GateStep> {
        self.steps.iter().find(|s| s.name == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{CONFIG_FILE} [[gate.steps]] {step}: {message}")]
    InvalidStep { step: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot detect the gate: {path} is not valid {format} ({message}); fix the file, \
         or list the gate steps yourself in a [gate] table in {CONFIG_FILE}"
    )]
    Manifest {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("cannot write the gate log {path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("gate step `{step}`: {source}")]
    Exec {
        step: String,
        #[source]
        source: ExecError,
    },
}

/// The note given when no gate could be found, saying exactly how to set one up.
pub const NO_GATE_NOTE: &str = "no gate: found no package.json, Cargo.toml, pyproject.toml or \
Makefile with typecheck/lint/test/build, so groups are recorded complete without any check. \
To configure a gate, add a [gate] table to roadmap-runner.toml, for example:\n\
\n\
[[gate.steps]]\n\
name = \"test\"\n\
command = [\"make\", \"check\"]\n\
\n\
(`command` is an argv array or one shell string; optional: `fatal = false` to only warn, \
`timeout = \"20m\"`; set `enabled = false` under [gate] to turn the gate off knowingly)";

/// The note of a plan when the gate is turned off.
pub const DISABLED_NOTE: &str = "gate disabled in roadmap-runner.toml";

/// Decides the gate for `project_dir`: the configured steps when
/// `settings.steps` is given, otherwise the detected ones.
pub fn plan_gate(project_dir: &Path, settings: &GateSettings) -> Result<GatePlan, GateError> {
    if !settings.enabled {
        return Ok(GatePlan {
            steps: Vec::new(),
            notes: vec![DISABLED_NOTE.to_string()],
        });
    }
    match &settings.steps {
        Some(steps) => plan_from_config(steps),
        None => detect::detect(project_dir),
    }
}

/// Validates the `[[gate.steps]]` of the config file; errors name the step.
pub fn plan_from_config(steps: &[GateStepConfig]) -> Result<GatePlan, GateError> {
    let mut plan = GatePlan::default();
    if steps.is_empty() {
        plan.notes.push(format!(
            "[gate] steps is empty in {CONFIG_FILE}: no gate runs (remove `steps` to detect \
             the gate from the project)"
        ));
    }
    let mut seen = HashSet::new();
    for (i, step) in steps.iter().enumerate() {
        let name = step.name.trim();
        let label = if name.is_empty() {
            format!("#{} (no name)", i + 1)
        } else {
            format!("`{name}`")
        };
        let invalid = |message: String| GateError::InvalidStep {
            step: label.clone(),
            message,
        };
        if name.is_empty() {
            return Err(invalid(
                "`name` is empty; give the step a name like \"test\"".into(),
            ));
        }
        if !seen.insert(name.to_string()) {
            return Err(invalid(
                "another step has the same name; step names must be unique".into(),
            ));
        }
        let argv = step.command.argv();
        let empty = match &step.command {
            crate::config::CommandSpec::Argv(v) => v.first().is_none_or(|p| p.trim().is_empty()),
            crate::config::CommandSpec::Shell(s) => s.trim().is_empty(),
        };
        if empty {
            return Err(invalid(
                "`command` is empty; give an argv array like [\"make\", \"check\"] or a shell \
                 string like \"make check\""
                    .into(),
            ));
        }
        let timeout = match &step.timeout {
            None => None,
            Some(v) => {
                let d = v
                    .to_duration()
                    .map_err(|m| invalid(format!("`timeout`: {m}")))?;
                if d.is_zero() {
                    return Err(invalid("`timeout` must be more than zero".into()));
                }
                Some(d)
            }
        };
        plan.steps.push(GateStep {
            name: name.to_string(),
            argv,
            display: step.command.display(),
            fatal: step.fatal.unwrap_or(name != NON_FATAL_BY_DEFAULT),
            timeout,
            source: StepSource::Config,
        });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CommandSpec, DurationValue};

    fn cfg(name: &str, command: CommandSpec) -> GateStepConfig {
        GateStepConfig {
            name: name.into(),
            command,
            fatal: None,
            timeout: None,
        }
    }

    #[test]
    fn config_defaults_and_shell_strings() {
        let plan = plan_from_config(&[
            cfg("lint", CommandSpec::Argv(vec!["eslint".into(), ".".into()])),
            GateStepConfig {
                timeout: Some(DurationValue::Text("90s".into())),
                ..cfg("test", CommandSpec::Shell("make check".into()))
            },
        ])
        .unwrap();
        assert!(!plan.steps[0].fatal);
        assert_eq!(plan.steps[0].display, "eslint .");
        assert!(plan.steps[1].fatal);
        assert_eq!(plan.steps[1].argv, ["sh", "-c", "make check"]);
        assert_eq!(plan.steps[1].timeout, Some(Duration::from_secs(90)));
        assert_eq!(plan.steps[1].source, StepSource::Config);
    }

    #[test]
    fn config_errors_name_the_step() {
        let err = plan_from_config(&[GateStepConfig {
            timeout: Some(DurationValue::Text("soon".into())),
            ..cfg("test", CommandSpec::Shell("make".into()))
        }])
        .unwrap_err()
        .to_string();
        assert!(err.contains("`test`") && err.contains("`timeout`") && err.contains("soon"));

        let err = plan_from_config(&[cfg("build", CommandSpec::Argv(vec![]))])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`build`") && err.contains("`command` is empty"),
            "{err}"
        );

        let err = plan_from_config(&[
            cfg("t", CommandSpec::Shell("a".into())),
            cfg("t", CommandSpec::Shell("b".into())),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("same name"), "{err}");

        let err = plan_from_config(&[cfg(" ", CommandSpec::Shell("a".into()))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("#1"), "{err}");

        let err = plan_from_config(&[GateStepConfig {
            timeout: Some(DurationValue::Seconds(0)),
            ..cfg("x", CommandSpec::Shell("a".into()))
        }])
        .unwrap_err()
        .to_string();
        assert!(err.contains("more than zero"), "{err}");
    }

    #[test]
    fn disabled_gate() {
        let plan = plan_gate(
            Path::new("/nonexistent"),
            &GateSettings {
                enabled: false,
                steps: None,
            },
        )
        .unwrap();
        assert!(plan.steps.is_empty());
        assert_eq!(plan.notes, [DISABLED_NOTE]);
    }
}
