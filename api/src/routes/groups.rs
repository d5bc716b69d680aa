//! Community groups: create, list mine, read, update, rotate the invite code, join.

use actix_web::{get, http::header, patch, post, web, HttpResponse};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tandem_domain::group::{
    validate_group_description, validate_group_name, Group, Membership, Role,
};
use tandem_domain::ids::{GroupId, MembershipId};
use tandem_persistence::{groups, StoreError};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{self, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::access::{manager_of, member_of};
use crate::state::AppState;

/// A group as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The caller's role in the group.
    pub my_role: Role,
    /// The code members join with; shown to owners and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl GroupView {
    pub fn new(group: Group, my_role: Role) -> Self {
        Self {
            id: group.id.0,
            invite_code: my_role.can_manage().then_some(group.invite_code),
            name: group.name,
            description: group.description,
            my_role,
            created_at: group.created_at,
        }
    }
}

list_response!(GroupList, GroupView, "A page of the caller's groups.");

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    /// 1–120 characters.
    #[schema(schema_with = crate::openapi::fields::one_line::<1, 120>, example = "Mamme di Torino")]
    pub name: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::fields::many_lines::<0, 2000>)]
    pub description: String,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroupRequest {
    #[schema(schema_with = crate::openapi::fields::one_line_or_null::<1, 120>)]
    pub name: Option<String>,
    #[schema(schema_with = crate::openapi::fields::many_lines_or_null::<0, 2000>)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64, pattern = "^[^\\u0000]*$")]
    pub invite_code: String,
}

/// A group as a member of `role` sees it, with its ETag: the version and a digest of the
/// view, since the caller's role and the invite code (managers only) vary per viewer.
fn tagged_group(group: Group, role: Role) -> (String, GroupView) {
    let version = group.version;
    let view = GroupView::new(group, role);
    (etag::of_view(version, &view), view)
}

fn group_response(status: actix_web::http::StatusCode, group: Group, role: Role) -> HttpResponse {
    let (tag, view) = tagged_group(group, role);
    HttpResponse::build(status)
        .insert_header((header::ETAG, tag))
        .json(view)
}

/// Create a group.
#[utoipa::path(
    tag = "groups",
    operation_id = "create_group",
    request_body = CreateGroupRequest,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = GroupView,
            headers(("ETag" = String, description = "The group's ETag as the caller sees it"))),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/groups")]
