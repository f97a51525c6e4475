//! One project on disk: its directory, roadmap, status and log locations, and
//! loading its roadmap with diagnostics.

use crate::roadmap::{Diagnostic, Dialect, Roadmap, Severity, parse_as};
use crate::status::StatusDir;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("project directory {0} does not exist")]
    NoDir(PathBuf),
    #[error(
        "roadmap {0} not found: create it (`roadmap-runner init` writes a starter, `init --goal \"...\"` has the agent draft one, `import PLAN.md` turns a plan into one) or point --roadmap / ROADMAP_FILE at yours"
    )]
    NoRoadmap(PathBuf),
    #[error("cannot read roadmap {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}:{col}: the roadmap is not valid UTF-8 (byte {offset}); save it as UTF-8 and run again"
    )]
    NotUtf8 {
        path: String,
        line: usize,
        col: usize,
        offset: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub roadmap_path: PathBuf,
    pub status: StatusDir,
    pub logs_dir: PathBuf,
    /// `--dialect`: how every command reads the roadmap (`None`: detected).
    pub dialect: Option<Dialect>,
}

impl Project {
    /// `dir` defaults to the current directory, `roadmap` to `ROADMAP.md` in it
    /// (a relative `roadmap` is taken relative to the current directory, as
    /// any path on a command line).
    pub fn new(dir: Option<&Path>, roadmap: Option<&Path>) -> Result<Project, ProjectError> {
        let dir = dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        if !dir.is_dir() {
            return Err(ProjectError::NoDir(dir));
        }
        let dir = dir.canonicalize().unwrap_or(dir);
        let roadmap_path = match roadmap {
            Some(p) => p.to_path_buf(),
            None => dir.join("ROADMAP.md"),
        };
        Ok(Project {
            status: StatusDir::new(&dir),
            logs_dir: dir.join("logs"),
            dir,
            roadmap_path,
            dialect: None,
        })
    }

    /// The project with the roadmap read in `dialect` (`None`: detected).
    pub fn with_dialect(mut self, dialect: Option<Dialect>) -> Project {
        self.dialect = dialect;
        self
    }

    /// The roadmap path as users should read it in messages.
    pub fn roadmap_display(&self) -> String {
        relative_display(&self.dir, &self.roadmap_path)
    }

    pub fn load_roadmap(&self) -> Result<LoadedRoadmap, ProjectError> {
        let bytes = std::fs::read(&self.roadmap_path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ProjectError::NoRoadmap(self.roadmap_path.clone())
            } else {
                ProjectError::Read {
                    path: self.roadmap_path.clone(),
                    source,
                }
            }
        })?;
        let display = self.roadmap_display();
        let source = String::from_utf8(bytes).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]).into_owned();
            let (line, col) = crate::roadmap::diagnostics::line_col(&valid, offset);
            ProjectError::NotUtf8 {
                path: display.clone(),
                line,
                col,
                offset,
            }
        })?;
        let parsed = parse_as(&source, self.dialect);
        Ok(LoadedRoadmap {
            display,
            source,
            roadmap: parsed.roadmap,
            diagnostics: parsed.diagnostics,
        })
    }

    pub fn orchestrator_logs(&self) -> PathBuf {
        self.logs_dir.join("orchestrator")
    }
}

/// `path` relative to `base` when it is inside it, as shown to users and
/// stored in status files.
pub fn relative_display(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A parsed roadmap with the text it came from (diagnostics point into it).
#[derive(Debug, Clone)]
pub struct LoadedRoadmap {
    pub display: String,
    pub source: String,
    pub roadmap: Roadmap,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedRoadmap {
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// Every diagnostic, rendered with its source line and caret (one line
    /// index for all of them: linear time).
    pub fn render_diagnostics(&self) -> String {
        crate::roadmap::diagnostics::render_all(&self.diagnostics, &self.display, &self.source)
    }

    /// `4 phases, 17 groups, 61 tasks`.
    pub fn summary(&self) -> String {
        let r = &self.roadmap;
        format!(
            "{}, {}, {}",
            crate::text::plural(r.phases.len(), "phase"),
            crate::text::plural(r.group_count(), "group"),
            crate::text::plural(r.task_count(), "task")
        )
    }
}

/// `$XDG_CACHE_HOME/roadmap-runner` (a relative one is ignored, as the XDG
/// spec says), else `~/.cache/roadmap-runner`: where task worktrees and a
/// worker's mirrors go by default.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("roadmap-runner")
}

/// `logs/.gitignore`: the logs are never committed.
pub const LOGS_GITIGNORE: &str = "# written by roadmap-runner: logs are not committed\n*\n";
/// `status/.gitignore`: the status files are committed, the lock and temp files not.
/// `<dir>/<name>_<YYYYmmdd-HHMMSS>.log`, with `-2`, `-3`... when a log of
/// that second exists already: every attempt and gate run has its own log.
pub fn new_log_path(dir: &Path, name: &str) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let base = format!("{name}_{stamp}");
    let mut path = dir.join(format!("{base}.log"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{base}-{n}.log"));
        n += 1;
    }
    path
}

/// The lock, temp files and the status files of one moment of one run
/// (`in_progress_tasks.txt`, `pending_tasks.txt`): never committed.
pub const STATUS_GITIGNORE: &str =
    "# written by roadmap-runner\n.lock\n.*.tmp\nin_progress_tasks.txt\npending_tasks.txt\n";

/// What earlier versions wrote as `status/.gitignore`: brought up to date.
const OLD_GITIGNORES: &[&str] = &["# written by roadmap-runner\n.lock\n.*.tmp\n"];

/// Writes `dir/.gitignore` unless the user already has one there (one an
/// earlier version of the runner wrote is brought up to date).
pub fn ensure_gitignore(dir: &Path, text: &str) -> std::io::Result<()> {
    let path = dir.join(".gitignore");
    match std::fs::read_to_string(&path) {
        Ok(old) if old == text || !OLD_GITIGNORES.contains(&old.as_str()) => return Ok(()),
        // Not ours to touch if it cannot be read.
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Ok(()),
        _ => {}
    }
    crate::status::write_atomic(&path, text.as_bytes())
}
