//! The caller's own account.

use actix_web::{get, http::header, patch, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::user::{DisplayName, TimeZone, User};
use tandem_persistence::{pairings, users};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{self, etag, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json};
use crate::state::AppState;

/// A user. `email` is present only when the user is the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: uuid::Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub display_name: String,
    /// IANA time zone name.
    pub time_zone: String,
}

impl UserView {
    pub fn own(user: &User) -> Self {
        Self {
            id: user.id.0,
            email: Some(user.email.to_string()),
            display_name: user.display_name.as_str().to_owned(),
            time_zone: user.time_zone.name().to_owned(),
        }
    }
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[schema(schema_with = crate::openapi::fields::one_line_or_null::<1, { DisplayName::MAX_CHARS }>)]
    pub display_name: Option<String>,
    /// An IANA time zone such as `Europe/Rome`.
    #[schema(schema_with = crate::openapi::fields::time_zone_or_null)]
    pub time_zone: Option<String>,
}

/// Read the caller's profile.
#[utoipa::path(
    tag = "me",
    operation_id = "get_me",
    params(("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current")),
    responses(
        (status = 200, description = "The caller's account", body = UserView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    caller: AuthUser,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .read(move |conn| Ok(users::find(conn, caller.0)?))
        .await
        .map_err(gone)?;
    Ok(etag::respond(
        actix_web::http::StatusCode::OK,
        etag(user.version),
        &UserView::own(&user),
        &if_none_match,
    ))
}

/// Update the caller's profile.
#[utoipa::path(
    tag = "me",
    operation_id = "update_me",
    request_body = UpdateMeRequest,
    params(("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since")),
    responses(
        (status = 200, description = "The updated account", body = UserView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 412, description = "Changed since the given ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: AuthUser,
    if_match: IfMatch,
    body: Json<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let display_name = body
        .display_name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()
        .map_err(|e| errors.push(e.into()))
        .ok()
        .flatten();
    let time_zone = body
        .time_zone
        .as_deref()
        .map(TimeZone::parse)
        .transpose()
        .map_err(|e| errors.push(e.into()))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.now();
    let user = state
        .write(move |conn| {
            // Locked first: without If-Match the last write wins, never a 409.
            users::lock(conn, caller.0)?;
            let mut user = users::find(conn, caller.0)?;
            if_match.check(user.version)?;
            if let Some(name) = display_name {
                user.display_name = name;
            }
            let mut moved = false;
            if let Some(tz) = time_zone {
                moved = tz != user.time_zone;
                user.time_zone = tz;
            }
            let user = users::update_profile(conn, &user, now)?;
            if moved {
                // Reminder instants follow the zone: the job plans these pairings again.
                pairings::replan_for_user(conn, user.id, now)?;
            }
            Ok(user)
        })
        .await
        .map_err(gone)?;
    Ok(with_etag(&user))
}

fn with_etag(user: &User) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserView::own(user))
}

/// A valid token for an account that no longer exists is no longer a login.
fn gone(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::Unauthenticated("the account no longer exists".into()),
        other => other,
    }
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me).service(update_me);
}
