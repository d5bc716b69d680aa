//! Programs, with their copied template content as JSON text.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tandem_domain::ids::{GroupId, ProgramId};
use tandem_domain::program::{
    guide_length, MatchingMode, Program, ProgramSettings, ProgramStatus, ProgramSummary,
};
use tandem_domain::template::{GuideWeek, Language};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::page::load_page;
use crate::schema::programs;
use crate::{DbConn, Page, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = programs)]
struct ProgramRow {
    id: String,
    group_id: String,
    template_key: String,
    language: String,
    name: String,
    description: String,
    status: String,
    matching: String,
    duration_weeks: i32,
    cadence_days: i32,
    default_capacity: i32,
    requires_approval: bool,
    auto_match_threshold: i32,
    questions: String,
    weeks: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn small<T: TryFrom<i32>>(value: i32, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| corrupt(format!("stored {what} {value} out of range")))
}

impl TryFrom<ProgramRow> for Program {
    type Error = StoreError;
    fn try_from(row: ProgramRow) -> Result<Self, StoreError> {
        Ok(Program {
            id: parse_id(&row.id, "program")?,
            group_id: parse_id(&row.group_id, "group")?,
            template_key: row.template_key,
            language: Language::from_code(&row.language)
                .ok_or_else(|| corrupt("program language"))?,
            settings: ProgramSettings {
                name: row.name,
                description: row.description,
                duration_weeks: small(row.duration_weeks, "duration")?,
                cadence_days: small(row.cadence_days, "cadence")?,
                matching: MatchingMode::parse(&row.matching)
                    .ok_or_else(|| corrupt("program matching"))?,
                default_capacity: small(row.default_capacity, "capacity")?,
                requires_approval: row.requires_approval,
                auto_match_threshold: small(row.auto_match_threshold, "threshold")?,
            },
            status: ProgramStatus::parse(&row.status).ok_or_else(|| corrupt("program status"))?,
            questions: serde_json::from_str(&row.questions)
                .map_err(|e| corrupt(format!("program questions: {e}")))?,
            weeks: parse_weeks(&row.weeks)?,
            version: row.version,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
        })
    }
}

/// A program's stored guide (`programs.weeks`, JSON text).
pub(crate) fn parse_weeks(text: &str) -> Result<Vec<GuideWeek>, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("program weeks: {e}")))
}

/// The columns a program's summary is made of: the guide is only counted (by the
/// `week_count` the database keeps beside it), never read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = programs)]
pub(crate) struct SummaryRow {
    id: String,
    group_id: String,
    name: String,
    status: String,
    duration_weeks: i32,
    cadence_days: i32,
    week_count: i32,
}

impl SummaryRow {
    pub(crate) fn into_summary(self) -> Result<ProgramSummary, StoreError> {
        let stored_weeks = usize::try_from(self.week_count).map_err(|_| corrupt("week count"))?;
        Ok(ProgramSummary {
            id: parse_id(&self.id, "program")?,
            group_id: parse_id(&self.group_id, "group")?,
            status: ProgramStatus::parse(&self.status).ok_or_else(|| corrupt("program status"))?,
            cadence_days: small(self.cadence_days, "cadence")?,
            guide_length: guide_length(small(self.duration_weeks, "duration")?, stored_weeks),
            name: self.name,
        })
    }
}

/// The summaries of several programs in one query.
pub fn summaries(
    conn: &mut DbConn,
    ids: &[ProgramId],
) -> Result<std::collections::HashMap<ProgramId, ProgramSummary>, StoreError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    programs::table
        .filter(programs::id.eq_any(keys))
        .select(SummaryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| {
            let summary = row.into_summary()?;
            Ok((summary.id, summary))
        })
        .collect()
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("cannot serialise: {e}")))
}

/// What a program writes on insert: the fixed columns, and the changeable ones.
#[derive(Insertable)]
#[diesel(table_name = programs)]
struct NewProgram<'a> {
    id: String,
    group_id: String,
    template_key: &'a str,
    language: &'a str,
    questions: String,
    weeks: String,
    version: i64,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    changes: ProgramChanges<'a>,
}

