//! The aggregates behind a program's insights: each a single query that counts, sums or
//! picks extremes in the database. None reads a note or a message.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::{count, count_star, max, min, sum};
use diesel::prelude::*;
use tandem_domain::enrolment::{EnrolmentRole, EnrolmentStatus};
use tandem_domain::ids::{EnrolmentId, PairingId, ProgramId};
use tandem_domain::insights::WeekEntries;

use crate::convert::{corrupt, from_db_time, parse_id};
use crate::schema::{check_in_entries, enrolments, pairings};
use crate::{DbConn, StoreError};

/// How many enrolments of the program have each role and status.
pub fn enrolment_counts(
    conn: &mut DbConn,
    program: ProgramId,
) -> Result<Vec<(EnrolmentRole, EnrolmentStatus, u32)>, StoreError> {
    enrolments::table
        .filter(enrolments::program_id.eq(program.to_string()))
        .group_by((enrolments::role, enrolments::status))
        .select((enrolments::role, enrolments::status, count_star()))
        .load::<(String, String, i64)>(conn)?
        .into_iter()
        .map(|(role, status, count)| {
            Ok((
                EnrolmentRole::parse(&role).ok_or_else(|| corrupt("enrolment role"))?,
                EnrolmentStatus::parse(&status).ok_or_else(|| corrupt("enrolment status"))?,
                u32::try_from(count).unwrap_or(u32::MAX),
            ))
        })
        .collect()
}

/// When a mentee enrolled, and when they were first paired.
pub type Wait = (DateTime<Utc>, DateTime<Utc>);

/// For each mentee enrolment that was ever paired: when it was made, and when its first
/// pairing was.
pub fn mentee_waits(conn: &mut DbConn, program: ProgramId) -> Result<Vec<Wait>, StoreError> {
    Ok(pairings::table
        .inner_join(enrolments::table.on(enrolments::id.eq(pairings::mentee_enrolment_id)))
        .filter(pairings::program_id.eq(program.to_string()))
        .group_by((enrolments::id, enrolments::created_at))
        .select((enrolments::created_at, min(pairings::created_at)))
        .load::<(chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(enrolled, paired)| Some((from_db_time(enrolled), from_db_time(paired?))))
        .collect())
}

/// Each active mentor's enrolment and capacity.
pub fn mentor_capacities(
    conn: &mut DbConn,
    program: ProgramId,
) -> Result<Vec<(EnrolmentId, u32)>, StoreError> {
    enrolments::table
        .filter(enrolments::program_id.eq(program.to_string()))
        .filter(enrolments::role.eq(EnrolmentRole::Mentor.as_str()))
        .filter(enrolments::status.eq(EnrolmentStatus::Active.as_str()))
        .select((enrolments::id, enrolments::capacity))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .map(|(id, capacity)| {
            Ok((
                parse_id(&id, "enrolment")?,
                u32::try_from(capacity).unwrap_or(0),
            ))
        })
        .collect()
}

/// The entries of the program's pairings, added up per check-in number: ratings only.
pub fn week_entries(
    conn: &mut DbConn,
    program: ProgramId,
) -> Result<HashMap<u16, WeekEntries>, StoreError> {
    check_in_entries::table
        .inner_join(pairings::table)
        .filter(pairings::program_id.eq(program.to_string()))
        .group_by(check_in_entries::number)
        .select((
            check_in_entries::number,
            count(check_in_entries::pairing_id).aggregate_distinct(),
            count_star(),
            sum(check_in_entries::rating),
        ))
        .load::<(i32, i64, i64, Option<i64>)>(conn)?
        .into_iter()
        .map(|(number, pairs, ratings, rating_sum)| {
            let number = u16::try_from(number).map_err(|_| corrupt("check-in number"))?;
            let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
            Ok((
                number,
                WeekEntries {
                    checked_in_pairings: count(pairs),
                    ratings: count(ratings),
                    rating_sum: count(rating_sum.unwrap_or(0)),
                },
            ))
        })
        .collect()
}

/// When each pairing of the program last had an entry.
pub fn last_entries(
    conn: &mut DbConn,
    program: ProgramId,
) -> Result<HashMap<PairingId, DateTime<Utc>>, StoreError> {
    check_in_entries::table
        .inner_join(pairings::table)
        .filter(pairings::program_id.eq(program.to_string()))
        .group_by(check_in_entries::pairing_id)
        .select((
            check_in_entries::pairing_id,
            max(check_in_entries::completed_at),
        ))
        .load::<(String, Option<chrono::NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(pairing, last)| last.map(|last| (pairing, last)))
        .map(|(pairing, last)| Ok((parse_id(&pairing, "pairing")?, from_db_time(last))))
        .collect()
}
