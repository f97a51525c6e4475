//! `--isolation worktree` with the real binary, real git repositories, a
//! bare origin and the fake agent: separate checkouts, three-way merges,
//! conflicts resolved or reported, failed tasks leaving no trace, kill -9,
//! setup and links, and the gate on the merged tree.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A file of five lines that two tasks edit in different or the same places.
const SHARED: &str = "one\ntwo\nthree\nfour\nfive\n";

/// The project with `shared.txt` committed, `extra` in its config.
fn project(roadmap: &str, extra: &str) -> Project {
    let p = Project::with_config(roadmap, extra);
    p.write("shared.txt", SHARED);
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-q", "-m", "shared file"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    p
}

fn cache(p: &Project) -> PathBuf {
    p.tmp.path().join("cache")
}

/// The runner in worktree mode, its worktrees under the test's own cache.
fn run(p: &Project, args: &[&str]) -> Output {
    p.cmd()
        .env("XDG_CACHE_HOME", cache(p))
        .env("ROADMAP_ISOLATION", "worktree")
        .args(args)
        .output()
        .expect("runner starts")
}

/// `git worktree list` has only the project itself.
fn assert_no_worktrees(p: &Project) {
    let list = git(&p.dir, &["worktree", "list", "--porcelain"]);
    let trees: Vec<&str> = list
        .lines()
        .filter(|l| l.starts_with("worktree "))
        .collect();
    assert_eq!(trees.len(), 1, "{list}");
}

fn origin_file(p: &Project, path: &str) -> String {
    git(&p.origin, &["show", &format!("main:{path}")])
}

fn origin_files(p: &Project) -> Vec<String> {
    git(&p.origin, &["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn branches(p: &Project) -> Vec<String> {
    git(&p.dir, &["branch", "--format=%(refname:short)"])
        .lines()
        .map(str::to_string)
        .collect()
}

const GATE_BOTH_EDITS: &str = r#"[[gate.steps]]
name = "test"
command = "grep -qx ONE shared.txt && grep -qx FIVE shared.txt && test -f c.txt"
"#;

#[test]
fn three_agents_in_three_checkouts_merged_cleanly_and_gated_on_the_result() {
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: replace shared.txt one ONE"),
        ("A2", "FAKE: replace shared.txt five FIVE"),
        ("A3", "FAKE: write c.txt from A3"),
    ]);
    let p = project(&roadmap, GATE_BOTH_EDITS);
    let out = run(&p, &[]);
    assert_exit(&out, 0);

    // Three distinct cwds, none of them the project or inside it, all gone.
    let cwds: BTreeSet<String> = p
        .agent_starts()
        .iter()
        .map(|e| e["cwd"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cwds.len(), 3, "{cwds:?}");
    let project_dir = std::fs::canonicalize(&p.dir).unwrap();
    for cwd in &cwds {
        let cwd = Path::new(cwd);
        assert!(!cwd.starts_with(&project_dir), "{}", cwd.display());
        assert!(cwd.starts_with(std::fs::canonicalize(cache(&p)).unwrap()));
        assert!(!cwd.exists(), "{} is left behind", cwd.display());
    }
    assert_no_worktrees(&p);

    // Both edits of one file, and the third task's file, are in the pushed commit.
    assert_eq!(
        origin_file(&p, "shared.txt"),
        "ONE\ntwo\nthree\nfour\nFIVE\n"
    );
    assert_eq!(origin_file(&p, "c.txt"), "from A3\n");
    assert_eq!(p.git_status(), "");
    // The phase commit is pushed: the task branches are gone.
    assert_eq!(branches(&p), ["main"]);
    // The report lists each task's own files.
    let report = p.read("PHASE1-GROUP-A-STATUS.md");
    for (task, files) in [
        ("A1", "`shared.txt`"),
        ("A2", "`shared.txt`"),
        ("A3", "`c.txt`"),
    ] {
        let section = report.split(&format!("## {task}: ")).nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        assert!(
            section.contains(&format!("- **Files changed:** {files}\n")),
            "{task}: {section}"
        );
    }
}

#[test]
fn a_failed_task_leaves_no_trace_and_keeps_its_worktree_until_retried() {
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: write ok.txt fine"),
        ("A2", "FAKE: write junk.txt half done\nFAKE: fail"),
    ]);
    let p = project(&roadmap, "");
    let out = run(&p, &[]);
    assert_exit(&out, 1);
    // The failed task's file never reaches the project tree; the one that
    // succeeded was merged as it arrived. The group is not complete.
    assert!(!p.dir.join("junk.txt").exists());
    assert_eq!(p.read("ok.txt"), "fine\n");
    assert_eq!(integrated(&p), ["A1"]);
    assert_eq!(
        p.git_status(),
        "?? ok.txt\n?? status/\n",
        "the merged task's file and the runner's own"
    );
    assert!(!p.read("status/completed_tasks.txt").contains("PHASE_1:A"));
    // The failed task's worktree is kept, with its path in the summary.
    let kept = cache(&p).join("roadmap-runner/worktrees");
    let kept: Vec<PathBuf> = std::fs::read_dir(kept)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("1-A-A2"))
        .filter(|p| p.exists())
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        std::fs::read_to_string(kept[0].join("junk.txt")).unwrap(),
        "half done\n"
    );
    let text = stdout(&out);
    assert!(text.contains(&kept[0].display().to_string()), "{text}");

    // The retry starts clean from the base: the half-done file is gone.
    std::fs::write(
        p.dir.join("ROADMAP.md"),
        roadmap_with_tasks(&[
            ("A1", "FAKE: write ok.txt fine"),
            ("A2", "FAKE: write done.txt done"),
        ]),
    )
    .unwrap();
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    let mut ran = p.agent_task_ids();
    ran.sort();
    assert_eq!(ran, ["A1", "A2", "A2"], "only the failed task ran again");
    let files = origin_files(&p);
    assert!(files.contains(&"ok.txt".to_string()), "{files:?}");
    assert!(files.contains(&"done.txt".to_string()), "{files:?}");
    assert!(!files.contains(&"junk.txt".to_string()), "{files:?}");
    assert_no_worktrees(&p);
}

