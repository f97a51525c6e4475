//! Pushing the branch, with credentials that work unattended.
//!
//! Credentials are tried in order, each at most once (libgit2 calls the
//! credentials callback again after every failed attempt, so without a count
//! a wrong password loops forever):
//!
//! 1. an HTTPS token from the environment: `[git] token_env`, else `GIT_TOKEN`,
//!    else `GITHUB_TOKEN`, as user/password (user from the URL, else
//!    `x-access-token`, which GitHub, GitLab and Gitea accept for tokens);
//! 2. for SSH: the ssh-agent (`SSH_AUTH_SOCK`), then the unencrypted keys
//!    `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` (cron jobs usually have no agent);
//! 3. git's credential helper (`credential.helper` in git config);
//! 4. the platform default (NTLM/Negotiate).
//!
//! libgit2 does not read `~/.ssh/config` nor run `core.sshCommand`; the
//! authentication error says so.

use super::{Context, Repo, VcsError};
use crate::config::GitSettings;
use git2::{Cred, CredentialType, ErrorCode, FetchOptions, PushOptions, RemoteCallbacks};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Token variables read when `[git] token_env` is not set.
pub const DEFAULT_TOKEN_ENVS: &[&str] = &["GIT_TOKEN", "GITHUB_TOKEN"];

/// Calls of the credentials callback before giving up, whatever is left to try.
const MAX_CREDENTIAL_CALLS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushOutcome {
    pub remote: String,
    pub url: String,
    pub branch: String,
    /// The commit the remote branch now points at.
    pub commit: String,
    /// Commits that were ahead of the remote-tracking branch before the push.
    pub commits_pushed: usize,
    /// The branch had no upstream and now tracks `<remote>/<branch>`.
    pub upstream_set: bool,
}

pub(super) struct Target {
    pub(super) remote: String,
    pub(super) branch: String,
}

impl Repo {
    /// The remote and branch a push goes to: `[git] remote` / `branch`, else
    /// the current branch and its upstream remote, else `origin`.
    pub(super) fn push_target(&self, settings: &GitSettings) -> Result<Target, VcsError> {
        let branch = match settings.branch.as_deref().map(str::trim) {
            Some(b) if !b.is_empty() => b.strip_prefix("refs/heads/").unwrap_or(b).to_string(),
            _ => self
                .current_branch()
                .ok_or_else(|| VcsError::DetachedHead {
                    dir: self.workdir.clone(),
                })?,
        };
        let remote = match settings.remote.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => self
                .repo
                .config()
                .ok()
                .and_then(|c| c.get_string(&format!("branch.{branch}.remote")).ok())
                .filter(|r| !r.is_empty() && r != ".")
                .unwrap_or_else(|| "origin".to_string()),
        };
        Ok(Target { remote, branch })
    }

    pub(super) fn find_remote(&self, name: &str) -> Result<git2::Remote<'_>, VcsError> {
        self.repo.find_remote(name).map_err(|e| match e.code() {
            ErrorCode::NotFound | ErrorCode::InvalidSpec => VcsError::NoRemote {
                remote: name.to_string(),
                dir: self.workdir.clone(),
            },
            _ => VcsError::Git {
                context: format!("cannot read remote `{name}`"),
                source: e,
            },
        })
    }

    /// Commits on the local branch that its remote-tracking branch
    /// (`refs/remotes/<remote>/<branch>`) does not have — what the next push
    /// sends. Every commit of the branch when nothing was pushed yet (at most
    /// [`super::HISTORY_LIMIT`]); 0 before the first commit.
    pub fn unpushed_commits(&self, settings: &GitSettings) -> Result<usize, VcsError> {
        let target = self.push_target(settings)?;
        self.find_remote(&target.remote)?;
        self.ahead_of_tracking(&target)
    }

    /// How many commits [`Repo::unpushed`] lists: one walk for both.
    fn ahead_of_tracking(&self, target: &Target) -> Result<usize, VcsError> {
        Ok(self.unpushed_to(target)?.len())
    }

    /// Pushes the branch (`refs/heads/<b>:refs/heads/<b>`, never forced) and
    /// sets its upstream when it had none.
    pub fn push(&self, settings: &GitSettings) -> Result<PushOutcome, VcsError> {
        let target = self.push_target(settings)?;
        let Target { remote, branch } = &target;
        let local_ref = format!("refs/heads/{branch}");
        let Some(local) = self.oid(&local_ref) else {
            return Err(
                if self.current_branch().as_deref() == Some(branch.as_str()) {
                    VcsError::Unborn {
                        branch: branch.clone(),
                    }
                } else {
                    VcsError::NoBranch {
                        branch: branch.clone(),
                    }
                },
            );
        };
        let mut git_remote = self.find_remote(remote)?;
        let url = remote_url(&git_remote);
        let commits_pushed = self.ahead_of_tracking(&target)?;

        let creds = self.credentials(settings)?;
        let rejected: RefCell<Option<String>> = RefCell::new(None);
        let callbacks = push_callbacks(&creds, &rejected);
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        let refspec = format!("{local_ref}:{local_ref}");
        let result = git_remote.push(&[refspec.as_str()], Some(&mut options));
        drop(options);

        if let Err(e) = result {
            return Err(transfer_error(e, creds.into_inner(), &target, url, "push"));
        }
        if let Some(reason) = rejected.into_inner() {
            return Err(VcsError::PushRejected {
                remote: remote.clone(),
                branch: branch.clone(),
                reason,
            });
        }
        let upstream_set = self.set_upstream_if_missing(&target)?;
        Ok(PushOutcome {
            remote: remote.clone(),
            url,
            branch: branch.clone(),
            commit: local.to_string(),
            commits_pushed,
            upstream_set,
        })
    }

    /// `branch.<b>.remote` / `branch.<b>.merge`, as `git push -u` sets them.
    fn set_upstream_if_missing(&self, target: &Target) -> Result<bool, VcsError> {
        let mut config = self
            .repo
            .config()
            .context(|| "cannot read git config".into())?;
        let key = |k: &str| format!("branch.{}.{k}", target.branch);
        if config.get_string(&key("merge")).is_ok() {
            return Ok(false);
        }
        config
            .set_str(&key("remote"), &target.remote)
            .and_then(|()| config.set_str(&key("merge"), &format!("refs/heads/{}", target.branch)))
            .context(|| format!("pushed, but cannot set the upstream of `{}`", target.branch))?;
        Ok(true)
    }
}

