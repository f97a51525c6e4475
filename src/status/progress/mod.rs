//! `status/in_progress_tasks.txt` (what runs now) and
//! `status/pending_tasks.txt` (what is left), both rewritten atomically.
//!
//! ```text
//! # roadmap-runner: running now (rewritten as tasks start and end)
//! PHASE_1:B started=2026-01-09T21:27:50+00:00 runner_pid=1234 runner_pid_start=81234
//! PHASE_1:B:B1 started=2026-01-09T21:27:50+00:00 pid=1240 pid_start=81301 log=logs/orchestrator/phase1_groupB_B1_20260109-212750.log
//! gate step=test started=2026-01-09T21:40:02+00:00 pid=1302 pid_start=82001 log=logs/orchestrator/phase1_groupB_gate_20260109-214002.log
//! ```
//!
//! The `gate` line is there while the group's gate runs: the step and the
//! process group running it (no `pid` between steps).
//!
//! `*_pid_start` is the process start time (`/proc/<pid>/stat` field 22, clock
//! ticks since boot): with the pid it names one process for the lifetime of
//! the machine, so a pid the kernel has since given to another process is
//! never mistaken for ours. `log=` comes last and runs to the end of the line
//! (a path may hold spaces). Unknown `key=value` fields and unreadable lines
//! are ignored when reading.
//!
//! ```text
//! # roadmap-runner: groups not yet complete, in run order (rewritten as groups complete)
//! PHASE_1:B B1 B2 B3
//! PHASE_2:A A1 A2
//! ```

mod leftovers;
mod pending;

use super::{StatusDir, StatusError};
use crate::roadmap::GroupKey;
use chrono::{DateTime, SecondsFormat, Utc};
pub use leftovers::{kill_leftovers, process_alive, process_start_time, recover_in_progress};
pub use pending::{PENDING_FILE, PENDING_HEADER, parse_pending, render_pending, write_pending};

pub const IN_PROGRESS_FILE: &str = "in_progress_tasks.txt";

pub const IN_PROGRESS_HEADER: &str =
    "# roadmap-runner: running now (rewritten as tasks start and end)";

/// The group being run and the runner running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningGroup {
    pub key: GroupKey,
    pub started: DateTime<Utc>,
    pub runner_pid: u32,
    /// The runner's start time in clock ticks since boot (`/proc/<pid>/stat`).
    pub runner_pid_start: Option<u64>,
}

impl RunningGroup {
    /// The group as run by this process, starting now.
    pub fn this_process(key: GroupKey) -> Self {
        let pid = std::process::id();
        RunningGroup {
            key,
            started: now_secs(),
            runner_pid: pid,
            runner_pid_start: process_start_time(pid),
        }
    }
}

/// An agent process running one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningTask {
    pub task_id: String,
    pub started: DateTime<Utc>,
    /// The agent's pid, which is also its process group id.
    pub pid: u32,
    /// The agent's start time in clock ticks since boot (`/proc/<pid>/stat`);
    /// without it the process is never killed by [`kill_leftovers`].
    pub pid_start: Option<u64>,
    /// The attempt's log, relative to the project directory.
    pub log: Option<String>,
    /// With `--nats`: the worker running it (pid 0 then: nothing here to kill).
    pub worker: Option<String>,
}

impl RunningTask {
    /// A task whose agent `pid` started just now; reads its start time.
    pub fn new(task_id: impl Into<String>, pid: u32, log: Option<String>) -> Self {
        RunningTask {
            task_id: task_id.into(),
            started: now_secs(),
            pid,
            pid_start: process_start_time(pid),
            log,
            worker: None,
        }
    }

    /// A task a worker on another machine runs.
    pub fn on_worker(task_id: impl Into<String>, worker: &str, log: Option<String>) -> Self {
        RunningTask {
            task_id: task_id.into(),
            started: now_secs(),
            pid: 0,
            pid_start: None,
            log,
            worker: Some(worker.to_string()),
        }
    }
}

/// The group's gate, while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningGate {
    /// The step running now (`test`), or the one about to start.
    pub step: String,
    pub started: DateTime<Utc>,
    /// The step's process group, once spawned.
    pub pid: Option<u32>,
    pub pid_start: Option<u64>,
    pub log: Option<String>,
}

/// The content of `in_progress_tasks.txt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InProgress {
    pub group: Option<RunningGroup>,
    pub tasks: Vec<RunningTask>,
    pub gate: Option<RunningGate>,
}

impl InProgress {
    pub fn new(group: RunningGroup) -> Self {
        InProgress {
            group: Some(group),
            tasks: Vec::new(),
            gate: None,
        }
    }

    /// Nothing runs (the file holds only its header).
    pub fn is_empty(&self) -> bool {
        self.group.is_none() && self.tasks.is_empty() && self.gate.is_none()
    }

