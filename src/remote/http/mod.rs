//! `roadmap-runner serve`: the HTTP API under `/api/v1`, live events as
//! Server-Sent Events, and the dashboard at `/`.

mod auth;
mod openapi;
mod routes;
mod sse;
mod wire;

use super::event_log::EventLog;
use super::runs::RunManager;
use super::{RemoteError, Target};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The environment variable holding the API key.
pub const API_KEY_ENV: &str = "ROADMAP_RUNNER_API_KEY";
/// The dashboard: one static page, no build step.
pub const DASHBOARD: &str = include_str!("assets/index.html");

/// `serve`'s settings, from its flags and the environment.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: String,
    pub api_key_file: Option<PathBuf>,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub runs: Arc<RunManager>,
    pub events: Arc<EventLog>,
    pub key: Option<Arc<[u8]>>,
}

/// Listens until killed. Refuses a non-loopback address without a key.
pub fn run(target: Target, opts: &ServeOptions) -> Result<i32, RemoteError> {
    let key = api_key(opts)?;
    let addr: SocketAddr = opts.bind.parse().map_err(|_| {
        RemoteError::BadRequest(format!(
            "--bind `{}`: expected ADDRESS:PORT, e.g. 127.0.0.1:7474",
            opts.bind
        ))
    })?;
    if !addr.ip().is_loopback() && key.is_none() {
        return Err(RemoteError::Refused(format!(
            "refusing to listen on {addr} without an API key: anyone who can reach it could start runs. Set {API_KEY_ENV} or --api-key-file, or bind 127.0.0.1"
        )));
    }
    console::set_colors_enabled(false);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| RemoteError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let state = AppState {
            events: EventLog::start(target.project.orchestrator_logs()),
            runs: RunManager::new(target)?,
            key: key.map(|k| Arc::from(k.into_bytes())),
        };
        let local = listener.local_addr()?;
        // On stderr: stdout stays free, and tests read the port from here.
        eprintln!("roadmap-runner serve: listening on http://{local}/");
        axum::serve(listener, routes::router(state)).await?;
        Ok(crate::exit::OK)
    })
}

/// The key from `--api-key-file` (first line), else from the environment.
fn api_key(opts: &ServeOptions) -> Result<Option<String>, RemoteError> {
    let key = match &opts.api_key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| RemoteError::KeyFile {
                path: path.clone(),
                source,
            })?;
            let key = text.lines().next().unwrap_or_default().trim().to_string();
            if key.is_empty() {
                return Err(RemoteError::Refused(format!(
                    "the API key file {} is empty",
                    path.display()
                )));
            }
            Some(key)
        }
        None => std::env::var(API_KEY_ENV)
            .ok()
            .filter(|k| !k.trim().is_empty()),
    };
    Ok(key.map(|k| k.trim().to_string()))
}
