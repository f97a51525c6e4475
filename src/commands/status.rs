//! `roadmap-runner status`: the phase → group → task tree with each group's
//! state and what the next run would do first.

use super::{CommandError, Io};
use crate::cli::StatusArgs;
use crate::plan::Selection;
use crate::plan::{GroupState, group_state};
use crate::project::{LoadedRoadmap, Project};
use crate::resume::{Action, GroupStep, Options, RunState, decide};
use crate::roadmap::PhaseId;
use crate::status::counts::{Counts, TaskHistory, usd};
use crate::status::{InProgress, lock};
use crate::text::plural;
use serde::Serialize;

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

fn build(
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

fn render_text(
    doc: &StatusDoc,
    loaded: &LoadedRoadmap,
    all: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let title = loaded.roadmap.title.as_deref().unwrap_or("Roadmap");
    writeln!(out, "{title} ({}: {})", doc.roadmap, loaded.summary())?;
    render_phases(doc, all, out)?;
    writeln!(out)?;
    if let Some(holder) = &doc.running {
        writeln!(out, "Running now: {holder}")?;
    }
    if let Some(ip) = &doc.in_progress {
        render_in_progress(ip, out)?;
    }
    if let Some(n) = doc.unpushed_commits.filter(|n| *n > 0) {
        writeln!(
            out,
            "Not pushed: {} (the next run pushes before any new work)",
            crate::text::plural(n, "commit")
        )?;
    }
    if let Some(note) = &doc.interrupted {
        writeln!(out, "Note: {note}; the next run resumes it")?;
    }
    render_worktrees(&doc.worktrees, out)?;
    match &doc.next {
        Some(n) => writeln!(out, "Next: {}", n.text),
        None if loaded.error_count() > 0 => writeln!(
            out,
            "Next: nothing can run until {} reads without errors (see above)",
            loaded.display
        ),
        None => writeln!(out, "Next: nothing, every group is complete"),
    }
}

/// The phases, a complete one folded to one line unless `all`.
fn render_phases(doc: &StatusDoc, all: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut folded = 0;
    for phase in &doc.phases {
        let done = phase
            .groups
            .iter()
            .filter(|g| g.state != GroupState::Pending)
            .count();
        let mut head = format!("Phase {}", phase.number);
        if !phase.title.is_empty() {
            head.push_str(&format!(": {}", phase.title));
        }
        let head = format!(
            "{head}  [{done}/{} complete]",
            crate::text::plural(phase.groups.len(), "group")
        );
        // A complete phase is one line: what is left is what matters.
        if done == phase.groups.len() && !phase.groups.is_empty() && !all {
            if folded == 0 {
                writeln!(out)?;
            }
            writeln!(out, "{head}")?;
            folded += 1;
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{head}")?;
        for g in &phase.groups {
            render_group(doc, phase, g, "  ", out)?;
        }
    }
    if folded > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "({} shown on one line: `roadmap-runner status --all` lists their groups and tasks)",
            if folded == 1 {
                "1 complete phase".to_string()
            } else {
                format!("{folded} complete phases")
            }
        )?;
    }
    Ok(())
}

/// The group a live run works on and its running agents.
fn render_in_progress(ip: &InProgressDoc, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if let (Some(group), Some(secs)) = (&ip.group, ip.elapsed_secs) {
        writeln!(out, "  {group}, for {}", elapsed(secs))?;
    }
    for t in &ip.tasks {
        let log = t
            .log
            .as_deref()
            .map(|l| format!(", log {l}"))
            .unwrap_or_default();
        let on = match &t.worker {
            Some(w) => format!("on worker {w}"),
            None => format!("pid {}", t.pid),
        };
        writeln!(
            out,
            "    {} running for {} ({on}{log})",
            t.id,
            elapsed(t.elapsed_secs),
        )?;
    }
    Ok(())
}

/// A group's line (its state, its counts once something ran) and a line
/// per task.
fn render_group(
    doc: &StatusDoc,
    phase: &PhaseDoc,
    g: &GroupDoc,
    indent: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let is_next = !g.running
        && doc.next.as_ref().is_some_and(|n| {
            n.phase.as_ref() == Some(&phase.number) && n.group.as_deref() == Some(g.id.as_str())
        });
    let mark = match g.state {
        GroupState::Completed | GroupState::DoneInRoadmap => "[x]",
        GroupState::Pending if g.running => "[~]",
        GroupState::Pending => "[ ]",
    };
    // A sub-roadmap's group by its scoped id: `Group 1:B:B2/1:A`.
    let mut label = match g.id.contains('/') {
        true => format!("Group {}:{}", phase.number, g.id),
        false => format!("Group {}", g.id),
    };
    if !g.title.is_empty() {
        label.push_str(&format!(": {}", g.title));
    }
    if let Some(a) = &g.annotation {
        label.push_str(&format!(" ({a})"));
    }
    let state = if g.running {
        "running"
    } else {
        g.state.label()
    };
    let counts = match &g.counts {
        Some(c) if g.state == GroupState::Pending => {
            format!(
                "  ({}{}, {})",
                c.group_line(),
                c.helpers_line(),
                c.cost_line()
            )
        }
        _ => String::new(),
    };
    let next = if is_next { "  <- next" } else { "" };
    writeln!(out, "{indent}{mark} {label}  {state}{counts}{next}")?;
    for t in &g.tasks {
        writeln!(
            out,
            "{indent}      {} {}{}",
            t.id,
            t.title,
            task_state(g, t)
        )?;
        // A split task's sub-roadmap beneath it.
        for s in &t.sub {
            render_group(doc, phase, s, &format!("{indent}        "), out)?;
        }
    }
    Ok(())
}

/// `  failed: exit code 1 · 2 attempts · $0.0246 · log logs/…` for a task
/// of a group not complete; `  (done in roadmap)`; nothing before it ran.
fn task_state(g: &GroupDoc, t: &TaskDoc) -> String {
    if t.done_in_roadmap {
        return "  (done in roadmap)".into();
    }
    let Some(state) = t
        .state
        .as_deref()
        .filter(|_| g.state == GroupState::Pending)
    else {
        return String::new();
    };
    let mut parts = vec![match state {
        "running" => format!("running for {}", elapsed(t.elapsed_secs.unwrap_or(0))),
        _ => t.detail.clone().unwrap_or_else(|| state.to_string()),
    }];
    if t.attempts > 0 && state != "queued" {
        parts.push(plural(t.attempts, "attempt"));
    }
    if let Some(c) = t.cost_usd.filter(|_| state != "queued") {
        parts.push(usd(c));
    }
    if let Some(log) = t.log.as_deref().filter(|_| state != "queued") {
        parts.push(format!("log {log}"));
    }
    format!("  {}", parts.join(" · "))
}

fn elapsed(secs: i64) -> String {
    crate::text::short_duration(std::time::Duration::from_secs(secs.max(0) as u64))
}

/// `Worktrees: 2, 1.3 MB` and one line per worktree.
fn render_worktrees(
    list: &[crate::worktree::WorktreeInfo],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_000_000.0);
    let total = list.iter().map(|w| w.bytes).sum();
    writeln!(out, "Worktrees: {}, {}", list.len(), mb(total))?;
    for w in list {
        let gone = if w.missing {
            "  (directory gone: `roadmap-runner clean` prunes it)"
        } else {
            ""
        };
        writeln!(
            out,
            "  {}  {}  {}{gone}",
            w.name,
            mb(w.bytes),
            w.path.display()
        )?;
    }
    Ok(())
}
