//! The live terminal view, seen through a real terminal: the binary runs in a
//! detached tmux session (its own server, on a private socket) and the test
//! reads the screen with `tmux capture-pane`. Without tmux these tests skip.
//! Also: with stdout piped, no escape code is ever written.

mod common;

use common::*;
use regex::Regex;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static SESSIONS: AtomicUsize = AtomicUsize::new(0);

/// A tmux server of our own, killed on drop (also when the test fails).
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// tmux drives the live view's tests: without it they fail, saying so
    /// (`.ci/run` installs it).
    fn require() {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "tmux is not installed: the live view is tested in it (apt-get install tmux)"
        );
    }

    /// Starts `shell_command` in a detached 160x40 session in `dir`.
    fn start(dir: &Path, shell_command: &str) -> Tmux {
        Self::start_sized(dir, shell_command, 160)
    }

    /// The same, `columns` wide.
    fn start_sized(dir: &Path, shell_command: &str, columns: u16) -> Tmux {
        let name = format!(
            "rr-live-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let tmux = Tmux {
            socket: name.clone(),
            session: name,
        };
        let out = tmux
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                &tmux.session,
                "-x",
                &columns.to_string(),
                "-y",
                "40",
            ])
            .arg("-c")
            .arg(dir)
            .arg(shell_command)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            stderr(&out)
        );
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        // A private server without the user's config; never the caller's tmux.
        c.args(["-u", "-L", &self.socket, "-f", "/dev/null"])
            .env_remove("TMUX");
        c
    }

    fn screen(&self) -> String {
        let out: Output = self
            .cmd()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux capture-pane runs");
        stdout(&out)
    }

    /// Types keys into the pane, as a user would (`C-c` is Ctrl-C).
    fn send_keys(&self, keys: &str) {
        let out = self
            .cmd()
            .args(["send-keys", "-t", &self.session, keys])
            .output()
            .expect("tmux send-keys runs");
        assert!(out.status.success(), "send-keys failed: {}", stderr(&out));
    }

    /// Polls the screen (bounded) until `ready` holds; returns that screen.
    fn wait_for(&self, what: &str, secs: u64, ready: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut screen = String::new();
        while Instant::now() < end {
            screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out after {secs}s waiting for {what}; the screen:\n{screen}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// `'it''s'` → `'it'\''s'`: a word for `sh -c`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The runner as `Project::cmd()` sets it up, as one shell command line, then
/// a pause that keeps the pane (and the final screen) up.
fn runner_command(p: &Project, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut words: Vec<String> = [
        "env",
        "-u",
        "MAX_PARALLEL_AGENTS",
        "-u",
        "TASK_TIMEOUT",
        "-u",
        "DRY_RUN",
        "-u",
        "ROADMAP_FILE",
        "-u",
        "RUST_LOG",
        "-u",
        "NO_COLOR",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let state = p.tmp.path().join("agent-state");
    let fixed = [
        ("CLAUDE_BIN", fake_agent().display().to_string()),
        ("IS_SANDBOX", "1".to_string()),
        ("FAKE_AGENT_LOG", p.agent_log.display().to_string()),
        ("FAKE_AGENT_STATE_DIR", state.display().to_string()),
    ];
    for (k, v) in fixed
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(env.iter().copied())
    {
        words.push(sh_quote(&format!("{k}={v}")));
    }
    words.push(sh_quote(&bin().display().to_string()));
    words.extend(args.iter().map(|a| sh_quote(a)));
    format!("{}; sleep 30", words.join(" "))
}

/// A running task's row: spinner, id, title, `3s / 1h 00m`.
fn running_row(id: &str) -> Regex {
    Regex::new(&format!(r"(?m)\b{id}\b.*\d+s / 1h 00m")).unwrap()
}

#[test]
fn live_view_shows_running_and_queued_tasks_then_only_what_stays() {
    Tmux::require();
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: write notes/a1.txt hello\nFAKE: sleep 3"),
        ("A2", "FAKE: sleep 3"),
        ("A3", "FAKE: sleep 3"),
    ]));
    let tmux = Tmux::start(
        &p.dir,
        &runner_command(&p, &[], &["--max-parallel", "2", "--no-commit"]),
    );
    let (a1, a2, a3) = (running_row("A1"), running_row("A2"), running_row("A3"));
    let queued = Regex::new(r"(?m)^\s+A3 queued").unwrap();
    // The agent's latest activity ends A1's row.
    let a1_writes = Regex::new(r"(?m)\bA1\b.*\d+s / 1h 00m  Tool: Write \S*a1\.txt").unwrap();

    let mid = tmux.wait_for("A1 (writing) and A2 running, A3 queued", 30, |s| {
        a1_writes.is_match(s) && a2.is_match(s) && queued.is_match(s)
    });
    assert!(a1.is_match(&mid));
    assert!(
        mid.contains("Phase 1: Only · Group A (Parallel)"),
        "the header names the phase and group:\n{mid}"
    );
    assert!(mid.contains("3 tasks, 2 in parallel"), "{mid}");
    eprintln!("mid-run screen:\n{mid}");

    // A1 ends, A3 takes its slot.
    tmux.wait_for("A3 running", 30, |s| a3.is_match(s) && s.contains("✔ A1"));
    let last = tmux.wait_for("the summary", 60, |s| s.contains("Run complete"));
    for (id, row) in [("A1", &a1), ("A2", &a2), ("A3", &a3)] {
        assert!(!row.is_match(&last), "{id}'s running row is gone:\n{last}");
        assert!(
            last.contains(&format!("✔ {id} Task {id}")),
            "{id}'s permanent line stays:\n{last}"
        );
    }
    assert!(!last.contains("queued"), "{last}");
    assert!(
        !last.contains("Phase 1: Only · Group A"),
        "header gone:\n{last}"
    );
    assert!(
        Regex::new(r"(?m)^GROUP\s+TASK\s+OUTCOME")
            .unwrap()
            .is_match(&last),
        "the summary table:\n{last}"
    );
    assert!(last.contains("(3/3 tasks succeeded"), "{last}");
}

