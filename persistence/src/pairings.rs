//! Pairings of a mentor and a mentee.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use tandem_domain::ids::{PairingId, ProgramId, UserId};
use tandem_domain::pairing::{Pairing, PairingStatus, Partner};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::schema::pairings;
use crate::{enrolments, DbConn, Page, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = pairings)]
struct PairingRow {
    id: String,
    program_id: String,
    mentor_enrolment_id: String,
    mentee_enrolment_id: String,
    mentor_user_id: String,
    mentee_user_id: String,
    introduction: String,
    status: String,
    started_on: NaiveDate,
    created_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    ended_by: Option<String>,
    end_reason: Option<String>,
}

impl TryFrom<PairingRow> for Pairing {
    type Error = StoreError;
    fn try_from(row: PairingRow) -> Result<Self, StoreError> {
        Ok(Pairing {
            id: parse_id(&row.id, "pairing")?,
            program_id: parse_id(&row.program_id, "program")?,
            mentor: Partner {
                enrolment_id: parse_id(&row.mentor_enrolment_id, "enrolment")?,
                user_id: parse_id(&row.mentor_user_id, "user")?,
            },
            mentee: Partner {
                enrolment_id: parse_id(&row.mentee_enrolment_id, "enrolment")?,
                user_id: parse_id(&row.mentee_user_id, "user")?,
            },
            introduction: row.introduction,
            status: PairingStatus::parse(&row.status).ok_or_else(|| corrupt("pairing status"))?,
            started_on: row.started_on,
            created_at: from_db_time(row.created_at),
            ended_at: row.ended_at.map(from_db_time),
            ended_by: row
                .ended_by
                .as_deref()
                .map(|id| parse_id(id, "user"))
                .transpose()?,
            end_reason: row.end_reason,
        })
    }
}

/// Stores a new active pairing and takes a place of both enrolments. The enrolments
/// are locked in id order so concurrent pairings cannot deadlock; the database refuses
/// a full mentor, a mentee already paired, or an enrolment no longer active
/// (`StoreError::Constraint`).
pub fn insert(conn: &mut DbConn, pairing: &Pairing) -> Result<(), StoreError> {
    let mut places = [pairing.mentor.enrolment_id, pairing.mentee.enrolment_id];
    places.sort();
    for enrolment in places {
        enrolments::take_place(conn, enrolment)?;
    }
    diesel::insert_into(pairings::table)
        .values((
            pairings::id.eq(pairing.id.to_string()),
            pairings::program_id.eq(pairing.program_id.to_string()),
            pairings::mentor_enrolment_id.eq(pairing.mentor.enrolment_id.to_string()),
            pairings::mentee_enrolment_id.eq(pairing.mentee.enrolment_id.to_string()),
            pairings::mentor_user_id.eq(pairing.mentor.user_id.to_string()),
            pairings::mentee_user_id.eq(pairing.mentee.user_id.to_string()),
            pairings::introduction.eq(&pairing.introduction),
            pairings::status.eq(pairing.status.as_str()),
            pairings::started_on.eq(pairing.started_on),
            pairings::created_at.eq(to_db_time(pairing.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: PairingId) -> Result<Pairing, StoreError> {
    pairings::table
        .find(id.to_string())
        .select(PairingRow::as_select())
        .first(conn)?
        .try_into()
}

/// Records the end of an active pairing and frees both places. Answers false when the
/// pairing was no longer active (a concurrent end won).
pub fn end(conn: &mut DbConn, pairing: &Pairing) -> Result<bool, StoreError> {
    let updated = diesel::update(
        pairings::table
            .find(pairing.id.to_string())
            .filter(pairings::status.eq(PairingStatus::Active.as_str())),
    )
    .set((
        pairings::status.eq(pairing.status.as_str()),
        pairings::ended_at.eq(pairing.ended_at.map(to_db_time)),
        pairings::ended_by.eq(pairing.ended_by.map(|u| u.to_string())),
        pairings::end_reason.eq(&pairing.end_reason),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    let mut places = [pairing.mentor.enrolment_id, pairing.mentee.enrolment_id];
    places.sort();
    for enrolment in places {
        enrolments::release_place(conn, enrolment)?;
    }
    Ok(true)
}

/// A program's pairings, oldest first, optionally of one status.
pub fn list_for_program(
    conn: &mut DbConn,
    program_id: ProgramId,
    status: Option<PairingStatus>,
    after: Option<PairingId>,
    limit: usize,
) -> Result<Page<Pairing, PairingId>, StoreError> {
    let mut query = pairings::table
        .filter(pairings::program_id.eq(program_id.to_string()))
        .select(PairingRow::as_select())
        .order(pairings::id.asc())
        .limit(i64::try_from(limit).unwrap_or(100) + 1)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(pairings::status.eq(status.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(pairings::id.gt(after.to_string()));
    }
    let rows = query
        .load::<PairingRow>(conn)?
        .into_iter()
        .map(Pairing::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, limit, |p| p.id))
}

/// A user's pairings (as mentor or mentee) in the groups they still belong to, newest
/// first: after leaving a group, its pairings are no longer theirs to read.
pub fn list_for_user(
    conn: &mut DbConn,
    user_id: UserId,
    after: Option<PairingId>,
    limit: usize,
) -> Result<Page<Pairing, PairingId>, StoreError> {
    use crate::schema::{memberships, programs};
    let user = user_id.to_string();
    let my_groups = memberships::table
        .filter(memberships::user_id.eq(user.clone()))
        .select(memberships::group_id);
    let mut query = pairings::table
        .inner_join(programs::table)
        .filter(
            pairings::mentor_user_id
                .eq(user.clone())
                .or(pairings::mentee_user_id.eq(user)),
        )
        .filter(programs::group_id.eq_any(my_groups))
        .select(PairingRow::as_select())
        .order(pairings::id.desc())
        .limit(i64::try_from(limit).unwrap_or(100) + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(pairings::id.lt(after.to_string()));
    }
    let rows = query
        .load::<PairingRow>(conn)?
        .into_iter()
        .map(Pairing::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, limit, |p| p.id))
}

/// A user's active pairings in the programs of a group.
pub fn active_for_user_in_group(
    conn: &mut DbConn,
    group_id: tandem_domain::ids::GroupId,
    user_id: UserId,
) -> Result<Vec<Pairing>, StoreError> {
    use crate::schema::programs;
    let user = user_id.to_string();
    pairings::table
        .inner_join(programs::table)
        .filter(programs::group_id.eq(group_id.to_string()))
        .filter(pairings::status.eq(PairingStatus::Active.as_str()))
        .filter(
            pairings::mentor_user_id
                .eq(user.clone())
                .or(pairings::mentee_user_id.eq(user)),
        )
        .select(PairingRow::as_select())
        .order(pairings::id.asc())
        .load::<PairingRow>(conn)?
        .into_iter()
        .map(Pairing::try_from)
        .collect()
}
