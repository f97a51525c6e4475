//! The routes: JSON in, JSON out, every failure a JSON `{"error": ...}` with
//! a 4xx/5xx status. Handlers call the CLI's commands through
//! [`crate::remote::capture`] and the runs through the run manager.

use super::{AppState, DASHBOARD, OPENAPI, auth, sse};
use crate::remote::options::RunOptions;
use crate::remote::{RemoteError, capture};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

/// Request bodies are run options: a few hundred bytes.
const BODY_LIMIT: usize = 64 * 1024;
/// `?tail=` when none is given, and the most allowed.
const DEFAULT_TAIL: usize = 200;
const MAX_TAIL: usize = 100_000;

/// An error answer: a status and the message the CLI would print.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

impl From<RemoteError> for ApiError {
    fn from(e: RemoteError) -> ApiError {
        let status = match &e {
            RemoteError::BadRequest(_) => StatusCode::BAD_REQUEST,
            RemoteError::NotFound(_) => StatusCode::NOT_FOUND,
            RemoteError::Locked(_) => StatusCode::CONFLICT,
            RemoteError::Command { exit_code, .. } if *exit_code == crate::exit::USAGE => {
                StatusCode::BAD_REQUEST
            }
            RemoteError::Command { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut err = ApiError::new(status, e.to_string());
        if let RemoteError::Command { exit_code, .. } = e {
            err.body["exit_code"] = exit_code.into();
        }
        err
    }
}

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
    ok(json!({ "runs": st.runs.list() }))
}

/// The body as JSON of `T`: malformed JSON, unknown fields and an oversized
/// body are a 4xx with serde's or the limit's message.
fn json_body<T: serde::de::DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

async fn start_run(State(st): State<AppState>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let opts: RunOptions = json_body(body)?;
    let info = st.runs.start(&opts).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "id": info.id, "run": info })),
    )
        .into_response())
}

async fn run_info(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(st.runs.get(&id)?)
}

async fn stop_run(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    ok(st.runs.stop(&id)?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    tail: Option<usize>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    #[serde(default)]
    delete_report: bool,
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

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route is in the OpenAPI document with its method, and nothing else is.
    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        let mut documented = Vec::new();
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    documented.push((method.clone(), path.clone()));
                }
            }
        }
        let mut routed: Vec<(String, String)> = api_routes()
            .into_iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        routed.sort();
        documented.sort();
        assert_eq!(routed, documented);
    }
}
