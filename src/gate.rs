//! The gate: typecheck, lint, test, build after every group.
