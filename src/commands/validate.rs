//! `roadmap-runner validate`: parse, print diagnostics and a summary.

use super::{CommandError, Io};
use crate::cli::ValidateArgs;
use crate::config::{FileConfig, Overrides, Settings};
use crate::exit;
use crate::project::{LoadedRoadmap, Project};
use crate::roadmap::diagnostics::LineIndex;
use crate::roadmap::seed::roadmap_tasks_txt;
use crate::roadmap::{Group, Phase, Roadmap};
use crate::status::ROADMAP_TASKS_FILE;

/// Derived-id lines the human output shows before pointing at `--json`.
const DERIVED_LINES: usize = 40;

pub fn run(project: &Project, args: &ValidateArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let code = run_roadmap(
        project,
        args,
        Io {
            out: &mut *io.out,
            err: &mut *io.err,
        },
    )?;
    let config = check_config(project, args.json, io)?;
    Ok(if code == exit::OK { config } else { code })
}

/// `roadmap-runner.toml` read and resolved as a run reads it, so a mistyped
/// key or a bad value shows now, with the run's `file:line:col` message, not
/// tonight. On stderr also with `--json` (stdout stays one document); exit 5,
/// as the run would.
fn check_config(project: &Project, json: bool, io: Io<'_>) -> Result<i32, CommandError> {
    let (file, path) = match FileConfig::load(&project.dir) {
        Ok(loaded) => loaded,
        Err(e) => {
            writeln!(io.err, "error: {e}")?;
            return Ok(exit::PREFLIGHT_FAILED);
        }
    };
    // The environment a run would read too: a bad TASK_TIMEOUT fails here
    // (exit 64, as `run` would), not at night.
    let env = match env_overrides() {
        Ok(over) => over,
        Err(e) => {
            writeln!(io.err, "error: {e}")?;
            return Ok(exit::USAGE);
        }
    };
    if let Err(e) = Settings::resolve(&file, &env) {
        writeln!(io.err, "error: {e}")?;
        return Ok(exit::PREFLIGHT_FAILED);
    }
    if !json {
        let toml = match &path {
            Some(_) => format!("{}: ok", crate::config::CONFIG_FILE),
            None => format!("no {} (defaults apply)", crate::config::CONFIG_FILE),
        };
        writeln!(io.out, "{toml}; environment: ok")?;
    }
    Ok(exit::OK)
}

/// The settings `run` takes from its environment (`MAX_PARALLEL_AGENTS`,
/// `TASK_TIMEOUT`, `ROADMAP_MAX_COST`), checked as `run` checks them.
/// (`ROADMAP_ISOLATION` and `DRY_RUN` are read by the argument parser, which
/// refuses a bad value before any command runs.)
fn env_overrides() -> Result<Overrides, crate::config::ConfigError> {
    Overrides::default().with_process_env()
}

fn run_roadmap(project: &Project, args: &ValidateArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let loaded = project.load_roadmap()?;
    let errors = loaded.error_count();
    if args.json {
        let doc = json_doc(&loaded, errors);
        serde_json::to_writer_pretty(&mut *io.out, &doc).map_err(std::io::Error::from)?;
        writeln!(io.out)?;
    } else {
        if !loaded.diagnostics.is_empty() {
            writeln!(io.err, "{}", loaded.render_diagnostics())?;
        }
        let mut line = format!("{}: {}", loaded.display, loaded.summary());
        let warnings = loaded.warning_count();
        if errors > 0 {
            line.push_str(&format!(", {}", crate::text::plural(errors, "error")));
        }
        if warnings > 0 {
            line.push_str(&format!(", {}", crate::text::plural(warnings, "warning")));
        }
        line.push_str(&format!(" (read as {})", loaded.roadmap.dialect));
        writeln!(io.out, "{line}")?;
        write!(io.out, "{}", derived_lines(&loaded.roadmap))?;
        write!(io.out, "{}", super::reading_tree::render(&loaded.roadmap))?;
    }
    if errors > 0 {
        return Ok(exit::ROADMAP_INVALID);
    }
    if args.write {
        project.status.write(
            ROADMAP_TASKS_FILE,
            roadmap_tasks_txt(&loaded.roadmap).as_bytes(),
        )?;
    }
    Ok(exit::OK)
}

/// The `--json` document: the reading, counts, diagnostics and the tree.
fn json_doc(loaded: &LoadedRoadmap, errors: usize) -> serde_json::Value {
    let index = LineIndex::new(&loaded.source);
    let diagnostics: Vec<_> = loaded
        .diagnostics
        .iter()
        .map(|d| {
            let (line, col) = index.line_col(&loaded.source, d.span.start);
            serde_json::json!({
                "severity": d.severity,
                "code": d.code,
                "message": d.message,
                "help": d.help,
                "line": line,
                "column": col,
            })
        })
        .collect();
    let r = &loaded.roadmap;
    let tasks = || {
        r.phases
            .iter()
            .flat_map(|p| &p.groups)
            .flat_map(|g| &g.tasks)
    };
    let mut doc = serde_json::json!({
        "roadmap": loaded.display,
        "valid": errors == 0,
        "dialect": r.dialect,
        "reading": r.dialect.description(),
        "title": r.title,
        "summary": {
            "phases": r.phases.len(),
            "phases_done": r.phases.iter().filter(|p| p.done_in_roadmap).count(),
            "groups": r.group_count(),
            "tasks": r.task_count(),
            "tasks_done": tasks().filter(|t| t.done_in_roadmap).count(),
            "tasks_optional": tasks().filter(|t| t.optional).count(),
            "derived_group_ids": r.groups().filter(|(_, g)| g.derived_id).count(),
            "derived_task_ids": tasks().filter(|t| t.derived_id).count(),
        },
        "diagnostics": diagnostics,
        "phases": r.phases,
    });
    if let Some(reading) = super::reading_tree::json(r) {
        doc["reading"] = serde_json::json!(reading);
    }
    doc
}

/// `derived ids:` then `  1:T003 <- T003 T004 T005` for every group whose
/// id, or one of whose task ids, the roadmap did not write.
fn derived_lines(r: &Roadmap) -> String {
    let lines: Vec<String> = r
        .groups()
        .filter(|(_, g)| g.derived_id || g.tasks.iter().any(|t| t.derived_id))
        .map(|(p, g)| derived_line(p, g))
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("derived ids (phase:group <- tasks):\n");
    for l in lines.iter().take(DERIVED_LINES) {
        out.push_str(l);
        out.push('\n');
    }
    if lines.len() > DERIVED_LINES {
        out.push_str(&format!(
            "  ... and {} more (validate --json shows all)\n",
            lines.len() - DERIVED_LINES
        ));
    }
    out
}

fn derived_line(p: &Phase, g: &Group) -> String {
    let tasks: Vec<String> = g
        .tasks
        .iter()
        .map(|t| {
            if t.derived_id {
                format!("{} \"{}\"", t.id, t.title)
            } else {
                t.id.clone()
            }
        })
        .collect();
    format!("  {}:{} <- {}", p.number, g.id, tasks.join(" "))
}
