//! Where an attempt's time goes on a worker: the wall-clock time of each
//! step, said as one debug line when the attempt is over (`-vv`, or
//! `RUST_LOG=roadmap_runner=debug`), which `benches/cluster-scale` reads
//! beside the agents' own start and end.

use std::time::SystemTime;

/// The steps of one attempt so far, in order.
#[derive(Debug, Clone)]
pub struct Marks {
    at: Vec<(&'static str, f64)>,
}

impl Marks {
    /// Starts with `asked`: when the worker asked the server for the
    /// message (a slot was free).
    pub fn new(asked: SystemTime) -> Marks {
        Marks {
            at: vec![("asked", epoch(asked))],
        }
    }

    /// Step `what` ends now.
    pub fn mark(&mut self, what: &'static str) {
        self.at.push((what, epoch(SystemTime::now())));
    }

    /// `asked=1733312345.123 received=…`: epoch seconds, to the millisecond.
    pub fn line(&self) -> String {
        let parts: Vec<String> = self
            .at
            .iter()
            .map(|(what, t)| format!("{what}={t:.3}"))
            .collect();
        parts.join(" ")
    }

    /// The debug line, for the attempt `task`.
    pub fn say(&self, task: &str) {
        tracing::debug!(task = %task, marks = %self.line(), "attempt steps");
    }
}

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_line_lists_the_steps_in_order_as_epoch_seconds() {
        let mut m = Marks::new(SystemTime::UNIX_EPOCH + Duration::from_millis(1_500));
        m.mark("received");
        let line = m.line();
        assert!(line.starts_with("asked=1.500 received="), "{line}");
        let received: f64 = line.rsplit('=').next().unwrap().parse().unwrap();
        assert!(received > 1.7e9, "{line}");
    }
}
