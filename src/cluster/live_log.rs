//! A remote attempt's log while it runs: the worker tails its setup and
//! agent logs and publishes what is appended on the attempt's core NATS
//! subject ([`AttemptKey::log_subject`]); the coordinator appends it to the
//! attempt's log file, so `logs --follow` and the dashboard read a remote
//! task as a local one. Core NATS may drop a chunk (a reconnection): each
//! carries its offset, a gap is marked, and the copy from the object store
//! replaces the file when the attempt ends: that copy is the log.

use super::protocol::AttemptKey;
use futures_util::StreamExt;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often the worker looks for new lines.
const POLL: Duration = Duration::from_millis(250);
/// The most one message carries (the server's default max payload is 1 MB).
const CHUNK: usize = 64 * 1024;
/// Where in the attempt's log (setup's, then the agent's) a chunk starts.
const OFFSET: &str = "Rr-Offset";
/// Who writes it: `worker <name> (delivery <n>)`; a new writer starts at 0.
const SOURCE: &str = "Rr-Source";

/// The worker's side: tails `files` in order (the next one once it exists)
/// until [`Tail::finish`].
pub struct Tail {
    done: Option<oneshot::Sender<()>>,
    handle: JoinHandle<()>,
}

impl Tail {
    pub fn start(
        client: async_nats::Client,
        key: &AttemptKey,
        source: String,
        files: Vec<PathBuf>,
    ) -> Tail {
        let (done, mut until) = oneshot::channel();
        let subject = key.log_subject();
        let handle = tokio::spawn(async move {
            let mut reader = Reader::new(files);
            loop {
                let last = tokio::select! {
                    _ = tokio::time::sleep(POLL) => false,
                    _ = &mut until => true,
                };
                while let Some((offset, bytes)) = reader.next_chunk() {
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert(OFFSET, offset.to_string().as_str());
                    headers.insert(SOURCE, source.as_str());
                    let sent = client
                        .publish_with_headers(subject.clone(), headers, bytes.into())
                        .await;
                    if let Err(e) = sent {
                        tracing::debug!(error = %e, "cannot stream the log");
                    }
                }
                if last {
                    let _ = client.flush().await;
                    return;
                }
            }
        });
        Tail {
            done: Some(done),
            handle,
        }
    }

