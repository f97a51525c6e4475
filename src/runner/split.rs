//! A task that splits itself: its agent may write a roadmap of smaller
//! tasks to `ROADMAP_RUNNER_SPLIT_FILE` instead of doing the task. A valid
//! one is kept as `status/sub/<slug of 1:B:B2>.md` and runs in the task's
//! place, its groups keyed in the task's scope (`1:B:B2/1:A`); depth is
//! bounded by `max_recursion_depth`. See docs/splitting.md.

use super::attempt::AttemptResult;
use crate::agent::TaskOutcome;
use crate::project::Project;
use crate::roadmap::{GroupKey, Phase, Roadmap, slug};
use std::path::{Path, PathBuf};

pub use crate::agent::command::SPLIT_FILE_ENV;

/// `status/sub/<slug>.md`: where a task's sub-roadmap is written and kept.
pub fn sub_file(project: &Project, key: &GroupKey, task: &str) -> PathBuf {
    project
        .status
        .file("sub")
        .join(format!("{}.md", slug(&key.task_ref(task))))
}

/// Whether a task of the group may split (its depth is under the limit).
pub fn may_split(key: &GroupKey, max_depth: u32) -> bool {
    (key.depth() as u64) < u64::from(max_depth)
}

/// The paragraph every task's prompt ends with.
pub fn prompt_paragraph(file: Option<&Path>) -> String {
    match file {
        Some(f) => format!(
            "If this task is too large for one session, do not do it: instead write a roadmap of smaller tasks, in the native format (`## Phase 1: Title`, `### Group A: Title (Parallel)`, `- [ ] **A1**: Title` with a line of acceptance each), to {} (the path in ${SPLIT_FILE_ENV}), and stop. Its tasks then run in this task's place.",
            f.display()
        ),
        None => "Splitting this task into a sub-roadmap is not available here (the depth limit, max_recursion_depth, is reached): do the task itself.".into(),
    }
}

/// The split file as the attempt left it: a valid sub-roadmap makes the
/// attempt a split, an invalid one a failure with the parser's diagnostics
/// (its retry is told them). At the depth limit a file written anyway is
/// removed: the returned warning says so.
pub fn examine(res: &mut AttemptResult, file: &Path, allowed: bool) -> Option<String> {
    // A killed agent may have left half a file.
    if !file.exists() || res.outcome == TaskOutcome::Interrupted {
        return None;
    }
    if !allowed {
        let _ = std::fs::remove_file(file);
        return Some(format!(
            "{}: a sub-roadmap was written to {} although splitting is not available at this depth (max_recursion_depth): ignored",
            res.job.task_id,
            file.display()
        ));
    }
    match validate(file) {
        Ok(sub) => {
            res.outcome = TaskOutcome::Split {
                tasks: sub.task_count(),
            };
        }
        Err(problems) => {
            let _ = std::fs::remove_file(file);
            res.outcome = TaskOutcome::Failed {
                exit_code: None,
                signal: None,
                reason: format!(
                    "the sub-roadmap written to ${SPLIT_FILE_ENV} is not valid:\n{problems}"
                ),
            };
        }
    }
    None
}

/// The file parsed and checked as an agent's plan is.
fn validate(file: &Path) -> Result<Roadmap, String> {
    let (_, roadmap, _) = crate::draft::validate_as(file, &format!("${SPLIT_FILE_ENV}"), None)?;
    if let Some(p) = roadmap.phases.iter().find(|p| p.groups.is_empty()) {
        return Err(format!(
            "Phase {} has no group: every phase needs a `### Group A: Title` with tasks",
            p.number
        ));
    }
    Ok(roadmap)
}

