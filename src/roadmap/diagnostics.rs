//! Roadmap diagnostics: what is wrong, where (a span), and what to do.

use super::model::Span;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable short code, e.g. `duplicate-task-id`.
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    /// What the user should do about it.
    pub help: Option<String>,
}
