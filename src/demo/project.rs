//! The demo project: a tiny JavaScript shop with a 2-phase roadmap, created in
//! a temporary directory beside a bare `origin.git`, with one commit pushed.
//!
//! Everything the demo needs is here and consistent by construction: the
//! roadmap names one file per task (`Create file: src/cart.js`), the
//! simulated agent writes that file with the content listed in [`FILES`], and
//! `tests/run.sh` (the gate, plain `sh`) checks each file for the line listed
//! beside it.

use super::DemoError;
use super::files::FILES;
use super::split;
use crate::config::GitSettings;
use crate::vcs::Repo;
use git2::{Repository, RepositoryInitOptions};
use std::path::{Path, PathBuf};

/// The project directory's name inside the temporary directory.
pub const PROJECT_DIR: &str = "shop";
/// The bare repository that stands in for the remote.
pub const ORIGIN_DIR: &str = "origin.git";
/// The subcommand that makes this binary the demo's agent.
pub const AGENT_SUBCOMMAND: &str = "__simulate-agent";
pub const BRANCH: &str = "main";
pub const INITIAL_COMMIT: &str = "Initial commit: Tiny Shop skeleton, roadmap and checks";

/// The demo roadmap: all three task syntaxes, group annotations, phase
/// deliverables, and one `Create file:` line per task (a table column for the
/// table rows).
pub const ROADMAP: &str = r#"# Tiny Shop

A small web shop in plain JavaScript modules: a product catalog, search, a
cart and a checkout. Conventions: ES modules under `src/`, one module per
feature, prices as integer cents. `sh tests/run.sh` checks the work after
every group.

## Phase 1: Catalog

Products and prices: everything later builds on them.

**Phase 1 Deliverables:**
- A product catalog with prices in cents
- Prices formatted the same way on every page
- A product list page and a search

### Group A: Foundations (Parallel)

| Task | Create file | Notes |
|------|-------------|-------|
| **A1: Product catalog** | `src/catalog.js` | Three products; `listProducts()` and `findProduct(id)` |
| **A2: Money formatting** | `src/money.js` | `formatPrice(cents)` gives `$12.50` |

### Group B: Browsing (Parallel, after A)

- **B1**: Product list page
  - Create file: `src/pages/products.js`
  - Every product with its formatted price
- **B2**: Search
  - Create file: `src/search.js`
  - Case-insensitive match on product names; an empty query lists everything

## Phase 2: Checkout

From a cart to a confirmed order.

**Phase 2 Deliverables:**
- A cart with quantities and a total
- Discount codes
- Orders with a confirmation email

### Group C: Cart (Parallel)

#### C1: Cart

Create file: `src/cart.js`

Add and remove products; the total in cents comes from the catalog.

#### C2: Cart page

Create file: `src/pages/cart.js`

One row per product with its quantity, then the total; a message when the cart is empty.

#### C3: Discount codes

Create file: `src/discounts.js`

`WELCOME10` and `FRIENDS20` take 10% and 20% off, rounded down to the cent.

### Group D: Orders (after C)

- [ ] D1 — Checkout
  - Create file: `src/checkout.js`
  - Refuse an empty cart; apply the discount code to the total
- [ ] D2 — Confirmation email
  - Create file: `src/email.js`
  - Plain text: the order number, the number of items, the total paid
"#;

const README: &str = "# Tiny Shop

A small web shop in plain JavaScript modules, built by coding agents from
[ROADMAP.md](ROADMAP.md) with roadmap-runner. `sh tests/run.sh` checks it.
";

const PACKAGE_JSON: &str = r#"{
  "name": "tiny-shop",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {
    "test": "sh tests/run.sh"
  }
}
"#;

/// `tests/run.sh`: the gate. Plain `sh`, checking the files of every group
/// up to the one being gated, the first group not yet listed in
/// `status/completed_tasks.txt` (the runner records a group there only after
/// its gate passed).
pub fn run_sh() -> String {
    let mut s = String::from(
        r#"#!/bin/sh
# The shop's checks. roadmap-runner runs them as the gate after every group
# (roadmap-runner.toml, [[gate.steps]]); `roadmap-runner gate` runs them alone.
#
# Each group of ROADMAP.md adds modules. The checks of a group run once the
# runner has reached it: the groups in status/completed_tasks.txt are done, and
# the first group that is not there is the one being checked now; the checks
# stop after it.
set -u
failed=0
current=""

check() { # FILE LINE: FILE exists and contains LINE
  if [ ! -f "$1" ]; then
    echo "FAIL $1: missing"
    failed=1
  elif ! grep -qF -- "$2" "$1"; then
    echo "FAIL $1: does not contain: $2"
    failed=1
  else
    echo "ok   $1"
  fi
}

finish() {
  if [ "$failed" -eq 0 ]; then echo "all checks passed"; fi
  exit "$failed"
}

group() { # PHASE_N:X: start the checks of this group, or stop after the current one
  if [ -n "$current" ]; then finish; fi
  if ! tr -d ' \t\r' < status/completed_tasks.txt 2>/dev/null | grep -qix -- "$1"; then
    current=$1
  fi
  echo "== $1"
}

# A group of a task's sub-roadmap (PHASE_N:X:T/1:Y), gated on its own when
# the task split (its plan PLAN exists); else its checks belong to the task's
# own group, checked with it.
subgroup() { # KEY PLAN
  if [ -n "$current" ]; then finish; fi
  if [ -f "$2" ]; then group "$1"; fi
}
"#,
    );
    let parent = split::parent_group().task_ref(split::TASK);
    let plan = format!("status/sub/{}.md", crate::roadmap::slug(&parent));
    let mut last_group = "";
    for f in FILES {
        if f.group != last_group {
            if f.group.contains('/') {
                s.push_str(&format!("\nsubgroup {} {}\n", f.group, shell_quote(&plan)));
            } else {
                s.push_str(&format!("\ngroup {}\n", f.group));
            }
            last_group = f.group;
        }
        s.push_str(&format!(
            "check {} {}\n",
            shell_quote(f.path),
            shell_quote(f.check)
        ));
    }
    s.push_str("\nfinish\n");
    s
}

