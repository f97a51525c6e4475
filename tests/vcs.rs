//! git through git2, on real repositories in temp dirs; a bare repository on
//! a file path plays `origin`. The git CLI is used only to set up and check.

mod common;

use roadmap_runner::config::{Diverged, GitSettings, PushForeign};
use roadmap_runner::events::{Event, Reporter};
use roadmap_runner::roadmap::model::{Group, Phase, Span, Task};
use roadmap_runner::vcs::{RUNNER_FILES, Repo, VcsError, commit_message};
use std::path::Path;
use std::process::Command;
use std::sync::Once;
use tempfile::TempDir;

/// Neither git2 nor the git CLI may see the developer's own git config
/// (identity, signing, hooks, default branch).
fn isolate() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let empty = std::env::temp_dir().join("roadmap-runner-test-empty-gitconfig-dir");
        std::fs::create_dir_all(&empty).unwrap();
        for level in [
            git2::ConfigLevel::System,
            git2::ConfigLevel::XDG,
            git2::ConfigLevel::Global,
        ] {
            // SAFETY: called once, before any test of this binary uses git2.
            unsafe { git2::opts::set_search_path(level, &empty).unwrap() };
        }
    });
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("git CLI");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn identity(dir: &Path) {
    git(dir, &["config", "user.name", "Roadmap Tester"]);
    git(dir, &["config", "user.email", "tester@example.com"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

/// An empty repository on `main` with an identity.
fn new_repo() -> TempDir {
    isolate();
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    identity(tmp.path());
    tmp
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A repository with one commit: README.md, src/lib.rs, .gitignore (target/).
fn repo_with_commit() -> TempDir {
    let tmp = new_repo();
    let d = tmp.path();
    write(d, "README.md", "# project\n");
    write(d, "src/lib.rs", "pub fn f() {}\n");
    write(d, ".gitignore", "target/\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "Initial commit"]);
    tmp
}

fn task(id: &str, title: &str) -> Task {
    Task {
        id: id.into(),
        title: title.into(),
        fields: vec![],
        body: String::new(),
        done_in_roadmap: false,
        done_mark: None,
        optional: false,
        derived_id: false,
        span: Span::default(),
    }
}

fn group(id: &str, title: &str, annotation: Option<&str>, tasks: Vec<Task>) -> Group {
    Group {
        id: id.into(),
        title: title.into(),
        annotation: annotation.map(Into::into),
        after: vec![],
        context: String::new(),
        tasks,
        derived_id: false,
        span: Span::default(),
    }
}

fn phase(number: u32) -> Phase {
    Phase {
        number: number.into(),
        title: "Foundation Layer".into(),
        annotation: None,
        context: String::new(),
        groups: vec![
            group(
                "A",
                "Database",
                Some("Parallel"),
                vec![task("A1", "Schema"), task("A2", "Migrations")],
            ),
            group(
                "B",
                "API",
                Some("Parallel, after A"),
                vec![task("B1", "REST endpoints")],
            ),
        ],
        done_in_roadmap: false,
        span: Span::default(),
    }
}

fn settings() -> GitSettings {
    GitSettings::default()
}

/// A bare repository to push to, added as `origin` of `repo`.
fn add_origin(repo: &Path) -> TempDir {
    let bare = tempfile::tempdir().unwrap();
    git(bare.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(
        repo,
        &["remote", "add", "origin", bare.path().to_str().unwrap()],
    );
    bare
}

fn head(dir: &Path) -> String {
    git(dir, &["rev-parse", "HEAD"])
}

// ------------------------------------------------------------------- open

#[test]
fn open_outside_a_repository_says_to_git_init() {
    isolate();
    let tmp = tempfile::tempdir().unwrap();
    let err = Repo::open(tmp.path()).unwrap_err();
    assert!(matches!(err, VcsError::NotARepo { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("not a git repository: "), "{msg}");
    assert!(msg.contains("run `git init`"), "{msg}");
}

#[test]
fn open_finds_the_work_tree_from_a_subdirectory() {
    let tmp = repo_with_commit();
    let repo = Repo::open(&tmp.path().join("src")).unwrap();
    assert_eq!(
        repo.workdir().canonicalize().unwrap(),
        tmp.path().canonicalize().unwrap()
    );
}

// ------------------------------------------------------------ dirty files

#[test]
fn dirty_files_leave_out_runner_files_and_gitignored_ones() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let repo = Repo::open(d).unwrap();
    assert_eq!(
        repo.dirty_files(RUNNER_FILES).unwrap(),
        Vec::<String>::new()
    );

    write(d, "status/completed_tasks.txt", "PHASE_1:A\n");
    write(d, "status/nested/run.json", "{}\n");
    write(d, "logs/PHASE1-GROUP-A/A1.log", "agent output\n");
    write(d, "PHASE1-GROUP-A-STATUS.md", "# report\n");
    write(d, "target/debug/junk.o", "binary\n");
    assert_eq!(
        repo.dirty_files(RUNNER_FILES).unwrap(),
        Vec::<String>::new(),
        "runner files and ignored files never make the tree dirty"
    );

    write(d, "README.md", "# changed\n");
    write(d, "new/dir/file.txt", "untracked, in an untracked dir\n");
    write(
        d,
        "src/status/mod.rs",
        "// a project dir that happens to be called status\n",
    );
    write(
        d,
        "docs/PHASE1-GROUP-A-STATUS.md",
        "not at the root: the project's own\n",
    );
    std::fs::remove_file(d.join("src/lib.rs")).unwrap();
    assert_eq!(
        repo.dirty_files(RUNNER_FILES).unwrap(),
        [
            "README.md",
            "docs/PHASE1-GROUP-A-STATUS.md",
            "new/dir/file.txt",
            "src/lib.rs",
            "src/status/mod.rs",
        ]
    );
    let all = repo.dirty_files(&[]).unwrap();
    assert!(all.contains(&"status/completed_tasks.txt".to_string()));
    assert!(all.contains(&"PHASE1-GROUP-A-STATUS.md".to_string()));
    assert!(!all.iter().any(|p| p.starts_with("target/")));
}

#[test]
fn ignore_patterns_are_relative_to_a_project_in_a_subdirectory() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    write(d, "app/status/completed_tasks.txt", "x\n");
    write(d, "status/other.txt", "x\n");
    let repo = Repo::open(&d.join("app")).unwrap();
    assert_eq!(
        repo.dirty_files(RUNNER_FILES).unwrap(),
        ["status/other.txt"]
    );
}

// ----------------------------------------------------------------- commit

#[test]
fn commit_message_lists_groups_and_tasks_with_trailer() {
    assert_eq!(
        commit_message(&phase(1)),
        "Complete Phase 1: Foundation Layer\n\
         \n\
         Group A: Database (Parallel)\n\
         - A1: Schema\n\
         - A2: Migrations\n\
         \n\
         Group B: API (Parallel, after A)\n\
         - B1: REST endpoints\n\
         \n\
         Roadmap-Phase: 1\n"
    );
    let mut untitled = phase(3);
    untitled.title = String::new();
    untitled.groups.truncate(1);
    assert!(commit_message(&untitled).starts_with("Complete Phase 3\n\nGroup A"));
}

#[test]
fn commit_all_commits_everything_with_the_repo_author() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let repo = Repo::open(d).unwrap();
    let before = repo.head_commit_id().unwrap();
    assert_eq!(before, head(d));

    write(d, "README.md", "# changed\n");
    write(d, "src/new/module.rs", "pub fn g() {}\n");
    write(d, "target/out.bin", "ignored\n");
    std::fs::remove_file(d.join("src/lib.rs")).unwrap();

    let id = repo
        .commit_all(&commit_message(&phase(1)))
        .unwrap()
        .unwrap();
    assert_eq!(id, head(d));
    assert_eq!(repo.head_commit_id().unwrap(), id);
    assert_eq!(git(d, &["rev-parse", "HEAD~1"]), before);
    assert_eq!(
        git(d, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
        "Roadmap Tester <tester@example.com>|Roadmap Tester <tester@example.com>"
    );
    let message = git(d, &["log", "-1", "--format=%B"]);
    assert!(message.starts_with("Complete Phase 1: Foundation Layer\n\n"));
    assert_eq!(
        git(
            d,
            &[
                "log",
                "-1",
                "--format=%(trailers:key=Roadmap-Phase,valueonly)"
            ]
        ),
        "1"
    );
    assert_eq!(
        git(d, &["ls-tree", "-r", "--name-only", "HEAD"]),
        ".gitignore\nREADME.md\nsrc/new/module.rs"
    );
    assert_eq!(git(d, &["status", "--porcelain"]), "");
    assert_eq!(git(d, &["symbolic-ref", "HEAD"]), "refs/heads/main");

    // Nothing changed: no empty commit.
    assert_eq!(repo.commit_all("Complete Phase 2").unwrap(), None);
    assert_eq!(head(d), id);
}

#[test]
fn commit_all_except_leaves_runner_files_out() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let repo = Repo::open(d).unwrap();
    write(d, "logs/run.log", "log\n");
    write(d, "status/completed_tasks.txt", "PHASE_1:A\n");
    assert_eq!(repo.commit_all_except("x", RUNNER_FILES).unwrap(), None);
    write(d, "src/a.rs", "\n");
    repo.commit_all_except("Add a", RUNNER_FILES)
        .unwrap()
        .unwrap();
    assert_eq!(
        git(d, &["show", "--name-only", "--format=", "HEAD"]),
        "src/a.rs"
    );
}

#[test]
fn first_commit_on_an_unborn_branch() {
    let tmp = new_repo();
    let d = tmp.path();
    let repo = Repo::open(d).unwrap();
    assert_eq!(repo.head_commit_id(), None);
    assert_eq!(repo.current_branch().as_deref(), Some("main"));
    assert_eq!(repo.find_phase_commit(&1.into()).unwrap(), None);
    assert_eq!(repo.commit_all("nothing yet").unwrap(), None, "empty repo");

    write(d, "a.txt", "a\n");
    assert_eq!(repo.changed_files_since(None).unwrap(), ["a.txt"]);
    let id = repo
        .commit_all(&commit_message(&phase(1)))
        .unwrap()
        .unwrap();
    assert_eq!(git(d, &["rev-parse", "refs/heads/main"]), id);
    assert_eq!(git(d, &["rev-list", "--count", "HEAD"]), "1");
}

#[test]
fn commit_without_identity_says_which_git_config_to_run() {
    isolate();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "a.txt", "a\n");
    let repo = Repo::open(d).unwrap();
    let err = repo.commit_all("x").unwrap_err();
    assert!(matches!(err, VcsError::NoIdentity { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("config user.name \"Your Name\""), "{msg}");
    assert!(
        msg.contains("config user.email \"you@example.com\""),
        "{msg}"
    );
    assert!(msg.contains(&d.display().to_string()), "{msg}");
    // Nothing was staged before the refusal.
    assert_eq!(git(d, &["status", "--porcelain"]), "?? a.txt");
}

#[test]
fn commit_refuses_a_detached_head() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    git(d, &["checkout", "-q", "--detach"]);
    write(d, "a.txt", "a\n");
    let err = Repo::open(d).unwrap().commit_all("x").unwrap_err();
    assert!(matches!(err, VcsError::DetachedHead { .. }), "{err:?}");
    assert!(err.to_string().contains("git -C"), "{err}");
}

#[test]
fn find_phase_commit_reads_the_trailer() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let repo = Repo::open(d).unwrap();
    write(d, "one.txt", "1\n");
    let one = repo
        .commit_all(&commit_message(&phase(1)))
        .unwrap()
        .unwrap();
    write(d, "other.txt", "x\n");
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            "Unrelated: mentions Roadmap-Phase: 2 in the subject",
        ],
    );
    write(d, "twelve.txt", "12\n");
    let twelve = repo
        .commit_all(&commit_message(&phase(12)))
        .unwrap()
        .unwrap();
    assert_eq!(repo.find_phase_commit(&1.into()).unwrap(), Some(one));
    assert_eq!(repo.find_phase_commit(&12.into()).unwrap(), Some(twelve));
    assert_eq!(repo.find_phase_commit(&2.into()).unwrap(), None);
    assert_eq!(repo.find_phase_commit(&3.into()).unwrap(), None);
}

#[test]
fn changed_files_since_a_base_include_commits_index_and_untracked() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let repo = Repo::open(d).unwrap();
    let base = repo.head_commit_id().unwrap();
    assert_eq!(
        repo.changed_files_since(None).unwrap(),
        Vec::<String>::new()
    );

    write(d, "committed.txt", "c\n");
    git(d, &["add", "committed.txt"]);
    git(d, &["commit", "-q", "-m", "an agent committed"]);
    write(d, "staged.txt", "s\n");
    git(d, &["add", "staged.txt"]);
    write(d, "README.md", "# edited\n");
    write(d, "untracked/deep/file.txt", "u\n");
    write(d, "target/ignored", "i\n");

    assert_eq!(
        repo.changed_files_since(Some(&base)).unwrap(),
        [
            "README.md",
            "committed.txt",
            "staged.txt",
            "untracked/deep/file.txt"
        ]
    );
    assert_eq!(
        repo.changed_files_since(None).unwrap(),
        ["README.md", "staged.txt", "untracked/deep/file.txt"]
    );
    let err = repo.changed_files_since(Some("no-such-rev")).unwrap_err();
    assert!(
        err.to_string().contains("unknown commit `no-such-rev`"),
        "{err}"
    );
}

// ------------------------------------------------------------------- push

#[test]
fn push_to_a_bare_origin_and_set_the_upstream() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let bare = add_origin(d);
    let repo = Repo::open(d).unwrap();
    assert_eq!(
        repo.unpushed_commits(&settings()).unwrap(),
        1,
        "nothing pushed yet"
    );

    write(d, "phase1.txt", "done\n");
    let id = repo
        .commit_all(&commit_message(&phase(1)))
        .unwrap()
        .unwrap();
    assert_eq!(repo.unpushed_commits(&settings()).unwrap(), 2);

    let out = repo.push(&settings()).unwrap();
    assert_eq!(out.remote, "origin");
    assert_eq!(out.branch, "main");
    assert_eq!(out.commit, id);
    assert_eq!(out.commits_pushed, 2);
    assert!(out.upstream_set);
    assert_eq!(git(bare.path(), &["rev-parse", "refs/heads/main"]), id);
    assert_eq!(git(d, &["rev-parse", "refs/remotes/origin/main"]), id);
    assert_eq!(
        git(d, &["rev-parse", "--abbrev-ref", "main@{upstream}"]),
        "origin/main"
    );
    assert_eq!(repo.unpushed_commits(&settings()).unwrap(), 0);

    // Nothing new: the push is a no-op and the upstream is left alone.
    let again = repo.push(&settings()).unwrap();
    assert_eq!(again.commits_pushed, 0);
    assert!(!again.upstream_set);
}

