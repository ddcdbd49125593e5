//! Per-user runs that coalesce: one at a time per user in this process, and a request that
//! waited while another ran is answered by the next run alone.
//!
//! For work that reads a user's whole state and writes the result (conflict detection, the task
//! plan): a burst of changes (syncs ending together, many reads of `GET /api/conflicts`) asks
//! for many runs, but only the first and one after it can see anything new. Without it each
//! request held a pooled connection while it waited on the others' rows, until the pool ran dry. Across processes runs may still overlap;
//! the work itself must be correct then (its own transaction and locks), this only saves it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// The turns of one kind of work, per user.
#[derive(Default)]
pub struct Coalesced {
    users: Mutex<HashMap<Uuid, Arc<Turns>>>,
}

#[derive(Default)]
struct Turns {
    turn: tokio::sync::Mutex<()>,
    /// Requests so far.
    asked: AtomicU64,
    /// Every request up to this one is answered by a finished run.
    answered: AtomicU64,
}

impl Coalesced {
    /// Runs `work` for the user unless a run that began after this call already finished
    /// (then None). Waiting holds no database connection.
    pub async fn run<T, E, F>(
        &self,
        user_id: Uuid,
        work: impl FnOnce() -> F,
    ) -> Result<Option<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let turns = Arc::clone(
            self.users
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(user_id)
                .or_default(),
        );
        let ticket = turns.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = turns.turn.lock().await;
        if turns.answered.load(Ordering::SeqCst) >= ticket {
            return Ok(None);
        }
        // Everyone who asked before this run reads the database is answered by it.
        let covers = turns.asked.load(Ordering::SeqCst);
        let out = work().await?;
        turns.answered.store(covers, Ordering::SeqCst);
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    /// Twenty requests while a run is under way: that run, then one more for all of them.
    #[tokio::test]
    async fn requests_during_a_run_share_the_next_one() {
        let runs = Arc::new(Coalesced::default());
        let count = Arc::new(AtomicUsize::new(0));
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let user = Uuid::now_v7();
        let first = tokio::spawn({
            let (runs, count) = (runs.clone(), count.clone());
            async move {
                runs.run(user, || async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    started_tx.send(()).unwrap();
                    go_rx.await.unwrap();
                    Ok::<_, ()>(())
                })
                .await
            }
        });
        started_rx.await.unwrap();
        let waiting: Vec<_> = (0..20)
            .map(|_| {
                let (runs, count) = (runs.clone(), count.clone());
                tokio::spawn(async move {
                    runs.run(user, || async move {
                        count.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, ()>(())
                    })
                    .await
                })
            })
            .collect();
        // Every waiter has taken its ticket once `asked` counts them all.
        let turns = runs.users.lock().unwrap()[&user].clone();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while turns.asked.load(Ordering::SeqCst) < 21 {
            assert!(std::time::Instant::now() < deadline);
            tokio::task::yield_now().await;
        }
        go_tx.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(Some(())));
        let mut ran = 0;
        for w in waiting {
            if w.await.unwrap().unwrap().is_some() {
                ran += 1;
            }
        }
        assert_eq!(ran, 1, "one run answered every waiter");
        assert_eq!(count.load(Ordering::SeqCst), 2);
        // Another user is not held by this one.
        assert_eq!(
            runs.run(Uuid::now_v7(), || async { Ok::<_, ()>(7) }).await,
            Ok(Some(7))
        );
    }
}
