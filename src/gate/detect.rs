//! Finding the gate in the project itself.
//!
//! Four ecosystems are recognised, each able to provide some of the steps
//! typecheck, lint, test and build:
//!
//! * `package.json` — the scripts `typecheck` (or `type-check`), `lint`, `test`,
//!   `build`, run with the package manager its lockfile names (`pnpm-lock.yaml`,
//!   `yarn.lock`, `bun.lockb`/`bun.lock`; else the `packageManager` field; else
//!   npm). npm's placeholder test script counts as no script.
//! * `Cargo.toml` — `cargo check --all-targets`, `cargo clippy --all-targets`,
//!   `cargo test`, `cargo build --release` (with `--workspace` when the manifest
//!   has a `[workspace]` table).
//! * `pyproject.toml` — only what is configured: `mypy .` (`[tool.mypy]`,
//!   `mypy.ini`), `ruff check .` (`[tool.ruff]`, `ruff.toml`), `pytest`
//!   (`[tool.pytest.ini_options]`, `pytest.ini`, a `tests/` dir). Tools run
//!   through `uv run` / `poetry run` when `uv.lock` / `poetry.lock` exists, or
//!   from `.venv/bin/` when the tool is there (cron never activates a venv).
//!   No build step.
//! * `GNUmakefile`, `makefile` or `Makefile` — targets with those four names.
//!
//! When several are present each step comes from the first ecosystem in that
//! order that provides it (a Makefile is often a wrapper around the others, so
//! it comes last). A step that a later ecosystem also provides is noted, so a
//! user of a mixed repository learns how to run both (list them in
//! `[[gate.steps]]`).

