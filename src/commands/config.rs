//! `roadmap-runner config`: the effective settings and where each came from
//! (default, roadmap-runner.toml, an environment variable, a flag).

use super::{CommandError, Io};
use crate::cli::RunArgs;
use crate::config::{FileConfig, Settings, explain};
use crate::exit;
use crate::project::Project;

pub fn run(project: &Project, args: &RunArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let (file, path) = FileConfig::load(&project.dir)?;
    let request = args.request()?;
    let over = request.overrides.with_process_env()?;
    let settings = Settings::resolve(&file, &over)?;
    let rows = explain(&file, &over, &settings);
    if request.json {
        let doc = serde_json::json!({
            "file": path,
            "settings": rows.iter().map(|r| serde_json::json!({
                "key": r.key,
                "value": r.value,
                "from": r.origin.to_string(),
            })).collect::<Vec<_>>(),
        });
        writeln!(io.out, "{doc}")?;
        return Ok(exit::OK);
    }
    match &path {
        Some(p) => writeln!(io.out, "{}", p.display())?,
        None => writeln!(
            io.out,
            "no {} in {}: every setting is a default, a variable or a flag",
            crate::config::CONFIG_FILE,
            project.dir.display()
        )?,
    }
    // The value last: an agent command line is long.
    let origins: Vec<String> = rows.iter().map(|r| r.origin.to_string()).collect();
    let kw = rows.iter().map(|r| r.key.len()).max().unwrap_or(0);
    let fw = origins.iter().map(String::len).max().unwrap_or(0);
    writeln!(io.out)?;
    writeln!(io.out, "{:<kw$}  {:<fw$}  VALUE", "KEY", "FROM")?;
    let mut section = "";
    for (r, from) in rows.iter().zip(&origins) {
        // A blank line and the `[section]` header before each section.
        if r.section() != section {
            section = r.section();
            writeln!(io.out, "\n[{section}]")?;
        }
        let value = if r.value.is_empty() { "-" } else { &r.value };
        writeln!(io.out, "{:<kw$}  {from:<fw$}  {value}", r.key)?;
    }
    Ok(exit::OK)
}
