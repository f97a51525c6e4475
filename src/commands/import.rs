//! `roadmap-runner import PLAN.md`: the agent turns any plan document into a
//! native roadmap ([`crate::draft`]) whose every task names the document's
//! line it came from. Written for a person to read; nothing runs.

use super::{CommandError, Io};
use crate::cli::ImportArgs;
use crate::config::{FileConfig, Overrides, Settings};
use crate::draft::{self, Request, summary};
use crate::exit;
use crate::project::Project;

pub fn run(project: &Project, args: &ImportArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| project.roadmap_path.clone());
    if output.exists() && !args.force {
        return Err(CommandError::Usage(format!(
            "{} already exists: nothing was written; pass --force to overwrite it, or choose another --output",
            output.display()
        )));
    }
    let text = std::fs::read_to_string(&args.plan).map_err(|e| {
        CommandError::Usage(format!("cannot read the plan {}: {e}", args.plan.display()))
    })?;
    let doc = summary::SourceDoc {
        name: crate::project::relative_display(&project.dir, &absolute(&args.plan)),
        text,
    };
    let (file, _) = FileConfig::load(&project.dir)?;
    let settings = Settings::resolve(&file, &Overrides::default().with_process_env()?)?;
    let plan_file = Request::plan_file_for(project, "import");
    let req = Request {
        project,
        settings: &settings,
        name: "import",
        prompt: draft::import_prompt(&doc, &plan_file),
        attempts: args.attempts,
        source: Some(&doc),
        plan_file,
    };
    let drafted = match draft::draft(&req) {
        Ok(d) => d,
        Err(e) => return super::init::failed(&e, &project.dir, io),
    };
    crate::status::write_atomic(&output, drafted.source.as_bytes())?;
    let shown = crate::project::relative_display(&project.dir, &absolute(&output));
    writeln!(
        io.out,
        "Wrote {}: {}{}{}Nothing was started: read the roadmap, then run it with `roadmap-runner --roadmap {}`.",
        shown,
        summary::describe(&drafted.roadmap),
        summary::source_map(&drafted.roadmap, &drafted.source, &doc),
        summary::calls(&drafted.calls, &project.dir),
        shown
    )?;
    if !drafted.warnings.is_empty() {
        writeln!(io.err, "{}", drafted.warnings)?;
    }
    Ok(exit::OK)
}

/// A path given on the command line, made absolute (relative to the cwd).
fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
