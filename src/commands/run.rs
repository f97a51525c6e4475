//! `roadmap-runner [run]`: validate everything, take the lock, check the
//! environment, then hand the plan to the runner.

use super::dry_run::DryRun;
use super::{CommandError, Io};
use crate::agent::prompt;
use crate::cluster::coordinator::ClusterExecutor;
use crate::config::{FileConfig, RunRequest, Settings};
use crate::events::{Event, Reporter};
use crate::exec::StopLevel;
use crate::exit;
use crate::plan::Selection;
use crate::project::{LoadedRoadmap, Project};
use crate::report::{choose_reporter, error_line};
use crate::resume::{Decision, Options, RunState, decide_selected};
use crate::roadmap::seed::roadmap_tasks_txt;
use crate::runner::executor::{Executor, Local};
use crate::runner::{self, GroupJobs, RunInputs, preflight, signals};
use crate::status::{LockError, ROADMAP_TASKS_FILE, RunLock};
use crate::vcs::Repo;
use std::path::{Path, PathBuf};

/// A run resolved from its request and the project's files: what it runs,
/// with which settings, and how it reports. Nothing after resolution sees
/// how the run was asked for.
struct RunPlan {
    loaded: LoadedRoadmap,
    settings: Settings,
    template: String,
    selection: Selection,
    /// Commit, push, rerun and allow-dirty, as the decision takes them.
    opts: Options,
    dry_run: bool,
    json: bool,
    /// `--notify`: run besides `[notify]` when the run ends.
    notify: Option<String>,
}

pub fn run(
    project: &Project,
    request: &RunRequest,
    verbose: bool,
    io: Io<'_>,
) -> Result<i32, CommandError> {
    let p = match prepare(project, request, io.err)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if p.dry_run {
        return dry_run(project, &p, io);
    }
    // A lock in `status/` is ignored before it is made; in `.git/` it never
    // shows, and a run that stops at preflight leaves nothing git shows.
    if project
        .status
        .lock_path()
        .starts_with(project.status.path())
    {
        ensure_runner_ignores(project)?;
    }
    let _lock = match RunLock::acquire(&project.status.lock_path()) {
        Ok(lock) => lock,
        Err(e @ LockError::Held { .. }) => {
            writeln!(io.err, "{}", error_line(&e.to_string()))?;
            return Ok(exit::LOCKED);
        }
        Err(e) => return Err(CommandError::Preflight(e.to_string())),
    };
    run_locked(project, p, verbose, io)
}

/// Under the lock: preflight, recovery, the decision, then the runner.
fn run_locked(
    project: &Project,
    mut p: RunPlan,
    verbose: bool,
    io: Io<'_>,
) -> Result<i32, CommandError> {
    let (program, repo) = match preflight_checks(project, &p.settings) {
        Ok(found) => found,
        Err(e) => {
            writeln!(io.err, "{}", error_line(&e.to_string()))?;
            return Ok(exit::PREFLIGHT_FAILED);
        }
    };
    ensure_runner_ignores(project)?;
    let no_remote = no_remote(repo.as_ref(), &mut p);
    let state = recover(project, repo.as_ref(), &p.settings)?;
    let decision = decide_selected(&p.loaded.roadmap, &state, &p.selection, p.opts);
    check_prompts(project, &p.loaded, &decision, &p.settings, &p.template)?;
    if let Some(message) = dirty_refusal(repo.as_ref(), &p, &decision, &state) {
        writeln!(io.err, "{}", error_line(&message))?;
        return Ok(exit::PREFLIGHT_FAILED);
    }
    project.status.write(
        ROADMAP_TASKS_FILE,
        roadmap_tasks_txt(&p.loaded.roadmap).as_bytes(),
    )?;
    let mut reporter = start_reporter(project, p.json, verbose, &state);
    if let Some(remote) = no_remote {
        reporter.report(&Event::Note {
            message: format!("no remote `{remote}`: phases are committed, not pushed"),
        });
    }
    let executor = executor(&p.settings);
    let inputs = RunInputs {
        project,
        roadmap: &p.loaded.roadmap,
        roadmap_display: &p.loaded.display,
        settings: &p.settings,
        template: &p.template,
        program: &program,
        state: &state,
        decision: &decision,
        repo: repo.as_ref(),
        executor: executor.as_ref(),
    };
    let summary = execute(&inputs, reporter.as_mut())?;
    reporter.report(&Event::RunFinished {
        summary: summary.clone(),
    });
    // A failed notification is worth a warning, never a different exit code.
    for e in crate::notify::notify(
        &p.settings.notify,
        p.notify.as_deref(),
        &project.dir,
        &summary,
    ) {
        writeln!(io.err, "warning: notification failed: {e}")?;
    }
    Ok(summary.exit_code)
}

