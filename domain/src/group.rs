//! Community groups and memberships: who may do what inside a group.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{GroupId, MembershipId, UserId};
use crate::text::{self, Lines};
use crate::{DomainError, ValidationError};

/// A community group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub invite_code: String,
    /// Bumped on every change; the API's ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user's place in a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub id: MembershipId,
    pub group_id: GroupId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// A member's role in a group. Owners and admins manage the group; members take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins manage programs, members and roles.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// A group's name: 1–120 characters.
pub fn validate_group_name(name: &str) -> Result<String, ValidationError> {
    let raw = name;
    let name = text::clean(raw, "name", Lines::One)?;
    if name.is_empty() || text::length(raw, &name) > 120 {
        return Err(ValidationError::new("name", "must be 1 to 120 characters"));
    }
    Ok(name)
}

/// A group's description: at most 2000 characters, several lines allowed.
pub fn validate_group_description(description: &str) -> Result<String, ValidationError> {
    let raw = description;
    let description = text::clean(raw, "description", Lines::Many)?;
    if text::length(raw, &description) > 2000 {
        return Err(ValidationError::new(
            "description",
            "must be at most 2000 characters",
        ));
    }
    Ok(description)
}

/// Can `actor` (with `actor_role`) give `target` (now `target_role`) the role `new_role`?
///
/// Owners may change anyone's role; admins may move members and admins between
/// `member` and `admin` but never touch an owner or make one. The last owner cannot
/// be demoted, so a group always has someone who can manage it.
pub fn check_role_change(
    actor_role: Role,
    target_role: Role,
    new_role: Role,
    owner_count: usize,
) -> Result<(), DomainError> {
    if !actor_role.can_manage() {
        return Err(DomainError::Forbidden(
            "only owners and admins can change roles",
        ));
    }
    if actor_role == Role::Admin && (target_role == Role::Owner || new_role == Role::Owner) {
        return Err(DomainError::Forbidden(
            "only owners can grant or take the owner role",
        ));
    }
    if target_role == Role::Owner && new_role != Role::Owner && owner_count <= 1 {
        return Err(DomainError::Conflict(
            "the last owner cannot be demoted; make someone else owner first",
        ));
    }
    Ok(())
}

/// Can `actor` remove `target` from the group? Removing oneself is leaving.
pub fn check_removal(
    actor_is_target: bool,
    actor_role: Role,
    target_role: Role,
    owner_count: usize,
) -> Result<(), DomainError> {
    if !actor_is_target {
        if !actor_role.can_manage() {
            return Err(DomainError::Forbidden(
                "only owners and admins can remove members",
            ));
        }
        if actor_role == Role::Admin && target_role == Role::Owner {
            return Err(DomainError::Forbidden("admins cannot remove an owner"));
        }
    }
    if target_role == Role::Owner && owner_count <= 1 {
        return Err(DomainError::Conflict(
            "the last owner cannot leave; make someone else owner first",
        ));
    }
    Ok(())
}

/// The groups a member must hand over before deleting their account: those where they
/// are the only owner (a group is never left without one). Takes each group with the
/// member's role and its owner count.
pub fn groups_to_hand_over<G>(memberships: impl IntoIterator<Item = (G, Role, usize)>) -> Vec<G> {
    memberships
        .into_iter()
        .filter(|(_, role, owners)| *role == Role::Owner && *owners <= 1)
        .map(|(group, _, _)| group)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_groups_with_the_member_as_sole_owner_block_deletion() {
        let groups = [
            ("alone", Role::Owner, 1),
            ("shared", Role::Owner, 2),
            ("admin", Role::Admin, 1),
            ("member", Role::Member, 1),
        ];
        assert_eq!(super::groups_to_hand_over(groups), vec!["alone"]);
    }

    use super::*;
    use Role::*;

    #[test]
    fn group_texts_refuse_hidden_characters_and_keep_lines() {
        assert_eq!(
            validate_group_name("Mamme\u{202E}").err().map(|e| e.field),
            Some("name".to_owned())
        );
        assert_eq!(
            validate_group_description("a\u{200B}")
                .err()
                .map(|e| e.field),
            Some("description".to_owned())
        );
        assert_eq!(
            validate_group_description("Line one\r\nLine two"),
            Ok("Line one\nLine two".to_owned())
        );
    }

    #[test]
    fn members_cannot_change_roles() {
        assert!(matches!(
            check_role_change(Member, Member, Admin, 1),
            Err(DomainError::Forbidden(_))
        ));
    }

    #[test]
    fn admins_cannot_touch_owners() {
        assert!(check_role_change(Admin, Member, Admin, 1).is_ok());
        assert!(matches!(
            check_role_change(Admin, Member, Owner, 1),
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            check_role_change(Admin, Owner, Member, 2),
            Err(DomainError::Forbidden(_))
        ));
    }

    #[test]
    fn the_last_owner_stays() {
        assert!(matches!(
            check_role_change(Owner, Owner, Admin, 1),
            Err(DomainError::Conflict(_))
        ));
        assert!(check_role_change(Owner, Owner, Admin, 2).is_ok());
        assert!(matches!(
            check_removal(true, Owner, Owner, 1),
            Err(DomainError::Conflict(_))
        ));
        assert!(check_removal(true, Owner, Owner, 2).is_ok());
    }

    #[test]
    fn anyone_may_leave_but_only_managers_remove_others() {
        assert!(check_removal(true, Member, Member, 1).is_ok());
        assert!(matches!(
            check_removal(false, Member, Member, 1),
            Err(DomainError::Forbidden(_))
        ));
        assert!(check_removal(false, Admin, Member, 1).is_ok());
        assert!(matches!(
            check_removal(false, Admin, Owner, 2),
            Err(DomainError::Forbidden(_))
        ));
    }
}
