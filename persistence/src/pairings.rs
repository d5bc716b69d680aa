//! Pairings of a mentor and a mentee.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use tandem_domain::group::Role;
use tandem_domain::ids::{PairingId, ProgramId, UserId};
use tandem_domain::pairing::{Pairing, PairingStatus, Partner};
use tandem_domain::program::ProgramSummary;

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time, StoredDate, StoredTime};
use crate::db::on_engine;
use crate::guides::{FollowedGuide, Guides};
use crate::page::load_page;
use crate::schema::{pairings, pairings_by_partner, programs};
use crate::users::Face;
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
    #[diesel(deserialize_as = StoredDate)]
    started_on: NaiveDate,
    #[diesel(deserialize_as = StoredTime)]
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

/// What a pairing writes when it is made; how it ended is written by `end`.
#[derive(Insertable)]
#[diesel(table_name = pairings)]
struct NewPairing<'a> {
    id: String,
    program_id: String,
    mentor_enrolment_id: String,
    mentee_enrolment_id: String,
    mentor_user_id: String,
    mentee_user_id: String,
    introduction: &'a str,
    status: &'a str,
    started_on: NaiveDate,
    created_at: NaiveDateTime,
    next_event_at: Option<NaiveDateTime>,
}

impl<'a> From<&'a Pairing> for NewPairing<'a> {
    fn from(pairing: &'a Pairing) -> Self {
        Self {
            id: pairing.id.to_string(),
            program_id: pairing.program_id.to_string(),
            mentor_enrolment_id: pairing.mentor.enrolment_id.to_string(),
            mentee_enrolment_id: pairing.mentee.enrolment_id.to_string(),
            mentor_user_id: pairing.mentor.user_id.to_string(),
            mentee_user_id: pairing.mentee.user_id.to_string(),
            introduction: &pairing.introduction,
            status: pairing.status.as_str(),
            started_on: pairing.started_on,
            created_at: to_db_time(pairing.created_at),
            // The reminder job plans a new pairing on its next run.
            next_event_at: Some(to_db_time(pairing.created_at)),
        }
    }
}

/// How a pairing ended.
#[derive(AsChangeset)]
#[diesel(table_name = pairings, treat_none_as_null = true)]
struct PairingEnd<'a> {
    status: &'a str,
    ended_at: Option<NaiveDateTime>,
    ended_by: Option<String>,
    end_reason: Option<&'a str>,
    next_event_at: Option<NaiveDateTime>,
}

impl<'a> From<&'a Pairing> for PairingEnd<'a> {
    fn from(pairing: &'a Pairing) -> Self {
        Self {
            status: pairing.status.as_str(),
            ended_at: pairing.ended_at.map(to_db_time),
            ended_by: pairing.ended_by.map(|u| u.to_string()),
            end_reason: pairing.end_reason.as_deref(),
            // Nothing more is ever due for a pairing that ended.
            next_event_at: None,
        }
    }
}

