//! The status document from the roadmap, the records, the lock and the
//! in-progress file.

use super::{InProgressDoc, NextDoc, RunningTaskDoc, StatusDoc};
use crate::plan::Selection;
use crate::project::{LoadedRoadmap, Project};
use crate::report::tree::Tree;
use crate::resume::{Action, GroupStep, Options, RunState, decide};
use crate::roadmap::{GroupKey, PhaseId};
use crate::status::{InProgress, lock};
use crate::text::plural;

pub(super) fn build(
    project: &Project,
    loaded: &LoadedRoadmap,
    state: &RunState,
    settings: &crate::config::Settings,
) -> StatusDoc {
    let warnings = warnings(loaded, state);
    let opts = Options {
        commit: settings.git.commit,
        push: settings.git.push,
        rerun_tasks: false,
        allow_dirty: false,
    };
    let decision = decide(&loaded.roadmap, state, &Selection::default(), opts);
    let next = if loaded.error_count() > 0 {
        None
    } else {
        decision.next().map(next_doc)
    };
    let running = lock::current_holder(&project.status.lock_path());
    // A live run's progress, or a dead one's leftovers (which `read` found).
    let progress = if running.is_some() {
        InProgress::load(&project.status).unwrap_or_default()
    } else {
        state.interrupted.clone().unwrap_or_default()
    };
    let now = chrono::Utc::now();
    let live = running.is_some().then_some(&progress);
    let load_sub = |key: &GroupKey, task: &str| crate::runner::split::load(project, key, task).ok();
    let phases = Tree {
        records: &state.records,
        completed: &state.completed,
        live,
        now,
        sub_roadmap: &load_sub,
    }
    .phases(&loaded.roadmap);
    let (in_progress, interrupted) = progress_docs(&progress, running.is_some(), now);
    StatusDoc {
        roadmap: loaded.display.clone(),
        phases,
        next,
        running,
        in_progress,
        interrupted,
        unpushed_commits: state.git.as_ref().map(|g| g.unpushed),
        warnings,
        worktrees: crate::worktree::project_worktrees(&project.dir, &settings.worktree),
    }
}

/// The state files' complaints, and the roadmap's about what is done.
fn warnings(loaded: &LoadedRoadmap, state: &RunState) -> Vec<String> {
    let mut warnings: Vec<String> = state
        .completed_warnings
        .iter()
        .map(|w| format!("status/completed_tasks.txt {w}"))
        .collect();
    warnings.extend(state.record_warnings.iter().map(|w| format!("status/{w}")));
    // The roadmap contradicting itself about what is done changes what runs.
    for d in loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "done-phase-unticked-plan")
    {
        let (line, _) = d.line_col(&loaded.source);
        warnings.push(format!("{}:{line}: {}", loaded.display, d.message));
    }
    // A sub-roadmap's groups are not the roadmap's: they show under their task.
    for key in state.completed.keys().filter(|k| k.depth() == 0) {
        if loaded.roadmap.group(key).is_none() {
            warnings.push(format!(
                "status/completed_tasks.txt lists {key}, which is not a group of {}",
                loaded.display
            ));
        }
    }
    warnings
}

/// A live run's progress (`running`), or a dead one's leftovers as a note.
fn progress_docs(
    progress: &InProgress,
    running: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> (Option<InProgressDoc>, Option<String>) {
    if progress.is_empty() {
        return (None, None);
    }
    if !running {
        return (None, Some(progress.describe_interruption()));
    }
    let doc = InProgressDoc {
        group: progress.group.as_ref().map(|g| g.key.to_string()),
        started: progress.group.as_ref().map(|g| g.started),
        elapsed_secs: progress
            .group
            .as_ref()
            .map(|g| (now - g.started).num_seconds()),
        tasks: progress
            .tasks
            .iter()
            .map(|t| RunningTaskDoc {
                id: t.task_id.clone(),
                pid: t.pid,
                started: t.started,
                elapsed_secs: (now - t.started).num_seconds(),
                log: t.log.clone(),
                worker: t.worker.clone(),
            })
            .collect(),
    };
    (Some(doc), None)
}

fn next_doc(action: &Action<'_>) -> NextDoc {
    let doc = |action, phase: &PhaseId, group: Option<&str>, tasks: Vec<String>, text| NextDoc {
        action,
        phase: Some(phase.clone()),
        group: group.map(str::to_string),
        tasks,
        text,
    };
    match action {
        Action::Group(g) => {
            let ids: Vec<String> = g.tasks().iter().map(|t| t.id.clone()).collect();
            let head = format!("Phase {} Group {}", g.key.phase, g.key.group);
            let (name, text) = match &g.step {
                GroupStep::Run { .. } => (
                    "run",
                    format!("{head}: {} ({})", plural(ids.len(), "task"), ids.join(", ")),
                ),
                GroupStep::GateOnly => (
                    "gate_only",
                    format!("{head}: gate only (every task succeeded earlier; no agent runs)"),
                ),
                GroupStep::RecordComplete => (
                    "record_complete",
                    format!("{head}: record complete (its gate passed; nothing runs)"),
                ),
                GroupStep::DoneInRoadmap => (
                    "done_in_roadmap",
                    format!("{head}: record complete (every task is marked done in the roadmap)"),
                ),
            };
            doc(name, &g.key.phase, Some(g.key.group.as_str()), ids, text)
        }
        Action::CommitPhase { phase, .. } => doc(
            "commit",
            &phase.number,
            None,
            Vec::new(),
            format!(
                "commit Phase {} (complete, not yet committed)",
                phase.number
            ),
        ),
        Action::Push => NextDoc {
            action: "push",
            phase: None,
            group: None,
            tasks: Vec::new(),
            text: "push the commits not yet on the remote".into(),
        },
        Action::Stop { phase, reason } => doc(
            "stop",
            &phase.number,
            None,
            Vec::new(),
            format!("stop: {reason}"),
        ),
    }
}