/// Where the tasks run, chosen once for the run: on the workers behind
/// `[cluster]` / `--nats`, else as processes here.
fn executor(settings: &Settings) -> Box<dyn Executor> {
    match &settings.cluster.nats {
        Some(target) => Box::new(ClusterExecutor::new(
            target.clone(),
            settings.cluster.redelivery,
        )),
        None => Box::new(Local),
    }
}

/// A dead run's agents and gate processes are killed before anything is
/// read or checked: they could still be writing to the tree.
fn recover(
    project: &Project,
    repo: Option<&Repo>,
    settings: &Settings,
) -> Result<RunState, CommandError> {
    let mut own = runner_paths(&settings.report_dir);
    own.push(crate::project::relative_display(
        &project.dir,
        &project.roadmap_path,
    ));
    let own: Vec<&str> = own.iter().map(String::as_str).collect();
    Ok(RunState::recover(
        &project.status,
        repo,
        &settings.git,
        &own,
    )?)
}

/// What a run with these arguments checks before it starts, alone: the
/// roadmap, the settings and the selection, as the dry run checks them. No
/// lock, nothing written; for a server that must refuse a run it would
/// otherwise start only to see it die. 0, or the exit code the run would end
/// with (its message on `io.err`).
pub fn check(project: &Project, request: &RunRequest, io: Io<'_>) -> Result<i32, CommandError> {
    Ok(match prepare(project, request, io.err)? {
        Ok(_) => exit::OK,
        Err(code) => code,
    })
}

/// The roadmap (its errors stop here: `Err(exit code)`), the settings, the
/// prompt template and the selection.
fn prepare(
    project: &Project,
    request: &RunRequest,
    err: &mut dyn std::io::Write,
) -> Result<Result<RunPlan, i32>, CommandError> {
    let loaded = project.load_roadmap()?;
    if !loaded.diagnostics.is_empty() {
        writeln!(err, "{}", loaded.render_diagnostics())?;
    }
    if loaded.error_count() > 0 {
        let message = format!(
            "{} has {}: fix them, then run again (nothing was started)",
            loaded.display,
            crate::text::plural(loaded.error_count(), "error")
        );
        writeln!(err, "{}", error_line(&message))?;
        return Ok(Err(exit::ROADMAP_INVALID));
    }
    let (file, _) = FileConfig::load(&project.dir)?;
    let overrides = request.overrides.clone().with_process_env()?;
    let settings = Settings::resolve(&file, &overrides)?;
    let template = load_template(project, &settings)?;
    let selection = Selection::with_subs(
        &loaded.roadmap,
        &request.phases,
        &request.groups,
        request.task.as_deref(),
        &|key| crate::runner::split::holding(project, &loaded.roadmap, key),
    )?;
    let opts = Options {
        commit: settings.git.commit,
        push: settings.git.push,
        rerun_tasks: request.rerun_tasks,
        allow_dirty: request.allow_dirty,
    };
    Ok(Ok(RunPlan {
        loaded,
        settings,
        template,
        selection,
        opts,
        dry_run: request.dry_run,
        json: request.json,
        notify: request.notify.clone(),
    }))
}

/// A repository without any remote has nothing to push to: the run commits
/// and does not push (a remote named in the settings that does not exist
/// stays an error). Returns the remote pushes would have gone to.
fn no_remote(repo: Option<&Repo>, p: &mut RunPlan) -> Option<String> {
    if !p.settings.git.push {
        return None;
    }
    let remote = repo?.missing_remote(&p.settings.git)?;
    p.settings.git.push = false;
    p.opts.push = false;
    Some(remote)
}

/// `--dry-run`: the decision from the state as it is (nothing killed, no
/// lock), printed; what would stop the real run is said too.
fn dry_run(project: &Project, p: &RunPlan, io: Io<'_>) -> Result<i32, CommandError> {
    let repo = Repo::open(&project.dir).ok();
    let state = RunState::read(&project.status, repo.as_ref(), &p.settings.git)?;
    let decision = decide_selected(&p.loaded.roadmap, &state, &p.selection, p.opts);
    check_prompts(project, &p.loaded, &decision, &p.settings, &p.template)?;
    let refusal = dirty_refusal(repo.as_ref(), p, &decision, &state);
    let doc = DryRun {
        project,
        loaded: &p.loaded,
        decision: &decision,
        settings: &p.settings,
        template: &p.template,
        refusal: refusal.as_deref(),
        records: &state.records,
    };
    doc.print(p.json, io.out)?;
    // Said now rather than at tonight's real run.
    if let Err(e) = preflight_checks(project, &p.settings) {
        writeln!(io.err, "warning: a real run would stop here: {e}")?;
    }
    Ok(exit::OK)
}

