//! Cleanup: a group's worktrees once it is integrated, its branches and refs
//! once the phase commit holding their work is out, and `roadmap-runner
//! clean` for what runs left behind. Work found nowhere else is never
//! deleted: it is kept under `refs/roadmap-runner/archive/`.

use super::archive::archive_if_unique;
use super::create::{remove_worktree, target_dir_of};
use super::{
    BASE_REF_PREFIX, BRANCH_PREFIX, Context, MERGED_REF_PREFIX, WorktreeError, Worktrees,
    resolver_name, task_name,
};
use crate::config::WorktreeSettings;
use crate::roadmap::{GroupKey, PhaseId, slug};
use crate::vcs::Repo;
use git2::{Oid, Repository};
use std::path::{Path, PathBuf};

/// One of the runner's worktrees, for `status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorktreeInfo {
    pub name: String,
    pub path: PathBuf,
    /// Bytes on disk (the worktree and its Cargo target dir), links not followed.
    pub bytes: u64,
    /// The directory is gone (`clean` prunes it).
    pub missing: bool,
}

/// What `clean` did.
#[derive(Debug, Clone, Default)]
pub struct CleanReport {
    pub removed: Vec<PathBuf>,
    pub pruned: Vec<String>,
    pub deleted_branches: Vec<String>,
    /// `(branch, archive ref)`: work reachable from nowhere else, kept.
    pub archived: Vec<(String, String)>,
    /// Uncommitted changes of a removed worktree, committed on its branch first.
    pub saved: Vec<String>,
}

/// The worktrees of the repository that live under the runner's root.
pub fn list_worktrees(repo: &Repo, wts: &Worktrees) -> Result<Vec<WorktreeInfo>, WorktreeError> {
    let git = repo.git2();
    let names = git
        .worktrees()
        .context(|| "cannot list the worktrees".into())?;
    let mut out = Vec::new();
    for name in names.iter() {
        let Ok(Some(name)) = name else { continue };
        let Ok(wt) = git.find_worktree(name) else {
            continue;
        };
        let path = wt.path().to_path_buf();
        if !path.starts_with(&wts.root) {
            continue;
        }
        let bytes = disk_use(&path) + disk_use(&target_dir_of(&path));
        out.push(WorktreeInfo {
            name: name.to_string(),
            missing: !path.exists(),
            path,
            bytes,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The runner's worktrees of the project (none when it is not a git
/// repository), for `status`.
pub fn project_worktrees(project_dir: &Path, settings: &WorktreeSettings) -> Vec<WorktreeInfo> {
    let Ok(repo) = Repo::open(project_dir) else {
        return Vec::new();
    };
    let wts = Worktrees::new(project_dir, repo.workdir(), settings);
    list_worktrees(&repo, &wts).unwrap_or_default()
}

fn disk_use(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|rd| rd.flatten().map(|e| disk_use(&e.path())).sum())
        .unwrap_or(0)
}

/// Removes the worktrees of the group's tasks and its resolver. Their
/// branches stay until the phase commit is out.
pub fn remove_group_worktrees(
    repo: &Repo,
    wts: &Worktrees,
    key: &GroupKey,
    tasks: &[&str],
) -> Result<(), WorktreeError> {
    let git = repo.git2();
    let names = tasks
        .iter()
        .map(|t| task_name(key, t))
        .chain([resolver_name(key)]);
    for name in names {
        remove_worktree(git, &name, &wts.root.join(&name))?;
    }
    Ok(())
}

/// Once the phase commit is pushed (or made, with push off): deletes the
/// phase's task branches and its base and merged refs. Their work is in
/// that commit. Returns how many refs went.
pub fn release_phase(
    repo: &Repo,
    wts: &Worktrees,
    phase: &PhaseId,
) -> Result<usize, WorktreeError> {
    let git = repo.git2();
    let tail = format!("{}-", slug(phase.as_str()));
    let mut refs = Vec::new();
    for prefix in [
        format!("refs/heads/{BRANCH_PREFIX}"),
        BASE_REF_PREFIX.to_string(),
        MERGED_REF_PREFIX.to_string(),
    ] {
        refs.extend(runner_refs(git, &prefix)?.into_iter().filter(|(n, _)| {
            n.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with(&tail))
        }));
    }
    for (name, _) in &refs {
        if let Some(short) = name.strip_prefix("refs/heads/") {
            let wt = short.trim_start_matches(BRANCH_PREFIX);
            remove_worktree(git, wt, &wts.root.join(wt))?;
        }
        delete_ref(git, name)?;
    }
    Ok(refs.len())
}

/// Whether the runner left any task branch or runner ref in `repo`: a
/// run in shared mode releases committed phases only then, so that a run
/// that never used worktrees pays no history walk for it.
pub fn has_runner_refs(repo: &Repo) -> bool {
    let git = repo.git2();
    [
        format!("refs/heads/{BRANCH_PREFIX}"),
        BASE_REF_PREFIX.to_string(),
        MERGED_REF_PREFIX.to_string(),
    ]
    .iter()
    .any(|prefix| runner_refs(git, prefix).is_ok_and(|refs| !refs.is_empty()))
}

/// The complete phases whose commit is out: in HEAD's history and, when
/// pushing is on, on the remote (its remote-tracking branch holds it).
/// Their task branches and runner refs have done their job.
pub fn committed_phases<'a>(
    repo: &Repo,
    roadmap: &'a crate::roadmap::Roadmap,
    completed: &crate::status::CompletedGroups,
    git: &crate::config::GitSettings,
) -> Vec<&'a PhaseId> {
    use crate::plan::{GroupState, group_state};
    roadmap
        .phases
        .iter()
        .filter(|phase| {
            phase
                .groups
                .iter()
                .all(|g| group_state(&g.key(phase), phase, g, completed) != GroupState::Pending)
        })
        .filter(|phase| match repo.find_phase_commit(&phase.number) {
            Ok(Some(commit)) => !git.push || repo.is_on_remote(git, &commit),
            _ => false,
        })
        .map(|phase| &phase.number)
        .collect()
}

