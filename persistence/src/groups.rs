//! Groups and memberships.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tandem_domain::group::{Group, Membership, Role};
use tandem_domain::ids::{GroupId, MembershipId, UserId};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::page::load_page;
use crate::schema::{community_groups, memberships, users};
use crate::{DbConn, Page, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = community_groups)]
struct GroupRow {
    id: String,
    name: String,
    description: String,
    invite_code: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<GroupRow> for Group {
    type Error = StoreError;
    fn try_from(row: GroupRow) -> Result<Self, StoreError> {
        Ok(Group {
            id: parse_id(&row.id, "group")?,
            name: row.name,
            description: row.description,
            invite_code: row.invite_code,
            version: row.version,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = memberships)]
struct MembershipRow {
    id: String,
    group_id: String,
    user_id: String,
    role: String,
    joined_at: NaiveDateTime,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(row: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership {
            id: parse_id(&row.id, "membership")?,
            group_id: parse_id(&row.group_id, "group")?,
            user_id: parse_id(&row.user_id, "user")?,
            role: Role::parse(&row.role).ok_or_else(|| corrupt(format!("role {:?}", row.role)))?,
            joined_at: from_db_time(row.joined_at),
        })
    }
}

/// What a group writes on insert.
#[derive(Insertable)]
#[diesel(table_name = community_groups)]
struct NewGroup<'a> {
    id: String,
    version: i64,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    changes: GroupChanges<'a>,
}

/// The columns of a group that change: written whole by an insert and by an update
/// (which bumps the version beside it).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = community_groups)]
struct GroupChanges<'a> {
    name: &'a str,
    description: &'a str,
    invite_code: &'a str,
    updated_at: NaiveDateTime,
}

impl<'a> GroupChanges<'a> {
    fn of(group: &'a Group, updated_at: DateTime<Utc>) -> Self {
        Self {
            name: &group.name,
            description: &group.description,
            invite_code: &group.invite_code,
            updated_at: to_db_time(updated_at),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = memberships)]
struct NewMembership<'a> {
    id: String,
    group_id: String,
    user_id: String,
    role: &'a str,
    joined_at: NaiveDateTime,
}

impl<'a> From<&'a Membership> for NewMembership<'a> {
    fn from(membership: &'a Membership) -> Self {
        Self {
            id: membership.id.to_string(),
            group_id: membership.group_id.to_string(),
            user_id: membership.user_id.to_string(),
            role: membership.role.as_str(),
            joined_at: to_db_time(membership.joined_at),
        }
    }
}

pub fn insert_group(conn: &mut DbConn, group: &Group) -> Result<(), StoreError> {
    diesel::insert_into(community_groups::table)
        .values(NewGroup {
            id: group.id.to_string(),
            version: group.version,
            created_at: to_db_time(group.created_at),
            changes: GroupChanges::of(group, group.updated_at),
        })
        .execute(conn)?;
    Ok(())
}

pub fn find_group(conn: &mut DbConn, id: GroupId) -> Result<Group, StoreError> {
    community_groups::table
        .find(id.to_string())
        .select(GroupRow::as_select())
        .first(conn)?
        .try_into()
}

