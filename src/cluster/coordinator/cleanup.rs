//! Once a phase commit is out, its task branches and base refs go from the
//! remote (one push of deletions), and the fetched copies from the project,
//! as worktree mode deletes its local task branches.

use crate::config::GitSettings;
use crate::roadmap::{PhaseId, slug};
use crate::vcs::transfer::{push_refspecs, remote_refs};
use crate::vcs::{Repo, VcsError};

/// Whether `rest` (`<run>/<name>`) names an attempt of `phase`: run ids
/// start with their date, names with the phase's slug and a `-`.
fn of_phase(rest: &str, phase: &str) -> bool {
    let mut parts = rest.splitn(2, '/');
    let (Some(run), Some(name)) = (parts.next(), parts.next()) else {
        return false;
    };
    run.starts_with(|c: char| c.is_ascii_digit())
        && !name.contains('/')
        && name.starts_with(&format!("{phase}-"))
}

/// The remote's refs of `phase`'s remote tasks: task branches and bases.
fn phase_refs(names: impl Iterator<Item = String>, phase: &str) -> Vec<String> {
    names
        .filter(|n| {
            if let Some(rest) = n.strip_prefix("refs/heads/roadmap-runner/") {
                return of_phase(rest, phase);
            }
            n.strip_prefix("refs/roadmap-runner/runs/")
                .and_then(|rest| rest.split_once("/base/"))
                .is_some_and(|(run, group)| of_phase(&format!("{run}/{group}"), phase))
        })
        .collect()
}

/// Deletes the phase's task branches and bases on the remote, and the
/// branches fetched from there. The number of refs deleted on the remote.
pub fn release_phase(repo: &Repo, git: &GitSettings, phase: &PhaseId) -> Result<usize, VcsError> {
    let phase = slug(phase.as_str());
    let url = repo.push_url(git)?;
    let on_remote = phase_refs(
        remote_refs(repo.git2(), &url, git)?
            .into_iter()
            .map(|(n, _)| n),
        &phase,
    );
    if !on_remote.is_empty() {
        let deletes: Vec<String> = on_remote.iter().map(|r| format!(":{r}")).collect();
        push_refspecs(repo.git2(), &url, &deletes, git)?;
    }
    let local: Vec<String> = repo
        .git2()
        .references_glob("refs/roadmap-runner/*")
        .map(|refs| {
            refs.flatten()
                .filter_map(|r| r.name().ok().map(str::to_string))
                .filter(|n| {
                    n.strip_prefix("refs/roadmap-runner/")
                        .is_some_and(|rest| of_phase(rest, &phase))
                })
                .collect()
        })
        .unwrap_or_default();
    for name in local {
        if let Ok(mut r) = repo.git2().find_reference(&name) {
            let _ = r.delete();
        }
    }
    Ok(on_remote.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_phase_s_runner_refs_are_chosen() {
        let names = [
            "refs/heads/main",
            "refs/heads/roadmap-runner/20261201T113600-1a/1-A-A1",
            "refs/heads/roadmap-runner/20261201T113600-1a/12-A-A1",
            "refs/heads/roadmap-runner/1-A-A1",
            "refs/heads/roadmap-runner/20261201T113600-1a/2-B-B1",
            "refs/roadmap-runner/runs/20261201T113600-1a/base/1-A",
            "refs/roadmap-runner/runs/20261201T113600-1a/base/12-A",
            "refs/roadmap-runner/base/1-A",
        ]
        .map(String::from);
        assert_eq!(
            phase_refs(names.into_iter(), "1"),
            [
                "refs/heads/roadmap-runner/20261201T113600-1a/1-A-A1",
                "refs/roadmap-runner/runs/20261201T113600-1a/base/1-A",
            ]
        );
    }
}