#[test]
fn remote_ahead_is_rejected_then_pushes_once_up_to_date() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let bare = add_origin(d);
    let repo = Repo::open(d).unwrap();
    repo.push(&settings()).unwrap();
    let base = head(d);

    // Someone else pushes first.
    let other = tempfile::tempdir().unwrap();
    git(
        other.path(),
        &["clone", "-q", bare.path().to_str().unwrap(), "."],
    );
    identity(other.path());
    write(other.path(), "theirs.txt", "theirs\n");
    git(other.path(), &["add", "-A"]);
    git(other.path(), &["commit", "-q", "-m", "Their work"]);
    git(other.path(), &["push", "-q", "origin", "main"]);
    let theirs = head(other.path());

    write(d, "ours.txt", "ours\n");
    let ours = repo
        .commit_all(&commit_message(&phase(1)))
        .unwrap()
        .unwrap();
    let err = repo.push(&settings()).unwrap_err();
    match &err {
        VcsError::PushRejected { remote, branch, .. } => {
            assert_eq!((remote.as_str(), branch.as_str()), ("origin", "main"));
        }
        other => panic!("expected PushRejected, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("git pull --rebase origin main"), "{msg}");
    assert!(msg.contains("kept locally"), "{msg}");
    assert!(msg.contains("rerun"), "{msg}");
    assert_eq!(head(d), ours, "the local commit is kept");
    assert_eq!(git(bare.path(), &["rev-parse", "main"]), theirs);
    assert_eq!(repo.unpushed_commits(&settings()).unwrap(), 1);

    // The user brings the branch up to date (simulated: the remote is reset
    // to what we have), and the next run's push goes through.
    git(bare.path(), &["update-ref", "refs/heads/main", &base]);
    let out = repo.push(&settings()).unwrap();
    assert_eq!(out.commit, ours);
    assert_eq!(out.commits_pushed, 1);
    assert_eq!(git(bare.path(), &["rev-parse", "main"]), ours);
    assert_eq!(repo.unpushed_commits(&settings()).unwrap(), 0);
}

#[test]
fn push_follows_settings_and_branch_upstream() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let backup = tempfile::tempdir().unwrap();
    git(backup.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(
        d,
        &["remote", "add", "backup", backup.path().to_str().unwrap()],
    );
    let repo = Repo::open(d).unwrap();

    // No origin and no upstream: origin is the default, and it is missing.
    let err = repo.push(&settings()).unwrap_err();
    assert!(matches!(err, VcsError::NoRemote { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("git remote `origin` does not exist"), "{msg}");
    assert!(msg.contains("remote add origin"), "{msg}");
    assert!(matches!(
        repo.unpushed_commits(&settings()),
        Err(VcsError::NoRemote { .. })
    ));

    let to_backup = GitSettings {
        remote: Some("backup".into()),
        ..settings()
    };
    let out = repo.push(&to_backup).unwrap();
    assert_eq!(out.remote, "backup");
    assert!(out.upstream_set);
    // The upstream now names `backup`, which later pushes follow.
    write(d, "x.txt", "x\n");
    repo.commit_all("x").unwrap().unwrap();
    assert_eq!(repo.unpushed_commits(&settings()).unwrap(), 1);
    assert_eq!(repo.push(&settings()).unwrap().remote, "backup");
    assert_eq!(git(backup.path(), &["rev-parse", "main"]), head(d));

    let missing_branch = GitSettings {
        branch: Some("release".into()),
        ..to_backup
    };
    let err = repo.push(&missing_branch).unwrap_err();
    assert!(matches!(err, VcsError::NoBranch { .. }), "{err:?}");
}

#[test]
fn push_failure_names_the_remote_and_keeps_the_commit() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let gone = d.join("no-such-dir/origin.git");
    git(d, &["remote", "add", "origin", gone.to_str().unwrap()]);
    let repo = Repo::open(d).unwrap();
    let err = repo.push(&settings()).unwrap_err();
    assert!(matches!(err, VcsError::Push { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("push of `main` to `origin` (")
            && msg.contains("no-such-dir/origin.git does not exist")
            && msg.contains("kept locally"),
        "{msg}"
    );
}

#[test]
fn push_refuses_a_detached_head() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let _bare = add_origin(d);
    git(d, &["checkout", "-q", "--detach"]);
    let err = Repo::open(d).unwrap().push(&settings()).unwrap_err();
    assert!(matches!(err, VcsError::DetachedHead { .. }), "{err:?}");
}

// ---------------------------------------------------------------- publish

/// A repository pushed to a bare origin, and a clone of that origin where
/// someone else works.
fn pushed_repo() -> (TempDir, TempDir, TempDir) {
    let tmp = repo_with_commit();
    let bare = add_origin(tmp.path());
    Repo::open(tmp.path()).unwrap().push(&settings()).unwrap();
    let other = tempfile::tempdir().unwrap();
    git(
        other.path(),
        &["clone", "-q", bare.path().to_str().unwrap(), "."],
    );
    identity(other.path());
    (tmp, bare, other)
}

fn commit_and_push_from(other: &Path, file: &str, subject: &str) -> String {
    git(other, &["pull", "-q", "--ff-only"]);
    write(other, file, "theirs\n");
    git(other, &["add", "-A"]);
    git(other, &["commit", "-q", "-m", subject]);
    git(other, &["push", "-q", "origin", "main"]);
    head(other)
}

#[test]
fn publish_refuses_commits_the_runner_did_not_make_unless_allowed() {
    let (tmp, bare, _other) = pushed_repo();
    let d = tmp.path();
    let pushed = head(d);
    write(d, "wip.txt", "mine\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "Work in progress"]);
    let wip = head(d);
    write(d, "phase.txt", "done\n");
    let repo = Repo::open(d).unwrap();
    repo.commit_all(&commit_message(&phase(1)))
        .unwrap()
        .unwrap();

    let unpushed = repo.unpushed(&settings()).unwrap();
    let by_runner: Vec<bool> = unpushed.iter().map(|c| c.by_runner).collect();
    assert_eq!(by_runner, [true, false], "newest first");
    assert_eq!(
        unpushed[1].describe(),
        format!("{} Work in progress", &wip[..7])
    );

    let err = repo.publish(&settings()).unwrap_err();
    match &err {
        VcsError::ForeignCommits { commits, .. } => {
            assert_eq!(commits, &format!("{} Work in progress", &wip[..7]));
        }
        other => panic!("expected ForeignCommits, got {other:?}"),
    }
    assert!(
        err.to_string().contains("push_foreign = \"allow\""),
        "{err}"
    );
    assert_eq!(git(bare.path(), &["rev-parse", "main"]), pushed);

    let allow = GitSettings {
        push_foreign: PushForeign::Allow,
        ..settings()
    };
    let out = repo.publish(&allow).unwrap();
    assert_eq!((out.push.commits_pushed, out.integrated), (2, None));
    assert_eq!(git(bare.path(), &["rev-parse", "main"]), head(d));
}

#[test]
fn publish_rebases_onto_a_diverged_remote_and_pushes() {
    let (tmp, bare, other) = pushed_repo();
    let d = tmp.path();
    let theirs = commit_and_push_from(other.path(), "theirs.txt", "Their work");
    write(d, "ours.txt", "ours\n");
    let repo = Repo::open(d).unwrap();
    repo.commit_all(&commit_message(&phase(1)))
        .unwrap()
        .unwrap();

    let out = repo.publish(&settings()).unwrap();
    let integrated = out.integrated.expect("integrated");
    assert_eq!(integrated.upstream, "origin/main");
    assert_eq!(
        (integrated.upstream_commits, integrated.new_commits),
        (1, 1)
    );
    assert_eq!(out.push.commits_pushed, 1);
    assert_eq!(git(bare.path(), &["rev-parse", "main"]), head(d));
    assert_eq!(git(d, &["rev-parse", "HEAD~1"]), theirs);
    assert_eq!(git(d, &["status", "--porcelain"]), "");
    assert!(d.join("theirs.txt").exists());

    // `stop` leaves a diverged remote alone.
    commit_and_push_from(other.path(), "more.txt", "More of theirs");
    write(d, "two.txt", "2\n");
    repo.commit_all(&commit_message(&phase(2)))
        .unwrap()
        .unwrap();
    let ours = head(d);
    let stop = GitSettings {
        diverged: Diverged::Stop,
        ..settings()
    };
    let err = repo.publish(&stop).unwrap_err();
    assert!(matches!(err, VcsError::PushRejected { .. }), "{err:?}");
    assert_eq!(head(d), ours);
}

#[test]
fn a_push_the_server_refuses_is_rejected_with_its_reason() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let server = tempfile::tempdir().unwrap();
    git(
        server.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    let hook = server.path().join("origin.git/hooks/pre-receive");
    write(
        server.path(),
        "origin.git/hooks/pre-receive",
        "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let daemon = common::cluster::GitDaemon::start(server.path());
    let url = format!("git://127.0.0.1:{}/origin.git", daemon.port);
    git(d, &["remote", "add", "origin", &url]);

    let repo = Repo::open(d).unwrap();
    let err = repo.push(&settings()).unwrap_err();
    match &err {
        VcsError::PushRejected { reason, .. } => {
            assert!(reason.contains("pre-receive hook declined"), "{reason}");
        }
        other => panic!("expected PushRejected, got {other:?}"),
    }
    // Not a diverged remote: publish fetches, sees that, and gives the reason
    // (the initial commit is the user's: allowed here).
    let allow = GitSettings {
        push_foreign: PushForeign::Allow,
        ..settings()
    };
    let err = repo.publish(&allow).unwrap_err();
    match &err {
        VcsError::PushRejected { reason, .. } => {
            assert!(reason.contains("pre-receive hook declined"), "{reason}");
        }
        other => panic!("expected PushRejected, got {other:?}"),
    }
    drop(daemon);
    assert!(git(server.path(), &["-C", "origin.git", "branch", "--list"]).is_empty());
    assert_eq!(repo.unpushed_commits(&settings()).unwrap(), 1);
}

/// Keeps every event.
struct Events(Vec<Event>);

impl Reporter for Events {
    fn report(&mut self, event: &Event) {
        self.0.push(event.clone());
    }
}

#[test]
fn a_phase_push_that_sends_nothing_reports_nothing() {
    use roadmap_runner::runner::phase;
    let (tmp, _bare, _other) = pushed_repo();
    let d = tmp.path();
    let repo = Repo::open(d).unwrap();
    let mut events = Events(Vec::new());
    let six = roadmap_runner::roadmap::PhaseId::from(6);
    assert!(phase::push(&repo, Some(&six), &settings(), &mut events).is_ok());
    assert!(events.0.is_empty(), "{:?}", events.0);

    write(d, "six.txt", "6\n");
    repo.commit_all(&commit_message(&phase(6)))
        .unwrap()
        .unwrap();
    assert!(phase::push(&repo, Some(&six), &settings(), &mut events).is_ok());
    match events.0.as_slice() {
        [
            Event::PhasePushed {
                phase: Some(p),
                commits: 1,
                remote,
                branch,
            },
        ] if *p == six => {
            assert_eq!((remote.as_str(), branch.as_str()), ("origin", "main"));
        }
        other => panic!("{other:?}"),
    }
}

/// An HTTP server that refuses every request with 401 (Basic), recording the
/// `Authorization` headers it was sent.
struct RefusingServer {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RefusingServer {
    fn start() -> RefusingServer {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut auth = String::from("(none)");
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    if let Some(v) = line.strip_prefix("Authorization: ") {
                        auth = v.trim().to_string();
                    }
                    line.clear();
                }
                seen2.lock().unwrap().push(auth);
                let _ = (&stream).write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
                      Content-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        RefusingServer {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RefusingServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn refused_credentials_end_in_an_auth_error_not_a_loop() {
    let tmp = repo_with_commit();
    let d = tmp.path();
    let server = RefusingServer::start();
    git(
        d,
        &[
            "config",
            "credential.helper",
            "!f() { echo username=helper-user; echo password=helper-pass; }; f",
        ],
    );
    let url = format!("http://127.0.0.1:{}/project.git", server.port);
    git(d, &["remote", "add", "origin", &url]);
    let repo = Repo::open(d).unwrap();
    let err = repo
        .push(&GitSettings {
            token_env: Some("ROADMAP_RUNNER_TEST_TOKEN_THAT_IS_NOT_SET".into()),
            ..settings()
        })
        .unwrap_err();
    let seen = server.seen.lock().unwrap().clone();
    drop(server);
    assert!(matches!(err, VcsError::PushAuth { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&url), "{msg}");
    assert!(msg.contains("git credential helper"), "{msg}");
    assert!(
        msg.contains(
            "$ROADMAP_RUNNER_TEST_TOKEN_THAT_IS_NOT_SET (from [git] token_env) is not set"
        ),
        "{msg}"
    );
    assert!(msg.contains("$GIT_TOKEN"), "{msg}");
    assert!(msg.contains("kept locally"), "{msg}");
    assert!(
        seen.iter()
            .any(|a| a == "Basic aGVscGVyLXVzZXI6aGVscGVyLXBhc3M="),
        "the helper's credentials were sent: {seen:?}"
    );
    assert!(seen.len() <= 6, "gave up after a few attempts: {seen:?}");
}
