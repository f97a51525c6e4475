//! The run: phase by phase, group by group, each group's tasks in parallel.
//! The runner owns all run state; attempts talk to it through messages and it
//! alone emits events to the reporter.

pub mod advice;
pub mod attempt;
pub mod budget;
pub mod executor;
pub mod finish;
pub mod group;
mod group_io;
pub mod isolation;
mod jobs;
mod line;
pub mod merging;
mod one_group;
pub mod phase;
pub mod preflight;
pub mod repair;
pub mod signals;
pub mod split;
mod sub;

use crate::config::Settings;
use crate::events::{Event, Reporter, RunSummary, TaskSummary};
use crate::exec::StopLevel;
use crate::exit;
use crate::plan::{GroupState, group_state};
use crate::project::Project;
use crate::resume::{Action, Decision, GroupAction, RunState};
use crate::roadmap::{GroupKey, Phase, Roadmap};
use crate::status::Store;
use crate::vcs::Repo;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

pub use jobs::GroupJobs;

/// The runner's inputs, validated by the caller.
pub struct RunInputs<'a> {
    pub project: &'a Project,
    pub roadmap: &'a Roadmap,
    pub roadmap_display: &'a str,
    pub settings: &'a Settings,
    pub template: &'a str,
    pub program: &'a Path,
    /// The state the decision was made from (loaded under the lock).
    pub state: &'a RunState,
    pub decision: &'a Decision<'a>,
    /// `None` only when the project is not a git repository (tests of parts).
    pub repo: Option<&'a Repo>,
    /// Where the tasks run, chosen by the command.
    pub executor: &'a dyn executor::Executor,
}

impl RunInputs<'_> {
    /// The command lines, prompts and logs of a group's agents.
    fn jobs<'p>(
        &'p self,
        planned: &'p GroupAction<'p>,
        isolation: Option<isolation::TaskIsolation>,
        mode: crate::config::Isolation,
    ) -> GroupJobs<'p> {
        GroupJobs {
            project: self.project,
            roadmap: self.roadmap,
            planned,
            settings: self.settings,
            template: self.template,
            program: self.program,
            isolation,
            mode,
            runner: Arc::new(executor::Local),
            remote: false,
        }
    }
}

/// How the run is going: the summary being built.
struct Progress {
    tasks: Vec<TaskSummary>,
    completed: Vec<GroupKey>,
    exit_code: i32,
    message: String,
    next_steps: Vec<String>,
    /// The no-gate note is said once per run.
    noted_no_gate: bool,
    /// Tasks of the groups acted on that did not run: done in the roadmap
    /// or succeeded in an earlier run.
    skipped: usize,
    group_times: Vec<crate::events::GroupTime>,
}

impl Progress {
    fn fail(&mut self, code: i32, message: String, next_steps: Vec<String>) {
        self.exit_code = code;
        self.message = message;
        self.next_steps.extend(next_steps);
    }
}

/// What every step of the run shares.
struct Ctx<'i, 'a, 's> {
    inputs: &'i RunInputs<'a>,
    stop: &'i watch::Receiver<StopLevel>,
    signals: &'i signals::SignalState,
    store: Store<'s>,
    run: Progress,
    /// What the run may spend (`--max-cost`) and has spent.
    budget: budget::Budget,
    /// Where the current group's tasks work: the isolation it began with.
    isolation: crate::config::Isolation,
    /// The user's changes kept out of every snapshot and commit of the run.
    left_out: Option<crate::vcs::LeftOut>,
    /// The tree the last group of this run handed back.
    held: Option<String>,
}

/// Runs the decision's actions to the end or to the first failure; returns
/// the summary whose `exit_code` is the process exit code.
pub async fn execute(
    inputs: &RunInputs<'_>,
    stop: watch::Receiver<StopLevel>,
    signals: &signals::SignalState,
    reporter: &mut dyn Reporter,
) -> RunSummary {
    let started = Instant::now();
    let settings = inputs.settings;
    let groups: Vec<&GroupAction> = inputs.decision.groups().collect();
    reporter.report(&Event::RunStarted {
        roadmap: inputs.roadmap_display.to_string(),
        groups: groups.len(),
        tasks: groups.iter().map(|g| g.tasks().len()).sum(),
        max_parallel: settings.max_parallel,
        timeout: settings.timeout,
        dry_run: false,
        max_cost: settings.max_cost,
    });
    let mut ctx = Ctx {
        inputs,
        stop: &stop,
        signals,
        store: Store::open(&inputs.project.status, inputs.state.view()),
        budget: budget::Budget::new(settings.max_cost),
        isolation: settings.isolation,
        left_out: inputs.decision.left_out.clone(),
        held: None,
        run: Progress {
            tasks: Vec::new(),
            completed: Vec::new(),
            exit_code: exit::OK,
            message: String::new(),
            next_steps: Vec::new(),
            noted_no_gate: false,
            skipped: 0,
            group_times: Vec::new(),
        },
    };
    write_pending_file(inputs, &ctx.store, reporter);
    if let Some(left_out) = &ctx.left_out {
        reporter.report(&Event::Warning {
            message: line::left_out_warning(left_out),
        });
    }
    if !ctx.start_executor(reporter).await {
        return finish_summary(ctx.run, inputs, signals, started);
    }
    for action in &inputs.decision.actions {
        if *stop.borrow() > StopLevel::Run || !ctx.act(action, reporter).await {
            break;
        }
    }
    // Whatever the run did: a phase whose commit is out (a run killed
    // after its push, say) needs its task branches no more.
    ctx.release_committed(reporter);
    finish_summary(ctx.run, inputs, signals, started)
}

