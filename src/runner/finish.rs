//! After a group's agents: the gate, then the record of completion
//! (`completed_tasks.txt`, the gate record, the `PHASE<N>-GROUP-<X>-STATUS.md`
//! report).

use crate::config::Settings;
use crate::events::{Event, Reporter};
use crate::exec::StopLevel;
use crate::gate::{self, GatePlan, GateProgress, GateReport, StepResult};
use crate::project::{Project, relative_display};
use crate::report::tree::{SubRoadmaps, Tree};
use crate::resume::GroupAction;
use crate::roadmap::GroupKey;
use crate::status::{
    AttemptReport, GateRecord, GateStepRecord, GateStepReport, GroupReportInput, HelperReport,
    IntegrationState, RunView, StartRecord, StatusError, StepStatus, Store, TaskRecord, TaskReport,
    TaskReportOutcome, render_group_report, write_group_report,
};
use crate::vcs::Repo;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// How the gate of a group ended.
pub enum GateOutcome {
    Passed(Vec<StepResult>),
    /// No steps (nothing detected, or disabled): the group completes unchecked.
    Skipped,
    Failed {
        report: GateReport,
        log: PathBuf,
    },
    Error(String),
}

/// Where the gate's progress goes.
pub struct GateIo<'r, 's> {
    pub reporter: &'r mut dyn Reporter,
    pub store: &'r mut Store<'s>,
    /// The no-gate note is said once per run.
    pub noted_no_gate: &'r mut bool,
}

impl GateIo<'_, '_> {
    fn warn(&mut self, message: String) {
        self.reporter.report(&Event::Warning { message });
    }
}

pub async fn run_group_gate(
    project: &Project,
    planned: &GroupAction<'_>,
    settings: &Settings,
    stop: watch::Receiver<StopLevel>,
    io: &mut GateIo<'_, '_>,
) -> GateOutcome {
    let key = &planned.key;
    let plan: GatePlan = match gate::plan_gate(&project.dir, &settings.gate) {
        Ok(p) => p,
        Err(e) => return GateOutcome::Error(e.to_string()),
    };
    if plan.is_empty() {
        return no_gate(io, key, &plan);
    }
    let log = crate::project::new_log_path(
        &project.orchestrator_logs(),
        &format!("{}_gate", key.log_stem()),
    );
    let rel_log = relative_display(&project.dir, &log);
    io.reporter.report(&Event::GateStarted {
        key: key.clone(),
        steps: plan.steps.iter().map(|s| s.name.clone()).collect(),
        log: log.clone(),
    });
    let result = {
        let GateIo {
            reporter, store, ..
        } = io;
        gate::run_gate(
            &plan,
            &project.dir,
            &log,
            settings.timeout,
            stop,
            &mut |p| gate_progress(store, &mut **reporter, key, &rel_log, p),
        )
        .await
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => return GateOutcome::Error(e.to_string()),
    };
    io.reporter.report(&Event::GateFinished {
        key: key.clone(),
        passed: report.passed,
        log: log.clone(),
    });
    let steps = report.steps.iter().map(step_record).collect();
    gate_finished(io, key, report.passed, steps, Some(rel_log));
    if report.passed {
        GateOutcome::Passed(report.steps)
    } else {
        GateOutcome::Failed { report, log }
    }
}

/// No steps: the note, once per run, and the gate recorded as passed.
fn no_gate(io: &mut GateIo<'_, '_>, key: &GroupKey, plan: &GatePlan) -> GateOutcome {
    // Said once per run: the same note after every group is noise.
    if !*io.noted_no_gate {
        for note in &plan.notes {
            io.warn(note.clone());
        }
        *io.noted_no_gate = true;
    }
    // Recorded all the same: the group's tasks are then known to be past
    // their gate, so a hand-removed completion reruns the tasks.
    gate_finished(io, key, true, Vec::new(), None);
    GateOutcome::Skipped
}

/// A gate step started or ended: the in-progress file and the event.
fn gate_progress(
    store: &mut Store<'_>,
    reporter: &mut dyn Reporter,
    key: &GroupKey,
    rel_log: &str,
    p: GateProgress,
) {
    // The in-progress file names the step's process group, so a run killed
    // mid-gate leaves nothing running for long.
    let recorded = match &p {
        GateProgress::StepStarted { name, .. } => {
            store.gate_step(name, None, Some(rel_log.to_string()))
        }
        GateProgress::StepSpawned { name, pid } => {
            store.gate_step(name, Some(*pid), Some(rel_log.to_string()))
        }
        GateProgress::StepFinished { .. } => Ok(()),
    };
    if let Err(e) = recorded {
        reporter.report(&Event::Warning {
            message: format!("cannot update the in-progress file: {e}"),
        });
    }
    if let Some(event) = gate_event(key, p) {
        reporter.report(&event);
    }
}

