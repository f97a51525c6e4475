//! `roadmap-runner serve` in a test: the real binary on 127.0.0.1 with a
//! free port (port 0, read back from its stderr), plain HTTP calls and an
//! SSE reader.

use super::Project;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Server {
    child: Child,
    pub base: String,
    pub key: Option<String>,
    /// Everything the server printed on stderr (for failure messages).
    pub stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `serve` in the project, with the fake agent for the runs it starts.
    pub fn start(p: &Project, key: Option<&str>) -> Server {
        Self::start_env(p, key, &[])
    }

    /// The same, with more environment for the server and so its runs
    /// (e.g. the fake agent's canned plans).
    pub fn start_env(p: &Project, key: Option<&str>, env: &[(&str, &str)]) -> Server {
        let mut cmd = p.cmd();
        cmd.envs(env.iter().copied());
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .env_remove("ROADMAP_RUNNER_API_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(k) = key {
            cmd.env("ROADMAP_RUNNER_API_KEY", k);
        }
        let mut child = cmd.spawn().expect("serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let base = loop {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                _ => panic!("serve ended before listening:\n{seen}"),
            };
            seen.push_str(&line);
            seen.push('\n');
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().trim_end_matches('/').to_string();
            }
        };
        let stderr = Arc::new(Mutex::new(seen));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Server {
            child,
            base,
            key: key.map(str::to_string),
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into()
    }

    /// GET with the server's key (if any): status and JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.get_with(
            path,
            self.key.as_deref().map(|k| ("x-api-key", k.to_string())),
        )
    }

    pub fn get_with(&self, path: &str, header: Option<(&str, String)>) -> (u16, Value) {
        let mut req = Self::agent().get(format!("{}{path}", self.base));
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        let mut resp = req.call().expect("GET answered");
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POST a raw body with the server's key.
    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.post_with(path, body, &[])
    }

    pub fn post_with(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = Self::agent()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(k) = &self.key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let mut resp = req.send(body).expect("POST answered");
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `/api/v1/events` read on a thread: each event as (id, JSON).
    pub fn events(&self, last_event_id: Option<&str>) -> Receiver<(String, Value)> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut url = format!("{}/api/v1/events", self.base);
        if let Some(k) = &self.key {
            url.push_str(&format!("?key={k}"));
        }
        let mut req = agent.get(url);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.call().expect("events answered");
        assert_eq!(resp.status().as_u16(), 200, "GET /events");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let reader = BufReader::new(resp.into_body().into_reader());
            let (mut id, mut data) = (String::new(), String::new());
            for line in reader.lines().map_while(Result::ok) {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                } else if line.is_empty() && !data.is_empty() {
                    let value = serde_json::from_str(&data).expect("an event is JSON");
                    if tx.send((std::mem::take(&mut id), value)).is_err() {
                        return;
                    }
                    data.clear();
                }
            }
        });
        rx
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Events until (and with) the first `run_finished`; panics after `secs`.
pub fn until_run_finished(rx: &Receiver<(String, Value)>, secs: u64) -> Vec<(String, Value)> {
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(ev) => {
                let done = ev.1["event"] == "run_finished";
                seen.push(ev);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!(
                "no run_finished within {secs}s; events seen: {:?}",
                seen.iter()
                    .map(|(_, e)| e["event"].clone())
                    .collect::<Vec<_>>()
            ),
        }
    }
}

/// The ids of the tasks that finished, sorted.
pub fn finished_tasks(events: &[(String, Value)]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .filter(|(_, e)| e["event"] == "task_finished")
        .map(|(_, e)| e["task"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}
