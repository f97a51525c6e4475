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
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// The output in the chosen format.
struct Stream<'a> {
    format: Format,
    out: &'a mut dyn Write,
    session_id: String,
    model: String,
    turns: u64,
    seed: u64,
}

impl Stream<'_> {
    fn emit(&mut self, event: &Value) -> std::io::Result<()> {
        if self.format != Format::StreamJson {
            return Ok(());
        }
        writeln!(self.out, "{event}")?;
        self.out.flush()
    }

    fn init(&mut self, cwd: &Path) -> std::io::Result<()> {
        let event = json!({
            "type": "system",
            "subtype": "init",
            "cwd": cwd.display().to_string(),
            "session_id": self.session_id,
            "tools": ["Bash", "Glob", "Grep", "Read", "Edit", "Write", "TodoWrite"],
            "mcp_servers": [],
            "model": self.model,
            "permissionMode": "bypassPermissions",
            "apiKeySource": "none",
            "claude_code_version": VERSION,
            "output_style": "default",
            "uuid": uuid_like(self.next_seed()),
        });
        self.emit(&event)
    }

    fn assistant(&mut self, content: Value) -> std::io::Result<()> {
        self.turns += 1;
        let event = json!({
            "type": "assistant",
            "message": {
                "id": format!("msg_{}", self.hex_id()),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": content,
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": 8, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 4200, "output_tokens": 60,
                          "service_tier": "standard"},
            },
            "parent_tool_use_id": null,
            "session_id": self.session_id,
            "uuid": uuid_like(self.next_seed()),
        });
        self.emit(&event)
    }

    fn text(&mut self, text: &str) -> std::io::Result<()> {
        self.assistant(json!([{"type": "text", "text": text}]))
    }

    /// A `tool_use` block; returns its id.
    fn tool_use(&mut self, name: &str, input: Value) -> std::io::Result<String> {
        let id = format!("toolu_{}", self.hex_id());
        self.assistant(json!([{"type": "tool_use", "id": id, "name": name, "input": input}]))?;
        Ok(id)
    }

    fn tool_result(&mut self, id: &str, content: &str, is_error: bool) -> std::io::Result<()> {
        let mut block = json!({"tool_use_id": id, "type": "tool_result", "content": content});
        if is_error {
            block["is_error"] = json!(true);
        }
        let event = json!({
            "type": "user",
            "message": {"role": "user", "content": [block]},
            "parent_tool_use_id": null,
            "session_id": self.session_id,
            "uuid": uuid_like(self.next_seed()),
        });
        self.emit(&event)
    }

    /// The last event (or, in `json`/`text` format, the only output).
    fn result(&mut self, success: bool, text: &str, duration_ms: u64) -> std::io::Result<()> {
        let seed = self.seed;
        // A plausible small cost: $0.0080–$0.0479.
        let cost = (80 + seed % 400) as f64 / 10_000.0;
        let event = json!({
            "type": "result",
            "subtype": if success { "success" } else { "error_during_execution" },
            "is_error": !success,
            "duration_ms": duration_ms,
            "duration_api_ms": duration_ms.saturating_sub(40),
            "num_turns": self.turns.max(1),
            "result": text,
            "session_id": self.session_id,
            "total_cost_usd": cost,
            "usage": {
                "input_tokens": 6 + seed % 20,
                "cache_creation_input_tokens": 1800 + (seed >> 8) % 900,
                "cache_read_input_tokens": 11_000 + (seed >> 16) % 6000,
                "output_tokens": 250 + (seed >> 24) % 500,
                "server_tool_use": {"web_search_requests": 0},
                "service_tier": "standard",
            },
            "permission_denials": [],
            "uuid": uuid_like(self.next_seed()),
        });
        match self.format {
            Format::StreamJson => self.emit(&event),
            Format::Json => {
                writeln!(self.out, "{event}")?;
                self.out.flush()
            }
            Format::Text => {
                writeln!(self.out, "{text}")?;
                self.out.flush()
            }
        }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed = mix(self.seed);
        self.seed
    }

    /// 24 hex digits, as in `msg_…` and `toolu_…` ids.
    fn hex_id(&mut self) -> String {
        let (a, b) = (self.next_seed(), self.next_seed());
        format!("{:016x}{:08x}", a, b >> 32)
    }
}

/// A seed from the task id, the clock and the pid: parallel agents differ.
fn seed(task: &str) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // FNV-1a over the task id, then the clock and pid mixed in.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in task.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    mix(h ^ nanos ^ (u64::from(std::process::id()) << 32))
}

