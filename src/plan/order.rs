//! Longest expected first (LPT): the order a group's tasks are queued in.
//! With `m` slots, list order can take up to 2 − 1/m times the best
//! makespan when the slowest task is listed last; longest first is within
//! 4/3 − 1/(3m) of it.
//!
//! A task's expected duration comes from the records of earlier runs and
//! attempts (over resets too: a rollback does not make a task shorter),
//! else from the roadmap's estimate column as a prior. A task with neither
//! counts as the median of the group's known tasks, so that one unknown
//! task neither jumps the queue nor waits for the end. Roadmap order is
//! kept where nothing is known, and breaks ties.

use crate::agent::TaskOutcome;
use crate::roadmap::{GroupKey, Task};
use crate::status::Record;
use serde::Serialize;
use std::time::Duration;

/// Where a task's expected duration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Its latest successful attempt, else the mean of its attempts.
    History,
    /// The roadmap's estimate or complexity column.
    Estimate,
    /// Nothing known: the median of the group's known tasks.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub duration: Option<Duration>,
    pub basis: Basis,
}

/// A group's tasks in the order they are queued, with the makespan that
/// order is expected to take on the group's slots.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupOrder {
    /// Indices into the tasks given, longest expected first.
    pub order: Vec<usize>,
    /// Each task's expected duration, in the order given (unknowns filled).
    pub expected: Vec<Expected>,
    /// `None` when no task's duration is known.
    pub makespan: Option<Duration>,
}

/// Columns read as an estimate, first found wins.
const ESTIMATE_FIELDS: [&str; 6] = [
    "estimate",
    "complexity",
    "effort",
    "duration",
    "time",
    "size",
];

/// The order of `tasks` on `slots` slots, from `records` (the run's loaded
/// `tasks.jsonl`).
pub fn group_order(
    records: &[Record],
    key: &GroupKey,
    tasks: &[&Task],
    slots: usize,
) -> GroupOrder {
    let known: Vec<Expected> = tasks.iter().map(|t| expected(records, key, t)).collect();
    let filled = fill_unknown(&known.iter().map(|e| e.duration).collect::<Vec<_>>());
    let order = longest_first_indices(&filled);
    let makespan = filled.iter().any(Option::is_some).then(|| {
        let durations: Vec<Duration> = order
            .iter()
            .map(|&i| filled[i].unwrap_or_default())
            .collect();
        list_makespan(&durations, slots)
    });
    let expected = known
        .iter()
        .zip(&filled)
        .map(|(e, d)| Expected {
            duration: *d,
            basis: e.basis,
        })
        .collect();
    GroupOrder {
        order,
        expected,
        makespan,
    }
}

/// One task's expected duration before unknowns are filled.
pub fn expected(records: &[Record], key: &GroupKey, task: &Task) -> Expected {
    if let Some(d) = from_history(records, key, &task.id) {
        return Expected {
            duration: Some(d),
            basis: Basis::History,
        };
    }
    let estimate = ESTIMATE_FIELDS
        .iter()
        .find_map(|name| task.field(name).and_then(parse_estimate));
    Expected {
        duration: estimate,
        basis: if estimate.is_some() {
            Basis::Estimate
        } else {
            Basis::Unknown
        },
    }
}

/// The latest successful attempt's duration, else the mean of the attempts
/// that ran to an end (a signal or a usage limit cuts one short).
pub fn from_history(records: &[Record], key: &GroupKey, task_id: &str) -> Option<Duration> {
    let mut latest_success = None;
    let (mut sum, mut n) = (0.0, 0u32);
    for r in records {
        let Record::Task(t) = r else { continue };
        if t.role.is_some() || !t.is_for_group(key) || t.task != task_id {
            continue;
        }
        match t.outcome {
            TaskOutcome::Succeeded => latest_success = Some(t.duration_secs),
            TaskOutcome::Failed { .. } | TaskOutcome::TimedOut { .. } => {
                sum += t.duration_secs;
                n += 1;
            }
            _ => {}
        }
    }
    let secs = latest_success.or((n > 0).then(|| sum / f64::from(n)))?;
    Some(Duration::from_secs_f64(secs.max(0.0)))
}

/// `Low`/`Medium`/`High` (a scale for agents: minutes, not days), or a
/// duration: `30 min`, `2-3h` (the middle of the range), `1.5 hours`, `1d`
/// (a working day, 8 h), `1w` (5 days).
pub fn parse_estimate(text: &str) -> Option<Duration> {
    let t = text
        .trim()
        .trim_matches(|c: char| c == '*' || c == '`' || c == '_')
        .trim()
        .to_ascii_lowercase();
    let minutes = match t.as_str() {
        "low" | "easy" | "small" | "s" => Some(15.0),
        "medium" | "med" | "moderate" | "m" => Some(45.0),
        "high" | "hard" | "large" | "l" => Some(120.0),
        _ => None,
    };
    if let Some(m) = minutes {
        return Some(Duration::from_secs_f64(m * 60.0));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '–' || c == ' '))
        .unwrap_or(t.len());
    let (numbers, unit) = t.split_at(split);
    let unit_secs = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 8.0 * 3600.0,
        "w" | "wk" | "week" | "weeks" => 40.0 * 3600.0,
        _ => return None,
    };
    let parts: Vec<f64> = numbers
        .split(['-', '–'])
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    if parts.is_empty() || parts.len() > 2 || parts.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return None;
    }
    let mean = parts.iter().sum::<f64>() / parts.len() as f64;
    Some(Duration::from_secs_f64(mean * unit_secs))
}