fn same_lines(extra_body: &str) -> String {
    roadmap_with_tasks(&[
        (
            "A1",
            &format!("FAKE: replace shared.txt three three-A1\n{extra_body}"),
        ),
        // A1 ends first, so its merge is the one made as it arrives.
        (
            "A2",
            &format!("FAKE: sleep 1.5\nFAKE: replace shared.txt three three-A2\n{extra_body}"),
        ),
    ])
}

#[test]
fn same_lines_are_merged_by_the_resolver_agent() {
    let p = project(&same_lines("FAKE: resolve union"), "");
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("A2 conflicts with A1 in shared.txt"),
        "{text}"
    );
    let merged = origin_file(&p, "shared.txt");
    assert_eq!(merged, "one\ntwo\nthree-A1\nthree-A2\nfour\nfive\n");
    // The resolver was the same agent command, in a checkout of its own.
    let resolver: Vec<_> = p
        .agent_starts()
        .into_iter()
        .filter(|e| e["role"] == "resolver")
        .collect();
    assert_eq!(resolver.len(), 1);
    assert!(!Path::new(resolver[0]["cwd"].as_str().unwrap()).exists());
    assert_no_worktrees(&p);
}

#[test]
fn a_resolver_that_leaves_markers_does_not_count() {
    let p = project(
        &same_lines("FAKE: resolve keep"),
        "[worktree]\nresolve_attempts = 2\n",
    );
    let out = run(&p, &[]);
    assert_exit(&out, 6);
    // The same markers twice: stopped after the second attempt.
    let resolvers = p
        .agent_starts()
        .iter()
        .filter(|e| e["role"] == "resolver")
        .count();
    assert_eq!(resolvers, 2);
    assert_eq!(p.read("shared.txt"), "one\ntwo\nthree-A1\nfour\nfive\n");
}

