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
    let log = runner_log(&cli);
    // A run that does work may be a cron job's: its errors get a timestamp.
    let working_run = log.is_some();
    init_tracing(cli.global.quiet, cli.global.verbose, log);
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => exit::OK,
        Err(e) => {
            // Timestamped in a cron mail, and kept in the runner log too.
            if working_run {
                eprintln!("{}", roadmap_runner::report::error_line(&e.to_string()));
            } else {
                eprintln!("error: {e}");
            }
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
    // A worker or the list of workers: no project here.
    if let Some(Command::Worker(args)) = &cli.command {
        return commands::worker::run(args, io);
    }
    if let Some(Command::Workers(args)) = &cli.command {
        return commands::worker::list(args, io);
    }
    // The demo makes its own project in a temporary directory.
    if let Some(Command::Demo(args)) = &cli.command {
        let code = commands::demo::run(args, g.verbose > 0, io)?;
        out.flush()?;
        return Ok(code);
    }
    let project = Project::new(g.project_dir.as_deref(), g.roadmap_path().as_deref())?
        .with_dialect(g.dialect);
    // `mcp` and `serve` (src/remote/): long-lived servers over the same commands.
    if let Some(Command::Mcp | Command::Serve(_)) = &cli.command {
        return remote(&cli, project, io);
    }
    let code = match &cli.command {
        Some(Command::Validate(args)) => commands::validate::run(&project, args, io)?,
        Some(Command::Status(args)) => commands::status::run(&project, args, io)?,
        Some(Command::Gate) => commands::gate::run(&project, io)?,
        Some(Command::Config(args)) => commands::config::run(&project, args, io)?,
        Some(Command::Clean) => commands::clean::run(&project, io)?,
        Some(Command::Skip(args)) => commands::edit::skip(&project, args, io)?,
        Some(Command::Rollback(args)) => commands::edit::rollback(&project, args, io)?,
        Some(Command::Logs(args)) => commands::logs::run(&project, args, io)?,
        Some(Command::Completions(args)) => commands::completions::run(args, io)?,
        Some(Command::Man) => commands::man::run(io)?,
        Some(Command::Init(args)) => commands::init::run(&project, args, g.verbose > 0, io)?,
        Some(Command::Import(args)) => commands::import::run(&project, args, io)?,
        Some(Command::Demo(_) | Command::SimulateAgent(_)) => unreachable!("handled above"),
        Some(Command::Mcp | Command::Serve(_)) => unreachable!("handled above"),
        Some(Command::Worker(_) | Command::Workers(_)) => unreachable!("handled above"),
        Some(Command::Run(args)) => {
            commands::run::run(&project, &args.request()?, g.verbose > 0, io)?
        }
        None => commands::run::run(&project, &cli.run.request()?, g.verbose > 0, io)?,
    };
    out.flush()?;
    Ok(code)
}

/// `mcp` or `serve`; a start-up failure is printed like any command's error.
fn remote(cli: &Cli, project: Project, io: Io<'_>) -> Result<i32, CommandError> {
    use roadmap_runner::remote::{self, Target};
    let target = Target {
        project,
        roadmap: cli.global.roadmap.clone(),
    };
    let result = match &cli.command {
        Some(Command::Serve(args)) => remote::http::run(
            target,
            &remote::http::ServeOptions {
                bind: args.bind.clone(),
                api_key_file: args.api_key_file.clone(),
            },
        ),
        _ => remote::mcp::run(target),
    };
    result.or_else(|e| {
        writeln!(io.err, "error: {e}")?;
        Ok(e.exit_code())
    })
}

fn is_broken_pipe(e: &CommandError) -> bool {
    matches!(e, CommandError::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Diagnostics go to stderr at the chosen level and, for a run that does
/// work, also to `logs/orchestrator/runner_<timestamp>.log` at info or more.
fn init_tracing(quiet: bool, verbose: u8, log_file: Option<std::path::PathBuf>) {
    use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let from_env = || EnvFilter::try_from_env("RUST_LOG").ok();
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(from_env().unwrap_or_else(|| EnvFilter::new(level)));
    let file_layer = log_file.and_then(|path| {
        let logs = path.parent()?.parent()?;
        std::fs::create_dir_all(path.parent()?).ok()?;
        roadmap_runner::project::ensure_gitignore(logs, roadmap_runner::project::LOGS_GITIGNORE)
            .ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok()?;
        let file_level = if verbose >= 2 { level } else { "info" };
        Some(
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_target(false)
                .with_filter(from_env().unwrap_or_else(|| EnvFilter::new(file_level))),
        )
    });
    let _ = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .try_init();
}

/// The runner log of a run that does work; none for dry runs and other commands.
fn runner_log(cli: &Cli) -> Option<std::path::PathBuf> {
    let args = match &cli.command {
        None => &cli.run,
        Some(Command::Run(args)) => args,
        Some(_) => return None,
    };
    if args.dry_run {
        return None;
    }
    let dir = cli
        .global
        .project_dir
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    if !dir.is_dir() {
        return None;
    }
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    Some(dir.join(format!("logs/orchestrator/runner_{stamp}.log")))
}
