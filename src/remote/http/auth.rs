//! Every `/api` request carries the key (when one is set):
//! `Authorization: Bearer <key>` or `X-API-Key: <key>`. `GET /events` also
//! takes `?key=` because a browser's EventSource cannot set headers.

use super::AppState;
use super::routes::ApiError;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

pub(crate) async fn require_key(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = &st.key else {
        return next.run(req).await;
    };
    let from_query = || {
        if !req.uri().path().ends_with("/events") {
            return None;
        }
        let q = Query::<HashMap<String, String>>::try_from_uri(req.uri()).ok()?;
        q.0.get("key").cloned()
    };
    let given = presented(req.headers()).or_else(from_query);
    // Constant time: how much of a guess matched must not show in the timing.
    if given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(key))) {
        return next.run(req).await;
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "missing or wrong API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("header"));
    response
}

fn presented(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_string());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}