pub async fn create_group(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let name = validate_group_name(&body.name)
        .map_err(|e| errors.push(e.into()))
        .ok();
    let description = validate_group_description(&body.description)
        .map_err(|e| errors.push(e.into()))
        .ok();
    let (Some(name), Some(description)) = (name, description) else {
        return Err(ApiError::Validation(errors));
    };
    let now = state.now();
    let group = Group {
        id: GroupId::new_v7(now),
        name,
        description,
        invite_code: new_invite_code(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let owner = Membership {
        id: MembershipId::new_v7(now),
        group_id: group.id,
        user_id: caller.0,
        role: Role::Owner,
        joined_at: now,
    };
    let group = state
        .write(move |conn| {
            groups::insert_group(conn, &group)?;
            groups::insert_membership(conn, &owner)?;
            Ok(group)
        })
        .await?;
    Ok(group_response(
        actix_web::http::StatusCode::CREATED,
        group,
        Role::Owner,
    ))
}

/// List the caller's groups.
#[utoipa::path(
    tag = "groups",
    operation_id = "list_my_groups",
    params(PageParams),
    responses(
        (status = 200, description = "The caller's groups, in the order joined", body = GroupList),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups")]
pub async fn list_my_groups(
    state: web::Data<AppState>,
    caller: AuthUser,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = page.0.parse::<MembershipId>()?;
    let groups = state
        .read(move |conn| {
            Ok(groups::groups_of_user(
                conn, caller.0, page.after, page.limit,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(GroupList::from_page(
        groups.map(|(group, membership)| GroupView::new(group, membership.role)),
    )))
}

/// Read a group.
#[utoipa::path(
    tag = "groups",
    operation_id = "get_group",
    params(("group_id" = Uuid, Path, description = "The group"), ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current")),
    responses(
        (status = 200, description = "The group", body = GroupView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups/{group_id}")]
pub async fn get_group(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let (group, role) = state
        .read(move |conn| {
            let membership = member_of(conn, group_id, caller.0)?;
            Ok((groups::find_group(conn, group_id)?, membership.role))
        })
        .await?;
    let (tag, view) = tagged_group(group, role);
    Ok(etag::respond(
        actix_web::http::StatusCode::OK,
        tag,
        &view,
        &if_none_match,
    ))
}

/// Update a group.
#[utoipa::path(
    tag = "groups",
    operation_id = "update_group",
    params(("group_id" = Uuid, Path, description = "The group"), ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since")),
    request_body = UpdateGroupRequest,
    responses(
        (status = 200, description = "The updated group", body = GroupView,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/groups/{group_id}")]
pub async fn update_group(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let body = body.0;
    let mut errors = Vec::new();
    let name = body
        .name
        .as_deref()
        .map(validate_group_name)
        .transpose()
        .map_err(|e| errors.push(e.into()))
        .ok()
        .flatten();
    let description = body
        .description
        .as_deref()
        .map(validate_group_description)
        .transpose()
        .map_err(|e| errors.push(e.into()))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.now();
    let (group, role) = state
        .write(move |conn| {
            let membership = manager_of(conn, group_id, caller.0)?;
            groups::lock_group(conn, group_id)?;
            let mut group = groups::find_group(conn, group_id)?;
            if_match.check_tag(&tagged_group(group.clone(), membership.role).0)?;
            if let Some(name) = name {
                group.name = name;
            }
            if let Some(description) = description {
                group.description = description;
            }
            Ok((groups::update_group(conn, &group, now)?, membership.role))
        })
        .await?;
    Ok(group_response(actix_web::http::StatusCode::OK, group, role))
}

/// Rotate a group's invite code.
#[utoipa::path(
    tag = "groups",
    operation_id = "rotate_invite_code",
    params(
        ("group_id" = Uuid, Path, description = "The group"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "The group with a new invite code; the old one stops working", body = GroupView,
            headers(("ETag" = String, description = "The group's ETag as the caller sees it"))),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/groups/{group_id}/invite-code")]
pub async fn rotate_invite_code(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let now = state.now();
    let (group, role) = state
        .write(move |conn| {
            let membership = manager_of(conn, group_id, caller.0)?;
            // Locked first, like a PATCH: the whole row is written back, so reading it
            // unlocked could undo a rename committed meanwhile.
            groups::lock_group(conn, group_id)?;
            let mut group = groups::find_group(conn, group_id)?;
            if_match.check_tag(&tagged_group(group.clone(), membership.role).0)?;
            group.invite_code = new_invite_code();
            Ok((groups::update_group(conn, &group, now)?, membership.role))
        })
        .await?;
    Ok(group_response(actix_web::http::StatusCode::OK, group, role))
}

/// Join a group with its invite code.
#[utoipa::path(
    tag = "groups",
    operation_id = "join_group",
    params(("group_id" = Uuid, Path, description = "The group")),
    request_body = JoinRequest,
    responses(
        (status = 200, description = "The caller is a member (joining twice changes nothing)", body = GroupView,
            headers(("ETag" = String, description = "The group's ETag as the caller sees it"))),
        (status = 404, description = "No such group, or the invite code is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/groups/{group_id}/join")]
pub async fn join_group(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<JoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let code = body.0.invite_code.trim().to_ascii_uppercase();
    let now = state.now();
    let (group, role) = state
        .write(move |conn| {
            // A join racing the caller's account deletion lands before it (and is left
            // with the rest) or is refused: no "Deleted member" joins a group.
            crate::error::lock_caller(conn, caller.0)?;
            let group =
                groups::find_group(conn, group_id).map_err(crate::error::not_found_as("group"))?;
            // The same answer for a wrong code as for no group: codes cannot be probed.
            if !constant_time_eq(group.invite_code.as_bytes(), code.as_bytes()) {
                return Err(ApiError::not_found("group"));
            }
            if let Some(existing) = groups::membership(conn, group_id, caller.0)? {
                return Ok((group, existing.role));
            }
            let membership = Membership {
                id: MembershipId::new_v7(now),
                group_id,
                user_id: caller.0,
                role: Role::Member,
                joined_at: now,
            };
            // Two joins at once: the second finds the first's membership (in a
            // savepoint, so PostgreSQL's transaction survives the refused insert).
            match tandem_persistence::db::savepoint(conn, |c| {
                groups::insert_membership(c, &membership)
            }) {
                Ok(()) => Ok((group, Role::Member)),
                Err(StoreError::Constraint(_)) => {
                    let existing = groups::membership(conn, group_id, caller.0)?
                        .ok_or_else(|| ApiError::Conflict("joining failed; try again".into()))?;
                    Ok((group, existing.role))
                }
                Err(other) => Err(other.into()),
            }
        })
        .await?;
    Ok(group_response(actix_web::http::StatusCode::OK, group, role))
}

/// 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L): about 50 bits.
pub(crate) fn new_invite_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_group)
        .service(list_my_groups)
        .service(get_group)
        .service(update_group)
        .service(rotate_invite_code)
        .service(join_group);
}
