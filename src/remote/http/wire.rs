//! The API's wire types: the bodies the routes take and answer, and the
//! error answer. The routes, the auth and event layers and the OpenAPI
//! document all use them from here.

use crate::remote::RemoteError;
use crate::remote::runs::RunInfo;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every error's body.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ErrorBody {
    /// The message alone, as the CLI would print it (no log prefix).
    pub error: String,
    /// The CLI's exit code, when a command failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// An error answer: a status and the message the CLI would print.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: message.into(),
                exit_code: None,
            },
        }
    }
}

/// `GET /runs`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RunList {
    pub runs: Vec<RunInfo>,
}

/// `POST /runs` and `POST /orchestrate`: the run, and its id on top for
/// convenience.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Started {
    pub id: String,
    pub run: RunInfo,
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
            RemoteError::Locked(_) | RemoteError::Finished(_) | RemoteError::Exists(_) => {
                StatusCode::CONFLICT
            }
            RemoteError::Command { exit_code, .. } if *exit_code == crate::exit::USAGE => {
                StatusCode::BAD_REQUEST
            }
            RemoteError::Command { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut err = ApiError::new(status, e.to_string());
        if let RemoteError::Command { exit_code, .. } = e {
            err.body.exit_code = Some(exit_code);
        }
        err
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogQuery {
    /// How many of the log's last lines (default 200, at most 100000).
    #[serde(default)]
    pub tail: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RollbackBody {
    /// Also delete the group's PHASE<N>-GROUP-<X>-STATUS.md report.
    #[serde(default)]
    pub delete_report: bool,
}
