//! `roadmap-runner __simulate-agent`: the demo's agent. This binary behaves
//! like Claude Code in batch mode at its interface, so the demo needs no
//! interpreter, no network and no credentials:
//!
//! - the same options (`-p`, `--output-format text|json|stream-json`,
//!   `--verbose`, `--dangerously-skip-permissions`, `--resume`, `--model`) and
//!   the same refusals: `stream-json` without `--verbose`, and
//!   `--dangerously-skip-permissions` as root without `IS_SANDBOX=1`, exit 1
//!   with the CLI's messages;
//! - the prompt from the argument, else stdin to EOF;
//! - the same stream-json events: `system`/`init` with a session id,
//!   `assistant` text and `tool_use`, `user` `tool_result`, and a last
//!   `result` with `is_error`, `result`, `session_id`, `num_turns`,
//!   `duration_ms`, `total_cost_usd` and `usage`.
//!
//! Its work is real: after a short random delay (0.4–1.5 s, seeded from the
//! task id and the clock) it writes, in the current directory, every file
//! the prompt names on a `Create file: <path>` line, with the content the
//! demo plans for it ([`super::files::FILES`]) or a small stub for a path
//! the demo does not know. Paths must stay inside the current directory.

use super::files::planned_file;
use super::split;
use crate::cli::SimulateAgentArgs;
use regex::Regex;
use serde_json::json;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use stream::{Stream, seed, uuid_like};

mod stream;
#[cfg(test)]
mod tests;

pub const MODEL: &str = "claude-sonnet-4-5-simulated";
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (roadmap-runner simulation)");
/// Claude Code's message for `--output-format stream-json` without `--verbose`.
pub const NEEDS_VERBOSE: &str =
    "Error: When using --print, --output-format=stream-json requires --verbose";
/// Claude Code's message for `--dangerously-skip-permissions` as root.
pub const ROOT_REFUSED: &str =
    "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons";
/// Claude Code's message for an empty prompt.
pub const NO_INPUT: &str =
    "Error: Input must be provided either through stdin or as a prompt argument when using --print";
pub const ONLY_PRINT: &str = "__simulate-agent: only batch mode (-p, --print) is simulated";

/// Shortest and longest simulated work time.
const MIN_DELAY_MS: u64 = 400;
const MAX_DELAY_MS: u64 = 1500;

/// `Create file: src/cart.js`, as a line of the task body or a table field
/// (`- Create file: \`src/cart.js\``); list markers and backticks allowed.
static FAILED_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^FAIL (\S+): ").expect("valid regex"));

