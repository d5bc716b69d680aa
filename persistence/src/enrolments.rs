//! Enrolments, with their answers as JSON text.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tandem_domain::enrolment::{Enrolment, EnrolmentRole, EnrolmentStatus};
use tandem_domain::ids::{EnrolmentId, ProgramId, UserId};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::page::load_page;
use crate::schema::enrolments;
use crate::{DbConn, Page, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = enrolments)]
struct EnrolmentRow {
    id: String,
    program_id: String,
    user_id: String,
    role: String,
    status: String,
    capacity: i32,
    active_pairings: i32,
    answers: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<EnrolmentRow> for Enrolment {
    type Error = StoreError;
    fn try_from(row: EnrolmentRow) -> Result<Self, StoreError> {
        Ok(Enrolment {
            id: parse_id(&row.id, "enrolment")?,
            program_id: parse_id(&row.program_id, "program")?,
            user_id: parse_id(&row.user_id, "user")?,
            role: EnrolmentRole::parse(&row.role).ok_or_else(|| corrupt("enrolment role"))?,
            status: EnrolmentStatus::parse(&row.status)
                .ok_or_else(|| corrupt("enrolment status"))?,
            capacity: u8::try_from(row.capacity).map_err(|_| corrupt("enrolment capacity"))?,
            active_pairings: u8::try_from(row.active_pairings)
                .map_err(|_| corrupt("active pairings"))?,
            answers: serde_json::from_str(&row.answers)
                .map_err(|e| corrupt(format!("answers: {e}")))?,
            version: row.version,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
        })
    }
}

/// What an enrolment writes on insert.
#[derive(Insertable)]
#[diesel(table_name = enrolments)]
struct NewEnrolment<'a> {
    id: String,
    program_id: String,
    user_id: String,
    role: &'a str,
    active_pairings: i32,
    version: i64,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    changes: EnrolmentChanges<'a>,
}

/// The columns a member or an admin changes (a re-enrolment, a decision): written whole
/// by an insert and by an update (which bumps the version beside it). The places taken
/// change only through `take_place` and `release_place`.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = enrolments)]
struct EnrolmentChanges<'a> {
    status: &'a str,
    capacity: i32,
    answers: String,
    updated_at: NaiveDateTime,
}

impl<'a> EnrolmentChanges<'a> {
    fn of(enrolment: &'a Enrolment, updated_at: DateTime<Utc>) -> Result<Self, StoreError> {
        Ok(Self {
            status: enrolment.status.as_str(),
            capacity: i32::from(enrolment.capacity),
            answers: serde_json::to_string(&enrolment.answers)
                .map_err(|e| corrupt(e.to_string()))?,
            updated_at: to_db_time(updated_at),
        })
    }
}

pub fn insert(conn: &mut DbConn, enrolment: &Enrolment) -> Result<(), StoreError> {
    diesel::insert_into(enrolments::table)
        .values(NewEnrolment {
            id: enrolment.id.to_string(),
            program_id: enrolment.program_id.to_string(),
            user_id: enrolment.user_id.to_string(),
            role: enrolment.role.as_str(),
            active_pairings: i32::from(enrolment.active_pairings),
            version: enrolment.version,
            created_at: to_db_time(enrolment.created_at),
            changes: EnrolmentChanges::of(enrolment, enrolment.updated_at)?,
        })
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: EnrolmentId) -> Result<Enrolment, StoreError> {
    enrolments::table
        .find(id.to_string())
        .select(EnrolmentRow::as_select())
        .first(conn)?
        .try_into()
}

/// The user's enrolment in the program in the role, whatever its status.
pub fn find_for(
    conn: &mut DbConn,
    program_id: ProgramId,
    user_id: UserId,
    role: EnrolmentRole,
) -> Result<Option<Enrolment>, StoreError> {
    enrolments::table
        .filter(enrolments::program_id.eq(program_id.to_string()))
        .filter(enrolments::user_id.eq(user_id.to_string()))
        .filter(enrolments::role.eq(role.as_str()))
        .select(EnrolmentRow::as_select())
        .first(conn)
        .optional()?
        .map(Enrolment::try_from)
        .transpose()
}

/// Rewrites an enrolment's status, capacity and answers (a re-enrolment or a decision),
/// bumping its version. Only when the row is still as it was read (same version, same
/// active pairings): otherwise a concurrent change won and this answers
/// `StoreError::Constraint`, so a member cannot withdraw while being paired, nor an
/// admin approve an enrolment withdrawn meanwhile.
pub fn update(
    conn: &mut DbConn,
    enrolment: &Enrolment,
    now: DateTime<Utc>,
) -> Result<Enrolment, StoreError> {
    let updated = diesel::update(
        enrolments::table
            .find(enrolment.id.to_string())
            .filter(enrolments::version.eq(enrolment.version))
            .filter(enrolments::active_pairings.eq(i32::from(enrolment.active_pairings))),
    )
    .set((
        EnrolmentChanges::of(enrolment, now)?,
        enrolments::version.eq(enrolments::version + 1),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::Constraint("enrolment_changed_meanwhile".into()));
    }
    find(conn, enrolment.id)
}

