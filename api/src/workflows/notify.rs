//! Notifications produced by the API's own actions. Content never goes in: a pair's
//! messages and notes are theirs alone.

use chrono::{DateTime, Utc};
use tandem_domain::enrolment::{Enrolment, EnrolmentRole, EnrolmentStatus};
use tandem_domain::ids::UserId;
use tandem_domain::notification::{
    EnrolmentDecidedData, MatchedData, NotificationPayload, PairingEndedData,
};
use tandem_domain::pairing::Pairing;
use tandem_domain::program::Program;
use tandem_persistence::{notifications, DbConn};

use crate::workflows::WorkflowError;

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
        (pairing.mentor.user_id, EnrolmentRole::Mentor, mentee_name),
        (pairing.mentee.user_id, EnrolmentRole::Mentee, mentor_name),
    ] {
        let payload = NotificationPayload::Matched(MatchedData {
            pairing_id: pairing.id,
            program_id: program.id,
            program_name: program.settings.name.clone(),
            role,
            partner_display_name: partner.to_owned(),
        });
        notifications::push(conn, user, &payload, now)?;
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
        let payload = NotificationPayload::PairingEnded(PairingEndedData {
            pairing_id: pairing.id,
            program_id: program.id,
            program_name: program.settings.name.clone(),
            by_partner: pairing.involves(ended_by),
            reason: pairing.end_reason.clone().unwrap_or_default(),
        });
        notifications::push(conn, user, &payload, now)?;
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
    let data = EnrolmentDecidedData {
        enrolment_id: enrolment.id,
        program_id: program.id,
        program_name: program.settings.name.clone(),
        role: enrolment.role,
    };
    let payload = match enrolment.status {
        EnrolmentStatus::Active => NotificationPayload::EnrolmentApproved(data),
        EnrolmentStatus::Declined => NotificationPayload::EnrolmentDeclined(data),
        _ => return Ok(()),
    };
    notifications::push(conn, enrolment.user_id, &payload, now)?;
    Ok(())
}
