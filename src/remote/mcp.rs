//! `roadmap-runner mcp`: an MCP server on stdin/stdout (the official SDK,
//! `rmcp`). stdout carries the protocol and nothing else: diagnostics go to
//! stderr, commands write to buffers, a run's child has its stdout piped.

use super::capture::{self, LogTail};
use super::options::RunOptions;
use super::orchestrate::OrchestrateRequest;
use super::runs::RunManager;
use super::stdio::LineTransport;
use super::{RemoteError, Target};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, JsonObject, ServerCapabilities, ServerConfig,
};
use rmcp::{ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The tail of a log when the caller does not say.
const DEFAULT_TAIL: usize = 200;

#[derive(Clone)]
pub struct McpServer {
    runs: Arc<RunManager>,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunId {
    /// The id `start_run` returned; without it, the latest run started here.
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskLogInput {
    /// The task, `N:X:ID` (e.g. `1:A:A1`), or `N:X:gate` for the group's gate log.
    pub task: String,
    /// How many of the last lines to return (default 200).
    #[serde(default)]
    pub tail: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// The group, `N:X` (e.g. `1:B`).
    pub group: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackInput {
    /// The group, `N:X` (e.g. `1:B`).
    pub group: String,
    /// Also delete its PHASE<N>-GROUP-<X>-STATUS.md report.
    #[serde(default)]
    pub delete_report: bool,
}

/// Structured content plus a short text; the JSON too, for clients that
/// read only text.
fn answer(text: String, value: impl Serialize) -> CallToolResult {
    let value = serde_json::to_value(value).unwrap_or_default();
    let mut result = CallToolResult::structured(value.clone());
    result.content = vec![
        ContentBlock::text(text),
        ContentBlock::text(value.to_string()),
    ];
    result
}

/// A tool error carrying the message the CLI prints.
fn failed(e: RemoteError) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(e.to_string())])
}

fn reply<T: Serialize>(
    r: Result<T, RemoteError>,
    text: impl FnOnce(&T) -> String,
) -> CallToolResult {
    match r {
        Ok(v) => answer(text(&v), v),
        Err(e) => failed(e),
    }
}

/// `orchestrate`'s input schema: the request's, as `POST /orchestrate` has it.
fn orchestrate_schema() -> Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_input::<OrchestrateRequest>()
        .expect("the request's schema is an object schema")
}

/// A blocking command off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RemoteError> + Send + 'static,
) -> Result<T, RemoteError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(RemoteError::Mcp(e.to_string())))
}

#[tool_router(router = tool_router)]
impl McpServer {
    pub fn new(runs: Arc<RunManager>) -> McpServer {
        McpServer {
            runs,
            tool_router: Self::tool_router(),
        }
    }

    fn target(&self) -> Target {
        self.runs.target().clone()
    }

