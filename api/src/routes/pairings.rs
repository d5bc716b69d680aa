//! Pairings: admins pair mentees with mentors (one at a time or a reviewed batch);
//! partners see theirs; either partner or an admin ends one.

use chrono::{DateTime, Utc};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::{get, http::StatusCode, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::check_in::Journey;
use tandem_domain::enrolment::EnrolmentRole;
use tandem_domain::ids::{EnrolmentId, PairingId, ProgramId, UserId};
use tandem_domain::pairing::{validate_introduction, Pairing, PairingStatus};
use tandem_domain::program::{Program, ProgramSummary};
use tandem_persistence::users::Face;
use tandem_persistence::{groups, pairings, programs, users, DbConn};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{self, IfMatch, IfNoneMatch};
use crate::extract::json::MAX_BATCH_BODY_BYTES;
use crate::extract::{AuthUser, Bearer, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::access::{program_for, require_manager};
use crate::state::AppState;
use crate::workflows::journey;
use crate::workflows::pairing::{lock_members, make, PairingRequest};
use crate::workflows::{notify, reminders};

/// One side of a pairing.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    pub enrolment_id: Uuid,
    pub user_id: Uuid,
    pub display_name: String,
}

/// The check-in a pair works on now: the one whose window is open, or the next to open.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextCheckIn {
    /// The check-in's number (its guide week).
    #[schema(minimum = 1, maximum = 52)]
    pub number: u16,
    /// The local day it is due, in the mentee's time zone.
    #[serde(serialize_with = "crate::json_time::date")]
    pub due_on: chrono::NaiveDate,
    /// The last local day it can be completed.
    #[serde(serialize_with = "crate::json_time::date")]
    pub closes_on: chrono::NaiveDate,
}

/// A mentor and a mentee paired in a program.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairingView {
    pub id: Uuid,
    pub program_id: Uuid,
    pub program_name: String,
    pub mentor: PartnerView,
    pub mentee: PartnerView,
    /// The caller's side, when the caller is one of the partners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_role: Option<EnrolmentRole>,
    pub introduction: String,
    pub status: PairingStatus,
    /// The first day of the schedule, in the mentee's time zone.
    #[serde(serialize_with = "crate::json_time::date")]
    pub started_on: chrono::NaiveDate,
    /// The last day of the last check-in's window: the pairing completes as it ends.
    /// Null once the pairing ended early.
    #[serde(serialize_with = "crate::json_time::optional_date")]
    pub completes_on: Option<chrono::NaiveDate>,
    /// The check-in whose window is open now, or the next to open; null once the pairing
    /// ended or completed. Who checked in is in the pairing's check-ins.
    pub next_check_in: Option<NextCheckIn>,
    #[serde(serialize_with = "crate::json_time::instant")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::json_time::optional_instant")]
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub end_reason: Option<String>,
}

list_response!(PairingList, PairingView, "A page of pairings.");

/// Builds views for several pairings: their programs' summaries in one query (the
/// guides are not parsed, only counted), names and time zones in another. The status
/// is the one at `now`: a pairing whose schedule ran out reads as completed before any
/// job has recorded it.
fn views(
    conn: &mut DbConn,
    list: Vec<Pairing>,
    caller: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<PairingView>, ApiError> {
    let mut program_ids: Vec<ProgramId> = list.iter().map(|p| p.program_id).collect();
    program_ids.sort();
    program_ids.dedup();
    let summaries = programs::summaries(conn, &program_ids)?;
    let list = list
        .into_iter()
        .map(|pairing| {
            let program = summaries.get(&pairing.program_id).cloned().ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("a pairing's program is missing"))
            })?;
            Ok((pairing, program))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    views_of(conn, list, caller, now)
}

