//! The validated settings a run uses: defaults ← `roadmap-runner.toml` ← env ← flags.
//!
//! The file is read with unknown keys refused, so a typo in a key is an error
//! that names the file and line instead of a setting silently ignored.

mod agent;
pub mod cluster;
mod explain;
mod file;
mod git;
mod overrides;
mod values;
mod worktree;

pub use agent::AgentSettings;
pub use explain::{Origin, SettingLine, explain};
pub use file::*;
pub use git::{Diverged, GitSettings, PushForeign};
pub use overrides::*;
pub use values::{number_or_quoted, parse_max_parallel, parse_timeout};
pub use worktree::*;

pub use crate::agent::profile::{AgentKind, OutputFormat};
use git::choice;
use std::path::PathBuf;
use std::time::Duration;

pub const CONFIG_FILE: &str = "roadmap-runner.toml";
pub const DEFAULT_MAX_PARALLEL: usize = 4;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(6 * 3600);

/// The default agent: Claude Code in batch mode, prompt on stdin.
pub const CLAUDE_ARGS: &[&str] = AgentKind::Claude.default_args();

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    /// A bad value in an environment variable: bad usage, like a bad flag.
    #[error("{var}={value}: {message}")]
    Env {
        var: &'static str,
        value: String,
        message: String,
    },
}

/// A duration as users write it: `90` (seconds), `90s`, `30m`, `2h`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    // humantime's own message lists every unit it knows; say what we document.
    humantime::parse_duration(t).map_err(|_| {
        format!("`{text}` is not a duration: write seconds (`90`) or `90s`, `30m`, `2h`")
    })
}
#[derive(Debug, Clone)]
pub struct GateSettings {
    pub enabled: bool,
    /// `None`: detect from the project.
    pub steps: Option<Vec<GateStepConfig>>,
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_parallel: usize,
    pub timeout: Duration,
    pub grace: Duration,
    pub retries: u32,
    /// How deep a task may split itself into sub-roadmaps (`[run]
    /// max_recursion_depth`, `--max-depth`): a task of the roadmap is at
    /// depth 0; at this depth the split file is not offered.
    pub max_recursion_depth: u32,
    pub max_wait: Duration,
    pub fail_fast: bool,
    pub agent: AgentSettings,
    /// `[agent] fallback`: the profiles a task moves to, in order, on a usage limit.
    pub agent_fallback: Vec<AgentSettings>,
    /// Claude, Codex and Gemini as a group's `(agent: X)` runs them.
    pub agent_profiles: Vec<AgentSettings>,
    pub gate: GateSettings,
    pub git: GitSettings,
    pub notify: NotifySection,
    /// Where the group reports go, relative to the project directory
    /// (empty: the project directory itself).
    pub report_dir: PathBuf,
    pub repair: RepairSettings,
    pub review: ReviewSettings,
    /// What one run may spend on agents (tasks, repairs, reviews), in USD.
    pub max_cost: Option<f64>,
    /// Tick each task of a completed group in the roadmap file.
    pub write_back: bool,
    pub isolation: Isolation,
    pub worktree: WorktreeSettings,
    pub cluster: ClusterSettings,
}

/// Where the tasks run with `--nats` / `[cluster]` (none: on this machine).
#[derive(Debug, Clone, Default)]
pub struct ClusterSettings {
    pub nats: Option<cluster::NatsTarget>,
    pub redelivery: cluster::Redelivery,
    pub no_workers: cluster::NoWorkers,
}

