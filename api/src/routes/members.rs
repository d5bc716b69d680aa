//! A group's members: list, change a role, remove (or leave).

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, patch, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::group::{check_removal, check_role_change, Membership, Role};
use tandem_domain::ids::{GroupId, MembershipId, UserId};
use tandem_persistence::groups::{self, MemberEntry};
use tandem_persistence::DbConn;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{self, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::access::member_of;
use crate::state::AppState;
use crate::workflows;

/// A member of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

impl From<MemberEntry> for MemberView {
    fn from(entry: MemberEntry) -> Self {
        Self {
            user_id: entry.membership.user_id.0,
            display_name: entry.display_name,
            role: entry.membership.role,
            joined_at: entry.membership.joined_at,
        }
    }
}

list_response!(
    MemberList,
    MemberView,
    "A page of a group's members, in the order they joined."
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    pub role: Role,
}

/// List a group's members.
#[utoipa::path(
    tag = "members",
    operation_id = "list_members",
    params(("group_id" = Uuid, Path, description = "The group"), PageParams),
    responses(
        (status = 200, description = "The group's members", body = MemberList),
        (status = 404, description = "No such group, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups/{group_id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let group_id = GroupId(path.into_inner());
    let page = page.0.parse::<MembershipId>()?;
    let members = state
        .read(move |conn| {
            member_of(conn, group_id, caller.0)?;
            Ok(groups::members(conn, group_id, page.after, page.limit)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MemberList::from_page(members.map(MemberView::from))))
}

/// A member as anyone in the group sees them, with the ETag: the membership's version
/// and a digest of the view, which also shows the member's display name (another row).
fn tagged_member(
    conn: &mut DbConn,
    membership: &Membership,
) -> Result<(String, MemberView), ApiError> {
    let display_name = tandem_persistence::users::find(conn, membership.user_id)?
        .display_name
        .as_str()
        .to_owned();
    let view = MemberView {
        user_id: membership.user_id.0,
        display_name,
        role: membership.role,
        joined_at: membership.joined_at,
    };
    let version = groups::membership_version(conn, membership.id)?;
    Ok((etag::of_view(version, &view), view))
}

/// Read one member of a group.
#[utoipa::path(
    tag = "members",
    operation_id = "get_member",
    params(
        ("group_id" = Uuid, Path, description = "The group"),
        ("user_id" = Uuid, Path, description = "The member"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The member", body = MemberView,
            headers(("ETag" = String, description = "Changes with the member's role and name"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 404, description = "No such group or member, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/groups/{group_id}/members/{user_id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let (group_id, user_id) = path.into_inner();
    let (group_id, target_id) = (GroupId(group_id), UserId(user_id));
    let (tag, view) = state
        .read(move |conn| {
            member_of(conn, group_id, caller.0)?;
            let target = groups::membership(conn, group_id, target_id)?
                .ok_or_else(|| ApiError::not_found("member"))?;
            tagged_member(conn, &target)
        })
        .await?;
    Ok(etag::respond(StatusCode::OK, tag, &view, &if_none_match))
}

/// Change a member's role.
#[utoipa::path(
    tag = "members",
    operation_id = "change_member_role",
    params(
        ("group_id" = Uuid, Path, description = "The group"),
        ("user_id" = Uuid, Path, description = "The member"),
        ("If-Match" = Option<String>, Header, description = "The member's ETag last seen; 412 if it changed since"),
    ),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "The member with the new role", body = MemberView,
            headers(("ETag" = String, description = "The member's new ETag"))),
        (status = 403, description = "Members cannot change roles; admins cannot touch owners", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or member, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot be demoted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/groups/{group_id}/members/{user_id}")]
pub async fn change_member_role(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: Json<ChangeRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let (group_id, user_id) = path.into_inner();
    let (group_id, target_id) = (GroupId(group_id), UserId(user_id));
    let new_role = body.0.role;
    let (tag, member) = state
        .write(move |conn| {
            // The lock first: the actor's own role is then read as it stands.
            groups::lock_group(conn, group_id).map_err(crate::error::not_found_as("group"))?;
            let actor = member_of(conn, group_id, caller.0)?;
            let target = groups::membership(conn, group_id, target_id)?
                .ok_or_else(|| ApiError::not_found("member"))?;
            let owners = groups::count_owners(conn, group_id)?;
            check_role_change(actor.role, target.role, new_role, owners)?;
            // Checked under the group's lock, which every membership change holds.
            if_match.check_tag(&tagged_member(conn, &target)?.0)?;
            groups::set_role(conn, target.id, new_role)?;
            let changed = Membership {
                role: new_role,
                ..target
            };
            tagged_member(conn, &changed)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(member))
}

/// Remove a member, or leave the group.
#[utoipa::path(
    tag = "members",
    operation_id = "remove_member",
    params(
        ("group_id" = Uuid, Path, description = "The group"),
        ("user_id" = Uuid, Path, description = "The member; the caller's own id leaves the group"),
        ("If-Match" = Option<String>, Header, description = "The member's ETag last seen; 412 if it changed since"),
    ),
    responses(
        (status = 204, description = "Removed (or left). Their active pairings in the group's programs end (partners are notified) and their enrolments are withdrawn."),
        (status = 403, description = "Only owners and admins remove others; admins cannot remove owners", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or member, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot leave", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/groups/{group_id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (group_id, user_id) = path.into_inner();
    let (group_id, target_id) = (GroupId(group_id), UserId(user_id));
    let now = state.now();
    state
        .write(move |conn| {
            // The lock first: the actor's own role is then read as it stands.
            groups::lock_group(conn, group_id).map_err(crate::error::not_found_as("group"))?;
            let actor = member_of(conn, group_id, caller.0)?;
            let target = groups::membership(conn, group_id, target_id)?
                .ok_or_else(|| ApiError::not_found("member"))?;
            let owners = groups::count_owners(conn, group_id)?;
            check_removal(
                actor.user_id == target.user_id,
                actor.role,
                target.role,
                owners,
            )?;
            if_match.check_tag(&tagged_member(conn, &target)?.0)?;
            workflows::membership::leave_programs(conn, group_id, target_id, caller.0, now)?;
            groups::delete_membership(conn, target.id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_members)
        .service(get_member)
        .service(change_member_role)
        .service(remove_member);
}
