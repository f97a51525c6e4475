//! Reporters: the only writers to stdout. A live view on a terminal, plain
//! timestamped lines for cron and pipes, JSON lines for scripts.

pub mod event_log;
pub mod json;
pub mod live;
pub mod plain;
pub mod readable;
pub mod splits;
pub mod summary;
pub mod tree;
pub mod words;

pub use json::JsonReporter;
pub use live::LiveReporter;
pub use plain::PlainReporter;

use crate::events::Reporter;
use std::io::IsTerminal;

/// JSON with `--json`; the live view when stdout is a terminal that can draw
/// (`TERM` is not `dumb`); plain lines otherwise (cron, pipes, files), which
/// never carry an escape code.
pub fn choose_reporter(json: bool, verbose: bool) -> Box<dyn Reporter> {
    let terminal = std::io::stdout().is_terminal();
    let term = std::env::var("TERM").unwrap_or_default();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let live = !json && live_view(terminal, &term);
    console::set_colors_enabled(live && !no_color);
    if json {
        Box::new(JsonReporter::new(std::io::stdout()))
    } else if live {
        Box::new(LiveReporter::new())
    } else {
        Box::new(PlainReporter::new(std::io::stdout(), verbose))
    }
}

/// Can this stdout show the live view?
fn live_view(terminal: bool, term: &str) -> bool {
    terminal && term != "dumb"
}

/// `error: message`, with a timestamp when stderr is not a terminal (a cron
/// mail), and logged to the runner log too.
pub fn error_line(message: &str) -> String {
    use std::io::IsTerminal;
    // Info level: the runner log records it; stderr shows only the line below.
    tracing::info!("error: {message}");
    if std::io::stderr().is_terminal() {
        format!("error: {message}")
    } else {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        format!("{now} error: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::live_view;

    #[test]
    fn the_live_view_needs_a_terminal_that_can_draw() {
        assert!(live_view(true, "xterm-256color"));
        assert!(live_view(true, ""));
        assert!(!live_view(true, "dumb"));
        assert!(!live_view(false, "xterm-256color"));
    }
}
