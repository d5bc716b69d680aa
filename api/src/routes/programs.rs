//! Programs: started from a template by a group's admins, joined by its members.

use actix_web::{get, http::header, http::StatusCode, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::catalogue;
use tandem_domain::ids::{GroupId, ProgramId};
use tandem_domain::program::{MatchingMode, Program, ProgramStatus, SettingsChange};
use tandem_domain::question::Question;
use tandem_domain::template::{GuideWeek, Language};
use tandem_persistence::{custom_templates, programs};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{self, etag, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::access::{manager_of, member_of, program_for, require_manager};
use crate::state::AppState;

/// A program, with its own copy of the template's questions and weekly guide.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramView {
    pub id: Uuid,
    pub group_id: Uuid,
    /// The template it was started from (built-in or custom key).
    pub template_key: String,
    pub language: Language,
    pub name: String,
    pub description: String,
    pub status: ProgramStatus,
    pub matching: MatchingMode,
    pub duration_weeks: u16,
    /// Days between check-ins (7 = weekly).
    pub cadence_days: u16,
    /// A mentor's capacity when they do not give one.
    pub default_capacity: u8,
    pub requires_approval: bool,
    /// With `matching: auto`, the lowest score (0–100) that pairs people automatically.
    pub auto_match_threshold: u8,
    pub questions: Vec<Question>,
    pub weeks: Vec<GuideWeek>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Program> for ProgramView {
    fn from(p: Program) -> Self {
        Self {
            id: p.id.0,
            group_id: p.group_id.0,
            template_key: p.template_key,
            language: p.language,
            name: p.settings.name,
            description: p.settings.description,
            status: p.status,
            matching: p.settings.matching,
            duration_weeks: p.settings.duration_weeks,
            cadence_days: p.settings.cadence_days,
            default_capacity: p.settings.default_capacity,
            requires_approval: p.settings.requires_approval,
            auto_match_threshold: p.settings.auto_match_threshold,
            questions: p.questions,
            weeks: p.weeks,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

list_response!(
    ProgramList,
    ProgramView,
    "A page of a group's programs, oldest first."
);

/// A new program from a template, with optional overrides of the template's settings.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProgramRequest {
    /// A built-in template key (see `/v1/templates`) or one of the group's custom templates.
    #[schema(min_length = 1, pattern = "^[^\\u0000]*$", example = "new-parents")]
    pub template_key: String,
    /// Which language of a built-in template to copy (default `en`). A custom template
    /// has one language.
    pub language: Option<Language>,
    /// Defaults to the template's name.
    #[schema(schema_with = crate::openapi::fields::one_line_or_null::<1, 120>)]
    pub name: Option<String>,
    #[schema(schema_with = crate::openapi::fields::many_lines_or_null::<0, 2000>)]
    pub description: Option<String>,
    /// 1 up to the number of weeks of the template's guide (at most 52).
    #[schema(minimum = 1, maximum = 52)]
    pub duration_weeks: Option<i64>,
    /// 1–31 days.
    #[schema(minimum = 1, maximum = 31)]
    pub cadence_days: Option<i64>,
    /// `admin` (default) or `auto`.
    pub matching: Option<MatchingMode>,
    /// 1–20, default 1.
    #[schema(minimum = 1, maximum = 20)]
    pub default_capacity: Option<i64>,
    /// Default false.
    pub requires_approval: Option<bool>,
    /// 0–100, default 60.
    #[schema(minimum = 0, maximum = 100)]
    pub auto_match_threshold: Option<i64>,
}

/// Changes to a program; absent fields stay as they are. `status` moves one step forward.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProgramRequest {
    #[schema(schema_with = crate::openapi::fields::one_line_or_null::<1, 120>)]
    pub name: Option<String>,
    #[schema(schema_with = crate::openapi::fields::many_lines_or_null::<0, 2000>)]
    pub description: Option<String>,
    pub status: Option<ProgramStatus>,
    /// Only while a draft; 1 up to the number of weeks of the guide (at most 52).
    #[schema(minimum = 1, maximum = 52)]
    pub duration_weeks: Option<i64>,
    /// Only while a draft; 1–31 days.
    #[schema(minimum = 1, maximum = 31)]
    pub cadence_days: Option<i64>,
    pub matching: Option<MatchingMode>,
    /// 1–20.
    #[schema(minimum = 1, maximum = 20)]
    pub default_capacity: Option<i64>,
    pub requires_approval: Option<bool>,
    /// 0–100.
    #[schema(minimum = 0, maximum = 100)]
    pub auto_match_threshold: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgramListParams {
    /// Only programs with this status.
    pub status: Option<ProgramStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

fn program_response(status: StatusCode, program: Program) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(program.version)))
        .json(ProgramView::from(program))
}

/// Start a program from a template.
#[utoipa::path(
    tag = "programs",
    operation_id = "create_program",
    params(("group_id" = Uuid, Path, description = "The group")),
    request_body = CreateProgramRequest,
    responses(
        (status = 201, description = "A draft program with a copy of the template's content", body = ProgramView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown template or invalid overrides", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/groups/{group_id}/programs")]
pub async fn create_program(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<CreateProgramRequest>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let body = body.0;
    let now = state.now();
    let change = SettingsChange {
        name: body.name,
        description: body.description,
        duration_weeks: body.duration_weeks,
        cadence_days: body.cadence_days,
        matching: body.matching,
        default_capacity: body.default_capacity,
        requires_approval: body.requires_approval,
        auto_match_threshold: body.auto_match_threshold,
    };
    let program = state
        .write(move |conn| {
            manager_of(conn, group_id, caller.0)?;
            let template =
                match catalogue::builtin(&body.template_key, body.language.unwrap_or_default()) {
                    Some(builtin) => builtin.clone(),
                    None => {
                        let custom = custom_templates::find(conn, group_id, &body.template_key)?
                            .ok_or_else(|| {
                                ApiError::invalid(
                                    "template_key",
                                    "is neither a built-in template nor one of this group's",
                                )
                            })?;
                        if body.language.is_some_and(|l| l != custom.content.language) {
                            return Err(ApiError::invalid(
                                "language",
                                "differs from the custom template's language; omit it or match it",
                            ));
                        }
                        custom.content
                    }
                };
            let program =
                Program::from_template(ProgramId::new_v7(now), group_id, &template, change, now)
                    .map_err(|errors| {
                        ApiError::Validation(errors.into_iter().map(Into::into).collect())
                    })?;
            programs::insert(conn, &program)?;
            Ok(program)
        })
        .await?;
    Ok(program_response(StatusCode::CREATED, program))
}

/// List a group's programs.
#[utoipa::path(
    tag = "programs",
    operation_id = "list_programs",
    params(("group_id" = Uuid, Path, description = "The group"), ProgramListParams),
    responses(
        (status = 200, description = "The group's programs; drafts only for owners and admins", body = ProgramList),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups/{group_id}/programs")]
pub async fn list_programs(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    params: Query<ProgramListParams>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let params = params.0;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse::<ProgramId>()?;
    let programs = state
        .read(move |conn| {
            let membership = member_of(conn, group_id, caller.0)?;
            let visible: Vec<ProgramStatus> = [
                ProgramStatus::Draft,
                ProgramStatus::Open,
                ProgramStatus::Closed,
                ProgramStatus::Archived,
            ]
            .into_iter()
            .filter(|s| membership.role.can_manage() || *s != ProgramStatus::Draft)
            .filter(|s| params.status.is_none_or(|wanted| wanted == *s))
            .collect();
            Ok(programs::list_for_group(
                conn, group_id, &visible, page.after, page.limit,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProgramList::from_page(programs.map(ProgramView::from))))
}

/// Read a program.
#[utoipa::path(
    tag = "programs",
    operation_id = "get_program",
    params(("program_id" = Uuid, Path, description = "The program"), ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current")),
    responses(
        (status = 200, description = "The program", body = ProgramView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, a draft seen by a member, or the caller is not in the group", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/programs/{program_id}")]
pub async fn get_program(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let (program, _) = state
        .read(move |conn| program_for(conn, program_id, caller.0))
        .await?;
    Ok(etag::respond(
        StatusCode::OK,
        etag(program.version),
        &ProgramView::from(program),
        &if_none_match,
    ))
}

/// Change a program's settings or status.
#[utoipa::path(
    tag = "programs",
    operation_id = "update_program",
    params(
        ("program_id" = Uuid, Path, description = "The program"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    request_body = UpdateProgramRequest,
    responses(
        (status = 200, description = "The updated program", body = ProgramView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, or the caller is not in the group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a forward step of draft → open → closed → archived, an archived program, or a schedule change after opening", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/programs/{program_id}")]
pub async fn update_program(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateProgramRequest>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let body = body.0;
    let now = state.now();
    let change = SettingsChange {
        name: body.name,
        description: body.description,
        duration_weeks: body.duration_weeks,
        cadence_days: body.cadence_days,
        matching: body.matching,
        default_capacity: body.default_capacity,
        requires_approval: body.requires_approval,
        auto_match_threshold: body.auto_match_threshold,
    };
    let program = state
        .write(move |conn| {
            let (_, membership) = program_for(conn, program_id, caller.0)?;
            require_manager(&membership)?;
            programs::lock(conn, program_id)?;
            let mut program = programs::find(conn, program_id)?;
            // The values first (422), then the precondition (412), then the state (409).
            program.check_change(&change)?;
            if_match.check(program.version)?;
            program.update(change, body.status, now)?;
            Ok(programs::update(conn, &program, now)?)
        })
        .await?;
    Ok(program_response(StatusCode::OK, program))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_program)
        .service(list_programs)
        .service(get_program)
        .service(update_program);
}
