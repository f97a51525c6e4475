//! After a group's agents: the gate, then the record of completion
//! (`completed_tasks.txt`, the gate record, the `PHASE<N>-GROUP-<X>-STATUS.md`
//! report).

use crate::config::Settings;
use crate::events::{Event, Reporter};
use crate::exec::StopLevel;
use crate::gate::{self, GatePlan, GateProgress, GateReport, StepResult};
use crate::plan::PlannedGroup;
use crate::project::{Project, relative_display};
use crate::status::{
    GateRecord, GateStepRecord, GateStepReport, GroupReportInput, Record, RecordStore, StatusError,
    StepStatus, TaskReport, TaskReportOutcome, latest_task_outcomes, render_group_report,
    write_group_report,
};
use crate::vcs::Repo;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
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

pub async fn run_group_gate(
    project: &Project,
    planned: &PlannedGroup<'_>,
    settings: &Settings,
    stop: watch::Receiver<StopLevel>,
    reporter: &mut dyn Reporter,
    noted_no_gate: &mut bool,
) -> GateOutcome {
    let key = &planned.key;
    let plan: GatePlan = match gate::plan_gate(&project.dir, &settings.gate) {
        Ok(p) => p,
        Err(e) => return GateOutcome::Error(e.to_string()),
    };
    if plan.is_empty() {
        // Said once per run: the same note after every group is noise.
        if !*noted_no_gate {
            for note in &plan.notes {
                reporter.report(&Event::Warning {
                    message: note.clone(),
                });
            }
            *noted_no_gate = true;
        }
        // Recorded all the same: the group's tasks are then known to be past
        // their gate, so a hand-removed completion reruns the tasks.
        append_gate_record(project, key, true, Vec::new(), None, reporter);
        return GateOutcome::Skipped;
    }
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let log = project.orchestrator_logs().join(format!(
        "phase{}_group{}_gate_{stamp}.log",
        key.phase, key.group
    ));
    reporter.report(&Event::GateStarted {
        key: key.clone(),
        steps: plan.steps.iter().map(|s| s.name.clone()).collect(),
        log: log.clone(),
    });
    let result = gate::run_gate(
        &plan,
        &project.dir,
        &log,
        settings.timeout,
        stop,
        &mut |p| reporter.report(&gate_event(key, p)),
    )
    .await;
    let report = match result {
        Ok(r) => r,
        Err(e) => return GateOutcome::Error(e.to_string()),
    };
    reporter.report(&Event::GateFinished {
        key: key.clone(),
        passed: report.passed,
        log: log.clone(),
    });
    append_gate_record(
        project,
        key,
        report.passed,
        report.steps.iter().map(step_record).collect(),
        Some(relative_display(&project.dir, &log)),
        reporter,
    );
    if report.passed {
        GateOutcome::Passed(report.steps)
    } else {
        GateOutcome::Failed { report, log }
    }
}

fn append_gate_record(
    project: &Project,
    key: &crate::roadmap::GroupKey,
    passed: bool,
    steps: Vec<GateStepRecord>,
    log: Option<String>,
    reporter: &mut dyn Reporter,
) {
    let record = GateRecord {
        phase: key.phase,
        group: key.group.clone(),
        passed,
        steps,
        at: chrono::Utc::now(),
        log,
    };
    if let Err(e) = RecordStore::new(&project.status).append_gate(&record) {
        reporter.report(&Event::Warning {
            message: format!("cannot record the gate result: {e}"),
        });
    }
}

