//! Which groups run, in which order, given roadmap + status + selection.
