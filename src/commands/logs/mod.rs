//! `roadmap-runner logs N:X[:ID] [--follow] [--raw]`: the latest log of a
//! task (or a group's gate), readable, optionally followed as it grows.
//!
//! Logs live in `logs/orchestrator/`:
//! `phase<N>_group<X>_<ID>_<YYYYmmdd-HHMMSS>[-<n>].log` for agents (`-<n>` when
//! a second attempt started in the same second) and
//! `phase<N>_group<X>_gate_<YYYYmmdd-HHMMSS>[-<n>].log` for gates. The latest
//! is the one with the latest timestamp, then the highest `-<n>`.
//!
//! `--follow` keeps printing what is appended (the file is polled every
//! 200 ms) while `status/in_progress_tasks.txt` lists the task (for a gate
//! log: the group) with a live process, until the agent's final
//! `{"type":"result"}` line, or until Ctrl-C (exit 0).

use super::{CommandError, Io};
use crate::cli::LogsArgs;
use crate::project::Project;
use crate::report::readable::{Readable, is_result_line};
use crate::roadmap::{GroupKey, slug};
use crate::status::{InProgress, StatusDir, process_alive};
use regex::Regex;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

/// The exit code when there is no such log.
pub const NOT_FOUND: i32 = 1;
/// How often `--follow` looks at the file and the status.
pub const POLL: Duration = Duration::from_millis(200);

/// Whose log: one task's, or a group's gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Task { key: GroupKey, task: String },
    Gate { key: GroupKey },
}

impl LogTarget {
    /// `1:A:A1`, `PHASE_1:A:A1` (a task), `1:A`, `1:A:gate` (the gate).
    pub fn parse(s: &str) -> Option<LogTarget> {
        if s.contains('/') {
            return Self::parse_scoped(s.trim());
        }
        let parts: Vec<&str> = s.trim().split(':').map(str::trim).collect();
        match parts.as_slice() {
            [phase, group] => Some(LogTarget::Gate {
                key: GroupKey::parse_cli(&format!("{phase}:{group}"))?,
            }),
            [phase, group, id] => {
                let key = GroupKey::parse_cli(&format!("{phase}:{group}"))?;
                if id.eq_ignore_ascii_case("gate") {
                    return Some(LogTarget::Gate { key });
                }
                crate::roadmap::is_id(id).then(|| LogTarget::Task {
                    key,
                    task: id.to_string(),
                })
            }
            _ => None,
        }
    }

    /// A sub-roadmap's task `1:B:B2/1:A:A1` or group `1:B:B2/1:A`.
    fn parse_scoped(s: &str) -> Option<LogTarget> {
        if let Some(key) = GroupKey::parse_cli(s) {
            return Some(LogTarget::Gate { key });
        }
        let (group, id) = s.rsplit_once(':')?;
        let key = GroupKey::parse_cli(group)?;
        if id.eq_ignore_ascii_case("gate") {
            return Some(LogTarget::Gate { key });
        }
        crate::roadmap::is_id(id).then(|| LogTarget::Task {
            key,
            task: id.to_string(),
        })
    }

    pub fn key(&self) -> &GroupKey {
        match self {
            LogTarget::Task { key, .. } | LogTarget::Gate { key } => key,
        }
    }

    /// The id part of the file name: the task id, or `gate`.
    fn id(&self) -> &str {
        match self {
            LogTarget::Task { task, .. } => task,
            LogTarget::Gate { .. } => "gate",
        }
    }
}

impl std::fmt::Display for LogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogTarget::Task { key, task } => write!(f, "{key}:{task}"),
            LogTarget::Gate { key } => write!(f, "the gate of {key}"),
        }
    }
}

/// One log file's name, taken apart. Its parts are slugs of the ids
/// ([`crate::roadmap::slug`]), which never hold `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogName {
    pub phase: String,
    pub group: String,
    /// The task id's slug, or `gate`.
    pub id: String,
    /// `20260109-212750`: sorts as time.
    pub stamp: String,
    /// 1, or the `-<n>` suffix.
    pub n: u32,
}