fn gate_finished(
    io: &mut GateIo<'_, '_>,
    key: &GroupKey,
    passed: bool,
    steps: Vec<GateStepRecord>,
    log: Option<String>,
) {
    let record = GateRecord {
        phase: key.phase.clone(),
        group: key.group.clone(),
        passed,
        steps,
        at: chrono::Utc::now(),
        log,
    };
    if let Err(e) = io.store.gate_finished(&record) {
        io.warn(format!("cannot record the gate result: {e}"));
    }
}

/// The event for a gate step starting or ending (a spawn is not shown).
pub fn gate_event(key: &GroupKey, progress: GateProgress) -> Option<Event> {
    Some(match progress {
        GateProgress::StepStarted { name, display } => Event::GateStepStarted {
            key: key.clone(),
            step: name,
            command: display,
        },
        GateProgress::StepSpawned { .. } => return None,
        GateProgress::StepFinished { result } => Event::GateStepFinished {
            key: key.clone(),
            step: result.name.clone(),
            status: step_label(&result).to_string(),
            duration: result.duration,
            tail: if result.status == gate::StepStatus::Passed {
                Vec::new()
            } else {
                shown_lines(result.tail)
            },
        },
    })
}

/// Lines of a failing step's output people are shown: its first failure
/// lines (before the excerpt's ellipsis) and its last ten lines.
fn shown_lines(mut excerpt: Vec<String>) -> Vec<String> {
    const LAST: usize = 10;
    let head = excerpt
        .iter()
        .position(|l| l == gate::excerpt::ELLIPSIS)
        .map_or(0, |i| i + 1);
    let tail_from = excerpt.len().saturating_sub(LAST).max(head);
    excerpt.drain(head..tail_from);
    excerpt
}

fn step_status(r: &StepResult) -> StepStatus {
    match r.status {
        gate::StepStatus::Passed => StepStatus::Passed,
        gate::StepStatus::NotRun => StepStatus::NotRun,
        _ if r.is_warning() => StepStatus::Warning,
        _ => StepStatus::Failed,
    }
}

fn step_label(r: &StepResult) -> &'static str {
    match r.status {
        gate::StepStatus::Passed => "passed",
        gate::StepStatus::NotRun => "not run",
        gate::StepStatus::Interrupted => "interrupted",
        gate::StepStatus::TimedOut if r.is_warning() => "timed out (warning only)",
        gate::StepStatus::TimedOut => "timed out",
        _ if r.is_warning() => "failed (warning only)",
        _ => "failed",
    }
}

fn step_record(r: &StepResult) -> GateStepRecord {
    GateStepRecord {
        name: r.name.clone(),
        status: step_status(r),
        duration_secs: Some((r.duration.as_secs_f64() * 1000.0).round() / 1000.0),
    }
}

/// The files the group changed since its base (recorded at its first
/// start, across runs): those that differ from the base's HEAD now and did
/// not differ, or had other content, then; and those it put back.
pub fn files_changed_by_group(repo: Option<&Repo>, base: Option<&StartRecord>) -> Vec<String> {
    let Some(repo) = repo else {
        return Vec::new();
    };
    let empty = BTreeMap::new();
    let before = base.and_then(|b| b.base.as_ref()).unwrap_or(&empty);
    let head = base.and_then(|b| b.head.as_deref());
    let now = repo.changed_files_since(head).unwrap_or_default();
    let mut files: Vec<String> = now
        .iter()
        .filter(|f| before.get(*f) != Some(&repo.file_id(f)))
        .chain(before.keys().filter(|f| !now.contains(f)))
        .filter(|f| !crate::vcs::is_runner_file(f))
        .cloned()
        .collect();
    files.sort();
    files.dedup();
    files
}

