//! The pair space's ways out: a partner blocks the other (the pairing ends and the two
//! are never paired again in the group) or reports them to the group's admins, who read
//! the reports and resolve them. Admins see a report's reason, never the pair's words.

use actix_web::{get, http::StatusCode, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tandem_domain::ids::{GroupId, PairingId, ReportId, UserId};
use tandem_domain::safety::{Report, ReportStatus};
use tandem_persistence::{groups, pairings, reports, users, DbConn};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::access::{manager_of, require_manager};
use crate::routes::pairings::{tagged_view, visible_pairing, PairingView};
use crate::state::AppState;
use crate::workflows::safety;

/// Why a partner blocks or reports the other.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// 1–1000 characters. A block's reason is kept for the group's records and never
    /// shown to the other partner; a report's is read by the group's admins.
    #[schema(schema_with = crate::openapi::fields::many_lines::<1, { tandem_domain::pairing::MAX_END_REASON }>)]
    pub reason: String,
}

/// A member named in a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedPerson {
    pub user_id: Uuid,
    pub display_name: String,
}

/// A partner's report about the other: who, which pairing and why. Nothing of the
/// pair's messages or notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: Uuid,
    pub group_id: Uuid,
    pub program_id: Uuid,
    pub pairing_id: Uuid,
    pub reporter: ReportedPerson,
    pub reported: ReportedPerson,
    pub reason: String,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

list_response!(ReportList, ReportView, "A page of reports.");

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportListParams {
    /// Only reports with this status.
    pub status: Option<ReportStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// What an admin changes on a report.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReportRequest {
    /// Only `resolved`: a report, once dealt with, stays resolved.
    #[schema(schema_with = resolved_only)]
    pub status: ReportStatus,
}

/// The one status a report can be given (`open` is 422), as the spec states it.
fn resolved_only() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([ReportStatus::Resolved.as_str()]))
        .description(Some(
            "Only `resolved`: a report, once dealt with, stays resolved.",
        ))
        .build()
}

/// Views of several reports, with everyone's display name read in one query.
fn report_views(conn: &mut DbConn, list: Vec<Report>) -> Result<Vec<ReportView>, ApiError> {
    let ids: Vec<UserId> = list.iter().flat_map(|r| [r.reporter, r.reported]).collect();
    let names = users::display_names(conn, &ids)?;
    let person = |id: UserId| ReportedPerson {
        user_id: id.0,
        display_name: names.get(&id).cloned().unwrap_or_default(),
    };
    Ok(list
        .into_iter()
        .map(|r| ReportView {
            id: r.id.0,
            group_id: r.group_id.0,
            program_id: r.program_id.0,
            pairing_id: r.pairing_id.0,
            reporter: person(r.reporter),
            reported: person(r.reported),
            reason: r.reason,
            status: r.status,
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        })
        .collect())
}

fn report_view(conn: &mut DbConn, report: Report) -> Result<ReportView, ApiError> {
    report_views(conn, vec![report])?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a view of one report came back empty")))
}

/// Block the other partner.
#[utoipa::path(
    tag = "pair-space",
    operation_id = "block_partner",
    params(("pairing_id" = Uuid, Path, description = "The pairing")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Blocked: the two are never paired again in this group. The pairing ends at once if active, and so does any other active pairing of the two in the group's programs (places freed; the end reason reads \"The pairing was ended.\"); the other partner is told only that it ended; a pairing that had already ended or completed stays as it was and the block is recorded all the same. Blocking again, by either partner, changes nothing and answers the same", body = PairingView,
            headers(("ETag" = String, description = "The pairing's ETag"))),
        (status = 403, description = "The caller is one of the group's admins but not a partner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pairing, the caller is not in its group (a partner who left or was removed included), or neither a partner nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[post("/block")]
pub async fn block_partner(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = PairingId(path.into_inner());
    let reason = body.0.reason;
    let now = state.now();
    let (tag, view) = state
        .write(move |conn| {
            let (pairing, program) = visible_pairing(conn, id, caller.0)?;
            safety::block(conn, &pairing, &program, caller.0, &reason, now)?;
            let pairing = pairings::find(conn, id)?;
            tagged_view(conn, pairing, caller.0, now)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, tag))
        .json(view))
}

