//! `roadmap-runner status`: the phase → group → task tree with each group's
//! state and what the next run would do first.

mod build;
mod text;

use super::{CommandError, Io};
use crate::cli::StatusArgs;
use crate::plan::GroupState;
use crate::project::Project;
use crate::resume::RunState;
use crate::roadmap::PhaseId;
use crate::status::counts::Counts;
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

#[derive(Debug, Serialize)]
struct PhaseDoc {
    number: PhaseId,
    title: String,
    groups: Vec<GroupDoc>,
}

#[derive(Debug, Serialize)]
struct GroupDoc {
    id: String,
    key: String,
    title: String,
    annotation: Option<String>,
    state: GroupState,
    /// A run holds the lock and is working on this group now.
    running: bool,
    /// Its tasks by latest outcome, repairs, reviews and cost, from the
    /// records; none when nothing of it ran yet.
    counts: Option<Counts>,
    tasks: Vec<TaskDoc>,
}

#[derive(Debug, Serialize)]
struct TaskDoc {
    id: String,
    title: String,
    done_in_roadmap: bool,
    /// `running`, `queued` (in the group running now), or its latest
    /// attempt's outcome (`succeeded`, `failed`, ...); none before it ran.
    state: Option<String>,
    /// The latest outcome as a sentence (`failed: exit code 1`).
    detail: Option<String>,
    /// Attempts over all runs since the group's latest reset.
    attempts: usize,
    cost_usd: Option<f64>,
    /// The latest attempt's log (or the running one's).
    log: Option<String>,
    /// Running: for how long.
    elapsed_secs: Option<i64>,
    /// The task split: its sub-roadmap's groups (`status/sub/`), each as a
    /// group of the tree, keyed in the task's scope (`PHASE_1:B:B2/1:A`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sub: Vec<GroupDoc>,
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
