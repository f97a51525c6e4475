//! `roadmap-runner init`: a starter ROADMAP.md and roadmap-runner.toml (the
//! templates are in the binary, for users who installed with `cargo
//! install`), or with `--goal` a roadmap drafted by the agent
//! ([`crate::draft`]), optionally run at once (`--run`).

use super::{CommandError, Io};
use crate::cli::InitArgs;
use crate::config::{CONFIG_FILE, FileConfig, Overrides, Settings};
use crate::draft::events::{DraftEvent, JsonEvents};
use crate::draft::{self, DraftError, Drafted, Request, summary};
use crate::exit;
use crate::project::Project;
use std::path::Path;

/// The starter roadmap, in the format of ROADMAP.example.md.
pub const STARTER_ROADMAP: &str = include_str!("../draft/prompts/starter_roadmap.md");
/// The commented configuration: the example file itself, every setting at
/// its default.
pub const STARTER_CONFIG: &str = include_str!("../../roadmap-runner.example.toml");

pub fn run(
    project: &Project,
    args: &InitArgs,
    verbose: bool,
    io: Io<'_>,
) -> Result<i32, CommandError> {
    let (file, _) = FileConfig::load(&project.dir)?;
    let settings = Settings::resolve(&file, &Overrides::default().with_process_env()?)?;
    let gate = gate_lines(project, &settings);
    let roadmap = &project.roadmap_path;
    let config = project.dir.join(CONFIG_FILE);
    let Some(goal) = &args.goal else {
        refuse_existing(&[roadmap, &config], args.force)?;
        let starter = STARTER_ROADMAP.replace("{{gate}}", &gate);
        std::fs::write(roadmap, starter)?;
        std::fs::write(&config, STARTER_CONFIG)?;
        writeln!(
            io.out,
            "Wrote {} and {CONFIG_FILE}.\nThe gate after each group:\n{gate}\nEdit the roadmap, then check it with `roadmap-runner validate` and see what would run with `roadmap-runner --dry-run`.",
            project.roadmap_display(),
        )?;
        return Ok(exit::OK);
    };
    // Refused before the agent is paid for an answer that cannot be written.
    refuse_existing(&[roadmap], args.force)?;
    let plan_file = Request::plan_file_for(project, "init");
    let req = Request {
        project,
        settings: &settings,
        name: "init",
        prompt: draft::goal_prompt(goal, &gate.replace('\n', "; "), &plan_file),
        attempts: args.attempts,
        source: None,
        plan_file,
    };
    let json = args.run_options.json;
    let clean_before = !args.run || tree_clean(project);
    let drafted = if json {
        draft_reported(project, &req, &mut *io.out)
    } else {
        draft::draft(&req).and_then(|d| write_roadmap(project, d))
    };
    let drafted = match drafted {
        Ok(d) => d,
        Err(e) => return failed(&e, &project.dir, io),
    };
    {
        // With --json stdout carries events only: the summary goes to stderr.
        let text: &mut dyn std::io::Write = if json { &mut *io.err } else { &mut *io.out };
        writeln!(
            text,
            "Wrote {}: {}The gate after each group:\n{gate}\n{}",
            project.roadmap_display(),
            summary::describe(&drafted.roadmap),
            summary::calls(&drafted.calls, &project.dir)
        )?;
        if !args.run {
            writeln!(
                text,
                "Nothing was started: read the roadmap, then run it with `roadmap-runner`."
            )?;
        }
    }
    if !drafted.warnings.is_empty() {
        writeln!(io.err, "{}", drafted.warnings)?;
    }
    if !args.run {
        return Ok(exit::OK);
    }
    // The new roadmap is the only change: it goes into the first phase's
    // commit. Any other change stops the run as a plain run would stop.
    let mut request = args.run_options.request()?;
    request.allow_dirty |= clean_before;
    super::run::run(project, &request, verbose, io)
}

/// The drafted roadmap written to the roadmap file.
fn write_roadmap(project: &Project, drafted: Drafted) -> Result<Drafted, DraftError> {
    crate::status::write_atomic(&project.roadmap_path, drafted.source.as_bytes())?;
    Ok(drafted)
}

/// `--json`: the drafting reported as events as it goes, its end too.
fn draft_reported(
    project: &Project,
    req: &Request<'_>,
    out: &mut dyn std::io::Write,
) -> Result<Drafted, DraftError> {
    let mut events = JsonEvents::new(out, &project.orchestrator_logs());
    let result = draft::draft_observed(req, &mut |e| events.report(&e))
        .and_then(|d| write_roadmap(project, d));
    events.report(&match &result {
        Ok(d) => DraftEvent::DraftingDone {
            roadmap: project.roadmap_display(),
            phases: d.roadmap.phases.len(),
            groups: d.roadmap.group_count(),
            tasks: d.roadmap.task_count(),
            calls: d.calls.len(),
            cost_usd: summary::total_cost(&d.calls),
        },
        Err(e) => DraftEvent::DraftingFailed {
            message: e.to_string(),
            exit_code: e.exit_code(),
        },
    });
    result
}

/// Every path that exists, named, unless `--force`.
fn refuse_existing(paths: &[&Path], force: bool) -> Result<(), CommandError> {
    let existing: Vec<String> = paths
        .iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if force || existing.is_empty() {
        return Ok(());
    }
    Err(CommandError::Usage(format!(
        "{} already {}: nothing was written; pass --force to overwrite",
        existing.join(" and "),
        if existing.len() == 1 {
            "exists"
        } else {
            "exist"
        }
    )))
}

/// The gate the run will use, one step a line (or why there is none).
pub fn gate_lines(project: &Project, settings: &Settings) -> String {
    match crate::gate::plan_gate(&project.dir, &settings.gate) {
        Ok(plan) if plan.is_empty() => {
            "  (none found: groups are recorded complete without a check)".into()
        }
        Ok(plan) => plan
            .steps
            .iter()
            .map(|s| format!("  {}: {} ({})", s.name, s.display, s.source))
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("  (cannot be detected: {e})"),
    }
}

/// Whether the tree has no change but the runner's own files.
fn tree_clean(project: &Project) -> bool {
    let Ok(repo) = crate::vcs::Repo::open(&project.dir) else {
        return false;
    };
    let mut ignore: Vec<&str> = crate::vcs::RUNNER_FILES.to_vec();
    ignore.push(CONFIG_FILE);
    repo.dirty_files(&ignore).is_ok_and(|f| f.is_empty())
}

/// A draft that failed: why, what it cost, and the exit code.
pub fn failed(e: &draft::DraftError, base: &Path, io: Io<'_>) -> Result<i32, CommandError> {
    writeln!(io.err, "error: {e}")?;
    if !e.calls().is_empty() {
        writeln!(io.err, "{}", summary::calls(e.calls(), base).trim_end())?;
    }
    writeln!(io.err, "Nothing was written.")?;
    Ok(e.exit_code())
}
