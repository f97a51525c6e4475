//! Canned roadmaps for the fake agent to draft (FAKE_AGENT_PLANS), and the
//! empty project drafting starts from.

use super::{Project, git};

/// A valid two-phase roadmap: what the agent drafts when all goes well.
pub const SHOP_API: &str = "# Shop API

A REST API in Rust.

## Phase 1: Foundation

### Group A: Base (Parallel)

- [ ] **A1**: Project scaffolding
  Acceptance: `cargo build` passes
- [ ] **A2**: Database schema
  Acceptance: the migrations run

## Phase 2: Features

### Group B: Users (Parallel)

- [ ] **B1**: User registration
  Acceptance: POST /users creates a user
";

/// Two tasks named A1: never valid, so the parser's error goes back to the agent.
pub const DUPLICATE_A1: &str = "# Shop API

## Phase 1: Foundation

### Group A: Base (Parallel)

- [ ] **A1**: Project scaffolding
- [ ] **A1**: Database schema
";

/// The canned answers, written beside the project, as FAKE_AGENT_PLANS
/// (the fake agent gives them in turn).
pub fn plans(p: &Project, answers: &[&str]) -> String {
    answers
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = p.tmp.path().join(format!("answer-{i}.md"));
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        })
        .collect::<Vec<_>>()
        .join(":")
}

impl Project {
    /// A project without `files` (removed, committed and pushed): where
    /// `init` and drafting start.
    pub fn emptied(files: &[&str]) -> Project {
        let p = Project::new("# x\n");
        let mut rm = vec!["rm", "-q"];
        rm.extend(files);
        git(&p.dir, &rm);
        git(&p.dir, &["commit", "-q", "-m", "empty"]);
        git(&p.dir, &["push", "-q", "origin", "main"]);
        p
    }
}