static LOG_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^phase([^_]+)_group([^_]+)_([^_]+)_(\d{8}-\d{6})(?:-(\d+))?\.log$")
        .expect("log name regex")
});

impl LogName {
    pub fn parse(file_name: &str) -> Option<LogName> {
        let c = LOG_NAME.captures(file_name)?;
        Some(LogName {
            phase: c[1].to_string(),
            group: c[2].to_string(),
            id: c[3].to_string(),
            stamp: c[4].to_string(),
            n: c.get(5).map_or(Some(1), |m| m.as_str().parse().ok())?,
        })
    }

    fn is_for(&self, key: &GroupKey) -> bool {
        self.phase.eq_ignore_ascii_case(&slug(key.phase.as_str()))
            && self.group.eq_ignore_ascii_case(&slug(&key.group))
    }

    fn is_of(&self, target: &LogTarget) -> bool {
        self.is_for(target.key()) && self.id.eq_ignore_ascii_case(&slug(target.id()))
    }
}

/// The logs in `dir` of one group (tasks and gate), oldest first.
pub fn group_logs(dir: &Path, key: &GroupKey) -> std::io::Result<Vec<(LogName, PathBuf)>> {
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().and_then(LogName::parse) else {
            continue;
        };
        if name.is_for(key) {
            logs.push((name, entry.path()));
        }
    }
    logs.sort_by(|(a, pa), (b, pb)| (&a.stamp, a.n, &a.id, pa).cmp(&(&b.stamp, b.n, &b.id, pb)));
    Ok(logs)
}

/// The latest log of `target` in `dir`: latest timestamp, then highest `-<n>`.
pub fn latest_log(dir: &Path, target: &LogTarget) -> std::io::Result<Option<PathBuf>> {
    Ok(group_logs(dir, target.key())?
        .into_iter()
        .rev()
        .find(|(name, _)| name.is_of(target))
        .map(|(_, path)| path))
}

pub fn run(project: &Project, args: &LogsArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let target = LogTarget::parse(&args.target).ok_or_else(|| {
        CommandError::Usage(format!(
            "`{}` is not a task or group: write N:X:ID for a task's log (e.g. `1:A:A1`) or N:X for a group's gate log (e.g. `1:A`)",
            args.target
        ))
    })?;
    let dir = project.orchestrator_logs();
    let found = latest_log(&dir, &target);
    // No log, and the roadmap has no such task: say that, not "no log".
    if !matches!(found, Ok(Some(_)))
        && let Some(message) = not_in_roadmap(project, &target)
    {
        writeln!(io.err, "error: {message}")?;
        return Ok(NOT_FOUND);
    }
    let path = match found {
        Ok(Some(path)) => path,
        Ok(None) => {
            not_found(&dir, &target, io.err)?;
            return Ok(NOT_FOUND);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            writeln!(
                io.err,
                "error: no log for {target}: {} does not exist (no run has written logs in this project yet)",
                dir.display()
            )?;
            return Ok(NOT_FOUND);
        }
        Err(e) => {
            writeln!(io.err, "error: cannot read {}: {e}", dir.display())?;
            return Ok(NOT_FOUND);
        }
    };
    // Gate logs are plain text: shown as they are.
    let gate = matches!(target, LogTarget::Gate { .. });
    let mut printer = Printer::new(args.raw || gate, !gate);
    let mut file = File::open(&path)?;
    let code = if args.follow {
        let io = Io {
            out: &mut *io.out,
            err: &mut *io.err,
        };
        follow(project, &target, &path, &mut file, &mut printer, io)?
    } else {
        printer.copy_new(&mut file, io.out)?;
        printer.finish(io.out)?;
        crate::exit::OK
    };
    // Readable output ends with how the attempt ended (a log cut off by a
    // signal does not say it was); `--raw` stays the file as it is.
    if !args.raw
        && !gate
        && let Some(line) = ended_line(project, &path)
    {
        writeln!(io.out, "{line}")?;
    }
    io.out.flush()?;
    Ok(code)
}

