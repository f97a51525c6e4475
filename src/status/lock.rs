//! The run lock (`.git/roadmap-runner.lock`, see `StatusDir::lock_path`): one runner per project at a time.
//!
//! An OS file lock (flock), not a pid file: the kernel releases it when the
//! holder dies, however it dies, so a lock left by a killed runner never
//! blocks the next one. The file's content only says who holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another roadmap-runner holds the lock {path} ({holder}); it is still running. Wait for it to finish, or stop it first"
    )]
    Held { path: PathBuf, holder: String },
    #[error("cannot create the lock {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How often `acquire` tries again when the lock is busy (20 ms apart).
const LOCK_TRIES: u32 = 10;

/// Held for the whole run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    pub fn acquire(path: &Path) -> Result<RunLock, LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        // A few quick tries: `status` (and `serve`) look at the lock by taking
        // it shared for a moment, which must not turn a cron run away.
        let mut tries = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if tries < LOCK_TRIES => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Held {
                        path: path.to_path_buf(),
                        holder: describe_holder(&mut file),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        let info = format!(
            "pid={} started={} command={}\n",
            std::process::id(),
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
            // A URL's user info (a NATS password) never lands in a file.
            std::env::args()
                .map(|a| crate::userinfo::without_userinfo(&a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(info.as_bytes()).map_err(io)?;
        Ok(RunLock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn describe_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "holder unknown".into()
    } else {
        text.to_string()
    }
}

/// Who holds the lock right now, if anyone (for `status`).
pub fn current_holder(path: &Path) -> Option<String> {
    let mut file = OpenOptions::new().read(true).write(true).open(path).ok()?;
    // A shared lock: a run holds it exclusively; two lookers never block
    // each other, and a run starting meanwhile retries (see `acquire`).
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(describe_holder(&mut file)),
        Err(TryLockError::Error(_)) => None,
    }
}

/// The pid recorded in a holder description.
pub fn holder_pid(holder: &str) -> Option<u32> {
    holder
        .split_whitespace()
        .find_map(|w| w.strip_prefix("pid="))
        .and_then(|p| p.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_is_refused_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("status/.lock");
        let first = RunLock::acquire(&p).unwrap();
        let holder = current_holder(&p).expect("held");
        assert_eq!(holder_pid(&holder), Some(std::process::id()));
        match RunLock::acquire(&p) {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.contains(&format!("pid={}", std::process::id())))
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        assert!(current_holder(&p).is_none());
        RunLock::acquire(&p).unwrap();
    }
}