    /// Adds a task, replacing an entry for the same task id.
    pub fn task_started(&mut self, task: RunningTask) {
        self.task_finished(&task.task_id);
        self.tasks.push(task);
    }

    pub fn task_finished(&mut self, task_id: &str) {
        self.tasks.retain(|t| t.task_id != task_id);
    }

    pub fn render(&self) -> String {
        let mut out = format!("{IN_PROGRESS_HEADER}\n");
        if let Some(g) = &self.group {
            out.push_str(&format!(
                "{} started={} runner_pid={}",
                g.key,
                fmt_time(g.started),
                g.runner_pid
            ));
            if let Some(s) = g.runner_pid_start {
                out.push_str(&format!(" runner_pid_start={s}"));
            }
            out.push('\n');
        }
        for t in &self.tasks {
            match &self.group {
                Some(g) => out.push_str(&format!("{}:{}", g.key, t.task_id)),
                None => out.push_str(&t.task_id),
            }
            out.push_str(&format!(" started={} pid={}", fmt_time(t.started), t.pid));
            if let Some(s) = t.pid_start {
                out.push_str(&format!(" pid_start={s}"));
            }
            if let Some(w) = &t.worker {
                out.push_str(&format!(" worker={}", one_word(w)));
            }
            if let Some(log) = &t.log {
                out.push_str(&format!(" log={}", crate::text::breaks_as_spaces(log)));
            }
            out.push('\n');
        }
        if let Some(g) = &self.gate {
            out.push_str(&format!(
                "gate step={} started={}",
                one_word(&g.step),
                fmt_time(g.started)
            ));
            if let Some(pid) = g.pid {
                out.push_str(&format!(" pid={pid}"));
            }
            if let Some(s) = g.pid_start {
                out.push_str(&format!(" pid_start={s}"));
            }
            if let Some(log) = &g.log {
                out.push_str(&format!(" log={}", crate::text::breaks_as_spaces(log)));
            }
            out.push('\n');
        }
        out
    }

    /// Reads the file's text, skipping whatever it cannot read.
    pub fn parse(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ip = InProgress::default();
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let fields = Fields::parse(rest);
            if let Some(key) = GroupKey::parse_status(head) {
                let (Some(started), Some(runner_pid)) =
                    (fields.time("started"), fields.num("runner_pid"))
                else {
                    continue;
                };
                ip.group = Some(RunningGroup {
                    key,
                    started,
                    runner_pid,
                    runner_pid_start: fields.num("runner_pid_start"),
                });
                continue;
            }
            if head == "gate" {
                let (Some(step), Some(started)) = (fields.get("step"), fields.time("started"))
                else {
                    continue;
                };
                ip.gate = Some(RunningGate {
                    step: step.to_string(),
                    started,
                    pid: fields.num("pid"),
                    pid_start: fields.num("pid_start"),
                    log: fields.log.map(str::to_string),
                });
                continue;
            }
            let task_id = match head.rsplit_once(':') {
                Some((key, id)) if GroupKey::parse_status(key).is_some() => id,
                Some(_) => continue,
                None => head,
            };
            if !crate::roadmap::is_id(task_id) {
                continue;
            }
            let (Some(started), Some(pid)) = (fields.time("started"), fields.num("pid")) else {
                continue;
            };
            ip.tasks.push(RunningTask {
                task_id: task_id.to_string(),
                started,
                pid,
                pid_start: fields.num("pid_start"),
                log: fields.log.map(str::to_string),
                worker: fields.get("worker").map(str::to_string),
            });
        }
        ip
    }

    /// Rewrites `in_progress_tasks.txt` atomically.
    pub fn write(&self, status: &StatusDir) -> Result<(), StatusError> {
        status.write(IN_PROGRESS_FILE, self.render().as_bytes())
    }

    /// Rewrites `in_progress_tasks.txt` with its header only: nothing runs.
    pub fn clear(status: &StatusDir) -> Result<(), StatusError> {
        InProgress::default().write(status)
    }

    /// Reads `in_progress_tasks.txt`; a missing file means nothing runs.
    pub fn load(status: &StatusDir) -> Result<InProgress, StatusError> {
        let path = status.file(IN_PROGRESS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(InProgress::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(InProgress::default()),
            Err(source) => Err(StatusError::Read { path, source }),
        }
    }

    /// `the previous run was interrupted during PHASE_1:B (tasks B1, B3 were running)`.
    pub fn describe_interruption(&self) -> String {
        let during = match &self.group {
            Some(g) => format!(" during {}", g.key),
            None => String::new(),
        };
        let ids: Vec<&str> = self.tasks.iter().map(|t| t.task_id.as_str()).collect();
        let running = match ids.as_slice() {
            [] => "no task was running".to_string(),
            [one] => format!("task {one} was running"),
            many => format!("tasks {} were running", many.join(", ")),
        };
        format!("the previous run was interrupted{during} ({running})")
    }
}