impl Repo {
    /// Fetches the remote's branch into its remote-tracking branch
    /// (`+refs/heads/<b>:refs/remotes/<remote>/<b>`), with the same
    /// credentials as a push; returns the name of the remote-tracking ref.
    pub(super) fn fetch_upstream(&self, settings: &GitSettings) -> Result<String, VcsError> {
        let target = self.push_target(settings)?;
        let mut git_remote = self.find_remote(&target.remote)?;
        let url = remote_url(&git_remote);
        let creds = self.credentials(settings)?;
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(&creds));
        let tracking = target.tracking_ref();
        let refspec = format!("+refs/heads/{}:{tracking}", target.branch);
        let result = git_remote.fetch(
            &[refspec.as_str()],
            Some(&mut options),
            Some("roadmap-runner: fetch"),
        );
        drop(options);
        result.map_err(|e| transfer_error(e, creds.into_inner(), &target, url, "fetch"))?;
        Ok(tracking)
    }

    fn credentials(&self, settings: &GitSettings) -> Result<RefCell<Credentials>, VcsError> {
        let config = self
            .repo
            .config()
            .context(|| "cannot read git config".into())?;
        Ok(RefCell::new(Credentials::new(settings, config)))
    }
}

impl Target {
    pub(super) fn tracking_ref(&self) -> String {
        format!("refs/remotes/{}/{}", self.remote, self.branch)
    }
}

pub(super) fn remote_url(remote: &git2::Remote<'_>) -> String {
    remote
        .pushurl()
        .ok()
        .flatten()
        .or_else(|| remote.url().ok())
        .unwrap_or("")
        .to_string()
}

