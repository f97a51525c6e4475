//! `[run] isolation` and `[worktree]`: where each task's agent works.

use super::git::choice;
use super::{CONFIG_FILE, CommandSpec, ConfigError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where each task's agent works.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// Every agent of a group edits the project's own working tree.
    #[default]
    Shared,
    /// Each task in its own git worktree, merged back before the gate.
    Worktree,
}

impl Isolation {
    pub const CHOICES: &[(&str, Isolation)] = &[
        ("shared", Isolation::Shared),
        ("worktree", Isolation::Worktree),
    ];
}

/// `shared` or `worktree`.
pub fn parse_isolation(text: &str) -> Result<Isolation, String> {
    Isolation::CHOICES
        .iter()
        .find(|(name, _)| *name == text.trim())
        .map(|(_, i)| *i)
        .ok_or_else(|| format!("`{text}` is not an isolation mode: write shared or worktree"))
}

/// What integration does when a task's change conflicts with the merged tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolve {
    /// Start a resolver agent on the conflicted merge.
    #[default]
    Agent,
    /// Stop the run, naming the files and the two tasks.
    Stop,
}

impl Resolve {
    pub const CHOICES: &[(&str, Resolve)] = &[("agent", Resolve::Agent), ("stop", Resolve::Stop)];
}

/// Peers cap repair loops at 1–3 attempts: beyond that the model drifts.
pub const MAX_RESOLVE_ATTEMPTS: u32 = 3;
pub const DEFAULT_RESOLVE_ATTEMPTS: u32 = 2;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorktreeSection {
    /// Where task worktrees live (default: under the user's cache directory).
    pub dir: Option<PathBuf>,
    /// Commands run in each new worktree before its agent starts.
    #[serde(default)]
    pub setup: Vec<CommandSpec>,
    /// Project paths symlinked into each worktree (never committed).
    #[serde(default)]
    pub link: Vec<String>,
    /// `agent` or `stop`: see [`Resolve`].
    pub resolve: Option<String>,
    pub resolve_attempts: Option<u32>,
    /// `CARGO_TARGET_DIR` for every worktree (default: one per worktree).
    pub cargo_target_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct WorktreeSettings {
    pub dir: Option<PathBuf>,
    pub setup: Vec<CommandSpec>,
    /// Relative, '/'-separated, without `..` or a trailing '/'.
    pub link: Vec<String>,
    pub resolve: Resolve,
    pub resolve_attempts: u32,
    pub cargo_target_dir: Option<PathBuf>,
}

impl WorktreeSettings {
    pub(super) fn resolve(w: &WorktreeSection) -> Result<WorktreeSettings, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `worktree.{key}`"),
            message,
        };
        let mut link = Vec::new();
        for l in &w.link {
            let path = l.trim().trim_end_matches('/');
            let p = Path::new(path);
            if path.is_empty()
                || p.is_absolute()
                || p.components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(invalid(
                    "link",
                    format!("`{l}` must be a path inside the project, e.g. \"node_modules\""),
                ));
            }
            link.push(path.to_string());
        }
        let resolve_attempts = w.resolve_attempts.unwrap_or(DEFAULT_RESOLVE_ATTEMPTS);
        if !(1..=MAX_RESOLVE_ATTEMPTS).contains(&resolve_attempts) {
            return Err(invalid(
                "resolve_attempts",
                format!("must be 1 to {MAX_RESOLVE_ATTEMPTS}, not {resolve_attempts}"),
            ));
        }
        Ok(WorktreeSettings {
            dir: w.dir.clone(),
            setup: w.setup.clone(),
            link,
            resolve: choice(w.resolve.as_deref(), "worktree.resolve", Resolve::CHOICES)?,
            resolve_attempts,
            cargo_target_dir: w.cargo_target_dir.clone(),
        })
    }
}