impl Ctx<'_, '_, '_> {
    /// One action; false when the run must stop.
    async fn act(&mut self, action: &Action<'_>, reporter: &mut dyn Reporter) -> bool {
        let git = &self.inputs.settings.git;
        match action {
            Action::Group(g) => {
                let ok = self.run_one_group(g, reporter).await;
                // However the group ended, the runner hands the tree back.
                self.snapshot(&g.key, crate::status::SnapshotPoint::End, reporter);
                ok
            }
            Action::CommitPhase { phase, leftover } => self.commit(phase, *leftover, reporter),
            // A phase committed but not pushed by an earlier run goes out first
            // (never the user's own unpushed commits, unless push_foreign allows it).
            Action::Push => match self.inputs.repo {
                Some(repo) if git.push => match phase::push_pending(repo, git, reporter) {
                    Ok(()) => {
                        self.release_committed(reporter);
                        true
                    }
                    Err(f) => {
                        self.run.fail(exit::VCS_FAILED, f.message, f.next_steps);
                        false
                    }
                },
                _ => true,
            },
            Action::Stop { reason, .. } => {
                self.run.fail(
                    exit::ROADMAP_INVALID,
                    reason.clone(),
                    vec!["`roadmap-runner validate` shows what was read under each heading".into()],
                );
                false
            }
        }
    }

    fn push_after_commit(&mut self, phase: Option<&Phase>, reporter: &mut dyn Reporter) -> bool {
        let git = &self.inputs.settings.git;
        let Some(repo) = self.inputs.repo.filter(|_| git.push) else {
            return true;
        };
        match phase::push(repo, phase.map(|p| &p.number), git, reporter) {
            Ok(()) => {
                crate::status::store::crash_point("pushed");
                true
            }
            Err(f) => {
                self.run.fail(exit::VCS_FAILED, f.message, f.next_steps);
                false
            }
        }
    }

    /// Commits a complete phase (with commits off: records that none is owed).
    fn commit(&mut self, phase: &Phase, leftover: bool, reporter: &mut dyn Reporter) -> bool {
        let git = &self.inputs.settings.git;
        let Some(repo) = self.inputs.repo.filter(|_| git.commit) else {
            if let Err(e) = self.store.commit_skipped(&phase.number) {
                reporter.report(&Event::Warning {
                    message: format!("cannot record Phase {} as complete: {e}", phase.number),
                });
            }
            return true;
        };
        if leftover {
            reporter.report(&Event::Note {
                message: format!(
                    "Phase {} is complete but was not committed (the commit failed or the run stopped first): committing it now, before any new work",
                    phase.number
                ),
            });
        }
        let skipped: Vec<String> = self
            .inputs
            .decision
            .hand_skipped
            .iter()
            .filter(|k| k.phase == phase.number)
            .map(|k| k.group.clone())
            .collect();
        let what = phase::PhaseCommit {
            phase,
            left_out: self.left_out.as_ref(),
            skipped: &skipped,
            splits: split::commit_lines(self.inputs.project, phase),
        };
        match phase::commit_phase(repo, &what, &mut self.store, reporter) {
            Ok(()) => {
                let out = self.push_after_commit(Some(phase), reporter);
                if out {
                    // The phase commit is out: its task branches can go.
                    self.release_committed(reporter);
                }
                out
            }
            Err(f) => {
                self.run.fail(exit::VCS_FAILED, f.message, f.next_steps);
                false
            }
        }
    }
}

/// `status/pending_tasks.txt`: every group not yet complete, in order.
fn write_pending_file(inputs: &RunInputs<'_>, store: &Store<'_>, reporter: &mut dyn Reporter) {
    let completed = store.view().completed();
    let pending: Vec<(GroupKey, Vec<String>)> = inputs
        .roadmap
        .groups()
        .filter(|(p, g)| group_state(&g.key(p), p, g, completed) == GroupState::Pending)
        .map(|(p, g)| {
            let ids = g
                .tasks
                .iter()
                .filter(|t| !t.done_in_roadmap)
                .map(|t| t.id.clone())
                .collect();
            (g.key(p), ids)
        })
        .collect();
    if let Err(e) = store.write_pending(&pending) {
        reporter.report(&Event::Warning {
            message: format!("cannot update status/pending_tasks.txt: {e}"),
        });
    }
}

fn finish_summary(
    mut run: Progress,
    inputs: &RunInputs<'_>,
    signals: &signals::SignalState,
    started: Instant,
) -> RunSummary {
    if let Some(signo) = signals.received() {
        run.exit_code = exit::interrupted(signo);
        run.message = format!(
            "Interrupted by {}: every agent was stopped",
            signals::signal_name(signo)
        );
        run.next_steps.push(
            "run roadmap-runner again, as it is (no flag needed): the interrupted tasks run again, the ones that succeeded are kept".into(),
        );
    } else if run.exit_code == exit::OK {
        run.message = if inputs.decision.is_empty() {
            "Nothing to do: every selected group is complete".into()
        } else {
            "Run complete".into()
        };
    }
    let counts = RunSummary::count(&run.tasks, run.skipped);
    RunSummary {
        exit_code: run.exit_code,
        message: run.message,
        next_steps: run.next_steps,
        tasks: run.tasks,
        groups_completed: run.completed,
        duration: started.elapsed(),
        cost_usd: counts.cost.total(),
        costs: counts.cost,
        counts,
        group_times: run.group_times,
    }
}
