//! Command-line definitions only: raw arguments and their env fallbacks.
//! Turning them into validated settings is `config`'s job.

use crate::config::{AgentKind, parse_agent};
use crate::config::{
    ConfigError, ENV_AGENT, ENV_CLAUDE_BIN, ENV_ISOLATION, ENV_MAX_COST, ENV_MAX_PARALLEL,
    ENV_NATS, ENV_TIMEOUT, Isolation, Origin, Overrides, from_env, parse_cost, parse_isolation,
    parse_max_parallel, parse_timeout, unknown_agent,
};
use crate::roadmap::{Dialect, PhaseId};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// The examples of `--help` and of the man page: command line, what it does.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("roadmap-runner", "run every pending group, phase by phase"),
    (
        "roadmap-runner --dry-run",
        "show what would run, change nothing",
    ),
    (
        "MAX_PARALLEL_AGENTS=8 roadmap-runner --phase 2",
        "run phase 2 only, 8 agents at once",
    ),
    (
        "roadmap-runner validate",
        "check ROADMAP.md and roadmap-runner.toml",
    ),
    (
        "roadmap-runner status",
        "what is complete and what runs next",
    ),
    (
        "roadmap-runner config",
        "the settings in force and where each came from",
    ),
    (
        "roadmap-runner logs 1:A:A1 --follow",
        "watch a task's agent at work",
    ),
];

/// The exit codes of `--help` and of the man page (README "Exit codes").
pub const EXIT_CODES: &[(&str, &str)] = &[
    ("0", "done, or nothing to do"),
    ("1", "a task failed (or timed out)"),
    ("2", "the gate failed"),
    ("3", "commit or push failed"),
    ("4", "the roadmap is invalid (or missing)"),
    (
        "5",
        "preflight failed (agent, git, root, dirty tree, bad config), or the agent is not logged in",
    ),
    (
        "64",
        "bad usage (unknown option, bad value, bad environment variable)",
    ),
    (
        "6",
        "a task's change conflicts and was not resolved (--isolation worktree)",
    ),
    ("7", "the run's budget (--max-cost) is spent"),
    ("75", "another run holds the lock"),
    ("130", "interrupted by SIGINT (Ctrl-C)"),
    ("143", "interrupted by SIGTERM"),
    ("129", "interrupted by SIGHUP"),
];

fn after_help() -> String {
    let width = EXAMPLES.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let mut s = String::from("Examples:\n");
    for (command, what) in EXAMPLES {
        s.push_str(&format!("  {command:<width$}  {what}\n"));
    }
    s.push_str("\nExit codes:\n");
    for (code, what) in EXIT_CODES {
        s.push_str(&format!("  {code:>3}  {what}\n"));
    }
    s.trim_end().to_string()
}