#[test]
fn same_lines_with_resolve_stop_name_the_file_and_keep_both_branches() {
    let p = project(&same_lines(""), "[worktree]\nresolve = \"stop\"\n");
    let out = run(&p, &[]);
    assert_exit(&out, 6);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("A2 and A1 changed the same lines of shared.txt"),
        "{text}"
    );
    // The tree is as before A2's merge: A1's change, no markers.
    assert_eq!(p.read("shared.txt"), "one\ntwo\nthree-A1\nfour\nfive\n");
    let b = branches(&p);
    assert!(b.contains(&"roadmap-runner/1-A-A1".to_string()), "{b:?}");
    assert!(b.contains(&"roadmap-runner/1-A-A2".to_string()), "{b:?}");
    assert!(!p.read("status/completed_tasks.txt").contains("PHASE_1:A"));

    // Resolved by hand as the message says, the next run goes on.
    let wt = cache(&p).join("roadmap-runner/worktrees");
    let wt = std::fs::read_dir(wt)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path()
        .join("1-A-A2");
    let merge = std::process::Command::new("git")
        .args(["merge", "-q", "refs/roadmap-runner/merged/1-A"])
        .current_dir(&wt)
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge conflicts");
    // A hand merge left half done is refused, never committed with its markers.
    let out = run(&p, &[]);
    assert_exit(&out, 6);
    assert!(
        stdout(&out).contains("a merge (or another git operation) is in progress"),
        "{}",
        stdout(&out)
    );
    assert_eq!(p.read("shared.txt"), "one\ntwo\nthree-A1\nfour\nfive\n");
    std::fs::write(
        wt.join("shared.txt"),
        "one\ntwo\nthree-A1-and-A2\nfour\nfive\n",
    )
    .unwrap();
    git(&wt, &["commit", "-q", "-am", "resolve A1 and A2"]);
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    assert_eq!(
        origin_file(&p, "shared.txt"),
        "one\ntwo\nthree-A1-and-A2\nfour\nfive\n"
    );
    assert_no_worktrees(&p);
}

/// The runner's `integrated` records, as task ids.
fn integrated(p: &Project) -> Vec<String> {
    p.read("status/tasks.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["kind"] == "integrated")
        .map(|r| r["task"].as_str().unwrap().to_string())
        .collect()
}

fn spawn(p: &Project) -> std::process::Child {
    p.cmd()
        .env("XDG_CACHE_HOME", cache(p))
        .env("ROADMAP_ISOLATION", "worktree")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("runner starts")
}

fn kill9(child: &mut std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
}

#[test]
fn kill_9_during_the_agents_then_plain_reruns_integrate_everything_once() {
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: write a1.txt A1\nFAKE: sleep 30"),
        ("A2", "FAKE: write a2.txt A2\nFAKE: sleep 30"),
        ("A3", "FAKE: write a3.txt A3\nFAKE: sleep 30"),
    ]);
    let p = project(&roadmap, "");
    let mut child = spawn(&p);
    wait_for("three agents", 20, || p.agent_starts().len() == 3);
    kill9(&mut child);
    // The reruns' agents do not sleep.
    p.write("ROADMAP.md", &roadmap.replace("FAKE: sleep 30", ""));
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    let mut once = integrated(&p);
    once.sort();
    assert_eq!(once, ["A1", "A2", "A3"]);
    for (f, text) in [("a1.txt", "A1\n"), ("a2.txt", "A2\n"), ("a3.txt", "A3\n")] {
        assert_eq!(origin_file(&p, f), text);
    }
    assert_no_worktrees(&p);
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    assert_eq!(integrated(&p).len(), 3, "nothing integrated twice");
}