/// Ticks the group's tasks in the roadmap file (`--write-back`): their
/// checkboxes or Status cells, from the end of the file backwards so each
/// tick leaves the earlier positions valid. Returns how many were ticked.
pub fn write_back(project: &Project, planned: &GroupAction<'_>) -> Result<usize, String> {
    let loaded = project.load_roadmap().map_err(|e| e.to_string())?;
    let Some((_, group)) = loaded.roadmap.group(&planned.key) else {
        return Err(format!(
            "{} is no longer in {}",
            planned.key, loaded.display
        ));
    };
    let mut tasks: Vec<&crate::roadmap::Task> = group
        .tasks
        .iter()
        .filter(|t| !t.done_in_roadmap && !t.optional && t.done_mark.is_some())
        .collect();
    tasks.sort_by_key(|t| std::cmp::Reverse(t.done_mark.map(|m| m.span().start)));
    let mut text = loaded.source.clone();
    for t in &tasks {
        text = crate::roadmap::write_back::tick(&text, t).map_err(|e| e.to_string())?;
    }
    if text != loaded.source {
        crate::status::write_atomic(&project.roadmap_path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", loaded.display))?;
    }
    // An imported roadmap: the original document's boxes too.
    crate::draft::write_back::tick_sources(&project.dir, &loaded.source, &tasks)?;
    Ok(tasks.len())
}

/// Records the group complete: the report in `report_dir` (covering every
/// run of the group since its base; none for a group that never ran), then
/// `completed_tasks.txt` and the `complete` record (written last, so a
/// crash in between reruns only this step).
pub fn record_completion(
    repo: Option<&Repo>,
    report_dir: Option<&Path>,
    planned: &GroupAction<'_>,
    gate_steps: &[StepResult],
    store: &mut Store<'_>,
    sub_roadmap: SubRoadmaps<'_>,
) -> Result<Option<PathBuf>, StatusError> {
    let key = &planned.key;
    let Some(report_dir) = report_dir else {
        store.group_completed(key)?;
        return Ok(None);
    };
    let mut input = report_input(repo, planned, gate_steps, store.view());
    let tree = Tree {
        records: store.view().records(),
        completed: store.view().completed(),
        live: None,
        now: chrono::Utc::now(),
        sub_roadmap,
    };
    // A split task's sub-roadmap, nested beneath it.
    for t in &mut input.tasks {
        t.sub = tree
            .sub_groups(key, &t.id)
            .iter()
            .map(|g| g.report(&key.phase))
            .collect();
    }
    let path = write_group_report(report_dir, key, &render_group_report(&input))?;
    store.group_completed(key)?;
    Ok(Some(path))
}

/// What the group's report says, from every record of it since its base.
fn report_input(
    repo: Option<&Repo>,
    planned: &GroupAction<'_>,
    gate_steps: &[StepResult],
    view: &RunView,
) -> GroupReportInput {
    let key = &planned.key;
    let changed_files = files_changed_by_group(repo, view.base(key));
    let duration = view.run_time(key);
    let attempts = view.attempts(key);
    // With worktrees each task's own diff is known from its integration.
    let integrations = view.integrations(key);
    let files_of = |id: &str| match integrations.get(id) {
        Some(IntegrationState::Done(i)) => Some(i.files.clone()),
        _ => None,
    };
    let tasks = planned
        .group
        .tasks
        .iter()
        .map(|t| match attempts.get(&t.id) {
            Some(all) if !t.done_in_roadmap => TaskReport {
                files: files_of(&t.id),
                ..task_report(t, all)
            },
            _ => TaskReport {
                id: t.id.clone(),
                title: t.title.clone(),
                outcome: TaskReportOutcome::DoneInRoadmap,
                duration: Duration::ZERO,
                attempts: Vec::new(),
                summary: None,
                log: None,
                files: None,
                sub: Vec::new(),
            },
        })
        .collect();
    GroupReportInput {
        phase: key.phase.clone(),
        phase_title: planned.phase.title.clone(),
        group_id: key.group.clone(),
        group_title: planned.group.title.clone(),
        group_annotation: planned.group.annotation.clone(),
        completed_at: chrono::Local::now().fixed_offset(),
        duration,
        tasks,
        changed_files,
        gate: gate_steps
            .iter()
            .map(|s| GateStepReport {
                name: s.name.clone(),
                command: s.display.clone(),
                status: step_status(s),
                // A step that did not run has no duration.
                duration: (s.status != gate::StepStatus::NotRun).then_some(s.duration),
            })
            .collect(),
        helpers: view
            .runner_attempts(key)
            .into_iter()
            .map(helper_report)
            .collect(),
    }
}

fn helper_report(t: &TaskRecord) -> HelperReport {
    let verdict = t.verdict.as_ref().map(|v| {
        let word = v["verdict"].as_str().unwrap_or("?");
        let items: Vec<&str> = v["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|i| i.as_str()).collect())
            .unwrap_or_default();
        if items.is_empty() {
            word.to_string()
        } else {
            format!("{word}: {}", items.join("; "))
        }
    });
    HelperReport {
        id: t.task.clone(),
        role: t.role.clone().unwrap_or_default(),
        outcome: t.outcome.label().to_string(),
        cost_usd: t.cost_usd,
        verdict,
    }
}

/// A task's report from all its attempts (the latest gives the outcome).
fn task_report(task: &crate::roadmap::Task, all: &[&TaskRecord]) -> TaskReport {
    let last = all.last().expect("a task with attempts");
    TaskReport {
        id: task.id.clone(),
        title: task.title.clone(),
        outcome: TaskReportOutcome::Ran(last.outcome.clone()),
        duration: all
            .iter()
            .map(|a| Duration::from_secs_f64(a.duration_secs.max(0.0)))
            .sum(),
        attempts: all
            .iter()
            .map(|a| AttemptReport {
                outcome: a.outcome.label().to_string(),
                duration: Duration::from_secs_f64(a.duration_secs.max(0.0)),
                cost_usd: a.cost_usd,
            })
            .collect(),
        summary: last.result_text.clone(),
        log: last.log.clone(),
        files: None,
        sub: Vec::new(),
    }
}
