//! `roadmap-runner config`: every effective setting and where it came from.

use super::{CONFIG_FILE, FileConfig, Overrides, Settings};
use crate::text::short_duration;

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Default,
    File,
    Env(&'static str),
    Flag(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::File => write!(f, "{CONFIG_FILE}"),
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// One row of `roadmap-runner config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingLine {
    /// The key as written in the file: `run.max_parallel`.
    pub key: &'static str,
    pub value: String,
    pub origin: Origin,
}

/// The file's origin when it set the key, else the default.
fn file_or_default(set: bool) -> Origin {
    if set { Origin::File } else { Origin::Default }
}

/// Flag, env, file, default: the first that gave the value.
fn first(over: Option<Origin>, in_file: bool) -> Origin {
    over.unwrap_or_else(|| file_or_default(in_file))
}

/// The sections in the order `config` shows them (the file's usual order).
pub const SECTIONS: &[&str] = &[
    "run", "agent", "gate", "git", "worktree", "repair", "review", "notify", "report", "cluster",
];

impl SettingLine {
    /// `run` of `run.max_parallel`.
    pub fn section(&self) -> &'static str {
        self.key.split_once('.').map_or(self.key, |(s, _)| s)
    }
}

/// Every setting of `s` (resolved from `file` and `over`) with its origin,
/// grouped by section in [`SECTIONS`] order.
pub fn explain(file: &FileConfig, over: &Overrides, s: &Settings) -> Vec<SettingLine> {
    let mut rows = run_rows(file, over, s);
    rows.extend(agent_rows(file, over, s));
    rows.extend(other_rows(file, over, s));
    rows.extend(loop_rows(file, over, s));
    rows.extend(worktree_rows(file, s));
    // A stable sort: within a section the rows keep their order.
    rows.sort_by_key(|r| {
        SECTIONS
            .iter()
            .position(|s| *s == r.section())
            .unwrap_or(SECTIONS.len())
    });
    rows
}

/// The name a setting's value is written with in the file.
fn choice_name<T: PartialEq>(choices: &[(&'static str, T)], value: &T) -> &'static str {
    choices
        .iter()
        .find(|(_, v)| v == value)
        .map_or("?", |(n, _)| n)
}

/// `[worktree]` (used with `run.isolation = "worktree"`).
fn worktree_rows(file: &FileConfig, s: &Settings) -> Vec<SettingLine> {
    let w = &file.worktree;
    let t = &s.worktree;
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "(none)".to_string()
        } else {
            v.join(", ")
        }
    };
    vec![
        line(
            "worktree.dir",
            t.dir
                .as_ref()
                .map_or("(the user's cache directory)".into(), |d| {
                    d.display().to_string()
                }),
            file_or_default(w.dir.is_some()),
        ),
        line(
            "worktree.setup",
            list(t.setup.iter().map(|c| c.display()).collect()),
            file_or_default(!w.setup.is_empty()),
        ),
        line(
            "worktree.link",
            list(t.link.clone()),
            file_or_default(!w.link.is_empty()),
        ),
        line(
            "worktree.resolve",
            choice_name(super::Resolve::CHOICES, &t.resolve),
            file_or_default(w.resolve.is_some()),
        ),
        line(
            "worktree.resolve_attempts",
            t.resolve_attempts.to_string(),
            file_or_default(w.resolve_attempts.is_some()),
        ),
        line(
            "worktree.cargo_target_dir",
            t.cargo_target_dir
                .as_ref()
                .map_or("(one per worktree)".into(), |d| d.display().to_string()),
            file_or_default(w.cargo_target_dir.is_some()),
        ),
    ]
}

/// Repair, review, the budget and write-back.
fn loop_rows(file: &FileConfig, over: &Overrides, s: &Settings) -> Vec<SettingLine> {
    let flag = |on: bool, name| on.then_some(Origin::Flag(name));
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map_or("(built-in)".to_string(), |p| p.display().to_string())
    };
    vec![
        line(
            "run.max_cost",
            s.max_cost.map_or("none".into(), crate::status::counts::usd),
            first(over.max_cost.map(|(_, o)| o), file.run.max_cost.is_some()),
        ),
        line(
            "run.max_recursion_depth",
            s.max_recursion_depth.to_string(),
            first(
                flag(over.max_recursion_depth.is_some(), "--max-depth"),
                file.run.max_recursion_depth.is_some(),
            ),
        ),
        line(
            "run.write_back",
            s.write_back.to_string(),
            first(
                flag(over.write_back, "--write-back"),
                file.run.write_back.is_some(),
            ),
        ),
        line(
            "agent.max_budget_usd",
            s.agent
                .max_budget_usd
                .map_or("none".into(), crate::status::counts::usd),
            file_or_default(file.agent.max_budget_usd.is_some()),
        ),
        line(
            "repair.attempts",
            s.repair.attempts.to_string(),
            first(
                flag(over.fix_attempts.is_some(), "--fix-attempts"),
                file.repair.attempts.is_some(),
            ),
        ),
        line(
            "repair.prompt",
            path(&s.repair.prompt),
            file_or_default(file.repair.prompt.is_some()),
        ),
        line(
            "repair.agent",
            role_agent(s.repair.agent, s),
            file_or_default(file.repair.agent.is_some()),
        ),
        line(
            "review.enabled",
            s.review.enabled.to_string(),
            first(flag(over.review, "--review"), file.review.enabled.is_some()),
        ),
        line(
            "review.rounds",
            s.review.rounds.to_string(),
            file_or_default(file.review.rounds.is_some()),
        ),
        line(
            "review.prompt",
            path(&s.review.prompt),
            file_or_default(file.review.prompt.is_some()),
        ),
        line(
            "review.agent",
            role_agent(s.review.agent, s),
            file_or_default(file.review.agent.is_some()),
        ),
    ]
}

