//! The caller's own account.

use actix_web::{delete, get, http::header, patch, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::group::groups_to_hand_over;
use tandem_domain::ids::{GroupId, UserId};
use tandem_domain::pairing::introduction_after_deletion;
use tandem_domain::user::{DisplayName, TimeZone, User};
use tandem_persistence::{erasure, groups, pairings, users, DbConn};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::error::{account_gone as gone, ApiError, GroupToHandOver, HandOverProblem, Problem};
use crate::etag::{self, etag, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json};
use crate::limits::{Account, ClientAddress};
use crate::state::AppState;
use crate::workflows;

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

/// The password, to confirm deleting the account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMeRequest {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

/// Delete the caller's account.
///
/// Confirmed with the password (counted against the same limits as logging in). The
/// caller leaves every group: active pairings end (partners are told), enrolments are
/// withdrawn. Messages, check-in notes, answers, reports and blocks the caller made,
/// notifications, sessions and the calendar feed are deleted. Pairings, enrolments
/// and ratings stay, anonymised, so programs' counts stay right; partners and admins
/// see "Deleted member". Access tokens already issued stop working; the email can
/// register again.
#[utoipa::path(
    tag = "me",
    operation_id = "delete_me",
    request_body = DeleteMeRequest,
    responses(
        (status = 204, description = "The account is deleted"),
        (status = 403, description = "Wrong password", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller is the last owner of some groups: hand them over first (PATCH the member's role to owner); they are listed", body = HandOverProblem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many password attempts; retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = [])),
    extensions(("x-rate-limited" = json!(true)))
)]
#[delete("/me")]
pub async fn delete_me(
    state: web::Data<AppState>,
    caller: AuthUser,
    client: ClientAddress,
    body: Json<DeleteMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let (user, stored_hash) = state
        .read(move |conn| Ok(users::find_with_hash(conn, caller.0)?))
        .await
        .map_err(gone)?;
    // Limited as logins on the account's email are: a stolen access token cannot be
    // used to guess the password faster than the login form allows.
    state.limit_auth(client.0, Account::Email(user.email.as_str()))?;
    if !state
        .passwords
        .verify(body.0.password, Some(stored_hash))
        .await?
    {
        return Err(ApiError::Forbidden("the password is wrong".into()));
    }
    let now = state.now();
    state
        .write(move |conn| delete_account(conn, caller.0, now))
        .await
        .map_err(gone)?;
    Ok(HttpResponse::NoContent().finish())
}

/// The deletion, in one transaction: leave every group (as leaving one does), then
/// forget what was the member's and make their row a tombstone.
fn delete_account(
    conn: &mut DbConn,
    user_id: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    // Serialises with a concurrent deletion or profile change of the same account.
    users::lock(conn, user_id)?;
    let mut memberships = Vec::new();
    let mut after = None;
    loop {
        let page = groups::groups_of_user(conn, user_id, after, 500)?;
        memberships.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Group locks in id order, each before its programs (as removing a member takes them).
    memberships.sort_by_key(|(group, _)| group.id);
    let mut owned = Vec::with_capacity(memberships.len());
    for (group, _) in &memberships {
        groups::lock_group(conn, group.id)?;
        // Read again under the lock: a role changed meanwhile counts.
        if let Some(membership) = groups::membership(conn, group.id, user_id)? {
            let owners = groups::count_owners(conn, group.id)?;
            owned.push((group, membership.role, owners));
        }
    }
    let to_hand_over = groups_to_hand_over(owned);
    if !to_hand_over.is_empty() {
        return Err(ApiError::MustHandOver(
            to_hand_over
                .into_iter()
                .map(|group| GroupToHandOver {
                    id: group.id.0,
                    name: group.name.clone(),
                })
                .collect(),
        ));
    }
    for (group, _) in &memberships {
        leave_group(conn, group.id, user_id, now)?;
    }
    let mine = erasure::pairings_of(conn, user_id)?;
    for (pairing_id, _, language) in &mine {
        erasure::anonymise_pairing(
            conn,
            *pairing_id,
            user_id,
            &introduction_after_deletion(*language),
        )?;
    }
    let partners: Vec<_> = mine
        .iter()
        .map(|(pairing, partner, _)| (*pairing, *partner))
        .collect();
    erasure::forget_in_partners_feeds(conn, &partners)?;
    erasure::forget_own_data(conn, user_id, now)?;
    users::erase(conn, user_id, now)?;
    Ok(())
}

/// Leaves one group as `DELETE /groups/{id}/members/{own id}` does.
fn leave_group(
    conn: &mut DbConn,
    group_id: GroupId,
    user_id: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let Some(membership) = groups::membership(conn, group_id, user_id)? else {
        return Ok(());
    };
    workflows::membership::leave_programs(conn, group_id, user_id, user_id, now)?;
    groups::delete_membership(conn, membership.id)?;
    Ok(())
}

fn with_etag(user: &User) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserView::own(user))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me).service(update_me).service(delete_me);
}
