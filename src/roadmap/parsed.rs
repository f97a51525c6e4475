//! What a reading returns, whichever reader made it.

use super::diagnostics::Diagnostic;
use super::model::Roadmap;

/// The result of parsing: the roadmap as far as it could be read, and every diagnostic.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub roadmap: Roadmap,
    pub diagnostics: Vec<Diagnostic>,
}
