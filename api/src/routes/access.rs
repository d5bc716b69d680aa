//! Who may see and do what inside a group, checked against the stored membership.

use tandem_domain::group::Membership;
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

/// A program and the caller's membership of its group. Drafts are only for managers:
/// to members they do not exist.
pub fn program_for(
    conn: &mut DbConn,
    program_id: tandem_domain::ids::ProgramId,
    user: UserId,
) -> Result<(tandem_domain::program::Program, Membership), ApiError> {
    let program = tandem_persistence::programs::find(conn, program_id)
        .map_err(crate::error::not_found_as("program"))?;
    let membership = groups::membership(conn, program.group_id, user)?
        .ok_or_else(|| ApiError::not_found("program"))?;
    if program.status == tandem_domain::program::ProgramStatus::Draft
        && !membership.role.can_manage()
    {
        return Err(ApiError::not_found("program"));
    }
    Ok((program, membership))
}

/// Refuses with 403 unless the membership is an owner's or admin's.
pub fn require_manager(membership: &Membership) -> Result<(), ApiError> {
    if membership.role.can_manage() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the group's owners and admins can do this".into(),
        ))
    }
}
