//! `--dry-run`: the decision printed, with the exact agent command lines,
//! the gate, the commits and pushes, and what would stop the real run. The
//! document is built as JSON once; the text is printed from it, so `--json`
//! and text cannot drift apart.

use crate::agent::command::display_command;
use crate::config::Settings;
use crate::project::{LoadedRoadmap, Project};
use crate::resume::{Action, Decision, GroupAction, GroupStep};
use serde_json::{Value, json};
use std::path::PathBuf;

pub struct DryRun<'a> {
    pub project: &'a Project,
    pub loaded: &'a LoadedRoadmap,
    pub decision: &'a Decision<'a>,
    pub settings: &'a Settings,
    pub template: &'a str,
    /// The dirty-tree refusal the real run would stop with.
    pub refusal: Option<&'a str>,
    /// `tasks.jsonl` as loaded: earlier durations set the order of each group.
    pub records: &'a [crate::status::Record],
}

impl DryRun<'_> {
    pub fn doc(&self) -> Value {
        let gate = crate::gate::plan_gate(&self.project.dir, &self.settings.gate)
            .map(|plan| {
                json!({
                    "steps": plan.steps.iter().map(|s| json!({
                        "name": s.name, "command": s.display, "fatal": s.fatal,
                    })).collect::<Vec<_>>(),
                    "notes": plan.notes,
                })
            })
            .unwrap_or_else(|e| json!({ "error": e.to_string() }));
        let actions: Vec<Value> = self
            .decision
            .actions
            .iter()
            .map(|a| self.action(a))
            .collect();
        json!({
            "dry_run": true,
            "roadmap": self.loaded.display,
            "max_parallel": self.settings.max_parallel,
            "timeout_secs": self.settings.timeout.as_secs(),
            "commit": self.settings.git.commit,
            "push": self.settings.git.push,
            "gate": gate,
            "isolation": self.isolation(),
            "refusal": self.refusal,
            "actions": actions,
            "groups": self.decision.groups().map(|g| self.group(g)).collect::<Vec<_>>(),
        })
    }

    /// `{"mode": "worktree", "worktrees": <root>}`, `{"mode": "shared"}`, or
    /// with `--nats` `{"mode": "workers", "nats": <url without user info>}`.
    fn isolation(&self) -> Value {
        if let Some(t) = &self.settings.cluster.nats {
            return json!({ "mode": "workers", "nats": t.shown() });
        }
        if self.settings.isolation != crate::config::Isolation::Worktree {
            return json!({ "mode": "shared" });
        }
        let workdir = crate::vcs::Repo::open(&self.project.dir)
            .map(|r| r.workdir().to_path_buf())
            .unwrap_or_else(|_| self.project.dir.clone());
        let wts =
            crate::worktree::Worktrees::new(&self.project.dir, &workdir, &self.settings.worktree);
        json!({ "mode": "worktree", "worktrees": wts.root.display().to_string() })
    }

    fn action(&self, action: &Action<'_>) -> Value {
        let push = self.settings.git.push;
        match action {
            Action::CommitPhase { phase, leftover } => json!({
                "action": "commit_phase", "phase": phase.number, "title": phase.title,
                "leftover": leftover, "commit": self.settings.git.commit, "push": push,
            }),
            Action::Push => json!({ "action": "push" }),
            Action::Stop { phase, reason } => json!({
                "action": "stop", "phase": phase.number, "reason": reason,
            }),
            Action::Group(g) => {
                let mut v = self.group(g);
                v["action"] = json!("group");
                v
            }
        }
    }

    fn group(&self, g: &GroupAction<'_>) -> Value {
        let program = PathBuf::from(&self.settings.agent.command[0]);
        let jobs = crate::runner::GroupJobs::new(
            self.project,
            &self.loaded.roadmap,
            g,
            self.settings,
            self.template,
            &program,
        );
        let order = crate::plan::order::group_order(
            self.records,
            &g.key,
            g.tasks(),
            self.settings.max_parallel,
        );
        let tasks: Vec<Value> = g
            .tasks()
            .iter()
            .zip(&order.expected)
            .map(|(t, expected)| {
                let log = PathBuf::from(format!(
                    "logs/orchestrator/{}_{}_<timestamp>.log",
                    g.key.log_stem(),
                    crate::roadmap::slug(&t.id)
                ));
                let inv = jobs.invocation(&t.id, &t.title, None, &log);
                json!({
                    "id": t.id,
                    "title": t.title,
                    "agent": jobs.task_agent(&t.id).kind().name(),
                    "command": display_command(&inv),
                    "argv": std::iter::once(inv.program.to_string_lossy().into_owned())
                        .chain(inv.args.iter().map(|a| a.to_string_lossy().into_owned()))
                        .collect::<Vec<_>>(),
                    "prompt_bytes": inv.stdin.len(),
                    "log": log,
                    "expected_secs": expected.duration.map(secs),
                    "expected_from": expected.basis,
                })
            })
            .collect();
        let (step, succeeded) = match &g.step {
            GroupStep::Run { succeeded, .. } => ("run", succeeded.clone()),
            GroupStep::GateOnly => ("gate_only", Vec::new()),
            GroupStep::RecordComplete => ("record_complete", Vec::new()),
            GroupStep::DoneInRoadmap => ("done_in_roadmap", Vec::new()),
        };
        json!({
            "phase": g.key.phase,
            "phase_title": g.phase.title,
            "group": g.key.group,
            "group_title": g.group.title,
            "annotation": g.group.annotation,
            "step": step,
            "succeeded_earlier": succeeded,
            "gate": g.runs_gate(),
            "partial": g.partial,
            "parallel": self.settings.max_parallel.min(tasks.len().max(1)),
            "order": order.order.iter().map(|&i| &g.tasks()[i].id).collect::<Vec<_>>(),
            "expected_makespan_secs": order.makespan.map(secs),
            "tasks": tasks,
        })
    }

    pub fn print(&self, json: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let doc = self.doc();
        if json {
            return writeln!(out, "{doc}");
        }
        writeln!(
            out,
            "Dry run: {} ({}), {} in parallel, timeout {} per task. Nothing is started or changed.",
            self.loaded.display,
            self.loaded.summary(),
            self.settings.max_parallel,
            crate::text::short_duration(self.settings.timeout)
        )?;
        print_gate(&doc["gate"], out)?;
        if let Some(url) = doc["isolation"]["nats"].as_str() {
            writeln!(
                out,
                "Workers: each task runs on a `roadmap-runner worker` through NATS at {url}, its branch merged into the project tree before the gate"
            )?;
        }
        if let Some(root) = doc["isolation"]["worktrees"].as_str() {
            writeln!(
                out,
                "Isolation: each task in its own git worktree under {root}, merged into the project tree before the gate"
            )?;
        }
        if self.decision.is_empty() {
            writeln!(out, "Nothing to do: every selected group is complete.")?;
        }
        for a in doc["actions"].as_array().into_iter().flatten() {
            print_action(a, out)?;
        }
        if let Some(refusal) = self.refusal {
            writeln!(out, "\nA real run would stop before starting: {refusal}")?;
        }
        Ok(())
    }
}

