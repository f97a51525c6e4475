//! After a group's agents: the gate, mended by repair agents when a fatal
//! step fails, and an optional reviewer whose requested changes get a repair
//! round. Both loops are bounded (`[repair] attempts`, `[review] rounds`),
//! a repair loop stops early when the failure repeats unchanged, and no
//! agent starts once the run's budget is spent. Every attempt is a record
//! (`role` repair or review), so a killed run resumes the loop where it was.
//!
//! A repair agent starts fresh (no `--resume`): it is given the failing
//! output, the group's tasks and the files they changed, which is what it
//! needs, and a task agent's session knows only its own task.

mod failure;

use super::budget::Role;
use super::finish::{self, GateOutcome};
use super::group::{GroupIo, GroupLimits, JobFactory, QueuedTask, run_group};
use super::{Ctx, GroupJobs};
use crate::agent::prompt::{NamedVars as Vars, load_template, render_named};
use crate::events::{Event, Reporter, TaskSummary};
use crate::exit;
use crate::gate::{GateReport, StepResult};
use crate::resume::GroupAction;
pub use failure::Failure;
use std::path::Path;

pub const REPAIR_TEMPLATE: &str = include_str!("../../agent/repair_prompt.md");

pub const REVIEW_TEMPLATE: &str = include_str!("../../agent/review_prompt.md");

/// The patch a reviewer is shown, at most.
const DIFF_CAP: usize = 40 * 1024;

/// A reviewer's answer, asked for with the agent's schema option (Claude Code's `--json-schema`).
pub const VERDICT_SCHEMA: &str = r#"{"type":"object","properties":{"verdict":{"type":"string","enum":["approve","changes"]},"items":{"type":"array","items":{"type":"string"}}},"required":["verdict"]}"#;

/// An agent of the runner's own with a prompt made for it.
struct Fixed<'a, 'j> {
    jobs: &'j GroupJobs<'a>,
    prompt: String,
    role: Role,
    fingerprint: Option<String>,
    extra: Vec<String>,
}

impl JobFactory for Fixed<'_, '_> {
    fn job(&mut self, task: &QueuedTask) -> super::attempt::AttemptJob {
        self.jobs.job_for(
            task,
            &self.prompt,
            self.role,
            self.fingerprint.clone(),
            &self.extra,
        )
    }
}

/// Where the repair loop is in this run.
#[derive(Default)]
struct Rounds {
    /// Repairs started. Counted per run: a rerun (with a new
    /// --fix-attempts, say) gets its attempts, whatever earlier runs used.
    used: u32,
    /// The fingerprint of the failure the last repair was given.
    last: Option<(u32, String)>,
    reviews: u32,
    /// What the repairs tried, for the summary.
    tried: Vec<String>,
}