/// A push's callbacks: credentials, and the first ref the remote refused
/// (with its reason) kept in `rejected`.
pub(super) fn push_callbacks<'a>(
    creds: &'a RefCell<Credentials>,
    rejected: &'a RefCell<Option<String>>,
) -> RemoteCallbacks<'a> {
    let mut cbs = callbacks(creds);
    cbs.push_update_reference(move |refname, status| {
        if let Some(reason) = status {
            rejected
                .borrow_mut()
                .get_or_insert_with(|| format!("{refname}: {reason}"));
        }
        Ok(())
    });
    cbs
}

/// The credentials callback over `creds`, for a push or a fetch.
pub(super) fn callbacks(creds: &RefCell<Credentials>) -> RemoteCallbacks<'_> {
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(|url, username, allowed| creds.borrow_mut().next(url, username, allowed));
    callbacks
}

/// What a failed push or fetch (`action`) means, in words that say what to do.
fn transfer_error(
    e: git2::Error,
    creds: Credentials,
    target: &Target,
    url: String,
    action: &'static str,
) -> VcsError {
    let Target { remote, branch } = target;
    if action == "push" && e.code() == ErrorCode::NotFastForward {
        VcsError::PushRejected {
            remote: remote.clone(),
            branch: branch.clone(),
            reason: "the remote branch has commits that the local branch does not have \
                     (non-fast-forward)"
                .into(),
        }
    } else if e.code() == ErrorCode::Auth || creds.gave_up {
        VcsError::PushAuth {
            remote: remote.clone(),
            hint: creds.hint(&url),
            url,
            tried: creds.tried_summary(),
            action,
        }
    } else if action == "push" {
        VcsError::Push {
            remote: remote.clone(),
            message: explain_push_error(&e, &url),
            url,
            branch: branch.clone(),
        }
    } else {
        VcsError::Fetch {
            remote: remote.clone(),
            message: explain_push_error(&e, &url),
            url,
            branch: branch.clone(),
        }
    }
}

/// git2's message, with what it means when it misleads.
fn explain_push_error(e: &git2::Error, url: &str) -> String {
    let message = e.message().trim_end_matches('.').to_string();
    let local = !url.contains("://") && !is_scp_like(url);
    if local && !Path::new(url).exists() {
        return format!("the remote is a local path and {url} does not exist");
    }
    if message.contains("unsupported URL protocol") {
        return format!(
            "{message} (`{url}`: use an https://, ssh:// or user@host:path URL, or a local path)"
        );
    }
    message
}

/// `git@github.com:owner/repo.git`: host, colon, path, no slash before the colon.
fn is_scp_like(url: &str) -> bool {
    if url.contains("://") {
        return false;
    }
    match url.find(':') {
        Some(colon) => !url[..colon].contains('/') && colon > 1,
        None => false,
    }
}

/// The credential sources, each tried once, in order.
pub(super) struct Credentials {
    token: Option<(String, String)>,
    /// `[git] token_env` names a variable that is not set.
    token_env_unset: Option<String>,
    ssh_keys: Vec<PathBuf>,
    config: git2::Config,
    /// Next source to try.
    stage: usize,
    /// Which key file is next within the key stage.
    key_index: usize,
    calls: usize,
    tried: Vec<String>,
    gave_up: bool,
    ssh: bool,
}

const STAGE_TOKEN: usize = 0;
const STAGE_AGENT: usize = 1;
const STAGE_KEYS: usize = 2;
const STAGE_HELPER: usize = 3;
const STAGE_DEFAULT: usize = 4;

