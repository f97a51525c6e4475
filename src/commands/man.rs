//! `roadmap-runner man`: the man page (roff, section 1). clap_mangen writes
//! NAME, SYNOPSIS, DESCRIPTION, OPTIONS and SUBCOMMANDS from the CLI
//! definitions; the sections a man page reader looks for (EXAMPLES, EXIT
//! STATUS, ENVIRONMENT, FILES, CONFIGURATION) are written here, instead of
//! clap_mangen's "EXTRA" dump of `--help`'s epilogue.

use super::{CommandError, Io};
use crate::cli::{Cli, EXAMPLES, EXIT_CODES};
use clap::CommandFactory;

pub fn run(io: Io<'_>) -> Result<i32, CommandError> {
    io.out.write_all(page()?.as_bytes())?;
    Ok(crate::exit::OK)
}

/// The whole page.
pub fn page() -> std::io::Result<String> {
    // Without the hidden subcommand (the demo's agent), as in completions.
    let cmd = Cli::command()
        .mut_subcommand("__simulate-agent", |s| s.hide(true))
        .after_help("");
    let man = clap_mangen::Man::new(cmd);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    let mut page = String::from_utf8_lossy(&out).into_owned();
    page.push_str(&sections());
    let mut version = Vec::new();
    man.render_version_section(&mut version)?;
    page.push_str(&String::from_utf8_lossy(&version));
    Ok(page)
}

/// `.TP` items: a bold term, then its text.
fn items(heading: &str, rows: &[(&str, &str)]) -> String {
    let mut s = format!(".SH {heading}\n");
    for (term, text) in rows {
        s.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", esc(term), esc(text)));
    }
    s
}

