//! `demo --workers N`: the demo's tasks run by N workers through a NATS
//! JetStream server, all on this machine. The server is started through
//! the one process path (`exec::run_process`, stopped with SIGTERM); the
//! workers are this program's own worker loop on a runtime of their own,
//! quiet (their lines go to the runner log), drained when the demo ends.

use super::DemoError;
use crate::cluster::worker::{self, WorkerOptions};
use crate::cluster::{NatsTarget, queues::Queues, workers};
use crate::exec::{ProcessSpec, StdinSource, StopLevel, run_process};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A server and its workers, for the length of the demo.
pub struct DemoCluster {
    rt: tokio::runtime::Runtime,
    pub url: String,
    pub names: Vec<String>,
    server_stop: watch::Sender<StopLevel>,
    drain: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// Where Debian puts it, for a PATH without `/usr/sbin`.
const DEBIAN_NATS: &str = "/usr/sbin/nats-server";

fn nats_server() -> Result<PathBuf, DemoError> {
    which::which("nats-server")
        .ok()
        .or_else(|| Path::new(DEBIAN_NATS).is_file().then(|| DEBIAN_NATS.into()))
        .ok_or_else(|| DemoError::Missing {
            what: "`demo --workers` needs nats-server (Debian and Ubuntu: `apt install nats-server`; or https://nats.io/download); `demo` alone needs nothing".into(),
        })
}

impl DemoCluster {
    /// Starts the server in `root/nats` and `count` workers under `root/workers`.
    pub fn start(root: &Path, count: usize) -> Result<DemoCluster, DemoError> {
        let program = nats_server()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(DemoError::io("cannot pick a port for nats-server"))?
            .port();
        let dir = root.join("nats");
        std::fs::create_dir_all(&dir).map_err(DemoError::io("cannot create the server's store"))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(DemoError::io("cannot start the workers' runtime"))?;
        let (server_stop, stop_rx) = watch::channel(StopLevel::Run);
        let spec = ProcessSpec {
            program: program.into_os_string(),
            args: ["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"]
                .iter()
                .map(Into::into)
                .chain([dir.clone().into_os_string()])
                .collect(),
            env: Vec::new(),
            cwd: dir.clone(),
            stdin: StdinSource::Null,
            log_path: Some(dir.join("server.log")),
            timeout: None,
            grace: Duration::from_secs(5),
            leak_timeout: Duration::from_secs(1),
        };
        let server = rt.spawn(async move {
            if let Err(e) = run_process(spec, stop_rx, &mut |_| {}).await {
                tracing::error!(error = %e, "nats-server");
            }
        });
        let url = format!("nats://127.0.0.1:{port}");
        let (drain, drain_rx) = watch::channel(false);
        let mut cluster = DemoCluster {
            rt,
            url,
            names: (1..=count).map(|i| format!("demo-{i}")).collect(),
            server_stop,
            drain,
            server,
            workers: Vec::new(),
        };
        cluster.wait_for_server(&dir)?;
        for name in cluster.names.clone() {
            let opts = WorkerOptions {
                target: cluster.target(),
                work_dir: root.join("workers").join(&name),
                name,
                max_parallel: 2,
                stop_grace: Duration::from_secs(30),
                agent_bin: None,
                drain: Some(drain_rx.clone()),
                quiet: true,
            };
            cluster.workers.push(cluster.rt.spawn(async move {
                if let Err(e) = worker::run(opts).await {
                    tracing::error!(error = %e, "demo worker");
                }
            }));
        }
        cluster.wait_for_workers()?;
        Ok(cluster)
    }

    fn target(&self) -> NatsTarget {
        NatsTarget {
            url: self.url.clone(),
            creds: None,
        }
    }

    fn wait_for_server(&self, dir: &Path) -> Result<(), DemoError> {
        let addr = self.url.trim_start_matches("nats://").to_string();
        let until = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(&addr).is_err() {
            if Instant::now() > until || self.server.is_finished() {
                return Err(DemoError::Missing {
                    what: format!(
                        "nats-server did not start (its log: {})",
                        dir.join("server.log").display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Until every worker heartbeats.
    fn wait_for_workers(&self) -> Result<(), DemoError> {
        let target = self.target();
        let want = self.names.len();
        let live = self.rt.block_on(async {
            let until = Instant::now() + Duration::from_secs(20);
            let client = target.connect("roadmap-runner demo").await.ok()?;
            let queues = Queues::open(client, target.shown()).await.ok()?;
            loop {
                let n = workers::live(&queues.workers).await.map_or(0, |w| w.len());
                if n >= want || Instant::now() > until {
                    return Some(n);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        match live {
            Some(n) if n >= want => Ok(()),
            n => Err(DemoError::Missing {
                what: format!(
                    "{} of the {want} demo workers came up",
                    n.unwrap_or_default()
                ),
            }),
        }
    }

    /// Drains the workers, then stops the server.
    pub fn stop(self) {
        self.drain.send_replace(true);
        let DemoCluster {
            rt,
            server_stop,
            server,
            workers,
            ..
        } = self;
        rt.block_on(async {
            for w in workers {
                let _ = tokio::time::timeout(Duration::from_secs(40), w).await;
            }
            server_stop.send_replace(StopLevel::Terminate);
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        });
    }
}
