//! A conflict's resolution must hold both sides' changes: a resolver agent
//! that keeps only one side is not taken (the run stops, naming the file
//! and the lost side, both branches kept); one that keeps both is merged
//! and pushed. Real binary, real git repositories, a bare origin.

mod common;

use common::*;
use std::process::Output;

const SHARED: &str = "one\ntwo\nthree\nfour\nfive\n";

/// A1 changes a line of src/shared.js; A2 (ending a second later, so that
/// A1 is merged first: tasks merge as they succeed) rewrites the file (a new first
/// line, the same line changed its own way, a line added). The resolver
/// does `how`.
fn project(how: &str) -> Project {
    let roadmap = roadmap_with_tasks(&[
        ("A1", "FAKE: replace src/shared.js three three-A1"),
        (
            "A2",
            &format!(
                "FAKE: sleep 1\nFAKE: replace src/shared.js one ONE-A2\nFAKE: replace src/shared.js three three-A2\nFAKE: append src/shared.js six-A2\nFAKE: resolve {how}"
            ),
        ),
    ]);
    let p = Project::with_config(&roadmap, "[worktree]\nresolve_attempts = 2\n");
    p.write("src/shared.js", SHARED);
    git(&p.dir, &["add", "-A"]);
    git(&p.dir, &["commit", "-q", "-m", "shared file"]);
    git(&p.dir, &["push", "-q", "origin", "main"]);
    p
}

fn run(p: &Project) -> Output {
    p.cmd()
        .env("XDG_CACHE_HOME", p.tmp.path().join("cache"))
        .env("ROADMAP_ISOLATION", "worktree")
        .output()
        .expect("runner starts")
}

fn resolvers(p: &Project) -> usize {
    p.agent_starts()
        .iter()
        .filter(|e| e["role"] == "resolver")
        .count()
}

#[test]
fn a_resolver_that_keeps_only_the_tasks_side_is_not_taken() {
    let p = project("theirs");
    let out = run(&p);
    assert_exit(&out, 6);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("it lost A1's change to src/shared.js"),
        "{text}"
    );
    // Retried within the attempts, each result refused.
    assert_eq!(resolvers(&p), 2, "{text}");
    // Nothing of the rejected result is in the project; A1's merge is.
    assert_eq!(p.read("src/shared.js"), "one\ntwo\nthree-A1\nfour\nfive\n");
    let branches = git(&p.dir, &["branch", "--format=%(refname:short)"]);
    for b in ["roadmap-runner/1-A-A1", "roadmap-runner/1-A-A2"] {
        assert!(branches.lines().any(|l| l == b), "{branches}");
    }
    assert!(!p.read("status/completed_tasks.txt").contains("PHASE_1:A"));
    assert_eq!(git(&p.origin, &["rev-list", "--count", "main"]).trim(), "2");
}

#[test]
fn a_resolver_that_keeps_only_the_merged_side_names_the_task() {
    let p = project("ours");
    let out = run(&p);
    assert_exit(&out, 6);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("it lost A2's change to src/shared.js"),
        "{text}"
    );
}

#[test]
fn a_resolver_that_keeps_both_sides_is_taken_and_pushed() {
    let p = project("union");
    let out = run(&p);
    assert_exit(&out, 0);
    assert_eq!(resolvers(&p), 1);
    assert_eq!(
        git(&p.origin, &["show", "main:src/shared.js"]),
        "ONE-A2\ntwo\nthree-A1\nthree-A2\nfour\nfive\nsix-A2\n"
    );
}
