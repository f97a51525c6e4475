//! Reading ROADMAP.md: the model, the parser and its diagnostics.

pub mod diagnostics;
pub mod model;
pub mod parser;

pub use diagnostics::{Diagnostic, Severity};
pub use model::{Field, Group, GroupKey, Phase, Roadmap, Span, Task};