    #[tool(
        description = "The roadmap's phases, groups and tasks with what is complete, what runs now and what the next run does first (`status --json`)."
    )]
    async fn status(&self) -> CallToolResult {
        let t = self.target();
        reply(blocking(move || capture::status(&t)).await, |doc| {
            format!(
                "status of {}; next: {}",
                doc["roadmap"].as_str().unwrap_or("the roadmap"),
                doc["next"]["text"].as_str().unwrap_or("nothing to do")
            )
        })
    }

    #[tool(
        description = "Check the roadmap: diagnostics (with line and column) and counts of phases, groups and tasks (`validate --json`)."
    )]
    async fn validate(&self) -> CallToolResult {
        let t = self.target();
        reply(blocking(move || capture::validate(&t)).await, |doc| {
            let valid = doc["valid"].as_bool().unwrap_or(false);
            format!(
                "{}: {}",
                doc["roadmap"].as_str().unwrap_or("roadmap"),
                if valid { "valid" } else { "has errors" }
            )
        })
    }

    #[tool(
        description = "What a run with these options would do, changing nothing: groups, tasks and the exact agent command lines (`run --dry-run --json`)."
    )]
    async fn plan(&self, Parameters(opts): Parameters<RunOptions>) -> CallToolResult {
        let t = self.target();
        reply(blocking(move || capture::plan(&t, &opts)).await, |_| {
            "the plan of the next run".into()
        })
    }

    #[tool(
        description = "Start a run in the background with `run`'s options; returns its id at once. Fails when another run holds the project's lock."
    )]
    async fn start_run(&self, Parameters(opts): Parameters<RunOptions>) -> CallToolResult {
        reply(self.runs.start(&opts).await, |info| {
            format!(
                "run {} started (pid {}); follow it with run_status",
                info.id, info.pid
            )
        })
    }

    #[tool(
        description = "From a request to a finished roadmap: the agent drafts a roadmap for `request` (what to build), then it runs with `config` (`max_workers`: agents at once; `enable_recursion`, `max_recursion_depth`: how deep tasks may split) as a plain run would. Returns the run's id at once; follow it with run_status. Refused when the project has a roadmap (unless `force`) or a run holds the lock.",
        input_schema = orchestrate_schema()
    )]
    async fn orchestrate(
        &self,
        Parameters(args): Parameters<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        // Taken raw: every bad argument, unknown, mistyped or out of range,
        // is the caller's error (-32602) with what is wrong.
        let invalid =
            |e: String| ErrorData::invalid_params(format!("invalid arguments: {e}"), None);
        let req: OrchestrateRequest =
            serde_json::from_value(args.into()).map_err(|e| invalid(e.to_string()))?;
        req.run_options().map_err(|e| invalid(e.to_string()))?;
        Ok(reply(self.runs.orchestrate(&req).await, |info| {
            format!(
                "run {} started (pid {}): drafting the roadmap, then running it; follow it with run_status",
                info.id, info.pid
            )
        }))
    }

    #[tool(
        description = "A run's state: running or finished, exit code, every task's state, cost and time, the summary once it ended."
    )]
    async fn run_status(&self, Parameters(input): Parameters<RunId>) -> CallToolResult {
        reply(
            self.run_id(input).and_then(|id| self.runs.get(&id)),
            |info| {
                let code = info
                    .exit_code
                    .map(|c| format!(", exit code {c}"))
                    .unwrap_or_default();
                format!(
                    "run {}: {}{code}, {} task(s) seen",
                    info.id,
                    info.state,
                    info.tasks.len()
                )
            },
        )
    }

    #[tool(
        description = "Stop a run the way SIGTERM does: agents stopped, state recorded, the next run resumes."
    )]
    async fn stop_run(&self, Parameters(input): Parameters<RunId>) -> CallToolResult {
        reply(
            self.run_id(input).and_then(|id| self.runs.stop(&id)),
            |info| format!("run {}: stop requested", info.id),
        )
    }

    #[tool(
        description = "A task's latest agent log, readable (`logs N:X:ID`), its last `tail` lines."
    )]
    async fn task_log(&self, Parameters(input): Parameters<TaskLogInput>) -> CallToolResult {
        let t = self.target();
        let result = blocking(move || {
            let parts: Vec<&str> = input.task.split(':').collect();
            let [phase, group, task] = parts.as_slice() else {
                return Err(RemoteError::BadRequest(format!(
                    "`{}`: expected N:X:ID, e.g. `1:A:A1`",
                    input.task
                )));
            };
            capture::task_log(&t, phase, group, task, input.tail.unwrap_or(DEFAULT_TAIL))
        })
        .await;
        reply(result, |log: &LogTail| {
            format!("log of {}:\n{}", log.target, log.text)
        })
    }

    #[tool(description = "Mark a group complete without running it (`skip N:X`).")]
    async fn skip_group(&self, Parameters(input): Parameters<GroupInput>) -> CallToolResult {
        let t = self.target();
        reply(
            blocking(move || capture::skip(&t, &input.group)).await,
            |e| e.message.clone(),
        )
    }

    #[tool(description = "Make a group run again from scratch (`rollback N:X [--delete-report]`).")]
    async fn rollback_group(&self, Parameters(input): Parameters<RollbackInput>) -> CallToolResult {
        let t = self.target();
        let result =
            blocking(move || capture::rollback(&t, &input.group, input.delete_report)).await;
        reply(result, |e| e.message.clone())
    }
}

impl McpServer {
    fn run_id(&self, input: RunId) -> Result<String, RemoteError> {
        match input.id {
            Some(id) => Ok(id),
            None => {
                self.runs.list().pop().map(|r| r.id).ok_or_else(|| {
                    RemoteError::NotFound("no run was started by this server".into())
                })
            }
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("roadmap-runner", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Drives coding agents through this project's ROADMAP.md. `status` and `plan` show what is done and what would run; `start_run` starts a run in the background, `orchestrate` drafts a roadmap for a request and runs it, `run_status` follows either, `stop_run` stops it; `task_log` reads a task's agent log.",
            )
    }
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub fn run(target: Target) -> Result<i32, RemoteError> {
    console::set_colors_enabled(false);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let server = McpServer::new(RunManager::new(target)?);
        let service = server
            .serve(LineTransport::new(tokio::io::stdin(), tokio::io::stdout()))
            .await
            .map_err(|e| RemoteError::Mcp(e.to_string()))?;
        service
            .waiting()
            .await
            .map_err(|e| RemoteError::Mcp(e.to_string()))?;
        Ok(crate::exit::OK)
    })
}
