//! The notification feed of each user.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tandem_domain::ids::{NotificationId, UserId};
use tandem_domain::notification::NotificationPayload;

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::page::load_page;
use crate::schema::notifications;
use crate::{DbConn, Page, StoreError};

/// A notification as stored: its kind's name in `kind`, the kind's data as JSON in `data`.
#[derive(Debug, Clone)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub payload: NotificationPayload,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = notifications)]
struct Row {
    id: String,
    user_id: String,
    kind: String,
    data: String,
    created_at: NaiveDateTime,
    read_at: Option<NaiveDateTime>,
}

impl TryFrom<Row> for Notification {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(Notification {
            id: parse_id(&row.id, "notification")?,
            user_id: parse_id(&row.user_id, "user")?,
            payload: read_payload(row.kind, &row.data)?,
            created_at: from_db_time(row.created_at),
            read_at: row.read_at.map(from_db_time),
        })
    }
}

/// The payload from its two columns.
fn read_payload(kind: String, data: &str) -> Result<NotificationPayload, StoreError> {
    let data: serde_json::Value =
        serde_json::from_str(data).map_err(|e| corrupt(format!("notification data: {e}")))?;
    let tagged = serde_json::json!({ "kind": kind, "data": data });
    serde_json::from_value(tagged).map_err(|e| corrupt(format!("notification {kind}: {e}")))
}

/// Adds a notification to a user's feed.
pub fn push(
    conn: &mut DbConn,
    user_id: UserId,
    payload: &NotificationPayload,
    now: DateTime<Utc>,
) -> Result<NotificationId, StoreError> {
    let id = NotificationId::new_v7(now);
    let kind = payload.kind();
    let data = stored_data(payload)?;
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(id.to_string()),
            notifications::user_id.eq(user_id.to_string()),
            notifications::kind.eq(kind),
            notifications::data.eq(data),
            notifications::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Adds a notification to a user's feed unless one with the same `dedupe_key` is already
/// stored: producers that may run twice (jobs on several nodes) deliver exactly once.
/// Answers whether it was added.
pub fn push_once(
    conn: &mut DbConn,
    user_id: UserId,
    payload: &NotificationPayload,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let id = NotificationId::new_v7(now);
    let kind = payload.kind();
    let data = stored_data(payload)?;
    let row = (
        notifications::id.eq(id.to_string()),
        notifications::user_id.eq(user_id.to_string()),
        notifications::kind.eq(kind),
        notifications::data.eq(data),
        notifications::dedupe_key.eq(Some(dedupe_key)),
        notifications::created_at.eq(to_db_time(now)),
    );
    // The unique key decides, in the database, even between transactions that both
    // checked first; the multi-engine connection has no upsert, hence one per engine.
    let added = match conn {
        DbConn::Postgres(pg) => diesel::insert_into(notifications::table)
            .values(row)
            .on_conflict(notifications::dedupe_key)
            .do_nothing()
            .execute(pg)?,
        DbConn::Sqlite(sqlite) => diesel::insert_into(notifications::table)
            .values(row)
            .on_conflict(notifications::dedupe_key)
            .do_nothing()
            .execute(sqlite)?,
    };
    Ok(added == 1)
}

/// A payload's data as stored: the kind goes in its own column.
fn stored_data(payload: &NotificationPayload) -> Result<String, StoreError> {
    match serde_json::to_value(payload).map_err(|e| corrupt(e.to_string()))? {
        serde_json::Value::Object(mut tagged) => {
            Ok(tagged.remove("data").unwrap_or_default().to_string())
        }
        _ => Err(corrupt(format!(
            "notification {} is not an object",
            payload.kind()
        ))),
    }
}

/// A user's notifications, newest first.
pub fn list(
    conn: &mut DbConn,
    user_id: UserId,
    unread_only: bool,
    after: Option<NotificationId>,
    limit: usize,
) -> Result<Page<Notification, NotificationId>, StoreError> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user_id.to_string()))
        .select(Row::as_select())
        .order(notifications::id.desc())
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(after) = after {
        query = query.filter(notifications::id.lt(after.to_string()));
    }
    load_page(conn, query, limit, Notification::try_from, |n| n.id)
}

