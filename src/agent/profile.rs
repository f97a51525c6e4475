//! The agent profiles: everything that differs between coding-agent CLIs.
//!
//! A profile owns the default command line of a task (and how a session is
//! resumed), the dialect its output stream is read in, and the flag that
//! picks a model. The rest of the runner works with [`AgentSettings`] built
//! from a profile and never names an agent. Every profile takes the prompt on
//! stdin (no argv length limit, nothing visible in `ps`).
//!
//! [`AgentSettings`]: crate::config::AgentSettings

use serde::Deserialize;

/// How an agent's output is read (`[agent] output`): each profile's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// Claude-style stream-json: the last `result` line decides success.
    #[default]
    StreamJson,
    /// Anything else: the exit status decides.
    Plain,
    /// Codex's `exec --json` JSONL: `turn.completed` is the success.
    CodexJson,
    /// Gemini CLI's stream-json: the `result` event's status decides.
    GeminiJson,
    /// opencode's `run --format json`: a finished step without an error decides.
    OpencodeJson,
    /// Copilot CLI's `--output-format json`: the `result` event's exit code decides.
    CopilotJson,
}

impl OutputFormat {
    /// The name in `[agent] output`.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::StreamJson => "stream-json",
            OutputFormat::Plain => "plain",
            OutputFormat::CodexJson => "codex-json",
            OutputFormat::GeminiJson => "gemini-json",
            OutputFormat::OpencodeJson => "opencode-json",
            OutputFormat::CopilotJson => "copilot-json",
        }
    }

    /// Whether success needs a structured result (not only exit 0).
    pub fn is_structured(self) -> bool {
        self != OutputFormat::Plain
    }
}

/// Which coding agent runs the tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AgentKind {
    /// Claude Code: `claude -p --output-format stream-json`.
    #[default]
    Claude,
    /// OpenAI Codex CLI: `codex exec --json`, JSONL events.
    Codex,
    /// Google Gemini CLI: `gemini --output-format stream-json`.
    Gemini,
    /// opencode: `opencode run --format json`, JSONL events.
    Opencode,
    /// GitHub Copilot CLI: `copilot --output-format json`, JSONL events.
    Copilot,
    /// Any program (`[agent] command`): prompt on stdin, plain text out,
    /// success by exit status.
    Command,
}

impl AgentKind {
    /// Every kind with its name in `[agent] kind`, `--agent`, `ROADMAP_AGENT`.
    pub const CHOICES: &[(&str, AgentKind)] = &[
        ("claude", AgentKind::Claude),
        ("codex", AgentKind::Codex),
        ("gemini", AgentKind::Gemini),
        ("opencode", AgentKind::Opencode),
        ("copilot", AgentKind::Copilot),
        ("command", AgentKind::Command),
    ];