/// The kept sub-roadmap of task `task` of group `key`, its groups keyed in
/// the task's scope and its phases numbered as the parent's (its work goes
/// into the parent's phase commit).
pub fn load(project: &Project, key: &GroupKey, task: &str) -> Result<Roadmap, String> {
    let file = sub_file(project, key, task);
    let mut sub = validate(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    for phase in &mut sub.phases {
        for group in &mut phase.groups {
            group.id = format!("{}:{task}/{}:{}", key.group, phase.number, group.id);
            group.after.clear();
        }
        phase.number = key.phase.clone();
    }
    Ok(sub)
}

/// The kept sub-roadmap that holds the scoped group `key` (`1:A:A2/1:B`),
/// loaded as [`load`] does; when its task did not split, why not, naming
/// the tasks beside it that did.
pub fn holding(project: &Project, roadmap: &Roadmap, key: &GroupKey) -> Result<Roadmap, String> {
    let (parent, task) =
        parent_of(key).ok_or_else(|| format!("{key} is not a sub-roadmap's group"))?;
    if sub_file(project, &parent, &task).exists() {
        return load(project, &parent, &task);
    }
    let tasks = |r: &Roadmap| -> Vec<String> {
        r.group(&parent)
            .map(|(_, g)| g.tasks.iter().map(|t| t.id.clone()).collect())
            .unwrap_or_default()
    };
    let beside = match parent.depth() {
        0 => tasks(roadmap),
        _ => holding(project, roadmap, &parent)
            .map(|r| tasks(&r))
            .unwrap_or_default(),
    };
    let split: Vec<String> = beside
        .iter()
        .filter(|t| sub_file(project, &parent, t).exists())
        .map(|t| parent.task_ref(t))
        .collect();
    let group = format!("{}:{}", parent.phase, parent.group);
    Err(format!(
        "{} has no sub-roadmap: it did not split ({})",
        parent.task_ref(&task),
        match split.is_empty() {
            true => format!("no task of group {group} did"),
            false => format!("the tasks of group {group} that did: {}", split.join(", ")),
        }
    ))
}

/// The task whose sub-roadmap holds the group `key` (`1:B:B2/1:A` → `1:B`
/// and `B2`); `None` for a group of the roadmap itself.
pub fn parent_of(key: &GroupKey) -> Option<(GroupKey, String)> {
    key.parent_task()
}

/// Whether `key` is a group of a kept sub-roadmap.
pub fn is_sub_group(project: &Project, key: &GroupKey) -> bool {
    let Some((parent, task)) = parent_of(key) else {
        return false;
    };
    load(project, &parent, &task).is_ok_and(|sub| sub.groups().any(|(p, g)| &g.key(p) == key))
}

/// For the phase commit message: each task of `phase` that split, by its
/// line (`- A2: `), with its sub-tasks' lines (deeper ones indented more).
pub fn commit_lines(project: &Project, phase: &Phase) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for group in &phase.groups {
        let key = group.key(phase);
        for task in &group.tasks {
            let mut lines = Vec::new();
            sub_task_lines(project, &key, &task.id, "  ", &mut lines);
            if !lines.is_empty() {
                out.push((format!("- {}: ", task.id), lines));
            }
        }
    }
    out
}

/// A split task's sub-tasks as Markdown list lines, deeper ones indented.
pub fn sub_task_list(project: &Project, key: &GroupKey, task: &str) -> Vec<String> {
    let mut lines = Vec::new();
    sub_task_lines(project, key, task, "", &mut lines);
    lines
}

fn sub_task_lines(
    project: &Project,
    key: &GroupKey,
    task: &str,
    indent: &str,
    out: &mut Vec<String>,
) {
    let Ok(sub) = load(project, key, task) else {
        return;
    };
    for (p, g) in sub.groups() {
        let sub_key = g.key(p);
        for t in &g.tasks {
            let title = crate::text::squash_whitespace(&t.title);
            out.push(format!("{indent}- {}: {title}", sub_key.task_ref(&t.id)));
            sub_task_lines(project, &sub_key, &t.id, &format!("{indent}  "), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_depth() {
        let key = GroupKey::new(crate::roadmap::PhaseId::from(1), "B");
        assert_eq!(key.task_ref("B2"), "1:B:B2");
        let sub = GroupKey::parse_cli("1:B:B2/1:A").expect("scoped key");
        assert_eq!(sub.group, "B:B2/1:A");
        assert_eq!(sub.to_string(), "PHASE_1:B:B2/1:A");
        assert_eq!(sub.task_ref("A1"), "1:B:B2/1:A:A1");
        assert_eq!(sub.depth(), 1);
        assert!(may_split(&key, 2) && may_split(&sub, 2));
        let deeper = GroupKey::parse_status("PHASE_1:B:B2/1:A:A1/2:C").expect("deeper");
        assert_eq!(deeper.depth(), 2);
        assert!(!may_split(&deeper, 2) && !may_split(&key, 0));
        assert!(GroupKey::parse_cli("1:B:B2/1").is_none());
        assert_eq!(parent_of(&deeper), Some((sub.clone(), "A1".to_string())));
        assert_eq!(parent_of(&sub), Some((key.clone(), "B2".to_string())));
        assert_eq!(parent_of(&key), None);
    }
}