/// Views of pairings whose programs are at hand: one query for the partners' names and
/// the mentees' time zones.
fn views_of(
    conn: &mut DbConn,
    list: Vec<(Pairing, ProgramSummary)>,
    caller: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<PairingView>, ApiError> {
    let user_ids: Vec<UserId> = list
        .iter()
        .flat_map(|(p, _)| [p.mentor.user_id, p.mentee.user_id])
        .collect();
    let faces = users::faces(conn, &user_ids)?;
    let face = |id: UserId| {
        faces.get(&id).cloned().unwrap_or_else(|| Face {
            display_name: String::new(),
            time_zone: chrono_tz::Tz::UTC,
        })
    };
    Ok(list
        .into_iter()
        .map(|(pairing, program)| {
            let partners = [face(pairing.mentor.user_id), face(pairing.mentee.user_id)];
            view_of(pairing, program, &partners, caller, now)
        })
        .collect())
}

/// A pairing as `caller` sees it, given its partners' faces (mentor, mentee). The status
/// is the one at `now`.
fn view_of(
    pairing: Pairing,
    program: ProgramSummary,
    [mentor, mentee]: &[Face; 2],
    caller: UserId,
    now: DateTime<Utc>,
) -> PairingView {
    let journey = Journey::following(pairing, &program, mentee.time_zone);
    let status = journey.status_at(now);
    // An ended pairing never completes.
    let completes_on = match status {
        PairingStatus::Ended => None,
        _ => journey.schedule.slots().last().map(|slot| slot.closes_on),
    };
    let next_check_in = journey.next_check_in(now).map(|slot| NextCheckIn {
        number: slot.number,
        due_on: slot.due_on,
        closes_on: slot.closes_on,
    });
    let pairing = journey.pairing;
    PairingView {
        id: pairing.id.0,
        program_id: pairing.program_id.0,
        program_name: program.name,
        mentor: PartnerView {
            enrolment_id: pairing.mentor.enrolment_id.0,
            user_id: pairing.mentor.user_id.0,
            display_name: mentor.display_name.clone(),
        },
        mentee: PartnerView {
            enrolment_id: pairing.mentee.enrolment_id.0,
            user_id: pairing.mentee.user_id.0,
            display_name: mentee.display_name.clone(),
        },
        my_role: if pairing.mentor.user_id == caller {
            Some(EnrolmentRole::Mentor)
        } else if pairing.mentee.user_id == caller {
            Some(EnrolmentRole::Mentee)
        } else {
            None
        },
        introduction: pairing.introduction,
        status,
        started_on: pairing.started_on,
        completes_on,
        next_check_in,
        created_at: pairing.created_at,
        ended_at: pairing.ended_at,
        end_reason: pairing.end_reason,
    }
}

/// A page of pairings as the caller sees them.
fn list_of(
    conn: &mut DbConn,
    page: tandem_persistence::Page<Pairing, PairingId>,
    caller: UserId,
    now: DateTime<Utc>,
) -> Result<PairingList, ApiError> {
    Ok(PairingList {
        next_cursor: page.next.map(crate::pagination::encode_cursor),
        items: views(conn, page.items, caller, now)?,
    })
}

pub(crate) fn one_view(
    conn: &mut DbConn,
    pairing: Pairing,
    caller: UserId,
    now: DateTime<Utc>,
) -> Result<PairingView, ApiError> {
    views(conn, vec![pairing], caller, now)?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a view of one pairing came back empty")))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePairingRequest {
    pub mentor_enrolment_id: Uuid,
    pub mentee_enrolment_id: Uuid,
    /// 1–2000 characters: how the admin introduces the two to each other.
    #[schema(schema_with = crate::openapi::fields::many_lines::<1, { tandem_domain::pairing::MAX_INTRODUCTION }>)]
    pub introduction: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchPairingItem {
    pub mentor_enrolment_id: Uuid,
    pub mentee_enrolment_id: Uuid,
    /// 1–2000 characters; when absent, one is written from the match's reasons.
    #[schema(schema_with = crate::openapi::fields::many_lines_or_null::<1, { tandem_domain::pairing::MAX_INTRODUCTION }>)]
    pub introduction: Option<String>,
}

/// Pairings to publish together: all of them are made, or none.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchPairingRequest {
    /// 1–1000 pairings; the body may be up to 1 MiB.
    #[schema(min_items = 1, max_items = 1000)]
    pub pairings: Vec<BatchPairingItem>,
}

/// The most pairings one batch publishes (as the spec declares on `pairings`).
const MAX_BATCH_PAIRINGS: usize = 1000;

/// The pairings a batch made, in the order given.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchPairingResult {
    pub items: Vec<PairingView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndPairingRequest {
    /// 1–1000 characters; the other partner reads it.
    #[schema(schema_with = crate::openapi::fields::many_lines::<1, { tandem_domain::pairing::MAX_END_REASON }>)]
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PairingListParams {
    /// Only pairings with this status at the time of the request (a pairing whose
    /// schedule ran out is `completed`). A filtered page may hold fewer than `limit`
    /// items, even none, and still have a `next_cursor`: follow it until it is null.
    pub status: Option<PairingStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The program, when the caller is one of its group's owners or admins. Reads only, so
/// it serves read paths on a reader connection.
fn managed_program(
    conn: &mut DbConn,
    program_id: ProgramId,
    caller: UserId,
) -> Result<Program, ApiError> {
    let (program, membership) = program_for(conn, program_id, caller)?;
    require_manager(&membership)?;
    Ok(program)
}

/// The managed program, locked for pairing (see `programs::lock`) and read again as it
/// is now. Only inside a write transaction.
fn program_locked_for_pairing(
    conn: &mut DbConn,
    program_id: ProgramId,
    caller: UserId,
) -> Result<Program, ApiError> {
    managed_program(conn, program_id, caller)?;
    Ok(programs::find_locked(conn, program_id)?)
}

/// Pair a mentee with a mentor.
#[utoipa::path(
    tag = "pairings",
    operation_id = "create_pairing",
    params(("program_id" = Uuid, Path, description = "The program")),
    request_body = CreatePairingRequest,
    responses(
        (status = 201, description = "Paired; both partners are notified", body = PairingView,
            headers(("ETag" = String, description = "The pairing's ETag as the caller sees it"))),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An enrolment is not active, the mentee is already paired, the mentor is full, or the program is a draft or archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: enrolments not of this program (checked before the program's state) or of the wrong role, the same person twice, the introduction's length", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/programs/{program_id}/pairings")]
pub async fn create_pairing(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<CreatePairingRequest>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let body = body.0;
    let introduction = validate_introduction(&body.introduction, "introduction")?;
    let now = state.now();
    let view = state
        .write(move |conn| {
            let program = program_locked_for_pairing(conn, program_id, caller.0)?;
            let request = PairingRequest {
                mentor_enrolment_id: EnrolmentId(body.mentor_enrolment_id),
                mentee_enrolment_id: EnrolmentId(body.mentee_enrolment_id),
                introduction: Some(introduction),
            };
            let pairing = make(conn, &program, &request, now)?;
            tagged_view(conn, pairing, caller.0, now)
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((actix_web::http::header::ETAG, view.0))
        .json(view.1))
}

/// Publish many pairings at once (all or nothing).
#[utoipa::path(
    tag = "pairings",
    operation_id = "publish_pairings",
    params(("program_id" = Uuid, Path, description = "The program")),
    request_body = BatchPairingRequest,
    responses(
        (status = 201, description = "Every pairing was made; all partners are notified", body = BatchPairingResult),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "One pairing conflicts with the current state (the detail names it as `pairings[i]`); none was made", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid items, named `pairings[i].<field>`; none was made", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/programs/{program_id}/pairings/batch")]
pub async fn publish_pairings(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<BatchPairingRequest, MAX_BATCH_BODY_BYTES>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    if !(1..=MAX_BATCH_PAIRINGS).contains(&body.0.pairings.len()) {
        return Err(ApiError::invalid(
            "pairings",
            &format!("must hold 1 to {MAX_BATCH_PAIRINGS} pairings"),
        ));
    }
    let mut errors = Vec::new();
    let mut requests = Vec::with_capacity(body.0.pairings.len());
    for (index, item) in body.0.pairings.into_iter().enumerate() {
        let introduction = match item.introduction.as_deref() {
            Some(text) => {
                match validate_introduction(text, &format!("pairings[{index}].introduction")) {
                    Ok(text) => Some(text),
                    Err(e) => {
                        errors.push(e.into());
                        None
                    }
                }
            }
            None => None,
        };
        requests.push(PairingRequest {
            mentor_enrolment_id: EnrolmentId(item.mentor_enrolment_id),
            mentee_enrolment_id: EnrolmentId(item.mentee_enrolment_id),
            introduction,
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.now();
    let items = state
        .write(move |conn| {
            let program = program_locked_for_pairing(conn, program_id, caller.0)?;
            // Every member of the batch locked at once, in order, before any pairing or
            // enrolment row: each `make` then takes locks it already holds.
            let enrolment_ids: Vec<EnrolmentId> = requests
                .iter()
                .flat_map(|r| [r.mentor_enrolment_id, r.mentee_enrolment_id])
                .collect();
            lock_members(conn, &program, &enrolment_ids)?;
            // Settle every mentor's schedule-completed pairings before making any: each
            // `make` would otherwise lock pairings after earlier items locked enrolments,
            // the reverse of the reminder job's order (pairings, then enrolments).
            let mut mentors: Vec<EnrolmentId> =
                requests.iter().map(|r| r.mentor_enrolment_id).collect();
            mentors.sort();
            mentors.dedup();
            for mentor in mentors {
                reminders::settle_completed_of_enrolment(conn, &program, mentor, now)?;
            }
            let mut made = Vec::with_capacity(requests.len());
            for (index, request) in requests.iter().enumerate() {
                let pairing = make(conn, &program, request, now)
                    .map_err(|e| e.within(&format!("pairings[{index}]")))?;
                made.push(pairing);
            }
            views(conn, made, caller.0, now)
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(BatchPairingResult { items }))
}

/// List a program's pairings.
#[utoipa::path(
    tag = "pairings",
    operation_id = "list_program_pairings",
    params(("program_id" = Uuid, Path, description = "The program"), PairingListParams),
    responses(
        (status = 200, description = "The program's pairings, oldest first", body = PairingList),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/programs/{program_id}/pairings")]
pub async fn list_program_pairings(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    params: Query<PairingListParams>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let params = params.0;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse::<PairingId>()?;
    let now = state.now();
    let list = state
        .read(move |conn| {
            // A read: the program's pairing lock is for writers only.
            let (_, membership) = program_for(conn, program_id, caller.0)?;
            require_manager(&membership)?;
            // Stored `active` may already be completed by the clock: both are read and
            // the derived status filters. A page may then hold fewer than `limit`.
            let stored = match params.status {
                Some(PairingStatus::Ended) => vec![PairingStatus::Ended],
                Some(_) => vec![PairingStatus::Active, PairingStatus::Completed],
                None => Vec::new(),
            };
            let page =
                pairings::list_for_program(conn, program_id, &stored, page.after, page.limit)?;
            let mut list = list_of(conn, page, caller.0, now)?;
            if let Some(wanted) = params.status {
                list.items.retain(|view| view.status == wanted);
            }
            Ok::<_, ApiError>(list)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// List the caller's pairings.
#[utoipa::path(
    tag = "pairings",
    operation_id = "list_my_pairings",
    params(PageParams),
    responses(
        (status = 200, description = "The caller's pairings as mentor or mentee in the groups the caller belongs to, newest first", body = PairingList),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/pairings")]
pub async fn list_my_pairings(
    state: web::Data<AppState>,
    bearer: Bearer,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = page.0.parse::<PairingId>()?;
    let now = state.now();
    let list = state
        .read_hot(move |conn| {
            // The programs' summaries, the partners' faces and the account check come
            // with the page.
            let (caller, page) = bearer.check_within(conn, |conn, claimed| {
                Ok(pairings::list_for_user(
                    conn, claimed, page.after, page.limit,
                )?)
            })?;
            Ok::<_, ApiError>(PairingList {
                next_cursor: page.next.map(crate::pagination::encode_cursor),
                items: page
                    .items
                    .into_iter()
                    .map(|(pairing, program, partners)| {
                        view_of(pairing, program, &partners, caller.0, now)
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The pairing and its program, if the caller is in the program's group as a partner or
/// as one of its owners and admins. A partner who left or was removed from the group is
/// a non-member like any other and learns nothing more of it.
pub(crate) fn visible_pairing(
    conn: &mut DbConn,
    id: PairingId,
    caller: UserId,
) -> Result<(Pairing, Program), ApiError> {
    let pairing = pairings::find(conn, id).map_err(crate::error::not_found_as("pairing"))?;
    let program = programs::find(conn, pairing.program_id)?;
    let membership = groups::membership(conn, program.group_id, caller)?
        .ok_or_else(|| ApiError::not_found("pairing"))?;
    if !pairing.involves(caller) && !membership.role.can_manage() {
        return Err(ApiError::not_found("pairing"));
    }
    Ok((pairing, program))
}

/// The pairing with its context (see `pairings::find_in_context`), under the same rule
/// as `visible_pairing`, for a bearer whose account the same query checks.
pub(crate) fn visible_in_context_to(
    conn: &mut DbConn,
    id: PairingId,
    bearer: Bearer,
) -> Result<(AuthUser, pairings::InContext), ApiError> {
    let (caller, found) = bearer.check_within(conn, |conn, claimed| {
        let found = pairings::find_in_context(conn, id, claimed)?;
        Ok((found.as_ref().map(|found| found.viewer_exists), found))
    })?;
    Ok((caller, visible_to(found, caller.0)?))
}

fn visible_to(
    found: Option<pairings::InContext>,
    caller: UserId,
) -> Result<pairings::InContext, ApiError> {
    match found {
        Some(found) => match found.viewer_role {
            Some(role) if found.pairing.involves(caller) || role.can_manage() => Ok(found),
            _ => Err(ApiError::not_found("pairing")),
        },
        None => Err(ApiError::not_found("pairing")),
    }
}

/// Read a pairing.
#[utoipa::path(
    tag = "pairings",
    operation_id = "get_pairing",
    params(
        ("pairing_id" = Uuid, Path, description = "The pairing"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The pairing", body = PairingView,
            headers(("ETag" = String, description = "Changes with every write, with the status the clock derives, and per viewer"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 404, description = "No such pairing, the caller is not in its group (a partner who left or was removed included), or neither a partner nor an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[get("")]
pub async fn get_pairing(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<Uuid>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let id = PairingId(path.into_inner());
    let now = state.now();
    let tagged = state
        .read_hot(move |conn| {
            let (caller, found) = visible_in_context_to(conn, id, bearer)?;
            let partners = [found.mentor.clone(), found.mentee.clone()];
            let (pairing, version, _, program) = found.program()?;
            let view = view_of(pairing, program, &partners, caller.0, now);
            // The same tag as `tagged_view`, with the version read in the same query.
            etag::Tagged::new(version, &view)
        })
        .await?;
    Ok(tagged.respond(StatusCode::OK, &if_none_match))
}

/// A pairing as the caller sees it, with its ETag: the version and a digest of this view,
/// which holds the status the clock derives and the caller's role.
pub(crate) fn tagged_view(
    conn: &mut DbConn,
    pairing: Pairing,
    caller: UserId,
    now: DateTime<Utc>,
) -> Result<(String, PairingView), ApiError> {
    let version = pairings::version(conn, pairing.id)?;
    let view = one_view(conn, pairing, caller, now)?;
    Ok((etag::of_view(version, &view), view))
}

/// End a pairing early.
#[utoipa::path(
    tag = "pairings",
    operation_id = "end_pairing",
    params(
        ("pairing_id" = Uuid, Path, description = "The pairing"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    request_body = EndPairingRequest,
    responses(
        (status = 200, description = "Ended: the other partner is notified, the mentor's place is free and the mentee can be paired again", body = PairingView,
            headers(("ETag" = String, description = "The ended pairing's ETag"))),
        (status = 404, description = "No such pairing, the caller is not in its group (a partner who left or was removed included), or neither a partner nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The pairing is not active: it ended, or its schedule ran out (completed)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason, or a malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[post("/end")]
pub async fn end_pairing(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<EndPairingRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = PairingId(path.into_inner());
    let reason = body.0.reason;
    let now = state.now();
    let (tag, view) = state
        .write(move |conn| {
            let (_, program) = visible_pairing(conn, id, caller.0)?;
            let program = programs::find_locked(conn, program.id)?;
            // Under the pairing's lock (after its program's, in the usual order) the
            // pairing is read again, so If-Match is checked against what is then ended.
            pairings::lock(conn, id)?;
            let (pairing, _) = visible_pairing(conn, id, caller.0)?;
            if_match.check_tag(&tagged_view(conn, pairing.clone(), caller.0, now)?.0)?;
            program.check_not_archived()?;
            let mut journey = journey::of(conn, pairing, &program)?;
            journey.end(caller.0, &reason, now)?;
            let pairing = journey.pairing;
            if !pairings::end(conn, &pairing)? {
                return Err(ApiError::Conflict(
                    "only an active pairing can be ended".into(),
                ));
            }
            notify::pairing_ended(conn, &program, &pairing, caller.0, now)?;
            tagged_view(conn, pairing, caller.0, now)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, tag))
        .json(view))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    // The members' read first: see `app::routes` on why order counts.
    cfg.service(list_my_pairings)
        .service(create_pairing)
        .service(publish_pairings)
        .service(list_program_pairings);
}

/// The routes under one pairing (`app::PAIRING_SCOPE`).
pub fn configure_pairing(cfg: &mut ServiceConfig) {
    cfg.service(get_pairing).service(end_pairing);
}
