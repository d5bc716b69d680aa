//! Turns at the database's pools, in order of arrival.
//!
//! A handler's database work runs on a blocking thread that checks a connection out of
//! an r2d2 pool. r2d2 gives a returned connection to whichever thread asks at that
//! moment, not to the one that waited longest, so with more requests than connections a
//! request could wait out the pool's whole timeout while later ones went ahead (on
//! PostgreSQL, p99 of 270–360 ms and a rare request past wrk's 2 s). Handlers first take
//! a turn here, first come first served, one turn per connection, and only then go to a
//! blocking thread: the pool then has a connection for each of them, and no more
//! blocking threads wait than there are connections.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use tandem_persistence::StoreError;

use crate::error::ApiError;

pub struct Turns {
    free: Arc<Semaphore>,
    longest_wait: Duration,
}

/// The right to one of the pool's connections, given back when dropped.
pub struct Turn(#[allow(dead_code)] OwnedSemaphorePermit);

impl Turns {
    /// Turns for a pool of `connections`, each waited for at most `longest_wait` (the
    /// pool's own checkout timeout).
    pub fn new(connections: u32, longest_wait: Duration) -> Self {
        let connections = usize::try_from(connections).unwrap_or(1).max(1);
        Self {
            free: Arc::new(Semaphore::new(connections)),
            longest_wait,
        }
    }

    /// Waits for a turn, in order of arrival; busy (503) after `longest_wait`, as a
    /// write that waited that long for SQLite's writer thread is.
    pub async fn take(&self) -> Result<Turn, ApiError> {
        match tokio::time::timeout(self.longest_wait, self.free.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Turn(permit)),
            // Timed out, or closed (never: nothing closes it).
            _ => Err(StoreError::Busy(format!(
                "no pooled connection free within {} ms",
                self.longest_wait.as_millis()
            ))
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[actix_web::test]
    async fn turns_go_in_order_of_arrival() {
        let turns = Arc::new(Turns::new(1, Duration::from_secs(5)));
        let first = turns.take().await.expect("a free turn");
        let served = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for name in ["second", "third", "fourth"] {
            let (turns, served) = (turns.clone(), served.clone());
            waiting.push(actix_web::rt::spawn(async move {
                let turn = turns.take().await.expect("a turn");
                served.lock().expect("lock").push(name);
                // Held across a yield, so that a later arrival could overtake if it may.
                actix_web::rt::task::yield_now().await;
                drop(turn);
            }));
            // Each is queued before the next arrives.
            actix_web::rt::task::yield_now().await;
        }
        drop(first);
        for task in waiting {
            task.await.expect("task");
        }
        assert_eq!(*served.lock().expect("lock"), ["second", "third", "fourth"]);
    }

    #[actix_web::test]
    async fn a_request_that_waits_too_long_is_answered_busy() {
        let turns = Turns::new(1, Duration::from_millis(20));
        let _held = turns.take().await.expect("a free turn");
        let error = turns.take().await.err().expect("no turn in time");
        assert!(
            matches!(
                error,
                ApiError::Unavailable {
                    retry_after_secs: 1,
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
