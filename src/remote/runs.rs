//! Runs started over MCP or HTTP: each a child process of this binary,
//! `roadmap-runner -C DIR run --json [options]`, run through the project's
//! one process-control path (`exec::run_process`: its own process group,
//! its output read line by line, a stop as SIGTERM then SIGKILL). One
//! manager serves both surfaces.

use super::options::RunOptions;
use super::orchestrate::OrchestrateRequest;
use super::{RemoteError, Target};
use crate::exec::{
    ExitStatusKind, OutputStream, ProcessEvent, ProcessSpec, StdinSource, StopLevel, run_process,
};
use crate::status::lock;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How long a start waits for the child to take the lock (or to give up).
const START_WAIT: Duration = Duration::from_secs(20);
/// stderr lines kept per run.
const STDERR_TAIL: usize = 40;
/// A stopped run's time between SIGTERM and SIGKILL: the runner stops its
/// agents (their own grace period) and records what it did.
const RUN_GRACE: Duration = Duration::from_secs(60);

/// A run as `run_status` and `GET /runs/{id}` show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunInfo {
    pub id: String,
    pub pid: u32,
    /// `running` or `finished`.
    pub state: String,
    /// The `run` arguments the child got.
    pub args: Vec<String>,
    /// RFC 3339.
    pub started: String,
    pub finished: Option<String>,
    /// The child's exit code (the CLI's: 0 done, 1 task failed, ... 143 stopped).
    pub exit_code: Option<i32>,
    /// Events read from the child so far.
    pub events: usize,
    /// The last event's `event` name.
    pub last_event: Option<String>,
    /// The group that runs now (`{"phase":1,"group":"A"}`).
    pub current_group: Option<Value>,
    /// Every task attempt seen, in start order (a retry is a second entry).
    pub tasks: Vec<TaskInfo>,
    /// `run_finished`'s summary, once it came.
    pub summary: Option<Value>,
    /// The end of the child's stderr (its error messages).
    pub stderr_tail: Vec<String>,
    /// An orchestrated run's request: the goal its roadmap was drafted for.
    pub request: Option<String>,
    /// How deep its tasks may split (`max_recursion_depth`), when given.
    pub max_recursion_depth: Option<u32>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskInfo {
    /// `1:A`.
    pub group: String,
    pub task: String,
    /// `running`, or the outcome kind: `succeeded`, `failed`, `timed_out`, ...
    pub state: String,
    pub attempt: u64,
    pub duration_secs: Option<f64>,
    pub cost_usd: Option<f64>,
}

/// Starts, tracks and stops the runs this server started.
pub struct RunManager {
    target: Target,
    exe: PathBuf,
    runs: Mutex<BTreeMap<String, Arc<Mutex<RunInfo>>>>,
    /// How to stop each run: its process's stop level.
    stops: Mutex<BTreeMap<String, watch::Sender<StopLevel>>>,
    counter: AtomicU64,
    /// One start at a time: what a start checks (an orchestrated run is
    /// drafting, a run is running) still holds when its child is spawned.
    starting: tokio::sync::Mutex<()>,
}

impl RunManager {
    pub fn new(target: Target) -> Result<Arc<RunManager>, RemoteError> {
        Ok(Arc::new(RunManager {
            target,
            exe: std::env::current_exe()?,
            runs: Mutex::new(BTreeMap::new()),
            stops: Mutex::new(BTreeMap::new()),
            counter: AtomicU64::new(0),
            starting: tokio::sync::Mutex::new(()),
        }))
    }

