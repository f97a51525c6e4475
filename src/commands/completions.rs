//! `roadmap-runner completions SHELL`: generated from the command-line
//! definitions, printed to stdout. Needs no roadmap.

use super::{CommandError, Io};
use crate::cli::{Cli, CompletionsArgs};
use clap::CommandFactory;

pub const BIN_NAME: &str = "roadmap-runner";

/// The completion script for `args.shell`.
pub fn run(args: &CompletionsArgs, io: Io<'_>) -> Result<i32, CommandError> {
    // Generated into memory first: clap_complete panics on a write error,
    // and stdout may be a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut visible_command(), BIN_NAME, &mut script);
    io.out.write_all(&script)?;
    Ok(crate::exit::OK)
}

/// The command line without its hidden subcommands (the demo's agent,
/// `__simulate-agent`): clap_complete lists hidden subcommands, and a TAB
/// should never offer them.
fn visible_command() -> clap::Command {
    let full = Cli::command();
    clap::Command::new(BIN_NAME)
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}