impl ClusterSettings {
    fn resolve(c: &ClusterSection, over: &Overrides) -> Result<ClusterSettings, ConfigError> {
        let mut redelivery = cluster::Redelivery::default();
        if let Some(w) = &c.ack_wait {
            redelivery.ack_wait = w.resolve("cluster.ack_wait")?.max(Duration::from_secs(1));
        }
        if let Some(n) = c.max_deliver {
            redelivery.max_deliver = i64::from(n.max(1));
        }
        let mut no_workers = cluster::NoWorkers::default();
        if let Some(p) = &c.no_workers {
            no_workers.stop =
                cluster::NoWorkers::parse_policy(p).map_err(|message| ConfigError::Invalid {
                    origin: format!("{CONFIG_FILE} `cluster.no_workers`"),
                    message,
                })?;
        }
        if let Some(a) = &c.no_workers_after {
            no_workers.after = a.resolve("cluster.no_workers_after")?;
        }
        let url = over.nats.clone().or_else(|| c.nats.clone());
        Ok(ClusterSettings {
            nats: url.map(|url| cluster::NatsTarget {
                url,
                creds: over.nats_creds.clone().or_else(|| c.creds.clone()),
            }),
            redelivery,
            no_workers,
        })
    }
}

/// Two repair agents per failed gate: one is given the failure; a second
/// sees what the first left. Peers cap such loops at 1–3 because more drift.
pub const DEFAULT_FIX_ATTEMPTS: u32 = 2;
/// How deep a task may split itself by default (`[run] max_recursion_depth`).
pub const DEFAULT_MAX_RECURSION_DEPTH: u32 = 2;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepairSettings {
    pub attempts: u32,
    pub prompt: Option<PathBuf>,
    /// `[repair] agent`: repairs and conflict resolution (none: the run's).
    pub agent: Option<AgentKind>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewSettings {
    pub enabled: bool,
    pub rounds: u32,
    pub prompt: Option<PathBuf>,
    /// `[review] agent` (none: the run's).
    pub agent: Option<AgentKind>,
}

impl Settings {
    /// The settings `kind` runs with: the run's own agent when it is that
    /// kind (its command and options as configured), else its profile.
    pub fn agent_named(&self, kind: AgentKind) -> &AgentSettings {
        if kind == self.agent.kind() {
            return &self.agent;
        }
        self.agent_profiles
            .iter()
            .find(|a| a.kind() == kind)
            .unwrap_or(&self.agent)
    }

    /// The agent of repairs and conflict resolution: `[repair] agent`, else the run's.
    pub fn repair_agent(&self) -> &AgentSettings {
        self.repair
            .agent
            .map_or(&self.agent, |k| self.agent_named(k))
    }

    /// The agent of reviews: `[review] agent`, else the run's.
    pub fn review_agent(&self) -> &AgentSettings {
        self.review
            .agent
            .map_or(&self.agent, |k| self.agent_named(k))
    }

    pub fn resolve(file: &FileConfig, over: &Overrides) -> Result<Settings, ConfigError> {
        let run = &file.run;
        // Flags and variables were checked as they were read; the file's now.
        let max_parallel = max_parallel(run, over)?;
        let timeout = timeout(run, over)?;
        let grace = duration_or(&run.grace_period, "run.grace_period", DEFAULT_GRACE)?;
        let max_wait = duration_or(&run.max_wait, "run.max_wait", DEFAULT_MAX_WAIT)?;
        let agent = AgentSettings::resolve(&file.agent, over)?;
        let agent_fallback = AgentSettings::resolve_fallback(&file.agent, over)?;
        let agent_profiles = AgentKind::CHOICES
            .iter()
            .filter(|(_, k)| *k != AgentKind::Command)
            .map(|(_, k)| AgentSettings::resolve_profile(&file.agent, over, *k))
            .collect::<Result<_, _>>()?;
        let cluster = ClusterSettings::resolve(&file.cluster, over)?;
        Ok(Settings {
            max_parallel,
            timeout,
            grace,
            retries: over.retries.or(run.retries).unwrap_or(0),
            max_recursion_depth: over
                .max_recursion_depth
                .or(run.max_recursion_depth)
                .unwrap_or(DEFAULT_MAX_RECURSION_DEPTH),
            max_wait,
            fail_fast: over.fail_fast || run.fail_fast.unwrap_or(false),
            agent,
            agent_fallback,
            agent_profiles,
            gate: GateSettings {
                enabled: file.gate.enabled.unwrap_or(true),
                steps: file.gate.steps.clone(),
            },
            git: GitSettings::resolve(&file.git, over)?,
            notify: file.notify.clone(),
            report_dir: file.report.dir.clone().unwrap_or_default(),
            repair: RepairSettings {
                attempts: over
                    .fix_attempts
                    .or(file.repair.attempts)
                    .unwrap_or(DEFAULT_FIX_ATTEMPTS),
                prompt: file.repair.prompt.clone(),
                agent: role_agent(file.repair.agent.as_deref(), "repair.agent")?,
            },
            review: ReviewSettings {
                enabled: over.review || file.review.enabled.unwrap_or(false),
                rounds: file.review.rounds.unwrap_or(1),
                prompt: file.review.prompt.clone(),
                agent: role_agent(file.review.agent.as_deref(), "review.agent")?,
            },
            write_back: over.write_back || file.run.write_back.unwrap_or(false),
            max_cost: max_cost(run, over)?,
            isolation: isolation(run, over, &cluster)?,
            worktree: WorktreeSettings::resolve(&file.worktree)?,
            cluster,
        })
    }
}

fn max_parallel(run: &RunSection, over: &Overrides) -> Result<usize, ConfigError> {
    let max_parallel = over
        .max_parallel
        .map(|(n, _)| n)
        .or(run.max_parallel)
        .unwrap_or(DEFAULT_MAX_PARALLEL);
    if max_parallel == 0 {
        return Err(ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `run.max_parallel`"),
            message: "must be at least 1".into(),
        });
    }
    Ok(max_parallel)
}

