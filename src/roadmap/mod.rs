//! Reading ROADMAP.md: the model, the parser and its diagnostics.

mod agent_annotation;
pub mod agent_name;
mod blocks;
mod body;
mod detect;
pub mod diagnostics;
pub mod dialect;
mod ids;
mod inline;
pub mod model;
pub mod native;
pub mod outline;
pub mod parsed;
pub mod parser;
pub mod reading;
mod scan;
pub mod seed;
pub mod slug;
mod syntax;
mod task_agent;
mod words;
pub mod write_back;

pub use agent_name::AgentName;
pub use diagnostics::{Diagnostic, Severity, has_errors};
pub use dialect::Dialect;
pub use model::{
    DoneMark, Field, Group, GroupKey, Phase, PhaseId, Roadmap, Span, Task, is_id, is_scoped_group,
};
pub use parsed::Parsed;
pub use parser::{parse, parse_as};
pub use slug::slug;
