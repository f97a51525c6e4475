//! The agent's command line: argv from the settings, the prompt on stdin, the
//! task described in the environment. Never through a shell: roadmap text
//! and task titles are data, not shell code.

use crate::config::AgentSettings;
use crate::exec::{ProcessSpec, StdinSource};
use crate::roadmap::PhaseId;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

/// Placeholder in `resume_args` replaced by the session id.
pub const SESSION_ID_PLACEHOLDER: &str = "{session_id}";

/// Which task an agent process works on, exported to it (and to anything it
/// runs, hooks included) as `ROADMAP_*` environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEnv {
    pub phase: PhaseId,
    pub group: String,
    pub task_id: String,
    pub task_title: String,
    /// The task's log file (the agent's output as the runner records it).
    pub log_file: PathBuf,
    /// Where the agent may write a sub-roadmap instead of doing the task
    /// (`ROADMAP_RUNNER_SPLIT_FILE`); `None` at the depth limit.
    pub split_file: Option<PathBuf>,
}

/// The variable naming the file a task agent may write a sub-roadmap to.
pub const SPLIT_FILE_ENV: &str = "ROADMAP_RUNNER_SPLIT_FILE";

impl TaskEnv {
    /// The `ROADMAP_*` variables, in a fixed order.
    pub fn vars(&self) -> Vec<(OsString, OsString)> {
        let split =
            (self.split_file.iter()).map(|f| (SPLIT_FILE_ENV.into(), f.clone().into_os_string()));
        let mut vars = vec![
            ("ROADMAP_PHASE".into(), self.phase.to_string().into()),
            ("ROADMAP_GROUP".into(), self.group.clone().into()),
            ("ROADMAP_TASK_ID".into(), self.task_id.clone().into()),
            ("ROADMAP_TASK_TITLE".into(), self.task_title.clone().into()),
            ("ROADMAP_LOG_FILE".into(), self.log_file.clone().into()),
        ];
        vars.extend(split);
        vars
    }
}

/// One agent process, ready to hand to `exec::run_process`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInvocation {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Added to the runner's environment: `agent.env` first, then the
    /// `ROADMAP_*` variables (which therefore cannot be overridden by mistake).
    pub env: Vec<(OsString, OsString)>,
    /// The prompt, written to the agent's stdin, which is then closed.
    pub stdin: Vec<u8>,
}

impl AgentInvocation {
    /// The process to run: in `cwd`, output logged to `log_path`, the prompt
    /// on stdin.
    pub fn into_spec(
        self,
        cwd: PathBuf,
        log_path: Option<PathBuf>,
        timeout: Option<Duration>,
        grace: Duration,
        leak_timeout: Duration,
    ) -> ProcessSpec {
        ProcessSpec {
            program: self.program,
            args: self.args,
            env: self.env,
            cwd,
            stdin: StdinSource::Bytes(self.stdin),
            log_path,
            timeout,
            grace,
            leak_timeout,
        }
    }
}

/// Builds the command line for one attempt at a task.
///
/// argv = `settings.command` + `settings.extra_args`, then, when resuming,
/// `settings.resume_args` with every `{session_id}` replaced. The prompt goes
/// on stdin (no argv length limit, nothing visible in `ps`).
pub fn build_invocation(
    settings: &AgentSettings,
    prompt: &str,
    resume_session: Option<&str>,
    task_env: &TaskEnv,
) -> AgentInvocation {
    invocation_with_env(settings, prompt, resume_session, task_env.vars())
}

/// [`build_invocation`] for an agent that works on no task (one drafting a
/// roadmap): `vars` are added after `agent.env` instead of the task's.
pub fn invocation_with_env(
    settings: &AgentSettings,
    prompt: &str,
    resume_session: Option<&str>,
    vars: Vec<(OsString, OsString)>,
) -> AgentInvocation {
    let mut argv = settings.command.iter().map(OsString::from);
    let program = argv.next().unwrap_or_default();
    let mut args: Vec<OsString> = argv.collect();
    args.extend(settings.extra_args.iter().map(OsString::from));
    if let Some(cap) = settings.max_budget_usd {
        args.push("--max-budget-usd".into());
        args.push(format!("{cap}").into());
    }
    if let Some(session) = resume_session {
        args.extend(
            settings
                .resume_args
                .iter()
                .map(|a| OsString::from(a.replace(SESSION_ID_PLACEHOLDER, session))),
        );
    }

    let mut env: Vec<(OsString, OsString)> = settings
        .env
        .iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    env.extend(vars);

    AgentInvocation {
        program,
        args,
        env,
        stdin: prompt.as_bytes().to_vec(),
    }
}

/// Whether the invocation can resume sessions at all.
pub fn can_resume(settings: &AgentSettings) -> bool {
    !settings.resume_args.is_empty()
}

