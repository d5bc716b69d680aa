//! A pooled connection and what the pool knows of its health.
//!
//! A PostgreSQL session can die under the pool (a restart, an outage), so a connection
//! must be proven alive before it is handed out. Proving it with a `SELECT 1` on every
//! checkout cost a round trip per request, as much as the hot reads' own query. A
//! connection that went back to the pool a moment ago, with no lost connection seen by
//! this process since, is alive as far as anyone can know without asking: only the
//! others are asked (the bypass window of HikariCP and others).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::db::DbConn;

/// How long after its last use a connection is handed out again without a `SELECT 1`.
pub(crate) const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// Connections this process found lost (errors that say the session is gone, and
/// failures to open one). A change means that any session may be dead: each is proven
/// again before its next use.
static LOSSES_SEEN: AtomicU64 = AtomicU64::new(0);

/// Records that a connection was found lost.
pub(crate) fn note_connection_lost() {
    LOSSES_SEEN.fetch_add(1, Ordering::Relaxed);
}

fn losses_seen() -> u64 {
    LOSSES_SEEN.load(Ordering::Relaxed)
}

/// A connection as the pool holds it; it dereferences to the `DbConn` repositories take.
pub struct PooledDb {
    conn: DbConn,
    /// When it went back to the pool (or was opened).
    last_returned: Instant,
    /// `LOSSES_SEEN` when it was last proven alive.
    losses_when_proven: u64,
}

impl PooledDb {
    pub(crate) fn new(conn: DbConn) -> Self {
        Self {
            conn,
            last_returned: Instant::now(),
            losses_when_proven: losses_seen(),
        }
    }

    /// May it be handed out without asking the server whether it is alive?
    pub(crate) fn is_trusted(&self, now: Instant) -> bool {
        self.losses_when_proven == losses_seen()
            && now.saturating_duration_since(self.last_returned) < TRUSTED_FOR
    }

    /// The server answered on it.
    pub(crate) fn proven_alive(&mut self) {
        self.losses_when_proven = losses_seen();
    }

    pub(crate) fn returned(&mut self, now: Instant) {
        self.last_returned = now;
    }
}

impl Deref for PooledDb {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl DerefMut for PooledDb {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::Connection;

    fn opened() -> PooledDb {
        PooledDb::new(DbConn::Sqlite(
            diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        ))
    }

    #[test]
    fn a_connection_is_asked_again_once_idle_or_once_any_was_lost() {
        let mut conn = opened();
        let now = Instant::now();
        conn.returned(now);
        assert!(conn.is_trusted(now), "just returned");
        assert!(
            !conn.is_trusted(now + TRUSTED_FOR),
            "idle for the whole window"
        );

        note_connection_lost();
        assert!(!conn.is_trusted(now), "another session was found lost");
        conn.proven_alive();
        assert!(conn.is_trusted(now), "proven since");
    }
}
