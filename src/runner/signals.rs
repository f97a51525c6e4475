//! The runner's own SIGINT / SIGTERM / SIGHUP become stop requests: the first
//! asks every agent to terminate (SIGTERM, grace, SIGKILL), a second kills at
//! once. The first signal decides the exit code (128 + signal number).

use crate::exec::StopLevel;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct SignalState {
    first: Arc<AtomicI32>,
}

impl SignalState {
    /// The first signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.first.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n),
        }
    }
}

/// Installs the handlers; they live as long as the runtime.
pub fn install(stop: watch::Sender<StopLevel>) -> std::io::Result<SignalState> {
    let first = Arc::new(AtomicI32::new(0));
    let state = SignalState {
        first: first.clone(),
    };
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            let signo = tokio::select! {
                Some(()) = int.recv() => libc_signo::SIGINT,
                Some(()) = term.recv() => libc_signo::SIGTERM,
                Some(()) = hup.recv() => libc_signo::SIGHUP,
                else => return,
            };
            let escalate = first
                .compare_exchange(0, signo, Ordering::SeqCst, Ordering::SeqCst)
                .is_err();
            let level = if escalate {
                StopLevel::Kill
            } else {
                StopLevel::Terminate
            };
            // Info, not warn: the user sees the Stopping event, and a line on
            // stderr in the middle of the live view would tear its rows.
            tracing::info!(
                signal = %signal_name(signo),
                "stop requested: {}",
                if escalate { "killing every agent now" } else { "terminating every agent" }
            );
            stop.send_if_modified(|cur| {
                if level > *cur {
                    *cur = level;
                    true
                } else {
                    false
                }
            });
        }
    });
    Ok(state)
}

mod libc_signo {
    use nix::sys::signal::Signal;
    pub const SIGINT: i32 = Signal::SIGINT as i32;
    pub const SIGTERM: i32 = Signal::SIGTERM as i32;
    pub const SIGHUP: i32 = Signal::SIGHUP as i32;
}

pub fn signal_name(signo: i32) -> String {
    nix::sys::signal::Signal::try_from(signo)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signo}"))
}
