//! What one run may spend on agents (`--max-cost`), and what it has spent,
//! split by who spent it.

use serde::Serialize;

/// Who an agent worked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A roadmap task.
    #[default]
    Task,
    /// Mending a failed gate (or a reviewer's requested changes).
    Repair,
    /// Reviewing a group's diff.
    Review,
}

impl Role {
    /// The `role` of its records; none for a roadmap task.
    pub fn record_name(self) -> Option<&'static str> {
        match self {
            Role::Task => None,
            Role::Repair => Some("repair"),
            Role::Review => Some("review"),
        }
    }
}

/// Spent so far in this run, by role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spent {
    pub tasks: f64,
    pub repairs: f64,
    pub reviews: f64,
}

impl Spent {
    pub fn total(&self) -> f64 {
        self.tasks + self.repairs + self.reviews
    }
}

#[derive(Debug, Clone, Default)]
pub struct Budget {
    pub limit: Option<f64>,
    pub spent: Spent,
}

impl Budget {
    pub fn new(limit: Option<f64>) -> Self {
        Budget {
            limit,
            spent: Spent::default(),
        }
    }

    /// No agent starts once this is true.
    pub fn reached(&self) -> bool {
        self.limit.is_some_and(|l| self.spent.total() >= l)
    }

    pub fn spend(&mut self, role: Role, cost: Option<f64>) {
        let c = cost.unwrap_or(0.0).max(0.0);
        match role {
            Role::Task => self.spent.tasks += c,
            Role::Repair => self.spent.repairs += c,
            Role::Review => self.spent.reviews += c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_holds_once_reached() {
        let mut b = Budget::new(Some(0.03));
        for _ in 0..2 {
            b.spend(Role::Task, Some(0.0123));
            assert!(!b.reached());
        }
        b.spend(Role::Repair, Some(0.0123));
        assert!(b.reached());
        assert!((b.spent.total() - 0.0369).abs() < 1e-9);
        assert!(!Budget::new(None).reached());
    }
}
