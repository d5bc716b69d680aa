//! Enrolments: members apply as mentor or mentee; admins review; members withdraw.

use actix_web::{delete, get, http::header, http::StatusCode, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::enrolment::{already_enrolled, Enrolment, EnrolmentRole, EnrolmentStatus};
use tandem_domain::group::Membership;
use tandem_domain::ids::{EnrolmentId, ProgramId, UserId};
use tandem_domain::program::Program;
use tandem_domain::question::Answers;
use tandem_domain::DomainError;
use tandem_persistence::enrolments::{self, EnrolmentFilter};
use tandem_persistence::{groups, programs, users, DbConn, StoreError};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{lock_caller, not_found_as, ApiError, Problem};
use crate::etag::{self, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::access::{member_of, program_for, require_manager};
use crate::state::AppState;
use crate::workflows::{self, notify};

/// An enrolment. Its answers are seen by the member and the group's admins only.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentView {
    pub id: Uuid,
    pub program_id: Uuid,
    pub user_id: Uuid,
    pub display_name: String,
    pub role: EnrolmentRole,
    pub status: EnrolmentStatus,
    /// How many mentees a mentor takes at once (1 for mentees).
    pub capacity: u8,
    /// Answers by question key: an option value, a list of option values, a number or text.
    #[schema(value_type = std::collections::BTreeMap<String, tandem_domain::question::AnswerValue>)]
    pub answers: Answers,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl EnrolmentView {
    fn new(enrolment: Enrolment, display_name: String) -> Self {
        Self {
            id: enrolment.id.0,
            program_id: enrolment.program_id.0,
            user_id: enrolment.user_id.0,
            display_name,
            role: enrolment.role,
            status: enrolment.status,
            capacity: enrolment.capacity,
            answers: enrolment.answers,
            created_at: enrolment.created_at,
            updated_at: enrolment.updated_at,
        }
    }
}

list_response!(
    EnrolmentList,
    EnrolmentView,
    "A page of a program's enrolments, oldest first."
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub role: EnrolmentRole,
    /// Answers by question key, validated against the program's questions for the role.
    #[schema(value_type = std::collections::BTreeMap<String, tandem_domain::question::AnswerValue>)]
    pub answers: Answers,
    /// Mentors only: how many mentees at once (1–20; default: the program's).
    #[schema(minimum = 1, maximum = 20)]
    pub capacity: Option<i64>,
}

/// An admin's decision on a pending enrolment, or the member's withdrawal.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnrolmentRequest {
    /// `active` (approve) or `declined` by an admin; `withdrawn` by the member.
    pub status: EnrolmentStatus,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnrolmentListParams {
    pub role: Option<EnrolmentRole>,
    pub status: Option<EnrolmentStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

fn view(conn: &mut DbConn, enrolment: Enrolment) -> Result<EnrolmentView, ApiError> {
    let name = users::shown_name_of(conn, enrolment.user_id)?;
    Ok(EnrolmentView::new(enrolment, name))
}

/// The view with its ETag: the version and a digest of the view, which also shows the
/// member's display name (another row).
fn tagged(conn: &mut DbConn, enrolment: Enrolment) -> Result<(String, EnrolmentView), ApiError> {
    let version = enrolment.version;
    let view = view(conn, enrolment)?;
    Ok((etag::of_view(version, &view), view))
}

fn enrolment_response(status: StatusCode, tag: String, view: EnrolmentView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, tag))
        .json(view)
}

/// Enrol in a program as mentor or mentee.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "enrol",
    params(("program_id" = Uuid, Path, description = "The program")),
    request_body = EnrolRequest,
    responses(
        (status = 201, description = "Enrolled: active, or pending when the program needs approval. In a program with `matching: auto` an active enrolment is paired at once with the best partner above the threshold (see `/v1/me/pairings`).", body = EnrolmentView,
            headers(("ETag" = String, description = "The enrolment's ETag"))),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The program is not open, or the caller already has an enrolment in this role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid answers (each under `answers.<question key>`) or capacity", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/programs/{program_id}/enrolments")]