/// `── ended: interrupted (attempt 1, 3.2s, $0.0123)`: the record of the
/// attempt that wrote `log`, when there is one.
fn ended_line(project: &Project, log: &Path) -> Option<String> {
    let name = log.file_name()?;
    let view = crate::status::RunView::load(&project.status).ok()?.view;
    let record = view.record_of_log(name)?;
    let mut parts = vec![
        format!("attempt {}", record.attempt),
        crate::text::short_duration(std::time::Duration::from_secs_f64(
            record.duration_secs.max(0.0),
        )),
    ];
    if let Some(c) = record.cost_usd {
        parts.push(crate::status::counts::usd(c));
    }
    Some(format!(
        "── ended: {} ({})",
        crate::status::report_md::outcome_detail(&record.outcome),
        parts.join(", ")
    ))
}

/// Why the roadmap has no such task or group, with what it has instead;
/// `None` when it has it (or there is no readable roadmap to ask).
fn not_in_roadmap(project: &Project, target: &LogTarget) -> Option<String> {
    let loaded = project.load_roadmap().ok()?;
    let key = target.key();
    // A sub-roadmap's group: its records and logs say what it has.
    if key.depth() > 0 {
        return (!crate::runner::split::is_sub_group(project, key))
            .then(|| format!("{key} is not a group of a kept sub-roadmap (status/sub/)"));
    }
    let Some((_, group)) = loaded.roadmap.group(key) else {
        let groups: Vec<String> = loaded
            .roadmap
            .groups()
            .filter(|(p, _)| p.number == key.phase)
            .map(|(p, g)| format!("{}:{}", p.number, g.id))
            .collect();
        let has = if groups.is_empty() {
            format!("it has no phase {}", key.phase)
        } else {
            format!(
                "the groups of phase {} are {}",
                key.phase,
                groups.join(", ")
            )
        };
        return Some(format!(
            "{} has no group {}:{}; {has}",
            loaded.display, key.phase, key.group
        ));
    };
    let LogTarget::Task { task, .. } = target else {
        return None;
    };
    if group.tasks.iter().any(|t| t.id.eq_ignore_ascii_case(task)) {
        return None;
    }
    let tasks: Vec<String> = group
        .tasks
        .iter()
        .map(|t| format!("  {}:{}:{}  {}", key.phase, key.group, t.id, t.title))
        .collect();
    Some(format!(
        "Phase {} Group {} of {} has no task {task}; its tasks:\n{}",
        key.phase,
        key.group,
        loaded.display,
        tasks.join("\n")
    ))
}

/// Tells what exists instead: the group's logs, or that there are none.
fn not_found(dir: &Path, target: &LogTarget, err: &mut dyn Write) -> std::io::Result<()> {
    writeln!(err, "error: no log for {target} in {}", dir.display())?;
    let logs = group_logs(dir, target.key()).unwrap_or_default();
    if logs.is_empty() {
        writeln!(err, "no logs of {} there", target.key())
    } else {
        writeln!(err, "logs of {} there:", target.key())?;
        for (_, path) in &logs {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            writeln!(err, "  {name}")?;
        }
        Ok(())
    }
}