    fn runs(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Mutex<RunInfo>>>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Starts a run; answers once the child holds the project's lock (or
    /// ended), or [`RemoteError::Locked`] with the CLI's message when another
    /// run (cron, the CLI, this server) holds it.
    pub async fn start(&self, opts: &RunOptions) -> Result<RunInfo, RemoteError> {
        let _one = self.starting.lock().await;
        // A run drafting its roadmap holds no lock yet: the roadmap it is
        // about to write is not this run's to start on.
        if let Some(d) = self.list().iter().find(|r| is_drafting(r)) {
            return Err(RemoteError::Locked(format!(
                "run `{}` of this server is drafting the roadmap: wait until it runs, or stop it",
                d.id
            )));
        }
        // What the run would refuse before it starts is refused here, with
        // its message, and nothing is started.
        let (target, checked) = (self.target.clone(), opts.clone());
        tokio::task::spawn_blocking(move || super::capture::check_run(&target, &checked))
            .await
            .map_err(|e| RemoteError::Io(std::io::Error::other(e)))??;
        // No probe of the lock here: probing takes it for a moment, and a run
        // starting at that moment would be refused. The child tries it
        // itself and exits 75, with the holder named, when it is held.
        let mut args = self.global_args();
        args.extend(["run".to_string(), "--json".to_string()]);
        args.extend(opts.to_args());
        self.spawn(args, None, opts.max_recursion_depth).await
    }

    /// An orchestrated run: the agent drafts the roadmap for the request
    /// (`init --goal`), then it runs with the request's options. Refused
    /// while any run holds the lock or runs from here, and where a roadmap
    /// exists unless `force`.
    pub async fn orchestrate(&self, req: &OrchestrateRequest) -> Result<RunInfo, RemoteError> {
        let _one = self.starting.lock().await;
        let opts = req.run_options()?;
        let goal = req.goal()?.to_string();
        let roadmap = &self.target.project.roadmap_path;
        if roadmap.exists() && !req.force {
            return Err(RemoteError::Exists(format!(
                "{} exists: nothing was started; send `\"force\": true` to replace it with a drafted one",
                self.target.project.roadmap_display()
            )));
        }
        if let Some(r) = self.list().iter().find(|r| r.state == "running") {
            return Err(RemoteError::Locked(format!(
                "run `{}` of this server is still running: wait for it to finish, or stop it first",
                r.id
            )));
        }
        let lock_path = self.target.project.status.lock_path();
        if let Some(holder) = lock::current_holder(&lock_path) {
            let held = lock::LockError::Held {
                path: lock_path,
                holder,
            };
            return Err(RemoteError::Locked(held.to_string()));
        }
        let mut args = self.global_args();
        args.extend([
            "init".to_string(),
            format!("--goal={goal}"),
            "--run".to_string(),
            "--json".to_string(),
        ]);
        if req.force {
            args.push("--force".into());
        }
        args.extend(opts.to_args());
        self.spawn(args, Some(goal), opts.max_recursion_depth).await
    }

    /// The child started and followed; answers as [`RunManager::start`] says.
    async fn spawn(
        &self,
        args: Vec<String>,
        request: Option<String>,
        max_recursion_depth: Option<u32>,
    ) -> Result<RunInfo, RemoteError> {
        let lock_path = self.target.project.status.lock_path();
        let id = self.next_id();
        let info = Arc::new(Mutex::new(RunInfo {
            id: id.clone(),
            pid: 0,
            state: "running".into(),
            args: args.clone(),
            started: chrono::Local::now().to_rfc3339(),
            finished: None,
            exit_code: None,
            events: 0,
            last_event: None,
            current_group: None,
            tasks: Vec::new(),
            summary: None,
            stderr_tail: Vec::new(),
            request,
            max_recursion_depth,
        }));
        let spec = ProcessSpec {
            program: self.exe.clone().into(),
            args: args.iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: self.target.project.dir.clone(),
            stdin: StdinSource::Null,
            log_path: None,
            timeout: None,
            grace: RUN_GRACE,
            leak_timeout: Duration::from_secs(2),
        };
        let (stop_tx, stop_rx) = watch::channel(StopLevel::Run);
        tokio::spawn(follow_child(spec, stop_rx, info.clone()));
        self.runs().insert(id.clone(), info.clone());
        self.stops_map().insert(id, stop_tx);
        self.wait_started(&info, &lock_path).await
    }

    fn stops_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, watch::Sender<StopLevel>>> {
        self.stops.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The child holds the lock, or ended: 75 right away is "locked".
    async fn wait_started(
        &self,
        info: &Arc<Mutex<RunInfo>>,
        lock_path: &std::path::Path,
    ) -> Result<RunInfo, RemoteError> {
        let end = tokio::time::Instant::now() + START_WAIT;
        loop {
            let now = lock_info(info).clone();
            if now.exit_code == Some(crate::exit::LOCKED) {
                self.runs().remove(&now.id);
                // Its last line is the CLI's `error: another roadmap-runner holds the lock ...`.
                let message = now.stderr_tail.last().cloned().unwrap_or_default();
                return Err(RemoteError::Locked(super::capture::message_alone(&message)));
            }
            // The holder writes its pid into the lock file once it holds it.
            let holds = std::fs::read_to_string(lock_path)
                .ok()
                .and_then(|h| lock::holder_pid(&h))
                .is_some_and(|p| now.pid != 0 && p == now.pid);
            if holds || now.state == "finished" || now.events > 0 {
                return Ok(now);
            }
            if tokio::time::Instant::now() > end {
                return Ok(now);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `--project-dir DIR [--roadmap=PATH]`: the project this server serves.
    fn global_args(&self) -> Vec<String> {
        let mut args = vec![
            "--project-dir".to_string(),
            self.target.project.dir.display().to_string(),
        ];
        if let Some(r) = &self.target.roadmap {
            args.push(format!("--roadmap={}", r.display()));
        }
        args
    }

    /// `20261201-101500-1`: sorts as time, unique in this server.
    fn next_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        format!("{}-{n}", chrono::Local::now().format("%Y%m%d-%H%M%S"))
    }

    pub fn get(&self, id: &str) -> Result<RunInfo, RemoteError> {
        let runs = self.runs();
        let info = runs
            .get(id)
            .ok_or_else(|| RemoteError::NotFound(format!("no run `{id}` was started here")))?;
        Ok(lock_info(info).clone())
    }

    pub fn list(&self) -> Vec<RunInfo> {
        let runs = self.runs();
        runs.values().map(|i| lock_info(i).clone()).collect()
    }

    /// SIGTERM to the run's child: the runner's own signal stop (agents
    /// stopped, state recorded, exit 143); SIGKILL if it is still there
    /// after [`RUN_GRACE`].
    pub fn stop(&self, id: &str) -> Result<RunInfo, RemoteError> {
        let info = self.get(id)?;
        if info.state != "running" {
            let code = info
                .exit_code
                .map(|c| format!(" with exit code {c}"))
                .unwrap_or_default();
            return Err(RemoteError::Finished(format!(
                "run `{id}` has finished{code}: there is nothing to stop"
            )));
        }
        if let Some(tx) = self.stops_map().get(id) {
            tx.send_if_modified(|l| {
                let raise = *l < StopLevel::Terminate;
                if raise {
                    *l = StopLevel::Terminate;
                }
                raise
            });
        }
        Ok(info)
    }
}

/// An orchestrated run that has not started running its roadmap yet.
fn is_drafting(info: &RunInfo) -> bool {
    info.state == "running"
        && info.request.is_some()
        && info
            .last_event
            .as_deref()
            .is_none_or(|e| e.starts_with("drafting_"))
}

fn lock_info(info: &Mutex<RunInfo>) -> std::sync::MutexGuard<'_, RunInfo> {
    // A panic elsewhere must not make every later status call panic too.
    info.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs the child to its end, folding its events and stderr into `info`.
async fn follow_child(
    spec: ProcessSpec,
    stop: watch::Receiver<StopLevel>,
    info: Arc<Mutex<RunInfo>>,
) {
    let mut tail: VecDeque<String> = VecDeque::new();
    let outcome = run_process(spec, stop, &mut |event| match event {
        ProcessEvent::Started { pid } => lock_info(&info).pid = pid,
        ProcessEvent::Line(OutputStream::Stdout, line) => {
            if let Ok(event) = serde_json::from_str::<Value>(line) {
                apply(&mut lock_info(&info), &event);
            }
        }
        ProcessEvent::Line(OutputStream::Stderr, line) => {
            if tail.len() == STDERR_TAIL {
                tail.pop_front();
            }
            tail.push_back(line.to_string());
            lock_info(&info).stderr_tail = tail.iter().cloned().collect();
        }
    })
    .await;
    let mut w = lock_info(&info);
    w.exit_code = Some(match outcome {
        Ok(o) => match o.status {
            ExitStatusKind::Code(c) => c,
            ExitStatusKind::Signal(s) => crate::exit::interrupted(s),
        },
        Err(e) => {
            w.stderr_tail.push(e.to_string());
            -1
        }
    });
    w.state = "finished".into();
    w.finished = Some(chrono::Local::now().to_rfc3339());
}

/// One event of the child's `--json` stream folded into its run's state.
pub fn apply(info: &mut RunInfo, event: &Value) {
    info.events += 1;
    let name = event["event"].as_str().unwrap_or_default();
    info.last_event = Some(name.to_string());
    let group = group_text(&event["key"]);
    let task = event["task"].as_str().unwrap_or_default();
    match name {
        "group_started" => info.current_group = Some(event["key"].clone()),
        "task_started" => info.tasks.push(TaskInfo {
            group,
            task: task.to_string(),
            state: "running".into(),
            attempt: event["attempt"].as_u64().unwrap_or(1),
            duration_secs: None,
            cost_usd: None,
        }),
        "task_finished" => {
            if let Some(t) = info
                .tasks
                .iter_mut()
                .rev()
                .find(|t| t.group == group && t.task == task)
            {
                t.state = event["outcome"]["kind"]
                    .as_str()
                    .unwrap_or("finished")
                    .to_string();
                t.duration_secs = event["duration"].as_f64();
                t.cost_usd = event["report"]["cost_usd"].as_f64();
            }
        }
        "run_finished" => {
            info.current_group = None;
            info.summary = Some(event["summary"].clone());
        }
        _ => {}
    }
}

/// `{"phase":1,"group":"A"}` → `1:A` (a phase id may also be a string, `12.1`).
fn group_text(key: &Value) -> String {
    let phase = match &key["phase"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("{phase}:{}", key["group"].as_str().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info() -> RunInfo {
        RunInfo {
            id: "r".into(),
            pid: 1,
            state: "running".into(),
            args: vec![],
            started: String::new(),
            finished: None,
            exit_code: None,
            events: 0,
            last_event: None,
            current_group: None,
            tasks: vec![],
            summary: None,
            stderr_tail: vec![],
            request: None,
            max_recursion_depth: None,
        }
    }

    #[test]
    fn events_fold_into_the_run_state_retries_included() {
        let mut run = info();
        let key = json!({"phase": "12.1", "group": "A"});
        apply(&mut run, &json!({"event": "group_started", "key": key}));
        for (attempt, kind) in [(1, "failed"), (2, "succeeded")] {
            apply(
                &mut run,
                &json!({"event": "task_started", "key": key, "task": "A1", "attempt": attempt}),
            );
            apply(
                &mut run,
                &json!({"event": "task_finished", "key": key, "task": "A1",
                "outcome": {"kind": kind}, "duration": 1.5, "report": {"cost_usd": 0.25}}),
            );
        }
        assert_eq!(run.current_group, Some(key));
        let states: Vec<(&str, &str, u64)> = run
            .tasks
            .iter()
            .map(|t| (t.group.as_str(), t.state.as_str(), t.attempt))
            .collect();
        assert_eq!(
            states,
            [("12.1:A", "failed", 1), ("12.1:A", "succeeded", 2)]
        );
        assert_eq!(run.tasks[1].cost_usd, Some(0.25));
        apply(
            &mut run,
            &json!({"event": "run_finished", "summary": {"exit_code": 0}}),
        );
        assert_eq!(run.events, 6);
        assert_eq!(run.last_event.as_deref(), Some("run_finished"));
        assert_eq!(run.summary, Some(json!({"exit_code": 0})));
        assert_eq!(run.current_group, None);
    }
}
