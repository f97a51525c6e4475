//! `roadmap-runner [run]`: validate everything, take the lock, check the
//! environment, then hand the plan to the runner.

use super::{CommandError, Io};
use crate::agent::command::display_command;
use crate::agent::prompt;
use crate::cli::RunArgs;
use crate::config::{FileConfig, Overrides, Settings};
use crate::events::{Event, Reporter};
use crate::exec::StopLevel;
use crate::exit;
use crate::plan::{PlannedGroup, Selection, plan};
use crate::project::{LoadedRoadmap, Project};
use crate::report::choose_reporter;
use crate::roadmap::seed::roadmap_tasks_txt;
use crate::runner::{self, GroupJobs, RunInputs, preflight, signals};
use crate::status::{
    LockError, ROADMAP_TASKS_FILE, RecordStore, RunLock, kill_leftovers, recover_in_progress,
};
use crate::vcs::Repo;
use std::path::{Path, PathBuf};

pub fn run(
    project: &Project,
    args: &RunArgs,
    verbose: bool,
    io: Io<'_>,
) -> Result<i32, CommandError> {
    let loaded = project.load_roadmap()?;
    if !loaded.diagnostics.is_empty() {
        writeln!(io.err, "{}", loaded.render_diagnostics())?;
    }
    if loaded.error_count() > 0 {
        writeln!(
            io.err,
            "error: {} has {}: fix them, then run again (nothing was started)",
            loaded.display,
            crate::project::plural(loaded.error_count(), "error")
        )?;
        return Ok(exit::ROADMAP_INVALID);
    }
    let (file, _) = FileConfig::load(&project.dir)?;
    let settings = Settings::resolve(&file, &Overrides::from_run_args(args)?)?;
    let template = load_template(project, &settings)?;
    let selection = Selection::new(
        &loaded.roadmap,
        &args.phases,
        &args.groups,
        args.task.as_deref(),
    )?;
    let (completed, warnings) = project.status.load_completed()?;
    let planned = plan(&loaded.roadmap, &completed, &selection);
    check_prompts(project, &loaded, &planned, &settings, &template)?;

    if args.dry_run {
        print_dry_run(
            project, &loaded, &planned, &settings, &template, args.json, io.out,
        )?;
        // Said now rather than at tonight's real run.
        if let Err(e) = preflight_checks(project, &settings) {
            writeln!(io.err, "warning: a real run would stop here: {e}")?;
        }
        return Ok(exit::OK);
    }

    let _lock = match RunLock::acquire(&project.status.lock_path()) {
        Ok(lock) => lock,
        Err(e @ LockError::Held { .. }) => {
            writeln!(io.err, "error: {e}")?;
            return Ok(exit::LOCKED);
        }
        Err(e) => return Err(CommandError::Preflight(e.to_string())),
    };
    let (program, repo) = match preflight_checks(project, &settings) {
        Ok(found) => found,
        Err(e) => {
            writeln!(io.err, "error: {e}")?;
            return Ok(exit::PREFLIGHT_FAILED);
        }
    };
    if !args.allow_dirty
        && let Some(repo) = &repo
        && let Some(message) = dirty_tree_problem(project, repo, &loaded, &planned, &completed)
    {
        writeln!(io.err, "error: {message}")?;
        return Ok(exit::PREFLIGHT_FAILED);
    }
    project.status.write(
        ROADMAP_TASKS_FILE,
        roadmap_tasks_txt(&loaded.roadmap).as_bytes(),
    )?;
    ensure_runner_ignores(project)?;

    let mut reporter: Box<dyn Reporter> = choose_reporter(args.json, verbose);
    for w in &warnings {
        reporter.report(&Event::Warning {
            message: format!("status/completed_tasks.txt {w}"),
        });
    }
    // A runner killed mid-group left its in-progress file (and maybe agents).
    if let Some(previous) = recover_in_progress(&project.status, true) {
        let killed = kill_leftovers(&previous);
        let mut message = previous.describe_interruption();
        if !killed.is_empty() {
            message.push_str(&format!(
                "; stopped its leftover agent processes {killed:?}"
            ));
        }
        reporter.report(&Event::Warning { message });
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(StopLevel::Run);
        let signal_state = signals::install(stop_tx)?;
        let inputs = RunInputs {
            project,
            roadmap: &loaded.roadmap,
            roadmap_display: &loaded.display,
            settings: &settings,
            template: &template,
            program: &program,
            plan: &planned,
            repo: repo.as_ref(),
            rerun_tasks: args.rerun_tasks,
        };
        Ok::<_, std::io::Error>(
            runner::execute(&inputs, stop_rx, &signal_state, reporter.as_mut()).await,
        )
    })?;
    reporter.report(&Event::RunFinished {
        summary: summary.clone(),
    });
    // A failed notification is worth a warning, never a different exit code.
    for e in crate::notify::notify(
        &settings.notify,
        args.notify.as_deref(),
        &project.dir,
        &summary,
    ) {
        writeln!(io.err, "warning: notification failed: {e}")?;
    }
    Ok(summary.exit_code)
}

