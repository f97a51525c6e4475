//! `run --nats` as the run's executor: one connection to the server for the
//! whole run, each group's attempts sent to the workers, and a committed
//! phase's task branches and bases deleted from the remote.

use super::Dispatcher;
use super::group::{RemoteGroup, withheld_env};
use crate::config::cluster::{NatsTarget, Redelivery};
use crate::config::{GitSettings, Settings};
use crate::events::{Event, Reporter};
use crate::roadmap::PhaseId;
use crate::runner::executor::{Executor, GroupSetup, Refusal, TaskRunner};
use crate::vcs::Repo;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

/// The workers behind one NATS server.
pub struct ClusterExecutor {
    target: NatsTarget,
    redelivery: Redelivery,
    /// Made by [`Executor::start`].
    dispatcher: OnceLock<Arc<Dispatcher>>,
}

impl ClusterExecutor {
    pub fn new(target: NatsTarget, redelivery: Redelivery) -> ClusterExecutor {
        ClusterExecutor {
            target,
            redelivery,
            dispatcher: OnceLock::new(),
        }
    }

    async fn connect(
        &self,
        settings: &Settings,
        reporter: &mut dyn Reporter,
    ) -> Result<(), Refusal> {
        let d = Dispatcher::connect(&self.target, self.redelivery, settings.cluster.no_workers)
            .await
            .map_err(|e| Refusal {
                message: e.to_string(),
                next_steps: vec![
                    "start the server (`nats-server -js`), or run without --nats to run the agents here".into(),
                ],
            })?;
        let live = d.live_workers().await;
        reporter.report(&Event::Note {
            message: format!(
                "tasks go to workers through NATS at {} ({} live now; ack wait {}, {} deliveries at most)",
                self.target.shown(),
                live,
                humantime::format_duration(self.redelivery.ack_wait),
                self.redelivery.max_deliver
            ),
        });
        let _ = self.dispatcher.set(d);
        note_withheld_env(settings, reporter);
        Ok(())
    }
}

impl Executor for ClusterExecutor {
    fn start<'a>(
        &'a self,
        settings: &'a Settings,
        reporter: &'a mut dyn Reporter,
    ) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + 'a>> {
        Box::pin(self.connect(settings, reporter))
    }

    fn remote(&self) -> bool {
        self.dispatcher.get().is_some()
    }

    fn group(&self, group: &GroupSetup<'_>) -> Result<Arc<dyn TaskRunner>, Refusal> {
        let d = self.dispatcher.get().expect("started before its groups");
        match RemoteGroup::prepare(d.clone(), group) {
            Ok(g) => Ok(Arc::new(g)),
            Err(message) => Err(Refusal {
                message,
                next_steps: vec!["the workers fetch each group's base from the project's remote: check that the remote is reachable and accepts pushes, then run again".into()],
            }),
        }
    }

    fn release_phase(&self, repo: &Repo, git: &GitSettings, phase: &PhaseId) -> Result<(), String> {
        // Not started (no group ran): it left nothing on the remote.
        if self.dispatcher.get().is_none() {
            return Ok(());
        }
        super::cleanup::release_phase(repo, git, phase)
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "cannot delete the workers' task branches of Phase {phase} on the remote: {e}"
                )
            })
    }
}

/// Said once per run: what of `[agent] env` stays here.
fn note_withheld_env(settings: &Settings, reporter: &mut dyn Reporter) {
    let withheld = withheld_env(&settings.agent.env);
    if !withheld.is_empty() {
        reporter.report(&Event::Warning {
            message: format!(
                "[agent] env {} is not sent to the workers (it looks like a secret, and task messages are stored): set it in each worker's own environment",
                withheld.join(", ")
            ),
        });
    }
}