use super::{
    GateError, GatePlan, GateStep, NO_GATE_NOTE, NON_FATAL_BY_DEFAULT, STEP_ORDER, StepSource,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What one ecosystem offers.
struct Provider {
    /// `package.json`, `Cargo.toml`...
    name: &'static str,
    steps: BTreeMap<&'static str, GateStep>,
    /// Why a step is not provided, when that deserves a note.
    skipped: BTreeMap<&'static str, String>,
    notes: Vec<String>,
}

impl Provider {
    fn new(name: &'static str) -> Self {
        Provider {
            name,
            steps: BTreeMap::new(),
            skipped: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    fn add(&mut self, step: &'static str, argv: Vec<String>, what: String) {
        self.steps.insert(
            step,
            GateStep {
                name: step.to_string(),
                display: display_argv(&argv),
                argv,
                fatal: step != NON_FATAL_BY_DEFAULT,
                timeout: None,
                source: StepSource::Detected { what },
            },
        );
    }
}

pub(super) fn detect(dir: &Path) -> Result<GatePlan, GateError> {
    let mut providers = Vec::new();
    if let Some(p) = node(dir)? {
        providers.push(p);
    }
    if let Some(p) = cargo(dir)? {
        providers.push(p);
    }
    if let Some(p) = python(dir)? {
        providers.push(p);
    }
    if let Some(p) = make(dir)? {
        providers.push(p);
    }

    let mut plan = GatePlan::default();
    if providers.is_empty() {
        plan.notes.push(NO_GATE_NOTE.to_string());
        return Ok(plan);
    }
    for p in &providers {
        plan.notes.extend(p.notes.iter().cloned());
    }
    for step in STEP_ORDER {
        let mut offering = providers.iter().filter(|p| p.steps.contains_key(step));
        match offering.next() {
            Some(first) => {
                let chosen = first.steps[step].clone();
                for other in offering {
                    let s = &other.steps[step];
                    plan.notes.push(format!(
                        "{} also provides `{step}` (`{}`), not run: {} comes first; list both \
                         under [[gate.steps]] in roadmap-runner.toml to run both",
                        other.name, s.display, chosen.source
                    ));
                }
                plan.steps.push(chosen);
            }
            None => {
                for p in &providers {
                    if let Some(why) = p.skipped.get(step) {
                        plan.notes.push(why.clone());
                    }
                }
            }
        }
    }
    for step in &plan.steps {
        if let Some(note) = missing_program_note(dir, step) {
            plan.notes.push(note);
        }
    }
    if plan.steps.is_empty() {
        let found: Vec<_> = providers.iter().map(|p| p.name).collect();
        plan.notes.push(format!(
            "found {} but no typecheck/lint/test/build in it: no gate runs. {NO_GATE_NOTE}",
            found.join(", ")
        ));
    }
    Ok(plan)
}

/// A note when the step's program cannot be found: under cron PATH is short
/// (`/usr/bin:/bin`), and this is the first thing that breaks.
fn missing_program_note(dir: &Path, step: &GateStep) -> Option<String> {
    let program = step.argv.first()?;
    if program.contains('/') {
        let path = dir.join(program);
        return (!path.exists()).then(|| {
            format!(
                "step `{}`: `{program}` does not exist: the step will fail",
                step.name
            )
        });
    }
    if which::which(program).is_ok() {
        return None;
    }
    let path = std::env::var("PATH").unwrap_or_default();
    Some(format!(
        "step `{}`: `{program}` is not on PATH ({path}): the step will fail. Install it, or \
         set PATH in the crontab (cron runs with a minimal PATH)",
        step.name
    ))
}

fn display_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn read_if_exists(path: &Path) -> Result<Option<String>, GateError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(GateError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------- package.json

const NPM_PLACEHOLDER: &str = "no test specified";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NodePm {
    Npm,
    Pnpm,
    Yarn,
    Bun,
}

impl NodePm {
    fn program(self) -> &'static str {
        match self {
            NodePm::Npm => "npm",
            NodePm::Pnpm => "pnpm",
            NodePm::Yarn => "yarn",
            NodePm::Bun => "bun",
        }
    }

    fn argv(self, script: &str) -> Vec<String> {
        match (self, script) {
            // `npm test` / `yarn test` are the idiomatic forms; `bun test` would
            // run bun's own test runner instead of the script, so bun keeps `run`.
            (NodePm::Npm | NodePm::Yarn, "test") => strs(&[self.program(), "test"]),
            _ => strs(&[self.program(), "run", script]),
        }
    }
}

fn node_pm(dir: &Path, manifest: &serde_json::Value) -> (NodePm, String) {
    let lockfiles = [
        ("pnpm-lock.yaml", NodePm::Pnpm),
        ("yarn.lock", NodePm::Yarn),
        ("bun.lockb", NodePm::Bun),
        ("bun.lock", NodePm::Bun),
        ("package-lock.json", NodePm::Npm),
        ("npm-shrinkwrap.json", NodePm::Npm),
    ];
    for (file, pm) in lockfiles {
        if dir.join(file).is_file() {
            return (pm, file.to_string());
        }
    }
    if let Some(field) = manifest.get("packageManager").and_then(|v| v.as_str()) {
        let name = field.split('@').next().unwrap_or("");
        let pm = match name {
            "pnpm" => Some(NodePm::Pnpm),
            "yarn" => Some(NodePm::Yarn),
            "bun" => Some(NodePm::Bun),
            "npm" => Some(NodePm::Npm),
            _ => None,
        };
        if let Some(pm) = pm {
            return (pm, format!("\"packageManager\": \"{field}\""));
        }
    }
    (NodePm::Npm, "no lockfile".to_string())
}

fn node(dir: &Path) -> Result<Option<Provider>, GateError> {
    let path = dir.join("package.json");
    let Some(text) = read_if_exists(&path)? else {
        return Ok(None);
    };
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| GateError::Manifest {
            path: path.clone(),
            format: "JSON",
            message: e.to_string(),
        })?;
    let (pm, why_pm) = node_pm(dir, &manifest);
    let scripts = manifest.get("scripts").and_then(|s| s.as_object());
    let script = |name: &str| {
        scripts
            .and_then(|s| s.get(name))
            .and_then(|v| v.as_str())
            .filter(|v| !v.trim().is_empty())
    };

    let mut p = Provider::new("package.json");
    for step in STEP_ORDER {
        let candidates: &[&str] = if step == "typecheck" {
            &["typecheck", "type-check"]
        } else {
            std::slice::from_ref(&step)
        };
        let found = candidates
            .iter()
            .find_map(|c| script(c).map(|body| (*c, body)));
        match found {
            Some(("test", body)) if body.contains(NPM_PLACEHOLDER) => {
                p.skipped.insert(
                    step,
                    "package.json \"test\" script is npm's placeholder (`echo \"Error: no test \
                     specified\" && exit 1`), treated as no test script: step skipped"
                        .to_string(),
                );
            }
            Some((name, _)) => {
                p.add(
                    step,
                    pm.argv(name),
                    format!("package.json script `{name}` ({}, {why_pm})", pm.program()),
                );
            }
            None => {
                p.skipped.insert(
                    step,
                    format!("package.json has no \"{step}\" script: step skipped"),
                );
            }
        }
    }
    Ok(Some(p))
}

// ------------------------------------------------------------------ Cargo.toml

fn parse_toml(path: &Path, text: &str) -> Result<toml::Table, GateError> {
    text.parse::<toml::Table>()
        .map_err(|e| GateError::Manifest {
            path: path.to_path_buf(),
            format: "TOML",
            message: e.message().to_string(),
        })
}

fn cargo(dir: &Path) -> Result<Option<Provider>, GateError> {
    let path = dir.join("Cargo.toml");
    let Some(text) = read_if_exists(&path)? else {
        return Ok(None);
    };
    let manifest = parse_toml(&path, &text)?;
    let workspace = manifest.contains_key("workspace");
    let mut p = Provider::new("Cargo.toml");
    let commands: [(&str, &[&str]); 4] = [
        ("typecheck", &["cargo", "check", "--all-targets"]),
        ("lint", &["cargo", "clippy", "--all-targets"]),
        ("test", &["cargo", "test"]),
        ("build", &["cargo", "build", "--release"]),
    ];
    for (step, argv) in commands {
        let mut argv = strs(argv);
        if workspace {
            argv.insert(2, "--workspace".into());
        }
        p.add(step, argv, "Cargo.toml".into());
    }
    Ok(Some(p))
}

// -------------------------------------------------------------- pyproject.toml

fn python(dir: &Path) -> Result<Option<Provider>, GateError> {
    let path = dir.join("pyproject.toml");
    let Some(text) = read_if_exists(&path)? else {
        return Ok(None);
    };
    let manifest = parse_toml(&path, &text)?;
    let tool = manifest.get("tool").and_then(|t| t.as_table());
    let has_tool = |name: &str| tool.is_some_and(|t| t.contains_key(name));
    let exists = |name: &str| dir.join(name).exists();
    let pytest_configured = tool
        .and_then(|t| t.get("pytest"))
        .and_then(|t| t.as_table())
        .is_some_and(|t| t.contains_key("ini_options"));

    let steps = [
        PyStep {
            step: "typecheck",
            program: "mypy",
            args: &["."],
            why: first_found(&[
                (has_tool("mypy"), "[tool.mypy] in pyproject.toml"),
                (exists("mypy.ini"), "mypy.ini"),
                (exists(".mypy.ini"), ".mypy.ini"),
            ]),
            skipped: "pyproject.toml: no [tool.mypy] (nor mypy.ini): typecheck skipped",
        },
        PyStep {
            step: "lint",
            program: "ruff",
            args: &["check", "."],
            why: first_found(&[
                (has_tool("ruff"), "[tool.ruff] in pyproject.toml"),
                (exists("ruff.toml"), "ruff.toml"),
                (exists(".ruff.toml"), ".ruff.toml"),
            ]),
            skipped: "pyproject.toml: no [tool.ruff] (nor ruff.toml): lint skipped",
        },
        PyStep {
            step: "test",
            program: "pytest",
            args: &[],
            why: first_found(&[
                (
                    pytest_configured,
                    "[tool.pytest.ini_options] in pyproject.toml",
                ),
                (exists("pytest.ini"), "pytest.ini"),
                (dir.join("tests").is_dir(), "a tests/ directory"),
            ]),
            skipped: "pyproject.toml: no [tool.pytest.ini_options], pytest.ini or tests/ directory: \
             test skipped",
        },
    ];
    let mut p = Provider::new("pyproject.toml");
    for s in steps {
        match s.why {
            Some(why) => {
                let (argv, how) = python_command(dir, s.program, s.args);
                p.add(s.step, argv, format!("{why}{how}"));
            }
            None => {
                p.skipped.insert(s.step, s.skipped.into());
            }
        }
    }
    Ok(Some(p))
}

/// One gate step a Python project may have: what says its tool is
/// configured (the first evidence found), or why the step is skipped.
struct PyStep<'a> {
    step: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    why: Option<&'a str>,
    skipped: &'static str,
}

/// The first evidence that holds.
fn first_found<'a>(evidence: &[(bool, &'a str)]) -> Option<&'a str> {
    evidence
        .iter()
        .find(|(holds, _)| *holds)
        .map(|(_, why)| *why)
}

