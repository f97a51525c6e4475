//! `roadmap-runner status`: the phase → group → task tree with each group's
//! state and what the next run would do first.

mod build;
mod text;

use super::{CommandError, Io};
use crate::cli::StatusArgs;
use crate::project::Project;
use crate::report::tree::{GroupDoc, PhaseDoc, TaskDoc};
use crate::resume::RunState;
use crate::roadmap::PhaseId;
use build::build;
use serde::Serialize;
use text::render_text;

#[derive(Debug, Serialize)]
struct StatusDoc {
    roadmap: String,
    phases: Vec<PhaseDoc>,
    next: Option<NextDoc>,
    /// Who holds the run lock (a run is going on), from the lock file.
    running: Option<String>,
    /// What runs now, from `status/in_progress_tasks.txt`.
    in_progress: Option<InProgressDoc>,
    /// An earlier run that stopped mid-group without cleaning up.
    interrupted: Option<String>,
    /// Local commits (e.g. a phase whose push was rejected) not yet pushed.
    unpushed_commits: Option<usize>,
    warnings: Vec<String>,
    /// The runner's task worktrees that exist (`--isolation worktree`).
    worktrees: Vec<crate::worktree::WorktreeInfo>,
}

#[derive(Debug, Serialize)]
struct InProgressDoc {
    group: Option<String>,
    started: Option<chrono::DateTime<chrono::Utc>>,
    elapsed_secs: Option<i64>,
    tasks: Vec<RunningTaskDoc>,
}

#[derive(Debug, Serialize)]
struct RunningTaskDoc {
    id: String,
    pid: u32,
    started: chrono::DateTime<chrono::Utc>,
    elapsed_secs: i64,
    log: Option<String>,
    /// With `--nats`: the worker running it (`pid` is 0 then).
    #[serde(skip_serializing_if = "Option::is_none")]
    worker: Option<String>,
}

/// What the next run does first, from the one decision.
#[derive(Debug, Serialize)]
struct NextDoc {
    /// `run`, `gate_only`, `record_complete`, `done_in_roadmap`, `commit`,
    /// `push` or `stop`.
    action: &'static str,
    phase: Option<PhaseId>,
    group: Option<String>,
    /// The agents that start (none for a gate-only group).
    tasks: Vec<String>,
    /// The sentence `status` prints after "Next:".
    text: String,
}

pub fn run(project: &Project, args: &StatusArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let loaded = project.load_roadmap()?;
    let (file, _) = crate::config::FileConfig::load(&project.dir)?;
    let settings = crate::config::Settings::resolve(&file, &crate::config::Overrides::default())?;
    let repo = crate::vcs::Repo::open(&project.dir).ok();
    let state = RunState::read(&project.status, repo.as_ref(), &settings.git)?;
    let doc = build(project, &loaded, &state, &settings);
    if loaded.error_count() > 0 && !args.json {
        // The errors first: a roadmap that was not read is not "complete".
        writeln!(io.err, "{}", loaded.render_diagnostics())?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *io.out, &doc).map_err(std::io::Error::from)?;
        writeln!(io.out)?;
    } else {
        render_text(&doc, &loaded, args.all, io.out)?;
        for w in &doc.warnings {
            writeln!(io.err, "warning: {w}")?;
        }
    }
    if loaded.error_count() > 0 {
        writeln!(
            io.err,
            "{} has errors: run `roadmap-runner validate` to see them",
            loaded.display
        )?;
        return Ok(crate::exit::ROADMAP_INVALID);
    }
    Ok(crate::exit::OK)
}
