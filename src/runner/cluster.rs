//! The runner's side of `--nats`: the connection made once at the start of
//! the run, and each group's remote half (its run id, its pushed base).
//! Everything after the agents (merge, gate, commit) is as in worktree mode.

use super::Ctx;
use crate::cluster::coordinator::Dispatcher;
use crate::cluster::coordinator::group::RemoteGroup;
use crate::events::{Event, Reporter};
use crate::exit;
use crate::resume::GroupAction;
use crate::status::RecordStore;
use crate::worktree::Worktrees;
use std::sync::Arc;

impl Ctx<'_, '_, '_> {
    /// Connects to the cluster when the run has one; false (with the run
    /// failed) when it cannot.
    pub(super) async fn connect_cluster(&mut self, reporter: &mut dyn Reporter) -> bool {
        let settings = &self.inputs.settings.cluster;
        let Some(target) = &settings.nats else {
            return true;
        };
        if self.inputs.decision.groups().next().is_none() {
            return true;
        }
        match Dispatcher::connect(target, settings.redelivery, settings.no_workers).await {
            Ok(d) => {
                let live = d.live_workers().await;
                reporter.report(&Event::Note {
                    message: format!(
                        "tasks go to workers through NATS at {} ({} live now; ack wait {}, {} deliveries at most)",
                        target.shown(),
                        live,
                        humantime::format_duration(settings.redelivery.ack_wait),
                        settings.redelivery.max_deliver
                    ),
                });
                self.cluster = Some(d);
                self.note_withheld_env(reporter);
                true
            }
            Err(e) => {
                self.run.fail(
                    exit::PREFLIGHT_FAILED,
                    e.to_string(),
                    vec![
                        "start the server (`nats-server -js`), or run without --nats to run the agents here".into(),
                    ],
                );
                false
            }
        }
    }

    /// The group's remote half: its base made and pushed for the workers.
    pub(super) fn remote_group(
        &self,
        d: Arc<Dispatcher>,
        planned: &GroupAction<'_>,
    ) -> Result<RemoteGroup, String> {
        let inputs = self.inputs;
        let repo = inputs
            .repo
            .ok_or_else(|| "--nats needs a git repository".to_string())?;
        let wts = Worktrees::new(
            &inputs.project.dir,
            repo.workdir(),
            &inputs.settings.worktree,
        );
        // This run's `start` record included: the run id comes from it.
        let (records, _) = RecordStore::new(&inputs.project.status)
            .load()
            .map_err(|e| e.to_string())?;
        RemoteGroup::prepare(d, repo, &wts, inputs.settings, &planned.key, &records)
    }

    /// Said once per run: what of `[agent] env` stays here.
    pub(super) fn note_withheld_env(&self, reporter: &mut dyn Reporter) {
        let withheld =
            crate::cluster::coordinator::group::withheld_env(&self.inputs.settings.agent.env);
        if !withheld.is_empty() {
            reporter.report(&Event::Warning {
                message: format!(
                    "[agent] env {} is not sent to the workers (it looks like a secret, and task messages are stored): set it in each worker's own environment",
                    withheld.join(", ")
                ),
            });
        }
    }
}
