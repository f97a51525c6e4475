//! The options of a run started over MCP or HTTP: the names of `run`'s flags,
//! turned into the same argv a user would type and checked by the same clap
//! parser, so a remote run means exactly what the CLI means.

use super::RemoteError;
use crate::cli::{Cli, Command, RunArgs};
use clap::Parser;
use schemars::JsonSchema;
use serde::Deserialize;

/// `run`'s options. Unknown names are refused, so a typo never silently does nothing.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// Only these phases: `"2"` or a range `"2..3"` (`--phase`).
    #[serde(default)]
    pub phases: Vec<String>,
    /// Only these groups, e.g. `"1:B"` (`--group`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Only this one task, e.g. `"1:A:A2"` (`--task`).
    #[serde(default)]
    pub task: Option<String>,
    /// Agents running at once (`--max-parallel`).
    #[serde(default)]
    pub max_parallel: Option<u32>,
    /// Time limit per task: seconds, or `"90s"`, `"30m"`, `"2h"` (`--timeout`).
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// Retries for a failed task (`--retries`).
    #[serde(default)]
    pub retries: Option<u32>,
    /// Stop the group's other tasks as soon as one fails (`--fail-fast`).
    #[serde(default)]
    pub fail_fast: bool,
    /// Do not commit finished phases (`--no-commit`, implies no push).
    #[serde(default)]
    pub no_commit: bool,
    /// Commit finished phases but do not push (`--no-push`).
    #[serde(default)]
    pub no_push: bool,
    /// Run the agents again where only the gate failed (`--rerun-tasks`).
    #[serde(default)]
    pub rerun_tasks: bool,
    /// Start a phase on a dirty working tree (`--allow-dirty`).
    #[serde(default)]
    pub allow_dirty: bool,
    /// Repair agents after a failed gate, per group (`--fix-attempts`).
    #[serde(default)]
    pub fix_attempts: Option<u32>,
    /// A reviewer agent after each passing gate (`--review`).
    #[serde(default)]
    pub review: bool,
    /// What the run may spend on agents, in USD (`--max-cost`).
    #[serde(default)]
    pub max_cost: Option<f64>,
    /// Tick completed tasks in the roadmap file (`--write-back`).
    #[serde(default)]
    pub write_back: bool,
}

/// `90` (seconds) or `"90s"`, `"30m"`, `"2h"`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Timeout {
    Seconds(u64),
    Text(String),
}

impl RunOptions {
    /// The flags of `run` these options stand for (`--key=value`, so a value
    /// that starts with `-` is never read as a flag).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        args.extend(self.phases.iter().map(|p| format!("--phase={p}")));
        args.extend(self.groups.iter().map(|g| format!("--group={g}")));
        args.extend(self.task.iter().map(|t| format!("--task={t}")));
        args.extend(self.max_parallel.map(|n| format!("--max-parallel={n}")));
        args.extend(self.timeout.as_ref().map(|t| match t {
            Timeout::Seconds(s) => format!("--timeout={s}"),
            Timeout::Text(s) => format!("--timeout={s}"),
        }));
        args.extend(self.retries.map(|n| format!("--retries={n}")));
        args.extend(self.fix_attempts.map(|n| format!("--fix-attempts={n}")));
        args.extend(self.max_cost.map(|c| format!("--max-cost={c}")));
        for (on, flag) in [
            (self.review, "--review"),
            (self.write_back, "--write-back"),
            (self.fail_fast, "--fail-fast"),
            (self.no_commit, "--no-commit"),
            (self.no_push, "--no-push"),
            (self.rerun_tasks, "--rerun-tasks"),
            (self.allow_dirty, "--allow-dirty"),
        ] {
            if on {
                args.push(flag.to_string());
            }
        }
        args
    }

    /// `run`'s arguments as the CLI parses them from these options plus
    /// `extra` (e.g. `--dry-run`), environment fallbacks included; a bad
    /// value is refused with clap's own message.
    pub fn parse(&self, extra: &[&str]) -> Result<RunArgs, RemoteError> {
        let argv = ["roadmap-runner", "run"]
            .into_iter()
            .map(String::from)
            .chain(extra.iter().map(|s| s.to_string()))
            .chain(self.to_args());
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Some(Command::Run(args)),
                ..
            }) => Ok(args),
            Ok(_) => Err(RemoteError::BadRequest("not a run".into())),
            Err(e) => Err(RemoteError::BadRequest(clap_message(&e))),
        }
    }
}

/// clap's error without the usage lines and the `--help` hint.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.trim_start_matches("error: ").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_become_the_run_flags() {
        let opts: RunOptions = serde_json::from_value(serde_json::json!({
            "phases": ["1..2"], "groups": ["1:A"], "max_parallel": 2,
            "timeout": "30m", "no_push": true
        }))
        .unwrap();
        let args = opts.parse(&["--json"]).unwrap();
        assert_eq!(args.max_parallel, Some(2));
        assert_eq!(args.timeout, Some(std::time::Duration::from_secs(1800)));
        assert_eq!(args.groups, ["1:A"]);
        assert!(args.no_push && args.json && !args.no_commit);
    }

    #[test]
    fn unknown_options_and_bad_values_are_refused() {
        let unknown =
            serde_json::from_value::<RunOptions>(serde_json::json!({"isolation": "worktree"}));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `isolation`")
        );
        let bad = RunOptions {
            phases: vec!["x".into()],
            ..Default::default()
        };
        let e = bad.parse(&[]).unwrap_err().to_string();
        assert!(e.contains("not a phase number"), "{e}");
        // A value starting with `-` is a value, not a flag.
        let sneaky = RunOptions {
            task: Some("--dry-run".into()),
            ..Default::default()
        };
        assert_eq!(
            sneaky.parse(&[]).unwrap().task.as_deref(),
            Some("--dry-run")
        );
    }
}
