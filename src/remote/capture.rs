//! The CLI's commands run in memory: the same functions `main` calls, with an
//! [`Io`] on two buffers, and their `--json` output returned as it is.

use super::options::RunOptions;
use super::{RemoteError, Target};
use crate::cli::{LogsArgs, RollbackArgs, SkipArgs, StatusArgs, ValidateArgs};
use crate::commands::{self, CommandError, Io};
use crate::config::RunRequest;
use crate::roadmap::{GroupKey, is_id};
use serde::Serialize;
use serde_json::Value;

/// What a command printed, and how it ended.
struct Captured {
    result: Result<i32, CommandError>,
    out: String,
    err: String,
}

fn capture(f: impl FnOnce(Io<'_>) -> Result<i32, CommandError>) -> Captured {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = f(Io {
        out: &mut out,
        err: &mut err,
    });
    Captured {
        result,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

impl Captured {
    /// The error the CLI would print: the typed error, else what went to stderr.
    fn error(self) -> RemoteError {
        match self.result {
            Err(e) => RemoteError::Command {
                exit_code: e.exit_code(),
                message: e.to_string(),
            },
            Ok(code) => RemoteError::Command {
                exit_code: code,
                message: message_alone(&self.err),
            },
        }
    }

    /// The `--json` document; a command that printed one answered, whatever
    /// its exit code (`validate` of a roadmap with errors exits 4).
    fn json(self) -> Result<Value, RemoteError> {
        match (&self.result, serde_json::from_str::<Value>(&self.out)) {
            (Ok(_), Ok(doc)) => Ok(doc),
            _ => Err(self.error()),
        }
    }

    /// What went to stdout, for a command that exited 0.
    fn text(self) -> Result<String, RemoteError> {
        match self.result {
            Ok(0) => Ok(self.out),
            _ => Err(self.error()),
        }
    }
}

/// `status --json`.
pub fn status(t: &Target) -> Result<Value, RemoteError> {
    let args = StatusArgs {
        json: true,
        all: true,
    };
    capture(|io| commands::status::run(&t.project, &args, io)).json()
}

/// `validate --json`, passed through as it is.
pub fn validate(t: &Target) -> Result<Value, RemoteError> {
    let args = ValidateArgs {
        json: true,
        write: false,
    };
    capture(|io| commands::validate::run(&t.project, &args, io)).json()
}

/// `run --dry-run --json` with these options: the plan.
pub fn plan(t: &Target, opts: &RunOptions) -> Result<Value, RemoteError> {
    let request = RunRequest {
        dry_run: true,
        json: true,
        ..opts.to_request()?
    };
    capture(|io| commands::run::run(&t.project, &request, false, io)).json()
}

/// What a run with these options would refuse before it starts (the dry
/// run's checks): `Ok` when it may start.
pub fn check_run(t: &Target, opts: &RunOptions) -> Result<(), RemoteError> {
    let request = opts.to_request()?;
    let captured = capture(|io| commands::run::check(&t.project, &request, io));
    match captured.result {
        Ok(crate::exit::OK) => Ok(()),
        _ => Err(captured.error()),
    }
}

/// A command's stderr as a message: each line without the log prefix
/// (`2026-12-03 11:23:25 error: `) the CLI puts on its errors.
pub fn message_alone(stderr: &str) -> String {
    stderr
        .trim()
        .lines()
        .map(|line| {
            let rest = match line.get(..20) {
                Some(stamp) if is_timestamp(stamp) => &line[20..],
                _ => line,
            };
            rest.strip_prefix("error: ").unwrap_or(rest)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `2026-12-03 11:23:25 `: digits where the clock has them.
fn is_timestamp(s: &str) -> bool {
    s.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 | 19 => b == b' ',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    })
}

/// A task's (or, with `task` = `gate`, a group's gate) latest log, readable.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LogTail {
    /// `1:A:A1`.
    pub target: String,
    /// The last `tail` lines of `logs N:X:ID`.
    pub text: String,
    /// Lines left out before them.
    pub omitted_lines: usize,
}

pub fn task_log(
    t: &Target,
    phase: &str,
    group: &str,
    task: &str,
    tail: usize,
) -> Result<LogTail, RemoteError> {
    let key = group_key(&format!("{phase}:{group}"))?;
    if !is_id(task) {
        return Err(RemoteError::BadRequest(format!(
            "`{task}` is not a task id (letters, digits, `.`, `-`, `_`)"
        )));
    }
    let target = key.task_ref(task);
    let args = LogsArgs {
        target: target.clone(),
        follow: false,
        raw: false,
    };
    let captured = capture(|io| commands::logs::run(&t.project, &args, io));
    if matches!(captured.result, Ok(commands::logs::NOT_FOUND)) {
        return Err(RemoteError::NotFound(captured.err.trim().to_string()));
    }
    let text = captured.text()?;
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(tail);
    Ok(LogTail {
        target,
        text: lines[from..].join("\n"),
        omitted_lines: from,
    })
}

/// What `skip` or `rollback` printed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Edited {
    pub group: String,
    pub message: String,
}

pub fn skip(t: &Target, group: &str) -> Result<Edited, RemoteError> {
    let key = group_key(group)?;
    let args = SkipArgs {
        group: group.to_string(),
    };
    let text = capture(|io| commands::edit::skip(&t.project, &args, io)).text()?;
    Ok(edited(&key, text))
}

pub fn rollback(t: &Target, group: &str, delete_report: bool) -> Result<Edited, RemoteError> {
    let key = group_key(group)?;
    let args = RollbackArgs {
        group: group.to_string(),
        delete_report,
    };
    let text = capture(|io| commands::edit::rollback(&t.project, &args, io)).text()?;
    Ok(edited(&key, text))
}

fn edited(key: &GroupKey, text: String) -> Edited {
    Edited {
        group: format!("{}:{}", key.phase, key.group),
        message: text.trim().to_string(),
    }
}

/// `N:X` checked before it reaches a command (or a file name).
pub fn group_key(given: &str) -> Result<GroupKey, RemoteError> {
    GroupKey::parse_cli(given).ok_or_else(|| {
        RemoteError::BadRequest(format!("`{given}`: expected PHASE:GROUP, e.g. `1:B`"))
    })
}

#[cfg(test)]
mod tests {
    use super::message_alone;

    #[test]
    fn the_log_prefix_is_not_part_of_the_message() {
        assert_eq!(
            message_alone("2026-12-03 11:23:25 error: another roadmap-runner holds the lock\n"),
            "another roadmap-runner holds the lock"
        );
        assert_eq!(message_alone("error: bad\n  at line 2"), "bad\n  at line 2");
        assert_eq!(
            message_alone("2026-12-03 is the date"),
            "2026-12-03 is the date"
        );
    }
}