    pub fn parse(name: &str) -> Option<AgentKind> {
        let name = name.trim();
        Self::CHOICES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, k)| *k)
    }

    pub fn name(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("claude", |(n, _)| n)
    }

    /// The names, for error messages: `claude, codex, gemini, command`.
    pub fn names() -> String {
        Self::CHOICES
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The names of the profiles a fallback, `[repair] agent`, `[review]
    /// agent` or a roadmap annotation may name (all but `command`).
    pub fn profile_names() -> String {
        Self::CHOICES
            .iter()
            .filter(|(_, k)| *k != AgentKind::Command)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The program run when no binary is configured (`None` for `command`,
    /// which needs `[agent] command`).
    pub fn default_program(self) -> Option<&'static str> {
        match self {
            AgentKind::Claude => Some("claude"),
            AgentKind::Codex => Some("codex"),
            AgentKind::Gemini => Some("gemini"),
            AgentKind::Opencode => Some("opencode"),
            AgentKind::Copilot => Some("copilot"),
            AgentKind::Command => None,
        }
    }

    /// The arguments after the program for an unattended batch run, the
    /// prompt coming on stdin.
    pub const fn default_args(self) -> &'static [&'static str] {
        match self {
            AgentKind::Claude => &[
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--dangerously-skip-permissions",
            ],
            // No prompt argument: `codex exec` reads it from stdin. Exec never
            // asks for approval; the sandbox lets it edit the working tree.
            AgentKind::Codex => &["exec", "--json", "--sandbox", "workspace-write"],
            // Not a TTY on stdin: headless mode with the prompt read from it.
            // Gemini 0.61 turns yolo back to "default" (every write needs an
            // approval nobody gives) in a folder not trusted: the project is.
            AgentKind::Gemini => &[
                "--output-format",
                "stream-json",
                "--approval-mode",
                "yolo",
                "--skip-trust",
            ],
            // No message argument: `opencode run` reads it from stdin. Without
            // `--auto` every permission request is rejected when unattended.
            AgentKind::Opencode => &["run", "--format", "json", "--auto"],
            // A prompt piped on stdin is non-interactive mode (as `-p`);
            // tools run without asking, and the agent never asks the user.
            AgentKind::Copilot => &[
                "--output-format",
                "json",
                "--allow-all-tools",
                "--no-ask-user",
            ],
            AgentKind::Command => &[],
        }
    }

    /// Arguments appended to resume a session; `{session_id}` is replaced.
    /// Empty: the agent cannot resume.
    pub fn resume_args(self) -> &'static [&'static str] {
        match self {
            AgentKind::Claude | AgentKind::Gemini => &["--resume", "{session_id}"],
            // `codex exec [flags] resume <id> -`: `-` reads the prompt from stdin.
            AgentKind::Codex => &["resume", "{session_id}", "-"],
            AgentKind::Opencode => &["--session", "{session_id}"],
            // `--resume` takes its value optionally: it must be joined by `=`.
            AgentKind::Copilot => &["--resume={session_id}"],
            AgentKind::Command => &[],
        }
    }

    /// The dialect its output is read in.
    pub fn output(self) -> OutputFormat {
        match self {
            AgentKind::Claude => OutputFormat::StreamJson,
            AgentKind::Codex => OutputFormat::CodexJson,
            AgentKind::Gemini => OutputFormat::GeminiJson,
            AgentKind::Opencode => OutputFormat::OpencodeJson,
            AgentKind::Copilot => OutputFormat::CopilotJson,
            AgentKind::Command => OutputFormat::Plain,
        }
    }

    /// The profile that reads `output` (a custom command in a known dialect
    /// is that agent).
    pub fn of_output(output: OutputFormat) -> AgentKind {
        match output {
            OutputFormat::StreamJson => AgentKind::Claude,
            OutputFormat::CodexJson => AgentKind::Codex,
            OutputFormat::GeminiJson => AgentKind::Gemini,
            OutputFormat::OpencodeJson => AgentKind::Opencode,
            OutputFormat::CopilotJson => AgentKind::Copilot,
            OutputFormat::Plain => AgentKind::Command,
        }
    }

    /// The option that picks a model (`[agent.<kind>] model`).
    pub fn model_flag(self) -> Option<&'static str> {
        match self {
            AgentKind::Command => None,
            _ => Some("--model"),
        }
    }

    /// The arguments that make the agent answer in the JSON of `schema`
    /// (Claude's `--json-schema`); none where the CLI has no such option,
    /// and the answer is read from the JSON in its reply text.
    pub fn schema_args(self, schema: &str) -> Vec<String> {
        match self {
            AgentKind::Claude => vec!["--json-schema".into(), schema.into()],
            _ => Vec::new(),
        }
    }

    /// How to point the runner at the agent's binary when PATH lacks it.
    pub fn binary_hint(self) -> &'static str {
        match self {
            AgentKind::Claude => "set CLAUDE_BIN=/full/path/to/claude",
            AgentKind::Codex => {
                "set binary = \"/full/path/to/codex\" under [agent.codex] in roadmap-runner.toml"
            }
            AgentKind::Gemini => {
                "set binary = \"/full/path/to/gemini\" under [agent.gemini] in roadmap-runner.toml"
            }
            AgentKind::Opencode => {
                "set binary = \"/full/path/to/opencode\" under [agent.opencode] in roadmap-runner.toml"
            }
            AgentKind::Copilot => {
                "set binary = \"/full/path/to/copilot\" under [agent.copilot] in roadmap-runner.toml"
            }
            AgentKind::Command => "give [agent] command the program's full path",
        }
    }

    /// How to give the agent credentials that last, for unattended runs.
    pub fn login_advice(self) -> &'static str {
        match self {
            AgentKind::Claude => {
                "for unattended runs, log in with a long-lived credential: set ANTHROPIC_API_KEY, or run `claude setup-token` once and set CLAUDE_CODE_OAUTH_TOKEN in the runner's environment (cron's environment too)"
            }
            AgentKind::Codex => {
                "for unattended runs, set CODEX_API_KEY in the runner's environment (cron's environment too; `codex exec` reads it), or run `codex login` once as the user the runner runs as"
            }
            AgentKind::Gemini => {
                "for unattended runs, set GEMINI_API_KEY in the runner's environment (cron's environment too), or choose an auth method once by running `gemini` interactively as the user the runner runs as"
            }
            AgentKind::Opencode => {
                "for unattended runs, set the model provider's API key (ANTHROPIC_API_KEY, OPENAI_API_KEY, ...) in the runner's environment (cron's environment too), or run `opencode auth login` once as the user the runner runs as"
            }
            AgentKind::Copilot => {
                "for unattended runs, set COPILOT_GITHUB_TOKEN to a fine-grained personal access token with the \"Copilot Requests\" permission in the runner's environment (cron's environment too), or run `copilot` and `/login` once as the user the runner runs as"
            }
            AgentKind::Command => {
                "log the agent program in as its documentation says, in the runner's environment (cron's environment too)"
            }
        }
    }

    /// Whether the agent reports its cost in dollars (else only tokens).
    pub fn reports_cost(self) -> bool {
        matches!(self, AgentKind::Claude | AgentKind::Opencode)
    }

    /// The argv of a task for this profile: `program` (or the default one)
    /// then the default arguments.
    pub fn command(self, program: Option<&str>) -> Vec<String> {
        let program = program.or(self.default_program()).unwrap_or_default();
        std::iter::once(program)
            .chain(self.default_args().iter().copied())
            .map(str::to_string)
            .collect()
    }
}

