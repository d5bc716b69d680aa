//! Users and their credentials.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tandem_domain::ids::UserId;
use tandem_domain::user::{shown_name, DisplayName, Email, TimeZone, User};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::db::on_engine;
use crate::schema::users;
use crate::{DbConn, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    password_hash: String,
    time_zone: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl UserRow {
    fn into_user(self) -> Result<(User, String), StoreError> {
        let user = User {
            id: parse_id(&self.id, "user")?,
            email: Email::parse_stored(&self.email).map_err(|_| corrupt("stored email"))?,
            display_name: DisplayName::parse(&self.display_name)
                .map_err(|_| corrupt("stored display name"))?,
            time_zone: TimeZone::parse(&self.time_zone).map_err(|_| corrupt("stored time zone"))?,
            version: self.version,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
        };
        Ok((user, self.password_hash))
    }
}

/// What a user writes on insert.
#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    id: String,
    email: &'a str,
    password_hash: &'a str,
    version: i64,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    profile: ProfileColumns<'a>,
}

/// The profile columns: written whole by an insert and by a profile update (which bumps
/// the version beside it).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users)]
struct ProfileColumns<'a> {
    display_name: &'a str,
    time_zone: &'a str,
    updated_at: NaiveDateTime,
}

impl<'a> ProfileColumns<'a> {
    fn of(user: &'a User, updated_at: DateTime<Utc>) -> Self {
        Self {
            display_name: user.display_name.as_str(),
            time_zone: user.time_zone.name(),
            updated_at: to_db_time(updated_at),
        }
    }
}

/// Stores a new user. A taken email is `StoreError::Constraint`.
pub fn insert(conn: &mut DbConn, user: &User, password_hash: &str) -> Result<(), StoreError> {
    diesel::insert_into(users::table)
        .values(NewUser {
            id: user.id.to_string(),
            email: user.email.as_str(),
            password_hash,
            version: user.version,
            created_at: to_db_time(user.created_at),
            profile: ProfileColumns::of(user, user.updated_at),
        })
        .execute(conn)?;
    Ok(())
}

/// A user and their password hash, by email.
pub fn find_by_email(
    conn: &mut DbConn,
    email: &Email,
) -> Result<Option<(User, String)>, StoreError> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .filter(users::deleted_at.is_null())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

/// A live account; a deleted one is `NotFound` (its row is a tombstone, not an account).
pub fn find(conn: &mut DbConn, id: UserId) -> Result<User, StoreError> {
    find_with_hash(conn, id).map(|(user, _)| user)
}

/// A live account and its password hash, to confirm the password.
pub fn find_with_hash(conn: &mut DbConn, id: UserId) -> Result<(User, String), StoreError> {
    users::table
        .find(id.to_string())
        .filter(users::deleted_at.is_null())
        .select(UserRow::as_select())
        .first(conn)?
        .into_user()
}

// Second and third readings of the table in one query: the mentor beside the mentee,
// the caller's own row (`exists_now`) beside the rows a query reads. Declared together,
// as diesel requires of aliases of one table that meet in a query.
diesel::alias! {
    pub(crate) const MENTORS: Alias<Mentors> = users as mentors;
    pub(crate) const ACCOUNTS: Alias<Accounts> = users as accounts;
}

pub(crate) type ExistsNow = diesel::dsl::exists<
    diesel::dsl::Filter<
        ACCOUNTS,
        diesel::dsl::And<
            diesel::dsl::Eq<diesel::query_source::AliasedField<Accounts, users::id>, String>,
            diesel::dsl::IsNull<diesel::query_source::AliasedField<Accounts, users::deleted_at>>,
        >,
    >,
>;

/// Does the account still exist (and is it not deleted)? As an expression, so that a
/// hot read can select it as a column and answer the account check without a statement
/// of its own (a subquery without outer references: computed once per statement).
pub(crate) fn exists_now(id: UserId) -> ExistsNow {
    diesel::dsl::exists(
        ACCOUNTS.filter(
            ACCOUNTS
                .field(users::id)
                .eq(id.to_string())
                .and(ACCOUNTS.field(users::deleted_at).is_null()),
        ),
    )
}

/// Does the account still exist (and is it not deleted)?
pub fn exists(conn: &mut DbConn, id: UserId) -> Result<bool, StoreError> {
    let query = diesel::select(exists_now(id));
    // Every authenticated request runs this, or `exists_now` inside its main query.
    Ok(on_engine!(conn, c => query.get_result(c))?)
}

