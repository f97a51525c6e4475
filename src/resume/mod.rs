//! What to resume, decided once: load one [`RunState`] (under the lock, a
//! dead run's leftovers killed first), then let [`decide`] turn it into the
//! run's typed actions.

pub mod decide;
pub mod state;

pub use decide::{
    Action, Decision, GroupAction, GroupStep, Options, decide, decide_selected, decide_sub,
    phase_started,
};
pub use state::{GitState, LineState, RunState};
