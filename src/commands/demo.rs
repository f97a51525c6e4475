//! `roadmap-runner demo [--keep]`: the main job end to end, in a temporary
//! directory, with nothing installed. Sets up the demo shop (see
//! [`crate::demo::project`]), runs exactly what `roadmap-runner -C <shop>`
//! runs (live view on a terminal, plain lines otherwise), then shows the
//! remote's history and where to look.

use super::{CommandError, Io};
use crate::cli::DemoArgs;
use crate::config::{Overrides, RunRequest};
use crate::demo::project::{self, ORIGIN_DIR, PROJECT_DIR};
use crate::project::Project;

/// Printed before the kept directory's path (tests read it).
pub const KEPT_PREFIX: &str = "Kept in ";

pub fn run(args: &DemoArgs, verbose: bool, io: Io<'_>) -> Result<i32, CommandError> {
    let exe = std::env::current_exe().map_err(|e| {
        CommandError::Usage(format!(
            "cannot find this program's own path for the demo's agent: {e}"
        ))
    })?;
    let demo = project::create(&exe)?;
    let cluster = match args.workers {
        0 => None,
        n => match crate::demo::cluster::DemoCluster::start(&demo.root, n as usize) {
            Ok(c) => Some(c),
            Err(e) => {
                demo.keep();
                return Err(e.into());
            }
        },
    };
    let result = run_in(
        &demo,
        cluster.as_ref().map(|c| c.url.clone()),
        verbose,
        Io {
            out: &mut *io.out,
            err: &mut *io.err,
        },
    );
    if let Some(c) = cluster {
        c.stop();
        if result.is_ok() {
            tell_workers(&demo, io.out)?;
        }
    }
    // Kept as asked, and always after a failure: its logs explain it.
    let root = demo.root.clone();
    let shop = demo.shop.clone();
    let failed = !matches!(result, Ok(0));
    if args.keep || failed {
        demo.keep();
        let me = command_name(&exe);
        writeln!(io.out)?;
        writeln!(io.out, "{KEPT_PREFIX}{}", root.display())?;
        writeln!(io.out, "  cd {} && {me} status", shop.display())?;
        writeln!(
            io.out,
            "  {me} logs 1:A:A1   the log of A1's agent, readable (`logs 1:A`: the group's gate log)"
        )?;
        writeln!(io.out, "  git log --stat   the phase commits")?;
    } else {
        let removed = demo.remove();
        writeln!(io.out)?;
        match removed {
            Ok(()) => writeln!(
                io.out,
                "Removed {} (`roadmap-runner demo --keep` keeps it, to look around with `status` and `logs`).",
                root.display()
            )?,
            Err(e) => writeln!(
                io.err,
                "warning: cannot remove the demo directory {}: {e}",
                root.display()
            )?,
        }
    }
    result
}

/// How to call this program in a hint: `roadmap-runner` when that is on
/// PATH, else its full path (e.g. `target/release/roadmap-runner` after
/// `cargo run`).
fn command_name(exe: &std::path::Path) -> String {
    const NAME: &str = "roadmap-runner";
    if which::which(NAME).is_ok() {
        NAME.to_string()
    } else {
        exe.display().to_string()
    }
}

/// Which worker ran how many of the tasks (from the records).
fn tell_workers(
    demo: &project::DemoProject,
    out: &mut dyn std::io::Write,
) -> Result<(), CommandError> {
    let project = Project::new(Some(&demo.shop), None)?;
    let per = crate::status::RunView::load(&project.status)?
        .view
        .attempts_per_worker();
    let said: Vec<String> = per.iter().map(|(w, n)| format!("{w} ran {n}")).collect();
    writeln!(
        out,
        "Workers (through NATS JetStream, each task in its own worktree, its branch merged here): {}",
        said.join(", ")
    )?;
    Ok(())
}

/// The intro, the run, the remote's log: the run's exit code.
fn run_in(
    demo: &project::DemoProject,
    nats: Option<String>,
    verbose: bool,
    io: Io<'_>,
) -> Result<i32, CommandError> {
    let project = Project::new(Some(&demo.shop), None)?;
    let summary = project.load_roadmap()?.summary();
    writeln!(io.out, "roadmap-runner demo in {}", demo.root.display())?;
    writeln!(
        io.out,
        "  {PROJECT_DIR}/        a tiny JavaScript shop: ROADMAP.md ({summary}), tests/run.sh as the gate"
    )?;
    writeln!(
        io.out,
        "  {ORIGIN_DIR}/  its remote (a bare repository): every finished phase is committed and pushed there"
    )?;
    writeln!(
        io.out,
        "The agents are simulated: this program, speaking Claude Code's stream-json, writes each task's file.\n\
         Everything else is the real run: parallel agents, the gate, status files, commits, pushes.\n"
    )?;
    if let Some(url) = &nats {
        writeln!(
            io.out,
            "The tasks go to workers (this program's `worker`, quiet, in workers/) through the NATS JetStream\n\
             server at {url} (started for the demo, in nats/); the gate, merges and commits run here.\n"
        )?;
    }
    io.out.flush()?;

    // Exactly `roadmap-runner -C <shop> run`, with its defaults: the settings
    // come from the demo's roadmap-runner.toml.
    let code = super::run::run(
        &project,
        &RunRequest {
            overrides: Overrides {
                nats,
                ..Overrides::default()
            },
            ..RunRequest::default()
        },
        verbose,
        Io {
            out: &mut *io.out,
            err: &mut *io.err,
        },
    )?;

    writeln!(io.out)?;
    match project::remote_log(&demo.origin) {
        Ok(log) => {
            writeln!(
                io.out,
                "git log --oneline of the remote ({ORIGIN_DIR}, {}):",
                project::BRANCH
            )?;
            for (id, subject) in log {
                writeln!(io.out, "  {id} {subject}")?;
            }
        }
        Err(e) => writeln!(io.err, "warning: {e}")?,
    }
    Ok(code)
}
