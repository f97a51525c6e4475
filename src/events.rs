//! The events every part of a run emits; reporters turn them into output.