#[test]
fn kill_9_during_an_integration_resumes_it_with_no_worktree_left() {
    // A1 is merged, then A2's resolver runs (and sleeps) when the runner dies.
    let p = project(
        &same_lines("FAKE: resolve sleep 30\nFAKE: resolve union"),
        "",
    );
    let mut child = spawn(&p);
    wait_for("the resolver, named in the in-progress file", 20, || {
        p.read("status/in_progress_tasks.txt")
            .contains("A2_resolve")
            && p.agent_starts().iter().any(|e| e["role"] == "resolver")
    });
    kill9(&mut child);
    let resolver = p
        .agent_starts()
        .into_iter()
        .find(|e| e["role"] == "resolver")
        .unwrap();
    assert_eq!(integrated(&p), ["A1"]);
    assert_eq!(p.read("shared.txt"), "one\ntwo\nthree-A1\nfour\nfive\n");
    p.write("ROADMAP.md", &same_lines("FAKE: resolve union"));
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    assert_eq!(integrated(&p), ["A1", "A2"], "A1 is not merged again");
    // The killed run's resolver was killed by the next run.
    assert!(!alive(resolver["pid"].as_i64().unwrap() as i32));
    assert_eq!(
        origin_file(&p, "shared.txt"),
        "one\ntwo\nthree-A1\nthree-A2\nfour\nfive\n"
    );
    assert_no_worktrees(&p);
}