impl Ctx<'_, '_, '_> {
    /// The gate until it passes, with repairs and reviews as configured:
    /// the passing steps, or `None` when the run must stop (and why is set).
    pub(super) async fn gate(
        &mut self,
        planned: &GroupAction<'_>,
        reporter: &mut dyn Reporter,
    ) -> Option<Vec<StepResult>> {
        let settings = self.inputs.settings;
        let mut rounds = Rounds::default();
        loop {
            let steps = match self.gate_once(planned, reporter).await {
                GateOutcome::Passed(steps) => steps,
                GateOutcome::Skipped => Vec::new(),
                _ if self.signals.received().is_some() => return None,
                GateOutcome::Failed { report, log } => {
                    self.mend(planned, &report, &log, &mut rounds, reporter)
                        .await?;
                    continue;
                }
                GateOutcome::Error(e) => {
                    self.gate_error(planned, &e);
                    return None;
                }
            };
            if !settings.review.enabled
                || rounds.reviews >= settings.review.rounds
                || self.budget.reached()
            {
                return Some(steps);
            }
            if !self.review_round(planned, &mut rounds, reporter).await? {
                return Some(steps);
            }
        }
    }

    /// The gate failed: a repair agent for it, or `None` when the run must
    /// stop (the attempts are used, the failure repeated, the budget is
    /// spent, or the run was stopped).
    async fn mend(
        &mut self,
        planned: &GroupAction<'_>,
        report: &GateReport,
        log: &Path,
        rounds: &mut Rounds,
        reporter: &mut dyn Reporter,
    ) -> Option<()> {
        let failure = Failure::read(report, log);
        let fp = failure.fingerprint();
        let attempts = self.inputs.settings.repair.attempts;
        let used = rounds.used;
        let why = match &rounds.last {
            Some((n, seen)) if *seen == fp => Some(format!(
                "the failure repeated unchanged after repair-{n} (the same fingerprint {fp}): stopping early, {} of {attempts} attempts unused",
                attempts.saturating_sub(used)
            )),
            _ if used >= attempts => (attempts > 0).then(|| format!(
                "every repair attempt is used in this run ({used} of {attempts}; each run counts its own)"
            )),
            _ if self.budget.reached() => Some("the run's budget is spent".into()),
            _ => None,
        };
        if used >= attempts || why.is_some() {
            self.gate_failed(planned, report, log, &rounds.tried, why.as_deref());
            return None;
        }
        rounds.used += 1;
        let used = rounds.used;
        let brief = "Make the failing command pass.".to_string();
        let done = self
            .repair(planned, used, Some(&failure), brief, &fp, reporter)
            .await;
        rounds.tried.push(format!("repair-{used}: {}", done?));
        rounds.last = Some((used, fp));
        Some(())
    }

    /// A reviewer, then a repair for what it asks to change: whether it
    /// asked (the gate runs again), or `None` when the run must stop.
    async fn review_round(
        &mut self,
        planned: &GroupAction<'_>,
        rounds: &mut Rounds,
        reporter: &mut dyn Reporter,
    ) -> Option<bool> {
        rounds.reviews += 1;
        let items = self.review(planned, rounds.reviews, reporter).await?;
        if items.is_empty() {
            return Some(false);
        }
        rounds.used += 1;
        let used = rounds.used;
        let brief = format!(
            "A reviewer asked for these changes to the group's work:\n\n{}",
            items
                .iter()
                .map(|i| format!("- {i}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let done = self
            .repair(planned, used, None, brief, "review", reporter)
            .await;
        rounds
            .tried
            .push(format!("repair-{used} (review): {}", done?));
        Some(true)
    }

    /// The gate could not run at all: exit 2, nothing to repair.
    fn gate_error(&mut self, planned: &GroupAction<'_>, e: &str) {
        let key = &planned.key;
        self.run.fail(
            exit::GATE_FAILED,
            format!(
                "Phase {} Group {}: the gate could not run: {e}",
                key.phase, key.group
            ),
            vec!["fix the cause (see above), then run again: only the gate reruns".into()],
        );
    }

    /// One repair agent; how it ended, or `None` when the run must stop.
    async fn repair(
        &mut self,
        planned: &GroupAction<'_>,
        n: u32,
        failure: Option<&Failure>,
        brief: String,
        fingerprint: &str,
        reporter: &mut dyn Reporter,
    ) -> Option<String> {
        let attempts = self.inputs.settings.repair.attempts.max(n);
        let vars = Vars(vec![
            (
                "project_title",
                self.inputs.roadmap.title.clone().unwrap_or_default(),
            ),
            ("phase_number", planned.key.phase.to_string()),
            ("group_id", planned.key.group.clone()),
            ("attempt", n.to_string()),
            ("attempts", attempts.to_string()),
            (
                "failure",
                failure.map(Failure::describe).unwrap_or_default(),
            ),
            ("step", failure.map(|f| f.step.clone()).unwrap_or_default()),
            (
                "command",
                failure.map(|f| f.command.clone()).unwrap_or_default(),
            ),
            (
                "output",
                failure.map(|f| f.output.clone()).unwrap_or_default(),
            ),
            ("brief", brief),
            ("tasks", task_list(planned)),
            ("files", self.changed_files(planned)),
        ]);
        let template = self.template(
            self.inputs.settings.repair.prompt.as_deref(),
            REPAIR_TEMPLATE,
        )?;
        let prompt = self.render(&template, &vars, "repair prompt")?;
        let title = failure.map_or("apply the review".to_string(), |f| {
            format!("mend `{}`", f.step)
        });
        let fp = Some(fingerprint.to_string());
        let s = self
            .helper(
                planned,
                format!("repair-{n}"),
                title,
                prompt,
                Role::Repair,
                fp,
                Vec::new(),
                reporter,
            )
            .await?;
        // What it says it did, for the summary when the repairs run out.
        let said = self
            .record(&planned.key, &s.task)
            .and_then(|r| r.result_text.clone())
            .and_then(|t| t.lines().find(|l| !l.trim().is_empty()).map(str::to_string))
            .map(|l| format!(" ({})", crate::text::cap_chars(l.trim(), 160)))
            .unwrap_or_default();
        Some(format!("{}{said}", s.outcome.label()))
    }

    /// One reviewer; the items it asks to change (none: approved), or
    /// `None` when the run must stop.
    async fn review(
        &mut self,
        planned: &GroupAction<'_>,
        n: u32,
        reporter: &mut dyn Reporter,
    ) -> Option<Vec<String>> {
        let base = self.base_head(planned);
        let diff = self
            .inputs
            .repo
            .and_then(|r| r.diff_text(base.as_deref(), DIFF_CAP).ok())
            .unwrap_or_default();
        let vars = Vars(vec![
            (
                "project_title",
                self.inputs.roadmap.title.clone().unwrap_or_default(),
            ),
            ("phase_number", planned.key.phase.to_string()),
            ("group_id", planned.key.group.clone()),
            ("tasks", task_details(planned)),
            ("files", self.changed_files(planned)),
            ("diff", diff),
        ]);
        let template = self.template(
            self.inputs.settings.review.prompt.as_deref(),
            REVIEW_TEMPLATE,
        )?;
        let prompt = self.render(&template, &vars, "review prompt")?;
        let id = format!("review-{n}");
        let extra = self
            .inputs
            .settings
            .review_agent()
            .kind()
            .schema_args(VERDICT_SCHEMA);
        self.helper(
            planned,
            id.clone(),
            "review the group's change".into(),
            prompt,
            Role::Review,
            None,
            extra,
            reporter,
        )
        .await?;
        let verdict = self.verdict(&planned.key, &id);
        let (word, items) = match &verdict {
            Some(v) => (
                v["verdict"].as_str().unwrap_or("approve").to_string(),
                v["items"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            None => ("none".to_string(), Vec::new()),
        };
        let message = match (word.as_str(), items.len()) {
            ("changes", n) if n > 0 => format!(
                "{}: the reviewer asks for {}: {}",
                planned.key,
                crate::text::plural(n, "change"),
                items.join("; ")
            ),
            ("none", _) => format!(
                "{}: the reviewer gave no verdict the runner could read: the group completes",
                planned.key
            ),
            _ => format!("{}: the reviewer approves", planned.key),
        };
        reporter.report(&Event::Note { message });
        Some(if word == "changes" { items } else { Vec::new() })
    }

    /// The reviewer's verdict as recorded: `structured_output`, or JSON in
    /// its result text.
    fn verdict(&self, key: &crate::roadmap::GroupKey, id: &str) -> Option<serde_json::Value> {
        let rec = self.record(key, id)?;
        rec.verdict.clone().or_else(|| {
            let text = rec.result_text.as_deref()?;
            let json = &text[text.find('{')?..=text.rfind('}')?];
            serde_json::from_str(json).ok()
        })
    }

    /// The latest record of the runner's agent `id` in the group.
    fn record(
        &self,
        key: &crate::roadmap::GroupKey,
        id: &str,
    ) -> Option<&crate::status::TaskRecord> {
        self.store.view().latest_record(key, id)
    }

    /// Runs one agent of the runner's own in this group.
    #[allow(clippy::too_many_arguments)]
    async fn helper(
        &mut self,
        planned: &GroupAction<'_>,
        id: String,
        title: String,
        prompt: String,
        role: Role,
        fingerprint: Option<String>,
        extra: Vec<String>,
        reporter: &mut dyn Reporter,
    ) -> Option<TaskSummary> {
        let inputs = self.inputs;
        let settings = inputs.settings;
        // Repairs and reviews work on the merged result in the project tree.
        let jobs = inputs.jobs(planned, None, crate::config::Isolation::Shared);
        let mut factory = Fixed {
            jobs: &jobs,
            prompt,
            role,
            fingerprint,
            extra,
        };
        let limits = GroupLimits {
            max_parallel: 1,
            retries: 0,
            max_wait: settings.max_wait,
            fail_fast: false,
            fallbacks: Vec::new(),
        };
        let mut io = GroupIo {
            reporter: &mut *reporter,
            store: &mut self.store,
            project_dir: &inputs.project.dir,
            budget: &mut self.budget,
        };
        let queued = vec![QueuedTask::new(id, title)];
        let run = run_group(
            &planned.key,
            queued,
            &limits,
            &mut factory,
            self.stop.clone(),
            &mut io,
        )
        .await;
        self.run.tasks.extend(run.tasks.iter().cloned());
        if self.signals.received().is_some() {
            return None;
        }
        if let Some(auth) = run.auth_failure {
            self.run.fail(
                exit::PREFLIGHT_FAILED,
                format!("The agent is not logged in: {auth}"),
                vec![format!(
                    "{}, then run roadmap-runner again",
                    settings.agent.kind().login_advice()
                )],
            );
            return None;
        }
        if run.budget_stopped {
            self.budget_spent();
            return None;
        }
        run.tasks.into_iter().next()
    }

    fn template(&mut self, path: Option<&Path>, built_in: &str) -> Option<String> {
        let Some(p) = path else {
            return Some(built_in.to_string());
        };
        match load_template(Some(&self.inputs.project.dir.join(p))) {
            Ok(t) => Some(t),
            Err(e) => {
                self.run.fail(
                    exit::PREFLIGHT_FAILED,
                    e.to_string(),
                    vec!["fix the template path in roadmap-runner.toml, then run again".into()],
                );
                None
            }
        }
    }

    fn render(&mut self, template: &str, vars: &Vars, origin: &str) -> Option<String> {
        match render_named(template, vars, origin) {
            Ok(p) => Some(p),
            Err(e) => {
                self.run.fail(
                    exit::PREFLIGHT_FAILED,
                    e.to_string(),
                    vec!["fix the template, then run again".into()],
                );
                None
            }
        }
    }

    /// HEAD when the group first started (its base).
    fn base_head(&self, planned: &GroupAction<'_>) -> Option<String> {
        self.store.view().base_head(&planned.key)
    }

    /// `- path` lines of the files the group changed since its base.
    fn changed_files(&self, planned: &GroupAction<'_>) -> String {
        let base = self.store.view().base(&planned.key);
        let files = finish::files_changed_by_group(self.inputs.repo, base);
        files
            .iter()
            .map(|f| format!("- {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The gate failed for good: exit 2, saying what the repairs tried.
    fn gate_failed(
        &mut self,
        planned: &GroupAction<'_>,
        report: &GateReport,
        log: &Path,
        tried: &[String],
        why: Option<&str>,
    ) {
        let key = &planned.key;
        let failing = report
            .failure()
            .map(|s| s.summary())
            .unwrap_or_else(|| "a step".into());
        let mut next = vec![format!("read the gate log {}", log.display())];
        next.extend(tried.iter().map(|t| format!("{t}; the gate still failed")));
        if let Some(why) = why {
            next.push(format!("no more repairs: {why}"));
        }
        next.push("fix the code, check with `roadmap-runner gate`, then run again: only the gate reruns (--rerun-tasks runs the agents again)".into());
        self.run.fail(
            exit::GATE_FAILED,
            format!(
                "Phase {} Group {}: the gate failed: {failing}",
                key.phase, key.group
            ),
            next,
        );
    }
}

/// Each task with what it asked for, for the reviewer.
fn task_details(planned: &GroupAction<'_>) -> String {
    planned
        .group
        .tasks
        .iter()
        .map(|t| {
            let body = t.body.trim();
            if body.is_empty() {
                format!("## {}: {}", t.id, t.title)
            } else {
                format!("## {}: {}\n\n{body}", t.id, t.title)
            }
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `- A1: title` lines of the group's tasks.
fn task_list(planned: &GroupAction<'_>) -> String {
    planned
        .group
        .tasks
        .iter()
        .map(|t| format!("- {}: {}", t.id, t.title))
        .collect::<Vec<_>>()
        .join("\n")
}