pub async fn enrol(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<EnrolRequest>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let body = body.0;
    let now = state.now();
    let (tag, view) = state
        .write(move |conn| {
            // An enrolment racing the caller's account deletion lands before it (and is
            // erased with the rest) or is refused.
            lock_caller(conn, caller.0)?;
            // Drafts are hidden from members elsewhere, but enrolling in one is a
            // conflict with its state for anyone in the group.
            let program =
                programs::find_locked(conn, program_id).map_err(not_found_as("program"))?;
            member_of(conn, program.group_id, caller.0)?;
            let candidate = Enrolment::new(
                EnrolmentId::new_v7(now),
                &program,
                caller.0,
                body.role,
                body.answers,
                body.capacity,
                now,
            )?;
            let enrolment = match enrolments::find_for(conn, program_id, caller.0, body.role)? {
                Some(mut existing) => {
                    existing.reopen(candidate, now)?;
                    enrolments::update(conn, &existing, now)?
                }
                None => {
                    enrolments::insert(conn, &candidate).map_err(|e| match e {
                        // Enrolled by a concurrent request meanwhile.
                        StoreError::Constraint(_) => already_enrolled(body.role).into(),
                        other => ApiError::from(other),
                    })?;
                    candidate
                }
            };
            // Auto matching pairs in the same transaction: the enrolment and its first
            // pairing land together.
            workflows::pairing::auto_match(conn, &program, &enrolment, now)?;
            tagged(conn, enrolment)
        })
        .await?;
    Ok(enrolment_response(StatusCode::CREATED, tag, view))
}