/// The argv as a shell command line, each word quoted only when needed, for
/// dry-run output: pasted into `sh`, it runs the same program with the same
/// arguments (the prompt then comes from the terminal).
pub fn display_command(inv: &AgentInvocation) -> String {
    std::iter::once(&inv.program)
        .chain(&inv.args)
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// POSIX-shell quoting: bare when only safe characters, otherwise single
/// quotes with `'` written as `'\''`.
pub fn shell_quote(word: &OsStr) -> String {
    crate::text::shell_quote(&word.to_string_lossy())
}

/// Claude Code refuses `--dangerously-skip-permissions` as root unless
/// `IS_SANDBOX=1` is set (cron on servers often runs as root). Checked before
/// any agent starts, so the run stops with the fix instead of failing every
/// task the same way. `process_env` is the runner's own `IS_SANDBOX`.
pub fn root_permission_problem(
    settings: &AgentSettings,
    is_root: bool,
    process_env: Option<&OsStr>,
) -> Option<String> {
    const FLAG: &str = "--dangerously-skip-permissions";
    let uses_flag = settings
        .command
        .iter()
        .chain(&settings.extra_args)
        .any(|a| a == FLAG);
    if !is_root || !uses_flag {
        return None;
    }
    let sandbox = match settings.env.get("IS_SANDBOX") {
        Some(v) => v == "1",
        None => process_env.is_some_and(|v| v == "1"),
    };
    if sandbox {
        return None;
    }
    Some(format!(
        "the agent runs as root with {FLAG}, which Claude Code refuses \
         (\"{FLAG} cannot be used with root/sudo privileges\"). Run the runner \
         as a normal user, or, if this machine is a disposable sandbox, set \
         IS_SANDBOX=1 (in the environment or in roadmap-runner.toml under \
         [agent.env])"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutputFormat;
    use std::collections::BTreeMap;

    fn settings() -> AgentSettings {
        AgentSettings {
            command: vec!["claude".into(), "-p".into(), "--verbose".into()],
            extra_args: vec!["--model".into(), "opus".into()],
            env: BTreeMap::from([("FOO".into(), "bar".into())]),
            prompt_template: None,
            output: OutputFormat::StreamJson,
            resume_args: vec!["--resume".into(), "{session_id}".into()],
            max_budget_usd: None,
        }
    }

    fn task_env() -> TaskEnv {
        TaskEnv {
            phase: 2.into(),
            group: "B".into(),
            task_id: "B3".into(),
            task_title: "Auth `$(rm -rf /)`".into(),
            log_file: "/tmp/logs/B3.log".into(),
            split_file: None,
        }
    }

    #[test]
    fn argv_env_and_stdin() {
        let inv = build_invocation(&settings(), "do it", None, &task_env());
        assert_eq!(inv.program, "claude");
        assert_eq!(inv.args, ["-p", "--verbose", "--model", "opus"]);
        assert_eq!(inv.stdin, b"do it");
        let env: Vec<_> = inv
            .env
            .iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        assert_eq!(
            env,
            [
                "FOO=bar",
                "ROADMAP_PHASE=2",
                "ROADMAP_GROUP=B",
                "ROADMAP_TASK_ID=B3",
                "ROADMAP_TASK_TITLE=Auth `$(rm -rf /)`",
                "ROADMAP_LOG_FILE=/tmp/logs/B3.log",
            ]
        );
    }

    #[test]
    fn resume_args_get_the_session() {
        let inv = build_invocation(&settings(), "continue", Some("abc-123"), &task_env());
        assert_eq!(
            inv.args,
            ["-p", "--verbose", "--model", "opus", "--resume", "abc-123"]
        );
        let mut s = settings();
        s.resume_args = vec!["--session={session_id}".into()];
        let inv = build_invocation(&s, "x", Some("s1"), &task_env());
        assert_eq!(inv.args.last().unwrap(), "--session=s1");
        s.resume_args.clear();
        assert!(!can_resume(&s));
        let inv = build_invocation(&s, "x", Some("s1"), &task_env());
        assert_eq!(inv.args.len(), 4);
    }

    #[test]
    fn display_quotes_for_the_shell() {
        let inv = AgentInvocation {
            program: "/usr/bin/claude".into(),
            args: vec![
                "-p".into(),
                "--append-system-prompt".into(),
                "it's a \"test\" $HOME".into(),
                "".into(),
                "a=b,c".into(),
            ],
            env: Vec::new(),
            stdin: Vec::new(),
        };
        assert_eq!(
            display_command(&inv),
            r#"/usr/bin/claude -p --append-system-prompt 'it'\''s a "test" $HOME' '' a=b,c"#
        );
    }

    #[test]
    fn root_check() {
        let mut s = settings();
        assert_eq!(root_permission_problem(&s, true, None), None);
        s.command.push("--dangerously-skip-permissions".into());
        assert_eq!(root_permission_problem(&s, false, None), None);
        let msg = root_permission_problem(&s, true, None).unwrap();
        assert!(msg.contains("IS_SANDBOX=1"), "{msg}");
        assert_eq!(
            root_permission_problem(&s, true, Some(OsStr::new("1"))),
            None
        );
        s.env.insert("IS_SANDBOX".into(), "1".into());
        assert_eq!(root_permission_problem(&s, true, None), None);
        s.env.insert("IS_SANDBOX".into(), "0".into());
        assert!(root_permission_problem(&s, true, Some(OsStr::new("1"))).is_some());
    }
}
