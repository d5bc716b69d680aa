//! Templates: the built-in catalogue (read-only, in English and Italian) and the custom
//! templates a group's owners and admins save.

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::catalogue;
use tandem_domain::ids::{CustomTemplateId, GroupId};
use tandem_domain::question::Question;
use tandem_domain::template::{
    ContentChange, CustomTemplate, GuideWeek, Language, TemplateContent,
};
use tandem_persistence::{custom_templates, Page};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{not_found_as, ApiError, FieldError, Problem};
use crate::etag::{self, etag, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json, Query};
use crate::language::{content_language_header, RequestedLanguage};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::access::manager_of;
use crate::state::AppState;

/// A template: its content in one language, built-in or saved by a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    /// The template's key: a slug, stable across languages.
    #[schema(example = "new-parents")]
    pub key: String,
    /// The language of the words in this template.
    pub language: Language,
    pub name: String,
    pub description: String,
    /// How many check-ins a pairing has: one per guide week.
    pub duration_weeks: u16,
    /// Days between check-ins (7 = weekly).
    pub cadence_days: u16,
    /// Sign-up questions; keys and option values are the same in every language.
    pub questions: Vec<Question>,
    /// The weekly guide, week 1 first.
    pub weeks: Vec<GuideWeek>,
    /// True for the read-only templates shipped with Tandem.
    pub builtin: bool,
    /// The group a custom template belongs to; absent on built-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
    /// When a custom template was saved; absent on built-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When a custom template last changed; absent on built-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TemplateView {
    fn from_content(content: TemplateContent, builtin: bool) -> Self {
        Self {
            key: content.key,
            language: content.language,
            name: content.name,
            description: content.description,
            duration_weeks: content.duration_weeks,
            cadence_days: content.cadence_days,
            questions: content.questions,
            weeks: content.weeks,
            builtin,
            group_id: None,
            created_at: None,
            updated_at: None,
        }
    }

    pub fn builtin(content: &TemplateContent) -> Self {
        Self::from_content(content.clone(), true)
    }

    pub fn custom(template: CustomTemplate) -> Self {
        Self {
            group_id: Some(template.group_id.0),
            created_at: Some(template.created_at),
            updated_at: Some(template.updated_at),
            ..Self::from_content(template.content, false)
        }
    }
}

list_response!(TemplateList, TemplateView, "A page of templates.");

/// Query parameters of the built-in catalogue list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateListParams {
    /// How many items to answer (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// The language to answer in (`en` or `it`); wins over `Accept-Language`.
    #[param(value_type = Option<Language>)]
    pub lang: Option<String>,
}

/// A new custom template.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomTemplateRequest {
    /// 2–60 lowercase letters, digits or `-`; unique in the group and not a built-in key.
    #[schema(
        min_length = 2,
        max_length = 60,
        pattern = "^[a-z0-9-]+$",
        example = "book-club"
    )]
    pub key: String,
    /// The language the template is written in (default `en`).
    #[serde(default)]
    pub language: Language,
    /// 1–120 characters.
    #[schema(schema_with = crate::openapi::fields::one_line::<1, { tandem_domain::template::limits::NAME_CHARS }>)]
    pub name: String,
    /// At most 2000 characters.
    #[schema(schema_with = crate::openapi::fields::many_lines::<0, { tandem_domain::template::limits::DESCRIPTION_CHARS }>)]
    pub description: String,
    /// 1–52, and equal to the number of `weeks`.
    #[schema(minimum = 1, maximum = 52)]
    pub duration_weeks: u16,
    /// Days between check-ins, 1–31 (default 7).
    #[serde(default = "weekly")]
    #[schema(minimum = 1, maximum = 31)]
    pub cadence_days: u16,
    /// Up to 50 sign-up questions with unique keys.
    #[schema(max_items = 50)]
    pub questions: Vec<Question>,
    /// The weekly guide: weeks numbered 1, 2, 3…, each with 1–6 prompts.
    #[schema(min_items = 1, max_items = 52)]
    pub weeks: Vec<GuideWeek>,
}

fn weekly() -> u16 {
    7
}

/// Fields to replace; absent fields stay as they are. The key cannot change. The
/// result must still be valid as a whole (e.g. `duration_weeks` equal to the weeks).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomTemplateRequest {
    pub language: Option<Language>,
    #[schema(schema_with = crate::openapi::fields::one_line_or_null::<1, { tandem_domain::template::limits::NAME_CHARS }>)]
    pub name: Option<String>,
    #[schema(schema_with = crate::openapi::fields::many_lines_or_null::<0, { tandem_domain::template::limits::DESCRIPTION_CHARS }>)]
    pub description: Option<String>,
    #[schema(minimum = 1, maximum = 52)]
    pub duration_weeks: Option<u16>,
    #[schema(minimum = 1, maximum = 31)]
    pub cadence_days: Option<u16>,
    #[schema(max_items = 50)]
    pub questions: Option<Vec<Question>>,
    #[schema(min_items = 1, max_items = 52)]
    pub weeks: Option<Vec<GuideWeek>>,
}