/// A Python tool's command line: through the lock file's runner (uv,
/// poetry), else from `.venv`, else from PATH; and how it was chosen.
fn python_command(dir: &Path, tool: &str, args: &[&str]) -> (Vec<String>, String) {
    let runner = if dir.join("uv.lock").exists() {
        Some(("uv", "uv.lock"))
    } else if dir.join("poetry.lock").exists() {
        Some(("poetry", "poetry.lock"))
    } else {
        None
    };
    let mut argv = Vec::new();
    let how = match runner {
        Some((r, lock)) => {
            argv.extend(strs(&[r, "run", tool]));
            format!(", via `{r} run` ({lock})")
        }
        None => {
            let venv: PathBuf = [".venv", "bin", tool].iter().collect();
            if dir.join(&venv).is_file() {
                argv.push(venv.to_string_lossy().into_owned());
                ", from .venv".to_string()
            } else {
                argv.push(tool.to_string());
                String::new()
            }
        }
    };
    argv.extend(strs(args));
    (argv, how)
}

// -------------------------------------------------------------------- Makefile

fn make(dir: &Path) -> Result<Option<Provider>, GateError> {
    // GNU make's own order of preference.
    let mut found = None;
    for name in ["GNUmakefile", "makefile", "Makefile"] {
        if let Some(text) = read_if_exists(&dir.join(name))? {
            found = Some((name, text));
            break;
        }
    }
    let Some((file, text)) = found else {
        return Ok(None);
    };
    let targets = make_targets(&text);
    let mut p = Provider::new(file);
    for step in STEP_ORDER {
        if targets.iter().any(|t| t == step) {
            p.add(
                step,
                strs(&["make", step]),
                format!("{file} target `{step}`"),
            );
        } else {
            p.skipped.insert(
                step,
                format!("{file} has no \"{step}\" target: step skipped"),
            );
        }
    }
    Ok(Some(p))
}