/// Single-quoted for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `roadmap-runner.toml`: this binary as the agent, the real gate.
/// `IS_SANDBOX=1` is set for the agents only when running as root, where
/// `--dangerously-skip-permissions` needs it (the runner's preflight checks
/// it, and the simulated agent refuses without it, as Claude Code does).
pub fn config_toml(exe: &Path, is_root: bool) -> Result<String, DemoError> {
    let exe = exe.to_str().ok_or_else(|| DemoError::Io {
        context: format!("the path of this program, {}", exe.display()),
        source: std::io::Error::other("it is not valid UTF-8"),
    })?;
    let command = [
        exe,
        AGENT_SUBCOMMAND,
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
    ]
    .iter()
    .map(|a| toml_string(a))
    .collect::<Vec<_>>()
    .join(", ");
    let env = if is_root {
        "# Running as root: Claude Code (and the simulation) refuse\n\
         # --dangerously-skip-permissions there unless IS_SANDBOX=1.\n\
         env = { IS_SANDBOX = \"1\" }\n"
    } else {
        ""
    };
    Ok(format!(
        r#"# roadmap-runner settings of the demo shop.

[run]
max_parallel = 3
timeout = "2m"
grace_period = "2s"

[agent]
# The agent is roadmap-runner itself in a simulation mode: it reads the prompt
# on stdin like `claude -p --output-format stream-json --verbose`, prints the
# same stream-json events, and writes the file its task names. For real work,
# delete `command` and `output`: Claude Code is the default agent.
command = [{command}]
output = "stream-json"
{env}
[[gate.steps]]
name = "test"
command = "sh tests/run.sh"
"#
    ))
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The demo's temporary directory: `origin.git` and the project `shop/`.
/// Dropping it deletes everything; [`DemoProject::keep`] keeps it.
pub struct DemoProject {
    tmp: tempfile::TempDir,
    /// The temporary directory (canonical).
    pub root: PathBuf,
    pub shop: PathBuf,
    pub origin: PathBuf,
}

impl DemoProject {
    /// Keeps the directory on disk; returns its path.
    pub fn keep(self) -> PathBuf {
        let _ = self.tmp.keep();
        self.root
    }

    /// Deletes the directory now, reporting failure (a drop would not).
    pub fn remove(self) -> std::io::Result<()> {
        self.tmp.close()
    }
}

/// Creates the demo in a new temporary directory: the bare `origin.git`, the
/// project `shop/` (branch `main`, a local identity) with the roadmap, the
/// settings, the checks and a first commit pushed to origin, upstream set.
/// `exe` is the program the agents run as (this binary).
pub fn create(exe: &Path) -> Result<DemoProject, DemoError> {
    let tmp = tempfile::Builder::new()
        .prefix("roadmap-runner-demo-")
        .tempdir()
        .map_err(DemoError::io("cannot create a temporary directory"))?;
    let root = tmp
        .path()
        .canonicalize()
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let shop = root.join(PROJECT_DIR);
    let origin = root.join(ORIGIN_DIR);

    let mut opts = RepositoryInitOptions::new();
    opts.bare(true).initial_head(BRANCH);
    Repository::init_opts(&origin, &opts).map_err(DemoError::git(format!(
        "git init --bare {}",
        origin.display()
    )))?;
    init_shop(&shop, &origin)?;
    write_files(&shop, exe)?;

    let vcs_err = |context: &str| {
        let context = context.to_string();
        move |e: crate::vcs::VcsError| DemoError::Git {
            context,
            message: e.to_string(),
        }
    };
    let repo = Repo::open(&shop).map_err(vcs_err("cannot open the project"))?;
    repo.commit_all(INITIAL_COMMIT)
        .map_err(vcs_err("git commit"))?;
    repo.push(&GitSettings::default())
        .map_err(vcs_err("git push -u origin main"))?;
    Ok(DemoProject {
        tmp,
        root,
        shop,
        origin,
    })
}

/// `git init` with the demo's identity and `origin` as its remote.
fn init_shop(shop: &Path, origin: &Path) -> Result<(), DemoError> {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head(BRANCH);
    let repo = Repository::init_opts(shop, &opts)
        .map_err(DemoError::git(format!("git init {}", shop.display())))?;
    let mut config = repo
        .config()
        .and_then(|c| c.open_level(git2::ConfigLevel::Local))
        .map_err(DemoError::git("cannot open the repository's config"))?;
    for (key, value) in [
        ("user.name", "Roadmap Runner Demo"),
        ("user.email", "demo@roadmap-runner.invalid"),
        ("commit.gpgsign", "false"),
    ] {
        config
            .set_str(key, value)
            .map_err(DemoError::git(format!("git config {key}")))?;
    }
    let origin_url = origin.to_str().ok_or_else(|| DemoError::Git {
        context: "git remote add origin".into(),
        message: format!("{} is not valid UTF-8", origin.display()),
    })?;
    repo.remote("origin", origin_url)
        .map_err(DemoError::git("git remote add origin"))?;
    Ok(())
}

/// The skeleton: readme, roadmap, package file, configuration and the gate.
fn write_files(shop: &Path, exe: &Path) -> Result<(), DemoError> {
    let is_root = crate::exec::unix::running_as_root();
    let files = [
        ("README.md", README.to_string()),
        ("ROADMAP.md", ROADMAP.to_string()),
        ("package.json", PACKAGE_JSON.to_string()),
        ("roadmap-runner.toml", config_toml(exe, is_root)?),
        ("tests/run.sh", run_sh()),
    ];
    for (rel, text) in files {
        let path = shop.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(DemoError::io(format!("cannot create {}", dir.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(DemoError::io(format!("cannot write {}", path.display())))?;
    }
    Ok(())
}

/// `git log --oneline` of `main` in the bare origin: short id and subject,
/// newest first.
pub fn remote_log(origin: &Path) -> Result<Vec<(String, String)>, DemoError> {
    let repo = Repository::open_bare(origin)
        .map_err(DemoError::git(format!("cannot open {}", origin.display())))?;
    let mut walk = repo
        .revwalk()
        .map_err(DemoError::git("cannot walk the remote's history"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
        .map_err(DemoError::git("cannot walk the remote's history"))?;
    walk.push_ref(&format!("refs/heads/{BRANCH}"))
        .map_err(DemoError::git(format!("the remote has no branch {BRANCH}")))?;
    let mut lines = Vec::new();
    for id in walk {
        let id = id.map_err(DemoError::git("cannot walk the remote's history"))?;
        let commit = repo
            .find_commit(id)
            .map_err(DemoError::git("cannot read a commit"))?;
        let short = id.to_string()[..7].to_string();
        lines.push((
            short,
            String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roadmap::parse;

    #[test]
    fn the_roadmap_plans_exactly_the_catalog_files() {
        let parsed = parse(ROADMAP);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let r = &parsed.roadmap;
        assert_eq!(r.phases.len(), 2);
        assert_eq!(r.group_count(), 4);
        let parts = split::plan_files();
        // The split task's plan creates its file and two more.
        assert_eq!(r.task_count() + parts.len() - 1, FILES.len());
        for f in FILES {
            let line = format!("Create file: `{}`", f.path);
            let cell = format!("| `{}` |", f.path);
            assert!(
                ROADMAP.contains(&line)
                    || ROADMAP.contains(&cell)
                    || parts.iter().any(|p| p == f.path),
                "{} is not in the roadmap",
                f.path
            );
            assert!(f.content.contains(f.check), "{}", f.path);
        }
    }

    #[test]
    fn run_sh_checks_every_file_by_group() {
        let s = run_sh();
        for f in FILES {
            assert!(s.contains(&format!("check '{}' ", f.path)), "{s}");
        }
        for g in ["PHASE_1:A", "PHASE_1:B", "PHASE_2:C", "PHASE_2:D"] {
            assert!(s.contains(&format!("\ngroup {g}\n")), "{s}");
        }
        for g in ["PHASE_2:D:D1/1:A", "PHASE_2:D:D1/1:B"] {
            let line = format!("\nsubgroup {g} 'status/sub/2+3AD+3AD1.md'\n");
            assert!(s.contains(&line), "{s}");
        }
    }

    #[test]
    fn config_is_valid_and_quotes_the_program_path() {
        let text = config_toml(Path::new("/opt/my \"tools\"/roadmap-runner"), true).unwrap();
        let file = crate::config::FileConfig::parse(&text, Path::new("x.toml")).unwrap();
        let cmd = file.agent.command.unwrap();
        assert_eq!(cmd[0], "/opt/my \"tools\"/roadmap-runner");
        assert_eq!(cmd[1], AGENT_SUBCOMMAND);
        assert_eq!(
            file.agent.env.get("IS_SANDBOX").map(String::as_str),
            Some("1")
        );
        assert_eq!(file.run.max_parallel, Some(3));
        let text = config_toml(Path::new("/bin/rr"), false).unwrap();
        let file = crate::config::FileConfig::parse(&text, Path::new("x.toml")).unwrap();
        assert!(file.agent.env.is_empty());
    }
}
