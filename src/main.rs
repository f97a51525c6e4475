//! Thin: parse the CLI, set up tracing, call the library, map errors to exit codes.

use clap::Parser;
use roadmap_runner::cli::{Cli, Command};
use roadmap_runner::commands::{self, CommandError, Io};
use roadmap_runner::exit;
use roadmap_runner::project::Project;
use std::io::Write;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors; everything else is bad usage.
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    init_tracing(cli.global.quiet, cli.global.verbose);
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<i32, CommandError> {
    let g = &cli.global;
    // The demo's agent: its own stdin and stdout, no project, no locks.
    if let Some(Command::SimulateAgent(args)) = &cli.command {
        return Ok(roadmap_runner::demo::agent::main(args, g.verbose > 0));
    }
    // Unlocked handles (each write locks for itself): a run writes from other
    // threads too (the live view's ticker, tracing on tokio's workers), and a
    // lock held here for the whole command would block them forever.
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let io = Io {
        out: &mut out,
        err: &mut err,
    };
    // The demo makes its own project in a temporary directory.
    if let Some(Command::Demo(args)) = &cli.command {
        let code = commands::demo::run(args, g.verbose > 0, io)?;
        out.flush()?;
        return Ok(code);
    }
    let project = Project::new(g.project_dir.as_deref(), g.roadmap.as_deref())?;
    let code = match &cli.command {
        Some(Command::Validate(args)) => commands::validate::run(&project, args, io)?,
        Some(Command::Status(args)) => commands::status::run(&project, args, io)?,
        Some(Command::Gate) => commands::gate::run(&project, io)?,
        Some(Command::Skip(args)) => commands::edit::skip(&project, args, io)?,
        Some(Command::Rollback(args)) => commands::edit::rollback(&project, args, io)?,
        Some(Command::Logs(args)) => commands::logs::run(&project, args, io)?,
        Some(Command::Completions(args)) => commands::completions::run(args, io)?,
        Some(Command::Man) => commands::completions::man(io)?,
        Some(Command::Demo(_) | Command::SimulateAgent(_)) => unreachable!("handled above"),
        Some(Command::Run(args)) => commands::run::run(&project, args, g.verbose > 0, io)?,
        None => commands::run::run(&project, &cli.run, g.verbose > 0, io)?,
    };
    out.flush()?;
    Ok(code)
}

fn is_broken_pipe(e: &CommandError) -> bool {
    matches!(e, CommandError::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn init_tracing(quiet: bool, verbose: u8) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
