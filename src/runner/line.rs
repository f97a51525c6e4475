//! The line between the runner's work and the user's: a snapshot of the
//! working tree (a git tree object, no checkout) before each group's first
//! agent and after each group, recorded through the store. A later run
//! compares the tree with the latest one: what changed since a group ended
//! was changed by hand, and is kept out of the phase commit (the decision's
//! `left_out`); what changed since a group started that never ended (a
//! killed run) is that group's work.

use super::Ctx;
use crate::events::{Event, Reporter};
use crate::roadmap::GroupKey;
use crate::status::SnapshotPoint;
use crate::vcs::{LeftOut, TRANSIENT_FILES};

/// How many left-out paths a warning names.
const NAMED_PATHS: usize = 20;

impl Ctx<'_, '_, '_> {
    /// Records the working tree as the runner holds it at `point` of the
    /// group. The start of a group reuses the tree the previous group of the
    /// run handed back (nothing ran in between).
    pub(super) fn snapshot(
        &mut self,
        key: &GroupKey,
        point: SnapshotPoint,
        reporter: &mut dyn Reporter,
    ) {
        let Some(repo) = self.inputs.repo else {
            return;
        };
        let tree = match (point, self.held.take()) {
            (SnapshotPoint::Start, Some(tree)) => Ok(tree),
            _ => repo
                .snapshot(self.left_out.as_ref(), TRANSIENT_FILES)
                .map(|s| s.tree),
        };
        let left_out = self
            .left_out
            .as_ref()
            .map(|l| l.paths.clone())
            .unwrap_or_default();
        let recorded = match tree {
            Ok(tree) => {
                if point == SnapshotPoint::End {
                    self.held = Some(tree.clone());
                }
                self.store
                    .snapshot(key, point, tree, left_out)
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = recorded {
            reporter.report(&Event::Warning {
                message: format!(
                    "{key}: cannot record a snapshot of the working tree ({e}): a later run cannot tell the changes made after it from this run's"
                ),
            });
        }
    }
}

/// `left out of the phase commit: mynotes.txt, src/index.js (changed by
/// hand since the last run) ...`, said once at the start of the run.
pub(super) fn left_out_warning(left_out: &LeftOut) -> String {
    let names: Vec<&str> = left_out
        .paths
        .keys()
        .take(NAMED_PATHS)
        .map(String::as_str)
        .collect();
    let more = left_out.paths.len().saturating_sub(NAMED_PATHS);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let list = names.join(", ");
    format!(
        "left out of the phase commit: {list}{more} (changed by hand since the last run); they stay in the working tree as they are (the gate sees them, the commit does not). To include them, commit them yourself first, or run with --allow-dirty to take them in"
    )
}