/// Seconds to the millisecond, as the records keep them.
fn secs(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A phase number as the roadmap writes it (a JSON number or string).
fn phase(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn print_gate(gate: &Value, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if let Some(e) = gate["error"].as_str() {
        return writeln!(out, "Gate after every group: cannot be planned: {e}");
    }
    let steps: Vec<String> = gate["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let warn = if s["fatal"] == json!(false) {
                ", warning only"
            } else {
                ""
            };
            format!("{} (`{}`{warn})", text(&s["name"]), text(&s["command"]))
        })
        .collect();
    if steps.is_empty() {
        writeln!(
            out,
            "Gate after every group: none (no steps detected or configured)"
        )
    } else {
        writeln!(out, "Gate after every group: {}", steps.join(", "))
    }
}

/// `order: A3 (5m 00s, history), A1 ...; expected 7m 10s on 2 slots`.
fn print_order(g: &Value, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    // Nothing known: the tasks start as listed, below.
    let Some(makespan) = g["expected_makespan_secs"].as_f64() else {
        return Ok(());
    };
    let tasks = g["tasks"].as_array().cloned().unwrap_or_default();
    let shown: Vec<String> = g["order"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|id| {
            let t = tasks.iter().find(|t| t["id"] == *id);
            let d = t.and_then(|t| t["expected_secs"].as_f64()).unwrap_or(0.0);
            let from = t.map_or("", |t| text(&t["expected_from"]));
            let d = crate::text::short_duration(std::time::Duration::from_secs_f64(d));
            format!("{} ({d}, {from})", text(id))
        })
        .collect();
    let makespan = crate::text::short_duration(std::time::Duration::from_secs_f64(makespan));
    writeln!(
        out,
        "  order, longest expected first: {}; expected {makespan} on {} slots",
        shown.join(", "),
        g["parallel"]
    )
}