/// Ctrl-C typed in the terminal, as the user does: the tty echoes it and the
/// runner gets SIGINT. Nothing of the drawn rows may stay on the screen.
fn ctrl_c_leaves_no_stale_rows(columns: u16) {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: sleep 30"),
        ("A2", "FAKE: sleep 30"),
    ]));
    let tmux = Tmux::start_sized(&p.dir, &runner_command(&p, &[], &["--no-commit"]), columns);
    let (a1, a2) = (running_row("A1"), running_row("A2"));
    tmux.wait_for("A1 and A2 running", 30, |s| {
        a1.is_match(s) && a2.is_match(s)
    });
    tmux.send_keys("C-c");
    let last = tmux.wait_for("the summary", 60, |s| s.contains("Interrupted by SIGINT"));
    let lines: Vec<&str> = last.lines().collect();
    let stop = lines
        .iter()
        .position(|l| l.starts_with("■ stopping: signal received"))
        .unwrap_or_else(|| panic!("a stop line:\n{last}"));
    assert!(
        lines[..stop]
            .iter()
            .all(|l| l.starts_with("roadmap-runner ")),
        "above the stop line only the run's first line, no header or row:\n{last}"
    );
    assert!(!a1.is_match(&last) && !a2.is_match(&last), "{last}");
    assert!(!last.contains("Group A (Parallel)"), "header gone:\n{last}");
    assert!(!last.contains("^C"), "no echoed ^C in the drawing:\n{last}");
    assert!(last.contains("■ A1 Task A1"), "{last}");
    assert!(last.contains("■ A2 Task A2"), "{last}");
    assert!(last.contains("0 succeeded, 2 interrupted"), "{last}");
    assert!(
        last.contains("(0/2 tasks succeeded, 2 interrupted,"),
        "{last}"
    );
}

#[test]
fn ctrl_c_leaves_no_stale_rows_at_150_columns() {
    Tmux::require();
    ctrl_c_leaves_no_stale_rows(150);
}

#[test]
fn ctrl_c_leaves_no_stale_rows_at_200_columns() {
    Tmux::require();
    ctrl_c_leaves_no_stale_rows(200);
}

#[test]
fn a_dumb_terminal_gets_plain_lines() {
    Tmux::require();
    let p = Project::new(&roadmap_with_tasks(&[("A1", "FAKE: sleep 0.2")]));
    let tmux = Tmux::start(
        &p.dir,
        &runner_command(&p, &[("TERM", "dumb")], &["--no-commit"]),
    );
    let last = tmux.wait_for("the summary", 60, |s| s.contains("Run complete"));
    assert!(last.contains("[START] A1: Task A1"), "{last}");
    assert!(last.contains("[DONE] A1: Task A1"), "{last}");
}