#[test]
fn setup_runs_in_the_worktree_and_a_linked_node_modules_is_never_committed() {
    let roadmap = roadmap_with_tasks(&[("A1", "FAKE: write a.txt a")]);
    let config = "[worktree]\nsetup = [\"cp node_modules/dep/index.js from-setup.js\"]\nlink = [\"node_modules\"]\n";
    let p = project(&roadmap, config);
    // `node_modules/` (a trailing slash) ignores the directory, not a symlink.
    p.write(".gitignore", "/.fake-agent/\nnode_modules/\n");
    git(&p.dir, &["commit", "-q", "-am", "ignore node_modules"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    p.write("node_modules/dep/index.js", "module.exports = 1;\n");
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    assert_eq!(origin_file(&p, "from-setup.js"), "module.exports = 1;\n");
    let files = origin_files(&p);
    assert!(files.contains(&"a.txt".to_string()), "{files:?}");
    assert!(
        !files.iter().any(|f| f.starts_with("node_modules")),
        "{files:?}"
    );
    // The project's own node_modules is untouched (a directory, not a link).
    assert!(
        std::fs::symlink_metadata(p.dir.join("node_modules"))
            .unwrap()
            .is_dir()
    );
    assert_no_worktrees(&p);
}

#[test]
fn a_setup_failure_is_reported_as_such_and_no_agent_starts() {
    let roadmap = roadmap_with_tasks(&[("A1", "FAKE: write a.txt a")]);
    let p = project(
        &roadmap,
        "[worktree]\nsetup = [\"echo installing; exit 3\"]\n",
    );
    let out = run(&p, &[]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("setup failed: `echo installing; exit 3` exited with 3"),
        "{text}"
    );
    assert!(p.agent_starts().is_empty());
}

#[test]
fn each_worktree_of_a_cargo_project_gets_its_own_target_dir() {
    let roadmap =
        roadmap_with_tasks(&[("A1", "FAKE: write a.txt a"), ("A2", "FAKE: write b.txt b")]);
    let p = project(&roadmap, "[gate]\nenabled = false\n");
    p.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
    );
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-q", "-m", "cargo"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    let out = p
        .cmd()
        .env("XDG_CACHE_HOME", cache(&p))
        .env("CARGO_TARGET_DIR", "/shared/target")
        .args(["--isolation", "worktree"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let dirs: BTreeSet<String> = p
        .agent_starts()
        .iter()
        .map(|e| e["cargo_target_dir"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for e in p.agent_starts() {
        let d = Path::new(e["cargo_target_dir"].as_str().unwrap());
        assert_ne!(d, Path::new("/shared/target"));
        assert!(
            !d.starts_with(e["cwd"].as_str().unwrap()),
            "outside the worktree: {d:?}"
        );
        assert!(!d.exists(), "removed with its worktree: {d:?}");
    }
}

#[test]
fn status_lists_worktrees_and_clean_keeps_pending_ones_and_archives_unique_work() {
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: write ok.txt fine"),
        ("A2", "FAKE: write junk.txt half done\nFAKE: fail"),
    ]);
    let p = project(&roadmap, "");
    assert_exit(&run(&p, &[]), 1);
    let status = |p: &Project| {
        let out = p
            .cmd()
            .env("XDG_CACHE_HOME", cache(p))
            .arg("status")
            .output()
            .unwrap();
        stdout(&out)
    };
    let text = status(&p);
    assert!(text.contains("Worktrees: 2, "), "{text}");
    assert!(text.contains("  1-A-A2  "), "{text}");
    let clean = |p: &Project| {
        let out = p
            .cmd()
            .env("XDG_CACHE_HOME", cache(p))
            .arg("clean")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        stdout(&out)
    };
    // The group is pending: its worktrees are kept.
    assert_eq!(clean(&p), "nothing to clean\n");
    assert_eq!(git(&p.dir, &["worktree", "list"]).lines().count(), 3);

    // Skipped by hand, they are stale: removed, their work kept under archive refs.
    assert_exit(&p.run(&["skip", "1:A"]), 0);
    let text = clean(&p);
    assert!(
        text.contains("saved the uncommitted changes of 1-A-A2"),
        "{text}"
    );
    assert!(
        text.contains("kept roadmap-runner/1-A-A2 as refs/roadmap-runner/archive/1-A-A2-"),
        "{text}"
    );
    assert_no_worktrees(&p);
    assert_eq!(branches(&p), ["main"]);
    let archive = git(
        &p.dir,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/roadmap-runner/archive/",
        ],
    );
    let a2 = archive.lines().find(|r| r.contains("1-A-A2-")).unwrap();
    assert_eq!(
        git(&p.dir, &["show", &format!("{a2}:junk.txt")]),
        "half done\n"
    );
    assert!(!status(&p).contains("Worktrees:"));
}

#[test]
fn a_later_group_starts_from_the_earlier_groups_uncommitted_work() {
    let roadmap = "# T\n\n## Phase 1: Only\n\n### Group A\n\n#### A1: First\n\nFAKE: write notes.txt from A\n\n\
                   ### Group B\n\n#### B1: Second\n\nFAKE: append notes.txt from B\n";
    let gate = "[[gate.steps]]\nname = \"test\"\ncommand = \"test -f fixed-by-hand.txt\"\n";
    let p = project(roadmap, gate);
    // The gate fails on Group A's merged tree; fixed by hand, only the gate reruns.
    let out = run(&p, &[]);
    assert_exit(&out, 2);
    assert_eq!(p.read("notes.txt"), "from A\n");
    p.write("fixed-by-hand.txt", "ok\n");
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    assert_eq!(origin_file(&p, "notes.txt"), "from A\nfrom B\n");
    assert_eq!(integrated(&p), ["A1", "B1"], "each task merged once");
    assert_no_worktrees(&p);
}

#[test]
fn a_dry_run_names_the_worktree_root_and_makes_nothing() {
    let p = project(&roadmap_with_tasks(&[("A1", "FAKE: write a.txt a")]), "");
    let out = run(&p, &["--dry-run"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let root = cache(&p).join("roadmap-runner/worktrees");
    assert!(
        text.contains(&format!(
            "Isolation: each task in its own git worktree under {}",
            root.display()
        )),
        "{text}"
    );
    assert!(!root.exists());
    assert_no_worktrees(&p);
}

#[test]
fn worktree_mode_needs_a_git_repository() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("ROADMAP.md"),
        roadmap_with_tasks(&[("A1", "x")]),
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .current_dir(tmp.path())
        .env("CLAUDE_BIN", fake_agent())
        .env("IS_SANDBOX", "1")
        .args(["--isolation", "worktree", "--no-commit"])
        .output()
        .unwrap();
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("--isolation worktree needs a git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_run_killed_while_writing_a_merge_writes_the_same_result_again() {
    use roadmap_runner::roadmap::GroupKey;
    use roadmap_runner::status::{IntegrationRecord, StatusDir, Store};
    use roadmap_runner::worktree::{self, Worktrees};
    let roadmap =
        roadmap_with_tasks(&[("A1", "FAKE: write a.txt a"), ("A2", "FAKE: write b.txt b")]);
    let p = project(&roadmap, "");
    let root = p.tmp.path().join("wts");
    let config = format!(
        "[run]\ngrace_period = 1\n[worktree]\ndir = \"{}\"\n",
        root.display()
    );
    p.write("roadmap-runner.toml", &config);
    // Both tasks run alone (`--task` integrates nothing): worktrees and records.
    for t in ["1:A:A1", "1:A:A2"] {
        assert_exit(&run(&p, &["--task", t, "--allow-dirty"]), 0);
    }
    // The state of a run killed mid-write: `integrating` recorded, the tree half written.
    let repo = roadmap_runner::vcs::Repo::open(&p.dir).unwrap();
    let file = roadmap_runner::config::FileConfig::load(&p.dir).unwrap().0;
    let settings = roadmap_runner::config::Settings::resolve(&file, &Default::default()).unwrap();
    let wts = Worktrees::new(&p.dir, repo.workdir(), &settings.worktree);
    let key = GroupKey::new(1, "A");
    let commit = worktree::commit_task(&wts, &key, "A1", "A1: Task A1").unwrap();
    let merged = worktree::merge_task(&repo, &wts, &key, commit, "A1: Task A1")
        .unwrap()
        .unwrap();
    let status = StatusDir::new(&p.dir);
    Store::new(&status)
        .integrating(&IntegrationRecord {
            phase: 1.into(),
            group: "A".into(),
            task: "A1".into(),
            commit: commit.to_string(),
            from: merged.from.to_string(),
            to: merged.to.to_string(),
            files: vec!["a.txt".into()],
            at: chrono::Utc::now(),
        })
        .unwrap();
    p.write("a.txt", "half writ");

    let out = run(&p, &[]);
    assert_exit(&out, 0);
    assert_eq!(origin_file(&p, "a.txt"), "a\n");
    assert_eq!(origin_file(&p, "b.txt"), "b\n");
    assert_eq!(integrated(&p), ["A1", "A2"]);
    assert_no_worktrees(&p);
}

#[test]
fn worktrees_left_by_an_earlier_run_are_merged_even_when_the_rerun_is_shared() {
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: write ok.txt fine"),
        ("A2", "FAKE: write bad.txt x\nFAKE: fail"),
    ]);
    let gate =
        "[[gate.steps]]\nname = \"test\"\ncommand = \"test -f ok.txt && test -f fixed.txt\"\n";
    let p = project(&roadmap, gate);
    assert_exit(&run(&p, &[]), 1);
    // The rerun forgets --isolation: A1's work is still merged before the gate.
    p.write(
        "ROADMAP.md",
        &roadmap_with_tasks(&[
            ("A1", "FAKE: write ok.txt fine"),
            ("A2", "FAKE: write fixed.txt y"),
        ]),
    );
    let out = p.cmd().env("XDG_CACHE_HOME", cache(&p)).output().unwrap();
    assert_exit(&out, 0);
    // The group keeps the isolation it began with: A2 runs in a worktree too.
    assert!(
        stdout(&out).contains("PHASE_1:A: begun with --isolation worktree in an earlier run"),
        "{}",
        stdout(&out)
    );
    assert_eq!(origin_file(&p, "ok.txt"), "fine\n");
    assert!(!origin_files(&p).contains(&"bad.txt".to_string()));
    assert_no_worktrees(&p);
}

#[test]
fn a_group_begun_in_worktrees_is_finished_in_worktrees_when_the_rerun_lacks_the_flag() {
    let roadmap = |body: &str| {
        format!(
            "{}### Group B (Parallel)\n\n#### B1: Task B1\n\nFAKE: write b1.txt B1\n",
            roadmap_with_tasks(&[
                ("A1", &format!("FAKE: write a1.txt A1\n{body}")),
                ("A2", &format!("FAKE: write a2.txt A2\n{body}")),
            ])
        )
    };
    let p = project(&roadmap("FAKE: sleep 30"), "");
    let mut child = spawn(&p);
    wait_for("two agents", 20, || p.agent_starts().len() == 2);
    kill9(&mut child);
    p.write("ROADMAP.md", &roadmap(""));
    // The rerun forgets --isolation worktree.
    let out = p.cmd().env("XDG_CACHE_HOME", cache(&p)).output().unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("PHASE_1:A: begun with --isolation worktree in an earlier run"),
        "{text}"
    );
    assert!(text.contains("A1 works in its own worktree"), "{text}");
    assert!(
        text.contains("A2's worktree merged into the project tree (1 file)"),
        "{text}"
    );
    let cwd = |task: &str| {
        p.agent_starts()
            .into_iter()
            .filter(|e| e["task"] == task)
            .map(|e| e["cwd"].as_str().unwrap().to_string())
            .next_back()
            .unwrap()
    };
    let project_dir = p.dir.canonicalize().unwrap();
    for task in ["A1", "A2"] {
        assert_ne!(
            Path::new(&cwd(task)),
            project_dir,
            "{task} ran in the shared tree"
        );
    }
    let mut once = integrated(&p);
    once.sort();
    assert_eq!(once, ["A1", "A2"]);
    // The next group runs as this run says: in the shared tree.
    assert_eq!(Path::new(&cwd("B1")), project_dir);
    for (f, t) in [("a1.txt", "A1\n"), ("a2.txt", "A2\n"), ("b1.txt", "B1\n")] {
        assert_eq!(origin_file(&p, f), t);
    }
    assert_no_worktrees(&p);
}

/// Edits of one file in different lines (A1, A2, A4) and of files of their
/// own (A3, A4): none of them conflict, so any order merges to one tree.
/// `sleeps` set when each ends.
fn overlapping_and_disjoint(sleeps: [&str; 4]) -> String {
    roadmap_with_tasks(&[
        (
            "A1",
            &format!(
                "FAKE: sleep {}\nFAKE: replace shared.txt one ONE",
                sleeps[0]
            ),
        ),
        (
            "A2",
            &format!(
                "FAKE: sleep {}\nFAKE: replace shared.txt five FIVE",
                sleeps[1]
            ),
        ),
        (
            "A3",
            &format!("FAKE: sleep {}\nFAKE: write c.txt from A3", sleeps[2]),
        ),
        (
            "A4",
            &format!(
                "FAKE: sleep {}\nFAKE: replace shared.txt three THREE\nFAKE: write d.txt from A4",
                sleeps[3]
            ),
        ),
    ])
}

/// What the tasks of [`overlapping_and_disjoint`] leave on the remote.
fn task_files_on_origin(p: &Project) -> Vec<(String, String)> {
    ["shared.txt", "c.txt", "d.txt"]
        .iter()
        .map(|f| (f.to_string(), origin_file(p, f)))
        .collect()
}

/// The runner's records of one kind, as JSON, in file order.
fn records_of(p: &Project, kind: &str) -> Vec<serde_json::Value> {
    p.read("status/tasks.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["kind"] == kind)
        .collect()
}

#[test]
fn merges_as_results_arrive_give_the_tree_of_merges_at_the_end() {
    let expected = [
        ("shared.txt", "ONE\ntwo\nTHREE\nfour\nFIVE\n"),
        ("c.txt", "from A3\n"),
        ("d.txt", "from A4\n"),
    ]
    .map(|(f, t)| (f.to_string(), t.to_string()));
    // Merged at the end: each task run alone first (`--task` merges nothing).
    let roadmap = overlapping_and_disjoint(["0", "0", "0", "0"]);
    let at_end = project(&roadmap, "");
    for t in ["1:A:A1", "1:A:A2", "1:A:A3", "1:A:A4"] {
        assert_exit(&run(&at_end, &["--task", t, "--allow-dirty"]), 0);
    }
    assert!(integrated(&at_end).is_empty());
    assert_exit(&run(&at_end, &[]), 0);
    assert_eq!(task_files_on_origin(&at_end), expected);

    // Merged as they arrive, in two finishing orders.
    for sleeps in [["0", "1", "2", "3"], ["3", "2", "1", "0"]] {
        let p = project(&overlapping_and_disjoint(sleeps), "");
        assert_exit(&run(&p, &[]), 0);
        assert_eq!(task_files_on_origin(&p), expected, "{sleeps:?}");
        // The first merge was made while the last agent still ran.
        let first_merged = records_of(&p, "integrated")[0]["at"]
            .as_str()
            .unwrap()
            .to_string();
        let last_finished = records_of(&p, "task")
            .iter()
            .map(|r| r["finished_at"].as_str().unwrap().to_string())
            .max()
            .unwrap();
        assert!(
            first_merged < last_finished,
            "{first_merged} {last_finished}"
        );
        let once = integrated(&p);
        // In the order the tasks ended.
        let want = if sleeps[0] == "0" {
            ["A1", "A2", "A3", "A4"]
        } else {
            ["A4", "A3", "A2", "A1"]
        };
        assert_eq!(once, want);
        assert_no_worktrees(&p);
    }
}

#[test]
fn a_kill_between_two_merges_resumes_to_the_same_result() {
    let roadmap = overlapping_and_disjoint(["0", "1.5", "1.5", "1.5"]);
    let p = project(&roadmap, "");
    // SIGKILL right after the first merge is recorded, the others running.
    let out = p
        .cmd()
        .env("XDG_CACHE_HOME", cache(&p))
        .env("ROADMAP_ISOLATION", "worktree")
        .env("ROADMAP_RUNNER_CRASH_AT", "integrated:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed: {}", stdout(&out));
    assert_eq!(integrated(&p), ["A1"]);
    assert_eq!(p.read("shared.txt"), "ONE\ntwo\nthree\nfour\nfive\n");
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    let mut once = integrated(&p);
    once.sort();
    assert_eq!(once, ["A1", "A2", "A3", "A4"], "A1 is not merged again");
    assert_eq!(
        origin_file(&p, "shared.txt"),
        "ONE\ntwo\nTHREE\nfour\nFIVE\n"
    );
    assert_eq!(origin_file(&p, "c.txt"), "from A3\n");
    assert_eq!(origin_file(&p, "d.txt"), "from A4\n");
    assert_no_worktrees(&p);
}

#[test]
fn a_conflict_in_the_middle_is_handled_as_at_the_end() {
    // A1 merges as it arrives, A2 conflicts with it while A3 still runs.
    let roadmap = |resolve: &str| {
        roadmap_with_tasks(&[
            (
                "A1",
                &format!("FAKE: replace shared.txt three three-A1\n{resolve}"),
            ),
            (
                "A2",
                &format!("FAKE: sleep 1\nFAKE: replace shared.txt three three-A2\n{resolve}"),
            ),
            (
                "A3",
                &format!("FAKE: sleep 3\nFAKE: write c.txt from A3\n{resolve}"),
            ),
        ])
    };
    let p = project(&roadmap(""), "[worktree]\nresolve = \"stop\"\n");
    let out = run(&p, &[]);
    assert_exit(&out, 6);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("A2 and A1 changed the same lines of shared.txt"),
        "{text}"
    );
    // As when every merge waited for the end: A1 in, A2 and A3 not.
    assert_eq!(integrated(&p), ["A1"]);
    assert_eq!(p.read("shared.txt"), "one\ntwo\nthree-A1\nfour\nfive\n");
    assert!(!p.dir.join("c.txt").exists());

    // With the resolver agent: A2 resolved, then A3, before the gate.
    let p = project(&roadmap("FAKE: resolve union"), "");
    let out = run(&p, &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("A2 conflicts with A1 in shared.txt"));
    assert_eq!(integrated(&p), ["A1", "A2", "A3"]);
    assert_eq!(
        origin_file(&p, "shared.txt"),
        "one\ntwo\nthree-A1\nthree-A2\nfour\nfive\n"
    );
    assert_eq!(origin_file(&p, "c.txt"), "from A3\n");
    assert_no_worktrees(&p);
}
