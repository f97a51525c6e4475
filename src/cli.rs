//! Command-line definitions only: raw arguments and their env fallbacks.
//! Turning them into validated settings is `config`'s job.

use crate::config::parse_duration;
use crate::roadmap::PhaseId;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

const AFTER_HELP: &str = "\
Examples:
  roadmap-runner                         run every pending group, phase by phase
  roadmap-runner --dry-run               show what would run, change nothing
  MAX_PARALLEL_AGENTS=8 roadmap-runner --phase 2
  roadmap-runner validate                check ROADMAP.md and print its shape
  roadmap-runner status                  what is complete and what runs next
  roadmap-runner logs 1:A:A1 --follow    watch a task's agent at work

Exit codes: 0 done, 1 task failed, 2 gate failed, 3 commit/push failed,
4 roadmap invalid, 5 preflight failed, 6 merge conflict (--isolation worktree),
64 bad usage, 75 locked by another run, 130/143 interrupted.";

#[derive(Debug, Parser)]
#[command(
    name = "roadmap-runner",
    version,
    about = "Drive coding agents through ROADMAP.md: phases in order, groups in order, tasks in parallel, gated, recorded, committed.",
    after_help = AFTER_HELP,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// `run` is the default command: its options work without writing `run`.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Project directory (default: the current directory).
    #[arg(short = 'C', long, global = true, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,

    /// Roadmap file (default: ROADMAP.md in the project directory).
    #[arg(long, global = true, env = "ROADMAP_FILE", value_name = "PATH")]
    pub roadmap: Option<PathBuf>,

    /// Less output from the runner's own diagnostics.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More output from the runner's own diagnostics (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every pending group (the default command).
    #[command(
        after_help = "Examples:\n  roadmap-runner run --phase 1..2 --max-parallel 2\n  roadmap-runner run --task 1:A:A2 --no-commit\n  DRY_RUN=1 roadmap-runner run"
    )]
    Run(RunArgs),
    /// Check the roadmap: print diagnostics and a one-line summary.
    #[command(
        after_help = "Examples:\n  roadmap-runner validate\n  roadmap-runner validate --roadmap docs/ROADMAP.md --json\n  roadmap-runner validate --write   # also write status/roadmap_tasks.txt"
    )]
    Validate(ValidateArgs),
    /// Show phases, groups and tasks with what is complete and what runs next.
    #[command(
        after_help = "Examples:\n  roadmap-runner status\n  roadmap-runner status --json | jq '.next'"
    )]
    Status(StatusArgs),
    /// Run the gate (typecheck, lint, test, build) alone, e.g. after a manual fix.
    #[command(
        after_help = "Examples:\n  roadmap-runner gate\n  roadmap-runner -C ~/projects/app gate"
    )]
    Gate,
    /// Mark a group complete without running it (adds it to status/completed_tasks.txt).
    #[command(after_help = "Examples:\n  roadmap-runner skip 1:B")]
    Skip(SkipArgs),
    /// Make a completed group run again (removes it from status/completed_tasks.txt).
    #[command(
        after_help = "Examples:\n  roadmap-runner rollback 2:A\n  roadmap-runner rollback 2:A --delete-report"
    )]
    Rollback(RollbackArgs),
    /// Show the latest log of a task (N:X:ID) or of a group's gate (N:X), readable.
    #[command(
        after_help = "Examples:\n  roadmap-runner logs 1:A:A1            the agent's latest log, readable\n  roadmap-runner logs 1:B:B2 --follow   and keep printing until the task ends\n  roadmap-runner logs 1:A               the gate log of Phase 1 Group A\n  roadmap-runner logs 1:A:A1 --raw | jq -c 'select(.type == \"result\")'\n\nExit codes: 0 shown, 1 no such log, 64 bad usage."
    )]
    Logs(LogsArgs),
    /// Remove stale task worktrees (--isolation worktree) and prune; work
    /// found nowhere else is kept under refs/roadmap-runner/archive/.
    #[command(
        after_help = "Examples:\n  roadmap-runner clean\n  roadmap-runner -C ~/projects/app clean\n\nExit codes: 0 done, 75 a run holds the lock (its worktrees are in use)."
    )]
    Clean,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  roadmap-runner completions bash > ~/.local/share/bash-completion/completions/roadmap-runner\n  roadmap-runner completions zsh > ~/.zfunc/_roadmap-runner\n  roadmap-runner completions fish > ~/.config/fish/completions/roadmap-runner.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    #[command(
        after_help = "Examples:\n  roadmap-runner man | man -l -\n  roadmap-runner man > ~/.local/share/man/man1/roadmap-runner.1"
    )]
    Man,
    /// Run a whole demo in a temporary directory: a tiny shop's 2-phase
    /// roadmap, simulated agents, a real gate, real commits pushed to a bare
    /// origin. Needs nothing but this binary.
    #[command(
        after_help = "Examples:\n  roadmap-runner demo          run it, then remove the temporary directory\n  roadmap-runner demo --keep   keep it, to look around with `status` and `logs`"
    )]
    Demo(DemoArgs),
    /// The demo's agent: this binary behaving like `claude -p --output-format
    /// stream-json --verbose` (prompt on stdin), writing the task's files.
    #[command(name = "__simulate-agent", hide = true)]
    SimulateAgent(SimulateAgentArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Keep the temporary directory (the project, its logs and the bare origin).
    #[arg(long)]
    pub keep: bool,
}

