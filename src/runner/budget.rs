//! What one run may spend on agents (`--max-cost`), and what it has spent,
//! split by who spent it.

// Role and Spent are counted with the outcomes (status::counts); the budget
// only checks them against its limit.
pub use crate::status::counts::{Role, Spent};

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
        self.spent.add(role, cost);
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