fn sections() -> String {
    let mut s = String::from(".SH EXAMPLES\n");
    for (command, what) in EXAMPLES {
        // Each example a command line of its own, as typed, then what it does.
        s.push_str(&format!(
            ".PP\n{}:\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
            esc(&capital(what)),
            esc(command)
        ));
    }
    s.push_str(&items("EXIT STATUS", EXIT_CODES));
    s.push_str(&items("ENVIRONMENT", ENVIRONMENT));
    s.push_str(&items("FILES", FILES));
    s.push_str(&format!(
        ".SH CONFIGURATION\n{}\n",
        esc(CONFIGURATION_INTRO)
    ));
    for (table, keys) in CONFIGURATION {
        s.push_str(&format!(".SS [{table}]\n"));
        for (key, text) in *keys {
            s.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", esc(key), esc(text)));
        }
    }
    s
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Text as roff reads it literally: backslashes, hyphens (so they copy as
/// ASCII '-'), and a leading '.' or '\'' that would start a request.
fn esc(text: &str) -> String {
    let body = text.replace('\\', "\\e").replace('-', "\\-");
    body.lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "MAX_PARALLEL_AGENTS",
        "Agents running at once (default 4); --max-parallel wins over it. Empty means unset.",
    ),
    (
        "TASK_TIMEOUT",
        "Time limit per task: 90, 90s, 30m, 2h (default 1h); --timeout wins over it. Empty means unset.",
    ),
    (
        "DRY_RUN",
        "Any value but empty, 0, false, no or off: the same as --dry-run.",
    ),
    (
        "ROADMAP_FILE",
        "The roadmap, as --roadmap (default ROADMAP.md in the project directory).",
    ),
    (
        "CLAUDE_BIN",
        "The Claude Code binary of the default agent command (default claude on PATH), as --claude-bin.",
    ),
    (
        "ROADMAP_AGENT",
        "The agent that runs the tasks: claude, codex, gemini, opencode, copilot or command, as --agent (which wins over it; [agent] kind in roadmap-runner.toml is below both).",
    ),
    (
        "IS_SANDBOX",
        "Set to 1 to let Claude Code use --dangerously-skip-permissions as root (checked before a run starts).",
    ),
    (
        "ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN",
        "Long-lived credentials for the agent in unattended runs (cron, systemd).",
    ),
    ("NO_COLOR", "Any non-empty value turns colours off."),
    (
        "RUST_LOG",
        "Filter for the runner's own diagnostics, as -v / -vv.",
    ),
    (
        "ROADMAP_PHASE, ROADMAP_GROUP, ROADMAP_TASK_ID, ROADMAP_TASK_TITLE, ROADMAP_LOG_FILE",
        "Set by the runner in each agent's environment.",
    ),
];

const FILES: &[(&str, &str)] = &[
    ("ROADMAP.md", "The roadmap: phases, groups, tasks."),
    (
        "roadmap-runner.toml",
        "Optional settings, in the project directory (see CONFIGURATION).",
    ),
    (
        "status/completed_tasks.txt",
        "The completed groups, PHASE_1:A per line: edit it to skip a group or run one again.",
    ),
    (
        "status/tasks.jsonl",
        "One JSON line per task attempt and gate run; resume decisions come from it.",
    ),
    (
        "status/in_progress_tasks.txt, status/pending_tasks.txt, status/roadmap_tasks.txt",
        "What runs now, what is still to do, every task of the roadmap.",
    ),
    (
        ".git/roadmap-runner.lock",
        "The run lock (exit 75 while another run holds it); status/.lock when the project is not the root of its git work tree.",
    ),
    (
        "PHASE<N>-GROUP-<X>-STATUS.md",
        "The report of a completed group, in the project directory or in [report] dir.",
    ),
    (
        "logs/orchestrator/",
        "One log per agent attempt and per gate run, and the runner's own log.",
    ),
];

const CONFIGURATION_INTRO: &str = "roadmap-runner.toml in the project directory is optional. Settings resolve as defaults, then the file, then the environment, then flags; `roadmap-runner config` prints each with where it came from. An unknown key or a bad value is an error with file, line and column (`roadmap-runner validate` checks it). Every key, commented, is in roadmap-runner.example.toml.";

/// The keys of roadmap-runner.toml, by table (README "Configuration").
pub const CONFIGURATION: &[(&str, &[(&str, &str)])] = &[
    (
        "run",
        &[
            ("max_parallel", "Agents at once (default 4)."),
            ("timeout", "Time limit per task (default \"1h\")."),
            (
                "grace_period",
                "SIGTERM to SIGKILL when stopping an agent (default \"10s\").",
            ),
            ("retries", "Runs of a failed task again (default 0)."),
            (
                "max_wait",
                "Longest wait for an agent's usage limit to reset (default \"6h\").",
            ),
            (
                "fail_fast",
                "Stop the group's other tasks when one fails (default false).",
            ),
            (
                "max_cost",
                "What one run may spend on agents, in USD; no agent starts once it is reached, exit 7 (default: no cap; ROADMAP_MAX_COST / --max-cost win).",
            ),
            (
                "write_back",
                "Tick each task of a completed group in the roadmap file (default false; --write-back).",
            ),
            (
                "isolation",
                "\"shared\" (every agent in the project tree) or \"worktree\" (each task in its own git worktree, merged back before the gate) (default shared; ROADMAP_ISOLATION / --isolation win).",
            ),
            (
                "max_recursion_depth",
                "How deep a task may split itself into sub-roadmaps; 0 never offers the split file (default 2; --max-depth wins).",
            ),
        ],
    ),
    (
        "worktree",
        &[
            (
                "dir",
                "Where task worktrees live (default: under $XDG_CACHE_HOME/roadmap-runner/worktrees/).",
            ),
            (
                "setup",
                "Commands run in each new worktree before its agent, e.g. [\"npm ci\"].",
            ),
            (
                "link",
                "Project paths symlinked into each worktree and never committed, e.g. [\"node_modules\"].",
            ),
            (
                "resolve",
                "\"agent\" (a resolver agent mends a conflict) or \"stop\" (exit 6) (default agent).",
            ),
            (
                "resolve_attempts",
                "Resolver attempts per conflict, 1 to 3 (default 2).",
            ),
            (
                "cargo_target_dir",
                "CARGO_TARGET_DIR for every worktree (default: one per worktree).",
            ),
        ],
    ),
    (
        "cluster",
        &[
            (
                "nats",
                "A NATS JetStream server (nats://host:4222, tls://...): the tasks run on `roadmap-runner worker` processes; implies isolation = \"worktree\" (also --nats, ROADMAP_NATS).",
            ),
            (
                "creds",
                "A NATS .creds file (JWT and NKey seed) (also --nats-creds).",
            ),
            (
                "ack_wait",
                "How long a worker may go silent before its task goes to another (default \"60s\").",
            ),
            (
                "max_deliver",
                "Deliveries of one task attempt before it ends as \"worker lost\" (default 3).",
            ),
            (
                "no_workers",
                "\"wait\" (default) or \"stop\": what the run does while no worker is live and tasks wait; \"stop\" ends it (exit 1) after no_workers_after, its queued tasks withdrawn.",
            ),
            (
                "no_workers_after",
                "With no_workers = \"stop\": how long to wait for a worker first (default \"10m\").",
            ),
        ],
    ),
    (
        "agent",
        &[
            (
                "command",
                "The whole agent command line, an argv array (default: Claude Code in batch mode).",
            ),
            ("extra_args", "Arguments added to the command."),
            (
                "env",
                "Variables set for the agent, e.g. { IS_SANDBOX = \"1\" }.",
            ),
            (
                "prompt_template",
                "A prompt template file (default: the built-in one).",
            ),
            (
                "output",
                "\"stream-json\" or \"plain\" (default stream-json for Claude, plain for a custom command).",
            ),
            (
                "resume_args",
                "Arguments that resume a session; {session_id} is replaced.",
            ),
            (
                "max_budget_usd",
                "Passed to Claude Code as --max-budget-usd: one agent's cap, in USD (default: none).",
            ),
        ],
    ),
    (
        "repair",
        &[
            (
                "attempts",
                "Repair agents after a failed gate, per group; 0 stops at the failure (default 2; --fix-attempts).",
            ),
            (
                "prompt",
                "A repair prompt template file (default: the built-in one).",
            ),
            (
                "agent",
                "The agent of repairs and conflict resolution: claude, codex, gemini, opencode or copilot (default: the run's).",
            ),
        ],
    ),
    (
        "review",
        &[
            (
                "enabled",
                "A reviewer agent after each passing gate (default false; --review).",
            ),
            ("rounds", "Review and repair rounds per group (default 1)."),
            (
                "prompt",
                "A review prompt template file (default: the built-in one).",
            ),
            (
                "agent",
                "The agent of reviews, e.g. another model than the tasks' (default: the run's).",
            ),
        ],
    ),
    (
        "gate",
        &[
            ("enabled", "false turns the gate off (default true)."),
            (
                "steps",
                "[[gate.steps]] tables: name, command, fatal, timeout (default: detected from the project).",
            ),
        ],
    ),
    (
        "git",
        &[
            (
                "remote",
                "The remote to push to (default: the branch's upstream).",
            ),
            (
                "branch",
                "The branch to push (default: the current branch).",
            ),
            ("commit", "Commit each finished phase (default true)."),
            ("push", "Push the phase commits (default true)."),
            (
                "token_env",
                "The variable holding an HTTPS token for the push.",
            ),
            (
                "push_foreign",
                "\"refuse\" (default) or \"allow\": push commits on the branch that the runner did not make.",
            ),
            (
                "diverged",
                "\"rebase\" (default), \"merge\" or \"stop\": what to do when the remote branch moved.",
            ),
        ],
    ),
    (
        "notify",
        &[
            (
                "command",
                "A command run when the run ends (a shell string or an argv array).",
            ),
            ("webhook", "A URL that gets a JSON POST when the run ends."),
        ],
    ),
    (
        "report",
        &[(
            "dir",
            "Where the PHASE<N>-GROUP-<X>-STATUS.md reports go (default: the project directory).",
        )],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// `key =` at the start of a line, commented out or not, in `[table]`
    /// (`[[gate.steps]]` lines count under `gate.steps`).
    fn example_keys() -> Vec<String> {
        let text = include_str!("../../roadmap-runner.example.toml");
        let mut table = String::new();
        let mut keys = Vec::new();
        for line in text.lines() {
            let l = line.trim_start_matches('#').trim();
            if let Some(t) = l.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                if t == "[gate.steps]" {
                    keys.push("gate.steps".to_string());
                } else {
                    table = t.to_string();
                }
            } else if let Some((key, _)) = l.split_once(" = ")
                && !key.contains(' ')
            {
                keys.push(format!("{table}.{key}"));
            }
        }
        keys
    }

    #[test]
    fn the_example_file_and_the_man_page_list_the_same_keys() {
        let documented: Vec<String> = CONFIGURATION
            .iter()
            .flat_map(|(t, keys)| keys.iter().map(move |(k, _)| format!("{t}.{k}")))
            .collect();
        let mut example = example_keys();
        // The steps' own keys (name, command, fatal, timeout) are described
        // under gate.steps.
        example.retain(|k| !k.starts_with("gate.") || k == "gate.enabled" || k == "gate.steps");
        example.dedup();
        let mut a = documented.clone();
        a.sort();
        let mut b = example.clone();
        b.sort();
        b.dedup();
        assert_eq!(
            a, b,
            "man page CONFIGURATION vs roadmap-runner.example.toml"
        );
    }
}