/// Every reference under `prefix`, with its target.
fn runner_refs(git: &Repository, prefix: &str) -> Result<Vec<(String, Oid)>, WorktreeError> {
    let iter = git
        .references_glob(&format!("{prefix}*"))
        .context(|| format!("cannot list {prefix}*"))?;
    Ok(iter
        .flatten()
        .filter_map(|r| Some((r.name().ok()?.to_string(), r.target()?)))
        .collect())
}

fn delete_ref(git: &Repository, name: &str) -> Result<(), WorktreeError> {
    match git.find_reference(name) {
        Ok(mut r) => r.delete().context(|| format!("cannot delete {name}")),
        Err(_) => Ok(()),
    }
}

/// `roadmap-runner clean`: removes the runner's worktrees that `live` does
/// not name (their uncommitted changes committed on their branch first),
/// prunes worktrees whose directory is gone, then deletes the runner's
/// branches that no worktree uses, archiving the ones whose work is
/// reachable from nowhere else. Call it under the run lock.
pub fn clean(
    repo: &Repo,
    wts: &Worktrees,
    live: &dyn Fn(&str) -> bool,
) -> Result<CleanReport, WorktreeError> {
    let git = repo.git2();
    let mut report = CleanReport::default();
    for info in list_worktrees(repo, wts)? {
        if info.missing {
            remove_worktree(git, &info.name, &info.path)?;
            report.pruned.push(info.name);
        } else if !live(&info.name) {
            if save_uncommitted(wts, &info.path)? {
                report.saved.push(info.name.clone());
            }
            remove_worktree(git, &info.name, &info.path)?;
            report.removed.push(info.path);
        }
    }
    let in_use: Vec<String> = list_worktrees(repo, wts)?
        .into_iter()
        .map(|w| format!("{BRANCH_PREFIX}{}", w.name))
        .collect();
    for (name, _) in runner_refs(git, &format!("refs/heads/{BRANCH_PREFIX}"))? {
        let short = name.trim_start_matches("refs/heads/").to_string();
        if in_use.contains(&short) {
            continue;
        }
        if let Some(archive) = archive_if_unique(git, &short, None)? {
            report.archived.push((short.clone(), archive));
        }
        delete_ref(git, &name)?;
        report.deleted_branches.push(short);
    }
    Ok(report)
}

/// Commits what a worktree holds that its branch does not; true if anything.
fn save_uncommitted(wts: &Worktrees, path: &Path) -> Result<bool, WorktreeError> {
    let repo = Repo::open(&wts.cwd_in(path))?;
    let saved = repo.commit_all_except(
        "roadmap-runner clean: uncommitted work of a removed worktree",
        &wts.excluded(),
    )?;
    Ok(saved.is_some())
}