#[test]
fn piped_stdout_never_gets_an_escape_code() {
    let p = Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: write notes/a1.txt hello\nFAKE: sleep 0.3"),
        ("A2", "FAKE: fail"),
    ]));
    // Everything that could ask for colour or a live view, except a terminal.
    let out = p
        .cmd()
        .args(["--no-commit"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runner starts");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("[DONE] A1"), "plain lines:\n{text}");
    assert!(text.contains("[FAIL] A2"), "plain lines:\n{text}");
    assert!(
        !out.stdout.contains(&0x1b),
        "no escape code on a pipe:\n{text:?}"
    );
}

/// A roadmap whose task A2 splits into a sub-roadmap of two groups; the
/// sub-task A1 runs for `sleep` seconds.
fn splitting_project(sleep: &str) -> Project {
    let sub = format!(
        "# Parts\n\n## Phase 1: Parts\n\n### Group A: First (Parallel)\n\n\
         - [ ] **A1**: Part one\n  FAKE: sleep {sleep}\n\
         - [ ] **A2**: Part two\n  FAKE: write part2.txt two\n\n\
         ### Group B: Second (Parallel, after A)\n\n\
         - [ ] **B1**: Part three\n  FAKE: write part3.txt three\n"
    );
    let (_, path) = tempfile::NamedTempFile::new().unwrap().keep().unwrap();
    std::fs::write(&path, sub).unwrap();
    Project::new(&roadmap_with_tasks(&[
        ("A1", "FAKE: write a1.txt done"),
        ("A2", &format!("FAKE: split {}", path.display())),
    ]))
}

#[test]
fn a_sub_roadmap_is_drawn_beneath_the_task_that_split() {
    Tmux::require();
    let p = splitting_project("4");
    let tmux = Tmux::start(&p.dir, &runner_command(&p, &[], &["--no-commit"]));
    // Under the header: the parent's row with its progress, the sub-group's
    // heading, its running row, all indented.
    let parent = Regex::new(r"(?m)^  ↳ A2 Task A2  split: 1/3 sub-tasks done").unwrap();
    let heading = Regex::new(r"(?m)^    Group 1:A:A2/1:A: First \(Parallel\)  2 tasks").unwrap();
    let sub_a1 = Regex::new(r"(?m)^    \S A1 +Part one +\d+s / 1h 00m").unwrap();
    let mid = tmux.wait_for("the sub-roadmap beneath A2", 30, |s| {
        parent.is_match(s) && heading.is_match(s) && sub_a1.is_match(s)
    });
    eprintln!("mid-run screen:\n{mid}");
    let at = |re: &Regex| re.find(&mid).unwrap().start();
    let header = mid
        .find("Phase 1: Only · Group A (Parallel)")
        .unwrap_or_else(|| panic!("the header stays the parent group's:\n{mid}"));
    assert!(
        header < at(&parent) && at(&parent) < at(&heading) && at(&heading) < at(&sub_a1),
        "{mid}"
    );
    // A sub-task's permanent line is indented as its row was.
    assert!(mid.contains("\n    ✔ A2 Part two"), "{mid}");
    assert!(
        !Regex::new(r"(?m)^Phase 1: Parts").unwrap().is_match(&mid),
        "no top-level header for the sub-group:\n{mid}"
    );

    let last = tmux.wait_for("the summary", 60, |s| s.contains("Run complete"));
    assert!(last.contains("\n    ✔ B1 Part three"), "{last}");
    assert!(!last.contains("↳ A2"), "the nested rows are gone:\n{last}");
}

#[test]
fn plain_lines_indent_a_sub_roadmap_beneath_its_task() {
    let p = splitting_project("0.2");
    let out = p.run(&["--no-commit"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // After the timestamp: `[TAG] text`.
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.get(20..).is_some_and(|l| l.starts_with(needle)))
            .unwrap_or_else(|| panic!("{needle:?} in:\n{text}"))
    };
    let first = at("[GROUP] A2 Task A2: split: 0/3 sub-tasks done");
    let group = at("[GROUP]   Phase 1 Group A:A2/1:A (First): 2 tasks");
    let done = at("[DONE]   A2: Part two succeeded");
    let second = at("[GROUP] A2 Task A2: split: 2/3 sub-tasks done");
    let b1 = at("[DONE]   B1: Part three succeeded");
    assert!(
        first < group && group < done && done < second && second < b1,
        "{text}"
    );
}
