//! `[git]`: whether and how phases are committed and pushed.

use super::{CONFIG_FILE, ConfigError, GitSection, Overrides};

/// What a push does with unpushed commits that the runner did not make
/// (no `Roadmap-Phase` trailer): the user's own work in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushForeign {
    /// Push nothing while there are any: the run exits 3 and names them.
    #[default]
    Refuse,
    Allow,
}

/// What a push does when the remote branch has commits the local one lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Diverged {
    /// Replay the unpushed commits onto the remote branch, when they apply cleanly.
    #[default]
    Rebase,
    /// Merge the remote branch into the local one (a merge commit).
    Merge,
    /// Stop with exit 3, as a plain `git push` would.
    Stop,
}

impl PushForeign {
    pub const CHOICES: &[(&str, PushForeign)] = &[
        ("refuse", PushForeign::Refuse),
        ("allow", PushForeign::Allow),
    ];
}

impl Diverged {
    pub const CHOICES: &[(&str, Diverged)] = &[
        ("rebase", Diverged::Rebase),
        ("merge", Diverged::Merge),
        ("stop", Diverged::Stop),
    ];
}

/// One of `choices` by name, or an error naming the key and the choices.
pub(super) fn choice<T: Copy + Default>(
    value: Option<&str>,
    key: &str,
    choices: &[(&str, T)],
) -> Result<T, ConfigError> {
    let Some(value) = value else {
        return Ok(T::default());
    };
    choices
        .iter()
        .find(|(name, _)| *name == value.trim())
        .map(|(_, v)| *v)
        .ok_or_else(|| ConfigError::Invalid {
            origin: format!("{CONFIG_FILE} `{key}`"),
            message: format!(
                "`{value}` is not one of {}",
                choices
                    .iter()
                    .map(|(n, _)| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

#[derive(Debug, Clone)]
pub struct GitSettings {
    pub remote: Option<String>,
    pub branch: Option<String>,
    pub commit: bool,
    pub push: bool,
    pub token_env: Option<String>,
    pub push_foreign: PushForeign,
    pub diverged: Diverged,
}

/// What an empty `[git]` section gives: commit and push, refuse foreign
/// commits, rebase onto a diverged remote.
impl Default for GitSettings {
    fn default() -> Self {
        GitSettings {
            remote: None,
            branch: None,
            commit: true,
            push: true,
            token_env: None,
            push_foreign: PushForeign::default(),
            diverged: Diverged::default(),
        }
    }
}

impl GitSettings {
    pub(super) fn resolve(g: &GitSection, over: &Overrides) -> Result<GitSettings, ConfigError> {
        Ok(GitSettings {
            remote: g.remote.clone(),
            branch: g.branch.clone(),
            commit: !over.no_commit && g.commit.unwrap_or(true),
            push: !over.no_push && !over.no_commit && g.push.unwrap_or(true),
            token_env: g.token_env.clone(),
            push_foreign: choice(
                g.push_foreign.as_deref(),
                "git.push_foreign",
                PushForeign::CHOICES,
            )?,
            diverged: choice(g.diverged.as_deref(), "git.diverged", Diverged::CHOICES)?,
        })
    }
}
