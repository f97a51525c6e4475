//! The status files under `status/`.