fn load_template(project: &Project, settings: &Settings) -> Result<String, CommandError> {
    let path = settings
        .agent
        .prompt_template
        .as_ref()
        .map(|p| project.dir.join(p));
    prompt::load_template(path.as_deref()).map_err(|e| {
        CommandError::Preflight(format!("roadmap-runner.toml `agent.prompt_template`: {e}"))
    })
}

/// Renders every prompt the run will need, so a template error stops the run
/// before any agent starts.
fn check_prompts(
    project: &Project,
    loaded: &LoadedRoadmap,
    planned: &[PlannedGroup<'_>],
    settings: &Settings,
    template: &str,
) -> Result<(), CommandError> {
    for pg in planned {
        let jobs = jobs_for(project, loaded, pg, settings, template, Path::new(""));
        for t in &pg.tasks {
            jobs.prompt(&t.id)
                .map_err(|e| CommandError::Preflight(format!("prompt template: {e}")))?;
        }
    }
    Ok(())
}

fn jobs_for<'a>(
    project: &'a Project,
    loaded: &'a LoadedRoadmap,
    pg: &'a PlannedGroup<'a>,
    settings: &'a Settings,
    template: &'a str,
    program: &'a Path,
) -> GroupJobs<'a> {
    GroupJobs {
        project,
        roadmap: &loaded.roadmap,
        planned: pg,
        settings,
        template,
        program,
    }
}

/// The agent program and the repository (`None` only for a project that is
/// not a git repository and runs with commits off).
fn preflight_checks(
    project: &Project,
    settings: &Settings,
) -> Result<(PathBuf, Option<Repo>), CommandError> {
    let repo = match Repo::open(&project.dir) {
        Ok(repo) => Some(repo),
        Err(crate::vcs::VcsError::NotARepo { .. }) if !settings.git.commit => None,
        Err(e) => return Err(CommandError::Preflight(e.to_string())),
    };
    // Hours of agent work must not end at a commit that cannot be made.
    if settings.git.commit
        && let Some(repo) = &repo
    {
        repo.signature()
            .map_err(|e| CommandError::Preflight(e.to_string()))?;
    }
    preflight::check_root_sandbox(settings).map_err(|e| CommandError::Preflight(e.to_string()))?;
    let program = preflight::find_agent(&settings.agent.command[0], &project.dir)
        .map_err(|e| CommandError::Preflight(e.to_string()))?;
    Ok((program, repo))
}

