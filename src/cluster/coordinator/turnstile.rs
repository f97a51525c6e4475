//! Publish order: the group loop starts a group's attempts longest
//! expected first, but each runs as its own tokio task, so which reaches
//! the server first is the scheduler's choice. A turnstile makes attempt k
//! publish only once attempt k-1 has published (or given up: its turn
//! passes when it is dropped), so the work queue holds them in the order
//! they were started.

use std::sync::Mutex;
use tokio::sync::oneshot;

/// Hands out turns in the order they are asked for.
#[derive(Debug, Default)]
pub struct Turnstile {
    /// Resolves when the latest turn handed out is over.
    last: Mutex<Option<oneshot::Receiver<()>>>,
}

/// One attempt's place in the order.
/// Its methods take `&self`: a retried publish borrows it from a closure.
#[derive(Debug)]
pub struct Turn {
    before: Mutex<Option<oneshot::Receiver<()>>>,
    /// Dropped (sent or not) when this turn is over.
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Turnstile {
    /// The next turn: after every turn handed out before it.
    pub fn next(&self) -> Turn {
        let (done, after) = oneshot::channel();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let before = last.replace(after);
        Turn {
            before: Mutex::new(before),
            done: Mutex::new(Some(done)),
        }
    }
}

impl Turn {
    /// Waits until every earlier turn is over.
    pub async fn wait(&self) {
        let before = self.before.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(before) = before {
            // A dropped sender ends the wait as a sent one does.
            let _ = before.await;
        }
    }

    /// This turn is over: the next may go.
    pub fn pass(&self) {
        self.done.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn turns_go_in_the_order_they_were_handed_out() {
        let gate = Turnstile::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for k in 0..20u64 {
            let turn = gate.next();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                // Later turns are ready first: only the turnstile orders them.
                tokio::time::sleep(std::time::Duration::from_millis(40 - 2 * k)).await;
                turn.wait().await;
                order.lock().unwrap().push(k);
                turn.pass();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_turn_dropped_before_it_went_lets_the_next_go() {
        let gate = Turnstile::default();
        let first = gate.next();
        let second = gate.next();
        let third = gate.next();
        drop(first);
        second.wait().await;
        drop(second);
        third.wait().await;
        third.pass();
        // A turn after every earlier one is over goes at once.
        gate.next().wait().await;
    }
}
