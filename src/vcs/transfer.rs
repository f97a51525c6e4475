//! Refs sent to or fetched from a URL (not a named remote), with the same
//! unattended credentials as the branch push: the cluster's base refs and
//! task branches, which go between machines through the project's remote.

use super::push::{Credentials, callbacks, push_callbacks};
use super::{Repo, VcsError};
use crate::config::GitSettings;
use git2::{FetchOptions, PushOptions, Remote, Repository};
use std::cell::RefCell;

/// An anonymous remote for `url` and the credentials to try on it; errors
/// name `what` was being done, and the URL without its user info.
struct Transfer<'r> {
    remote: Remote<'r>,
    creds: RefCell<Credentials>,
    what: String,
}

impl<'r> Transfer<'r> {
    fn new(
        git: &'r Repository,
        url: &str,
        settings: &GitSettings,
        what: impl FnOnce(&str) -> String,
    ) -> Result<Transfer<'r>, VcsError> {
        let what = what(&crate::userinfo::without_userinfo(url));
        let fail = |source| VcsError::Git {
            context: what.clone(),
            source,
        };
        let remote = git.remote_anonymous(url).map_err(fail)?;
        let config = git.config().map_err(fail)?;
        Ok(Transfer {
            remote,
            creds: RefCell::new(Credentials::new(settings, config)),
            what,
        })
    }

    fn fail(&self, source: git2::Error) -> VcsError {
        VcsError::Git {
            context: self.what.clone(),
            source,
        }
    }
}

/// Pushes `refspecs` (`+<oid>:refs/...` forces, `:refs/...` deletes) to
/// `url`; a ref the remote refused is an error naming it.
pub fn push_refspecs(
    git: &Repository,
    url: &str,
    refspecs: &[String],
    settings: &GitSettings,
) -> Result<(), VcsError> {
    let specs: Vec<&str> = refspecs.iter().map(String::as_str).collect();
    let mut t = Transfer::new(git, url, settings, |u| {
        format!("cannot push {} to {u}", specs.join(" "))
    })?;
    let rejected: RefCell<Option<String>> = RefCell::new(None);
    let mut options = PushOptions::new();
    options.remote_callbacks(push_callbacks(&t.creds, &rejected));
    let pushed = t.remote.push(&specs, Some(&mut options));
    drop(options);
    pushed.map_err(|e| t.fail(e))?;
    match rejected.into_inner() {
        Some(reason) => Err(VcsError::PushRejected {
            remote: crate::userinfo::without_userinfo(url),
            branch: specs.join(" "),
            reason,
        }),
        None => Ok(()),
    }
}

/// Fetches `refspecs` (`+refs/x:refs/y`) from `url`.
pub fn fetch_refspecs(
    git: &Repository,
    url: &str,
    refspecs: &[String],
    settings: &GitSettings,
) -> Result<(), VcsError> {
    let specs: Vec<&str> = refspecs.iter().map(String::as_str).collect();
    let mut t = Transfer::new(git, url, settings, |u| {
        format!("cannot fetch {} from {u}", specs.join(" "))
    })?;
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(&t.creds));
    let fetched = t
        .remote
        .fetch(&specs, Some(&mut options), Some("roadmap-runner: fetch"));
    drop(options);
    fetched.map_err(|e| t.fail(e))
}

/// The id `refname` has on the remote at `url`, if it has it.
pub fn remote_ref(
    git: &Repository,
    url: &str,
    refname: &str,
    settings: &GitSettings,
) -> Result<Option<git2::Oid>, VcsError> {
    Ok(remote_refs(git, url, settings)?
        .into_iter()
        .find(|(name, _)| name == refname)
        .map(|(_, id)| id))
}

/// Every ref of the remote at `url` (`git ls-remote`).
pub fn remote_refs(
    git: &Repository,
    url: &str,
    settings: &GitSettings,
) -> Result<Vec<(String, git2::Oid)>, VcsError> {
    let mut t = Transfer::new(git, url, settings, |u| {
        format!("cannot list the refs of {u}")
    })?;
    let listed = {
        let connection = t
            .remote
            .connect_auth(git2::Direction::Fetch, Some(callbacks(&t.creds)), None)
            .map_err(|e| VcsError::Git {
                context: t.what.clone(),
                source: e,
            })?;
        connection.list().map(|heads| {
            heads
                .iter()
                .map(|h| (h.name().to_string(), h.oid()))
                .collect::<Vec<_>>()
        })
    };
    listed.map_err(|e| t.fail(e))
}

impl Repo {
    /// The URL of the remote pushes go to (`[git] remote`, the branch's
    /// upstream, else `origin`).
    pub fn push_url(&self, settings: &GitSettings) -> Result<String, VcsError> {
        let target = self.push_target(settings)?;
        let remote = self.find_remote(&target.remote)?;
        Ok(super::push::remote_url(&remote))
    }
}
