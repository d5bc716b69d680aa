//! Who may see and do what inside a group, checked against the stored membership.

use tandem_domain::group::{Membership, Role};
use tandem_domain::ids::{GroupId, UserId};
use tandem_persistence::{groups, DbConn};

use crate::error::ApiError;

/// The caller's membership; a non-member learns nothing, not even that the group exists.
pub fn member_of(
    conn: &mut DbConn,
    group_id: GroupId,
    user: UserId,
) -> Result<Membership, ApiError> {
    groups::membership(conn, group_id, user)?.ok_or_else(|| ApiError::not_found("group"))
}

/// The caller's membership, which must be an owner's or admin's.
pub fn manager_of(
    conn: &mut DbConn,
    group_id: GroupId,
    user: UserId,
) -> Result<Membership, ApiError> {
    let membership = member_of(conn, group_id, user)?;
    if membership.role.can_manage() {
        Ok(membership)
    } else {
        Err(ApiError::Forbidden(
            "only the group's owners and admins can do this".into(),
        ))
    }
}

pub fn is_manager(role: Role) -> bool {
    role.can_manage()
}