/// The explicit targets defined in a makefile: `name:` / `a b: deps` lines at
/// the start of a line, excluding variable assignments (`X := y`, `X = a:b`)
/// and special targets (`.PHONY`).
pub(crate) fn make_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in text.lines() {
        if line.starts_with(|c: char| c.is_whitespace() || c == '#') {
            continue;
        }
        let Some(colon) = line.find(':') else {
            continue;
        };
        let (names, rest) = line.split_at(colon);
        if names.contains('=') || rest[1..].starts_with('=') || rest.starts_with("::=") {
            continue;
        }
        for name in names.split_whitespace() {
            if !name.starts_with('.') && !name.contains('%') && !name.contains('$') {
                targets.push(name.to_string());
            }
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_targets() {
        let text = "\
CC := gcc
X = a:b
Y ::= c
.PHONY: test lint
# build: not this
all: build
test lint: deps
\techo test: not a target
build::
%.o: %.c
typecheck:;@true
";
        assert_eq!(
            make_targets(text),
            ["all", "test", "lint", "build", "typecheck"]
        );
    }

    #[test]
    fn quoting_for_display() {
        assert_eq!(
            display_argv(&strs(&["sh", "-c", "echo it's"])),
            r"sh -c 'echo it'\''s'"
        );
        assert_eq!(display_argv(&strs(&["npm", "run", "lint"])), "npm run lint");
    }
}
