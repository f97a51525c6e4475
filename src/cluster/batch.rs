//! Blocking work that goes in batches: an item asked for while a batch is
//! under way waits for it, then goes with every other item that waited, in
//! one call (a worker's pushes, the coordinator's fetches: one connection
//! to the remote, and one process on its side, for what arrived together).
//! Alone, an item goes at once.

use std::sync::Mutex;
use tokio::sync::oneshot;

/// The items waiting for their turn, and the turn.
pub struct Batcher<T, R> {
    waiting: Mutex<Vec<(T, oneshot::Sender<R>)>>,
    turn: tokio::sync::Mutex<()>,
}

impl<T, R> Default for Batcher<T, R> {
    fn default() -> Self {
        Batcher {
            waiting: Mutex::new(Vec::new()),
            turn: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// `item`'s result from `work`, which takes the batch and gives one
    /// result per item, in order (on a blocking thread); `None` if it
    /// panicked.
    pub async fn run<F>(&self, item: T, work: F) -> Option<R>
    where
        F: FnOnce(Vec<T>) -> Vec<R> + Send + 'static,
    {
        let (done, mut rx) = oneshot::channel();
        self.waiting.lock().expect("batch").push((item, done));
        let turn = self.turn.lock().await;
        // Done in an earlier batch while this one waited for the turn.
        if let Ok(r) = rx.try_recv() {
            return Some(r);
        }
        let batch = std::mem::take(&mut *self.waiting.lock().expect("batch"));
        let (items, senders): (Vec<T>, Vec<_>) = batch.into_iter().unzip();
        // A panic drops every sender: each waiting item hears `None`.
        let results = tokio::task::spawn_blocking(move || work(items))
            .await
            .unwrap_or_default();
        for (s, r) in senders.into_iter().zip(results) {
            let _ = s.send(r);
        }
        drop(turn);
        rx.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn items_that_wait_for_a_batch_go_together_in_the_next() {
        let b: Arc<Batcher<u32, (u32, usize)>> = Arc::default();
        let work = |items: Vec<u32>| {
            std::thread::sleep(Duration::from_millis(100));
            let n = items.len();
            items.into_iter().map(|i| (i * 10, n)).collect()
        };
        let first = tokio::spawn({
            let b = b.clone();
            async move { b.run(1, work).await }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        let later: Vec<_> = (2..=4)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.run(i, work).await })
            })
            .collect();
        assert_eq!(first.await.unwrap(), Some((10, 1)), "alone, at once");
        for (i, h) in (2..=4).zip(later) {
            assert_eq!(h.await.unwrap(), Some((i * 10, 3)), "the three together");
        }
    }

    #[tokio::test]
    async fn a_batch_that_panics_gives_none() {
        let b: Batcher<u32, u32> = Batcher::default();
        let got = b.run(1, |_| panic!("boom")).await;
        assert_eq!(got, None);
    }
}