/// The event for a gate step starting or ending.
pub fn gate_event(key: &crate::roadmap::GroupKey, progress: GateProgress) -> Event {
    match progress {
        GateProgress::StepStarted { name, display } => Event::GateStepStarted {
            key: key.clone(),
            step: name,
            command: display,
        },
        GateProgress::StepFinished { result } => Event::GateStepFinished {
            key: key.clone(),
            step: result.name.clone(),
            status: step_label(&result).to_string(),
            duration: result.duration,
            tail: if result.status == gate::StepStatus::Passed {
                Vec::new()
            } else {
                result.tail
            },
        },
    }
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

/// Content fingerprints of the files that differ from HEAD, so the report can
/// name the files this group changed, not those earlier groups of the phase
/// left uncommitted.
pub fn changed_fingerprints(repo: Option<&Repo>, dir: &Path) -> HashMap<String, u64> {
    let Some(files) = repo.and_then(|r| r.changed_files_since(None).ok()) else {
        return HashMap::new();
    };
    files
        .into_iter()
        .map(|f| {
            let fp = fingerprint(&dir.join(&f));
            (f, fp)
        })
        .collect()
}

fn fingerprint(path: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    match std::fs::read(path) {
        Ok(bytes) => bytes.hash(&mut h),
        Err(_) => "<missing>".hash(&mut h),
    }
    h.finish()
}

/// Files changed now that were not changed (or had other content) before.
pub fn files_changed_by_group(
    before: &HashMap<String, u64>,
    after: &HashMap<String, u64>,
) -> Vec<String> {
    let mut files: Vec<String> = after
        .iter()
        .filter(|(f, fp)| before.get(*f) != Some(fp))
        .map(|(f, _)| f.clone())
        .filter(|f| {
            !crate::vcs::RUNNER_FILES
                .iter()
                .any(|p| crate::vcs::path_matches(f, p))
        })
        .collect();
    files.sort();
    files
}

/// Records the group complete: the report, then `completed_tasks.txt` (the
/// authority, written last so a crash in between reruns only this step).
pub fn record_completion(
    project: &Project,
    report_dir: &Path,
    planned: &PlannedGroup<'_>,
    gate_steps: &[StepResult],
    changed_files: Vec<String>,
    duration: Duration,
) -> Result<PathBuf, StatusError> {
    let key = &planned.key;
    let (records, _) = RecordStore::new(&project.status).load()?;
    let latest = latest_task_outcomes(&records, key);
    let attempts_cost = attempts_and_cost(&records, key);
    let tasks = planned
        .group
        .tasks
        .iter()
        .map(|t| match latest.get(&t.id) {
            Some(rec) if !t.done_in_roadmap => {
                let (attempts, cost) = attempts_cost.get(&t.id).copied().unwrap_or((1, None));
                TaskReport {
                    id: t.id.clone(),
                    title: t.title.clone(),
                    outcome: TaskReportOutcome::Ran(rec.outcome.clone()),
                    duration: Duration::from_secs_f64(rec.duration_secs.max(0.0)),
                    attempts,
                    cost_usd: cost,
                    summary: rec.result_text.clone(),
                    log: rec.log.clone(),
                }
            }
            _ => TaskReport {
                id: t.id.clone(),
                title: t.title.clone(),
                outcome: TaskReportOutcome::DoneInRoadmap,
                duration: Duration::ZERO,
                attempts: 0,
                cost_usd: None,
                summary: None,
                log: None,
            },
        })
        .collect();
    let input = GroupReportInput {
        phase: key.phase,
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
    };
    let path = write_group_report(report_dir, key, &render_group_report(&input))?;
    project.status.update_completed(|c| c.add(key))?;
    Ok(path)
}

/// Attempts and total cost per task since the group's last reset.
fn attempts_and_cost(
    records: &[Record],
    key: &crate::roadmap::GroupKey,
) -> HashMap<String, (u32, Option<f64>)> {
    let mut out: HashMap<String, (u32, Option<f64>)> = HashMap::new();
    for r in records {
        match r {
            Record::Reset(reset) if &reset.key() == key => out.clear(),
            Record::Task(t) if &t.key() == key => {
                let e = out.entry(t.task.clone()).or_insert((0, None));
                e.0 += 1;
                if let Some(c) = t.cost_usd {
                    e.1 = Some(e.1.unwrap_or(0.0) + c);
                }
            }
            _ => {}
        }
    }
    out
}
