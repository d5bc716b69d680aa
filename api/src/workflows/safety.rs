//! A partner blocks the other: every active pairing of the two in the group ends, and
//! the block keeps them apart from then on (the database refuses such a pairing too).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tandem_domain::ids::{ProgramId, UserId};
use tandem_domain::pairing::{Pairing, PairingStatus};
use tandem_domain::program::Program;
use tandem_domain::safety::{Block, BLOCK_END_REASON};
use tandem_persistence::{blocks, db, groups, pairings, programs, DbConn};

use crate::workflows::{journey, notify, WorkflowError};

/// Records `by`'s block of their partner in `pairing` and ends what the two have going
/// in the group. The caller has checked that `by` may see the pairing; only a partner
/// may block (`Forbidden` otherwise).
///
/// A pairing of the two being made at the same instant in another program is ordered
/// against the block by the two members' locks, which `pairing::make` takes too. The lock
/// order is programs, then memberships, then pairings and enrolments, so the programs to
/// lock are those of the pairings read before the member locks; one made meanwhile in a
/// program not locked sends the attempt back to its savepoint (which releases every lock
/// it took), to lock that program too, in order. Programs of a group are few, and each
/// retry adds one, so this ends.
pub fn block(
    conn: &mut DbConn,
    pairing: &Pairing,
    program: &Program,
    by: UserId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let block = Block::new(program.group_id, pairing, by, reason, now)?;
    let mut program_ids: Vec<ProgramId> = active_between(conn, &block)?
        .iter()
        .map(|p| p.program_id)
        .chain([program.id])
        .collect();
    loop {
        program_ids.sort();
        program_ids.dedup();
        match db::savepoint(conn, |conn| attempt(conn, &block, &program_ids, now)) {
            Ok(()) => return Ok(()),
            Err(Attempt::Missed(more)) => program_ids.extend(more),
            Err(Attempt::Failed(error)) => return Err(error),
        }
    }
}

/// Why one attempt at a block was undone.
enum Attempt {
    /// A pairing of the two is in these programs, which the attempt had not locked.
    Missed(Vec<ProgramId>),
    Failed(WorkflowError),
}

impl<E: Into<WorkflowError>> From<E> for Attempt {
    fn from(error: E) -> Self {
        Attempt::Failed(error.into())
    }
}

/// Locks the programs (in id order: this is the one write holding several), then the
/// two members; reads the two's active pairings again under those locks, ends them all
/// and records the block.
fn attempt(
    conn: &mut DbConn,
    block: &Block,
    program_ids: &[ProgramId],
    now: DateTime<Utc>,
) -> Result<(), Attempt> {
    let mut locked = HashMap::new();
    for program_id in program_ids {
        locked.insert(*program_id, programs::find_locked(conn, *program_id)?);
    }
    groups::lock_members(conn, block.group_id, &[block.blocker, block.blocked])?;
    // Every pairing of the two committed before the member locks is seen now, and none
    // can be made until the block commits (it then sees the block and is refused).
    let ending = active_between(conn, block)?;
    let missed: Vec<ProgramId> = ending
        .iter()
        .map(|p| p.program_id)
        .filter(|id| !locked.contains_key(id))
        .collect();
    if !missed.is_empty() {
        return Err(Attempt::Missed(missed));
    }
    for found in ending {
        let Some(program) = locked.get(&found.program_id) else {
            continue;
        };
        let mut journey = journey::of(conn, found, program)?;
        // A pairing whose schedule ran out is completed, not ended: the block
        // alone holds, and the reminder job records the completion.
        if journey.status_at(now) != PairingStatus::Active {
            continue;
        }
        // The neutral reason: the blocked partner must not learn of the block.
        journey.end(block.blocker, BLOCK_END_REASON, now)?;
        if pairings::end(conn, &journey.pairing)? {
            notify::pairing_ended(conn, program, &journey.pairing, block.blocker, now)?;
        }
    }
    blocks::record(conn, block)?;
    Ok(())
}

/// Every active pairing of the two in the group, this one and any in its other programs
/// (they would never be paired there again either).
fn active_between(conn: &mut DbConn, block: &Block) -> Result<Vec<Pairing>, WorkflowError> {
    Ok(
        pairings::active_for_user_in_group(conn, block.group_id, block.blocker)?
            .into_iter()
            .filter(|p| p.partner_of(block.blocker) == Some(block.blocked))
            .collect(),
    )
}
