//! A partner blocks the other: every active pairing of the two in the group ends, and
//! the block keeps them apart from then on (the database refuses such a pairing too).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tandem_domain::ids::{PairingId, UserId};
use tandem_domain::pairing::{Pairing, PairingStatus};
use tandem_domain::program::Program;
use tandem_domain::safety::{Block, BLOCK_END_REASON};
use tandem_persistence::{blocks, pairings, programs, DbConn};

use crate::workflows::{journey, notify, WorkflowError};

/// Records `by`'s block of their partner in `pairing` and ends what the two have going
/// in the group. The caller has checked that `by` may see the pairing; only a partner
/// may block (`Forbidden` otherwise).
pub fn block(
    conn: &mut DbConn,
    pairing: &Pairing,
    program: &Program,
    by: UserId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let block = Block::new(program.group_id, pairing, by, reason, now)?;
    // Every active pairing of the two in the group ends: this one, and any in
    // another of its programs (they would never be paired there again either).
    let mut ending: Vec<PairingId> =
        pairings::active_for_user_in_group(conn, program.group_id, block.blocker)?
            .into_iter()
            .filter(|p| p.partner_of(block.blocker) == Some(block.blocked))
            .map(|p| p.id)
            .chain([pairing.id])
            .collect();
    ending.sort();
    ending.dedup();
    // The programs' locks first, as every pairing write takes them, in id order
    // (this is the one write that may hold several); then each pairing as it is
    // now: an end or a completion committed meanwhile is seen.
    let mut program_ids = vec![program.id];
    for pairing_id in &ending {
        program_ids.push(pairings::find(conn, *pairing_id)?.program_id);
    }
    program_ids.sort();
    program_ids.dedup();
    let mut locked = HashMap::new();
    for program_id in program_ids {
        locked.insert(program_id, programs::find_locked(conn, program_id)?);
    }
    for pairing_id in ending {
        let found = pairings::find(conn, pairing_id)?;
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
        journey.end(by, BLOCK_END_REASON, now)?;
        if pairings::end(conn, &journey.pairing)? {
            notify::pairing_ended(conn, program, &journey.pairing, by, now)?;
        }
    }
    blocks::record(conn, &block)?;
    Ok(())
}