/// Report the other partner to the group's admins.
#[utoipa::path(
    tag = "pair-space",
    operation_id = "report_partner",
    params(("pairing_id" = Uuid, Path, description = "The pairing")),
    request_body = ReasonRequest,
    responses(
        (status = 201, description = "Reported, on an active, ended or completed pairing alike. The group's admins read it; the reported member is not told", body = ReportView),
        (status = 403, description = "The caller is one of the group's admins but not a partner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pairing, the caller is not in its group (a partner who left or was removed included), or neither a partner nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[post("/report")]
pub async fn report_partner(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = PairingId(path.into_inner());
    let reason = body.0.reason;
    let now = state.now();
    let view = state
        .write(move |conn| {
            let (pairing, program) = visible_pairing(conn, id, caller.0)?;
            let report = Report::new(
                ReportId::new_v7(now),
                program.group_id,
                &pairing,
                caller.0,
                &reason,
                now,
            )?;
            reports::insert(conn, &report)?;
            report_view(conn, report)
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(view))
}

/// List a group's reports.
#[utoipa::path(
    tag = "pair-space",
    operation_id = "list_group_reports",
    params(("group_id" = Uuid, Path, description = "The group"), ReportListParams),
    responses(
        (status = 200, description = "The group's reports, newest first", body = ReportList),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the caller is not in it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid status, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups/{group_id}/reports")]
pub async fn list_group_reports(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    params: Query<ReportListParams>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let params = params.0;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse::<ReportId>()?;
    let list = state
        .read(move |conn| {
            manager_of(conn, group_id, caller.0)?;
            let page = reports::list_for_group(
                conn,
                group_id,
                caller.0,
                params.status,
                page.after,
                page.limit,
            )?;
            Ok::<_, ApiError>(ReportList {
                next_cursor: page.next.map(crate::pagination::encode_cursor),
                items: report_views(conn, page.items)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A report the caller manages: 404 when it does not exist, the caller is not in its
/// group, or it is about the caller; 403 for a member who is not an owner or admin.
fn managed_report(conn: &mut DbConn, id: ReportId, caller: UserId) -> Result<Report, ApiError> {
    let report = reports::find(conn, id).map_err(crate::error::not_found_as("report"))?;
    let membership = groups::membership(conn, report.group_id, caller)?
        .ok_or_else(|| ApiError::not_found("report"))?;
    require_manager(&membership)?;
    // An admin the report is about is told nothing of it, as if it did not exist.
    if !report.visible_to(caller) {
        return Err(ApiError::not_found("report"));
    }
    Ok(report)
}

/// Read a report.
#[utoipa::path(
    tag = "pair-space",
    operation_id = "get_report",
    params(
        ("report_id" = Uuid, Path, description = "The report"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The report", body = ReportView,
            headers(("ETag" = String, description = "Changes when the report is resolved and with the names it shows"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 403, description = "The caller is a member of the report's group but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report, the caller is not in its group, or the report is about the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/reports/{report_id}")]
pub async fn get_report(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let id = ReportId(path.into_inner());
    let (tag, view) = state
        .read(move |conn| {
            let report = managed_report(conn, id, caller.0)?;
            tagged_report(conn, report)
        })
        .await?;
    Ok(crate::etag::respond(
        StatusCode::OK,
        tag,
        &view,
        &if_none_match,
    ))
}

/// Resolve a report.
#[utoipa::path(
    tag = "pair-space",
    operation_id = "update_report",
    params(
        ("report_id" = Uuid, Path, description = "The report"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    request_body = UpdateReportRequest,
    responses(
        (status = 200, description = "Resolved (resolving it again changes nothing)", body = ReportView,
            headers(("ETag" = String, description = "The report's ETag"))),
        (status = 403, description = "The caller is a member of the report's group but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report, the caller is not in its group, or the report is about the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A status other than `resolved`, or a malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/reports/{report_id}")]
pub async fn update_report(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateReportRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = ReportId(path.into_inner());
    let wanted = body.0.status;
    let now = state.now();
    let (tag, view) = state
        .write(move |conn| {
            reports::lock(conn, id).map_err(crate::error::not_found_as("report"))?;
            let mut report = managed_report(conn, id, caller.0)?;
            if wanted != ReportStatus::Resolved {
                return Err(ApiError::invalid("status", "can only be set to resolved"));
            }
            if_match.check_tag(&tagged_report(conn, report.clone())?.0)?;
            report.resolve(caller.0, now);
            reports::update_status(conn, &report)?;
            let stored = reports::find(conn, id)?;
            tagged_report(conn, stored)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, tag))
        .json(view))
}

/// A report's view with its ETag: the version and a digest of the view, which also
/// shows names from other rows.
fn tagged_report(conn: &mut DbConn, report: Report) -> Result<(String, ReportView), ApiError> {
    let version = reports::version(conn, report.id)?;
    let view = report_view(conn, report)?;
    Ok((crate::etag::of_view(version, &view), view))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_group_reports)
        .service(get_report)
        .service(update_report);
}

/// The routes under one pairing (`app::PAIRING_SCOPE`).
pub fn configure_pairing(cfg: &mut ServiceConfig) {
    cfg.service(block_partner).service(report_partner);
}
