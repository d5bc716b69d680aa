//! Notifications produced by the API's own actions. Content never goes in: a pair's
//! messages and notes are theirs alone.

use chrono::{DateTime, Utc};
use serde_json::json;
use tandem_domain::enrolment::{Enrolment, EnrolmentStatus};
use tandem_domain::ids::UserId;
use tandem_domain::pairing::Pairing;
use tandem_domain::program::Program;
use tandem_persistence::{notifications, DbConn};

use crate::workflows::WorkflowError;

pub const MATCHED: &str = "matched";
pub const PAIRING_ENDED: &str = "pairing_ended";
pub const ENROLMENT_APPROVED: &str = "enrolment_approved";
pub const ENROLMENT_DECLINED: &str = "enrolment_declined";

/// Both partners learn they were matched, and with whom.
pub fn matched(
    conn: &mut DbConn,
    program: &Program,
    pairing: &Pairing,
    mentor_name: &str,
    mentee_name: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    for (user, role, partner) in [
        (pairing.mentor.user_id, "mentor", mentee_name),
        (pairing.mentee.user_id, "mentee", mentor_name),
    ] {
        notifications::push(
            conn,
            user,
            MATCHED,
            &json!({
                "pairing_id": pairing.id,
                "program_id": program.id,
                "program_name": program.settings.name,
                "role": role,
                "partner_display_name": partner,
            }),
            now,
        )?;
    }
    Ok(())
}

/// The partners who did not end the pairing learn that it ended, and why.
pub fn pairing_ended(
    conn: &mut DbConn,
    program: &Program,
    pairing: &Pairing,
    ended_by: UserId,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    for user in [pairing.mentor.user_id, pairing.mentee.user_id] {
        if user == ended_by {
            continue;
        }
        notifications::push(
            conn,
            user,
            PAIRING_ENDED,
            &json!({
                "pairing_id": pairing.id,
                "program_id": program.id,
                "program_name": program.settings.name,
                "by_partner": pairing.involves(ended_by),
                "reason": pairing.end_reason,
            }),
            now,
        )?;
    }
    Ok(())
}

/// The member learns an admin's decision on their enrolment.
pub fn enrolment_decided(
    conn: &mut DbConn,
    program: &Program,
    enrolment: &Enrolment,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let kind = match enrolment.status {
        EnrolmentStatus::Active => ENROLMENT_APPROVED,
        EnrolmentStatus::Declined => ENROLMENT_DECLINED,
        _ => return Ok(()),
    };
    notifications::push(
        conn,
        enrolment.user_id,
        kind,
        &json!({
            "enrolment_id": enrolment.id,
            "program_id": program.id,
            "program_name": program.settings.name,
            "role": enrolment.role,
        }),
        now,
    )?;
    Ok(())
}