static CREATE_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?mi)^[\s>*+|-]*create file\s*:\s*`?([^`\s|]+)`?").expect("valid regex")
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    StreamJson,
}

/// What the process knows about its surroundings.
#[derive(Debug, Clone, Default)]
pub struct AgentEnv {
    pub task_id: Option<String>,
    pub task_title: Option<String>,
    /// `ROADMAP_GROUP`: `D`, or `D:D1/1:A` in a sub-roadmap.
    pub group: Option<String>,
    /// `ROADMAP_RUNNER_SPLIT_FILE`: where a sub-roadmap may be written.
    pub split_file: Option<PathBuf>,
    pub is_root: bool,
    /// `IS_SANDBOX=1`.
    pub sandbox: bool,
}

impl AgentEnv {
    pub fn from_process() -> AgentEnv {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        AgentEnv {
            task_id: var("ROADMAP_TASK_ID"),
            task_title: var("ROADMAP_TASK_TITLE"),
            group: var("ROADMAP_GROUP"),
            split_file: var(crate::agent::command::SPLIT_FILE_ENV).map(PathBuf::from),
            is_root: crate::exec::unix::running_as_root(),
            sandbox: std::env::var_os("IS_SANDBOX").is_some_and(|v| v == "1"),
        }
    }
}

/// The options as Claude Code checks them: `Err` is the message (exit 1).
pub fn check_args(
    args: &SimulateAgentArgs,
    verbose: bool,
    env: &AgentEnv,
) -> Result<Format, &'static str> {
    if !args.print {
        return Err(ONLY_PRINT);
    }
    let format = match args.output_format.as_str() {
        "json" => Format::Json,
        "stream-json" => Format::StreamJson,
        _ => Format::Text,
    };
    if format == Format::StreamJson && !verbose {
        return Err(NEEDS_VERBOSE);
    }
    if args.dangerously_skip_permissions && env.is_root && !env.sandbox {
        return Err(ROOT_REFUSED);
    }
    Ok(format)
}

/// The files the prompt asks for, in order, without repeats: a task's
/// `Create file:` lines, or for a repair the files the gate output says
/// failed (`FAIL src/x.js: ...`).
pub fn files_in_prompt(prompt: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for cap in CREATE_FILE
        .captures_iter(prompt)
        .chain(FAILED_FILE.captures_iter(prompt))
    {
        let path = cap[1].trim_end_matches(['.', ',', ';']).to_string();
        if !path.is_empty() && !files.contains(&path) {
            files.push(path);
        }
    }
    files
}

/// A relative path that stays inside the working directory.
pub fn safe_relative(path: &str) -> Result<PathBuf, String> {
    let p = Path::new(path);
    let inside = p
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if path.is_empty() || !inside {
        return Err(format!(
            "`{path}` is not a path inside the project (absolute or with `..`): nothing written"
        ));
    }
    Ok(p.to_path_buf())
}

/// What to write at `path`: the demo's planned content (a task's first
/// draft where the demo plans one; a repair agent writes it right), else a
/// small stub that says which task made it.
pub fn content_for(path: &str, task_id: &str, title: &str) -> String {
    if let Some(f) = planned_file(path) {
        let repair = task_id.starts_with("repair-");
        return f
            .first_draft
            .filter(|_| !repair)
            .unwrap_or(f.content)
            .to_string();
    }
    let what = format!("{title} (task {task_id}), written by roadmap-runner's simulated agent");
    let ext = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    match ext {
        "js" | "mjs" | "ts" | "tsx" | "jsx" => format!("// {what}.\nexport {{}};\n"),
        "rs" | "c" | "h" | "cpp" | "go" | "java" | "kt" | "swift" | "css" => {
            format!("// {what}.\n")
        }
        "md" => format!("# {title}\n\n{what}.\n"),
        "html" => format!("<!-- {what}. -->\n"),
        "json" => format!("{{\"task\": {}}}\n", json!(task_id)),
        _ => format!("# {what}.\n"),
    }
}

/// The process entry point: exit code.
pub fn main(args: &SimulateAgentArgs, verbose: bool) -> i32 {
    let env = AgentEnv::from_process();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(stderr, "Error: cannot read the working directory: {e}");
            return 1;
        }
    };
    let mut stdin = std::io::stdin().lock();
    // An output error is a closed stdout (the runner went away): nothing
    // left to tell, exit 1.
    simulate(
        args,
        verbose,
        &env,
        &mut stdin,
        &mut stdout,
        &mut stderr,
        &cwd,
    )
    .unwrap_or(1)
}

/// One simulated agent run in `cwd`: exit code, or an output error.
pub fn simulate(
    args: &SimulateAgentArgs,
    verbose: bool,
    env: &AgentEnv,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
    cwd: &Path,
) -> std::io::Result<i32> {
    let started = Instant::now();
    let format = match check_args(args, verbose, env) {
        Ok(f) => f,
        Err(message) => {
            writeln!(err, "{message}")?;
            return Ok(1);
        }
    };
    let prompt = match &args.prompt {
        Some(p) => p.clone(),
        None => read_all(stdin)?,
    };
    if prompt.trim().is_empty() {
        writeln!(err, "{NO_INPUT}")?;
        return Ok(1);
    }
    let task = env.task_id.clone().unwrap_or_else(|| "the task".into());
    let title = env.task_title.clone().unwrap_or_else(|| task.clone());
    let seed = seed(&task);
    let session_id = args.resume.clone().unwrap_or_else(|| uuid_like(seed));
    let model = args.model.clone().unwrap_or_else(|| MODEL.into());
    let mut s = Stream {
        format,
        out,
        session_id,
        model,
        turns: 0,
        seed,
    };
    s.init(cwd)?;
    s.text(&format!("Working on {task}: {title}…"))?;

    let delay = Duration::from_millis(MIN_DELAY_MS + seed % (MAX_DELAY_MS - MIN_DELAY_MS + 1));
    std::thread::sleep(delay.mul_f64(0.6));
    let splits = split::is_split_task(env.group.as_deref(), env.task_id.as_deref());
    if let (true, Some(file)) = (splits, &env.split_file) {
        return write_plan(&mut s, file, &task, started);
    }
    let mut files = files_in_prompt(&prompt);
    if splits {
        // Not offered the split file: the whole plan in this one session.
        for f in split::plan_files() {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    let (written, failure) = write_files(&mut s, &files, cwd, &task, &title)?;
    std::thread::sleep(delay.mul_f64(0.4));

    let duration_ms = started.elapsed().as_millis() as u64;
    if let Some(message) = failure {
        s.text(&format!("I could not complete {task}: {message}"))?;
        s.result(false, &format!("{task} failed: {message}"), duration_ms)?;
        return Ok(1);
    }
    let summary = if written.is_empty() {
        format!(
            "{task}: nothing to write (the task names no file on a `Create file: <path>` line)."
        )
    } else {
        format!("{task}: created {}.", written.join(", "))
    };
    s.text(&summary)?;
    s.result(true, &summary, duration_ms)?;
    Ok(0)
}

/// The task is more than one session's work: its plan, written where the
/// runner asked, instead of the code (exit 0, as Claude Code ends a turn).
fn write_plan(
    s: &mut Stream<'_>,
    file: &Path,
    task: &str,
    started: Instant,
) -> std::io::Result<i32> {
    let tool_id = s.tool_use(
        "Write",
        json!({"file_path": file.display().to_string(), "content": split::PLAN}),
    )?;
    let result = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(file, split::PLAN));
    let duration_ms = started.elapsed().as_millis() as u64;
    if let Err(e) = result {
        let message = format!("cannot write {}: {e}", file.display());
        s.tool_result(&tool_id, &message, true)?;
        s.result(false, &format!("{task} failed: {message}"), duration_ms)?;
        return Ok(1);
    }
    s.tool_result(
        &tool_id,
        &format!("File created successfully at: {}", file.display()),
        false,
    )?;
    let summary = format!(
        "{task} is more than one session's work: I wrote a plan of {} smaller tasks to {} instead, and stopped.",
        split::plan_files().len(),
        file.display()
    );
    s.text(&summary)?;
    s.result(true, &summary, duration_ms)?;
    Ok(0)
}

fn read_all(stdin: &mut dyn Read) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    stdin.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes each file the prompt names, as Write tool calls in the stream:
/// the paths written, and the first failure (which ends the writing).
fn write_files(
    s: &mut Stream<'_>,
    files: &[String],
    cwd: &Path,
    task: &str,
    title: &str,
) -> std::io::Result<(Vec<String>, Option<String>)> {
    let mut written = Vec::new();
    for path in files {
        let rel = match safe_relative(path) {
            Ok(rel) => rel,
            Err(message) => return Ok((written, Some(message))),
        };
        let full = cwd.join(&rel);
        let content = content_for(path, task, title);
        let tool_id = s.tool_use(
            "Write",
            json!({"file_path": full.display().to_string(), "content": content}),
        )?;
        let result = full
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&full, &content));
        match result {
            Ok(()) => {
                s.tool_result(
                    &tool_id,
                    &format!("File created successfully at: {}", full.display()),
                    false,
                )?;
                written.push(path.clone());
            }
            Err(e) => {
                let message = format!("cannot write {}: {e}", full.display());
                s.tool_result(&tool_id, &message, true)?;
                return Ok((written, Some(message)));
            }
        }
    }
    Ok((written, None))
}
