//! Work found nowhere else is never deleted: before a runner branch is
//! moved or deleted, a tip that HEAD, the remote and the runner's refs do
//! not hold is kept under `refs/roadmap-runner/archive/`. Creating and
//! cleaning worktrees both go through here.

use super::{
    ARCHIVE_REF_PREFIX, BASE_REF_PREFIX, BRANCH_PREFIX, Context, MERGED_REF_PREFIX, WorktreeError,
};
use git2::{BranchType, Oid, Repository};

/// Whether `id` is HEAD, a remote-tracking branch, a group's base or merged
/// state (what the next phase commit holds), `also`, or reachable from one.
fn reachable(git: &Repository, id: Oid, also: Option<Oid>) -> bool {
    let mut tips: Vec<Oid> = git
        .head()
        .ok()
        .and_then(|h| h.target())
        .into_iter()
        .collect();
    tips.extend(also);
    let runner = [BASE_REF_PREFIX, MERGED_REF_PREFIX].map(|p| format!("{p}*"));
    for glob in std::iter::once("refs/remotes/*").chain(runner.iter().map(String::as_str)) {
        if let Ok(refs) = git.references_glob(glob) {
            tips.extend(refs.flatten().filter_map(|r| r.target()));
        }
    }
    tips.iter()
        .any(|t| *t == id || git.graph_descendant_of(*t, id).unwrap_or(false))
}

/// Before a branch is moved or deleted: when its tip is reachable from
/// nowhere else (HEAD, the remote, `also`), keeps it under
/// `refs/roadmap-runner/archive/<name>-<time>`. Returns that ref.
pub fn archive_if_unique(
    git: &Repository,
    branch: &str,
    also: Option<Oid>,
) -> Result<Option<String>, WorktreeError> {
    let Ok(b) = git.find_branch(branch, BranchType::Local) else {
        return Ok(None);
    };
    let Some(tip) = b.get().target() else {
        return Ok(None);
    };
    if reachable(git, tip, also) {
        return Ok(None);
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = format!(
        "{ARCHIVE_REF_PREFIX}{}-{stamp}",
        branch.trim_start_matches(BRANCH_PREFIX)
    );
    git.reference(&name, tip, false, "roadmap-runner: archived work")
        .context(|| format!("cannot keep {branch} as {name}"))?;
    Ok(Some(name))
}
