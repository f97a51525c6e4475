//! Reading ROADMAP.md: the model, the parser and its diagnostics.

mod blocks;
pub mod diagnostics;
pub mod model;
pub mod parser;
pub mod seed;
pub mod slug;
mod syntax;

pub use diagnostics::{Diagnostic, Severity, has_errors};
pub use model::{Field, Group, GroupKey, Phase, PhaseId, Roadmap, Span, Task, is_id};
pub use parser::{Parsed, parse};
pub use slug::slug;
