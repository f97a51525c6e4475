//! `worker` and `workers`: the edge of [`crate::cluster`].

use super::{CommandError, Io};
use crate::cli::{WorkerArgs, WorkersArgs};
use crate::cluster::worker::WorkerOptions;
use crate::cluster::{NatsTarget, queues::Queues, workers};

pub fn run(args: &WorkerArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let name = args
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(crate::cluster::host_name);
    let work_dir = match &args.work_dir {
        Some(d) => d.clone(),
        None => crate::project::cache_dir().join("worker"),
    };
    std::fs::create_dir_all(&work_dir).map_err(|e| {
        CommandError::Preflight(format!(
            "cannot create the work dir {}: {e}",
            work_dir.display()
        ))
    })?;
    let work_dir = std::fs::canonicalize(&work_dir).unwrap_or(work_dir);
    let opts = WorkerOptions {
        target: NatsTarget {
            url: args.nats.clone(),
            creds: args.creds.clone(),
        },
        name,
        max_parallel: args.max_parallel as usize,
        work_dir,
        stop_grace: args.stop_grace,
        agent_bin: std::env::var(crate::config::ENV_CLAUDE_BIN)
            .ok()
            .filter(|b| !b.trim().is_empty()),
        drain: None,
        quiet: false,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match rt.block_on(crate::cluster::worker::run(opts)) {
        Ok(code) => Ok(code),
        Err(e) => {
            writeln!(io.err, "error: {e}")?;
            Ok(crate::exit::PREFLIGHT_FAILED)
        }
    }
}

pub fn list(args: &WorkersArgs, io: Io<'_>) -> Result<i32, CommandError> {
    let target = NatsTarget {
        url: args.nats.clone(),
        creds: args.creds.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let live = rt.block_on(async {
        let client = target.connect("roadmap-runner workers").await?;
        let queues = Queues::open(client, target.shown()).await?;
        workers::live(&queues.workers).await
    })?;
    if args.json {
        writeln!(
            io.out,
            "{}",
            serde_json::to_string_pretty(&live).expect("heartbeats serialise")
        )?;
    } else {
        write!(io.out, "{}", workers::table(&live, chrono::Utc::now()))?;
    }
    Ok(crate::exit::OK)
}
