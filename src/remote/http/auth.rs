//! Every `/api` request carries the key (when one is set):
//! `Authorization: Bearer <key>` or `X-API-Key: <key>`. `GET /events` also
//! takes `?key=` because a browser's EventSource cannot set headers.

use super::AppState;
use super::wire::ApiError;
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

/// Browsers are not to be used against the API by other sites: a request
/// from another origin that changes something (a cross-site form or `fetch`
/// POST) is refused, and a server without a key answers only requests to a
/// loopback host name, so a DNS-rebinding page cannot read or drive it.
pub(crate) async fn same_origin(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if st.key.is_none() && !host.is_some_and(is_loopback_host) {
        let msg =
            "without an API key only loopback host names (127.0.0.1, localhost, [::1]) are served";
        return ApiError::new(StatusCode::FORBIDDEN, msg).into_response();
    }
    let changes = !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if changes && let Some(origin) = origin {
        let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
        if host != Some(authority) {
            let msg = format!("a request from {origin} (another origin) is refused");
            return ApiError::new(StatusCode::FORBIDDEN, msg).into_response();
        }
    }
    next.run(req).await
}

/// `127.0.0.1:7474`, `localhost`, `[::1]:7474`.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_host_names() {
        for h in [
            "127.0.0.1:7474",
            "localhost",
            "LOCALHOST:1",
            "[::1]:7474",
            "127.1.2.3",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "evil.example:7474",
            "10.0.0.1",
            "localhost.evil.example",
            "[::2]:1",
            "",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