fn builtin_response(status: StatusCode, language: Language) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .insert_header(content_language_header(language))
        .insert_header((header::VARY, "Accept-Language"));
    response
}

fn custom_response(status: StatusCode, template: CustomTemplate) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(template.version)))
        .insert_header(content_language_header(template.content.language))
        .json(TemplateView::custom(template))
}

fn invalid(errors: Vec<tandem_domain::ValidationError>) -> ApiError {
    ApiError::Validation(errors.into_iter().map(FieldError::from).collect())
}

/// List the built-in templates.
#[utoipa::path(
    tag = "templates",
    operation_id = "list_templates",
    params(
        TemplateListParams,
        ("Accept-Language" = Option<String>, Header, description = "Preferred languages, used when `lang` is absent (e.g. `it-IT,it;q=0.9`); English by default"),
    ),
    responses(
        (status = 200, description = "The built-in templates, in catalogue order", body = TemplateList,
            headers(("Content-Language" = String, description = "The language of the content: `en` or `it`"))),
        (status = 422, description = "Unsupported lang, or invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-no-database" = json!(true)))
)]
#[get("/templates")]
pub async fn list_templates(
    _caller: AuthUser,
    language: RequestedLanguage,
    params: Query<TemplateListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.0;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse::<String>()?;
    let start = match page.after {
        None => 0,
        Some(after) => {
            catalogue::BUILTIN_KEYS
                .iter()
                .position(|key| *key == after)
                .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this list gave out"))?
                + 1
        }
    };
    let language = language.0;
    let rows: Vec<TemplateView> = catalogue::builtins(language)
        .iter()
        .skip(start)
        .take(page.limit + 1)
        .map(TemplateView::builtin)
        .collect();
    let page = Page::from_rows(rows, page.limit, |template| template.key.clone());
    Ok(builtin_response(StatusCode::OK, language).json(TemplateList::from_page(page)))
}

/// Read a built-in template.
#[utoipa::path(
    tag = "templates",
    operation_id = "get_template",
    params(
        ("key" = String, Path, description = "The built-in template's key", example = "new-parents"),
        ("lang" = Option<Language>, Query, description = "The language to answer in; wins over `Accept-Language`"),
        ("Accept-Language" = Option<String>, Header, description = "Preferred languages, used when `lang` is absent; English by default"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The built-in template", body = TemplateView,
            headers(
                ("Content-Language" = String, description = "The language of the content: `en` or `it`"),
                ("ETag" = String, description = "A digest of the content in this language (built-in templates change only with a release)"),
            )),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No built-in template has this key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unsupported lang", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-no-database" = json!(true)))
)]
#[get("/templates/{key}")]
pub async fn get_template(
    _caller: AuthUser,
    language: RequestedLanguage,
    path: web::Path<String>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let language = language.0;
    let template =
        catalogue::builtin(&path, language).ok_or_else(|| ApiError::not_found("template"))?;
    let view = TemplateView::builtin(template);
    // No stored version: built-in content changes only with a release (version 0).
    let tag = etag::of_view(0, &view);
    if if_none_match.matches(&tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::VARY, "Accept-Language"))
            .finish());
    }
    Ok(builtin_response(StatusCode::OK, language)
        .insert_header((header::ETAG, tag))
        .json(view))
}