    /// Sends what is left, then stops.
    pub async fn finish(mut self) {
        if let Some(d) = self.done.take() {
            let _ = d.send(());
        }
        let _ = (&mut self.handle).await;
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Reads what was appended to a list of files, one after the other.
struct Reader {
    files: Vec<PathBuf>,
    at: usize,
    pos: u64,
    /// Bytes handed out so far, over all the files.
    offset: u64,
}

impl Reader {
    fn new(files: Vec<PathBuf>) -> Reader {
        Reader {
            files,
            at: 0,
            pos: 0,
            offset: 0,
        }
    }

    /// The next bytes and where they start, if there are any.
    fn next_chunk(&mut self) -> Option<(u64, Vec<u8>)> {
        loop {
            let path = self.files.get(self.at)?;
            // Whether the next file exists: then this one is complete.
            let moved_on = self.files.get(self.at + 1).is_some_and(|p| p.exists());
            let got = read_from(path, self.pos, CHUNK);
            if !got.is_empty() {
                let at = self.offset;
                self.pos += got.len() as u64;
                self.offset += got.len() as u64;
                return Some((at, got));
            }
            if !moved_on {
                return None;
            }
            self.at += 1;
            self.pos = 0;
        }
    }
}

fn read_from(path: &Path, pos: u64, max: usize) -> Vec<u8> {
    let Ok(mut f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(pos)).is_ok() {
        let _ = Read::by_ref(&mut f).take(max as u64).read_to_end(&mut buf);
    }
    buf
}

/// The coordinator's side: appends the attempt's chunks to its log file
/// until [`Follow::stop`].
pub struct Follow {
    handle: JoinHandle<()>,
}

impl Follow {
    pub async fn start(client: &async_nats::Client, key: &AttemptKey, log: PathBuf) -> Follow {
        let sub = client.subscribe(key.log_subject()).await;
        let handle = tokio::spawn(async move {
            let Ok(mut sub) = sub else { return };
            let mut file = Appender::new(log);
            while let Some(m) = sub.next().await {
                let header = |name: &str| {
                    m.headers
                        .as_ref()
                        .and_then(|h| h.get(name))
                        .map(|v| v.as_str().to_string())
                };
                let offset = header(OFFSET).and_then(|o| o.parse().ok()).unwrap_or(0);
                let source = header(SOURCE).unwrap_or_default();
                file.chunk(&source, offset, &m.payload);
            }
        });
        Follow { handle }
    }

    /// No more appending: the final copy may replace the file now.
    pub async fn stop(mut self) {
        self.handle.abort();
        let _ = (&mut self.handle).await;
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// The log file as chunks arrive: each source's bytes in order, a gap or
/// a new source marked.
struct Appender {
    path: PathBuf,
    source: Option<String>,
    /// The offset of the source's next byte.
    next: u64,
}

impl Appender {
    fn new(path: PathBuf) -> Appender {
        Appender {
            path,
            source: None,
            next: 0,
        }
    }

    fn chunk(&mut self, source: &str, offset: u64, bytes: &[u8]) {
        let mut out = Vec::new();
        if self.source.as_deref() != Some(source) {
            if self.source.is_some() {
                out.extend_from_slice(
                    format!("roadmap-runner: {source} takes the task over\n").as_bytes(),
                );
            }
            self.source = Some(source.to_string());
            self.next = 0;
        }
        let end = offset + bytes.len() as u64;
        if end <= self.next {
            return;
        }
        if offset > self.next {
            out.extend_from_slice(
                b"roadmap-runner: some lines did not arrive (the whole log comes when the task ends)\n",
            );
            out.extend_from_slice(bytes);
        } else {
            out.extend_from_slice(&bytes[(self.next - offset) as usize..]);
        }
        self.next = end;
        if let Err(e) = self.append(&out) {
            tracing::debug!(log = %self.path.display(), error = %e, "cannot append to the log");
        }
    }

    fn append(&self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?
            .write_all(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_goes_from_the_setup_log_to_the_agent_log_once_it_exists() {
        let d = tempfile::tempdir().unwrap();
        let (setup, agent) = (d.path().join("a.setup.log"), d.path().join("a.log"));
        let mut r = Reader::new(vec![setup.clone(), agent.clone()]);
        assert_eq!(r.next_chunk(), None);
        std::fs::write(&setup, "setup 1\n").unwrap();
        assert_eq!(r.next_chunk(), Some((0, b"setup 1\n".to_vec())));
        assert_eq!(r.next_chunk(), None);
        std::fs::write(&setup, "setup 1\nsetup 2\n").unwrap();
        std::fs::write(&agent, "agent\n").unwrap();
        assert_eq!(r.next_chunk(), Some((8, b"setup 2\n".to_vec())));
        assert_eq!(r.next_chunk(), Some((16, b"agent\n".to_vec())));
        assert_eq!(r.next_chunk(), None);
    }

    #[test]
    fn the_appender_skips_repeats_and_marks_gaps_and_new_sources() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("logs").join("t.log");
        let mut a = Appender::new(log.clone());
        a.chunk("w1#1", 0, b"one\n");
        a.chunk("w1#1", 0, b"one\n");
        a.chunk("w1#1", 2, b"e\ntwo\n");
        a.chunk("w1#1", 20, b"far\n");
        a.chunk("worker w2 (delivery 2)", 0, b"again\n");
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            text,
            "one\ntwo\nroadmap-runner: some lines did not arrive (the whole log comes when the task ends)\nfar\nroadmap-runner: worker w2 (delivery 2) takes the task over\nagain\n"
        );
    }
}