/// `codex`, or `(the run's: claude)` when unset.
fn role_agent(kind: Option<super::AgentKind>, s: &Settings) -> String {
    match kind {
        Some(k) => k.name().to_string(),
        None => format!("(the run's: {})", s.agent.kind().name()),
    }
}

fn line(key: &'static str, value: impl Into<String>, origin: Origin) -> SettingLine {
    SettingLine {
        key,
        value: value.into(),
        origin,
    }
}

fn run_rows(file: &FileConfig, over: &Overrides, s: &Settings) -> Vec<SettingLine> {
    let r = &file.run;
    let flag = |on: bool, name| on.then_some(Origin::Flag(name));
    vec![
        line(
            "run.max_parallel",
            s.max_parallel.to_string(),
            first(over.max_parallel.map(|(_, o)| o), r.max_parallel.is_some()),
        ),
        line(
            "run.timeout",
            short_duration(s.timeout),
            first(over.timeout.map(|(_, o)| o), r.timeout.is_some()),
        ),
        line(
            "run.grace_period",
            short_duration(s.grace),
            file_or_default(r.grace_period.is_some()),
        ),
        line(
            "run.retries",
            s.retries.to_string(),
            first(
                flag(over.retries.is_some(), "--retries"),
                r.retries.is_some(),
            ),
        ),
        line(
            "run.max_wait",
            short_duration(s.max_wait),
            file_or_default(r.max_wait.is_some()),
        ),
        line(
            "run.fail_fast",
            s.fail_fast.to_string(),
            first(flag(over.fail_fast, "--fail-fast"), r.fail_fast.is_some()),
        ),
        line(
            "run.isolation",
            choice_name(super::Isolation::CHOICES, &s.isolation),
            first(
                flag(
                    over.isolation.is_some(),
                    "--isolation (or ROADMAP_ISOLATION)",
                ),
                r.isolation.is_some(),
            ),
        ),
    ]
}

