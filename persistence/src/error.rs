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
    /// Opening or migrating the database failed.
    #[error("database setup failed: {0}")]
    Setup(String),
    /// A stored value no longer parses as the domain type it was written from.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Anything else the database said.
    #[error("database error: {0}")]
    Database(#[source] DieselError),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StoreError::NotFound,
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
            other => StoreError::Database(other),
        }
    }
}