/// The options of Claude Code's batch mode that the simulated agent accepts.
/// `--verbose` is the global flag (`-v`), read from [`GlobalArgs::verbose`].
#[derive(Debug, Clone, Default, Args)]
pub struct SimulateAgentArgs {
    /// Print the response and exit (batch mode): the only mode simulated.
    #[arg(short = 'p', long = "print")]
    pub print: bool,
    /// text, json or stream-json (which needs --verbose, as in Claude Code).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "stream-json"])]
    pub output_format: String,
    /// Accepted; refused as root unless IS_SANDBOX=1, as Claude Code does.
    #[arg(long)]
    pub dangerously_skip_permissions: bool,
    /// Continue this session (its id is reused).
    #[arg(short = 'r', long, value_name = "SESSION_ID")]
    pub resume: Option<String>,
    /// Accepted and reported in the init event.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The prompt (default: read from stdin to EOF).
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct SkipArgs {
    /// The group, e.g. `1:B`.
    #[arg(value_name = "N:X")]
    pub group: String,
}

#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// The group, e.g. `1:B`.
    #[arg(value_name = "N:X")]
    pub group: String,
    /// Also delete its PHASE<N>-GROUP-<X>-STATUS.md report.
    #[arg(long)]
    pub delete_report: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Print the parsed roadmap and diagnostics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write status/roadmap_tasks.txt.
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// The task, `1:A:A1`, or the group, `1:A`, for its gate log (`PHASE_1:A:A1` works too).
    #[arg(value_name = "N:X[:ID]")]
    pub target: String,
    /// Keep printing as the log grows, until the task ends (or Ctrl-C).
    #[arg(short, long)]
    pub follow: bool,
    /// Print the log file as it is (stream-json lines), not readable text.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Print the plan (groups, tasks, exact agent command lines) and change nothing.
    #[arg(long, env = "DRY_RUN", value_parser = clap::builder::FalseyValueParser::new())]
    pub dry_run: bool,

    /// Agents running at once [default: 4].
    #[arg(long, env = "MAX_PARALLEL_AGENTS", value_name = "N")]
    pub max_parallel: Option<usize>,

    /// Time limit per task: 90, 90s, 30m, 2h [default: 3600s].
    #[arg(long, env = "TASK_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Only these phases: `2`, repeatable, or a range `2..3`.
    #[arg(long = "phase", value_name = "N|A..B", value_parser = parse_phase_range)]
    pub phases: Vec<(PhaseId, PhaseId)>,

    /// Only this group, e.g. `1:B` (repeatable).
    #[arg(long = "group", value_name = "N:X")]
    pub groups: Vec<String>,

    /// Only this one task, e.g. `1:A:A2` (for debugging a prompt).
    #[arg(long, value_name = "N:X:ID")]
    pub task: Option<String>,

    /// Retries for a failed task [default: 0].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Stop the group's other running tasks as soon as one fails.
    #[arg(long)]
    pub fail_fast: bool,

    /// Run the agents again even where only the gate failed last time.
    #[arg(long)]
    pub rerun_tasks: bool,

    /// Do not commit finished phases (implies --no-push).
    #[arg(long)]
    pub no_commit: bool,

    /// Commit finished phases but do not push.
    #[arg(long)]
    pub no_push: bool,

    /// Start a phase even when the working tree has uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,

    /// Agent binary for the default Claude command line.
    #[arg(long, env = "CLAUDE_BIN", value_name = "PATH", hide = true)]
    pub claude_bin: Option<String>,

    /// One JSON object per event on stdout.
    #[arg(long)]
    pub json: bool,

    /// Run this shell command when the run ends (outcome in env, summary on stdin).
    #[arg(long, value_name = "CMD")]
    pub notify: Option<String>,

    /// Where agents work: `shared` (the project's tree) or `worktree` (one git
    /// worktree per task, merged back before the gate) [default: shared].
    #[arg(long, env = "ROADMAP_ISOLATION", value_name = "MODE", value_enum)]
    pub isolation: Option<crate::config::Isolation>,
}

/// `2` → (2, 2); `2..3` → (2, 3).
fn parse_phase_range(s: &str) -> Result<(PhaseId, PhaseId), String> {
    let bad = || format!("`{s}` is not a phase number or range (e.g. `2`, `12.1` or `2..3`)");
    match s.split_once("..") {
        Some((a, b)) => {
            let a = PhaseId::parse(a).ok_or_else(bad)?;
            let b = PhaseId::parse(b.trim_start_matches('=')).ok_or_else(bad)?;
            if a > b {
                return Err(format!("`{s}`: the range is empty (write `{b}..{a}`)"));
            }
            Ok((a, b))
        }
        None => {
            let n = PhaseId::parse(s).ok_or_else(bad)?;
            Ok((n.clone(), n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_is_the_default_command() {
        let cli = Cli::try_parse_from(["rr", "--dry-run", "--phase", "2..3"]).unwrap();
        assert!(cli.command.is_none());
        assert!(cli.run.dry_run);
        assert_eq!(cli.run.phases, vec![(2.into(), 3.into())]);
        let cli = Cli::try_parse_from(["rr", "-C", "/tmp", "validate", "--json"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Validate(ValidateArgs { json: true, .. }))
        ));
    }
}