/// The columns of a program that change after it is made: written whole by an insert
/// and by an update (which bumps the version beside it).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = programs)]
struct ProgramChanges<'a> {
    name: &'a str,
    description: &'a str,
    status: &'a str,
    matching: &'a str,
    duration_weeks: i32,
    cadence_days: i32,
    default_capacity: i32,
    requires_approval: bool,
    auto_match_threshold: i32,
    updated_at: NaiveDateTime,
}

impl<'a> From<&'a Program> for ProgramChanges<'a> {
    fn from(program: &'a Program) -> Self {
        let s = &program.settings;
        Self {
            name: &s.name,
            description: &s.description,
            status: program.status.as_str(),
            matching: s.matching.as_str(),
            duration_weeks: i32::from(s.duration_weeks),
            cadence_days: i32::from(s.cadence_days),
            default_capacity: i32::from(s.default_capacity),
            requires_approval: s.requires_approval,
            auto_match_threshold: i32::from(s.auto_match_threshold),
            updated_at: to_db_time(program.updated_at),
        }
    }
}

impl<'a> NewProgram<'a> {
    fn of(program: &'a Program) -> Result<Self, StoreError> {
        Ok(Self {
            id: program.id.to_string(),
            group_id: program.group_id.to_string(),
            template_key: &program.template_key,
            language: program.language.code(),
            questions: json(&program.questions)?,
            // `week_count` is the database's to keep (migration 000011's triggers).
            weeks: json(&program.weeks)?,
            version: program.version,
            created_at: to_db_time(program.created_at),
            changes: program.into(),
        })
    }
}

pub fn insert(conn: &mut DbConn, program: &Program) -> Result<(), StoreError> {
    diesel::insert_into(programs::table)
        .values(NewProgram::of(program)?)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: ProgramId) -> Result<Program, StoreError> {
    programs::table
        .find(id.to_string())
        .select(ProgramRow::as_select())
        .first(conn)?
        .try_into()
}

/// Takes the program's row lock for the rest of the transaction (see `groups::lock_group`).
///
/// Every transaction that writes more than one enrolment of a program (pairing, auto
/// matching, ending, batches) takes this lock first, so on PostgreSQL they run one after
/// another per program and can never deadlock on enrolment rows. Nothing takes it
/// while holding members' locks (`groups::lock_members`), which come next.
pub fn lock(conn: &mut DbConn, id: ProgramId) -> Result<(), StoreError> {
    let key = id.to_string();
    let locked = diesel::update(programs::table.find(&key))
        .set(programs::id.eq(&key))
        .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Locks the program and reads it as it is now.
pub fn find_locked(conn: &mut DbConn, id: ProgramId) -> Result<Program, StoreError> {
    lock(conn, id)?;
    find(conn, id)
}

/// Writes settings and status as of `now`, bumping the version.
pub fn update(
    conn: &mut DbConn,
    program: &Program,
    now: DateTime<Utc>,
) -> Result<Program, StoreError> {
    let changes = ProgramChanges {
        updated_at: to_db_time(now),
        ..program.into()
    };
    diesel::update(programs::table.find(program.id.to_string()))
        .set((changes, programs::version.eq(programs::version + 1)))
        .execute(conn)?;
    find(conn, program.id)
}

/// A group's programs in creation order, limited to the given statuses.
pub fn list_for_group(
    conn: &mut DbConn,
    group_id: GroupId,
    statuses: &[ProgramStatus],
    after: Option<ProgramId>,
    limit: usize,
) -> Result<Page<Program, ProgramId>, StoreError> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    let mut query = programs::table
        .filter(programs::group_id.eq(group_id.to_string()))
        .filter(programs::status.eq_any(statuses))
        .select(ProgramRow::as_select())
        .order(programs::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(programs::id.gt(after.to_string()));
    }
    load_page(conn, query, limit, Program::try_from, |p| p.id)
}