/// splitmix64's finaliser: a well-spread next value.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random-looking (version 4 shaped) UUID from a seed.
fn uuid_like(seed: u64) -> String {
    // Offset so that a uuid never repeats the bits of the next seed.
    let a = mix(seed ^ 0xa5a5_a5a5_a5a5_a5a5);
    let b = mix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::stream_json::StreamObserver;

    fn args(format: &str) -> SimulateAgentArgs {
        SimulateAgentArgs {
            print: true,
            output_format: format.into(),
            dangerously_skip_permissions: true,
            ..Default::default()
        }
    }

    fn env(task: &str) -> AgentEnv {
        AgentEnv {
            task_id: Some(task.into()),
            task_title: Some("Cart".into()),
            ..AgentEnv::default()
        }
    }

    #[test]
    fn refusals_match_claude_code() {
        let e = env("C1");
        assert_eq!(
            check_args(&args("stream-json"), false, &e),
            Err(NEEDS_VERBOSE)
        );
        assert_eq!(
            check_args(&args("stream-json"), true, &e),
            Ok(Format::StreamJson)
        );
        assert_eq!(check_args(&args("text"), false, &e), Ok(Format::Text));
        let no_print = SimulateAgentArgs {
            print: false,
            ..args("text")
        };
        assert_eq!(check_args(&no_print, false, &e), Err(ONLY_PRINT));
        let root = AgentEnv {
            is_root: true,
            ..env("C1")
        };
        assert_eq!(check_args(&args("json"), false, &root), Err(ROOT_REFUSED));
        let sandbox = AgentEnv {
            sandbox: true,
            ..root
        };
        assert_eq!(check_args(&args("json"), false, &sandbox), Ok(Format::Json));
    }

    #[test]
    fn create_file_lines_in_bodies_and_table_fields() {
        let prompt = "## Task details\n\n- Create file: `src/catalog.js`\n- Notes: x\n\n\
                      Create file: src/cart.js\n  - create file: `src/pages/cart.js`.\n\
                      Create file: src/cart.js\nWe never create file: here.txt mid-line\n";
        assert_eq!(
            files_in_prompt(prompt),
            ["src/catalog.js", "src/cart.js", "src/pages/cart.js"]
        );
        assert!(files_in_prompt("no files").is_empty());
    }

    #[test]
    fn paths_must_stay_inside() {
        assert!(safe_relative("src/a.js").is_ok());
        assert!(safe_relative("./a.js").is_ok());
        assert!(safe_relative("/etc/passwd").is_err());
        assert!(safe_relative("../x").is_err());
        assert!(safe_relative("src/../../x").is_err());
    }

    #[test]
    fn content_is_the_plan_or_a_stub() {
        assert_eq!(
            content_for("src/cart.js", "C1", "Cart"),
            planned_file("src/cart.js").unwrap().content
        );
        let stub = content_for("lib/x.rs", "Z9", "Other");
        assert!(stub.starts_with("// Other (task Z9)"), "{stub}");
    }

    #[test]
    fn a_run_writes_the_files_and_reads_as_a_success() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let prompt = "# Your task: C1 — Cart\n\nCreate file: `src/cart.js`\n";
        let code = simulate(
            &args("stream-json"),
            true,
            &env("C1"),
            &mut prompt.as_bytes(),
            &mut out,
            &mut err,
            dir.path(),
        )
        .unwrap();
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
        let written = std::fs::read_to_string(dir.path().join("src/cart.js")).unwrap();
        assert_eq!(written, planned_file("src/cart.js").unwrap().content);

        let text = String::from_utf8(out).unwrap();
        let mut observer = StreamObserver::new();
        let mut types = Vec::new();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            types.push(v["type"].as_str().unwrap().to_string());
            observer.observe(line);
        }
        assert_eq!(
            types,
            [
                "system",
                "assistant",
                "assistant",
                "user",
                "assistant",
                "result"
            ]
        );
        let result = observer.result().expect("a result event");
        assert!(!result.is_error);
        assert!(result.total_cost_usd.unwrap() > 0.0);
        assert_eq!(result.num_turns, Some(3));
        assert!(result.result.as_deref().unwrap().contains("src/cart.js"));
        assert_eq!(observer.session_id(), result.session_id.as_deref());
    }

    /// D1 writes its plan where the runner asks, and no code; without the
    /// variable it writes every file of the plan itself.
    #[test]
    fn the_split_task_writes_its_plan_only_when_offered_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("status/sub/2+3AD+3AD1.md");
        let prompt = "# Your task: D1 — Checkout\n\nCreate file: `src/checkout.js`\n";
        let run = |env: &AgentEnv| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = simulate(
                &args("stream-json"),
                true,
                env,
                &mut prompt.as_bytes(),
                &mut out,
                &mut err,
                dir.path(),
            )
            .unwrap();
            (code, String::from_utf8(out).unwrap())
        };
        let offered = AgentEnv {
            group: Some("D".into()),
            split_file: Some(plan.clone()),
            ..env("D1")
        };
        let (code, out) = run(&offered);
        assert_eq!(code, 0, "{out}");
        assert_eq!(std::fs::read_to_string(&plan).unwrap(), split::PLAN);
        assert!(!dir.path().join("src/checkout.js").exists());
        assert!(out.contains("a plan of 3 smaller tasks"), "{out}");

        let not_offered = AgentEnv {
            split_file: None,
            ..offered
        };
        let (code, out) = run(&not_offered);
        assert_eq!(code, 0, "{out}");
        for f in split::plan_files() {
            let written = std::fs::read_to_string(dir.path().join(&f)).unwrap();
            assert_eq!(written, planned_file(&f).unwrap().content, "{f}");
        }
    }

    #[test]
    fn a_path_outside_the_project_is_an_error_result() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let code = simulate(
            &args("json"),
            false,
            &env("X1"),
            &mut "Create file: ../escape.txt".as_bytes(),
            &mut out,
            &mut Vec::new(),
            dir.path(),
        )
        .unwrap();
        assert_eq!(code, 1);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["is_error"], true);
        assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    }

    #[test]
    fn uuids_look_like_uuids() {
        let u = uuid_like(42);
        assert_eq!(u.len(), 36);
        assert_eq!(u.matches('-').count(), 4);
        assert_ne!(uuid_like(1), uuid_like(2));
    }
}
