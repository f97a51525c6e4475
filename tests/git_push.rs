//! Pushing unattended, with the real binary, a bare `origin` and a second
//! clone standing in for someone else: the user's own unpushed commits are
//! not published (`[git] push_foreign`), a push is reported only when commits
//! went out, and a remote branch that moved on is rebased onto, merged or
//! stopped at (`[git] diverged`) without losing either side's work.

mod common;

use common::*;
use std::path::PathBuf;

/// Two one-group phases; phase 2's task writes `phase2_file`.
fn roadmap(phase2_file: &str) -> String {
    format!(
        "# T\n\n## Phase 1: Only\n\n### Group A\n\n- A1: one\n  - FAKE: write one.txt one\n\n\
         ## Phase 2: Next\n\n### Group B\n\n- B1: two\n  - FAKE: write {phase2_file} two\n"
    )
}

fn project(config: &str) -> Project {
    Project::with_config(&roadmap("two.txt"), config)
}

/// Someone else clones origin, commits `file` and pushes it.
fn someone_else_pushes(p: &Project, file: &str, text: &str, subject: &str) -> PathBuf {
    let other = p.tmp.path().join("other");
    if !other.exists() {
        git(
            p.tmp.path(),
            &["clone", "-q", p.origin.to_str().unwrap(), "other"],
        );
        git(&other, &["config", "user.name", "Other"]);
        git(&other, &["config", "user.email", "other@example.invalid"]);
        git(&other, &["config", "commit.gpgsign", "false"]);
    }
    git(&other, &["pull", "-q", "--ff-only"]);
    std::fs::write(other.join(file), text).unwrap();
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-qm", subject]);
    git(&other, &["push", "-q", "origin", "main"]);
    other
}

/// The user commits work of their own, and does not push it.
fn user_commits(p: &Project, file: &str, subject: &str) -> String {
    p.write(file, "mine\n");
    git(&p.dir, &["add", file]);
    git(&p.dir, &["commit", "-qm", subject]);
    git(&p.dir, &["rev-parse", "--short=7", "HEAD"])
        .trim()
        .to_string()
}