/// Takes the group's row lock for the rest of the transaction (a no-op update, which
/// works on both engines), so concurrent membership changes of one group run one
/// after another and rules such as "the last owner stays" hold.
pub fn lock_group(conn: &mut DbConn, id: GroupId) -> Result<(), StoreError> {
    let key = id.to_string();
    let locked = diesel::update(community_groups::table.find(&key))
        .set(community_groups::id.eq(&key))
        .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Writes a group's name, description and invite code, bumping its version.
pub fn update_group(
    conn: &mut DbConn,
    group: &Group,
    now: DateTime<Utc>,
) -> Result<Group, StoreError> {
    diesel::update(community_groups::table.find(group.id.to_string()))
        .set((
            GroupChanges::of(group, now),
            community_groups::version.eq(community_groups::version + 1),
        ))
        .execute(conn)?;
    find_group(conn, group.id)
}

pub fn insert_membership(conn: &mut DbConn, membership: &Membership) -> Result<(), StoreError> {
    diesel::insert_into(memberships::table)
        .values(NewMembership::from(membership))
        .execute(conn)?;
    Ok(())
}

/// Takes the row locks of these users' memberships of the group for the rest of the
/// transaction (a no-op update per row, which both engines lock): a pairing of two
/// members and a block between them, in any programs of the group, then happen one
/// after the other. One statement per user, in user-id order, so two writers never take
/// them in opposite orders. A user with no membership (one who left) has no row to
/// lock; their enrolments were withdrawn, which the pairing's own checks refuse.
pub fn lock_members(
    conn: &mut DbConn,
    group_id: GroupId,
    users: &[UserId],
) -> Result<(), StoreError> {
    let mut users = users.to_vec();
    users.sort();
    users.dedup();
    let group = group_id.to_string();
    for user in users {
        diesel::update(
            memberships::table
                .filter(memberships::group_id.eq(&group))
                .filter(memberships::user_id.eq(user.to_string())),
        )
        .set(memberships::id.eq(memberships::id))
        .execute(conn)?;
    }
    Ok(())
}

/// The user's membership of the group, if any.
pub fn membership(
    conn: &mut DbConn,
    group_id: GroupId,
    user_id: UserId,
) -> Result<Option<Membership>, StoreError> {
    memberships::table
        .filter(memberships::group_id.eq(group_id.to_string()))
        .filter(memberships::user_id.eq(user_id.to_string()))
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()?
        .map(Membership::try_from)
        .transpose()
}

/// The groups a user belongs to, in the order they joined, with their membership.
pub fn groups_of_user(
    conn: &mut DbConn,
    user_id: UserId,
    after: Option<MembershipId>,
    limit: usize,
) -> Result<Page<(Group, Membership), MembershipId>, StoreError> {
    let mut query = memberships::table
        .inner_join(community_groups::table)
        .filter(memberships::user_id.eq(user_id.to_string()))
        .select((GroupRow::as_select(), MembershipRow::as_select()))
        .order(memberships::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(memberships::id.gt(after.to_string()));
    }
    load_page(
        conn,
        query,
        limit,
        |(g, m): (GroupRow, MembershipRow)| Ok((Group::try_from(g)?, Membership::try_from(m)?)),
        |(_, m)| m.id,
    )
}

/// A member of a group as listed: the membership and the member's display name.
pub struct MemberEntry {
    pub membership: Membership,
    pub display_name: String,
}

pub fn members(
    conn: &mut DbConn,
    group_id: GroupId,
    after: Option<MembershipId>,
    limit: usize,
) -> Result<Page<MemberEntry, MembershipId>, StoreError> {
    let mut query = memberships::table
        .inner_join(users::table)
        .filter(memberships::group_id.eq(group_id.to_string()))
        .select((MembershipRow::as_select(), users::display_name))
        .order(memberships::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(memberships::id.gt(after.to_string()));
    }
    load_page(
        conn,
        query,
        limit,
        |(m, display_name): (MembershipRow, String)| {
            Ok(MemberEntry {
                membership: Membership::try_from(m)?,
                display_name,
            })
        },
        |e| e.membership.id,
    )
}

pub fn count_owners(conn: &mut DbConn, group_id: GroupId) -> Result<usize, StoreError> {
    let count: i64 = memberships::table
        .filter(memberships::group_id.eq(group_id.to_string()))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(count).unwrap_or(0))
}

pub fn set_role(conn: &mut DbConn, id: MembershipId, role: Role) -> Result<(), StoreError> {
    diesel::update(memberships::table.find(id.to_string()))
        .set((
            memberships::role.eq(role.as_str()),
            memberships::version.eq(memberships::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// A membership's version, for the member's ETag.
pub fn membership_version(conn: &mut DbConn, id: MembershipId) -> Result<i64, StoreError> {
    Ok(memberships::table
        .find(id.to_string())
        .select(memberships::version)
        .first(conn)?)
}

pub fn delete_membership(conn: &mut DbConn, id: MembershipId) -> Result<(), StoreError> {
    diesel::delete(memberships::table.find(id.to_string())).execute(conn)?;
    Ok(())
}
