//! What leaving a group (or being removed) does to a member's programs.

use chrono::{DateTime, Utc};
use tandem_domain::ids::{GroupId, ProgramId, UserId};
use tandem_persistence::{enrolments, pairings, programs, DbConn};

use tandem_domain::pairing::PairingStatus;

use crate::workflows::{journey, notify, reminders, WorkflowError};

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
    // Every pairing's lock before any place is freed: the reminder job takes pairings,
    // then enrolments, and so does this.
    for pairing in &active {
        pairings::lock(conn, pairing.id)?;
    }
    let mut completed_places = Vec::new();
    for followed in journey::load(conn, active)? {
        let mut journey = followed.journey;
        if journey.status_at(now) == PairingStatus::Completed {
            // Its schedule ran out before the member left: it completed, and is recorded
            // so (read again under its lock, as the job does) rather than ended.
            pairings::lock(conn, journey.pairing.id)?;
            let pairing = pairings::find(conn, journey.pairing.id)?;
            let step = reminders::step(conn, pairing, now)?;
            completed_places.extend(step.places.into_iter().flatten());
            continue;
        }
        journey.end(actor, reason, now)?;
        let pairing = journey.pairing;
        if pairings::end(conn, &pairing)? {
            if let Some(program) = locked.iter().find(|p| p.id == pairing.program_id) {
                notify::pairing_ended(conn, program, &pairing, user_id, now)?;
            }
        }
    }
    reminders::free_places(conn, completed_places)?;
    // Re-read: ending pairings changed the enrolments' places and versions.
    for mut enrolment in enrolments::open_for_user_in_group(conn, group_id, user_id)? {
        enrolment.withdraw(now)?;
        enrolments::update(conn, &enrolment, now)?;
    }
    Ok(())
}
