//! What to do next after a group's tasks did not all succeed: the text of the
//! summary's `next:` lines.

use crate::agent::TaskOutcome;
use crate::events::TaskSummary;
use crate::text::short_duration;
use std::time::Duration;

/// One line per task that did not succeed (its log), then how to go on: a
/// timeout names the limit in force and how to raise it, since "fix the
/// cause" does not help when the cause is the limit itself.
pub fn after_failed_tasks(tasks: &[TaskSummary], timeout: Duration) -> Vec<String> {
    let failed: Vec<&TaskSummary> = tasks.iter().filter(|t| !t.outcome.is_success()).collect();
    let mut next: Vec<String> = failed
        .iter()
        .filter_map(|t| {
            let log = t.log.as_ref()?;
            Some(format!(
                "{} {}: read {}",
                t.task,
                t.outcome.label(),
                log.display()
            ))
        })
        .collect();
    let timed_out = failed
        .iter()
        .filter(|t| matches!(t.outcome, TaskOutcome::TimedOut { .. }))
        .count();
    if timed_out > 0 {
        next.push(raise_timeout(timeout));
    }
    let rerun = "run roadmap-runner again: only the tasks that did not succeed run again";
    if timed_out < failed.len() {
        next.push(format!("fix the cause, then {rerun}"));
    } else {
        next.push(format!("then {rerun}"));
    }
    next
}

/// `the time limit per task is 1h 00m (--timeout / TASK_TIMEOUT); ...`
pub fn raise_timeout(timeout: Duration) -> String {
    let more = as_input(timeout * 2);
    format!(
        "the time limit per task is {} (--timeout / TASK_TIMEOUT / [run] timeout); if the task needs longer, raise it: `TASK_TIMEOUT={more} roadmap-runner`, `roadmap-runner --timeout {more}`, or `timeout = \"{more}\"` under [run] in roadmap-runner.toml",
        short_duration(timeout)
    )
}

/// A duration as a user types it: `2h`, `90m`, `150s`.
fn as_input(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roadmap::GroupKey;
    use std::path::PathBuf;

    fn task(id: &str, outcome: TaskOutcome) -> TaskSummary {
        TaskSummary {
            key: GroupKey::new(1, "A"),
            task: id.into(),
            title: id.into(),
            outcome,
            attempts: 1,
            duration: Duration::from_secs(1),
            cost_usd: None,
            log: Some(PathBuf::from(format!("logs/{id}.log"))),
            role: Default::default(),
        }
    }

    #[test]
    fn a_timeout_names_the_limit_and_how_to_raise_it() {
        let tasks = [
            task("A1", TaskOutcome::Succeeded),
            task("A2", TaskOutcome::TimedOut { after_secs: 3600 }),
        ];
        let next = after_failed_tasks(&tasks, Duration::from_secs(3600));
        assert_eq!(next.len(), 3, "{next:?}");
        assert_eq!(next[0], "A2 timed out: read logs/A2.log");
        assert!(next[1].starts_with("the time limit per task is 1h 00m (--timeout / TASK_TIMEOUT"));
        assert!(
            next[1].contains("`TASK_TIMEOUT=2h roadmap-runner`"),
            "{}",
            next[1]
        );
        assert!(
            next[1].contains("`roadmap-runner --timeout 2h`"),
            "{}",
            next[1]
        );
        assert!(!next[2].contains("fix the cause"), "{}", next[2]);
    }

    #[test]
    fn a_failure_says_fix_the_cause() {
        let failed = TaskOutcome::Failed {
            exit_code: Some(1),
            signal: None,
            reason: "exit 1".into(),
        };
        let next = after_failed_tasks(&[task("A1", failed)], Duration::from_secs(90));
        assert_eq!(next.len(), 2, "{next:?}");
        assert!(next[1].starts_with("fix the cause, then run roadmap-runner again"));
    }

    #[test]
    fn suggested_limits_read_as_typed() {
        assert_eq!(as_input(Duration::from_secs(7200)), "2h");
        assert_eq!(as_input(Duration::from_secs(180)), "3m");
        assert_eq!(as_input(Duration::from_secs(90)), "90s");
    }
}
