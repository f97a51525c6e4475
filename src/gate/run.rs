//! Running a gate plan: steps in order, one log, stop at the first fatal failure.

use super::excerpt::Excerpt;
use super::{GateError, GatePlan, GateStep};
use crate::exec::{
    ExecError, ExitStatusKind, ProcessEvent, ProcessOutcome, ProcessSpec, StdinSource, StopLevel,
    run_process,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Lines of output kept per step for reports.
pub const TAIL_LINES: usize = 30;
/// SIGTERM → SIGKILL for a step's process group.
pub const STEP_GRACE: Duration = Duration::from_secs(10);
/// How long a step's leftover background processes may hold its output open.
pub const STEP_LEAK_TIMEOUT: Duration = Duration::from_secs(2);

/// Set for every step: tools that would wait for input or watch files (jest
/// and vitest in a terminal, react-scripts) run once under `CI`, and
/// `NO_COLOR` keeps escape codes out of the log.
const STEP_ENV: [(&str, &str); 2] = [("CI", "true"), ("NO_COLOR", "1")];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepStatus {
    Passed,
    /// `exit` is `None` when the process could not start or died by a signal
    /// (the result's `detail` says which).
    Failed {
        exit: Option<i32>,
    },
    TimedOut,
    /// A stop request (signal to the runner) ended it.
    Interrupted,
    /// An earlier fatal step failed, or a stop was requested before it started.
    NotRun,
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepStatus::Passed => f.write_str("passed"),
            StepStatus::Failed { exit: Some(code) } => write!(f, "failed (exit {code})"),
            StepStatus::Failed { exit: None } => f.write_str("failed"),
            StepStatus::TimedOut => f.write_str("timed out"),
            StepStatus::Interrupted => f.write_str("interrupted"),
            StepStatus::NotRun => f.write_str("not run"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    pub name: String,
    pub display: String,
    pub fatal: bool,
    pub status: StepStatus,
    #[serde(rename = "duration_secs", with = "secs_f64")]
    pub duration: Duration,
    /// The step's output (stdout and stderr interleaved) as shown: its
    /// first failure lines, then its last lines ([`super::excerpt`]).
    pub tail: Vec<String>,
    /// What the status alone does not say: the start error, the signal, the
    /// timeout, a leaked background process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl StepResult {
    /// Passed, or failed without failing the gate.
    pub fn is_ok_for_gate(&self) -> bool {
        match self.status {
            StepStatus::Passed => true,
            StepStatus::Failed { .. } | StepStatus::TimedOut => !self.fatal,
            StepStatus::Interrupted | StepStatus::NotRun => false,
        }
    }

    /// A non-fatal step that failed.
    pub fn is_warning(&self) -> bool {
        !self.fatal
            && matches!(
                self.status,
                StepStatus::Failed { .. } | StepStatus::TimedOut
            )
    }

    /// One line: ``lint (`npm run lint`) failed (exit 1) after 2.3s, warning only: <detail>``.
    pub fn summary(&self) -> String {
        format!("{} (`{}`) {}", self.name, self.display, self.outcome())
    }

    /// `failed (exit 1) after 2.3s, warning only: <detail>`.
    pub fn outcome(&self) -> String {
        let mut s = self.status.to_string();
        if !matches!(self.status, StepStatus::NotRun) {
            s.push_str(&format!(" after {:.1}s", self.duration.as_secs_f64()));
        }
        if self.is_warning() {
            s.push_str(", warning only");
        }
        if let Some(d) = &self.detail {
            s.push_str(": ");
            s.push_str(d);
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateReport {
    pub steps: Vec<StepResult>,
    /// Every fatal step passed and nothing was interrupted. An empty gate passes.
    pub passed: bool,
}

impl GateReport {
    /// The step that failed the gate: the first fatal failure, or the interrupted step.
    pub fn failure(&self) -> Option<&StepResult> {
        self.steps
            .iter()
            .find(|s| !s.is_ok_for_gate() && s.status != StepStatus::NotRun)
    }

    /// Non-fatal steps that failed.
    pub fn warnings(&self) -> impl Iterator<Item = &StepResult> {
        self.steps.iter().filter(|s| s.is_warning())
    }

    /// `typecheck passed, lint failed (exit 1, warning only), test passed, build not run`.
    pub fn summary(&self) -> String {
        if self.steps.is_empty() {
            return "no gate steps".into();
        }
        self.steps
            .iter()
            .map(|s| {
                if s.is_warning() {
                    format!("{} {} (warning only)", s.name, s.status)
                } else {
                    format!("{} {}", s.name, s.status)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone)]
pub enum GateProgress {
    StepStarted {
        name: String,
        display: String,
    },
    /// The step's process (and process group) `pid` is running.
    StepSpawned {
        name: String,
        pid: u32,
    },
    StepFinished {
        result: StepResult,
    },
}

/// Runs the plan's steps in order in `project_dir`.
///
/// Every step's output is appended to `log_path` (created with its directory),
/// each step preceded by a `==> [name] command` line and followed by a
/// `==> [name] passed after 1.2s` (or failed...) line. A step without its own timeout gets
/// `default_timeout`. The first failing fatal step ends the gate (later steps
/// are `NotRun`); a failing non-fatal step is recorded and the gate goes on. A
/// stop request interrupts the running step and skips the rest.
///
/// Errors are the runner's own trouble (the log cannot be written); a step that
/// cannot even start is a failed step whose `detail` says why.
pub async fn run_gate(
    plan: &GatePlan,
    project_dir: &Path,
    log_path: &Path,
    default_timeout: Duration,
    stop: watch::Receiver<StopLevel>,
    on_step: &mut (dyn FnMut(GateProgress) + Send),
) -> Result<GateReport, GateError> {
    if let Some(parent) = log_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| GateError::Log {
            path: log_path.to_path_buf(),
            source,
        })?;
    }
    let mut results = Vec::with_capacity(plan.steps.len());
    let mut halted = false;
    for step in &plan.steps {
        let stop_requested = *stop.borrow() != StopLevel::Run;
        if halted || stop_requested {
            halted = true;
            let result = not_run(step);
            on_step(GateProgress::StepFinished {
                result: result.clone(),
            });
            results.push(result);
            continue;
        }
        on_step(GateProgress::StepStarted {
            name: step.name.clone(),
            display: step.display.clone(),
        });
        append_log(log_path, &format!("==> [{}] {}\n", step.name, step.display))?;
        let result = run_step(
            step,
            project_dir,
            log_path,
            default_timeout,
            stop.clone(),
            on_step,
        )
        .await?;
        append_log(
            log_path,
            &format!("==> [{}] {}\n", step.name, result.outcome()),
        )?;
        if !result.is_ok_for_gate() {
            halted = true;
        }
        on_step(GateProgress::StepFinished {
            result: result.clone(),
        });
        results.push(result);
    }
    let passed = results.iter().all(StepResult::is_ok_for_gate);
    Ok(GateReport {
        steps: results,
        passed,
    })
}

fn not_run(step: &GateStep) -> StepResult {
    StepResult {
        name: step.name.clone(),
        display: step.display.clone(),
        fatal: step.fatal,
        status: StepStatus::NotRun,
        duration: Duration::ZERO,
        tail: Vec::new(),
        detail: None,
    }
}

async fn run_step(
    step: &GateStep,
    project_dir: &Path,
    log_path: &Path,
    default_timeout: Duration,
    stop: watch::Receiver<StopLevel>,
    on_step: &mut (dyn FnMut(GateProgress) + Send),
) -> Result<StepResult, GateError> {
    let timeout = step.timeout.unwrap_or(default_timeout);
    let Some((program, args)) = step.argv.split_first() else {
        // plan_gate never builds one; a hand-made plan might.
        return Ok(StepResult {
            status: StepStatus::Failed { exit: None },
            detail: Some("the step has an empty command".into()),
            ..not_run(step)
        });
    };
    let spec = ProcessSpec {
        program: program.into(),
        args: args.iter().map(Into::into).collect(),
        env: STEP_ENV.iter().map(|(k, v)| (k.into(), v.into())).collect(),
        cwd: project_dir.to_path_buf(),
        stdin: StdinSource::Null,
        log_path: Some(log_path.to_path_buf()),
        timeout: Some(timeout),
        grace: STEP_GRACE,
        leak_timeout: STEP_LEAK_TIMEOUT,
    };
    let mut excerpt = Excerpt::new(TAIL_LINES);
    let started = Instant::now();
    let outcome = {
        let mut on_event = |event: ProcessEvent<'_>| match event {
            ProcessEvent::Line(_, line) => excerpt.push(line),
            ProcessEvent::Started { pid } => on_step(GateProgress::StepSpawned {
                name: step.name.clone(),
                pid,
            }),
        };
        run_process(spec, stop, &mut on_event).await
    };
    let mut result = StepResult {
        duration: started.elapsed(),
        ..not_run(step)
    };
    match outcome {
        Ok(outcome) => {
            result.duration = outcome.duration;
            classify(&mut result, &outcome, timeout);
            result.tail = if excerpt.is_empty() {
                last_lines(&outcome.tail)
            } else {
                excerpt.lines()
            };
        }
        Err(ExecError::Spawn { program, source }) => {
            let hint = if source.kind() == std::io::ErrorKind::NotFound {
                " (not installed, or not on PATH: cron runs with a minimal PATH, set PATH in \
                 the crontab)"
            } else {
                ""
            };
            let detail = format!("cannot start `{program}`: {source}{hint}");
            append_log(log_path, &format!("{detail}\n"))?;
            result.status = StepStatus::Failed { exit: None };
            result.detail = Some(detail);
        }
        Err(source) => {
            return Err(GateError::Exec {
                step: step.name.clone(),
                source,
            });
        }
    }
    Ok(result)
}

fn classify(result: &mut StepResult, outcome: &ProcessOutcome, timeout: Duration) {
    let mut details = Vec::new();
    if outcome.timed_out {
        result.status = StepStatus::TimedOut;
        details.push(format!(
            "still running after the {} timeout, stopped",
            crate::text::short_duration(timeout)
        ));
    } else if let Some(level) = outcome.stopped {
        result.status = StepStatus::Interrupted;
        details.push(format!("stopped on request ({level:?})"));
    } else {
        match outcome.status {
            ExitStatusKind::Code(0) => result.status = StepStatus::Passed,
            ExitStatusKind::Code(code) => result.status = StepStatus::Failed { exit: Some(code) },
            ExitStatusKind::Signal(sig) => {
                result.status = StepStatus::Failed { exit: None };
                details.push(format!("killed by signal {sig}{}", signal_name(sig)));
            }
        }
    }
    if outcome.leaked {
        details.push(
            "a background process it started kept the output open and was killed".to_string(),
        );
    }
    if !details.is_empty() {
        result.detail = Some(details.join("; "));
    }
}

fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| format!(" ({})", s.as_str()))
        .unwrap_or_default()
}

fn last_lines(lines: &[String]) -> Vec<String> {
    lines[lines.len().saturating_sub(TAIL_LINES)..].to_vec()
}

fn append_log(path: &Path, text: &str) -> Result<(), GateError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| GateError::Log {
            path: path.to_path_buf(),
            source,
        })
}

/// Durations as fractional seconds in JSON (`"duration_secs": 2.5`).
mod secs_f64 {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(fatal: bool, status: StepStatus) -> StepResult {
        StepResult {
            name: "lint".into(),
            display: "npm run lint".into(),
            fatal,
            status,
            duration: Duration::from_millis(2340),
            tail: vec![],
            detail: None,
        }
    }

    #[test]
    fn fatal_and_warning_rules() {
        assert!(result(false, StepStatus::Failed { exit: Some(1) }).is_ok_for_gate());
        assert!(result(false, StepStatus::TimedOut).is_warning());
        assert!(!result(true, StepStatus::Failed { exit: Some(1) }).is_ok_for_gate());
        assert!(!result(false, StepStatus::Interrupted).is_ok_for_gate());
        assert!(!result(false, StepStatus::NotRun).is_ok_for_gate());
        assert_eq!(
            result(false, StepStatus::Failed { exit: Some(1) }).summary(),
            "lint (`npm run lint`) failed (exit 1) after 2.3s, warning only"
        );
    }

    #[test]
    fn classify_outcomes() {
        let outcome = |status, timed_out, stopped| ProcessOutcome {
            pid: 1,
            status,
            timed_out,
            stopped,
            leaked: false,
            duration: Duration::from_secs(1),
            tail: vec![],
        };
        let t = Duration::from_secs(60);
        let mut r = result(true, StepStatus::NotRun);
        classify(&mut r, &outcome(ExitStatusKind::Signal(15), true, None), t);
        assert_eq!(r.status, StepStatus::TimedOut);
        assert!(r.detail.as_deref().unwrap().contains("1m 00s timeout"));

        let mut r = result(true, StepStatus::NotRun);
        // exit 0 after we interrupted it is not a pass
        classify(
            &mut r,
            &outcome(ExitStatusKind::Code(0), false, Some(StopLevel::Terminate)),
            t,
        );
        assert_eq!(r.status, StepStatus::Interrupted);

        let mut r = result(true, StepStatus::NotRun);
        classify(&mut r, &outcome(ExitStatusKind::Signal(9), false, None), t);
        assert_eq!(r.status, StepStatus::Failed { exit: None });
        assert_eq!(r.detail.as_deref(), Some("killed by signal 9 (SIGKILL)"));
    }

    #[test]
    fn report_json_shape() {
        let report = GateReport {
            steps: vec![result(false, StepStatus::Failed { exit: Some(2) })],
            passed: true,
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["steps"][0]["status"]["kind"], "failed");
        assert_eq!(json["steps"][0]["status"]["exit"], 2);
        assert_eq!(json["steps"][0]["duration_secs"], 2.34);
        let back: GateReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
        assert_eq!(report.summary(), "lint failed (exit 2) (warning only)");
    }
}