/// `key=value` fields; `log=` takes the rest of the line.
struct Fields<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    log: Option<&'a str>,
}

impl<'a> Fields<'a> {
    fn parse(mut rest: &'a str) -> Self {
        let mut pairs = Vec::new();
        let mut log = None;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            if let Some(path) = rest.strip_prefix("log=") {
                log = Some(path.trim_end()).filter(|p| !p.is_empty());
                break;
            }
            let (word, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if let Some((k, v)) = word.split_once('=') {
                pairs.push((k, v));
            }
            rest = tail;
        }
        Fields { pairs, log }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.get(name)?.parse().ok()
    }

    fn time(&self, name: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(self.get(name)?)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

fn now_secs() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn one_word(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn renders_the_documented_format() {
        let mut ip = InProgress::new(RunningGroup {
            key: GroupKey::new(1, "B"),
            started: t("2026-01-09T21:27:50Z"),
            runner_pid: 1234,
            runner_pid_start: None,
        });
        ip.task_started(RunningTask {
            task_id: "B1".into(),
            started: t("2026-01-09T21:27:50Z"),
            pid: 1240,
            pid_start: Some(81301),
            log: Some("logs/orchestrator/phase1_groupB_B1_20260109-212750.log".into()),
            worker: None,
        });
        assert_eq!(
            ip.render(),
            "# roadmap-runner: running now (rewritten as tasks start and end)\n\
             PHASE_1:B started=2026-01-09T21:27:50+00:00 runner_pid=1234\n\
             PHASE_1:B:B1 started=2026-01-09T21:27:50+00:00 pid=1240 pid_start=81301 log=logs/orchestrator/phase1_groupB_B1_20260109-212750.log\n"
        );
    }

    #[test]
    fn a_task_on_a_worker_round_trips_and_is_never_killed_here() {
        let mut ip = InProgress::new(RunningGroup::this_process(GroupKey::new(1, "B")));
        ip.task_started(RunningTask::on_worker(
            "B2",
            "build-3",
            Some("logs/b2.log".into()),
        ));
        let text = ip.render();
        assert!(
            text.contains(" pid=0 worker=build-3 log=logs/b2.log\n"),
            "{text}"
        );
        let back = InProgress::parse(&text);
        assert_eq!(back.tasks[0].worker.as_deref(), Some("build-3"));
        assert_eq!((back.tasks[0].pid, back.tasks[0].pid_start), (0, None));
        assert!(kill_leftovers(&back).is_empty());
    }

    #[test]
    fn parse_is_tolerant() {
        let text = "\u{feff}# header\n\
            garbage line\n\
            PHASE_1:B started=2026-01-09T21:27:50Z runner_pid=12 extra=1\n\
            PHASE_1:B:B1 started=not-a-time pid=3\n\
            PHASE_1:B:B2 pid=4 started=2026-01-09T22:27:50+01:00 log=logs/with space.log  \n\
            PHASE_1:B:B3 started=2026-01-09T21:27:50Z\n";
        let ip = InProgress::parse(text);
        assert_eq!(ip.group.as_ref().unwrap().runner_pid, 12);
        assert_eq!(ip.tasks.len(), 1);
        assert_eq!(ip.tasks[0].task_id, "B2");
        assert_eq!(ip.tasks[0].started, t("2026-01-09T21:27:50Z"));
        assert_eq!(ip.tasks[0].log.as_deref(), Some("logs/with space.log"));
    }

    #[test]
    fn describes_the_interruption() {
        let mut ip = InProgress::new(RunningGroup::this_process(GroupKey::new(1, "B")));
        assert_eq!(
            ip.describe_interruption(),
            "the previous run was interrupted during PHASE_1:B (no task was running)"
        );
        for id in ["B1", "B3"] {
            ip.task_started(RunningTask::new(id, 1, None));
        }
        assert_eq!(
            ip.describe_interruption(),
            "the previous run was interrupted during PHASE_1:B (tasks B1, B3 were running)"
        );
    }

    #[test]
    fn own_start_time_is_known_and_stable() {
        let me = std::process::id();
        let start = process_start_time(me).expect("/proc is mounted");
        assert_eq!(process_start_time(me), Some(start));
        assert!(process_alive(me, Some(start)));
        assert!(!process_alive(me, Some(start + 1)));
        assert!(!process_alive(i32::MAX as u32, None));
    }

    #[test]
    fn pending_round_trip() {
        let groups = vec![
            (
                GroupKey::new(1, "B"),
                vec!["B1".to_string(), "B2".to_string()],
            ),
            (GroupKey::new(2, "A"), vec![]),
        ];
        let text = render_pending(&groups);
        assert_eq!(
            text,
            format!("{PENDING_HEADER}\nPHASE_1:B B1 B2\nPHASE_2:A\n")
        );
        assert_eq!(parse_pending(&text), groups);
    }
}
