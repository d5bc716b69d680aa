//! Reports: a partner's word about the other to the group's admins. Only the reason is
//! stored with who and which pairing, never anything of the pair's conversation.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tandem_domain::ids::{GroupId, ReportId, UserId};
use tandem_domain::safety::{Report, ReportStatus};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::page::load_page;
use crate::schema::reports;
use crate::{DbConn, Page, StoreError};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
struct ReportRow {
    id: String,
    group_id: String,
    program_id: String,
    pairing_id: String,
    reporter_user_id: String,
    reported_user_id: String,
    reason: String,
    status: String,
    created_at: NaiveDateTime,
    resolved_at: Option<NaiveDateTime>,
    resolved_by: Option<String>,
}

impl From<&Report> for ReportRow {
    fn from(report: &Report) -> Self {
        Self {
            id: report.id.to_string(),
            group_id: report.group_id.to_string(),
            program_id: report.program_id.to_string(),
            pairing_id: report.pairing_id.to_string(),
            reporter_user_id: report.reporter.to_string(),
            reported_user_id: report.reported.to_string(),
            reason: report.reason.clone(),
            status: report.status.as_str().to_owned(),
            created_at: to_db_time(report.created_at),
            resolved_at: report.resolved_at.map(to_db_time),
            resolved_by: report.resolved_by.map(|u| u.to_string()),
        }
    }
}

impl TryFrom<ReportRow> for Report {
    type Error = StoreError;
    fn try_from(row: ReportRow) -> Result<Self, StoreError> {
        Ok(Report {
            id: parse_id(&row.id, "report")?,
            group_id: parse_id(&row.group_id, "group")?,
            program_id: parse_id(&row.program_id, "program")?,
            pairing_id: parse_id(&row.pairing_id, "pairing")?,
            reporter: parse_id(&row.reporter_user_id, "user")?,
            reported: parse_id(&row.reported_user_id, "user")?,
            reason: row.reason,
            status: ReportStatus::parse(&row.status).ok_or_else(|| corrupt("report status"))?,
            created_at: from_db_time(row.created_at),
            resolved_at: row.resolved_at.map(from_db_time),
            resolved_by: row
                .resolved_by
                .as_deref()
                .map(|id| parse_id(id, "user"))
                .transpose()?,
        })
    }
}

pub fn insert(conn: &mut DbConn, report: &Report) -> Result<(), StoreError> {
    diesel::insert_into(reports::table)
        .values(ReportRow::from(report))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: ReportId) -> Result<Report, StoreError> {
    reports::table
        .find(id.to_string())
        .select(ReportRow::as_select())
        .first(conn)?
        .try_into()
}

/// A report's version, for its ETag.
pub fn version(conn: &mut DbConn, id: ReportId) -> Result<i64, StoreError> {
    Ok(reports::table
        .find(id.to_string())
        .select(reports::version)
        .first(conn)?)
}

/// Takes the report's row lock (a no-op update) for the rest of the transaction, so an
/// update checks `If-Match` against the report it then writes over.
pub fn lock(conn: &mut DbConn, id: ReportId) -> Result<(), StoreError> {
    let key = id.to_string();
    let locked = diesel::update(reports::table.find(&key))
        .set(reports::id.eq(&key))
        .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records how a report was resolved, if it is still open: of two admins resolving at
/// once, the first one's time and name stand. The caller reads it again.
pub fn update_status(conn: &mut DbConn, report: &Report) -> Result<(), StoreError> {
    diesel::update(
        reports::table
            .find(report.id.to_string())
            .filter(reports::status.eq(ReportStatus::Open.as_str())),
    )
    .set((
        reports::status.eq(report.status.as_str()),
        reports::resolved_at.eq(report.resolved_at.map(to_db_time)),
        reports::resolved_by.eq(report.resolved_by.map(|u| u.to_string())),
        reports::version.eq(reports::version + 1),
    ))
    .execute(conn)?;
    Ok(())
}

/// A group's reports as `reader` may see them (none about the reader: see
/// `Report::visible_to`), newest first, optionally of one status.
pub fn list_for_group(
    conn: &mut DbConn,
    group_id: GroupId,
    reader: UserId,
    status: Option<ReportStatus>,
    before: Option<ReportId>,
    limit: usize,
) -> Result<Page<Report, ReportId>, StoreError> {
    let mut query = reports::table
        .filter(reports::group_id.eq(group_id.to_string()))
        .filter(reports::reported_user_id.ne(reader.to_string()))
        .select(ReportRow::as_select())
        .order(reports::id.desc())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(reports::status.eq(status.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(reports::id.lt(before.to_string()));
    }
    load_page(conn, query, limit, Report::try_from, |r| r.id)
}

/// The reports a user made, oldest first after `after`: one page of the user's export.
pub fn made_by(
    conn: &mut DbConn,
    reporter: UserId,
    after: Option<ReportId>,
    limit: usize,
) -> Result<Page<Report, ReportId>, StoreError> {
    let mut query = reports::table
        .filter(reports::reporter_user_id.eq(reporter.to_string()))
        .select(ReportRow::as_select())
        .order(reports::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(reports::id.gt(after.to_string()));
    }
    load_page(conn, query, limit, Report::try_from, |r| r.id)
}
