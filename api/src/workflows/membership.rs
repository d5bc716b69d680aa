//! What leaving a group (or being removed) does to a member's programs.

use chrono::{DateTime, Utc};
use tandem_domain::ids::{GroupId, ProgramId, UserId};
use tandem_persistence::{enrolments, pairings, programs, DbConn};

use crate::workflows::{notify, WorkflowError};

/// Ends the member's active pairings in the group's programs (their partners are told)
/// and withdraws their pending and active enrolments, so someone no longer in the group
/// is neither paired nor suggested there again. Runs in the caller's transaction, which
/// already holds the group's lock.
pub fn leave_programs(
    conn: &mut DbConn,
    group_id: GroupId,
    user_id: UserId,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let active = pairings::active_for_user_in_group(conn, group_id, user_id)?;
    let open = enrolments::open_for_user_in_group(conn, group_id, user_id)?;
    let mut program_ids: Vec<ProgramId> = active
        .iter()
        .map(|p| p.program_id)
        .chain(open.iter().map(|e| e.program_id))
        .collect();
    program_ids.sort();
    program_ids.dedup();
    // Program locks in id order, like every multi-enrolment write (see programs::lock).
    let mut locked = Vec::with_capacity(program_ids.len());
    for id in program_ids {
        locked.push(programs::find_locked(conn, id)?);
    }
    let reason = if actor == user_id {
        "left the group"
    } else {
        "no longer a member of the group"
    };
    for mut pairing in active {
        pairing.end(actor, reason, now)?;
        if pairings::end(conn, &pairing)? {
            if let Some(program) = locked.iter().find(|p| p.id == pairing.program_id) {
                notify::pairing_ended(conn, program, &pairing, user_id, now)?;
            }
        }
    }
    // Re-read: ending pairings changed the enrolments' places and versions.
    for mut enrolment in enrolments::open_for_user_in_group(conn, group_id, user_id)? {
        enrolment.withdraw(now)?;
        enrolments::update(conn, &enrolment, now)?;
    }
    Ok(())
}
