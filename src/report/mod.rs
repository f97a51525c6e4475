//! Reporters: the only writers to stdout. Plain timestamped lines for cron and
//! pipes, JSON lines for scripts.

pub mod json;
pub mod plain;
pub mod readable;
pub mod summary;

pub use json::JsonReporter;
pub use plain::PlainReporter;

/// `1m 05s`, `3.2s`, `1h 02m`: short and readable in a table.
pub fn short_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
