//! The routes: JSON in, JSON out, every failure a JSON `{"error": ...}` with
//! a 4xx/5xx status. Handlers call the CLI's commands through
//! [`crate::remote::capture`] and the runs through the run manager.

use super::wire::{ApiError, LogQuery, RollbackBody, RunList, Started};
use super::{AppState, DASHBOARD, auth, openapi, sse};
use crate::remote::options::RunOptions;
use crate::remote::orchestrate::OrchestrateRequest;
use crate::remote::{RemoteError, capture};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::Value;
use std::sync::OnceLock;

/// Request bodies are run options: a few hundred bytes.
const BODY_LIMIT: usize = 64 * 1024;
/// `?tail=` when none is given, and the most allowed.
const DEFAULT_TAIL: usize = 200;
const MAX_TAIL: usize = 100_000;

type ApiResult = Result<Response, ApiError>;

/// Every `/api/v1` route: method, path, handler. The OpenAPI document lists
/// exactly these (tested).
pub(crate) fn api_routes() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("get", "/status", get(status)),
        ("get", "/validate", get(validate)),
        ("get", "/plan", get(plan)),
        ("get", "/runs", get(list_runs)),
        ("post", "/runs", post(start_run)),
        ("get", "/runs/{id}", get(run_info)),
        ("post", "/runs/{id}/stop", post(stop_run)),
        ("post", "/orchestrate", post(orchestrate)),
        ("get", "/events", get(sse::events)),
        ("get", "/tasks/{phase}/{group}/{task}/log", get(task_log)),
        ("post", "/groups/{phase}/{group}/skip", post(skip)),
        ("post", "/groups/{phase}/{group}/rollback", post(rollback)),
        ("get", "/openapi.json", get(openapi)),
    ]
}

pub(crate) fn router(state: AppState) -> Router {
    let api = api_routes()
        .into_iter()
        .fold(Router::new(), |r, (_, path, handler)| {
            r.route(path, handler)
        })
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not take that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::same_origin,
        ));
    Router::new()
        .route("/", get(|| async { Html(DASHBOARD) }))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not found") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// A blocking command off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RemoteError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
    }
}

fn ok(value: impl serde::Serialize) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

async fn status(State(st): State<AppState>) -> ApiResult {
    let t = st.runs.target().clone();
    ok(blocking(move || capture::status(&t)).await?)
}

async fn validate(State(st): State<AppState>) -> ApiResult {
    let t = st.runs.target().clone();
    ok(blocking(move || capture::validate(&t)).await?)
}

async fn plan(State(st): State<AppState>) -> ApiResult {
    let t = st.runs.target().clone();
    ok(blocking(move || capture::plan(&t, &RunOptions::default())).await?)
}

async fn list_runs(State(st): State<AppState>) -> ApiResult {
    ok(RunList {
        runs: st.runs.list(),
    })
}

/// The body as a JSON object of `T`'s fields: malformed JSON, anything but
/// an object (serde would read an array field by field), unknown fields and
/// an oversized body are a 4xx with serde's or the limit's message.
fn json_body<T: serde::de::DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| bad(format!("invalid JSON body: {e}")))?;
    if !value.is_object() {
        return Err(bad(format!(
            "the body must be a JSON object, e.g. {{\"phases\": [\"2\"]}}; got {}",
            json_kind(&value)
        )));
    }
    serde_json::from_value(value).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

async fn start_run(State(st): State<AppState>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let opts: RunOptions = json_body(body)?;
    let info = st.runs.start(&opts).await?;
    let started = Started {
        id: info.id.clone(),
        run: info,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(started)).into_response())
}

/// Drafts a roadmap for the request, then runs it: `202` as soon as the
/// drafting has started.
async fn orchestrate(State(st): State<AppState>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let req: OrchestrateRequest = json_body(body)?;
    let info = st.runs.orchestrate(&req).await?;
    let started = Started {
        id: info.id.clone(),
        run: info,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(started)).into_response())
}

async fn run_info(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(st.runs.get(&id)?)
}

async fn stop_run(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(st.runs.stop(&id)?)
}

async fn task_log(
    State(st): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> ApiResult {
    let Path((phase, group, task)) =
        path.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let tail = q.tail.unwrap_or(DEFAULT_TAIL).min(MAX_TAIL);
    let t = st.runs.target().clone();
    ok(blocking(move || capture::task_log(&t, &phase, &group, &task, tail)).await?)
}

async fn skip(
    State(st): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let group = group_param(path)?;
    let t = st.runs.target().clone();
    ok(blocking(move || capture::skip(&t, &group)).await?)
}

async fn rollback(
    State(st): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let group = group_param(path)?;
    let b: RollbackBody = json_body(body)?;
    let t = st.runs.target().clone();
    ok(blocking(move || capture::rollback(&t, &group, b.delete_report)).await?)
}

/// `{phase}/{group}` → `N:X`, checked.
fn group_param(path: Result<Path<(String, String)>, PathRejection>) -> Result<String, ApiError> {
    let Path((phase, group)) =
        path.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let key = capture::group_key(&format!("{phase}:{group}"))?;
    Ok(format!("{}:{}", key.phase, key.group))
}

/// The generated document, made once.
pub(crate) fn openapi_text() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| openapi::document().to_string())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi_text()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route is in the OpenAPI document with its method, and nothing else is.
    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let doc: Value = serde_json::from_str(openapi_text()).expect("the document is JSON");
        let mut routed: Vec<(String, String)> = api_routes()
            .into_iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        routed.sort();
        assert_eq!(routed, openapi::documented_routes(&doc));
    }
}
