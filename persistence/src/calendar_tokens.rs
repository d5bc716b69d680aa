//! The secrets of users' calendar feeds, stored as hashes: one per user.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tandem_domain::ids::UserId;

use crate::convert::{parse_id, to_db_time};
use crate::schema::calendar_tokens;
use crate::{DbConn, StoreError};

/// Gives the user this feed secret, replacing any earlier one: the old URL stops at once.
pub fn replace(
    conn: &mut DbConn,
    user: UserId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(calendar_tokens::table.find(user.to_string())).execute(conn)?;
    diesel::insert_into(calendar_tokens::table)
        .values((
            calendar_tokens::user_id.eq(user.to_string()),
            calendar_tokens::token_hash.eq(token_hash),
            calendar_tokens::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whose feed a secret opens, if anyone's.
pub fn owner(conn: &mut DbConn, token_hash: &str) -> Result<Option<UserId>, StoreError> {
    calendar_tokens::table
        .filter(calendar_tokens::token_hash.eq(token_hash))
        .select(calendar_tokens::user_id)
        .first::<String>(conn)
        .optional()?
        .map(|id| parse_id(&id, "user"))
        .transpose()
}

/// When the user's current feed secret was made, if they have one (never the secret).
pub fn created_at(conn: &mut DbConn, user: UserId) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(calendar_tokens::table
        .find(user.to_string())
        .select(calendar_tokens::created_at)
        .first::<chrono::NaiveDateTime>(conn)
        .optional()?
        .map(crate::convert::from_db_time))
}

/// Forgets the user's feed secret: their calendar URL stops working.
pub fn revoke(conn: &mut DbConn, user: UserId) -> Result<(), StoreError> {
    diesel::delete(calendar_tokens::table.find(user.to_string())).execute(conn)?;
    Ok(())
}
