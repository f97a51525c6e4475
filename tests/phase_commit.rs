//! What a phase commit holds: the tasks' work, never what the user changed
//! by hand between runs; never the transient status files. With the real
//! binary, the fake agent, real git repositories and a bare origin (served
//! by `git daemon` where a push must run the remote's hooks), real SIGKILLs.

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Output, Stdio};

/// Phase 1: Group A writes `src/a.txt`; Group B writes `src/b.txt` (and
/// fails while `fail` is set).
fn roadmap(fail: bool) -> String {
    let b = if fail { "\n  - FAKE: fail" } else { "" };
    format!(
        "# T\n\n## Phase 1: Only\n\n### Group A\n\n- A1: First\n  - FAKE: write src/a.txt a\n\n\
         ### Group B\n\n- B1: Second\n  - FAKE: write src/b.txt b{b}\n"
    )
}

/// A project with a tracked `src/index.js` whose Group B failed once.
fn after_a_failed_group() -> Project {
    let p = Project::new(&roadmap(true));
    p.write("src/index.js", "original\n");
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-qm", "index"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    assert_exit(&p.run(&[]), 1);
    p
}

/// The user's own work between two runs: a new file, a hand edit, and the
/// cause of the failure taken out of the roadmap.
fn user_edits(p: &Project) {
    p.write("mynotes.txt", "private notes\n");
    p.write("src/index.js", "edited by hand\n");
    p.write("ROADMAP.md", &roadmap(false));
}

fn files_at(dir: &Path, rev: &str) -> Vec<String> {
    git(dir, &["ls-tree", "-r", "--name-only", rev])
        .lines()
        .map(str::to_string)
        .collect()
}

fn show(dir: &Path, rev: &str, path: &str) -> String {
    git(dir, &["show", &format!("{rev}:{path}")])
}

fn warn_lines(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| l.contains("left out of the phase commit"))
        .map(str::to_string)
        .collect()
}

#[test]
fn changes_made_by_hand_between_runs_stay_out_of_the_commit_named_and_untouched() {
    let p = after_a_failed_group();
    user_edits(&p);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    let warned = warn_lines(&out);
    assert_eq!(warned.len(), 1, "{}", stdout(&out));
    assert!(
        warned[0].contains(
            "[WARN] left out of the phase commit: mynotes.txt, src/index.js (changed by hand since the last run)"
        ),
        "{}",
        warned[0]
    );
    assert!(warned[0].contains("--allow-dirty"), "{}", warned[0]);
    assert_eq!(p.origin_log()[0], "Complete Phase 1: Only");
    let pushed = files_at(&p.origin, "main");
    assert!(!pushed.iter().any(|f| f == "mynotes.txt"), "{pushed:?}");
    assert_eq!(show(&p.origin, "main", "src/index.js"), "original\n");
    // The tasks' work and the roadmap the phase ran with are in.
    assert_eq!(show(&p.origin, "main", "src/a.txt"), "a\n");
    assert_eq!(show(&p.origin, "main", "src/b.txt"), "b\n");
    assert_eq!(show(&p.origin, "main", "ROADMAP.md"), roadmap(false));
    // The user's changes are where they were, as they were.
    assert_eq!(p.read("mynotes.txt"), "private notes\n");
    assert_eq!(p.read("src/index.js"), "edited by hand\n");
    assert_eq!(p.git_status(), " M src/index.js\n?? mynotes.txt\n");
}

#[test]
fn allow_dirty_takes_the_changes_made_by_hand_in() {
    let p = after_a_failed_group();
    user_edits(&p);
    let out = p.run(&["--allow-dirty"]);
    assert_exit(&out, 0);
    assert!(warn_lines(&out).is_empty(), "{}", stdout(&out));
    assert_eq!(show(&p.origin, "main", "mynotes.txt"), "private notes\n");
    assert_eq!(show(&p.origin, "main", "src/index.js"), "edited by hand\n");
    assert_eq!(p.git_status(), "");
}

