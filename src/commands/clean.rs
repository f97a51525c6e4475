//! `roadmap-runner clean`: the worktrees and task branches that runs left
//! behind (`--isolation worktree`). Under the run lock, so a worktree in use
//! is never reaped; a pending group's worktrees (a failed task kept for
//! inspection, a succeeded one not merged yet) stay.

use super::{CommandError, Io};
use crate::config::{FileConfig, Overrides, Settings};
use crate::plan::{GroupState, group_state};
use crate::project::Project;
use crate::status::{CompletedGroups, LockError, RunLock, RunView};
use crate::vcs::Repo;
use crate::worktree::{self, Worktrees, task_name};
use std::collections::BTreeSet;

pub fn run(project: &Project, io: Io<'_>) -> Result<i32, CommandError> {
    let (file, _) = FileConfig::load(&project.dir)?;
    let settings = Settings::resolve(&file, &Overrides::default())?;
    let repo = Repo::open(&project.dir).map_err(|e| CommandError::Preflight(e.to_string()))?;
    let _lock = match RunLock::acquire(&project.status.lock_path()) {
        Ok(lock) => lock,
        Err(e @ LockError::Held { .. }) => {
            writeln!(
                io.err,
                "error: {e}: its worktrees are in use, nothing was removed"
            )?;
            return Ok(crate::exit::LOCKED);
        }
        Err(e) => return Err(CommandError::Preflight(e.to_string())),
    };
    // The status files as they are now, under the lock.
    let view = RunView::load(&project.status)?.view;
    let live = live_worktrees(project, view.completed())?;
    let wts = Worktrees::new(&project.dir, repo.workdir(), &settings.worktree);
    // The refs of phases whose commit is out go, as a run would release them.
    let released = release_committed(project, &repo, &wts, &settings, view.completed())?;
    for (phase, n) in &released {
        writeln!(
            io.out,
            "deleted the {} of committed Phase {phase}",
            crate::text::plural(*n, "runner ref")
        )?;
    }
    let report = worktree::clean(&repo, &wts, &|name| live.contains(name))
        .map_err(|e| CommandError::Preflight(e.to_string()))?;
    for name in &report.saved {
        writeln!(
            io.out,
            "saved the uncommitted changes of {name} on its branch"
        )?;
    }
    for path in &report.removed {
        writeln!(io.out, "removed worktree {}", path.display())?;
    }
    for name in &report.pruned {
        writeln!(io.out, "pruned worktree {name} (its directory was gone)")?;
    }
    for (branch, archive) in &report.archived {
        writeln!(
            io.out,
            "kept {branch} as {archive}: its commits are reachable from neither HEAD nor the remote (`git log {archive}`; delete it with `git update-ref -d {archive}`)"
        )?;
    }
    for branch in &report.deleted_branches {
        writeln!(io.out, "deleted branch {branch}")?;
    }
    let nothing = released.is_empty()
        && report.removed.is_empty()
        && report.pruned.is_empty()
        && report.deleted_branches.is_empty();
    if nothing {
        writeln!(io.out, "nothing to clean")?;
    }
    Ok(crate::exit::OK)
}

/// Releases every committed phase (see [`worktree::committed_phases`]):
/// its task branches, base and merged refs. Returns how many refs each lost.
fn release_committed(
    project: &Project,
    repo: &Repo,
    wts: &Worktrees,
    settings: &Settings,
    completed: &CompletedGroups,
) -> Result<Vec<(String, usize)>, CommandError> {
    let loaded = project.load_roadmap()?;
    let mut out = Vec::new();
    for phase in worktree::committed_phases(repo, &loaded.roadmap, completed, &settings.git) {
        let n = worktree::release_phase(repo, wts, phase)
            .map_err(|e| CommandError::Preflight(e.to_string()))?;
        if n > 0 {
            out.push((phase.to_string(), n));
        }
    }
    Ok(out)
}

/// The worktree names of every task of a pending group: still needed.
fn live_worktrees(
    project: &Project,
    completed: &CompletedGroups,
) -> Result<BTreeSet<String>, CommandError> {
    let loaded = project.load_roadmap()?;
    Ok(loaded
        .roadmap
        .groups()
        .filter(|(p, g)| group_state(&g.key(p), p, g, completed) == GroupState::Pending)
        .flat_map(|(p, g)| {
            let key = g.key(p);
            g.tasks
                .iter()
                .map(move |t| task_name(&key, &t.id))
                .collect::<Vec<_>>()
        })
        .collect())
}