/// The reporter of the run (and its events file), told first what the
/// state's files and a dead run left to say.
fn start_reporter(
    project: &Project,
    json: bool,
    verbose: bool,
    state: &RunState,
) -> Box<dyn Reporter> {
    let mut reporter: Box<dyn Reporter> =
        crate::report::event_log::with_event_log(choose_reporter(json, verbose), &project.logs_dir);
    for w in &state.completed_warnings {
        reporter.report(&Event::Warning {
            message: format!("status/completed_tasks.txt {w}"),
        });
    }
    for w in &state.record_warnings {
        reporter.report(&Event::Warning {
            message: format!("status/{w}"),
        });
    }
    if let Some(message) = state.interruption_note() {
        reporter.report(&Event::Note { message });
    }
    reporter
}

/// The decision carried out on a runtime of its own, with the signals
/// turned into stop requests.
fn execute(
    inputs: &RunInputs<'_>,
    reporter: &mut dyn Reporter,
) -> Result<crate::events::RunSummary, CommandError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(StopLevel::Run);
        let signal_state = signals::install(stop_tx)?;
        Ok::<_, std::io::Error>(runner::execute(inputs, stop_rx, &signal_state, reporter).await)
    })?;
    Ok(summary)
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
    decision: &Decision<'_>,
    settings: &Settings,
    template: &str,
) -> Result<(), CommandError> {
    for pg in decision.groups() {
        let jobs = GroupJobs::new(
            project,
            &loaded.roadmap,
            pg,
            settings,
            template,
            Path::new(""),
        );
        for t in pg.tasks() {
            jobs.prompt(&t.id)
                .map_err(|e| CommandError::Preflight(format!("prompt template: {e}")))?;
        }
        // A group's or task's `(agent: X)` must be there before anything starts.
        for t in pg.tasks() {
            let agent = jobs.task_agent(&t.id);
            if !std::ptr::eq(agent, &settings.agent) {
                let user = format!("{} task {} (agent: {})", pg.key, t.id, agent.kind());
                preflight::check_agent(&user, agent, &project.dir)
                    .map_err(|e| CommandError::Preflight(e.to_string()))?;
            }
        }
    }
    Ok(())
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
    if settings.isolation == crate::config::Isolation::Worktree && repo.is_none() {
        return Err(CommandError::Preflight(format!(
            "--isolation worktree needs a git repository, and {} is not in one: run `git init` and commit the project once, or use --isolation shared",
            project.dir.display()
        )));
    }
    preflight::check_root_sandbox(settings).map_err(|e| CommandError::Preflight(e.to_string()))?;
    let kind = settings.agent.kind();
    let program = preflight::find_agent(&settings.agent.command[0], kind, &project.dir)
        .map_err(|e| CommandError::Preflight(e.to_string()))?;
    // Fallbacks, repairs and reviews may start other agents: each must be there too.
    for (user, agent) in preflight::role_agents(settings) {
        preflight::check_agent(&user, agent, &project.dir)
            .map_err(|e| CommandError::Preflight(e.to_string()))?;
    }
    Ok((program, repo))
}

/// Why the run must not start on this tree (unless allowed to take
/// uncommitted changes, or with commits off).
fn dirty_refusal(
    repo: Option<&Repo>,
    p: &RunPlan,
    decision: &Decision<'_>,
    state: &RunState,
) -> Option<String> {
    let repo = repo.filter(|_| p.settings.git.commit && !p.opts.allow_dirty)?;
    dirty_tree_problem(repo, &p.loaded, decision, state, &p.settings.report_dir)
}

/// A phase that starts fresh must start from a clean tree: its commit would
/// otherwise sweep in changes that are not its work. Resuming a started
/// phase (a group complete, started or interrupted), or committing a
/// finished one, is its own work and passes. Called after recovery, so no
/// leftover agent is still writing.
fn dirty_tree_problem(
    repo: &Repo,
    loaded: &LoadedRoadmap,
    decision: &Decision<'_>,
    state: &RunState,
    report_dir: &Path,
) -> Option<String> {
    let phase = decision.fresh_phase(state)?;
    let own = runner_paths(report_dir);
    let ignore: Vec<&str> = own.iter().map(String::as_str).collect();
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

/// What the runner writes (`status/`, `logs/`, the reports) and its
/// settings file: never a change of the user's (project-relative patterns).
fn runner_paths(report_dir: &Path) -> Vec<String> {
    let mut own: Vec<String> = crate::vcs::RUNNER_FILES
        .iter()
        .map(|p| p.to_string())
        .collect();
    own.push(crate::config::CONFIG_FILE.into());
    own.push(format!("{}/PHASE*-GROUP-*-STATUS.md", report_dir.display()));
    own
}

/// `logs/` is never committed and the lock never either; status files are.
fn ensure_runner_ignores(project: &Project) -> Result<(), CommandError> {
    crate::project::ensure_gitignore(&project.logs_dir, crate::project::LOGS_GITIGNORE)?;
    crate::project::ensure_gitignore(project.status.path(), crate::project::STATUS_GITIGNORE)?;
    Ok(())
}
