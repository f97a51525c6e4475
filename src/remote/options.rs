//! The options of a run started over MCP or HTTP. One type, [`RunOptions`],
//! is what the server deserialises, what the OpenAPI document and the MCP
//! input schema are generated from, and what becomes the run's
//! [`RunRequest`]: built field by field and checked with the CLI's own value
//! parsers, so a remote run means exactly what the CLI means and a bad value
//! is refused before anything starts.

use super::RemoteError;
use crate::cli::parse_phase_range;
use crate::config::{
    Isolation, Origin, Overrides, RunRequest, parse_cost, parse_max_parallel, parse_timeout,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// `run`'s options by their flag names (`--max-parallel` is `max_parallel`).
/// Unknown names are refused, so a typo never silently does nothing.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// Only these phases: `"2"`, `"12.1"` or a range `"2..3"` (`--phase`).
    #[serde(default)]
    pub phases: Vec<String>,
    /// Only these groups, e.g. `"1:B"` (`--group`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Only this one task, e.g. `"1:A:A2"` (`--task`).
    #[serde(default)]
    pub task: Option<String>,
    /// Agents running at once, at least 1 (`--max-parallel`) [default: 4].
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_parallel: Option<u32>,
    /// Time limit per task, more than zero: seconds, or `"90s"`, `"30m"`,
    /// `"2h"` (`--timeout`) [default: 1h].
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// Retries for a failed task (`--retries`) [default: 0].
    #[serde(default)]
    pub retries: Option<u32>,
    /// Stop the group's other tasks as soon as one fails (`--fail-fast`).
    #[serde(default)]
    pub fail_fast: bool,
    /// Repair agents after a failed gate, per group; 0 stops at the failure
    /// (`--fix-attempts`) [default: 2].
    #[serde(default)]
    pub fix_attempts: Option<u32>,
    /// A reviewer agent after each passing gate (`--review`).
    #[serde(default)]
    pub review: bool,
    /// Tick completed tasks in the roadmap file (`--write-back`).
    #[serde(default)]
    pub write_back: bool,
    /// Stop starting agents once the run has spent this many USD on them,
    /// more than zero (`--max-cost`).
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub max_cost: Option<f64>,
    /// Run the agents again where only the gate failed (`--rerun-tasks`).
    #[serde(default)]
    pub rerun_tasks: bool,
    /// Do not commit finished phases (`--no-commit`, implies no push).
    #[serde(default)]
    pub no_commit: bool,
    /// Commit finished phases but do not push (`--no-push`).
    #[serde(default)]
    pub no_push: bool,
    /// Take uncommitted changes into the phase commit (`--allow-dirty`): start
    /// a phase on a dirty tree, and include changes made by hand since the
    /// last run.
    #[serde(default)]
    pub allow_dirty: bool,
    /// Where agents work: `shared` (the project's tree) or `worktree` (one
    /// git worktree per task) (`--isolation`) [default: shared].
    #[serde(default)]
    pub isolation: Option<Isolation>,
    /// How deep a task may split itself into sub-roadmaps, 0 to 5; 0 turns
    /// splitting off [default: 2]. Kept with the run (`GET /runs/{id}`);
    /// passed to the run as `--max-depth`.
    #[serde(default)]
    #[schemars(range(max = 5))]
    pub max_recursion_depth: Option<u32>,
}

/// The deepest `max_recursion_depth` taken.
pub const MAX_RECURSION_DEPTH: u32 = 5;

/// Run options whose `run` flag is still to come: each is kept with its run
/// but not passed to the child. A name moves out of here when the flag
/// lands (and into [`RunOptions::to_args`]).
pub const PENDING_FLAGS: &[&str] = &[];

/// `run`'s flags that are not run options here, and why. Every other flag
/// of `run` is a field of [`RunOptions`] (tested, so the two cannot drift).
pub const NOT_REMOTE: &[(&str, &str)] = &[
    (
        "dry_run",
        "the plan (`GET /plan`, the `plan` tool) is the dry run",
    ),
    (
        "json",
        "a run started here always reports its events as JSON",
    ),
    (
        "claude_bin",
        "the agent program is the server's: roadmap-runner.toml or CLAUDE_BIN in its environment",
    ),
    (
        "agent",
        "the agent is the server's: `[agent] kind` in roadmap-runner.toml or ROADMAP_AGENT in its environment",
    ),
    (
        "notify",
        "a shell command of the caller's choosing is not a run option: `[notify]` in roadmap-runner.toml",
    ),
    (
        "nats",
        "the cluster is the server's: `[cluster]` in roadmap-runner.toml or ROADMAP_NATS in its environment",
    ),
    (
        "nats_creds",
        "credentials files on the server are not the caller's to choose",
    ),
];

