//! Reading ROADMAP.md: the model, the parser and its diagnostics.

pub mod agent_name;
mod blocks;
pub mod diagnostics;
pub mod dialect;
mod inline;
pub mod model;
pub mod native;
pub mod outline;
pub mod parser;
pub mod seed;
pub mod slug;
mod syntax;
mod task_agent;
pub mod write_back;

pub use agent_name::AgentName;
pub use diagnostics::{Diagnostic, Severity, has_errors};
pub use dialect::Dialect;
pub use model::{
    DoneMark, Field, Group, GroupKey, Phase, PhaseId, Roadmap, Span, Task, is_id, is_scoped_group,
};
pub use parser::{Parsed, parse, parse_as};
pub use slug::slug;