/// Turns the account into a tombstone: the address freed, the password unusable, the
/// name replaced, the time of deletion kept. The row stays for the pairings and
/// enrolments that name it, and so does the time zone: a mentee's pairings keep their
/// schedules in it, and resetting it would move the partner's and the admins' dates.
pub fn erase(conn: &mut DbConn, id: UserId, now: DateTime<Utc>) -> Result<(), StoreError> {
    let updated = diesel::update(
        users::table
            .find(id.to_string())
            .filter(users::deleted_at.is_null()),
    )
    .set((
        users::email.eq(tandem_domain::user::Erased::email(id)),
        users::display_name.eq(DisplayName::DELETED),
        users::password_hash.eq(tandem_domain::user::Erased::PASSWORD_HASH),
        users::version.eq(users::version + 1),
        users::updated_at.eq(to_db_time(now)),
        users::deleted_at.eq(Some(to_db_time(now))),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Takes the user's row lock for the rest of the transaction (a no-op update, as in
/// `groups::lock_group`), so concurrent profile updates run one after another and each
/// reads the profile as the one before left it. A deleted account is `NotFound`: a
/// write that waited for the deletion's lock (PostgreSQL re-checks the condition on
/// the row the deletion committed) finds the account gone and must not go on.
pub fn lock(conn: &mut DbConn, id: UserId) -> Result<(), StoreError> {
    let key = id.to_string();
    let locked = diesel::update(users::table.find(&key).filter(users::deleted_at.is_null()))
        .set(users::id.eq(&key))
        .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Writes a changed profile and bumps its version, if it is still at `user.version`.
pub fn update_profile(
    conn: &mut DbConn,
    user: &User,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    // Only over the version that was read, so a check of If-Match cannot be overtaken.
    let updated = diesel::update(
        users::table
            .find(user.id.to_string())
            .filter(users::version.eq(user.version)),
    )
    .set((
        ProfileColumns::of(user, now),
        users::version.eq(users::version + 1),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::Constraint("user_changed_meanwhile".into()));
    }
    find(conn, user.id)
}

/// The names others see for several users at once, for lists: a deleted account's is
/// the label the domain gives it.
pub fn display_names(
    conn: &mut DbConn,
    ids: &[UserId],
) -> Result<std::collections::HashMap<UserId, String>, StoreError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    users::table
        .filter(users::id.eq_any(keys))
        .select((users::id, users::display_name, users::deleted_at))
        .load::<(String, String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(id, name, deleted_at)| {
            let shown = shown_name(&name, deleted_at.is_some()).to_owned();
            Ok((parse_id(&id, "user")?, shown))
        })
        .collect()
}

/// How a user appears beside a pairing: the name shown and the time zone schedules use.
#[derive(Debug, Clone)]
pub struct Face {
    pub display_name: String,
    pub time_zone: chrono_tz::Tz,
}

/// Names and time zones of a few users in one query (a pairing's partners, a page of
/// pairings): what `display_names` and `time_zones` answer, read together.
pub fn faces(
    conn: &mut DbConn,
    ids: &[UserId],
) -> Result<std::collections::HashMap<UserId, Face>, StoreError> {
    let columns = (
        users::id,
        users::display_name,
        users::deleted_at,
        users::time_zone,
    );
    let rows: Vec<(String, String, Option<NaiveDateTime>, String)> = match ids {
        // One pairing's two partners: a fixed statement, which SQLite keeps prepared
        // (an `IN` list of varying length is compiled on every run).
        [a] | [a, _] => {
            let b = ids.last().unwrap_or(a);
            let query = users::table
                .filter(users::id.eq(a.to_string()).or(users::id.eq(b.to_string())))
                .select(columns);
            on_engine!(conn, c => query.load(c))?
        }
        _ => {
            let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
            users::table
                .filter(users::id.eq_any(keys))
                .select(columns)
                .load(conn)?
        }
    };
    rows.into_iter()
        .map(|(id, name, deleted_at, zone)| {
            Ok((
                parse_id(&id, "user")?,
                Face::of_row(&name, deleted_at, &zone),
            ))
        })
        .collect()
}

impl Face {
    /// From a user row's name, deletion time and zone.
    pub(crate) fn of_row(name: &str, deleted_at: Option<NaiveDateTime>, zone: &str) -> Self {
        Face {
            display_name: shown_name(name, deleted_at.is_some()).to_owned(),
            time_zone: stored_zone(zone),
        }
    }
}

/// A stored time zone name; one this build does not know reads as UTC.
fn stored_zone(raw: &str) -> chrono_tz::Tz {
    raw.parse().unwrap_or(chrono_tz::Tz::UTC)
}

/// Time zones of several users at once: schedules are in the mentee's, reminders in each
/// recipient's. A stored name this build does not know reads as UTC.
pub fn time_zones(
    conn: &mut DbConn,
    ids: &[UserId],
) -> Result<std::collections::HashMap<UserId, chrono_tz::Tz>, StoreError> {
    // In chunks: a program's insights ask for every mentee at once, more than the
    // engines' bound parameters allow in one statement (32,766 on SQLite).
    let mut zones = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        for (id, zone) in users::table
            .filter(users::id.eq_any(keys))
            .select((users::id, users::time_zone))
            .load::<(String, String)>(conn)?
        {
            zones.insert(parse_id(&id, "user")?, stored_zone(&zone));
        }
    }
    Ok(zones)
}

/// The name others see for one user (the deleted-account label for a deleted one).
pub fn shown_name_of(conn: &mut DbConn, id: UserId) -> Result<String, StoreError> {
    display_names(conn, &[id])?
        .remove(&id)
        .ok_or(StoreError::NotFound)
}
