//! Every run's events, also in a file: `logs/orchestrator/events_<stamp>.jsonl`
//! holds the `--json` objects one per line, whatever reporter the run shows,
//! so `serve` can stream runs it did not start (cron, the CLI).

use super::JsonReporter;
use crate::events::{Event, Reporter};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The file name prefix and extension `serve` looks for.
pub const PREFIX: &str = "events_";
pub const EXTENSION: &str = "jsonl";

/// Reports to `inner` and appends every event to the run's events file.
pub struct TeeReporter {
    inner: Box<dyn Reporter>,
    file: JsonReporter<File>,
}

impl Reporter for TeeReporter {
    fn report(&mut self, event: &Event) {
        self.inner.report(event);
        // One write per line (the JSON reporter flushes each): a reader that
        // tails the file only ever sees whole lines plus at most one partial.
        self.file.report(event);
    }
}

/// `inner` plus the events file in `logs_dir/orchestrator/`. Without a file
/// (read-only project, full disk) the run goes on with a warning in the log.
pub fn with_event_log(inner: Box<dyn Reporter>, logs_dir: &Path) -> Box<dyn Reporter> {
    match create(&logs_dir.join("orchestrator")) {
        Ok((file, _)) => Box::new(TeeReporter {
            inner,
            file: JsonReporter::new(file),
        }),
        Err(e) => {
            tracing::warn!(
                "cannot create the events file in {}: {e}",
                logs_dir.display()
            );
            inner
        }
    }
}

/// A new `events_<YYYYmmdd-HHMMSS>[-<n>].jsonl`, never an existing one.
pub fn create(dir: &Path) -> std::io::Result<(File, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    for n in 1u32.. {
        let name = match n {
            1 => format!("{PREFIX}{stamp}.{EXTENSION}"),
            n => format!("{PREFIX}{stamp}-{n}.{EXTENSION}"),
        };
        let path = dir.join(name);
        match OpenOptions::new().append(true).create_new(true).open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_runs_in_one_second_get_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let (_, a) = create(dir.path()).unwrap();
        let (_, b) = create(dir.path()).unwrap();
        assert_ne!(a, b);
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name(&a).starts_with(PREFIX) && name(&a).ends_with(".jsonl"));
    }

    #[test]
    fn every_event_reaches_the_file_as_its_json_object() {
        let dir = tempfile::tempdir().unwrap();
        struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl Reporter for Count {
            fn report(&mut self, _: &Event) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tee = with_event_log(Box::new(Count(seen.clone())), dir.path());
        tee.report(&Event::Warning {
            message: "one".into(),
        });
        tee.report(&Event::Warning {
            message: "two".into(),
        });
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
        let file = std::fs::read_dir(dir.path().join("orchestrator"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["event"], "warning");
        assert_eq!(lines[1]["message"], "two");
        assert_eq!(lines[1]["schema"], 1);
    }
}
