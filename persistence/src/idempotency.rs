//! Stored answers to requests sent with an `Idempotency-Key`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::convert::to_db_time;
use crate::schema::idempotency_keys;
use crate::{DbConn, StoreError};

/// What a key holds: a request still in progress, or its stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    InProgress { request_hash: String },
    Done(StoredResponse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    pub etag: Option<String>,
}

/// How long keys are kept, and after how long a request still marked in progress is
/// taken as abandoned (its node stopped mid-request).
pub struct Retention {
    pub keep_since: DateTime<Utc>,
    pub abandoned_before: DateTime<Utc>,
}

/// Claims a key for a new request. Answers `None` when it was free (the caller now
/// owns it), or what the key already holds. Expired keys (everyone's, through the
/// `created_at` index) and this key's abandoned claim are forgotten first. Two claims at
/// once: the second insert is refused (`StoreError::Constraint`).
pub fn claim(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    retention: &Retention,
) -> Result<Option<Recorded>, StoreError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(to_db_time(retention.keep_since))),
    )
    .execute(conn)?;
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::scope.eq(scope))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::status.eq(0))
            .filter(idempotency_keys::created_at.lt(to_db_time(retention.abandoned_before))),
    )
    .execute(conn)?;
    let existing = idempotency_keys::table
        .filter(idempotency_keys::scope.eq(scope))
        .filter(idempotency_keys::key.eq(key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::content_type,
            idempotency_keys::body,
            idempotency_keys::etag,
        ))
        .first::<(String, i32, Option<String>, Option<String>, Option<String>)>(conn)
        .optional()?;
    if let Some((request_hash, status, content_type, body, etag)) = existing {
        return Ok(Some(match u16::try_from(status) {
            Ok(status) if status > 0 => Recorded::Done(StoredResponse {
                request_hash,
                status,
                content_type,
                body: body.unwrap_or_default(),
                etag,
            }),
            _ => Recorded::InProgress { request_hash },
        }));
    }
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(scope),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status.eq(0),
            idempotency_keys::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(None)
}

/// Stores the answer of a claimed key.
pub fn complete(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::scope.eq(scope))
            .filter(idempotency_keys::key.eq(key)),
    )
    .set((
        idempotency_keys::status.eq(i32::from(response.status)),
        idempotency_keys::content_type.eq(&response.content_type),
        idempotency_keys::body.eq(&response.body),
        idempotency_keys::etag.eq(&response.etag),
    ))
    .execute(conn)?;
    Ok(())
}

/// Frees a claimed key whose request failed, so the client can retry it.
pub fn release(conn: &mut DbConn, scope: &str, key: &str) -> Result<(), StoreError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::scope.eq(scope))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::status.eq(0)),
    )
    .execute(conn)?;
    Ok(())
}
