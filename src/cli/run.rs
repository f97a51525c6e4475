//! `run`'s options (also those of `config`, which shows what they change),
//! and their conversion into what config accepts.

use crate::config::{
    ConfigError, Isolation, Origin, Overrides, RunRequest, parse_agent, parse_max_parallel,
    parse_timeout,
};
use crate::roadmap::PhaseId;
use clap::Args;
use std::time::Duration;

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

    /// Only this group, e.g. `1:B`, or a sub-roadmap's, `1:B:B2/1:A` (repeatable).
    #[arg(long = "group", value_name = "N:X")]
    pub groups: Vec<String>,

    /// Only this one task, e.g. `1:A:A2`, or a sub-task, `1:A:A2/1:B:B1` (for debugging a prompt).
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

    /// How deep a task may split itself into sub-roadmaps (0: never) [default: 2].
    #[arg(long = "max-depth", id = "max_recursion_depth", value_name = "N")]
    pub max_recursion_depth: Option<u32>,

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
    /// What the run is asked for: config's overrides (the environment fills
    /// in for flags not given when the run resolves them) and the run's
    /// own choices.
    pub fn request(&self) -> Result<RunRequest, ConfigError> {
        Ok(RunRequest {
            overrides: self.flag_overrides()?,
            phases: self.phases.clone(),
            groups: self.groups.clone(),
            task: self.task.clone(),
            rerun_tasks: self.rerun_tasks,
            allow_dirty: self.allow_dirty,
            dry_run: self.dry_run,
            json: self.json,
            notify: self.notify.clone(),
        })
    }

    /// The overrides a run would resolve, with the environment read
    /// through `env`.
    #[cfg(test)]
    fn overrides_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Overrides, ConfigError> {
        self.flag_overrides()?.with_env(env)
    }

    /// The flags given, as config's overrides: config knows no command
    /// line, the command line converts into what config accepts.
    fn flag_overrides(&self) -> Result<Overrides, ConfigError> {
        let flag = |name: &'static str| Origin::Flag(name);
        Ok(Overrides {
            max_parallel: self.max_parallel.map(|n| (n, flag("--max-parallel"))),
            timeout: self.timeout.map(|t| (t, flag("--timeout"))),
            retries: self.retries,
            fail_fast: self.fail_fast,
            claude_bin: self.claude_bin.clone().map(|b| (b, flag("--claude-bin"))),
            agent: match &self.agent {
                Some(a) => Some((parse_agent(a)?, flag("--agent"))),
                None => None,
            },
            no_commit: self.no_commit,
            no_push: self.no_push,
            fix_attempts: self.fix_attempts,
            review: self.review,
            max_cost: self.max_cost.map(|c| (c, flag("--max-cost"))),
            write_back: self.write_back,
            max_recursion_depth: self.max_recursion_depth,
            // clap reads `ROADMAP_ISOLATION` and `ROADMAP_NATS` for the CLI
            // too; config reads them again for requests built without clap.
            isolation: self.isolation,
            nats: self.nats.clone(),
            nats_creds: self.nats_creds.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::roadmap::Dialect;
    use clap::Parser;

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