#[test]
fn a_killed_groups_partial_work_is_committed_and_the_users_changes_still_left_out() {
    let p = after_a_failed_group();
    p.write("mynotes.txt", "private notes\n");
    // Group B again: it writes part of its work, then hangs; killed there.
    p.write(
        "ROADMAP.md",
        &roadmap(false).replace(
            "write src/b.txt b",
            "write src/partial.txt half\n  - FAKE: hang",
        ),
    );
    let mut runner = p
        .cmd()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("B1's partial work", 30, || {
        p.dir.join("src/partial.txt").exists()
    });
    kill9(&mut runner);
    p.write("ROADMAP.md", &roadmap(false));

    let out = p.run(&[]);
    assert_exit(&out, 0);
    let warned = warn_lines(&out);
    assert_eq!(warned.len(), 1, "{}", stdout(&out));
    assert!(
        warned[0].contains("left out of the phase commit: mynotes.txt (changed by hand"),
        "{}",
        warned[0]
    );
    let pushed = files_at(&p.origin, "main");
    assert!(pushed.iter().any(|f| f == "src/partial.txt"), "{pushed:?}");
    assert!(!pushed.iter().any(|f| f == "mynotes.txt"), "{pushed:?}");
    assert_eq!(show(&p.origin, "main", "src/b.txt"), "b\n");
    assert_eq!(p.read("mynotes.txt"), "private notes\n");
    assert_eq!(p.git_status(), "?? mynotes.txt\n");
}

#[test]
fn the_transient_status_files_are_never_committed() {
    let p = Project::new(&roadmap(false));
    assert_exit(&p.run(&[]), 0);
    let pushed = files_at(&p.origin, "main");
    for transient in ["status/in_progress_tasks.txt", "status/pending_tasks.txt"] {
        assert!(!pushed.iter().any(|f| f == transient), "{pushed:?}");
    }
    for shared in [
        "status/completed_tasks.txt",
        "status/tasks.jsonl",
        "PHASE1-GROUP-A-STATUS.md",
        "PHASE1-GROUP-B-STATUS.md",
    ] {
        assert!(pushed.iter().any(|f| f == shared), "{shared}: {pushed:?}");
    }
    // The phase commit holds its own `commit` record.
    assert!(show(&p.origin, "main", "status/tasks.jsonl").contains("\"kind\":\"commit\""));
    assert!(p.dir.join("status/pending_tasks.txt").exists());
    assert_eq!(p.git_status(), "");
}

#[test]
fn a_repository_without_a_remote_commits_and_exits_0() {
    let p = Project::new(&roadmap(false));
    git(&p.dir, &["remote", "remove", "origin"]);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(
        text.matches("no remote `origin`: phases are committed, not pushed")
            .count(),
        1,
        "{text}"
    );
    assert!(!text.contains("did not make"), "{text}");
    let log = git(&p.dir, &["log", "--format=%s", "main"]);
    assert!(log.starts_with("Complete Phase 1: Only\n"), "{log}");
    assert_eq!(p.git_status(), "");
}

#[test]
fn a_remote_that_cannot_be_reached_still_exits_3() {
    let p = Project::new(&roadmap(false));
    let gone = p.tmp.path().join("gone.git");
    git(
        &p.dir,
        &["remote", "set-url", "origin", gone.to_str().unwrap()],
    );
    let out = p.run(&[]);
    assert_exit(&out, 3);
    assert!(!stdout(&out).contains("no remote"), "{}", stdout(&out));
}

#[test]
fn a_group_skipped_by_hand_is_marked_skipped_in_the_commit_message() {
    let p = Project::new(&roadmap(false).replace("### Group B", "### Group B: Hand skip"));
    assert_exit(&p.run(&["skip", "1:B"]), 0);
    assert_exit(&p.run(&[]), 0);
    let body = git(&p.origin, &["log", "-1", "--format=%B", "main"]);
    assert!(
        body.contains("Group B: Hand skip [skipped by hand: not run]\n- B1: Second\n"),
        "{body}"
    );
    assert!(body.contains("Group A\n- A1: First\n"), "{body}");
    assert_eq!(p.agent_task_ids(), ["A1"]);
}

// ------------------------------------------------------- kills during a push

