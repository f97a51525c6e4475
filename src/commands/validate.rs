//! `roadmap-runner validate`: parse, print diagnostics and a summary.

use super::{CommandError, Io};
use crate::cli::ValidateArgs;
use crate::config::{FileConfig, Overrides, Settings};
use crate::exit;
use crate::project::Project;
use crate::roadmap::seed::roadmap_tasks_txt;
use crate::status::ROADMAP_TASKS_FILE;

pub fn run(project: &Project, args: &ValidateArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let code = run_roadmap(
        project,
        args,
        Io {
            out: &mut *io.out,
            err: &mut *io.err,
        },
    )?;
    let config = check_config(project, io)?;
    Ok(if code == exit::OK { config } else { code })
}

/// `roadmap-runner.toml` read and resolved as a run reads it, so a mistyped
/// key or a bad value shows now, with the run's `file:line:col` message, not
/// tonight. On stderr also with `--json` (stdout stays one document); exit 5,
/// as the run would.
fn check_config(project: &Project, io: Io<'_>) -> Result<i32, CommandError> {
    let problem = FileConfig::load(&project.dir)
        .and_then(|(file, _)| Settings::resolve(&file, &Overrides::default()));
    match problem {
        Ok(_) => Ok(exit::OK),
        Err(e) => {
            writeln!(io.err, "error: {e}")?;
            Ok(exit::PREFLIGHT_FAILED)
        }
    }
}

fn run_roadmap(project: &Project, args: &ValidateArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let loaded = project.load_roadmap()?;
    let errors = loaded.error_count();
    if args.json {
        let diagnostics: Vec<_> = loaded
            .diagnostics
            .iter()
            .map(|d| {
                let (line, col) = d.line_col(&loaded.source);
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
        let doc = serde_json::json!({
            "roadmap": loaded.display,
            "valid": errors == 0,
            "summary": {
                "phases": loaded.roadmap.phases.len(),
                "groups": loaded.roadmap.group_count(),
                "tasks": loaded.roadmap.task_count(),
            },
            "diagnostics": diagnostics,
            "phases": loaded.roadmap.phases,
        });
        serde_json::to_writer_pretty(&mut *io.out, &doc).map_err(std::io::Error::from)?;
        writeln!(io.out)?;
    } else {
        if !loaded.diagnostics.is_empty() {
            writeln!(io.err, "{}", loaded.render_diagnostics())?;
        }
        let mut line = format!("{}: {}", loaded.display, loaded.summary());
        let warnings = loaded.warning_count();
        if errors > 0 {
            line.push_str(&format!(", {}", crate::project::plural(errors, "error")));
        }
        if warnings > 0 {
            line.push_str(&format!(
                ", {}",
                crate::project::plural(warnings, "warning")
            ));
        }
        writeln!(io.out, "{line}")?;
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