/// Unknown durations set to the median of the known ones; all unknown
/// stays all unknown.
pub fn fill_unknown(durations: &[Option<Duration>]) -> Vec<Option<Duration>> {
    let mut known: Vec<Duration> = durations.iter().flatten().copied().collect();
    if known.is_empty() {
        return durations.to_vec();
    }
    known.sort();
    let mid = known.len() / 2;
    let median = if known.len() % 2 == 1 {
        known[mid]
    } else {
        (known[mid - 1] + known[mid]) / 2
    };
    durations
        .iter()
        .map(|d| Some(d.unwrap_or(median)))
        .collect()
}

/// Indices longest first; a stable sort, so equal (or unknown) durations
/// keep the order given.
pub fn longest_first_indices(durations: &[Option<Duration>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..durations.len()).collect();
    order.sort_by(|&a, &b| durations[b].cmp(&durations[a]));
    order
}

/// `items` longest expected first, unknowns as the median of the known.
pub fn longest_first<T>(items: Vec<T>, expected: impl Fn(&T) -> Option<Duration>) -> Vec<T> {
    let filled = fill_unknown(&items.iter().map(expected).collect::<Vec<_>>());
    let order = longest_first_indices(&filled);
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| slots[i].take()).collect()
}

/// The makespan of list scheduling: each task, in order, on the slot that
/// frees up first.
pub fn list_makespan(durations: &[Duration], slots: usize) -> Duration {
    let mut free = vec![Duration::ZERO; slots.max(1)];
    for d in durations {
        let first = free.iter_mut().min().expect("at least one slot");
        *first += *d;
    }
    free.into_iter().max().unwrap_or_default()
}

