//! Refs sent to or fetched from a URL (not a named remote), with the same
//! unattended credentials as the branch push: the cluster's base refs and
//! task branches, which go between machines through the project's remote.

use super::push::{Credentials, callbacks};
use super::{Repo, VcsError};
use crate::config::GitSettings;
use git2::{FetchOptions, PushOptions, Repository};
use std::cell::RefCell;

/// Pushes `refspecs` (`+<oid>:refs/...` forces) to `url`; a ref the remote
/// refused is an error naming it.
pub fn push_refspecs(
    git: &Repository,
    url: &str,
    refspecs: &[String],
    settings: &GitSettings,
) -> Result<(), VcsError> {
    let shown = crate::cluster::protocol::without_userinfo(url);
    let fail = |source: git2::Error| VcsError::Git {
        context: format!("cannot push {} to {shown}", refspecs.join(" ")),
        source,
    };
    let mut remote = git.remote_anonymous(url).map_err(fail)?;
    let config = git.config().map_err(fail)?;
    let creds = RefCell::new(Credentials::new(settings, config));
    let rejected: RefCell<Option<String>> = RefCell::new(None);
    let mut cbs = callbacks(&creds);
    cbs.push_update_reference(|refname, status| {
        if let Some(reason) = status {
            rejected
                .borrow_mut()
                .get_or_insert_with(|| format!("{refname}: {reason}"));
        }
        Ok(())
    });
    let mut options = PushOptions::new();
    options.remote_callbacks(cbs);
    let specs: Vec<&str> = refspecs.iter().map(String::as_str).collect();
    remote.push(&specs, Some(&mut options)).map_err(fail)?;
    drop(options);
    match rejected.into_inner() {
        Some(reason) => Err(VcsError::PushRejected {
            remote: shown.clone(),
            branch: refspecs.join(" "),
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
    let shown = crate::cluster::protocol::without_userinfo(url);
    let fail = |source: git2::Error| VcsError::Git {
        context: format!("cannot fetch {} from {shown}", refspecs.join(" ")),
        source,
    };
    let mut remote = git.remote_anonymous(url).map_err(fail)?;
    let config = git.config().map_err(fail)?;
    let creds = RefCell::new(Credentials::new(settings, config));
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(&creds));
    let specs: Vec<&str> = refspecs.iter().map(String::as_str).collect();
    remote
        .fetch(&specs, Some(&mut options), Some("roadmap-runner: fetch"))
        .map_err(fail)
}

impl Repo {
    /// The URL of the remote pushes go to (`[git] remote`, the branch's
    /// upstream, else `origin`).
    pub fn push_url(&self, settings: &GitSettings) -> Result<String, VcsError> {
        let target = self.push_target(settings)?;
        let remote = self.find_remote(&target.remote)?;
        Ok(remote
            .pushurl()
            .ok()
            .flatten()
            .or_else(|| remote.url().ok())
            .unwrap_or("")
            .to_string())
    }
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
    let shown = crate::cluster::protocol::without_userinfo(url);
    let fail = |source: git2::Error| VcsError::Git {
        context: format!("cannot list the refs of {shown}"),
        source,
    };
    let mut remote = git.remote_anonymous(url).map_err(fail)?;
    let config = git.config().map_err(fail)?;
    let creds = RefCell::new(Credentials::new(settings, config));
    let connection = remote
        .connect_auth(git2::Direction::Fetch, Some(callbacks(&creds)), None)
        .map_err(fail)?;
    let refs = connection
        .list()
        .map_err(fail)?
        .iter()
        .map(|h| (h.name().to_string(), h.oid()))
        .collect();
    Ok(refs)
}
