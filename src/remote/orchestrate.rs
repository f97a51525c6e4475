//! From a request to a finished roadmap, through the other doors: `POST
//! /api/v1/orchestrate` and the MCP tool `orchestrate` take one
//! [`OrchestrateRequest`]; its run is `roadmap-runner init --goal REQUEST
//! --run --json [run options]`, a child process like any run started here:
//! the agent drafts the roadmap ([`crate::draft`]), then it runs as a plain
//! run would.

use super::RemoteError;
use super::options::{MAX_RECURSION_DEPTH, RunOptions};
use schemars::JsonSchema;
use serde::Deserialize;

/// The splitting depth when the request does not say.
pub const DEFAULT_RECURSION_DEPTH: u32 = 2;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrchestrateRequest {
    /// What to build, e.g. "Build a REST API with authentication, user
    /// management and CRUD": the goal the agent drafts the roadmap for.
    pub request: String,
    #[serde(default)]
    pub config: OrchestrateConfig,
    /// Replace the project's roadmap file if it has one (`init --force`);
    /// without it such a project is refused (409).
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrchestrateConfig {
    /// Agents running at once: the run's `max_parallel`, at least 1
    /// [default: 4].
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_workers: Option<u32>,
    /// Whether a task may split itself into a sub-roadmap; `false` is a
    /// depth of 0 [default: true].
    #[serde(default)]
    pub enable_recursion: Option<bool>,
    /// How deep splits may nest, 1 to 5 [default: 2].
    #[serde(default)]
    #[schemars(range(min = 1, max = 5))]
    pub max_recursion_depth: Option<u32>,
}

fn bad(message: String) -> RemoteError {
    RemoteError::BadRequest(message)
}

impl OrchestrateRequest {
    /// The goal, checked: something to draft for, and an argument a process
    /// can take.
    pub fn goal(&self) -> Result<&str, RemoteError> {
        let goal = self.request.trim();
        if goal.is_empty() {
            return Err(bad(
                "request: it is empty; say what to build, e.g. \"Build a REST API with auth, users and CRUD\"".into(),
            ));
        }
        if goal.contains('\0') {
            return Err(bad("request: it contains a NUL character".into()));
        }
        Ok(goal)
    }

    /// The options of the run that follows the drafting, each value checked
    /// as `run` checks it.
    pub fn run_options(&self) -> Result<RunOptions, RemoteError> {
        self.goal()?;
        let c = &self.config;
        if c.max_workers == Some(0) {
            return Err(bad(
                "config.max_workers: at least 1 agent must run: write 1 or more".into(),
            ));
        }
        let depth = match (c.enable_recursion, c.max_recursion_depth) {
            (_, Some(d)) if !(1..=MAX_RECURSION_DEPTH).contains(&d) => {
                return Err(bad(format!(
                    "config.max_recursion_depth: {d} is out of range: 1 to {MAX_RECURSION_DEPTH} (`\"enable_recursion\": false` turns splitting off)"
                )));
            }
            (Some(false), _) => 0,
            (_, depth) => depth.unwrap_or(DEFAULT_RECURSION_DEPTH),
        };
        let opts = RunOptions {
            max_parallel: c.max_workers,
            max_recursion_depth: Some(depth),
            ..RunOptions::default()
        };
        opts.to_request()?;
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(value: serde_json::Value) -> Result<OrchestrateRequest, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn the_config_becomes_the_runs_options() {
        let r = req(json!({"request": "Build it", "config":
            {"max_workers": 5, "enable_recursion": true, "max_recursion_depth": 3}}))
        .unwrap();
        let opts = r.run_options().unwrap();
        assert_eq!(opts.max_parallel, Some(5));
        assert_eq!(opts.max_recursion_depth, Some(3));
        assert_eq!(opts.to_args(), ["--max-parallel=5", "--max-depth=3"]);
        let off = req(json!({"request": "x", "config": {"enable_recursion": false}})).unwrap();
        assert_eq!(off.run_options().unwrap().max_recursion_depth, Some(0));
        let plain = req(json!({"request": "x"})).unwrap();
        assert_eq!(plain.run_options().unwrap().max_recursion_depth, Some(2));
    }

    #[test]
    fn bad_requests_are_refused_naming_the_field() {
        for (body, expected) in [
            (json!({"request": "  "}), "request: it is empty"),
            (
                json!({"request": "x", "config": {"max_workers": 0}}),
                "config.max_workers: at least 1",
            ),
            (
                json!({"request": "x", "config": {"max_recursion_depth": 9}}),
                "config.max_recursion_depth: 9 is out of range",
            ),
            (
                json!({"request": "x", "config": {"max_recursion_depth": 0}}),
                "config.max_recursion_depth: 0 is out of range",
            ),
        ] {
            let e = req(body.clone()).unwrap().run_options().unwrap_err();
            assert!(e.to_string().starts_with(expected), "{body}: {e}");
        }
        for (body, expected) in [
            (
                json!({"request": "x", "workers": 2}),
                "unknown field `workers`",
            ),
            (
                json!({"request": 3}),
                "invalid type: integer `3`, expected a string",
            ),
            (
                json!({"request": "x", "config": {"max_workers": "5"}}),
                "invalid type: string \"5\"",
            ),
            (json!({"config": {}}), "missing field `request`"),
        ] {
            let e = req(body.clone()).unwrap_err();
            assert!(e.contains(expected), "{body}: {e}");
        }
    }
}
