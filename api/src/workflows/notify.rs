//! Notifications produced by the API's own actions. Content never goes in: a pair's
//! messages and notes are theirs alone.

use chrono::{DateTime, Utc};
use tandem_domain::enrolment::{Enrolment, EnrolmentRole, EnrolmentStatus};
use tandem_domain::ids::UserId;
use tandem_domain::notification::{
    EnrolmentDecidedData, MatchedData, NewMessagesData, NotificationPayload, PairingEndedData,
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

/// Marking a notification unread again must not leave two unread where events
/// coalesce into one (a pairing's new messages): refused while a newer one is unread,
/// which already counts the messages since. Under the pairing's lock, which posting a
/// message holds too.
pub fn check_may_mark_unread(
    conn: &mut DbConn,
    reader: UserId,
    id: tandem_domain::ids::NotificationId,
) -> Result<(), WorkflowError> {
    let target = notifications::find_own(conn, reader, id)?;
    let Some(pairing) = target.payload.coalesces_for() else {
        return Ok(());
    };
    tandem_persistence::pairings::lock(conn, pairing)?;
    let kind = target.payload.kind();
    let newer_unread = notifications::unread_of_kind(conn, reader, kind)?
        .iter()
        .any(|n| n.id != id && n.payload.coalesces_for() == Some(pairing));
    if newer_unread {
        return Err(WorkflowError::Conflict(
            "another unread notification of this pairing's new messages already counts them: mark that one instead".into(),
        ));
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

/// The partner who did not write learns that there is something new in the pair space:
/// one unread `new_messages` notification per pairing, counting the messages since they
/// last read one. The caller holds the pairing's lock (`pairings::lock`), so the posts
/// of one pairing run one after another and two messages at once cannot both find no
/// unread notification and add two. A notification the partner marks read meanwhile is
/// not changed: the update re-checks `read_at`, and a new one is added instead.
///
/// The notification keeps its id and `created_at` (when the first unread message came)
/// and only its `data` changes: a client that holds its id can still mark it read, and
/// `data.latest_at` says how fresh it is.
pub fn new_message(
    conn: &mut DbConn,
    program: &Program,
    pairing: &Pairing,
    author: UserId,
    author_name: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let Some(reader) = pairing.partner_of(author) else {
        return Ok(());
    };
    let unread = notifications::unread_of_kind(conn, reader, "new_messages")?;
    let earlier = unread
        .into_iter()
        .filter(|n| n.payload.coalesces_for() == Some(pairing.id))
        .find_map(|n| match n.payload {
            NotificationPayload::NewMessages(data) => Some((n.id, data)),
            _ => None,
        });
    let fresh = NewMessagesData {
        pairing_id: pairing.id,
        program_id: program.id,
        program_name: program.settings.name.clone(),
        partner_display_name: author_name.to_owned(),
        count: 1,
        latest_at: now,
    };
    if let Some((id, data)) = earlier {
        let payload = NotificationPayload::NewMessages(NewMessagesData {
            count: data.count.saturating_add(1),
            ..fresh.clone()
        });
        if notifications::update_unread(conn, id, &payload)? {
            return Ok(());
        }
    }
    notifications::push(conn, reader, &NotificationPayload::NewMessages(fresh), now)?;
    Ok(())
}