fn agent_rows(file: &FileConfig, over: &Overrides, s: &Settings) -> Vec<SettingLine> {
    let a = &file.agent;
    let kind = s.agent.kind();
    let command_origin = match over.claude_bin.as_ref() {
        _ if a.command.is_some() => Origin::File,
        // CLAUDE_BIN names Claude's binary only.
        Some((_, o)) if kind == super::AgentKind::Claude => *o,
        _ => file_or_default(a.profile(kind).is_some_and(|p| p.binary.is_some())),
    };
    // Only the names: the values often hold credentials.
    let env: Vec<&str> = s.agent.env.keys().map(String::as_str).collect();
    let kind_origin = match (&over.agent, &a.kind) {
        (Some((_, o)), _) => *o,
        (None, k) => file_or_default(k.is_some()),
    };
    vec![
        line("agent.kind", s.agent.kind().name(), kind_origin),
        line(
            "agent.fallback",
            if s.agent_fallback.is_empty() {
                "(none: a usage limit waits for the reset)".to_string()
            } else {
                s.agent_fallback
                    .iter()
                    .map(|f| f.kind().name())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            file_or_default(!a.fallback.is_empty()),
        ),
        line("agent.command", s.agent.command.join(" "), command_origin),
        line(
            "agent.extra_args",
            s.agent.extra_args.join(" "),
            file_or_default(!a.extra_args.is_empty()),
        ),
        line(
            "agent.env",
            if env.is_empty() {
                String::new()
            } else {
                format!("{} (values not shown)", env.join(", "))
            },
            file_or_default(!a.env.is_empty()),
        ),
        line(
            "agent.prompt_template",
            s.agent
                .prompt_template
                .as_ref()
                .map_or("(built-in)".to_string(), |p| p.display().to_string()),
            file_or_default(a.prompt_template.is_some()),
        ),
        line(
            "agent.output",
            s.agent.output.name(),
            file_or_default(a.output.is_some()),
        ),
        line(
            "agent.resume_args",
            s.agent.resume_args.join(" "),
            file_or_default(a.resume_args.is_some()),
        ),
    ]
}

fn other_rows(file: &FileConfig, over: &Overrides, s: &Settings) -> Vec<SettingLine> {
    let steps = s
        .gate
        .steps
        .as_ref()
        .map_or("(detected from the project)".into(), |v| {
            let names: Vec<&str> = v.iter().map(|st| st.name.as_str()).collect();
            names.join(", ")
        });
    let mut rows = vec![
        line(
            "gate.enabled",
            s.gate.enabled.to_string(),
            file_or_default(file.gate.enabled.is_some()),
        ),
        line(
            "gate.steps",
            steps,
            file_or_default(file.gate.steps.is_some()),
        ),
    ];
    rows.extend(git_rows(file, over, s));
    let n = &file.notify;
    let report_dir = if s.report_dir.as_os_str().is_empty() {
        "(the project directory)".into()
    } else {
        s.report_dir.display().to_string()
    };
    rows.extend([
        line(
            "notify.command",
            n.command.as_ref().map_or("(none)".into(), |c| c.display()),
            file_or_default(n.command.is_some()),
        ),
        line(
            "notify.webhook",
            n.webhook
                .as_ref()
                .map_or("(none)".into(), |w| webhook_host(w)),
            file_or_default(n.webhook.is_some()),
        ),
        line(
            "report.dir",
            report_dir,
            file_or_default(file.report.dir.is_some()),
        ),
    ]);
    rows.extend(cluster_rows(file, over, s));
    rows
}

/// `[cluster]`; the server's URL without its user info.
fn cluster_rows(file: &FileConfig, over: &Overrides, s: &Settings) -> Vec<SettingLine> {
    let c = &file.cluster;
    let target = s.cluster.nats.as_ref();
    vec![
        line(
            "cluster.nats",
            target.map_or("(none: agents run here)".into(), |t| t.shown()),
            first(
                over.nats.as_ref().map(|_| Origin::Flag("--nats")),
                c.nats.is_some(),
            ),
        ),
        line(
            "cluster.creds",
            target
                .and_then(|t| t.creds.as_ref())
                .map_or("(none)".into(), |p| p.display().to_string()),
            first(
                over.nats_creds
                    .as_ref()
                    .map(|_| Origin::Flag("--nats-creds")),
                c.creds.is_some(),
            ),
        ),
        line(
            "cluster.ack_wait",
            humantime::format_duration(s.cluster.redelivery.ack_wait).to_string(),
            file_or_default(c.ack_wait.is_some()),
        ),
        line(
            "cluster.max_deliver",
            s.cluster.redelivery.max_deliver.to_string(),
            file_or_default(c.max_deliver.is_some()),
        ),
        line(
            "cluster.no_workers",
            if s.cluster.no_workers.stop {
                "stop"
            } else {
                "wait"
            }
            .to_string(),
            file_or_default(c.no_workers.is_some()),
        ),
        line(
            "cluster.no_workers_after",
            humantime::format_duration(s.cluster.no_workers.after).to_string(),
            file_or_default(c.no_workers_after.is_some()),
        ),
    ]
}

fn git_rows(file: &FileConfig, over: &Overrides, s: &Settings) -> Vec<SettingLine> {
    let g = &file.git;
    let or = |v: &Option<String>, default: &str| v.clone().unwrap_or_else(|| default.into());
    let no_commit = over.no_commit.then_some(Origin::Flag("--no-commit"));
    // --no-commit turns the push off too.
    let no_push = no_commit.or(over.no_push.then_some(Origin::Flag("--no-push")));
    vec![
        line(
            "git.remote",
            or(&s.git.remote, "(the branch's upstream)"),
            file_or_default(g.remote.is_some()),
        ),
        line(
            "git.branch",
            or(&s.git.branch, "(the current branch)"),
            file_or_default(g.branch.is_some()),
        ),
        line(
            "git.commit",
            s.git.commit.to_string(),
            first(no_commit, g.commit.is_some()),
        ),
        line(
            "git.push",
            s.git.push.to_string(),
            first(no_push, g.push.is_some()),
        ),
        line(
            "git.token_env",
            or(&s.git.token_env, "(none)"),
            file_or_default(g.token_env.is_some()),
        ),
        line(
            "git.push_foreign",
            choice_name(super::PushForeign::CHOICES, &s.git.push_foreign),
            file_or_default(g.push_foreign.is_some()),
        ),
        line(
            "git.diverged",
            choice_name(super::Diverged::CHOICES, &s.git.diverged),
            file_or_default(g.diverged.is_some()),
        ),
    ]
}

/// Webhook URLs often hold a secret in their path: show only the host.
fn webhook_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("https://{host}/… (path not shown)")
}