impl Credentials {
    pub(super) fn new(settings: &GitSettings, config: git2::Config) -> Self {
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name.to_string(), v.trim().to_string()))
        };
        let (token, token_env_unset) = match settings.token_env.as_deref() {
            Some(name) => match env(name) {
                Some(t) => (Some(t), None),
                None => (
                    DEFAULT_TOKEN_ENVS.iter().find_map(|n| env(n)),
                    Some(name.to_string()),
                ),
            },
            None => (DEFAULT_TOKEN_ENVS.iter().find_map(|n| env(n)), None),
        };
        let ssh_keys = std::env::var_os("HOME")
            .map(PathBuf::from)
            .map(|home| {
                ["id_ed25519", "id_ecdsa", "id_rsa"]
                    .iter()
                    .map(|k| home.join(".ssh").join(k))
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        Credentials {
            token,
            token_env_unset,
            ssh_keys,
            config,
            stage: STAGE_TOKEN,
            key_index: 0,
            calls: 0,
            tried: Vec::new(),
            gave_up: false,
            ssh: false,
        }
    }

    fn give_up(&mut self, why: &str) -> Result<Cred, git2::Error> {
        self.gave_up = true;
        Err(git2::Error::from_str(why))
    }

    fn next(
        &mut self,
        url: &str,
        username: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        self.calls += 1;
        if self.calls > MAX_CREDENTIAL_CALLS {
            return self.give_up("too many authentication attempts");
        }
        // SSH asks for the user name first when the URL has none.
        if allowed == CredentialType::USERNAME {
            return Cred::username(username.unwrap_or("git"));
        }
        let userpass = allowed.contains(CredentialType::USER_PASS_PLAINTEXT);
        let ssh_key = allowed.contains(CredentialType::SSH_KEY);
        self.ssh |= ssh_key;
        while self.stage <= STAGE_DEFAULT {
            match self.stage {
                STAGE_TOKEN => {
                    self.stage += 1;
                    if let (true, Some((name, token))) = (userpass, &self.token) {
                        self.tried.push(format!("token from ${name}"));
                        return Cred::userpass_plaintext(
                            username.unwrap_or("x-access-token"),
                            token,
                        );
                    }
                }
                STAGE_AGENT => {
                    self.stage += 1;
                    if ssh_key {
                        if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                            self.tried.push("ssh-agent".into());
                            return Cred::ssh_key_from_agent(username.unwrap_or("git"));
                        }
                        self.tried
                            .push("ssh-agent (not running: SSH_AUTH_SOCK is not set)".into());
                    }
                }
                STAGE_KEYS => {
                    if ssh_key && self.key_index < self.ssh_keys.len() {
                        let key = self.ssh_keys[self.key_index].clone();
                        self.key_index += 1;
                        self.tried.push(format!("key {}", key.display()));
                        return Cred::ssh_key(username.unwrap_or("git"), None, &key, None);
                    }
                    self.stage += 1;
                }
                STAGE_HELPER => {
                    self.stage += 1;
                    if userpass {
                        match Cred::credential_helper(&self.config, url, username) {
                            Ok(cred) => {
                                self.tried.push("git credential helper".into());
                                return Ok(cred);
                            }
                            Err(_) => self.tried.push(
                                "git credential helper (none configured, or it had nothing)".into(),
                            ),
                        }
                    }
                }
                _ => {
                    self.stage += 1;
                    if allowed.contains(CredentialType::DEFAULT) {
                        self.tried.push("default credentials".into());
                        return Cred::default();
                    }
                }
            }
        }
        self.give_up("no more credentials to try")
    }

    fn tried_summary(&self) -> String {
        if self.tried.is_empty() {
            "nothing (the remote asked for no credential type the runner has)".into()
        } else {
            self.tried.join(", ")
        }
    }

    fn hint(&self, url: &str) -> String {
        let mut hint = String::new();
        if let Some(name) = &self.token_env_unset {
            hint.push_str(&format!("${name} (from [git] token_env) is not set. "));
        }
        let ssh = self.ssh || url.starts_with("ssh://") || is_scp_like(url);
        if ssh {
            hint.push_str(
                "For SSH, load a key into an ssh-agent the runner can reach (cron does not see \
                 your login session's agent) or put an unencrypted deploy key at \
                 ~/.ssh/id_ed25519 of the user the runner runs as; ~/.ssh/config and \
                 core.sshCommand are not read.",
            );
        } else {
            hint.push_str(
                "For HTTPS, put a token with push rights in $GIT_TOKEN (or name the variable \
                 with [git] token_env in roadmap-runner.toml), or configure a git credential \
                 helper that works without a terminal.",
            );
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scp_like_urls() {
        assert!(is_scp_like("git@github.com:owner/repo.git"));
        assert!(is_scp_like("host:repo"));
        assert!(!is_scp_like("https://github.com/owner/repo.git"));
        assert!(!is_scp_like("ssh://git@host:22/repo"));
        assert!(!is_scp_like("/srv/git/repo.git"));
        assert!(!is_scp_like("./a:b/repo"));
    }
}