fn kill9(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Runner refs (task branches, base and merged states) in `dir`.
fn runner_refs(dir: &Path) -> String {
    git(
        dir,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/roadmap-runner/",
            "refs/heads/roadmap-runner/",
        ],
    )
}

/// Worktree mode, killed right after the last phase's push went out.
fn killed_after_the_last_push() -> Project {
    let p = Project::new(&roadmap(false));
    let status = p
        .cmd()
        .env("XDG_CACHE_HOME", p.tmp.path().join("cache"))
        .env("ROADMAP_RUNNER_CRASH_AT", "pushed")
        .args(["--isolation", "worktree"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "the run did not reach its push");
    assert_eq!(p.origin_log()[0], "Complete Phase 1: Only");
    assert_ne!(runner_refs(&p.dir), "", "the killed run left its refs");
    p
}

#[test]
fn a_kill_after_the_last_push_leaves_no_runner_ref_after_the_rerun() {
    let p = killed_after_the_last_push();
    let out = p
        .cmd()
        .env("XDG_CACHE_HOME", p.tmp.path().join("cache"))
        .args(["--isolation", "worktree"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(runner_refs(&p.dir), "");
    assert_eq!(runner_refs(&p.origin), "");
}

#[test]
fn clean_removes_the_refs_of_a_committed_phase() {
    let p = killed_after_the_last_push();
    let out = p
        .cmd()
        .env("XDG_CACHE_HOME", p.tmp.path().join("cache"))
        .arg("clean")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("committed Phase 1"),
        "{}",
        stdout(&out)
    );
    assert_eq!(runner_refs(&p.dir), "");
}

/// `git daemon` serving the test's temp dir on loopback (pushes allowed),
/// so a push runs the bare origin's hooks; killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(p: &Project) -> (Daemon, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = p.tmp.path();
    // `git-daemon` itself, not the `git` wrapper: killing the wrapper would
    // leave the daemon running.
    let exec_path = git(base, &["--exec-path"]);
    let child = std::process::Command::new(Path::new(exec_path.trim()).join("git-daemon"))
        .args([
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            &format!("--base-path={}", base.display()),
            &base.display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon starts");
    let daemon = Daemon(child);
    wait_for("git daemon", 20, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (daemon, format!("git://127.0.0.1:{port}/origin.git"))
}

/// The origin's pre-receive hook: the first push waits until a later one
/// lets it go; a later one lets it go, then waits until it moved the branch
/// (so the later push finds the branch moved under it).
fn install_hook(p: &Project) {
    let marks = p.tmp.path().join("hook-marks");
    std::fs::create_dir_all(&marks).unwrap();
    let m = marks.display();
    let hook = format!(
        "#!/bin/sh\n\
         read old new ref\n\
         if [ ! -e {m}/first ]; then\n\
           touch {m}/first\n\
           i=0; while [ ! -e {m}/release ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n\
         else\n\
           touch {m}/release\n\
           i=0; while [ \"$(git rev-parse $ref)\" = \"$old\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n\
         fi\n\
         exit 0\n"
    );
    let path = p.origin.join("hooks/pre-receive");
    std::fs::write(&path, hook).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    // No keepalive packets to the killed client while the hook runs.
    git(&p.origin, &["config", "receive.keepAlive", "0"]);
}

#[test]
fn a_push_killed_while_the_server_completes_it_is_done_on_the_rerun() {
    let p = Project::new(&roadmap(false));
    let (_daemon, url) = serve(&p);
    git(&p.dir, &["remote", "set-url", "origin", &url]);
    install_hook(&p);
    let mut runner = p
        .cmd()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = p.tmp.path().join("hook-marks/first");
    wait_for("the push to reach the server's hook", 60, || first.exists());
    kill9(&mut runner);

    let out = p.run(&[]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("already holds") && text.contains("nothing is left to push"),
        "{text}"
    );
    assert!(!text.contains("git pull --rebase"), "{text}");
    let local = git(&p.dir, &["rev-parse", "main"]);
    assert_eq!(git(&p.origin, &["rev-parse", "main"]), local);
    assert_eq!(p.origin_log()[0], "Complete Phase 1: Only");
}