/// `90` (seconds) or `"90s"`, `"30m"`, `"2h"`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Timeout {
    Seconds(#[schemars(range(min = 1))] u64),
    Text(String),
}

impl Timeout {
    fn text(&self) -> String {
        match self {
            Timeout::Seconds(s) => s.to_string(),
            Timeout::Text(t) => t.clone(),
        }
    }
}

/// A refused value, named as the API names it.
fn bad(field: &str, message: String) -> RemoteError {
    RemoteError::BadRequest(format!("{field}: {message}"))
}

impl RunOptions {
    /// What the run is asked for: config's overrides built field by field,
    /// each value checked by the parser its flag has (and named as its flag,
    /// so `config` and the run say where a value came from the same way).
    /// What depends on the roadmap and the configuration (does phase 9
    /// exist?) is checked by [`crate::commands::run::check`].
    pub fn to_request(&self) -> Result<RunRequest, RemoteError> {
        let phases = self
            .phases
            .iter()
            .map(|p| parse_phase_range(p).map_err(|e| bad("phases", e)))
            .collect::<Result<_, _>>()?;
        let flag = |name: &'static str| Origin::Flag(name);
        let max_parallel = self
            .max_parallel
            .map(|n| parse_max_parallel(&n.to_string()).map_err(|e| bad("max_parallel", e)))
            .transpose()?;
        let timeout = self
            .timeout
            .as_ref()
            .map(|t| parse_timeout(&t.text()).map_err(|e| bad("timeout", e)))
            .transpose()?;
        if let Some(d) = self.max_recursion_depth
            && d > MAX_RECURSION_DEPTH
        {
            return Err(bad(
                "max_recursion_depth",
                format!("{d} is out of range: 0 to {MAX_RECURSION_DEPTH}"),
            ));
        }
        let max_cost = self
            .max_cost
            .map(|c| parse_cost(&c.to_string()).map_err(|e| bad("max_cost", e)))
            .transpose()?;
        let overrides = Overrides {
            max_parallel: max_parallel.map(|n| (n, flag("--max-parallel"))),
            timeout: timeout.map(|t| (t, flag("--timeout"))),
            retries: self.retries,
            fail_fast: self.fail_fast,
            no_commit: self.no_commit,
            no_push: self.no_push,
            fix_attempts: self.fix_attempts,
            review: self.review,
            max_cost: max_cost.map(|c| (c, flag("--max-cost"))),
            write_back: self.write_back,
            max_recursion_depth: self.max_recursion_depth,
            isolation: self.isolation,
            ..Overrides::default()
        };
        Ok(RunRequest {
            overrides,
            phases,
            groups: self.groups.clone(),
            task: self.task.clone(),
            rerun_tasks: self.rerun_tasks,
            allow_dirty: self.allow_dirty,
            ..RunRequest::default()
        })
    }

    /// The flags of `run` these options stand for, for the run's child
    /// process (`--key=value`, so a value that starts with `-` is never
    /// read as a flag).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        args.extend(self.phases.iter().map(|p| format!("--phase={p}")));
        args.extend(self.groups.iter().map(|g| format!("--group={g}")));
        args.extend(self.task.iter().map(|t| format!("--task={t}")));
        args.extend(self.max_parallel.map(|n| format!("--max-parallel={n}")));
        args.extend(
            self.timeout
                .as_ref()
                .map(|t| format!("--timeout={}", t.text())),
        );
        args.extend(self.retries.map(|n| format!("--retries={n}")));
        args.extend(self.fix_attempts.map(|n| format!("--fix-attempts={n}")));
        args.extend(self.max_cost.map(|c| format!("--max-cost={c}")));
        args.extend(self.max_recursion_depth.map(|d| format!("--max-depth={d}")));
        args.extend(self.isolation.map(|i| {
            let name = Isolation::CHOICES
                .iter()
                .find(|(_, v)| *v == i)
                .map_or("shared", |(n, _)| n);
            format!("--isolation={name}")
        }));
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
}

