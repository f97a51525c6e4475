//! The dashboard in a real headless Chromium, driven over the DevTools
//! protocol on a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4 out, NUL
//! separated JSON): loaded during a run and after it, its DOM read for task
//! ids and states, screenshots saved under `target/`. Fails when Chromium is
//! missing (`.ci/run` installs Debian's `chromium`).

mod common;

use base64::Engine;
use common::server::{Server, until_run_finished};
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "dash-k3y";
const GATE: &str = "[[gate.steps]]\nname = \"test\"\ncommand = \"true\"\n";

struct Chrome {
    child: Child,
    to: std::io::PipeWriter,
    from: BufReader<std::io::PipeReader>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Chrome {
    fn launch() -> Chrome {
        let profile = tempfile::tempdir().unwrap();
        let (cmd_r, cmd_w) = std::io::pipe().unwrap();
        let (out_r, out_w) = std::io::pipe().unwrap();
        let (a, b) = (cmd_r.as_raw_fd(), out_w.as_raw_fd());
        let mut cmd = std::process::Command::new("/usr/bin/chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-pipe",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // fd 3 and 4 in the child: moved high first, so neither dup2 is a
        // no-op that would leave close-on-exec set.
        unsafe {
            cmd.pre_exec(move || {
                use nix::fcntl::{FcntlArg, fcntl};
                let hi_a = fcntl(BorrowedFd::borrow_raw(a), FcntlArg::F_DUPFD(100))?;
                let hi_b = fcntl(BorrowedFd::borrow_raw(b), FcntlArg::F_DUPFD(100))?;
                for (from, to) in [(hi_a, 3), (hi_b, 4)] {
                    let fd = nix::unistd::dup2_raw(BorrowedFd::borrow_raw(from), to)?;
                    std::mem::forget(fd);
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .expect("/usr/bin/chromium runs (install Debian's `chromium`; .ci/run does)");
        drop((cmd_r, out_w));
        Chrome {
            child,
            to: cmd_w,
            from: BufReader::new(out_r),
            next_id: 0,
            _profile: profile,
        }
    }

    /// A command and its result (events in between are skipped).
    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let mut msg = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = s.into();
        }
        self.to.write_all(msg.to_string().as_bytes()).unwrap();
        self.to.write_all(b"\0").unwrap();
        loop {
            let mut buf = Vec::new();
            let n = self.from.read_until(0, &mut buf).unwrap();
            assert!(n > 0, "chromium closed the DevTools pipe");
            buf.pop();
            let reply: Value = serde_json::from_slice(&buf).unwrap();
            if reply["id"] == self.next_id {
                assert!(reply["error"].is_null(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// A new tab on `url`; returns its session.
    fn open(&mut self, url: &str) -> String {
        let target = self.send(None, "Target.createTarget", json!({"url": url}));
        let attached = self.send(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        attached["sessionId"].as_str().unwrap().to_string()
    }

    fn eval(&mut self, session: &str, expr: &str) -> Value {
        let r = self.send(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is true; panics with the DOM after `secs`.
    fn wait_until(&mut self, session: &str, what: &str, expr: &str, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if self.eval(session, expr) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let dom = self.eval(session, "document.body.innerText");
        panic!("the dashboard did not show {what} within {secs}s:\n{dom}");
    }

    fn screenshot(&mut self, session: &str, name: &str) -> std::path::PathBuf {
        let shot = self.send(
            Some(session),
            "Page.captureScreenshot",
            json!({"format": "png"}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &png).unwrap();
        path
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every task row of the page: (id, state).
const TASK_STATES: &str = "JSON.stringify([...document.querySelectorAll('li.task')].map(e => [e.dataset.task, e.dataset.state]))";

fn task_states(c: &mut Chrome, session: &str) -> Vec<(String, String)> {
    serde_json::from_str(c.eval(session, TASK_STATES).as_str().unwrap()).unwrap()
}

fn roadmap() -> String {
    "# Shop\n\n## Phase 1: Catalog\n\n### Group A (Parallel)\n\n\
     - A1: Products\n  - FAKE: sleep 4\n  - FAKE: write products.txt p\n\
     - A2: Prices\n  - FAKE: write prices.txt p\n\n\
     ## Phase 2: Checkout\n\n### Group C\n\n- C1: Cart\n  - FAKE: write cart.txt c\n"
        .to_string()
}

#[test]
fn the_dashboard_shows_a_run_live_and_after_it_in_chromium() {
    let p = Project::with_config(&roadmap(), GATE);
    let s = Server::start(&p, Some(KEY));
    // A budget well above what the run spends: the page shows it.
    let (code, started) = s.post("/api/v1/runs", r#"{"max_cost": 5}"#);
    assert_eq!(code, 202, "{started}");
    let id = started["id"].as_str().unwrap().to_string();

    let mut chrome = Chrome::launch();
    // The key once, in the fragment: the page keeps it in sessionStorage.
    let tab = chrome.open(&format!("{}/#key={KEY}", s.base));
    chrome.wait_until(
        &tab,
        "A1 running and A2 succeeded",
        "!!document.querySelector('li.task[data-task=A1][data-state=running]') && \
         !!document.querySelector('li.task[data-task=A2][data-state=succeeded]')",
        20,
    );
    let during = task_states(&mut chrome, &tab);
    assert_eq!(
        during,
        [
            ("A1".into(), "running".into()),
            ("A2".into(), "succeeded".into()),
            ("C1".into(), "pending".into())
        ]
    );
    assert_eq!(
        chrome.eval(&tab, "location.hash"),
        json!(""),
        "the key stays in the URL"
    );
    assert_eq!(
        chrome.eval(&tab, "sessionStorage.getItem('roadmap-runner-key')"),
        json!(KEY)
    );
    assert_eq!(chrome.eval(&tab, "document.cookie"), json!(""));
    chrome.screenshot(&tab, "dashboard-live.png");
    let dom = chrome.eval(&tab, "document.documentElement.outerHTML");
    assert!(dom.as_str().unwrap().contains("data-task=\"A1\""), "{dom}");

    // Live to the end: every task succeeded, the gate's step, both commits.
    chrome.wait_until(
        &tab,
        "the run finished",
        "document.getElementById('run').dataset.state === 'finished'",
        40,
    );
    let after: Vec<String> = task_states(&mut chrome, &tab)
        .into_iter()
        .map(|(t, st)| format!("{t}:{st}"))
        .collect();
    assert_eq!(after, ["A1:succeeded", "A2:succeeded", "C1:succeeded"]);
    let commits = chrome.eval(&tab, "document.getElementById('commits').innerText");
    assert!(
        commits.as_str().unwrap().contains("Phase 1: Catalog"),
        "{commits}"
    );
    assert!(
        commits.as_str().unwrap().contains("Phase 2: Checkout"),
        "{commits}"
    );
    let gate = chrome.eval(
        &tab,
        "document.querySelectorAll('#gate li[data-step=test][data-state=passed]').length",
    );
    assert_eq!(gate, json!(2), "one passed gate step per group");
    let budget = chrome.eval(&tab, "document.getElementById('budget').innerText");
    assert!(
        budget.as_str().unwrap().contains("of $5.00 spent"),
        "{budget}"
    );
    // A click shows the task's log tail.
    chrome.eval(
        &tab,
        "document.querySelector('li.task[data-task=A1]').click()",
    );
    chrome.wait_until(
        &tab,
        "A1's log",
        "document.getElementById('log').textContent.includes('result')",
        10,
    );
    let shot = chrome.screenshot(&tab, "dashboard.png");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    assert_eq!(s.get(&format!("/api/v1/runs/{id}")).1["exit_code"], 0);

    // Loaded after the run, on a phone-sized screen: the same states, one column.
    let phone = chrome.open("about:blank");
    chrome.send(
        Some(&phone),
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    );
    chrome.send(
        Some(&phone),
        "Page.navigate",
        json!({"url": format!("{}/#key={KEY}", s.base)}),
    );
    chrome.wait_until(
        &phone,
        "the finished run",
        "document.getElementById('run').dataset.state === 'finished'",
        20,
    );
    let states: Vec<String> = task_states(&mut chrome, &phone)
        .into_iter()
        .map(|(t, st)| format!("{t}:{st}"))
        .collect();
    assert_eq!(states, ["A1:succeeded", "A2:succeeded", "C1:succeeded"]);
    let columns = chrome.eval(
        &phone,
        "getComputedStyle(document.querySelector('main')).gridTemplateColumns",
    );
    assert_eq!(
        columns.as_str().unwrap().split_whitespace().count(),
        1,
        "{columns}"
    );
    chrome.screenshot(&phone, "dashboard-phone.png");
}

/// Sets a form field of the page and tells the page it changed.
fn fill(c: &mut Chrome, tab: &str, selector: &str, value: &str) {
    let expr = format!(
        "(() => {{ const f = document.querySelector({sel}); f.value = {val}; f.dispatchEvent(new Event('input')); return true; }})()",
        sel = json!(selector),
        val = json!(value)
    );
    assert_eq!(c.eval(tab, &expr), json!(true), "{selector}");
}

fn click(c: &mut Chrome, tab: &str, selector: &str) {
    let expr = format!(
        "(() => {{ const b = document.querySelector({}); if (!b) return false; b.click(); return true; }})()",
        json!(selector)
    );
    assert_eq!(c.eval(tab, &expr), json!(true), "no {selector}");
}

/// A group's state as `status --json` has it.
fn group_state(s: &Server, phase: u64, group: &str) -> Value {
    let doc = s.get("/api/v1/status").1;
    let phase = doc["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["number"] == phase)
        .unwrap()
        .clone();
    phase["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == group)
        .unwrap()["state"]
        .clone()
}

#[test]
fn the_control_panel_starts_a_run_stops_it_and_skips_a_group_after_confirmation() {
    let roadmap = "# Shop\n\n## Phase 1: Catalog\n\n### Group A\n\n- A1: Products\n  - FAKE: sleep 60\n\n\
                   ## Phase 2: Checkout\n\n### Group C\n\n- C1: Cart\n  - FAKE: write cart.txt c\n";
    let p = Project::with_config(roadmap, GATE);
    let s = Server::start(&p, Some(KEY));
    let mut chrome = Chrome::launch();
    // No key yet: the page asks for it in the page, not in a prompt.
    let tab = chrome.open(&format!("{}/", s.base));
    chrome.wait_until(
        &tab,
        "the key is needed",
        "document.getElementById('error').textContent.includes('API key is needed')",
        20,
    );
    fill(&mut chrome, &tab, "#key-input", KEY);
    click(&mut chrome, &tab, "#key-save");
    chrome.wait_until(
        &tab,
        "the roadmap's tasks",
        "!!document.querySelector('li.task[data-task=C1]') && document.getElementById('conn').textContent === 'live'",
        20,
    );
    assert_eq!(
        chrome.eval(&tab, "sessionStorage.getItem('roadmap-runner-key')"),
        json!(KEY)
    );
    let events = s.events(None);

    // Start from the form: its options are the run's flags.
    fill(&mut chrome, &tab, "#run-form [name=max_parallel]", "1");
    fill(&mut chrome, &tab, "#run-form [name=groups]", "1:A");
    click(&mut chrome, &tab, "#run-form [name=no_push]");
    click(&mut chrome, &tab, "#start");
    chrome.wait_until(
        &tab,
        "the run started and A1 running",
        "document.getElementById('run').dataset.state === 'running' && \
         !!document.querySelector('li.task[data-task=A1][data-state=running]') && \
         !document.getElementById('stop').disabled",
        30,
    );
    let runs = s.get("/api/v1/runs").1;
    let args = runs["runs"][0]["args"].to_string();
    for flag in ["--max-parallel=1", "--group=1:A", "--no-push"] {
        assert!(args.contains(flag), "{flag}: {args}");
    }
    chrome.screenshot(&tab, "dashboard-control.png");

    // Stop from the button: the runner's own signal stop, exit 143.
    click(&mut chrome, &tab, "#stop");
    chrome.wait_until(
        &tab,
        "the run stopped",
        "document.getElementById('run').textContent.includes('exit 143') && document.getElementById('stop').disabled",
        40,
    );
    let seen: Vec<String> = until_run_finished(&events, 30)
        .into_iter()
        .map(|(_, e)| e["event"].as_str().unwrap().to_string())
        .collect();
    let at = |name: &str| seen.iter().position(|n| n == name);
    assert!(at("run_started").is_some(), "{seen:?}");
    assert!(at("stopping") > at("run_started"), "{seen:?}");
    let id = runs["runs"][0]["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/api/v1/runs/{id}")).1["exit_code"], 143);

    // A skip asks first; cancelled, nothing changes.
    let pending = group_state(&s, 2, "C");
    click(
        &mut chrome,
        &tab,
        "button[data-action=skip][data-group='2:C']",
    );
    chrome.wait_until(
        &tab,
        "the confirmation",
        "document.getElementById('confirm').open && document.getElementById('confirm-text').textContent.includes('Skip group 2:C')",
        10,
    );
    click(&mut chrome, &tab, "#confirm-no");
    chrome.wait_until(
        &tab,
        "the cancellation",
        "!document.getElementById('confirm').open && document.getElementById('control-msg').textContent.includes('cancelled')",
        10,
    );
    assert_eq!(group_state(&s, 2, "C"), pending);
    // Confirmed, the group is recorded complete, and the page shows it.
    click(
        &mut chrome,
        &tab,
        "button[data-action=skip][data-group='2:C']",
    );
    chrome.wait_until(
        &tab,
        "the confirmation",
        "document.getElementById('confirm').open",
        10,
    );
    click(&mut chrome, &tab, "#confirm-yes");
    chrome.wait_until(
        &tab,
        "the skipped group",
        "document.querySelector('.group[data-group=\"2:C\"]').dataset.state === 'completed'",
        20,
    );
    assert_eq!(group_state(&s, 2, "C"), "completed");
    assert!(
        !p.dir.join("cart.txt").exists(),
        "a skipped group does not run"
    );
}

#[test]
fn the_request_box_drafts_a_roadmap_replacing_the_old_one_after_confirmation() {
    let p = Project::with_config(&roadmap(), GATE);
    let drafted = "# Shop\n\n## Phase 1: Base\n\n### Group B: Users (Parallel)\n\n\
                   - [ ] **B1**: Registration\n  Acceptance: users sign up\n\
                   - [ ] **B2**: Login\n  Acceptance: users log in\n";
    let plan = p.tmp.path().join("answer.md");
    std::fs::write(&plan, drafted).unwrap();
    let s = Server::start_env(
        &p,
        Some(KEY),
        &[("FAKE_AGENT_PLANS", plan.to_str().unwrap())],
    );
    let mut chrome = Chrome::launch();
    let tab = chrome.open(&format!("{}/#key={KEY}", s.base));
    chrome.wait_until(
        &tab,
        "the old roadmap",
        "!!document.querySelector('li.task[data-task=A1]') && document.getElementById('conn').textContent === 'live'",
        20,
    );
    fill(&mut chrome, &tab, "#request", "Build a shop with users");
    fill(
        &mut chrome,
        &tab,
        "#orchestrate-form [name=max_workers]",
        "2",
    );
    click(&mut chrome, &tab, "#orchestrate-form [name=force]");
    click(&mut chrome, &tab, "#orchestrate");
    chrome.wait_until(
        &tab,
        "the confirmation",
        "document.getElementById('confirm').open && document.getElementById('confirm-text').textContent.includes('Replace ROADMAP.md')",
        10,
    );
    assert_eq!(
        s.get("/api/v1/runs").1["runs"],
        json!([]),
        "nothing before the yes"
    );
    click(&mut chrome, &tab, "#confirm-yes");
    chrome.wait_until(
        &tab,
        "the drafted roadmap run to its end",
        "document.getElementById('run').dataset.state === 'finished' && \
         !!document.querySelector('li.task[data-task=B2][data-state=succeeded]') && \
         !document.querySelector('li.task[data-task=A1]')",
        60,
    );
    let run = &s.get("/api/v1/runs").1["runs"][0];
    assert_eq!(run["request"], "Build a shop with users", "{run}");
    let args = run["args"].to_string();
    for flag in [
        "--force",
        "--max-parallel=2",
        "--goal=Build a shop with users",
    ] {
        assert!(args.contains(flag), "{flag}: {args}");
    }
    assert_eq!(run["exit_code"], 0, "{run}");
    assert_eq!(p.read("ROADMAP.md"), drafted);
    assert_eq!(p.origin_log()[0], "Complete Phase 1: Base");
    chrome.screenshot(&tab, "dashboard-orchestrate.png");
}

/// `[group, [task:state...]]` of each sub-group beneath task `parent`.
const SUB_TREE: &str = "(p) => JSON.stringify([...document.querySelectorAll(`li.sub[data-parent='${p}'] > .group`)].map(g => [g.dataset.group, [...g.querySelectorAll(':scope > ul > li.task')].map(t => t.dataset.task + ':' + t.dataset.state)]))";

fn sub_tree(c: &mut Chrome, tab: &str, parent: &str) -> Value {
    let text = c.eval(tab, &format!("({SUB_TREE})({})", json!(parent)));
    serde_json::from_str(text.as_str().unwrap()).unwrap()
}

#[test]
fn a_split_task_shows_its_sub_roadmap_beneath_it_live_and_after_the_run() {
    let sub = "# Parts\n\n## Phase 1: Parts\n\n### Group A: First (Parallel)\n\n\
               - [ ] **A1**: Part one\n  FAKE: sleep 4\n\
               - [ ] **A2**: Part two\n  FAKE: write part2.txt two\n\n\
               ### Group B: Second (Parallel, after A)\n\n\
               - [ ] **B1**: Part three\n  FAKE: write part3.txt three\n";
    let (_, path) = tempfile::NamedTempFile::new().unwrap().keep().unwrap();
    std::fs::write(&path, sub).unwrap();
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: write a1.txt done"),
        ("A2", &format!("FAKE: split {}", path.display())),
    ]);
    let p = Project::with_config(&roadmap, GATE);
    let s = Server::start(&p, Some(KEY));
    let mut chrome = Chrome::launch();
    let tab = chrome.open(&format!("{}/#key={KEY}", s.base));
    chrome.wait_until(
        &tab,
        "the roadmap, live",
        "!!document.querySelector('li.task[data-task=A2]') && document.getElementById('conn').textContent === 'live'",
        20,
    );
    let (code, started) = s.post("/api/v1/runs", "{}");
    assert_eq!(code, 202, "{started}");

    // Live: the sub-group's rows beneath A2, whose row counts them.
    let parent = "document.querySelector('li.task[data-group=\"1:A\"][data-task=A2]')";
    chrome.wait_until(
        &tab,
        "sub-task A1 running beneath A2, one of three done",
        &format!(
            "!!document.querySelector(\"li.sub[data-parent='1:A:A2'] .group[data-group='1:A:A2/1:A'] li.task[data-task=A1][data-state=running]\") && \
             {parent}.dataset.state === 'split' && {parent}.textContent.includes('split: 1/3 sub-tasks done')"
        ),
        30,
    );
    assert_eq!(
        sub_tree(&mut chrome, &tab, "1:A:A2"),
        json!([["1:A:A2/1:A", ["A1:running", "A2:succeeded"]]])
    );
    // The sub-roadmap sits right beneath its task's row, not as a phase of its own.
    assert_eq!(
        chrome.eval(&tab, &format!("{parent}.nextElementSibling.dataset.parent")),
        json!("1:A:A2")
    );
    assert_eq!(
        chrome.eval(&tab, "document.querySelectorAll('section.phase').length"),
        json!(1)
    );
    chrome.screenshot(&tab, "dashboard-split.png");

    chrome.wait_until(
        &tab,
        "the run finished",
        "document.getElementById('run').dataset.state === 'finished'",
        60,
    );
    let done = json!([
        ["1:A:A2/1:A", ["A1:succeeded", "A2:succeeded"]],
        ["1:A:A2/1:B", ["B1:succeeded"]]
    ]);
    assert_eq!(sub_tree(&mut chrome, &tab, "1:A:A2"), done);
    // Headings and titles from the events: the sub-roadmap's own words.
    let b = chrome.eval(
        &tab,
        "document.querySelector(\"li.sub .group[data-group='1:A:A2/1:B']\").innerText",
    );
    let b = b.as_str().unwrap();
    assert!(b.contains("Group 1:A:A2/1:B: Second"), "{b}");
    assert!(b.contains("B1 Part three"), "{b}");
    assert_eq!(
        chrome.eval(&tab, &format!("{parent}.dataset.state")),
        json!("succeeded")
    );
    assert!(
        chrome
            .eval(&tab, &format!("{parent}.textContent"))
            .as_str()
            .unwrap()
            .contains("split: 3/3 sub-tasks done")
    );

    // Loaded after the run: the same tree, from the status document.
    let after = chrome.open(&format!("{}/#key={KEY}", s.base));
    chrome.wait_until(
        &after,
        "the sub-roadmap beneath A2",
        "!!document.querySelector(\"li.sub[data-parent='1:A:A2'] .group[data-group='1:A:A2/1:B']\")",
        20,
    );
    let states: Vec<String> = sub_tree(&mut chrome, &after, "1:A:A2")
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["1:A:A2/1:A", "1:A:A2/1:B"]);
    // The run's events replayed on top leave it as the run ended.
    chrome.wait_until(
        &after,
        "A2 succeeded with its three sub-tasks",
        &format!(
            "{parent}.dataset.state === 'succeeded' && {parent}.textContent.includes('split: 3/3 sub-tasks done')"
        ),
        20,
    );
    assert_eq!(sub_tree(&mut chrome, &after, "1:A:A2"), done);
}
