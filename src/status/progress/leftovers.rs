//! What a dead run left running: its in-progress file is recovered when its
//! runner is gone, and the process groups it names are ended. A pid is
//! checked with its start time, so a reused pid is never taken for ours.

use super::InProgress;
use crate::status::StatusDir;
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// A left-over `in_progress_tasks.txt` from a run that did not end cleanly:
/// the file names a group or tasks, and its runner is gone (it is not alive,
/// or its pid now belongs to another process), or `holds_lock` says the
/// caller holds the run lock (so no other runner can be running). The file
/// written by this very process is never reported.
pub fn recover_in_progress(status: &StatusDir, holds_lock: bool) -> Option<InProgress> {
    let ip = InProgress::load(status).ok()?;
    if ip.is_empty() {
        return None;
    }
    match &ip.group {
        Some(g) => {
            let me = std::process::id();
            if g.runner_pid == me && g.runner_pid_start == process_start_time(me) {
                return None;
            }
            if !holds_lock && process_alive(g.runner_pid, g.runner_pid_start) {
                return None;
            }
        }
        None if !holds_lock => return None,
        None => {}
    }
    Some(ip)
}

/// The process groups a dead run left: every recorded agent's and the
/// gate step's, with the leader's recorded start time.
fn leftover_groups(ip: &InProgress) -> Vec<(u32, Option<u64>)> {
    let mut groups: Vec<(u32, Option<u64>)> =
        ip.tasks.iter().map(|t| (t.pid, t.pid_start)).collect();
    if let Some(g) = &ip.gate
        && let Some(pid) = g.pid
    {
        groups.push((pid, g.pid_start));
    }
    groups
}

/// SIGKILLs every process group a dead run left (agents and gate step), and
/// waits (a few seconds at most) until they are gone; returns the groups
/// killed. A group is killed when its leader is still the recorded process,
/// or when the leader is gone: a pid is never reused while a process group
/// of that id exists, so members still in the group are the dead run's own
/// (a backgrounded `npm run dev` that outlived its agent). A leader pid now
/// used by another process, a pid without a recorded start time, this
/// process's own group, and pids 0 and 1 are never signalled.
pub fn kill_leftovers(ip: &InProgress) -> Vec<u32> {
    let own_group = nix::unistd::getpgrp().as_raw();
    let mut killed = Vec::new();
    for (pid, start) in leftover_groups(ip) {
        let Ok(raw) = i32::try_from(pid) else {
            continue;
        };
        if raw <= 1 || raw == own_group || pid == std::process::id() {
            continue;
        }
        let Some(recorded) = start else {
            continue;
        };
        if process_start_time(pid).is_some_and(|now| now != recorded) {
            continue;
        }
        match killpg(Pid::from_raw(raw), Signal::SIGKILL) {
            Ok(()) => killed.push(pid),
            Err(Errno::ESRCH) => {}
            Err(e) => tracing::warn!(pgid = pid, "cannot kill a left-over process group: {e}"),
        }
    }
    wait_gone(&killed, std::time::Duration::from_secs(5));
    killed
}

/// Waits until none of `groups` has a process left (zombies aside), or `limit`.
fn wait_gone(groups: &[u32], limit: std::time::Duration) {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until
        && groups.iter().any(|&g| {
            i32::try_from(g)
                .is_ok_and(|raw| !matches!(killpg(Pid::from_raw(raw), None), Err(Errno::ESRCH)))
                && group_has_live_member(g)
        })
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether a process other than a zombie is in process group `pgid`.
fn group_has_live_member(pgid: u32) -> bool {
    let Ok(all) = procfs::process::all_processes() else {
        return true;
    };
    all.filter_map(|p| p.ok()?.stat().ok())
        .any(|s| s.state != 'Z' && u32::try_from(s.pgrp) == Ok(pgid))
}

/// The start time of `pid` in clock ticks since boot (`/proc/<pid>/stat`
/// field 22); `None` when there is no such process (or no `/proc`).
pub fn process_start_time(pid: u32) -> Option<u64> {
    Some(stat(pid)?.starttime)
}

/// Whether `pid` runs (zombies count as gone) and, when a start time is
/// given, is still that same process.
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    if let Some(stat) = stat(pid) {
        if stat.state == 'Z' {
            return false;
        }
        return start.is_none_or(|s| stat.starttime == s);
    }
    if std::path::Path::new("/proc/self/stat").exists() {
        return false;
    }
    // No /proc: existence only (a recycled pid cannot be told apart, so a
    // live pid counts as the same process: the safe answer for "is the
    // previous runner still running?").
    !matches!(kill(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}

/// `/proc/<pid>/stat`; `None` when there is no such process (or no `/proc`).
fn stat(pid: u32) -> Option<procfs::process::Stat> {
    procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()
}