/// The profile of an agent a roadmap annotation names.
impl From<crate::roadmap::AgentName> for AgentKind {
    fn from(name: crate::roadmap::AgentName) -> Self {
        use crate::roadmap::AgentName as N;
        match name {
            N::Claude => AgentKind::Claude,
            N::Codex => AgentKind::Codex,
            N::Gemini => AgentKind::Gemini,
            N::Opencode => AgentKind::Opencode,
            N::Copilot => AgentKind::Copilot,
        }
    }
}

impl std::fmt::Display for AgentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (name, kind) in AgentKind::CHOICES {
            assert_eq!(AgentKind::parse(name), Some(*kind));
            assert_eq!(kind.name(), *name);
        }
        assert_eq!(AgentKind::parse(" Codex "), Some(AgentKind::Codex));
        assert_eq!(AgentKind::parse("aider"), None);
        // Every name a roadmap may write is a profile of the same name.
        for (name, n) in crate::roadmap::AgentName::ALL {
            assert_eq!(AgentKind::from(*n).name(), *name);
        }
    }

    #[test]
    fn claude_is_the_historical_default() {
        assert_eq!(
            AgentKind::default().command(None),
            [
                "claude",
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--dangerously-skip-permissions"
            ]
        );
        assert_eq!(
            AgentKind::Codex.command(Some("/opt/codex"))[0],
            "/opt/codex"
        );
        assert!(AgentKind::Command.command(None)[0].is_empty());
    }
}