/// Marks one of the user's notifications read (or unread). Someone else's is not found.
pub fn set_read(
    conn: &mut DbConn,
    user_id: UserId,
    id: NotificationId,
    read_at: Option<DateTime<Utc>>,
) -> Result<Notification, StoreError> {
    let updated = diesel::update(
        notifications::table
            .find(id.to_string())
            .filter(notifications::user_id.eq(user_id.to_string())),
    )
    .set((
        notifications::read_at.eq(read_at.map(to_db_time)),
        notifications::version.eq(notifications::version + 1),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    notifications::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)?
        .try_into()
}

/// Marks all of a user's unread notifications read; answers how many.
pub fn mark_all_read(
    conn: &mut DbConn,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id.to_string()))
            .filter(notifications::read_at.is_null()),
    )
    .set((
        notifications::read_at.eq(to_db_time(now)),
        notifications::version.eq(notifications::version + 1),
    ))
    .execute(conn)?)
}

/// A user's unread notifications of one kind, newest first. Coalesced kinds keep at
/// most one per subject, so there are a handful.
pub fn unread_of_kind(
    conn: &mut DbConn,
    user_id: UserId,
    kind: &str,
) -> Result<Vec<Notification>, StoreError> {
    notifications::table
        .filter(notifications::user_id.eq(user_id.to_string()))
        .filter(notifications::kind.eq(kind))
        .filter(notifications::read_at.is_null())
        .select(Row::as_select())
        .order(notifications::id.desc())
        .load::<Row>(conn)?
        .into_iter()
        .map(Notification::try_from)
        .collect()
}

/// One of the user's notifications; someone else's is not found.
pub fn find_own(
    conn: &mut DbConn,
    user_id: UserId,
    id: NotificationId,
) -> Result<Notification, StoreError> {
    notifications::table
        .find(id.to_string())
        .filter(notifications::user_id.eq(user_id.to_string()))
        .select(Row::as_select())
        .first::<Row>(conn)?
        .try_into()
}

/// One of the user's notifications with its version (for its ETag), read together so
/// the ETag always names the body it comes with.
pub fn find_own_versioned(
    conn: &mut DbConn,
    user_id: UserId,
    id: NotificationId,
) -> Result<(Notification, i64), StoreError> {
    let (row, version) = notifications::table
        .find(id.to_string())
        .filter(notifications::user_id.eq(user_id.to_string()))
        .select((Row::as_select(), notifications::version))
        .first::<(Row, i64)>(conn)?;
    Ok((row.try_into()?, version))
}

/// A notification's version, for its ETag.
pub fn version(conn: &mut DbConn, id: NotificationId) -> Result<i64, StoreError> {
    Ok(notifications::table
        .find(id.to_string())
        .select(notifications::version)
        .first(conn)?)
}

/// Takes the notification's row lock (a no-op update) for the rest of the transaction,
/// so an update checks `If-Match` against the version it then writes over.
pub fn lock(conn: &mut DbConn, user_id: UserId, id: NotificationId) -> Result<(), StoreError> {
    let key = id.to_string();
    let locked = diesel::update(
        notifications::table
            .find(&key)
            .filter(notifications::user_id.eq(user_id.to_string())),
    )
    .set(notifications::id.eq(&key))
    .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Replaces the data of a notification that is still unread (same kind). Answers false
/// when it was read meanwhile: the update re-checks `read_at` on the row as committed.
pub fn update_unread(
    conn: &mut DbConn,
    id: NotificationId,
    payload: &NotificationPayload,
) -> Result<bool, StoreError> {
    let data = stored_data(payload)?;
    let updated = diesel::update(
        notifications::table
            .find(id.to_string())
            .filter(notifications::kind.eq(payload.kind()))
            .filter(notifications::read_at.is_null()),
    )
    .set((
        notifications::data.eq(data),
        notifications::version.eq(notifications::version + 1),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// A user's notifications that mention a pairing (its id is in their data): to rewrite
/// them when the partner of that pairing deletes their account.
pub fn mentioning_pairing(
    conn: &mut DbConn,
    user_id: UserId,
    pairing_id: tandem_domain::ids::PairingId,
) -> Result<Vec<Notification>, StoreError> {
    // Ids are UUIDs (hex and dashes): nothing in them is a LIKE wildcard.
    notifications::table
        .filter(notifications::user_id.eq(user_id.to_string()))
        .filter(notifications::data.like(format!("%{pairing_id}%")))
        .select(Row::as_select())
        .load::<Row>(conn)?
        .into_iter()
        .map(Notification::try_from)
        .collect()
}

/// Stores a notification's changed data, read or not, and bumps its version: a copy
/// cached under the old ETag is stale.
pub fn rewrite(conn: &mut DbConn, notification: &Notification) -> Result<(), StoreError> {
    diesel::update(notifications::table.find(notification.id.to_string()))
        .set((
            notifications::data.eq(stored_data(&notification.payload)?),
            notifications::version.eq(notifications::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}
