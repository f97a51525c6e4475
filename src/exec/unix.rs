//! Platform code: process groups and signals.
//!
//! Every child the runner starts leads its own process group (`setpgid(0, 0)`
//! before `exec`), so one `killpg` reaches the child and every descendant that
//! did not deliberately leave the group (`setsid`, `setpgid`). Signals go to
//! the group, never to the child's pid alone: `timeout`-style killing of the
//! direct child only is what left grandchildren running in the old script.

use crate::exec::process::ExitStatusKind;
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io;
use std::os::fd::AsFd;
use std::process::ExitStatus;

/// Sends `signal` to the process group `pgid`.
///
/// Returns `Ok(true)` when the signal was delivered to at least one process,
/// `Ok(false)` when the group no longer exists (`ESRCH`, the normal case once
/// everything has exited). Other errors (`EPERM`) are returned.
pub fn signal_group(pgid: u32, signal: Signal) -> io::Result<bool> {
    let Some(pgid) = checked_pid(pgid) else {
        return Ok(false);
    };
    match killpg(pgid, signal) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// `signal_group` for the cleanup paths, where there is nothing better to do
/// with an error than to log it.
pub fn signal_group_quiet(pgid: u32, signal: Signal) {
    if let Err(e) = signal_group(pgid, signal) {
        tracing::warn!(pgid, %signal, "cannot signal process group: {e}");
    }
}

/// SIGTERM to the group: the polite request to stop.
pub fn terminate_group(pgid: u32) {
    signal_group_quiet(pgid, Signal::SIGTERM);
}

/// SIGKILL to the group: nothing in it survives.
pub fn kill_group(pgid: u32) {
    signal_group_quiet(pgid, Signal::SIGKILL);
}

/// Whether any process (zombies included) is still in the group.
pub fn group_exists(pgid: u32) -> bool {
    let Some(pgid) = checked_pid(pgid) else {
        return false;
    };
    // Signal 0 checks existence and permission without sending anything.
    !matches!(killpg(pgid, None), Err(Errno::ESRCH))
}

/// Whether the effective user is root (agent CLIs refuse some options then).
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The exit status as a plain code or the signal that ended the process.
pub fn exit_status_kind(status: ExitStatus) -> ExitStatusKind {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitStatusKind::Code(code),
        (None, Some(sig)) => ExitStatusKind::Signal(sig),
        // Neither: stopped/continued statuses never reach us from `wait`.
        (None, None) => ExitStatusKind::Code(-1),
    }
}

/// Pids 0 and 1 as a group id would mean "our own group" or init's: never
/// signal those, whatever the caller passed.
fn checked_pid(pid: u32) -> Option<Pid> {
    let raw = i32::try_from(pid).ok()?;
    (raw > 1).then(|| Pid::from_raw(raw))
}

/// Turns the tty's `ECHOCTL` off while it lives, and back on when dropped.
///
/// With `ECHOCTL` the tty echoes Ctrl-C as `^C` at the cursor. The live view
/// pads every row to the last column, so those two characters wrap: the
/// drawing ends a line lower than indicatif believes, and every redraw after
/// that leaves its top rows frozen on the screen. Without `ECHOCTL` the
/// control character is echoed as itself, which a terminal does not show.
pub struct QuietControlEcho {
    fd: std::os::fd::OwnedFd,
    saved: nix::sys::termios::Termios,
}

impl QuietControlEcho {
    /// `None` when stdout is not a tty or `ECHOCTL` is already off.
    pub fn on_stdout() -> Option<QuietControlEcho> {
        use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
        let fd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
        let saved = tcgetattr(&fd).ok()?;
        if !saved.local_flags.contains(LocalFlags::ECHOCTL) {
            return None;
        }
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHOCTL);
        tcsetattr(&fd, SetArg::TCSANOW, &quiet).ok()?;
        Some(QuietControlEcho { fd, saved })
    }
}

impl Drop for QuietControlEcho {
    fn drop(&mut self) {
        use nix::sys::termios::{SetArg, tcsetattr};
        let _ = tcsetattr(&self.fd, SetArg::TCSANOW, &self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_dangerous_group_ids() {
        assert!(!group_exists(0));
        assert!(!group_exists(1));
        assert!(!signal_group(0, Signal::SIGKILL).unwrap());
        assert!(!signal_group(u32::MAX, Signal::SIGKILL).unwrap());
    }

    #[test]
    fn missing_group_is_not_an_error() {
        // pid_max is at most 2^22, so this group cannot exist.
        assert!(!signal_group(i32::MAX as u32, Signal::SIGTERM).unwrap());
        assert!(!group_exists(i32::MAX as u32));
    }
}
