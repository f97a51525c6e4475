//! The status document from the roadmap, the records, the lock and the
//! in-progress file.

use super::{GroupDoc, InProgressDoc, NextDoc, PhaseDoc, RunningTaskDoc, StatusDoc, TaskDoc};
use crate::plan::{Selection, group_state};
use crate::project::{LoadedRoadmap, Project};
use crate::resume::{Action, GroupStep, Options, RunState, decide};
use crate::roadmap::PhaseId;
use crate::status::counts::{Counts, TaskHistory};
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
    let phases = loaded
        .roadmap
        .phases
        .iter()
        .map(|phase| PhaseDoc {
            number: phase.number.clone(),
            title: phase.title.clone(),
            groups: phase
                .groups
                .iter()
                .map(|group| group_doc(project, phase, group, state, live, now))
                .collect(),
        })
        .collect();
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

/// A group of the tree with each task's latest state, from the records (and,
/// for the group a live run works on, from its in-progress file).
fn group_doc(
    project: &Project,
    phase: &crate::roadmap::Phase,
    group: &crate::roadmap::Group,
    state: &RunState,
    live: Option<&InProgress>,
    now: chrono::DateTime<chrono::Utc>,
) -> GroupDoc {
    let key = group.key(phase);
    let records = &state.records;
    let history = TaskHistory::of_group(records, &key);
    let running_since = live
        .and_then(|p| p.group.as_ref())
        .filter(|g| g.key == key)
        .map(|g| g.started);
    let ids = group
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.done_in_roadmap));
    let counts = (!history.is_empty()).then(|| Counts::of_records(records, &key, ids));
    let tasks = group
        .tasks
        .iter()
        .map(|t| {
            let h = history.get(&t.id);
            let mut doc = TaskDoc {
                id: t.id.clone(),
                title: t.title.clone(),
                done_in_roadmap: t.done_in_roadmap,
                state: h.map(|h| h.last.outcome.label().to_string()),
                detail: h.map(|h| crate::status::report_md::outcome_detail(&h.last.outcome)),
                attempts: h.map_or(0, |h| h.attempts),
                cost_usd: h.and_then(|h| h.cost_usd),
                log: h.and_then(|h| h.last.log.clone()),
                elapsed_secs: None,
                sub: sub_groups(project, &key, &t.id, state, live, now),
            };
            if let Some(since) = running_since.filter(|_| !t.done_in_roadmap) {
                live_task_state(&mut doc, h, since, live, now);
            }
            doc
        })
        .collect();
    GroupDoc {
        id: group.id.clone(),
        key: key.to_string(),
        title: group.title.clone(),
        annotation: group.annotation.clone(),
        state: group_state(&key, phase, group, &state.completed),
        running: running_since.is_some(),
        counts,
        tasks,
    }
}

/// The groups of a task's sub-roadmap, if it split.
fn sub_groups(
    project: &Project,
    key: &crate::roadmap::GroupKey,
    task: &str,
    state: &RunState,
    live: Option<&InProgress>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<GroupDoc> {
    let Ok(sub) = crate::runner::split::load(project, key, task) else {
        return Vec::new();
    };
    sub.groups()
        .map(|(p, g)| group_doc(project, p, g, state, live, now))
        .collect()
}

/// A task of the group running now: running (its agent is in the
/// in-progress file), its outcome in this run, succeeded earlier, or queued.
fn live_task_state(
    doc: &mut TaskDoc,
    history: Option<&TaskHistory>,
    since: chrono::DateTime<chrono::Utc>,
    live: Option<&InProgress>,
    now: chrono::DateTime<chrono::Utc>,
) {
    let agent = live.and_then(|p| p.tasks.iter().find(|r| r.task_id == doc.id));
    if let Some(a) = agent {
        doc.state = Some("running".into());
        doc.detail = None;
        doc.elapsed_secs = Some((now - a.started).num_seconds());
        doc.log = a.log.clone().or(doc.log.take());
        return;
    }
    let ended_now = history.is_some_and(|h| h.last.finished_at >= since);
    let succeeded = history.is_some_and(|h| h.last.outcome.is_success());
    if !ended_now && !succeeded {
        doc.state = Some("queued".into());
        doc.detail = None;
    }
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