/// A phase that starts fresh must start from a clean tree: its commit would
/// otherwise sweep in changes that are not its work. Resuming a phase (some
/// group complete, or attempts recorded) is its own work and passes.
fn dirty_tree_problem(
    project: &Project,
    repo: &Repo,
    loaded: &LoadedRoadmap,
    planned: &[PlannedGroup<'_>],
    completed: &crate::status::CompletedGroups,
) -> Option<String> {
    let first = planned.first()?;
    let phase = first.phase;
    let started = phase.groups.iter().any(|g| {
        crate::plan::group_state(&g.key(phase), g, completed) != crate::plan::GroupState::Pending
    });
    let (records, _) = RecordStore::new(&project.status).load().unwrap_or_default();
    let attempted = records.iter().any(|r| r.key().phase == phase.number);
    if started || attempted {
        return None;
    }
    let mut ignore: Vec<&str> = crate::vcs::RUNNER_FILES.to_vec();
    ignore.push(crate::config::CONFIG_FILE);
    let files = match repo.dirty_files(&ignore) {
        Ok(f) => f,
        Err(e) => return Some(e.to_string()),
    };
    if files.is_empty() {
        return None;
    }
    let shown: Vec<String> = files.iter().take(20).map(|f| format!("  {f}")).collect();
    let more = if files.len() > 20 {
        format!("\n  ... and {} more", files.len() - 20)
    } else {
        String::new()
    };
    Some(format!(
        "the working tree has uncommitted changes and Phase {} of {} starts fresh; its commit would sweep them in:\n{}{more}\nCommit or stash them, or run with --allow-dirty to include them in the phase",
        phase.number,
        loaded.display,
        shown.join("\n")
    ))
}

/// `logs/` is never committed and the lock never either; status files are.
fn ensure_runner_ignores(project: &Project) -> Result<(), CommandError> {
    crate::project::ensure_gitignore(&project.logs_dir, crate::project::LOGS_GITIGNORE)?;
    crate::project::ensure_gitignore(project.status.path(), crate::project::STATUS_GITIGNORE)?;
    Ok(())
}

fn print_dry_run(
    project: &Project,
    loaded: &LoadedRoadmap,
    planned: &[PlannedGroup<'_>],
    settings: &Settings,
    template: &str,
    json: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let program = PathBuf::from(&settings.agent.command[0]);
    let mut groups = Vec::new();
    for pg in planned {
        let jobs = jobs_for(project, loaded, pg, settings, template, &program);
        let mut tasks = Vec::new();
        for t in &pg.tasks {
            let log = PathBuf::from(format!(
                "logs/orchestrator/phase{}_group{}_{}_<timestamp>.log",
                pg.key.phase, pg.key.group, t.id
            ));
            let inv = jobs.invocation(&t.id, &t.title, None, &log);
            tasks.push(serde_json::json!({
                "id": t.id,
                "title": t.title,
                "command": display_command(&inv),
                "argv": std::iter::once(inv.program.to_string_lossy().into_owned())
                    .chain(inv.args.iter().map(|a| a.to_string_lossy().into_owned()))
                    .collect::<Vec<_>>(),
                "prompt_bytes": inv.stdin.len(),
                "log": log,
            }));
        }
        groups.push(serde_json::json!({
            "phase": pg.key.phase,
            "phase_title": pg.phase.title,
            "group": pg.key.group,
            "group_title": pg.group.title,
            "annotation": pg.group.annotation,
            "parallel": settings.max_parallel.min(pg.tasks.len().max(1)),
            "tasks": tasks,
        }));
    }
    if json {
        let doc = serde_json::json!({
            "dry_run": true,
            "roadmap": loaded.display,
            "max_parallel": settings.max_parallel,
            "timeout_secs": settings.timeout.as_secs(),
            "groups": groups,
        });
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    writeln!(
        out,
        "Dry run: {} ({}), {} in parallel, timeout {}s per task. Nothing is started or changed.",
        loaded.display,
        loaded.summary(),
        settings.max_parallel,
        settings.timeout.as_secs()
    )?;
    if planned.is_empty() {
        writeln!(out, "Nothing to do: every selected group is complete.")?;
    }
    for g in &groups {
        writeln!(out)?;
        writeln!(
            out,
            "Phase {} Group {}{}: {} task(s), {} in parallel",
            g["phase"],
            g["group"].as_str().unwrap_or_default(),
            g["annotation"]
                .as_str()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default(),
            g["tasks"].as_array().map_or(0, Vec::len),
            g["parallel"]
        )?;
        for t in g["tasks"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "  {} {}\n    $ {} < prompt ({} bytes on stdin)\n    log: {}",
                t["id"].as_str().unwrap_or_default(),
                t["title"].as_str().unwrap_or_default(),
                t["command"].as_str().unwrap_or_default(),
                t["prompt_bytes"],
                t["log"].as_str().unwrap_or_default()
            )?;
        }
    }
    Ok(())
}
