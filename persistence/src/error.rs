//! Storage errors, sorted into what callers can act on.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row matched.
    #[error("not found")]
    NotFound,
    /// A unique or check constraint refused the write; the string names the constraint
    /// or column when the engine says which.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// The database could not be reached in time.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] diesel::r2d2::PoolError),
    /// The database is busy: another writer held its lock past the busy timeout, or
    /// PostgreSQL gave up on a lock or a serializable transaction. Worth a retry.
    #[error("database busy: {0}")]
    Busy(String),
    /// The connection broke during the request (the server went away or restarted).
    /// Nothing was acknowledged; worth a retry once the database is back.
    #[error("database connection lost: {0}")]
    ConnectionLost(String),
    /// Opening or migrating the database failed.
    #[error("database setup failed: {0}")]
    Setup(String),
    /// A stored value no longer parses as the domain type it was written from.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Anything else the database said.
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    /// The write ran in a group whose transaction did not commit (`WriteQueue`), or the
    /// writer thread is gone: nothing of it was stored. Worth a retry.
    #[error("not committed: {0}")]
    NotCommitted(String),
    /// The write panicked (a bug) and was rolled back.
    #[error("the write panicked and was rolled back")]
    Panicked,
}

impl StoreError {
    /// What a write hears when its group failed with `self`: each write of the group
    /// gets its own error, still busy when the group was busy.
    pub(crate) fn not_committed(&self) -> StoreError {
        match self {
            StoreError::Busy(cause) => StoreError::Busy(cause.clone()),
            StoreError::NotCommitted(cause) => StoreError::NotCommitted(cause.clone()),
            other => StoreError::NotCommitted(other.to_string()),
        }
    }

    /// The session is gone: recorded, so that the pool proves every connection alive
    /// again before handing it out (`pooled`).
    fn connection_lost(cause: &str) -> StoreError {
        crate::pooled::note_connection_lost();
        StoreError::ConnectionLost(cause.to_owned())
    }
}

/// The rule (a trigger on both engines) that refuses to pair two members blocked in the
/// group; its error names it, so callers can tell it from the other refusals.
pub const BLOCKED_PAIR: &str = "pairings_blocked_pair";

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StoreError::NotFound,
            // SQLite reports a trigger's RAISE(ABORT) as an unclassified constraint
            // error, so the rule is known by its message on both engines.
            DieselError::DatabaseError(_, ref info)
                if info.constraint_name() == Some(BLOCKED_PAIR)
                    || info.message().contains(BLOCKED_PAIR) =>
            {
                StoreError::Constraint(BLOCKED_PAIR.to_owned())
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::ForeignKeyViolation,
                ref info,
            ) => StoreError::Constraint(
                info.constraint_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| info.message().to_owned()),
            ),
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                ref info,
            ) => StoreError::connection_lost(info.message()),
            DieselError::DatabaseError(_, ref info) if is_connection_lost(info.message()) => {
                StoreError::connection_lost(info.message())
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, ref info) => {
                StoreError::Busy(info.message().to_owned())
            }
            DieselError::DatabaseError(_, ref info) if is_busy(info.message()) => {
                StoreError::Busy(info.message().to_owned())
            }
            other => StoreError::Database(other),
        }
    }
}

/// SQLite's SQLITE_BUSY and SQLITE_LOCKED texts, and PostgreSQL's lock timeouts and
/// deadlocks (SQLSTATE 55P03 / 40P01 reach diesel as unknown errors, so by their text).
fn is_busy(message: &str) -> bool {
    message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("database is busy")
        || message.contains("could not obtain lock")
        || message.contains("deadlock detected")
        || message.contains("lock timeout")
}

/// libpq's texts when the server goes away mid-request (SQLSTATE 57P01 and friends reach
/// diesel as unknown errors): an outage, not a bug.
fn is_connection_lost(message: &str) -> bool {
    message.contains("terminating connection")
        || message.contains("server closed the connection")
        || message.contains("no connection to the server")
        || message.contains("could not receive data from server")
        || message.contains("could not send data to server")
        || message.contains("the database system is shutting down")
        || message.contains("the database system is starting up")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connection_texts_are_an_outage() {
        assert!(is_connection_lost(
            "terminating connection due to administrator command"
        ));
        assert!(is_connection_lost(
            "server closed the connection unexpectedly"
        ));
        assert!(!is_connection_lost("no such table: users"));
    }

    #[test]
    fn busy_texts_of_both_engines_are_busy() {
        assert!(is_busy("database is locked"));
        assert!(is_busy("deadlock detected"));
        assert!(is_busy("canceling statement due to lock timeout"));
        assert!(!is_busy("no such table: users"));
    }
}