fn timeout(run: &RunSection, over: &Overrides) -> Result<Duration, ConfigError> {
    let timeout = match over.timeout {
        Some((t, _)) => t,
        None => duration_or(&run.timeout, "run.timeout", DEFAULT_TIMEOUT)?,
    };
    if timeout.is_zero() {
        return Err(ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `run.timeout`"),
            message: "must be more than zero".into(),
        });
    }
    Ok(timeout)
}

/// The file's duration at `key`, else `default`.
fn duration_or(
    value: &Option<DurationValue>,
    key: &str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match value {
        Some(v) => v.resolve(key),
        None => Ok(default),
    }
}

fn max_cost(run: &RunSection, over: &Overrides) -> Result<Option<f64>, ConfigError> {
    if let Some((c, _)) = over.max_cost {
        return Ok(Some(c));
    }
    run.max_cost
        .map(|c| {
            parse_cost(&c.to_string()).map_err(|message| ConfigError::Invalid {
                origin: format!("{CONFIG_FILE} `run.max_cost`"),
                message,
            })
        })
        .transpose()
}

/// Remote tasks always run in worktrees of their own.
fn isolation(
    run: &RunSection,
    over: &Overrides,
    cluster: &ClusterSettings,
) -> Result<Isolation, ConfigError> {
    match over.isolation {
        _ if cluster.nats.is_some() => Ok(Isolation::Worktree),
        Some(i) => Ok(i),
        None => choice(
            run.isolation.as_deref(),
            "run.isolation",
            Isolation::CHOICES,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("soon").unwrap_err().contains("`soon`"));
    }

    #[test]
    fn unknown_key_names_line() {
        let err = FileConfig::parse("[run]\nmax_paralel = 3\n", Path::new("x.toml")).unwrap_err();
        match err {
            ConfigError::Syntax { line, col, .. } => assert_eq!((line, col), (2, 1)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn precedence() {
        let file = FileConfig::parse(
            "[run]\nmax_parallel = 3\ntimeout = \"30m\"\n",
            Path::new("x"),
        )
        .unwrap();
        let s = Settings::resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(s.max_parallel, 3);
        assert_eq!(s.timeout, Duration::from_secs(1800));
        let over = Overrides {
            max_parallel: Some((8, Origin::Flag("--max-parallel"))),
            ..Default::default()
        };
        assert_eq!(Settings::resolve(&file, &over).unwrap().max_parallel, 8);
        assert_eq!(s.agent.command[0], "claude");
        assert_eq!(s.agent.output, OutputFormat::StreamJson);
    }

    #[test]
    fn isolation_settings() {
        let resolve = |text: &str, over: &Overrides| {
            Settings::resolve(&FileConfig::parse(text, Path::new("x")).unwrap(), over)
        };
        let none = Overrides::default();
        let s = resolve("", &none).unwrap();
        assert_eq!(s.isolation, Isolation::Shared);
        assert_eq!(s.worktree.resolve, Resolve::Agent);
        assert_eq!(s.worktree.resolve_attempts, DEFAULT_RESOLVE_ATTEMPTS);
        let text = "[run]\nisolation = \"worktree\"\n[worktree]\nsetup = [\"npm ci\"]\nlink = [\"node_modules/\"]\nresolve = \"stop\"\nresolve_attempts = 1\n";
        let s = resolve(text, &none).unwrap();
        assert_eq!(s.isolation, Isolation::Worktree);
        assert_eq!(s.worktree.link, vec!["node_modules".to_string()]);
        assert_eq!(s.worktree.resolve, Resolve::Stop);
        assert_eq!(s.worktree.setup, vec![CommandSpec::Shell("npm ci".into())]);
        let over = Overrides {
            isolation: Some(Isolation::Shared),
            ..Default::default()
        };
        assert_eq!(resolve(text, &over).unwrap().isolation, Isolation::Shared);
        for bad in [
            "[worktree]\nlink = [\"../x\"]\n",
            "[worktree]\nlink = [\"/abs\"]\n",
            "[worktree]\nresolve_attempts = 9\n",
            "[worktree]\nresolve = \"merge\"\n",
            "[run]\nisolation = \"docker\"\n",
        ] {
            assert!(resolve(bad, &none).is_err(), "{bad}");
        }
    }

    #[test]
    fn git_choices_default_and_reject_unknown_values() {
        let resolve = |text: &str| {
            Settings::resolve(
                &FileConfig::parse(text, Path::new("x")).unwrap(),
                &Overrides::default(),
            )
        };
        let s = resolve("").unwrap();
        assert_eq!(s.git.push_foreign, PushForeign::Refuse);
        assert_eq!(s.git.diverged, Diverged::Rebase);
        let s = resolve("[git]\npush_foreign = \"allow\"\ndiverged = \"merge\"\n").unwrap();
        assert_eq!(s.git.push_foreign, PushForeign::Allow);
        assert_eq!(s.git.diverged, Diverged::Merge);
        assert_eq!(
            resolve("[git]\ndiverged = \"stop\"\n")
                .unwrap()
                .git
                .diverged,
            Diverged::Stop
        );
        let err = resolve("[git]\npush_foreign = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "roadmap-runner.toml `git.push_foreign`: `yes` is not one of \"refuse\", \"allow\""
        );
        let err = resolve("[git]\ndiverged = \"force\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("roadmap-runner.toml `git.diverged`: `force`"),
            "{err}"
        );
    }

    #[test]
    fn a_number_in_quotes_is_the_number() {
        let file = FileConfig::parse(
            "[run]\nmax_parallel = \"2\"\nretries = \"1\"\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(
            (file.run.max_parallel, file.run.retries),
            (Some(2), Some(1))
        );
        let err = FileConfig::parse("[run]\nmax_parallel = \"two\"\n", Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x.toml:2:16: "), "{err}");
        assert!(
            err.contains("\"two\" is not a whole number: write one without quotes, e.g. 2"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_duration_in_the_file_names_its_line_and_column() {
        let err = FileConfig::parse("[run]\ntimeout = \"10x\"\n", Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "x.toml:2:11: `10x` is not a duration: write seconds (`90`) or `90s`, `30m`, `2h`"
        );
    }
}
