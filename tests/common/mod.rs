//! Shared helpers for the integration tests: a real project in a temp dir
//! (a git repository with a bare repository as `origin`), the real binary,
//! and the fake agent standing in for Claude Code.
#![allow(dead_code)]

pub mod agents;
pub mod cluster;
pub mod plans;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_roadmap-runner"))
}

pub fn fake_agent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-agent")
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A project: a git work tree with one commit, `origin` a bare repo.
pub struct Project {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub origin: PathBuf,
    pub agent_log: PathBuf,
}

impl Project {
    pub fn new(roadmap: &str) -> Project {
        Self::with_config(roadmap, "")
    }

    /// A project whose `roadmap-runner.toml` also holds `extra` (e.g. a gate).
    pub fn with_config(roadmap: &str, extra: &str) -> Project {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("project");
        let origin = tmp.path().join("origin.git");
        std::fs::create_dir_all(&dir).unwrap();
        git(
            tmp.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        git(&dir, &["init", "-q", "-b", "main"]);
        git(&dir, &["config", "user.name", "Test Runner"]);
        git(&dir, &["config", "user.email", "runner@example.invalid"]);
        git(&dir, &["config", "commit.gpgsign", "false"]);
        std::fs::write(dir.join("ROADMAP.md"), roadmap).unwrap();
        std::fs::write(dir.join(".gitignore"), "/.fake-agent/\n").unwrap();
        // A short grace period keeps the tests that stop agents quick.
        std::fs::write(
            dir.join("roadmap-runner.toml"),
            format!("[run]\ngrace_period = 1\n\n{extra}"),
        )
        .unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-q", "-m", "initial"]);
        git(&dir, &["remote", "add", "origin", origin.to_str().unwrap()]);
        git(&dir, &["push", "-q", "-u", "origin", "main"]);
        let agent_log = tmp.path().join("agent-log.jsonl");
        Project {
            tmp,
            dir,
            origin,
            agent_log,
        }
    }

    /// The runner, set up to use the fake agent and a quiet, fast config.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.current_dir(&self.dir)
            .env("CLAUDE_BIN", fake_agent())
            .env("IS_SANDBOX", "1")
            .env("FAKE_AGENT_LOG", &self.agent_log)
            .env("FAKE_AGENT_STATE_DIR", self.tmp.path().join("agent-state"))
            .env_remove("MAX_PARALLEL_AGENTS")
            .env_remove("TASK_TIMEOUT")
            .env_remove("DRY_RUN")
            .env_remove("ROADMAP_FILE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("runner starts")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).unwrap_or_default()
    }

    /// The fake agent's invocation records (`start` and `end` events).
    pub fn agent_events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.agent_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The task id of every agent start, in start order.
    pub fn agent_task_ids(&self) -> Vec<String> {
        self.agent_starts()
            .iter()
            .map(|e| e["task"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn agent_starts(&self) -> Vec<serde_json::Value> {
        self.agent_events()
            .into_iter()
            .filter(|e| e["event"] == "start")
            .collect()
    }

    /// Commit subjects of `main` in the bare origin, newest first.
    pub fn origin_log(&self) -> Vec<String> {
        git(&self.origin, &["log", "--format=%s", "main"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `git status --porcelain` of the work tree.
    pub fn git_status(&self) -> String {
        git(&self.dir, &["status", "--porcelain"])
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Is a process with this pid still there (and not a zombie)?
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state is the field after the parenthesised command name.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Waits (bounded) for a condition that another process makes true.
pub fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timed out after {secs}s waiting for {what}");
}

/// A one-phase roadmap whose tasks carry the given bodies (fake-agent directives).
pub fn roadmap_with_tasks(tasks: &[(&str, &str)]) -> String {
    let mut s = String::from("# Test Project\n\n## Phase 1: Only\n\n### Group A (Parallel)\n\n");
    for (id, body) in tasks {
        s.push_str(&format!("#### {id}: Task {id}\n\n{body}\n\n"));
    }
    s
}

/// Asserts the exit code, showing both output streams when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
}

/// A one-group roadmap of `n` tasks `A1..An` that all carry `body`.
pub fn roadmap_of_same_tasks(n: usize, body: &str) -> String {
    let tasks: Vec<(String, &str)> = (1..=n).map(|i| (format!("A{i}"), body)).collect();
    let refs: Vec<(&str, &str)> = tasks.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    roadmap_with_tasks(&refs)
}

/// The text with the timestamp a run puts before its errors off a terminal
/// (`2026-01-09 21:27:50 error: ...`) taken out.
pub fn without_stamps(text: &str) -> String {
    let stamp = regex::Regex::new(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ").unwrap();
    stamp.replace_all(text, "").into_owned()
}

/// The command line an agent was started with, from its `start` event.
pub fn argv(start: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(start["argv"].clone()).unwrap()
}

/// The task records of the project's `status/tasks.jsonl`, in order.
#[allow(dead_code)]
pub fn task_records(p: &Project) -> Vec<roadmap_runner::status::TaskRecord> {
    use roadmap_runner::status::{Record, RecordStore, StatusDir};
    RecordStore::new(&StatusDir::new(&p.dir))
        .load()
        .unwrap()
        .0
        .into_iter()
        .filter_map(|r| match r {
            Record::Task(t) => Some(t),
            _ => None,
        })
        .collect()
}
