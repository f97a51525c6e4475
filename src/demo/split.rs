//! The demo's task that splits itself: D1 (Checkout) is more than one
//! session's work for its simulated agent, so when the runner offers
//! `ROADMAP_RUNNER_SPLIT_FILE` the agent writes [`PLAN`] there instead of the
//! code, and the runner runs that sub-roadmap in D1's place (two groups, a
//! gate after each). Where splitting is not offered (`--max-depth 0`), the
//! agent writes every file of the plan itself, in one session.

use crate::roadmap::GroupKey;

/// The task that splits, as the agent sees it in `ROADMAP_GROUP` and
/// `ROADMAP_TASK_ID`, in phase 2.
pub const GROUP: &str = "D";
pub const TASK: &str = "D1";

/// Its group (`PHASE_2:D`; its sub-groups are `PHASE_2:D:D1/1:A`, ...).
pub fn parent_group() -> GroupKey {
    GroupKey::new(2, GROUP)
}

/// The sub-roadmap the agent writes: the native format, as the split
/// paragraph of its prompt asks.
pub const PLAN: &str = r#"# Checkout, in parts

Task D1 (Checkout) of the shop's roadmap, in three smaller tasks: the rules
of an order first, then the checkout that uses them.

## Phase 1: Checkout in parts

### Group A: Order rules (Parallel)

- [ ] **A1**: Cart validation
  - Create file: `src/checkout/validate.js`
  - `assertCanCheckOut(cart)` refuses an empty cart with a clear message
- [ ] **A2**: Order numbers
  - Create file: `src/checkout/orders.js`
  - `nextOrderId()` gives ORD-1000, then ORD-1001, and so on

### Group B: Place the order (after A)

- [ ] **B1**: Place an order
  - Create file: `src/checkout.js`
  - `placeOrder(cart, discountCode)` validates the cart, applies the discount code to the total and numbers the order
"#;

/// Whether the task in `ROADMAP_GROUP` / `ROADMAP_TASK_ID` is the one the
/// demo plans to split (its sub-tasks, in groups like `D:D1/1:A`, are not).
pub fn is_split_task(group: Option<&str>, task: Option<&str>) -> bool {
    group == Some(GROUP) && task == Some(TASK)
}

/// The files of the plan, in order: what the agent writes itself when it is
/// not offered the split file.
pub fn plan_files() -> Vec<String> {
    let scope = format!("{}:{TASK}/", parent_group());
    (super::files::FILES.iter())
        .filter(|f| f.group.starts_with(&scope))
        .map(|f| f.path.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::files::planned_file;
    use crate::roadmap::parse;

    #[test]
    fn the_plan_is_a_valid_native_roadmap_of_planned_files() {
        let parsed = parse(PLAN);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.roadmap.group_count(), 2);
        assert_eq!(parsed.roadmap.task_count(), 3);
        let files = plan_files();
        assert_eq!(files, crate::demo::agent::files_in_prompt(PLAN));
        assert_eq!(files.len(), 3);
        for f in &files {
            let planned = planned_file(f).unwrap_or_else(|| panic!("{f} is not planned"));
            assert!(planned.group.starts_with("PHASE_2:D:D1/"), "{f}");
        }
    }

    #[test]
    fn only_the_parent_task_splits() {
        assert!(is_split_task(Some("D"), Some("D1")));
        assert!(!is_split_task(Some("D:D1/1:B"), Some("B1")));
        assert!(!is_split_task(Some("D"), Some("D2")));
    }
}