/// List a program's enrolments.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "list_enrolments",
    params(("program_id" = Uuid, Path, description = "The program"), EnrolmentListParams),
    responses(
        (status = 200, description = "Admins: all enrolments with answers. Members: their own.", body = EnrolmentList),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/programs/{program_id}/enrolments")]
pub async fn list_enrolments(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    params: Query<EnrolmentListParams>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let params = params.0;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse::<EnrolmentId>()?;
    let list = state
        .read(move |conn| {
            let (_, membership) = program_for(conn, program_id, caller.0)?;
            let filter = EnrolmentFilter {
                role: params.role,
                status: params.status,
                user_id: (!membership.role.can_manage()).then_some(caller.0),
            };
            let page = enrolments::list(conn, program_id, &filter, page.after, page.limit)?;
            let ids: Vec<UserId> = page.items.iter().map(|e| e.user_id).collect();
            let names = users::display_names(conn, &ids)?;
            Ok(page.map(|e| {
                let name = names.get(&e.user_id).cloned().unwrap_or_default();
                EnrolmentView::new(e, name)
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(EnrolmentList::from_page(list)))
}

/// The enrolment and the caller's membership, if the caller may see it: its member, or
/// the group's owners and admins. Anyone else gets 404.
fn visible_enrolment(
    conn: &mut DbConn,
    id: EnrolmentId,
    caller: UserId,
) -> Result<(Enrolment, Membership), ApiError> {
    let enrolment = enrolments::find(conn, id).map_err(not_found_as("enrolment"))?;
    let program = programs::find(conn, enrolment.program_id)?;
    let membership = groups::membership(conn, program.group_id, caller)?
        .ok_or_else(|| ApiError::not_found("enrolment"))?;
    if enrolment.user_id != caller && !membership.role.can_manage() {
        return Err(ApiError::not_found("enrolment"));
    }
    Ok((enrolment, membership))
}

/// A visible enrolment for a change: its program locked first (every write to a
/// program's enrolments holds that lock, see `programs::lock`), then the enrolment read
/// again as it stands, so a concurrent change cannot overtake this one and a request
/// without a precondition never fails for having raced another. Also answers the
/// enrolment's current ETag, which the caller checks `If-Match` against once it has
/// judged the caller's right to the change (403 before 412).
fn locked_enrolment(
    conn: &mut DbConn,
    id: EnrolmentId,
    caller: UserId,
) -> Result<(Enrolment, Membership, Program, String), ApiError> {
    let (enrolment, membership) = visible_enrolment(conn, id, caller)?;
    let program = programs::find_locked(conn, enrolment.program_id)?;
    let enrolment = enrolments::find(conn, id)?;
    let (tag, _) = tagged(conn, enrolment.clone())?;
    Ok((enrolment, membership, program, tag))
}

/// The enrolment after its pairings that the clock completed are recorded so: a member
/// whose schedule ran out is no longer paired, job or no job. Inside the program's lock.
fn settled(
    conn: &mut DbConn,
    program: &Program,
    enrolment: Enrolment,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Enrolment, ApiError> {
    if enrolment.active_pairings == 0 {
        return Ok(enrolment);
    }
    workflows::reminders::settle_completed_of_enrolment(conn, program, enrolment.id, now)?;
    Ok(enrolments::find(conn, enrolment.id)?)
}

/// Read an enrolment.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "get_enrolment",
    params(
        ("enrolment_id" = Uuid, Path, description = "The enrolment"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The enrolment with its answers", body = EnrolmentView,
            headers(("ETag" = String, description = "Changes with every write of the enrolment and with the member's name"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enrolment, or neither the caller's own nor one the caller administers", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/enrolments/{enrolment_id}")]
pub async fn get_enrolment(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let id = EnrolmentId(path.into_inner());
    let (tag, view) = state
        .read(move |conn| {
            let (enrolment, _) = visible_enrolment(conn, id, caller.0)?;
            tagged(conn, enrolment)
        })
        .await?;
    Ok(etag::respond(StatusCode::OK, tag, &view, &if_none_match))
}

/// Approve or decline an enrolment, or change its answers.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "update_enrolment",
    params(
        ("enrolment_id" = Uuid, Path, description = "The enrolment"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    request_body = UpdateEnrolmentRequest,
    responses(
        (status = 200, description = "The enrolment in its new status", body = EnrolmentView,
            headers(("ETag" = String, description = "The enrolment's new ETag"))),
        (status = 403, description = "Only admins approve or decline; only the member withdraws", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enrolment visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not pending (approve/decline), or still paired (withdraw)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/enrolments/{enrolment_id}")]
pub async fn update_enrolment(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateEnrolmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = EnrolmentId(path.into_inner());
    let target = body.0.status;
    let now = state.now();
    let (tag, view) = state
        .write(move |conn| {
            let (mut enrolment, membership, program, current) =
                locked_enrolment(conn, id, caller.0)?;
            match target {
                EnrolmentStatus::Active | EnrolmentStatus::Declined => {
                    require_manager(&membership)?;
                    if_match.check_tag(&current)?;
                    program.check_not_archived()?;
                    enrolment.decide(target == EnrolmentStatus::Active, now)?;
                    let decided = enrolments::update(conn, &enrolment, now)?;
                    notify::enrolment_decided(conn, &program, &decided, now)?;
                    workflows::pairing::auto_match(conn, &program, &decided, now)?;
                    return tagged(conn, decided);
                }
                EnrolmentStatus::Withdrawn => {
                    if enrolment.user_id != caller.0 {
                        return Err(ApiError::Forbidden(
                            "only the member can withdraw their enrolment".into(),
                        ));
                    }
                    if_match.check_tag(&current)?;
                    program.check_not_archived()?;
                    enrolment = settled(conn, &program, enrolment, now)?;
                    enrolment.withdraw(now)?;
                }
                EnrolmentStatus::Pending => {
                    return Err(
                        DomainError::Conflict("an enrolment cannot go back to pending").into(),
                    );
                }
            }
            let enrolment = enrolments::update(conn, &enrolment, now)?;
            tagged(conn, enrolment)
        })
        .await?;
    Ok(enrolment_response(StatusCode::OK, tag, view))
}

/// Withdraw an enrolment.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "withdraw_enrolment",
    params(
        ("enrolment_id" = Uuid, Path, description = "The enrolment"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    responses(
        (status = 204, description = "Withdrawn (also when it already was)"),
        (status = 403, description = "Only the member withdraws their enrolment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enrolment visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Declined, or still in an active pairing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/enrolments/{enrolment_id}")]
pub async fn withdraw_enrolment(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id = EnrolmentId(path.into_inner());
    let now = state.now();
    state
        .write(move |conn| {
            let (enrolment, _, program, current) = locked_enrolment(conn, id, caller.0)?;
            if enrolment.user_id != caller.0 {
                return Err(ApiError::Forbidden(
                    "only the member can withdraw their enrolment".into(),
                ));
            }
            if_match.check_tag(&current)?;
            program.check_not_archived()?;
            let mut enrolment = settled(conn, &program, enrolment, now)?;
            enrolment.withdraw(now)?;
            enrolments::update(conn, &enrolment, now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(enrol)
        .service(list_enrolments)
        .service(get_enrolment)
        .service(update_enrolment)
        .service(withdraw_enrolment);
}
