//! Reporters: the only writers to stdout.