/// No schedule can beat this: the longest task, or the work spread evenly.
pub fn makespan_lower_bound(durations: &[Duration], slots: usize) -> Duration {
    let total: Duration = durations.iter().sum();
    let even = total / u32::try_from(slots.max(1)).unwrap_or(u32::MAX);
    durations
        .iter()
        .copied()
        .max()
        .unwrap_or_default()
        .max(even)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentReport;
    use crate::roadmap::{Field, Span};
    use crate::status::TaskRecord;

    fn key() -> GroupKey {
        GroupKey::new(1, "A")
    }

    fn task(id: &str, fields: &[(&str, &str)]) -> Task {
        Task {
            id: id.into(),
            title: format!("Task {id}"),
            fields: fields
                .iter()
                .map(|(n, v)| Field {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            body: String::new(),
            done_in_roadmap: false,
            done_mark: None,
            optional: false,
            derived_id: false,
            span: Span::default(),
        }
    }

    fn attempt(id: &str, secs: f64, outcome: TaskOutcome) -> Record {
        let now = chrono::Utc::now();
        let d = Duration::from_secs_f64(secs);
        let r = AgentReport::default();
        Record::Task(TaskRecord::new(
            &key(),
            id,
            1,
            outcome,
            &r,
            now,
            now,
            d,
            None,
        ))
    }

    fn failed() -> TaskOutcome {
        TaskOutcome::Failed {
            exit_code: Some(1),
            signal: None,
            reason: "exit 1".into(),
        }
    }

    fn ids(tasks: &[Task], o: &GroupOrder) -> Vec<String> {
        o.order.iter().map(|&i| tasks[i].id.clone()).collect()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn history_puts_the_longest_first_and_the_latest_success_counts() {
        let tasks = [task("A1", &[]), task("A2", &[]), task("A3", &[])];
        let refs: Vec<&Task> = tasks.iter().collect();
        let records = [
            attempt("A1", 10.0, TaskOutcome::Succeeded),
            attempt("A2", 5.0, TaskOutcome::Succeeded),
            // A later success replaces the earlier one.
            attempt("A2", 50.0, TaskOutcome::Succeeded),
            attempt("A3", 30.0, TaskOutcome::Succeeded),
            // Another group's and the runner's own agents do not count.
            Record::Task(TaskRecord {
                role: Some("repair".into()),
                ..match attempt("A1", 900.0, TaskOutcome::Succeeded) {
                    Record::Task(t) => t,
                    _ => unreachable!(),
                }
            }),
        ];
        let o = group_order(&records, &key(), &refs, 2);
        assert_eq!(ids(&tasks, &o), ["A2", "A3", "A1"]);
        assert!(o.expected.iter().all(|e| e.basis == Basis::History));
        // A2 on one slot, A3 then A1 on the other.
        assert_eq!(o.makespan, Some(secs(50)));
    }

    #[test]
    fn without_a_success_the_mean_of_the_attempts_that_ended() {
        let records = [
            attempt("A1", 10.0, failed()),
            attempt("A1", 30.0, TaskOutcome::TimedOut { after_secs: 30 }),
            // Cut short by a signal: says nothing of its length.
            attempt("A1", 1.0, TaskOutcome::Interrupted),
        ];
        assert_eq!(from_history(&records, &key(), "A1"), Some(secs(20)));
        assert_eq!(from_history(&records, &key(), "A2"), None);
        let other = GroupKey::new(1, "B");
        assert_eq!(from_history(&records, &other, "A1"), None);
    }

    #[test]
    fn estimates_are_a_prior_and_history_wins_over_them() {
        for (text, want) in [
            ("Low", 15 * 60),
            ("medium", 45 * 60),
            ("**High**", 120 * 60),
            ("30 min", 30 * 60),
            ("2-3h", 9000),
            ("1.5 hours", 5400),
            ("1d", 8 * 3600),
            ("45m", 45 * 60),
        ] {
            assert_eq!(parse_estimate(text), Some(secs(want)), "{text}");
        }
        for text in ["", "soon", "3 parsecs", "1-2-3h", "-h"] {
            assert_eq!(parse_estimate(text), None, "{text}");
        }
        let tasks = [
            task("A1", &[("Complexity", "Low")]),
            task("A2", &[("Complexity", "High")]),
            task("A3", &[("Estimate", "1h")]),
        ];
        let refs: Vec<&Task> = tasks.iter().collect();
        let o = group_order(&[], &key(), &refs, 4);
        assert_eq!(ids(&tasks, &o), ["A2", "A3", "A1"]);
        assert_eq!(o.expected[0].basis, Basis::Estimate);
        // A High task measured at 1 s is short, whatever the column says.
        let records = [attempt("A2", 1.0, TaskOutcome::Succeeded)];
        let o = group_order(&records, &key(), &refs, 4);
        assert_eq!(ids(&tasks, &o), ["A3", "A1", "A2"]);
    }

    #[test]
    fn ties_and_nothing_known_keep_roadmap_order() {
        let tasks = [task("A1", &[]), task("A2", &[]), task("A3", &[])];
        let refs: Vec<&Task> = tasks.iter().collect();
        let o = group_order(&[], &key(), &refs, 2);
        assert_eq!(ids(&tasks, &o), ["A1", "A2", "A3"]);
        assert_eq!(o.makespan, None);
        let records = [
            attempt("A3", 5.0, TaskOutcome::Succeeded),
            attempt("A1", 5.0, TaskOutcome::Succeeded),
            attempt("A2", 5.0, TaskOutcome::Succeeded),
        ];
        let o = group_order(&records, &key(), &refs, 2);
        assert_eq!(ids(&tasks, &o), ["A1", "A2", "A3"]);
        assert_eq!(o.makespan, Some(secs(10)));
    }

    #[test]
    fn an_unknown_task_counts_as_the_median_of_the_known() {
        let tasks = [
            task("A1", &[]),
            task("A2", &[]),
            task("A3", &[]),
            task("A4", &[]),
        ];
        let refs: Vec<&Task> = tasks.iter().collect();
        let records = [
            attempt("A1", 1.0, TaskOutcome::Succeeded),
            attempt("A2", 100.0, TaskOutcome::Succeeded),
            attempt("A4", 10.0, TaskOutcome::Succeeded),
        ];
        let o = group_order(&records, &key(), &refs, 1);
        // A3 is taken as 10 s: after A2, before A1, tied with A4 (listed later).
        assert_eq!(ids(&tasks, &o), ["A2", "A3", "A4", "A1"]);
        assert_eq!(o.expected[2].basis, Basis::Unknown);
        assert_eq!(o.expected[2].duration, Some(secs(10)));
        assert_eq!(o.makespan, Some(secs(121)));
        // An even count: the mean of the two middle ones.
        let even = fill_unknown(&[Some(secs(2)), None, Some(secs(4))]);
        assert_eq!(even[1], Some(secs(3)));
    }

    #[test]
    fn longest_first_moves_items_and_the_bounds_hold() {
        let items = vec![("a", 1), ("b", 3), ("c", 2), ("d", 3)];
        let sorted = longest_first(items, |(_, s)| Some(secs(*s)));
        let names: Vec<&str> = sorted.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["b", "d", "c", "a"]);
        // The long one listed last on 2 slots: list order waits for it alone.
        let listed = [secs(1), secs(1), secs(1), secs(1), secs(4)];
        assert_eq!(list_makespan(&listed, 2), secs(6));
        let mut lpt = listed;
        lpt.sort_by(|a, b| b.cmp(a));
        assert_eq!(list_makespan(&lpt, 2), secs(4));
        assert_eq!(makespan_lower_bound(&listed, 2), secs(4));
        assert_eq!(list_makespan(&[], 3), Duration::ZERO);
    }
}