#[derive(Debug, Parser)]
#[command(
    name = "roadmap-runner",
    version,
    about = "Drive coding agents through ROADMAP.md: phases in order, groups in order, tasks in parallel, gated, recorded, committed.",
    after_help = after_help(),
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

    /// Roadmap file (default: ROADMAP.md in the project directory) [env: ROADMAP_FILE].
    // ROADMAP_FILE is read by `roadmap_path`, so an empty one counts as unset.
    #[arg(long, global = true, value_name = "PATH")]
    pub roadmap: Option<PathBuf>,

    /// How to read the roadmap: table, spec-kit, kiro, superpowers or gsd
    /// [default: detected]. Every command reads it the same way.
    #[arg(long, global = true, env = "ROADMAP_DIALECT", value_name = "NAME", value_parser = parse_dialect)]
    pub dialect: Option<Dialect>,

    /// Less output from the runner's own diagnostics.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More output from the runner's own diagnostics (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// `--roadmap`, else `ROADMAP_FILE` when it is set and not empty.
    pub fn roadmap_path(&self) -> Option<PathBuf> {
        self.roadmap.clone().or_else(|| {
            std::env::var_os("ROADMAP_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }
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
    /// Print the effective settings and where each came from: default,
    /// roadmap-runner.toml, an environment variable or a flag (it takes the
    /// options of `run`, to show what they would change).
    #[command(
        after_help = "Examples:\n  roadmap-runner config\n  MAX_PARALLEL_AGENTS=8 roadmap-runner config --timeout 2h\n  roadmap-runner config --json | jq -r '.settings[] | select(.from != \"default\") | .key'"
    )]
    Config(RunArgs),
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
    /// Start a project: a starter ROADMAP.md and a commented
    /// roadmap-runner.toml, or with --goal a roadmap drafted by the agent.
    #[command(after_help = "Examples:
  roadmap-runner init
  roadmap-runner init --goal \"Build a REST API with auth, users and CRUD\"
  roadmap-runner init --goal \"Add a CLI to the library\" --run

Exit codes: 0 written, 1 the agent failed, 4 its roadmap never validated (nothing written), 5 no agent or not logged in, 64 a file exists (use --force); with --run, those of the run.")]
    Init(InitArgs),
    /// Turn a plan document into a roadmap: the agent writes the native
    /// format, every task naming the document's line it came from.
    #[command(after_help = "Examples:
  roadmap-runner import PLAN.md
  roadmap-runner import docs/plan.md --output ROADMAP.md --force

Exit codes: 0 written, 1 the agent failed, 4 its roadmap never validated (nothing written), 5 no agent or not logged in, 64 the output exists (use --force).")]
    Import(ImportArgs),
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
    // Driving it from other programs (src/remote/): `mcp` and `serve`.
    /// An MCP server on stdin/stdout, for coding agents: tools for status,
    /// validate, plan, start_run, run_status, stop_run, task_log, skip_group
    /// and rollback_group.
    #[command(
        after_help = "Examples:\n  claude mcp add roadmap-runner -- roadmap-runner mcp\n  claude mcp add roadmap-runner -- roadmap-runner -C ~/projects/app mcp"
    )]
    Mcp,
    /// An HTTP API (/api/v1: status, runs, live events, logs) and a live
    /// dashboard at /. Key: ROADMAP_RUNNER_API_KEY or --api-key-file.
    #[command(
        after_help = "Examples:\n  roadmap-runner serve                          http://127.0.0.1:7474/\n  ROADMAP_RUNNER_API_KEY=s3cret roadmap-runner serve --bind 0.0.0.0:7474\n\nExit codes: 5 refused to start (a non-loopback --bind without a key, a bad key file, the address in use), 64 bad usage."
    )]
    Serve(ServeArgs),
    // Many machines (src/cluster/): `worker` and `workers`.
    /// Run tasks for coordinators (`run --nats URL`) on this machine: pull
    /// them from NATS JetStream, run each agent in a worktree of a local
    /// mirror, push the task's branch, publish the result.
    #[command(after_help = "Examples:
  roadmap-runner worker --nats nats://queue.internal:4222
  roadmap-runner worker --nats tls://queue:4222 --creds ~/.config/nats/worker.creds --max-parallel 4 --name build-3

