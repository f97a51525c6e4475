//! ROADMAP.md parser (pulldown-cmark offset iterator).

use super::diagnostics::Diagnostic;
use super::model::Roadmap;

/// The result of parsing: the roadmap as far as it could be read, and every diagnostic.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub roadmap: Roadmap,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(_source: &str) -> Parsed {
    Parsed::default()
}
