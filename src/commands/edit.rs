//! `skip` and `rollback`: edit `completed_tasks.txt` the way a user would by
//! hand, with the group checked against the roadmap first, under the run
//! lock (exit 75 while a run holds it).

use super::{CommandError, Io};
use crate::cli::{RollbackArgs, SkipArgs};
use crate::exit;
use crate::project::Project;
use crate::roadmap::GroupKey;
use crate::status::{LockError, RunLock, Store, report_dir, report_file_name};

fn group_key(project: &Project, given: &str) -> Result<GroupKey, CommandError> {
    let key = GroupKey::parse_cli(given).ok_or_else(|| {
        CommandError::Usage(format!("`{given}`: expected PHASE:GROUP, e.g. `1:B`"))
    })?;
    let loaded = project.load_roadmap()?;
    let known = match key.depth() {
        0 => loaded.roadmap.group(&key).is_some(),
        _ => crate::runner::split::is_sub_group(project, &key),
    };
    if !known {
        return Err(CommandError::Usage(format!(
            "{key} is not a group of {} (see `roadmap-runner status`)",
            loaded.display
        )));
    }
    Ok(key)
}

/// The run lock, so an edit never races a run's own update of the same
/// files; `None` (after saying so) while a run holds it.
fn lock(project: &Project, io: &mut Io<'_>) -> Result<Option<RunLock>, CommandError> {
    crate::project::ensure_gitignore(project.status.path(), crate::project::STATUS_GITIGNORE)?;
    match RunLock::acquire(&project.status.lock_path()) {
        Ok(lock) => Ok(Some(lock)),
        Err(e @ LockError::Held { .. }) => {
            writeln!(io.err, "error: {e}")?;
            Ok(None)
        }
        Err(e) => Err(CommandError::Preflight(e.to_string())),
    }
}

pub fn skip(project: &Project, args: &SkipArgs, mut io: Io<'_>) -> Result<i32, CommandError> {
    let key = group_key(project, &args.group)?;
    let Some(_lock) = lock(project, &mut io)? else {
        return Ok(exit::LOCKED);
    };
    if Store::load(&project.status)?.mark_complete(&key)? {
        writeln!(io.out, "{key} marked complete: runs skip it from now on")?;
    } else {
        writeln!(io.out, "{key} was already complete")?;
    }
    Ok(exit::OK)
}

pub fn rollback(
    project: &Project,
    args: &RollbackArgs,
    mut io: Io<'_>,
) -> Result<i32, CommandError> {
    let key = group_key(project, &args.group)?;
    let Some(_lock) = lock(project, &mut io)? else {
        return Ok(exit::LOCKED);
    };
    // Earlier attempts no longer count: the next run starts the group afresh.
    let changed = Store::load(&project.status)?.roll_back(&key)?;
    if changed {
        writeln!(
            io.out,
            "{key} is pending again: the next run runs all its tasks"
        )?;
    } else {
        writeln!(
            io.out,
            "{key} was not complete; its earlier attempts are forgotten"
        )?;
    }
    if args.delete_report {
        // Where the runner wrote it: `[report] dir`, else the dialect's default.
        let (file, _) = crate::config::FileConfig::load(&project.dir)?;
        let dialect = project.load_roadmap()?.roadmap.dialect;
        let dir = report_dir(&project.dir, &file.report.dir.unwrap_or_default(), dialect);
        let report = dir.join(report_file_name(&key));
        match std::fs::remove_file(&report) {
            Ok(()) => writeln!(
                io.out,
                "deleted {}",
                crate::project::relative_display(&project.dir, &report)
            )?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CommandError::Preflight(format!(
                    "cannot delete {}: {e}",
                    report.display()
                )));
            }
        }
    }
    Ok(exit::OK)
}