SIGTERM or Ctrl-C: no new task, the running ones finish (up to --stop-grace), then exit 0; a second signal stops the agents and gives their tasks back.
Exit codes: 0 stopped, 5 cannot reach the server, 64 bad usage.")]
    Worker(WorkerArgs),
    /// List the live workers: name, host, slots, running tasks, last heartbeat.
    #[command(after_help = "Examples:
  roadmap-runner workers --nats nats://queue.internal:4222
  roadmap-runner workers --nats nats://queue:4222 --json | jq '.[].name'")]
    Workers(WorkersArgs),
    /// The demo's agent: this binary behaving like `claude -p --output-format
    /// stream-json --verbose` (prompt on stdin), writing the task's files.
    #[command(name = "__simulate-agent", hide = true)]
    SimulateAgent(SimulateAgentArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free one (printed on stderr).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7474")]
    pub bind: String,
    /// Read the API key from this file's first line (instead of ROADMAP_RUNNER_API_KEY).
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The NATS JetStream server (nats://host:4222, tls://host:4222; user
    /// and password or a token may be in the URL) [env: ROADMAP_NATS].
    #[arg(long, value_name = "URL", env = "ROADMAP_NATS", hide_env = true)]
    pub nats: String,
    /// A NATS .creds file (JWT and NKey seed).
    #[arg(long, value_name = "FILE")]
    pub creds: Option<PathBuf>,
    /// Agents run at once on this machine.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub max_parallel: u32,
    /// Where the mirrors, worktrees and logs go [default: ~/.cache/roadmap-runner/worker].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// The name shown by `workers` and the coordinator [default: the host name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// How long running tasks may take to finish after SIGTERM (e.g. 10m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::config::parse_duration)]
    pub stop_grace: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct WorkersArgs {
    /// The NATS JetStream server [env: ROADMAP_NATS].
    #[arg(long, value_name = "URL", env = "ROADMAP_NATS", hide_env = true)]
    pub nats: String,
    /// A NATS .creds file (JWT and NKey seed).
    #[arg(long, value_name = "FILE")]
    pub creds: Option<PathBuf>,
    /// JSON: an array of the workers' heartbeats.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Keep the temporary directory (the project, its logs and the bare origin).
    #[arg(long)]
    pub keep: bool,
    /// Run the tasks on N workers through a NATS JetStream server, all on
    /// this machine (needs nats-server; see `roadmap-runner worker`).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=8))]
    pub workers: u32,
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
pub struct InitArgs {
    /// Have the agent draft the roadmap for this goal (it may read the
    /// project's code); written to ROADMAP.md or --roadmap.
    #[arg(long, value_name = "TEXT")]
    pub goal: Option<String>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    /// With --goal: answers the agent may give before it gives up (its
    /// roadmap's problems go back to it in the same session).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub attempts: u32,
    /// With --goal: run the roadmap once written, as `roadmap-runner` would.
    #[arg(long, requires = "goal")]
    pub run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The plan document (any Markdown or text).
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Where the roadmap goes [default: ROADMAP.md, or --roadmap].
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Overwrite the output file.
    #[arg(long)]
    pub force: bool,
    /// Answers the agent may give before it gives up.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub attempts: u32,
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
    /// List the groups and tasks of complete phases too (folded to one line otherwise).
    #[arg(long)]
    pub all: bool,
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

    // MAX_PARALLEL_AGENTS, TASK_TIMEOUT and CLAUDE_BIN are read by
    // `config::Overrides`, not by clap: an error then names the variable the
    // user set (not a flag they never typed), and an empty one is unset.
    /// Agents running at once [default: 4] [env: MAX_PARALLEL_AGENTS].
    #[arg(long, value_name = "N", value_parser = parse_max_parallel)]
    pub max_parallel: Option<usize>,

    /// Time limit per task: 90, 90s, 30m, 2h [default: 1h 00m] [env: TASK_TIMEOUT].
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
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

    /// Repair agents after a failed gate, per group; 0 stops at the failure [default: 2].
    #[arg(long, value_name = "N")]
    pub fix_attempts: Option<u32>,

    /// Start a reviewer agent after each passing gate; its requested changes get a repair round.
    #[arg(long)]
    pub review: bool,

    /// Tick each task of a completed group in the roadmap file (`- [ ]` → `- [x]`,
    /// or its Status cell); every other byte stays, the tick goes into the phase commit.
    #[arg(long)]
    pub write_back: bool,

    /// Stop starting agents once this run has spent USD on them [env: ROADMAP_MAX_COST].
    #[arg(long, value_name = "USD", value_parser = crate::config::parse_cost)]
    pub max_cost: Option<f64>,

    /// Run the agents again even where only the gate failed last time.
    #[arg(long)]
    pub rerun_tasks: bool,

    /// Do not commit finished phases (implies --no-push).
    #[arg(long)]
    pub no_commit: bool,

    /// Commit finished phases but do not push.
    #[arg(long)]
    pub no_push: bool,

    /// Take uncommitted changes into the phase commit: start a phase on a
    /// dirty working tree, and include changes made by hand since the last
    /// run (left out of the commit without it).
    #[arg(long)]
    pub allow_dirty: bool,

    /// The Claude Code binary of the default agent command (default: `claude`
    /// on PATH); ignored when roadmap-runner.toml sets `[agent] command`
    /// [env: CLAUDE_BIN].
    #[arg(long, value_name = "PATH")]
    pub claude_bin: Option<String>,

    /// The coding agent: claude, codex, gemini, opencode, copilot or command
    /// (default: `[agent] kind` in roadmap-runner.toml, else claude) [env:
    /// ROADMAP_AGENT].
    #[arg(long, value_name = "KIND")]
    pub agent: Option<String>,

    /// One JSON object per event on stdout.
    #[arg(long)]
    pub json: bool,

    /// Run this shell command when the run ends (outcome in env, summary on stdin).
    #[arg(long, value_name = "CMD")]
    pub notify: Option<String>,

    /// Where agents work: `shared` (the project's tree) or `worktree` (one git
    /// worktree per task, merged back before the gate) [default: shared].
    #[arg(long, env = "ROADMAP_ISOLATION", value_name = "MODE", value_parser = isolation_parser())]
    pub isolation: Option<Isolation>,

    /// Run the tasks on workers (`roadmap-runner worker`) through this NATS
    /// JetStream server, e.g. nats://host:4222; implies --isolation worktree
    /// [env: ROADMAP_NATS].
    #[arg(long, value_name = "URL", env = "ROADMAP_NATS", hide_env = true)]
    pub nats: Option<String>,

    /// A NATS .creds file (JWT and NKey seed) for --nats.
    #[arg(long, value_name = "FILE")]
    pub nats_creds: Option<std::path::PathBuf>,
}

/// `shared` or `worktree`: config's own names (so config needs no clap),
/// listed in the help and in the error.
fn isolation_parser() -> impl clap::builder::TypedValueParser<Value = Isolation> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Isolation::CHOICES.iter().map(|(name, _)| *name))
        .map(|given| crate::config::parse_isolation(&given).unwrap_or_default())
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse()
        .map_err(|e: crate::roadmap::dialect::UnknownDialect| e.to_string())
}

/// `2` → (2, 2); `2..3` → (2, 3).
pub fn parse_phase_range(s: &str) -> Result<(PhaseId, PhaseId), String> {
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

impl RunArgs {
    /// The settings overrides of `run`'s flags, and of the environment for
    /// those not given as flags: config knows no command line, the command
    /// line converts into what config accepts.
    pub fn overrides(&self) -> Result<Overrides, ConfigError> {
        self.overrides_with(|name| std::env::var(name).ok())
    }

    /// The same, with the environment read through `env` (tests). An empty
    /// (or blank) variable counts as unset, as in most tools.
    pub fn overrides_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Overrides, ConfigError> {
        let args = self;
        let var = |name: &'static str| env(name).filter(|v| !v.trim().is_empty());
        let max_parallel = match args.max_parallel {
            Some(n) => Some((n, Origin::Flag("--max-parallel"))),
            None => from_env(ENV_MAX_PARALLEL, var(ENV_MAX_PARALLEL), parse_max_parallel)?,
        };
        let timeout = match args.timeout {
            Some(t) => Some((t, Origin::Flag("--timeout"))),
            None => from_env(ENV_TIMEOUT, var(ENV_TIMEOUT), parse_timeout)?,
        };
        let claude_bin = match &args.claude_bin {
            Some(b) => Some((b.clone(), Origin::Flag("--claude-bin"))),
            None => var(ENV_CLAUDE_BIN).map(|b| (b, Origin::Env(ENV_CLAUDE_BIN))),
        };
        let agent = match &args.agent {
            Some(a) => Some((parse_agent(a)?, Origin::Flag("--agent"))),
            None => from_env(ENV_AGENT, var(ENV_AGENT), |v| {
                AgentKind::parse(v).ok_or_else(|| unknown_agent(v))
            })?,
        };
        let max_cost = match args.max_cost {
            Some(c) => Some((c, Origin::Flag("--max-cost"))),
            None => from_env(ENV_MAX_COST, var(ENV_MAX_COST), parse_cost)?,
        };
        Ok(Overrides {
            max_parallel,
            timeout,
            retries: args.retries,
            fail_fast: args.fail_fast,
            claude_bin,
            agent,
            no_commit: args.no_commit,
            no_push: args.no_push,
            fix_attempts: args.fix_attempts,
            review: args.review,
            max_cost,
            write_back: args.write_back,
            // clap reads these variables for the CLI too; read here, they also
            // count for run arguments built without clap (`serve`, `mcp`).
            isolation: match args.isolation {
                Some(i) => Some(i),
                None => {
                    from_env(ENV_ISOLATION, var(ENV_ISOLATION), parse_isolation)?.map(|(i, _)| i)
                }
            },
            nats: args
                .nats
                .clone()
                .or_else(|| var(ENV_NATS))
                .filter(|u| !u.trim().is_empty()),
            nats_creds: args.nats_creds.clone(),
        })
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
        assert_eq!(cli.global.dialect, None);
    }

    #[test]
    fn isolation_takes_the_names_the_config_file_takes() {
        let cli = Cli::try_parse_from(["rr", "run", "--isolation", "worktree"]).unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("not a run");
        };
        assert_eq!(args.isolation, Some(Isolation::Worktree));
        let err = Cli::try_parse_from(["rr", "--isolation", "nowhere"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("[possible values: shared, worktree]"),
            "{err}"
        );
    }

    #[test]
    fn dialect_is_accepted_by_every_command_that_reads_the_roadmap() {
        for args in [
            &["rr", "validate", "--dialect", "spec-kit"][..],
            &["rr", "status", "--dialect", "spec-kit"],
            &["rr", "run", "--dialect", "spec-kit"],
            &["rr", "--dialect", "spec-kit", "--dry-run"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.global.dialect, Some(Dialect::SpecKit), "{args:?}");
        }
        let err = Cli::try_parse_from(["rr", "validate", "--dialect", "yaml"]).unwrap_err();
        assert!(err.to_string().contains("known: table, spec-kit"), "{err}");
    }

    #[test]
    fn the_environment_fills_in_for_flags_and_an_empty_variable_is_unset() {
        let args = RunArgs::default();
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let over = args
            .overrides_with(env(&[("MAX_PARALLEL_AGENTS", "3")]))
            .unwrap();
        assert_eq!(
            over.max_parallel,
            Some((3, Origin::Env("MAX_PARALLEL_AGENTS")))
        );
        let over = args
            .overrides_with(env(&[("MAX_PARALLEL_AGENTS", ""), ("TASK_TIMEOUT", " ")]))
            .unwrap();
        assert_eq!((over.max_parallel, over.timeout), (None, None));
        let err = args
            .overrides_with(env(&[("TASK_TIMEOUT", "0")]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Env {
                    var: "TASK_TIMEOUT",
                    ..
                }
            ),
            "{err}"
        );
        let flag = RunArgs {
            max_parallel: Some(5),
            ..Default::default()
        };
        let over = flag
            .overrides_with(env(&[("MAX_PARALLEL_AGENTS", "abc")]))
            .unwrap();
        assert_eq!(over.max_parallel, Some((5, Origin::Flag("--max-parallel"))));
        // Run arguments built without clap (`serve`, `mcp`) get these too.
        let over = args
            .overrides_with(env(&[
                ("ROADMAP_ISOLATION", "worktree"),
                ("ROADMAP_NATS", "nats://q:4222"),
            ]))
            .unwrap();
        assert_eq!(over.isolation, Some(Isolation::Worktree));
        assert_eq!(over.nats.as_deref(), Some("nats://q:4222"));
        let err = args
            .overrides_with(env(&[("ROADMAP_ISOLATION", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("ROADMAP_ISOLATION=x"), "{err}");
    }
}