/// Prints the log as it grows until the task ends; `Ok(0)` on Ctrl-C too.
fn follow(
    project: &Project,
    target: &LogTarget,
    path: &Path,
    file: &mut File,
    printer: &mut Printer,
    io: Io<'_>,
) -> Result<i32, CommandError> {
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = &project.status;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    rt.block_on(async {
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        loop {
            // The state first, the file second: whatever the task wrote
            // before it ended is printed before stopping.
            let running = running_state(status, target, &file_name);
            printer.copy_new(file, io.out)?;
            io.out.flush()?;
            if printer.saw_result {
                break;
            }
            match running {
                Running::Yes => {}
                Running::No => break,
                Running::NewerLog(log) => {
                    writeln!(
                        io.err,
                        "{target} started another attempt, logging to {log}: `roadmap-runner logs {} --follow` shows it",
                        args_form(target)
                    )?;
                    break;
                }
            }
            tokio::select! {
                _ = int.recv() => break,
                _ = term.recv() => break,
                _ = hup.recv() => break,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
        printer.finish(io.out)?;
        io.out.flush()?;
        Ok(crate::exit::OK)
    })
}

/// `1:A:A1` / `1:A`: how the command line names the target.
fn args_form(target: &LogTarget) -> String {
    match target {
        LogTarget::Task { key, task } => key.task_ref(task),
        LogTarget::Gate { key } => format!("{}:{}", key.phase, key.group),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Running {
    Yes,
    No,
    /// Listed, but writing another log (a retry started).
    NewerLog(String),
}

/// Whether `in_progress_tasks.txt` lists the task (for a gate: the group,
/// while its gate runs) with a process that is still there. A missing file
/// means nothing runs.
fn running_state(status: &StatusDir, target: &LogTarget, log_name: &str) -> Running {
    let Ok(ip) = InProgress::load(status) else {
        return Running::No;
    };
    let Some(group) = ip.group.as_ref().filter(|g| &g.key == target.key()) else {
        return Running::No;
    };
    match target {
        LogTarget::Gate { .. } => {
            if ip.gate.is_some() && process_alive(group.runner_pid, group.runner_pid_start) {
                Running::Yes
            } else {
                Running::No
            }
        }
        LogTarget::Task { task, .. } => {
            let Some(t) = ip
                .tasks
                .iter()
                .find(|t| t.task_id.eq_ignore_ascii_case(task))
            else {
                return Running::No;
            };
            // A task on a worker has no process here: the run's stands for it.
            let alive = match t.worker {
                Some(_) => process_alive(group.runner_pid, group.runner_pid_start),
                None => process_alive(t.pid, t.pid_start),
            };
            if !alive {
                return Running::No;
            }
            let listed = t.log.as_deref().map(|log| {
                let name = Path::new(log)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                (log.to_string(), name)
            });
            match listed {
                Some((log, Some(name))) if name != log_name => Running::NewerLog(log),
                _ => Running::Yes,
            }
        }
    }
}

/// Turns bytes of the log into output: as they are (`raw`), or readable.
struct Printer {
    raw: bool,
    /// Stop following at the agent's `result` line (not for gate logs).
    watch_result: bool,
    readable: Readable,
    partial: Vec<u8>,
    pos: u64,
    saw_result: bool,
}

impl Printer {
    fn new(raw: bool, watch_result: bool) -> Self {
        Printer {
            raw,
            watch_result,
            readable: Readable::new(),
            partial: Vec::new(),
            pos: 0,
            saw_result: false,
        }
    }

    /// Prints what was appended since the last call (all of it the first
    /// time); a file that shrank was rewritten and is read again.
    fn copy_new(&mut self, file: &mut File, out: &mut dyn Write) -> std::io::Result<()> {
        let len = file.metadata()?.len();
        if len < self.pos {
            self.pos = 0;
            self.partial.clear();
        }
        file.seek(SeekFrom::Start(self.pos))?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        self.pos += buf.len() as u64;
        self.feed(&buf, out)
    }

    fn feed(&mut self, bytes: &[u8], out: &mut dyn Write) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.raw {
            out.write_all(bytes)?;
            if !self.watch_result {
                return Ok(());
            }
        }
        self.partial.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(i) = self.partial[start..].iter().position(|&b| b == b'\n') {
            let end = start + i;
            let line = String::from_utf8_lossy(&self.partial[start..end]).into_owned();
            self.line(&line, out)?;
            start = end + 1;
        }
        self.partial.drain(..start);
        Ok(())
    }

    fn line(&mut self, line: &str, out: &mut dyn Write) -> std::io::Result<()> {
        if self.watch_result && is_result_line(line) {
            self.saw_result = true;
        }
        if !self.raw
            && let Some(text) = self.readable.line(line)
        {
            writeln!(out, "{text}")?;
        }
        Ok(())
    }

    /// The last line when it has no newline (yet).
    fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.partial.is_empty() {
            let line = String::from_utf8_lossy(&self.partial).into_owned();
            self.partial.clear();
            self.line(&line, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