fn local_log(p: &Project) -> Vec<String> {
    git(&p.dir, &["log", "--format=%s", "main"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn rev(dir: &std::path::Path, rev: &str) -> String {
    git(dir, &["rev-parse", rev]).trim().to_string()
}

fn push_lines(out: &std::process::Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| l.contains("[PUSH]"))
        .map(|l| l.split("[PUSH] ").nth(1).unwrap_or(l).to_string())
        .collect()
}

/// No rebase, merge or cherry-pick in progress, and nothing uncommitted.
#[track_caller]
fn assert_repo_at_rest(p: &Project) {
    let git_dir = p.dir.join(".git");
    for f in [
        "rebase-merge",
        "rebase-apply",
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
    ] {
        assert!(!git_dir.join(f).exists(), ".git/{f} left behind");
    }
    assert_eq!(p.git_status(), "", "the tree was left dirty");
}

// ------------------------------------------------------------ push_foreign

#[test]
fn the_users_own_unpushed_commits_are_refused_by_default() {
    let p = project("");
    let short = user_commits(&p, "wip.txt", "my work in progress");

    let out = p.run(&["--phase", "1"]);
    assert_exit(&out, 3);
    let text = stdout(&out);
    let named = format!("{short} my work in progress");
    assert!(
        text.matches(&named).count() >= 2,
        "named at the start and in the failure: {text}"
    );
    assert!(text.contains("did not make"), "{text}");
    assert!(text.contains("push_foreign = \"allow\""), "{text}");
    assert!(text.contains("git push origin main"), "{text}");
    assert!(push_lines(&out).is_empty(), "{text}");
    assert_eq!(p.origin_log(), ["initial"], "nothing was published");
    assert_eq!(
        local_log(&p),
        ["Complete Phase 1: Only", "my work in progress", "initial"],
        "the phase is committed locally"
    );

    // The next run still refuses, and says so before any work.
    let out = p.run(&["--phase", "1"]);
    assert!(stdout(&out).contains(&named), "{}", stdout(&out));
    assert_eq!(p.origin_log(), ["initial"]);

    // The user publishes their work; the runner's commit goes with it.
    git(&p.dir, &["push", "-q", "origin", "main"]);
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(
        push_lines(&out),
        ["Phase 2: 1 commit pushed to origin/main"]
    );
    assert_eq!(p.origin_log()[0], "Complete Phase 2: Next");
}

#[test]
fn the_users_own_commits_are_pushed_with_push_foreign_allow() {
    let p = project("[git]\npush_foreign = \"allow\"\n");
    let short = user_commits(&p, "wip.txt", "my work in progress");

    let out = p.run(&["--phase", "1"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{short} my work in progress")),
        "{text}"
    );
    // Pushed before any work, as an earlier run's would be; then the phase.
    assert_eq!(
        push_lines(&out),
        [
            "1 commit pushed to origin/main",
            "Phase 1: 1 commit pushed to origin/main"
        ]
    );
    assert_eq!(
        p.origin_log(),
        ["Complete Phase 1: Only", "my work in progress", "initial"]
    );
}

#[test]
fn a_bad_push_foreign_value_names_the_key() {
    let p = project("[git]\npush_foreign = \"sometimes\"\n");
    let out = p.run(&["--phase", "1"]);
    assert_ne!(out.status.code(), Some(0));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("roadmap-runner.toml `git.push_foreign`: `sometimes` is not one of"),
        "{text}"
    );
    assert!(p.agent_events().is_empty(), "nothing ran");
}

// ----------------------------------------------------------- push reports

#[test]
fn a_push_is_reported_only_when_commits_went_out_with_their_count() {
    let p = project("");
    let out = p.run(&["--phase", "1"]);
    assert_exit(&out, 0);
    assert_eq!(
        push_lines(&out),
        ["Phase 1: 1 commit pushed to origin/main"]
    );

    // Nothing new: nothing pushed, nothing said.
    let out = p.run(&["--phase", "1"]);
    assert_exit(&out, 0);
    assert!(push_lines(&out).is_empty(), "{}", stdout(&out));

    // Committed without pushing; the next run pushes it first and says so.
    let out = p.run(&["--phase", "2", "--no-push"]);
    assert_exit(&out, 0);
    assert!(push_lines(&out).is_empty(), "{}", stdout(&out));
    let out = p.run(&["--phase", "2"]);
    assert_exit(&out, 0);
    assert_eq!(push_lines(&out), ["1 commit pushed to origin/main"]);
    assert_eq!(p.origin_log()[0], "Complete Phase 2: Next");

    // A rerun of a group in a committed phase: the report matches what origin
    // gained (before issue 8's fix, no commit, so no push line at all).
    let before = p.origin_log().len();
    let out = p.run(&["rollback", "2:B"]);
    assert_exit(&out, 0);
    let out = p.run(&["--phase", "2"]);
    assert_exit(&out, 0);
    let gained = p.origin_log().len() - before;
    let expected: Vec<String> = match gained {
        0 => vec![],
        1 => vec!["Phase 2: 1 commit pushed to origin/main".into()],
        n => vec![format!("Phase 2: {n} commits pushed to origin/main")],
    };
    assert_eq!(push_lines(&out), expected, "{}", stdout(&out));
}

// --------------------------------------------------------------- diverged

#[test]
fn a_diverged_remote_is_rebased_onto_and_both_sides_survive() {
    let p = project("");
    assert_exit(&p.run(&["--phase", "1"]), 0);
    someone_else_pushes(&p, "NOTES.md", "notes\n", "notes from elsewhere");

    let out = p.run(&[]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains(
            "origin/main had 1 commit that main did not: replayed 1 local commit onto it"
        ),
        "{text}"
    );
    assert_eq!(
        push_lines(&out),
        ["Phase 2: 1 commit pushed to origin/main"]
    );
    assert_eq!(
        p.origin_log(),
        [
            "Complete Phase 2: Next",
            "notes from elsewhere",
            "Complete Phase 1: Only",
            "initial"
        ]
    );
    assert_eq!(rev(&p.dir, "HEAD"), rev(&p.origin, "main"));
    assert_eq!(
        git(&p.origin, &["log", "-1", "--format=%an", "main~1"]).trim(),
        "Other",
        "their commit is theirs, untouched"
    );
    let body = git(&p.origin, &["log", "-1", "--format=%B", "main"]);
    assert!(body.contains("Roadmap-Phase: 2"), "{body}");
    // The local tree holds both sides' work, and is at rest.
    assert_eq!(p.read("NOTES.md"), "notes\n");
    assert_eq!(p.read("two.txt"), "two\n");
    assert_eq!(p.read("one.txt"), "one\n");
    assert_repo_at_rest(&p);
}

#[test]
fn a_phase_left_unpushed_is_rebased_at_the_start_of_the_next_run() {
    let p = project("");
    assert_exit(&p.run(&["--phase", "1", "--no-push"]), 0);
    someone_else_pushes(&p, "NOTES.md", "notes\n", "notes from elsewhere");

    let out = p.run(&["--phase", "1"]);
    assert_exit(&out, 0);
    assert_eq!(push_lines(&out), ["1 commit pushed to origin/main"]);
    assert_eq!(
        p.origin_log(),
        ["Complete Phase 1: Only", "notes from elsewhere", "initial"]
    );
    assert_eq!(p.read("NOTES.md"), "notes\n");
    assert_repo_at_rest(&p);
}

#[test]
fn a_real_conflict_exits_3_and_changes_nothing() {
    let p = Project::with_config(&roadmap("shared.txt"), "");
    p.write("shared.txt", "base\n");
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-qm", "shared file"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    assert_exit(&p.run(&["--phase", "1"]), 0);
    someone_else_pushes(&p, "shared.txt", "theirs\n", "their change");
    let theirs = rev(&p.origin, "main");

    let out = p.run(&[]);
    assert_exit(&out, 3);
    let text = stdout(&out);
    assert!(text.contains("conflicts in shared.txt"), "{text}");
    assert!(text.contains("git pull --rebase origin main"), "{text}");
    assert!(text.contains("run roadmap-runner again"), "{text}");
    assert!(push_lines(&out).is_empty(), "{text}");
    assert_eq!(rev(&p.origin, "main"), theirs, "origin is unchanged");
    assert_eq!(
        local_log(&p)[..2],
        ["Complete Phase 2: Next", "Complete Phase 1: Only"],
        "the phase commit is kept, on the old base"
    );
    assert_eq!(p.read("shared.txt"), "two\n");
    assert_repo_at_rest(&p);

    // The user resolves it by hand; the next run pushes.
    let resolved = std::process::Command::new("git")
        .args(["pull", "-q", "--rebase", "-X", "theirs", "origin", "main"])
        .current_dir(&p.dir)
        .output()
        .unwrap();
    assert!(resolved.status.success(), "{}", stderr(&resolved));
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(
        p.origin_log()[..2],
        ["Complete Phase 2: Next", "their change"]
    );
}

#[test]
fn diverged_merge_makes_a_merge_commit() {
    let p = project("[git]\ndiverged = \"merge\"\n");
    assert_exit(&p.run(&["--phase", "1"]), 0);
    someone_else_pushes(&p, "NOTES.md", "notes\n", "notes from elsewhere");

    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(
        push_lines(&out),
        ["Phase 2: 2 commits pushed to origin/main"],
        "the phase commit and the merge"
    );
    let parents = git(&p.origin, &["rev-list", "--parents", "-n", "1", "main"]);
    assert_eq!(parents.split_whitespace().count(), 3, "a merge: {parents}");
    assert_eq!(
        p.origin_log()[0],
        "Merge origin/main into main",
        "{:?}",
        p.origin_log()
    );
    let files = git(&p.origin, &["ls-tree", "-r", "--name-only", "main"]);
    for f in ["NOTES.md", "one.txt", "two.txt"] {
        assert!(files.lines().any(|l| l == f), "{f} missing:\n{files}");
    }
    assert_eq!(rev(&p.dir, "HEAD"), rev(&p.origin, "main"));
    assert_eq!(p.read("NOTES.md"), "notes\n");
    assert_repo_at_rest(&p);

    // The merge is the runner's own: later runs do not call it foreign.
    let out = p.run(&[]);
    assert_exit(&out, 0);
    assert!(!stdout(&out).contains("did not make"), "{}", stdout(&out));
}

#[test]
fn diverged_stop_exits_3_and_says_how_to_go_on() {
    let p = project("[git]\ndiverged = \"stop\"\n");
    assert_exit(&p.run(&["--phase", "1"]), 0);
    someone_else_pushes(&p, "NOTES.md", "notes\n", "notes from elsewhere");

    let out = p.run(&[]);
    assert_exit(&out, 3);
    let text = stdout(&out);
    assert!(text.contains("git pull --rebase origin main"), "{text}");
    assert!(text.contains("diverged = \"rebase\""), "{text}");
    assert_eq!(p.origin_log()[0], "notes from elsewhere");
    assert_eq!(local_log(&p)[0], "Complete Phase 2: Next");
    assert!(!p.dir.join("NOTES.md").exists(), "nothing was integrated");
    assert_repo_at_rest(&p);
}