/// Stores a new active pairing and takes a place of both enrolments. The enrolments are
/// locked in id order so concurrent pairings cannot deadlock; the database refuses a full
/// mentor, a mentee already paired, or an enrolment no longer active
/// (`StoreError::Constraint`). A trigger of migration 000015 lists the pairing for both
/// partners in `pairings_by_partner`.
pub fn insert(conn: &mut DbConn, pairing: &Pairing) -> Result<(), StoreError> {
    let mut places = [pairing.mentor.enrolment_id, pairing.mentee.enrolment_id];
    places.sort();
    for enrolment in places {
        enrolments::take_place(conn, enrolment)?;
    }
    diesel::insert_into(pairings::table)
        .values(NewPairing::from(pairing))
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
        PairingEnd::from(pairing),
        pairings::version.eq(pairings::version + 1),
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

/// A partner's face as the pairing reads select it, from `users` or its `MENTORS` alias.
const PARTNER: (
    crate::schema::users::display_name,
    crate::schema::users::deleted_at,
    crate::schema::users::time_zone,
) = (
    crate::schema::users::display_name,
    crate::schema::users::deleted_at,
    crate::schema::users::time_zone,
);
type PartnerRow = (String, Option<NaiveDateTime>, String);

fn face((name, deleted_at, zone): PartnerRow) -> Face {
    Face::of_row(&name, deleted_at, &zone)
}

/// A pairing with what its reads need around it, in one query: its version, its
/// program's summary row, both partners' faces, whether the viewer's account exists and
/// their role in the program's group (none for a non-member). The guide is not read
/// here: `guided` takes it from the process's parsed guides.
pub struct InContext {
    pub pairing: Pairing,
    /// The pairing's version, for its ETag. Bumped by every write a reader can see (an
    /// end, a completion); not by the reminder job's bookkeeping (`next_event_at`), which
    /// no representation shows.
    pub version: i64,
    /// Whether the viewer's account exists (`users::exists`), read in the same query.
    pub viewer_exists: bool,
    pub viewer_role: Option<Role>,
    /// The mentor's name and zone.
    pub mentor: Face,
    /// The mentee's name and zone: the schedule's time zone.
    pub mentee: Face,
    program: crate::programs::SummaryRow,
}

impl InContext {
    /// The program's summary, its guide only counted.
    pub fn program(self) -> Result<(Pairing, i64, Option<Role>, ProgramSummary), StoreError> {
        let program = self.program.into_summary()?;
        Ok((self.pairing, self.version, self.viewer_role, program))
    }

    /// The program's summary and the weeks of its guide it follows.
    #[allow(clippy::type_complexity)]
    pub fn guided(
        self,
        conn: &mut DbConn,
        guides: &Guides,
    ) -> Result<(Pairing, Option<Role>, ProgramSummary, FollowedGuide), StoreError> {
        let program = self.program.into_summary()?;
        let guide = guides.followed(conn, &program)?;
        Ok((self.pairing, self.viewer_role, program, guide))
    }
}

/// The pairing, its program, both partners' names and zones, and the viewer's
/// membership of the program's group, joined on primary and unique keys (see
/// `docs/performance.md` for the plans).
pub fn find_in_context(
    conn: &mut DbConn,
    id: PairingId,
    viewer: UserId,
) -> Result<Option<InContext>, StoreError> {
    use crate::schema::{memberships, users};
    let mentors = crate::users::MENTORS;
    // Keys on every join make this at most one row. Built in each arm: `as_select` is
    // typed by the engine.
    let row = on_engine!(conn, c => pairings::table
        .inner_join(programs::table)
        .inner_join(users::table.on(users::id.eq(pairings::mentee_user_id)))
        .inner_join(mentors.on(mentors.field(users::id).eq(pairings::mentor_user_id)))
        .left_join(
            memberships::table.on(memberships::group_id
                .eq(programs::group_id)
                .and(memberships::user_id.eq(viewer.to_string()))),
        )
        .filter(pairings::id.eq(id.to_string()))
        .select((
            PairingRow::as_select(),
            pairings::version,
            crate::programs::SummaryRow::as_select(),
            memberships::role.nullable(),
            PARTNER,
            mentors.fields(PARTNER),
            crate::users::exists_now(viewer),
        ))
        .load::<(
            PairingRow,
            i64,
            crate::programs::SummaryRow,
            Option<String>,
            PartnerRow,
            PartnerRow,
            bool,
        )>(c))?
    .into_iter()
    .next();
    let Some((pairing, version, program, role, mentee, mentor, viewer_exists)) = row else {
        return Ok(None);
    };
    let viewer_role = role
        .map(|raw| Role::parse(&raw).ok_or_else(|| corrupt(format!("role {raw:?}"))))
        .transpose()?;
    Ok(Some(InContext {
        pairing: pairing.try_into()?,
        version,
        viewer_exists,
        viewer_role,
        mentor: face(mentor),
        mentee: face(mentee),
        program,
    }))
}

pub fn version(conn: &mut DbConn, id: PairingId) -> Result<i64, StoreError> {
    Ok(pairings::table
        .find(id.to_string())
        .select(pairings::version)
        .first(conn)?)
}

/// Takes the pairing's row lock for the rest of the transaction, so that writes about
/// one pairing happen one after another; `NotFound` when there is no such pairing.
///
/// PostgreSQL locks the row (`FOR NO KEY UPDATE`, the mode an `UPDATE` of other columns
/// takes, so inserts that reference the pairing are not held up). SQLite runs one write
/// transaction at a time (here all on its one writer connection), and a transaction
/// whose snapshot another process's write made stale cannot turn into a write
/// (`SQLITE_BUSY_SNAPSHOT`, a 503): reading the row is enough there. Both are selects,
/// which stay prepared; diesel compiles an `UPDATE` anew on every run, and every write
/// about a pairing runs this.
pub fn lock(conn: &mut DbConn, id: PairingId) -> Result<(), StoreError> {
    let row = pairings::table.find(id.to_string()).select(pairings::id);
    let found: Vec<String> = match conn {
        DbConn::Postgres(c) => row.for_no_key_update().load(c)?,
        DbConn::Sqlite(c) => row.load(c)?,
    };
    if found.is_empty() {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records that an active pairing ran its schedule out, and frees both places. Answers
/// false when it was no longer active (ended meanwhile, or already recorded).
pub fn complete(conn: &mut DbConn, pairing: &Pairing) -> Result<bool, StoreError> {
    if !mark_completed(conn, pairing)? {
        return Ok(false);
    }
    let mut places = [pairing.mentor.enrolment_id, pairing.mentee.enrolment_id];
    places.sort();
    for enrolment in places {
        enrolments::release_place(conn, enrolment)?;
    }
    Ok(true)
}

/// Records that an active pairing ran its schedule out, leaving its places to the
/// caller: a job completing many pairings frees all their places at the end, in
/// enrolment id order, so that nodes completing pairings of one mentor at once cannot
/// deadlock on the mentor's row. Answers false when it was no longer active.
pub fn mark_completed(conn: &mut DbConn, pairing: &Pairing) -> Result<bool, StoreError> {
    let updated = diesel::update(
        pairings::table
            .find(pairing.id.to_string())
            .filter(pairings::status.eq(PairingStatus::Active.as_str())),
    )
    .set((
        pairings::status.eq(PairingStatus::Completed.as_str()),
        pairings::next_event_at.eq(None::<NaiveDateTime>),
        pairings::version.eq(pairings::version + 1),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The active pairings of one enrolment (on either side) in a program, in id order.
pub fn active_of_enrolment(
    conn: &mut DbConn,
    program_id: ProgramId,
    enrolment_id: tandem_domain::ids::EnrolmentId,
) -> Result<Vec<Pairing>, StoreError> {
    let enrolment = enrolment_id.to_string();
    pairings::table
        .filter(pairings::program_id.eq(program_id.to_string()))
        .filter(
            pairings::mentor_enrolment_id
                .eq(enrolment.clone())
                .or(pairings::mentee_enrolment_id.eq(enrolment)),
        )
        .filter(pairings::status.eq(PairingStatus::Active.as_str()))
        .select(PairingRow::as_select())
        .order(pairings::id.asc())
        .load::<PairingRow>(conn)?
        .into_iter()
        .map(Pairing::try_from)
        .collect()
}

/// Claims up to `limit` pairings whose reminder time has come, locking their rows for
/// the caller's transaction.
///
/// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets nodes running the job at the same moment
/// share the work instead of queueing behind each other's locks: a row one node holds is
/// simply not seen by the others, and is no longer due once that node commits (its
/// `next_event_at` has moved on). Exactly-once delivery does not rest on this alone:
/// every notification is also stored under a unique key (`notifications::push_once`),
/// so a pairing planned twice (a clock change of a partner re-arms it) sends nothing
/// twice. SQLite has a single writer, so its transactions never overlap.
///
/// Also answers when the oldest claimed event was due, so the job can report its lag.
pub fn claim_due(
    conn: &mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<Claimed, StoreError> {
    let now = to_db_time(now);
    // A macro, not a closure: the selection's type names its backend.
    macro_rules! due {
        () => {
            pairings::table
                .filter(pairings::next_event_at.le(now))
                .order(pairings::next_event_at.asc())
                .limit(limit)
                .select((PairingRow::as_select(), pairings::next_event_at))
        };
    }
    let rows: Vec<(PairingRow, Option<NaiveDateTime>)> = match conn {
        DbConn::Postgres(pg) => due!().for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(sqlite) => {
            // Write first, so this transaction waits its busy timeout for SQLite's write
            // lock now: a `tandem jobs run-once` beside a server is another writer, and a
            // transaction that read first fails at once ("database is locked") when it
            // later tries to write after the other one did. The statement changes no row.
            diesel::sql_query("UPDATE pairings SET next_event_at = next_event_at WHERE 0")
                .execute(sqlite)?;
            due!().load(sqlite)?
        }
    };
    // Ordered by due time: the first row's is the oldest.
    let oldest_due = rows.first().and_then(|(_, due)| *due).map(from_db_time);
    let pairings = rows
        .into_iter()
        .map(|(row, _)| Pairing::try_from(row))
        .collect::<Result<_, _>>()?;
    Ok(Claimed {
        pairings,
        oldest_due,
    })
}

/// The pairings a job run claimed, and when the oldest of their events was due.
pub struct Claimed {
    pub pairings: Vec<Pairing>,
    pub oldest_due: Option<chrono::DateTime<chrono::Utc>>,
}

/// When the reminder job should next look at a pairing (`None`: never again).
pub fn schedule_next(
    conn: &mut DbConn,
    id: PairingId,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), StoreError> {
    diesel::update(pairings::table.find(id.to_string()))
        .set(pairings::next_event_at.eq(at.map(to_db_time)))
        .execute(conn)?;
    Ok(())
}

/// Asks the job to plan a user's active pairings again at its next run: their time zone
/// changed, and with it when their reminders fall due.
pub fn replan_for_user(
    conn: &mut DbConn,
    user_id: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let user = user_id.to_string();
    Ok(diesel::update(
        pairings::table
            .filter(pairings::status.eq(PairingStatus::Active.as_str()))
            .filter(
                pairings::mentor_user_id
                    .eq(user.clone())
                    .or(pairings::mentee_user_id.eq(user)),
            ),
    )
    .set(pairings::next_event_at.eq(Some(to_db_time(now))))
    .execute(conn)?)
}

/// The join of a partner's `pairings_by_partner` row to their membership of its group:
/// a pairing is listed for a partner only while they are in its group.
type ListedWhileMember = diesel::dsl::And<
    diesel::dsl::Eq<crate::schema::memberships::group_id, pairings_by_partner::group_id>,
    diesel::dsl::Eq<crate::schema::memberships::user_id, pairings_by_partner::user_id>,
>;

fn listed_while_member() -> ListedWhileMember {
    use crate::schema::memberships;
    memberships::group_id
        .eq(pairings_by_partner::group_id)
        .and(memberships::user_id.eq(pairings_by_partner::user_id))
}

/// Every pairing of a user (as mentor or mentee) in the groups they still belong to,
/// newest first. A member has a handful: one per program they take part in.
pub fn all_for_user(conn: &mut DbConn, user_id: UserId) -> Result<Vec<Pairing>, StoreError> {
    // The same walk as `list_for_user`, without its page's limit.
    pairings_by_partner::table
        .inner_join(crate::schema::memberships::table.on(listed_while_member()))
        .inner_join(pairings::table)
        .filter(pairings_by_partner::user_id.eq(user_id.to_string()))
        .select(PairingRow::as_select())
        .order(pairings_by_partner::pairing_id.desc())
        .load::<PairingRow>(conn)?
        .into_iter()
        .map(Pairing::try_from)
        .collect()
}

/// Every pairing of a program, oldest first: for its insights, which count them all.
pub fn all_for_program(
    conn: &mut DbConn,
    program_id: ProgramId,
) -> Result<Vec<Pairing>, StoreError> {
    pairings::table
        .filter(pairings::program_id.eq(program_id.to_string()))
        .select(PairingRow::as_select())
        .order(pairings::id.asc())
        .load::<PairingRow>(conn)?
        .into_iter()
        .map(Pairing::try_from)
        .collect()
}

/// A program's pairings, oldest first, optionally of some stored statuses.
pub fn list_for_program(
    conn: &mut DbConn,
    program_id: ProgramId,
    statuses: &[PairingStatus],
    after: Option<PairingId>,
    limit: usize,
) -> Result<Page<Pairing, PairingId>, StoreError> {
    let mut query = pairings::table
        .filter(pairings::program_id.eq(program_id.to_string()))
        .select(PairingRow::as_select())
        .order(pairings::id.asc())
        .into_boxed();
    if !statuses.is_empty() {
        query = query.filter(pairings::status.eq_any(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(after) = after {
        query = query.filter(pairings::id.gt(after.to_string()));
    }
    load_page(conn, query, limit, Pairing::try_from, |p| p.id)
}

/// A user's pairings (as mentor or mentee) in the groups they still belong to, newest
/// first, each with its program's summary and its partners' faces (mentor, mentee):
/// after leaving a group, its pairings are no longer theirs to read.
///
/// Also whether the user's account exists (`users::exists`), read with the rows: `None`
/// when there were none.
#[allow(clippy::type_complexity)]
pub fn list_for_user(
    conn: &mut DbConn,
    user_id: UserId,
    after: Option<PairingId>,
    limit: usize,
) -> Result<
    (
        Option<bool>,
        Page<(Pairing, ProgramSummary, [Face; 2]), PairingId>,
    ),
    StoreError,
> {
    use crate::schema::{memberships, users};
    let user = user_id.to_string();
    let after = after.map(|id| id.to_string());
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let mentors = crate::users::MENTORS;
    // The user's own rows of `pairings_by_partner`, newest first: the walk stops after a
    // page. The membership filters inside the walk, so a group the user left takes no
    // place on a page. Two fixed shapes (first page, a later one) rather than a boxed
    // query, so both engines keep them prepared.
    let rows = on_engine!(conn, c => {
        let query = pairings_by_partner::table
            .inner_join(
                memberships::table.on(listed_while_member()),
            )
            .inner_join(pairings::table.inner_join(programs::table))
            .inner_join(users::table.on(users::id.eq(pairings::mentee_user_id)))
            .inner_join(mentors.on(mentors.field(users::id).eq(pairings::mentor_user_id)))
            .filter(pairings_by_partner::user_id.eq(user))
            .select((
                PairingRow::as_select(),
                crate::programs::SummaryRow::as_select(),
                mentors.fields(PARTNER),
                PARTNER,
                crate::users::exists_now(user_id),
            ))
            .order(pairings_by_partner::pairing_id.desc())
            .limit(fetch);
        match &after {
            Some(after) => query.filter(pairings_by_partner::pairing_id.lt(after.clone())).load(c),
            None => query.load(c),
        }
    })?;
    let mut user_exists = None;
    let rows = rows
        .into_iter()
        .map(
            |(pairing, program, mentor, mentee, exists): (
                PairingRow,
                crate::programs::SummaryRow,
                PartnerRow,
                PartnerRow,
                bool,
            )| {
                user_exists = Some(exists);
                Ok((
                    Pairing::try_from(pairing)?,
                    program.into_summary()?,
                    [face(mentor), face(mentee)],
                ))
            },
        )
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((user_exists, Page::from_rows(rows, limit, |(p, _, _)| p.id)))
}

/// A user's active pairings in the programs of a group.
pub fn active_for_user_in_group(
    conn: &mut DbConn,
    group_id: tandem_domain::ids::GroupId,
    user_id: UserId,
) -> Result<Vec<Pairing>, StoreError> {
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

/// Every pairing of a user, in any group (also those they left), oldest first: for
/// their export.
pub fn of_user_anywhere(conn: &mut DbConn, user_id: UserId) -> Result<Vec<Pairing>, StoreError> {
    let user = user_id.to_string();
    pairings::table
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
