//! Conversions between stored columns and domain values.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::StoreError;

pub fn to_db_time(at: DateTime<Utc>) -> NaiveDateTime {
    tandem_domain::clock::storable(at).naive_utc()
}

pub fn from_db_time(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// Parses a stored id; a malformed one means the database was written by something else.
pub fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("stored {what} id {raw:?} is not a UUID")))
}

pub fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}