fn print_action(a: &Value, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let push = |a: &Value| {
        if a["push"] == json!(true) {
            ", then push"
        } else {
            ""
        }
    };
    match text(&a["action"]) {
        "commit_phase" if a["commit"] == json!(false) => writeln!(
            out,
            "\nPhase {} complete: not committed (commits are off)",
            phase(&a["phase"])
        ),
        "commit_phase" => {
            let why = if a["leftover"] == json!(true) {
                " (complete, not yet committed: first, before any new work)"
            } else {
                ""
            };
            writeln!(
                out,
                "\nCommit \"Complete Phase {}: {}\"{why}{}",
                phase(&a["phase"]),
                text(&a["title"]),
                push(a)
            )
        }
        "push" => writeln!(out, "\nPush the commits not yet on the remote"),
        "stop" => writeln!(out, "\nStop: {}", text(&a["reason"])),
        _ => print_group(a, out),
    }
}

fn print_group(g: &Value, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut head = format!("Phase {} Group {}", phase(&g["phase"]), text(&g["group"]));
    if !text(&g["group_title"]).is_empty() {
        head.push_str(&format!(": {}", text(&g["group_title"])));
    }
    if let Some(a) = g["annotation"].as_str() {
        head.push_str(&format!(" ({a})"));
    }
    let tasks = g["tasks"].as_array().map_or(0, Vec::len);
    writeln!(out)?;
    match text(&g["step"]) {
        "gate_only" => writeln!(
            out,
            "{head}: gate only (every task succeeded earlier; no agent runs)"
        )?,
        "record_complete" => writeln!(
            out,
            "{head}: record complete (its gate passed earlier; nothing runs)"
        )?,
        "done_in_roadmap" => writeln!(
            out,
            "{head}: every task is marked done in the roadmap; recorded complete"
        )?,
        _ => {
            let n = crate::text::plural(tasks, "task");
            writeln!(out, "{head}: {n}, {} in parallel", g["parallel"])?;
            let earlier: Vec<&str> = g["succeeded_earlier"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            if !earlier.is_empty() {
                writeln!(
                    out,
                    "  succeeded earlier, not run again: {}",
                    earlier.join(", ")
                )?;
            }
            print_order(g, out)?;
        }
    }
    for t in g["tasks"].as_array().into_iter().flatten() {
        // The default agent goes unsaid; another is named before its command.
        let agent = match t["agent"].as_str() {
            Some(a) if a != crate::agent::AgentKind::default().name() => format!("[{a}] "),
            _ => String::new(),
        };
        writeln!(
            out,
            "  {} {}\n    {agent}$ {} < prompt ({} bytes on stdin)\n    log: {}",
            text(&t["id"]),
            text(&t["title"]),
            text(&t["command"]),
            t["prompt_bytes"],
            text(&t["log"])
        )?;
    }
    if g["gate"] == json!(true) {
        writeln!(out, "  then the gate")?;
    }
    Ok(())
}