/// Save a custom template.
#[utoipa::path(
    tag = "templates",
    operation_id = "create_custom_template",
    params(("group_id" = Uuid, Path, description = "The group")),
    request_body = CreateCustomTemplateRequest,
    responses(
        (status = 201, description = "Saved in the group", body = TemplateView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The group already has a template with this key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named by its path (e.g. `questions[2].options`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/groups/{group_id}/templates")]
pub async fn create_custom_template(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<CreateCustomTemplateRequest>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let body = body.0;
    let content = TemplateContent {
        key: body.key,
        language: body.language,
        name: body.name,
        description: body.description,
        duration_weeks: body.duration_weeks,
        cadence_days: body.cadence_days,
        questions: body.questions,
        weeks: body.weeks,
    };
    let now = state.now();
    let template = state
        .write(move |conn| {
            manager_of(conn, group_id, caller.0)?;
            let template = CustomTemplate::new(group_id, content, now).map_err(invalid)?;
            if custom_templates::find(conn, group_id, &template.content.key)?.is_some() {
                return Err(ApiError::Conflict(format!(
                    "the group already has a template with key {:?}",
                    template.content.key
                )));
            }
            custom_templates::insert(conn, &template)?;
            Ok(template)
        })
        .await?;
    Ok(custom_response(StatusCode::CREATED, template))
}

/// List a group's custom templates.
#[utoipa::path(
    tag = "templates",
    operation_id = "list_custom_templates",
    params(("group_id" = Uuid, Path, description = "The group"), PageParams),
    responses(
        (status = 200, description = "The group's custom templates, oldest first", body = TemplateList),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups/{group_id}/templates")]
pub async fn list_custom_templates(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let page = page.0.parse::<CustomTemplateId>()?;
    let templates = state
        .read(move |conn| {
            manager_of(conn, group_id, caller.0)?;
            Ok(custom_templates::list(
                conn, group_id, page.after, page.limit,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TemplateList::from_page(templates.map(TemplateView::custom))))
}

/// Read a custom template.
#[utoipa::path(
    tag = "templates",
    operation_id = "get_custom_template",
    params(
        ("group_id" = Uuid, Path, description = "The group"),
        ("key" = String, Path, description = "The custom template's key"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The custom template", body = TemplateView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or template, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups/{group_id}/templates/{key}")]
pub async fn get_custom_template(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, String)>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let (group_id, key) = path.into_inner();
    let group_id = GroupId(group_id);
    let key = stored_key(key)?;
    let template = state
        .read(move |conn| {
            manager_of(conn, group_id, caller.0)?;
            custom_templates::find(conn, group_id, &key)?
                .ok_or_else(|| ApiError::not_found("template"))
        })
        .await?;
    let language = template.content.language;
    let mut response = etag::respond(
        StatusCode::OK,
        etag(template.version),
        &TemplateView::custom(template),
        &if_none_match,
    );
    let (name, value) = content_language_header(language);
    response.headers_mut().insert(name, value);
    Ok(response)
}

/// Update a custom template.
#[utoipa::path(
    tag = "templates",
    operation_id = "update_custom_template",
    params(
        ("group_id" = Uuid, Path, description = "The group"),
        ("key" = String, Path, description = "The custom template's key"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    request_body = UpdateCustomTemplateRequest,
    responses(
        (status = 200, description = "The updated template", body = TemplateView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or template, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named by its path (e.g. `weeks[0].prompts`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/groups/{group_id}/templates/{key}")]
pub async fn update_custom_template(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, String)>,
    if_match: IfMatch,
    body: Json<UpdateCustomTemplateRequest>,
) -> Result<HttpResponse, ApiError> {
    let (group_id, key) = path.into_inner();
    let group_id = GroupId(group_id);
    let key = stored_key(key)?;
    let body = body.0;
    let changes = ContentChange {
        language: body.language,
        name: body.name,
        description: body.description,
        duration_weeks: body.duration_weeks,
        cadence_days: body.cadence_days,
        questions: body.questions,
        weeks: body.weeks,
    };
    let now = state.now();
    let template = state
        .write(move |conn| {
            manager_of(conn, group_id, caller.0)?;
            // Locked first: without If-Match the last write wins, never a 412.
            custom_templates::lock(conn, group_id, &key).map_err(not_found_as("template"))?;
            let mut template = custom_templates::find(conn, group_id, &key)?
                .ok_or_else(|| ApiError::not_found("template"))?;
            // The changed template is judged valid (422) before the precondition (412).
            let version = template.version;
            template.apply(changes, now).map_err(invalid)?;
            if_match.check(version)?;
            // Written only if no other change landed since it was read.
            custom_templates::update(conn, &template, now)?.ok_or_else(|| {
                ApiError::PreconditionFailed(
                    "the template changed while this update ran; fetch it again and retry".into(),
                )
            })
        })
        .await?;
    Ok(custom_response(StatusCode::OK, template))
}

/// Delete a custom template.
#[utoipa::path(
    tag = "templates",
    operation_id = "delete_custom_template",
    params(
        ("group_id" = Uuid, Path, description = "The group"),
        ("key" = String, Path, description = "The custom template's key"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    responses(
        (status = 204, description = "Deleted; programs started from it keep their copy"),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or template, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/groups/{group_id}/templates/{key}")]
pub async fn delete_custom_template(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, String)>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (group_id, key) = path.into_inner();
    let group_id = GroupId(group_id);
    let key = stored_key(key)?;
    state
        .write(move |conn| {
            manager_of(conn, group_id, caller.0)?;
            custom_templates::lock(conn, group_id, &key).map_err(not_found_as("template"))?;
            let template = custom_templates::find(conn, group_id, &key)?
                .ok_or_else(|| ApiError::not_found("template"))?;
            if_match.check(template.version)?;
            if !custom_templates::delete(conn, group_id, &key, template.version)? {
                return Err(ApiError::PreconditionFailed(
                    "the template changed meanwhile; fetch it again and retry".into(),
                ));
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A key from the path. One that could never have been stored (a slug has no NUL, which
/// PostgreSQL would refuse outright) names no template.
fn stored_key(key: String) -> Result<String, ApiError> {
    if key.contains('\0') || key.len() > 200 {
        return Err(ApiError::not_found("template"));
    }
    Ok(key)
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_templates)
        .service(get_template)
        .service(create_custom_template)
        .service(list_custom_templates)
        .service(get_custom_template)
        .service(update_custom_template)
        .service(delete_custom_template);
}
