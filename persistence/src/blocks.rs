//! Blocks: pairs of members never to be paired again in a group. A trigger on
//! `pairings` refuses such a pairing whatever path writes it (`BLOCKED_PAIR`).

use diesel::prelude::*;
use tandem_domain::ids::{GroupId, UserId};
use tandem_domain::safety::{Block, BlockedPairs};

use crate::convert::{parse_id, to_db_time};
use crate::schema::blocks;
use crate::{DbConn, StoreError};

/// Records a block. The pair is stored once, whoever blocked first: answers false when
/// the two were already blocked in the group (the first block and its reason stand).
pub fn record(conn: &mut DbConn, block: &Block) -> Result<bool, StoreError> {
    let (low, high) = block.pair();
    let row = (
        blocks::group_id.eq(block.group_id.to_string()),
        blocks::user_low.eq(low.to_string()),
        blocks::user_high.eq(high.to_string()),
        blocks::blocker_user_id.eq(block.blocker.to_string()),
        blocks::blocked_user_id.eq(block.blocked.to_string()),
        blocks::pairing_id.eq(block.pairing_id.to_string()),
        blocks::reason.eq(block.reason.as_str()),
        blocks::created_at.eq(to_db_time(block.created_at)),
    );
    // The key decides even between transactions that both looked first; the
    // multi-engine connection has no upsert, hence one per engine.
    let key = (blocks::group_id, blocks::user_low, blocks::user_high);
    let added = match conn {
        DbConn::Postgres(pg) => diesel::insert_into(blocks::table)
            .values(row)
            .on_conflict(key)
            .do_nothing()
            .execute(pg)?,
        DbConn::Sqlite(sqlite) => diesel::insert_into(blocks::table)
            .values(row)
            .on_conflict(key)
            .do_nothing()
            .execute(sqlite)?,
    };
    Ok(added == 1)
}

/// Whether either of the two blocked the other in the group.
pub fn between(
    conn: &mut DbConn,
    group_id: GroupId,
    a: UserId,
    b: UserId,
) -> Result<bool, StoreError> {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let found = blocks::table
        .find((group_id.to_string(), low.to_string(), high.to_string()))
        .select(blocks::group_id)
        .first::<String>(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Every blocked pair of a group, for scoring many pairs at once.
pub fn of_group(conn: &mut DbConn, group_id: GroupId) -> Result<BlockedPairs, StoreError> {
    let rows = blocks::table
        .filter(blocks::group_id.eq(group_id.to_string()))
        .select((blocks::user_low, blocks::user_high))
        .load::<(String, String)>(conn)?;
    let pairs = rows
        .into_iter()
        .map(|(low, high)| Ok((parse_id(&low, "user")?, parse_id(&high, "user")?)))
        .collect::<Result<Vec<(UserId, UserId)>, StoreError>>()?;
    Ok(BlockedPairs::new(pairs))
}

/// The blocks a user made, for their export: at most one per pairing they had.
pub fn made_by(conn: &mut DbConn, blocker: UserId) -> Result<Vec<Block>, StoreError> {
    blocks::table
        .filter(blocks::blocker_user_id.eq(blocker.to_string()))
        .select((
            blocks::group_id,
            blocks::blocked_user_id,
            blocks::pairing_id,
            blocks::reason,
            blocks::created_at,
        ))
        .order(blocks::created_at.asc())
        .load::<(String, String, String, String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(group, blocked, pairing, reason, created_at)| {
            Ok(Block {
                group_id: parse_id(&group, "group")?,
                blocker,
                blocked: parse_id(&blocked, "user")?,
                pairing_id: parse_id(&pairing, "pairing")?,
                reason,
                created_at: crate::convert::from_db_time(created_at),
            })
        })
        .collect()
}