/// The flags of `run` that are run options here (every one not in
/// [`NOT_REMOTE`]) and the [`PENDING_FLAGS`], sorted: what the schemas
/// must list (tests).
#[cfg(test)]
pub(crate) fn remote_run_flags() -> Vec<String> {
    use clap::CommandFactory;
    let cli = crate::cli::Cli::command();
    let mut flags: Vec<String> = cli
        .find_subcommand("run")
        .expect("run is a subcommand")
        .get_arguments()
        .filter(|a| !a.is_global_set())
        .map(|a| a.get_id().to_string())
        .filter(|id| !NOT_REMOTE.iter().any(|(n, _)| n == id))
        .chain(PENDING_FLAGS.iter().map(|f| f.to_string()))
        .collect();
    flags.sort();
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn opts(value: serde_json::Value) -> RunOptions {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn options_become_the_run_request() {
        let o = opts(serde_json::json!({
            "phases": ["1..2"], "groups": ["1:A"], "max_parallel": 2,
            "timeout": "30m", "no_push": true, "isolation": "worktree", "max_cost": 2.5
        }));
        let r = o.to_request().unwrap();
        let over = &r.overrides;
        assert_eq!(over.max_parallel, Some((2, Origin::Flag("--max-parallel"))));
        assert_eq!(
            over.timeout,
            Some((
                std::time::Duration::from_secs(1800),
                Origin::Flag("--timeout")
            ))
        );
        assert_eq!(r.groups, ["1:A"]);
        assert_eq!(over.isolation, Some(Isolation::Worktree));
        assert_eq!(over.max_cost, Some((2.5, Origin::Flag("--max-cost"))));
        assert!(over.no_push && !over.no_commit && !r.json);
    }

    /// The child's argv, parsed as the CLI parses it, asks for what the
    /// typed options ask for.
    #[test]
    fn the_childs_flags_mean_the_same_arguments() {
        let o = opts(serde_json::json!({
            "phases": ["2", "3..4"], "groups": ["1:B"], "task": "--dry-run", "max_parallel": 3,
            "timeout": 90, "retries": 1, "fail_fast": true, "fix_attempts": 0, "review": true,
            "write_back": true, "max_cost": 0.5, "rerun_tasks": true, "no_commit": true,
            "no_push": true, "allow_dirty": true, "isolation": "worktree"
        }));
        let argv = ["rr", "run"]
            .into_iter()
            .map(String::from)
            .chain(o.to_args());
        let Cli {
            command: Some(Command::Run(parsed)),
            ..
        } = Cli::try_parse_from(argv).unwrap()
        else {
            panic!("not a run");
        };
        assert_eq!(
            format!("{:?}", parsed.request().unwrap()),
            format!("{:?}", o.to_request().unwrap())
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_option() {
        for (body, expected) in [
            (
                serde_json::json!({"phases": ["x"]}),
                "phases: `x` is not a phase number",
            ),
            (
                serde_json::json!({"max_parallel": 0}),
                "max_parallel: at least 1 agent",
            ),
            (
                serde_json::json!({"timeout": 0}),
                "timeout: the time limit must be more than zero",
            ),
            (
                serde_json::json!({"timeout": "soon"}),
                "timeout: `soon` is not a duration",
            ),
            (
                serde_json::json!({"max_cost": -1.0}),
                "max_cost: `-1` is not an amount",
            ),
        ] {
            let e = opts(body.clone()).to_request().unwrap_err().to_string();
            assert!(e.starts_with(expected), "{body}: {e}");
        }
        let unknown = serde_json::from_value::<RunOptions>(serde_json::json!({"isolate": true}));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `isolate`")
        );
    }

    /// Every flag of `run` is a run option here, or is listed as not one
    /// with its reason: a new flag fails this test until it is either.
    #[test]
    fn every_run_flag_is_an_option_or_said_not_to_be() {
        let flags = remote_run_flags();
        let schema = schemars::schema_for!(RunOptions);
        let mut fields: Vec<String> = schema
            .get("properties")
            .and_then(|p| p.as_object())
            .unwrap()
            .keys()
            .cloned()
            .collect();
        fields.sort();
        assert_eq!(flags, fields);
    }
}
