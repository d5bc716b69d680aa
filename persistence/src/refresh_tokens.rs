//! Refresh tokens: stored only as hashes, grouped in families (one per login).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tandem_domain::ids::{RefreshTokenId, TokenFamilyId, UserId};

use crate::convert::{from_db_time, parse_id, to_db_time};
use crate::schema::refresh_tokens;
use crate::{DbConn, StoreError};

/// A stored refresh token.
#[derive(Debug, Clone)]
pub struct StoredRefreshToken {
    pub id: RefreshTokenId,
    pub family_id: TokenFamilyId,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct Row {
    id: String,
    family_id: String,
    user_id: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<Row> for StoredRefreshToken {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&row.id, "refresh token")?,
            family_id: parse_id(&row.family_id, "token family")?,
            user_id: parse_id(&row.user_id, "user")?,
            expires_at: from_db_time(row.expires_at),
            used_at: row.used_at.map(from_db_time),
            revoked_at: row.revoked_at.map(from_db_time),
        })
    }
}

/// A refresh token to store.
pub struct NewRefreshToken<'a> {
    pub id: RefreshTokenId,
    pub family_id: TokenFamilyId,
    pub user_id: UserId,
    pub token_hash: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub fn insert(conn: &mut DbConn, token: &NewRefreshToken<'_>) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(token.id.to_string()),
            refresh_tokens::family_id.eq(token.family_id.to_string()),
            refresh_tokens::user_id.eq(token.user_id.to_string()),
            refresh_tokens::token_hash.eq(token.token_hash),
            refresh_tokens::created_at.eq(to_db_time(token.created_at)),
            refresh_tokens::expires_at.eq(to_db_time(token.expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_by_hash(
    conn: &mut DbConn,
    token_hash: &str,
) -> Result<Option<StoredRefreshToken>, StoreError> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(StoredRefreshToken::try_from)
        .transpose()
}

/// Marks a token spent. Answers false when it was already spent or revoked, so two
/// concurrent refreshes with one token cannot both succeed.
pub fn mark_used(
    conn: &mut DbConn,
    id: RefreshTokenId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(id.to_string())
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(to_db_time(now)))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every token of a family (a login session).
pub fn revoke_family(
    conn: &mut DbConn,
    family_id: TokenFamilyId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db_time(now)))
    .execute(conn)?;
    Ok(())
}