/// Filters for listing a program's enrolments.
#[derive(Debug, Clone, Default)]
pub struct EnrolmentFilter {
    pub role: Option<EnrolmentRole>,
    pub status: Option<EnrolmentStatus>,
    /// Only this user's enrolments.
    pub user_id: Option<UserId>,
}

pub fn list(
    conn: &mut DbConn,
    program_id: ProgramId,
    filter: &EnrolmentFilter,
    after: Option<EnrolmentId>,
    limit: usize,
) -> Result<Page<Enrolment, EnrolmentId>, StoreError> {
    let mut query = enrolments::table
        .filter(enrolments::program_id.eq(program_id.to_string()))
        .select(EnrolmentRow::as_select())
        .order(enrolments::id.asc())
        .into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(enrolments::role.eq(role.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(enrolments::status.eq(status.as_str()));
    }
    if let Some(user_id) = filter.user_id {
        query = query.filter(enrolments::user_id.eq(user_id.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(enrolments::id.gt(after.to_string()));
    }
    load_page(conn, query, limit, Enrolment::try_from, |e| e.id)
}

/// Takes one place of an active enrolment for a new pairing. The database refuses more
/// than `capacity` (a check constraint), also under concurrent requests; that and an
/// enrolment that is no longer active both answer `StoreError::Constraint`.
pub fn take_place(conn: &mut DbConn, id: EnrolmentId) -> Result<(), StoreError> {
    let updated = diesel::update(
        enrolments::table
            .find(id.to_string())
            .filter(enrolments::status.eq(EnrolmentStatus::Active.as_str())),
    )
    .set((
        enrolments::active_pairings.eq(enrolments::active_pairings + 1),
        enrolments::version.eq(enrolments::version + 1),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::Constraint("enrolment_not_active".into()));
    }
    Ok(())
}

/// Gives back the place a pairing held when it ends.
pub fn release_place(conn: &mut DbConn, id: EnrolmentId) -> Result<(), StoreError> {
    diesel::update(
        enrolments::table
            .find(id.to_string())
            .filter(enrolments::active_pairings.gt(0)),
    )
    .set((
        enrolments::active_pairings.eq(enrolments::active_pairings - 1),
        enrolments::version.eq(enrolments::version + 1),
    ))
    .execute(conn)?;
    Ok(())
}

/// Active enrolments of a role in a program with a free place, oldest first. A mentee
/// whose pairing completed has had their program and is not offered again; one whose
/// pairing ended early is.
pub fn available(
    conn: &mut DbConn,
    program_id: ProgramId,
    role: EnrolmentRole,
) -> Result<Vec<Enrolment>, StoreError> {
    use crate::schema::pairings;
    use diesel::dsl::{exists, not};
    // Within the program, so the program's index bounds it.
    let completed = pairings::table
        .filter(pairings::program_id.eq(program_id.to_string()))
        .filter(pairings::mentee_enrolment_id.eq(enrolments::id))
        .filter(pairings::status.eq(tandem_domain::pairing::PairingStatus::Completed.as_str()));
    enrolments::table
        .filter(enrolments::program_id.eq(program_id.to_string()))
        .filter(enrolments::role.eq(role.as_str()))
        .filter(enrolments::status.eq(EnrolmentStatus::Active.as_str()))
        .filter(enrolments::active_pairings.lt(enrolments::capacity))
        .filter(not(exists(completed)))
        .select(EnrolmentRow::as_select())
        .order(enrolments::id.asc())
        .load::<EnrolmentRow>(conn)?
        .into_iter()
        .map(Enrolment::try_from)
        .collect()
}

/// A user's pending and active enrolments in the programs of a group.
pub fn open_for_user_in_group(
    conn: &mut DbConn,
    group_id: tandem_domain::ids::GroupId,
    user_id: UserId,
) -> Result<Vec<Enrolment>, StoreError> {
    use crate::schema::programs;
    enrolments::table
        .inner_join(programs::table)
        .filter(programs::group_id.eq(group_id.to_string()))
        .filter(enrolments::user_id.eq(user_id.to_string()))
        .filter(enrolments::status.eq_any([
            EnrolmentStatus::Pending.as_str(),
            EnrolmentStatus::Active.as_str(),
        ]))
        .select(EnrolmentRow::as_select())
        .order(enrolments::id.asc())
        .load::<EnrolmentRow>(conn)?
        .into_iter()
        .map(Enrolment::try_from)
        .collect()
}

/// Every enrolment of a user, in any program, oldest first: for their export (one per
/// program and role they ever enrolled in).
pub fn of_user(conn: &mut DbConn, user_id: UserId) -> Result<Vec<Enrolment>, StoreError> {
    enrolments::table
        .filter(enrolments::user_id.eq(user_id.to_string()))
        .select(EnrolmentRow::as_select())
        .order(enrolments::id.asc())
        .load::<EnrolmentRow>(conn)?
        .into_iter()
        .map(Enrolment::try_from)
        .collect()
}
