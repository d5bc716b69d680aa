//! Notifications: what a member is told, one typed payload per kind.
//!
//! Only ids, names and short texts go in, never a pair's messages or notes. Stored as
//! the kind's name beside its data as JSON, so the names and field names below are a
//! stored format: a new kind is a new variant, and a field added to an existing kind
//! needs a default for the rows already stored.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::enrolment::EnrolmentRole;
use crate::ids::{EnrolmentId, PairingId, ProgramId};

/// What happened, with the data a client needs to show it. Serialised as
/// `{"kind": "...", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum NotificationPayload {
    /// The member was paired.
    Matched(MatchedData),
    /// A partner or an admin ended the member's pairing early.
    PairingEnded(PairingEndedData),
    /// An admin approved the member's pending enrolment.
    EnrolmentApproved(EnrolmentDecidedData),
    /// An admin declined the member's pending enrolment.
    EnrolmentDeclined(EnrolmentDecidedData),
    /// A check-in's day has come, in the member's time zone.
    CheckInDue(CheckInNoticeData),
    /// A check-in's window closed without an entry from either partner.
    CheckInMissed(CheckInNoticeData),
    /// The pairing's last check-in window closed: the program is done.
    PairingCompleted(PairingCompletedData),
    /// The partner wrote in the pair space: one unread notification per pairing,
    /// counting the messages since the member last read one.
    NewMessages(NewMessagesData),
}

impl NotificationPayload {
    /// The pairing whose unread notifications of this kind coalesce into one (new
    /// messages); `None` for kinds where every event is its own notification.
    pub fn coalesces_for(&self) -> Option<PairingId> {
        match self {
            NotificationPayload::NewMessages(data) => Some(data.pairing_id),
            _ => None,
        }
    }

    /// The kind's stored and published name.
    pub fn kind(&self) -> &'static str {
        match self {
            NotificationPayload::Matched(_) => "matched",
            NotificationPayload::PairingEnded(_) => "pairing_ended",
            NotificationPayload::EnrolmentApproved(_) => "enrolment_approved",
            NotificationPayload::EnrolmentDeclined(_) => "enrolment_declined",
            NotificationPayload::CheckInDue(_) => "check_in_due",
            NotificationPayload::CheckInMissed(_) => "check_in_missed",
            NotificationPayload::PairingCompleted(_) => "pairing_completed",
            NotificationPayload::NewMessages(_) => "new_messages",
        }
    }
}

impl NotificationPayload {
    /// Forgets what a partner who deleted their account put in this notification: their
    /// name becomes the deleted-account label, and a reason they wrote when ending the
    /// pairing goes. `pairings` are the deleted member's; true when anything changed.
    pub fn forget_partner(&mut self, pairings: &std::collections::HashSet<PairingId>) -> bool {
        let deleted = crate::user::DisplayName::DELETED;
        let name = match self {
            NotificationPayload::Matched(d) if pairings.contains(&d.pairing_id) => {
                &mut d.partner_display_name
            }
            NotificationPayload::CheckInDue(d) | NotificationPayload::CheckInMissed(d)
                if pairings.contains(&d.pairing_id) =>
            {
                &mut d.partner_display_name
            }
            NotificationPayload::PairingCompleted(d) if pairings.contains(&d.pairing_id) => {
                &mut d.partner_display_name
            }
            NotificationPayload::NewMessages(d) if pairings.contains(&d.pairing_id) => {
                &mut d.partner_display_name
            }
            NotificationPayload::PairingEnded(d)
                if d.by_partner && pairings.contains(&d.pairing_id) =>
            {
                let changed = d.reason != REASON_FORGOTTEN;
                d.reason = REASON_FORGOTTEN.into();
                return changed;
            }
            _ => return false,
        };
        let changed = name != deleted;
        *name = deleted.into();
        changed
    }
}

/// A deleted partner's reason for ending a pairing, as their partner's feed keeps it.
pub const REASON_FORGOTTEN: &str = "(the member deleted their account)";

/// `matched`: who the member was paired with, and in which role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchedData {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub pairing_id: PairingId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub program_id: ProgramId,
    pub program_name: String,
    /// The member's own side in the pairing.
    pub role: EnrolmentRole,
    pub partner_display_name: String,
}

/// `pairing_ended`: which pairing ended, by whom and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairingEndedData {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub pairing_id: PairingId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub program_id: ProgramId,
    pub program_name: String,
    /// True when the partner ended it, false when an admin did.
    pub by_partner: bool,
    /// The reason given when ending it.
    pub reason: String,
}

/// `enrolment_approved` and `enrolment_declined`: the enrolment an admin decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentDecidedData {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub enrolment_id: EnrolmentId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub program_id: ProgramId,
    pub program_name: String,
    pub role: EnrolmentRole,
}

/// `check_in_due` and `check_in_missed`: which check-in, when, and its topic's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckInNoticeData {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub pairing_id: PairingId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub program_id: ProgramId,
    pub program_name: String,
    /// The check-in's number, 1-based.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 52))]
    pub number: u16,
    pub due_on: NaiveDate,
    /// The last day it can be completed.
    pub closes_on: NaiveDate,
    /// The title of the guide week it is about.
    pub topic_title: String,
    pub partner_display_name: String,
}

/// `pairing_completed`: the pairing followed its schedule to the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairingCompletedData {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub pairing_id: PairingId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub program_id: ProgramId,
    pub program_name: String,
    /// How many of the check-ins were completed.
    pub completed_check_ins: u16,
    pub check_ins: u16,
    pub partner_display_name: String,
}

/// `new_messages`: how many messages the partner wrote since the member last read this
/// kind of notification for the pairing, and when the latest came. Never their text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMessagesData {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub pairing_id: PairingId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub program_id: ProgramId,
    pub program_name: String,
    /// Who wrote them: the member's partner.
    pub partner_display_name: String,
    /// Messages since the notification was created, at least 1.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub count: u32,
    /// When the latest of them was posted.
    pub latest_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> chrono::DateTime<chrono::Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_deleted_partner_is_forgotten_only_in_their_pairings() {
        let theirs = PairingId::new_v7(at());
        let other = PairingId::new_v7(at());
        let program_id = ProgramId::new_v7(at());
        let matched = |pairing_id| {
            NotificationPayload::Matched(MatchedData {
                pairing_id,
                program_id,
                program_name: "Neo genitori".into(),
                role: EnrolmentRole::Mentee,
                partner_display_name: "Giulia".into(),
            })
        };
        let deleted: std::collections::HashSet<_> = [theirs].into();
        let mut about_them = matched(theirs);
        assert!(about_them.forget_partner(&deleted));
        assert_eq!(
            about_them,
            NotificationPayload::Matched(MatchedData {
                pairing_id: theirs,
                program_id,
                program_name: "Neo genitori".into(),
                role: EnrolmentRole::Mentee,
                partner_display_name: "Deleted member".into(),
            })
        );
        assert!(!about_them.forget_partner(&deleted), "already forgotten");
        let mut elsewhere = matched(other);
        assert!(!elsewhere.forget_partner(&deleted));
        let mut ended = NotificationPayload::PairingEnded(PairingEndedData {
            pairing_id: theirs,
            program_id,
            program_name: "Neo genitori".into(),
            by_partner: true,
            reason: "We moved".into(),
        });
        assert!(ended.forget_partner(&deleted));
        assert!(!serde_json::to_string(&ended)
            .unwrap_or_default()
            .contains("We moved"));
    }

    /// Rows already stored keep reading: each kind's name and data fields are fixed.
    #[test]
    fn every_kind_keeps_its_stored_name_and_data() {
        let pairing_id = PairingId::new_v7(at());
        let program_id = ProgramId::new_v7(at());
        let enrolment_id = EnrolmentId::new_v7(at());
        let cases = [
            (
                NotificationPayload::Matched(MatchedData {
                    pairing_id,
                    program_id,
                    program_name: "Neo genitori".into(),
                    role: EnrolmentRole::Mentee,
                    partner_display_name: "Giulia".into(),
                }),
                json!({"kind": "matched", "data": {
                    "pairing_id": pairing_id, "program_id": program_id,
                    "program_name": "Neo genitori", "role": "mentee",
                    "partner_display_name": "Giulia"}}),
            ),
            (
                NotificationPayload::PairingEnded(PairingEndedData {
                    pairing_id,
                    program_id,
                    program_name: "Neo genitori".into(),
                    by_partner: true,
                    reason: "We moved".into(),
                }),
                json!({"kind": "pairing_ended", "data": {
                    "pairing_id": pairing_id, "program_id": program_id,
                    "program_name": "Neo genitori", "by_partner": true,
                    "reason": "We moved"}}),
            ),
            (
                NotificationPayload::EnrolmentApproved(EnrolmentDecidedData {
                    enrolment_id,
                    program_id,
                    program_name: "Neo genitori".into(),
                    role: EnrolmentRole::Mentor,
                }),
                json!({"kind": "enrolment_approved", "data": {
                    "enrolment_id": enrolment_id, "program_id": program_id,
                    "program_name": "Neo genitori", "role": "mentor"}}),
            ),
            (
                NotificationPayload::EnrolmentDeclined(EnrolmentDecidedData {
                    enrolment_id,
                    program_id,
                    program_name: "Neo genitori".into(),
                    role: EnrolmentRole::Mentee,
                }),
                json!({"kind": "enrolment_declined", "data": {
                    "enrolment_id": enrolment_id, "program_id": program_id,
                    "program_name": "Neo genitori", "role": "mentee"}}),
            ),
            (
                NotificationPayload::CheckInDue(CheckInNoticeData {
                    pairing_id,
                    program_id,
                    program_name: "Neo genitori".into(),
                    number: 2,
                    due_on: NaiveDate::from_ymd_opt(2026, 3, 9).unwrap_or_default(),
                    closes_on: NaiveDate::from_ymd_opt(2026, 3, 15).unwrap_or_default(),
                    topic_title: "Sleep".into(),
                    partner_display_name: "Giulia".into(),
                }),
                json!({"kind": "check_in_due", "data": {
                    "pairing_id": pairing_id, "program_id": program_id,
                    "program_name": "Neo genitori", "number": 2, "due_on": "2026-03-09",
                    "closes_on": "2026-03-15", "topic_title": "Sleep",
                    "partner_display_name": "Giulia"}}),
            ),
            (
                NotificationPayload::PairingCompleted(PairingCompletedData {
                    pairing_id,
                    program_id,
                    program_name: "Neo genitori".into(),
                    completed_check_ins: 7,
                    check_ins: 8,
                    partner_display_name: "Giulia".into(),
                }),
                json!({"kind": "pairing_completed", "data": {
                    "pairing_id": pairing_id, "program_id": program_id,
                    "program_name": "Neo genitori", "completed_check_ins": 7,
                    "check_ins": 8, "partner_display_name": "Giulia"}}),
            ),
            (
                NotificationPayload::NewMessages(NewMessagesData {
                    pairing_id,
                    program_id,
                    program_name: "Neo genitori".into(),
                    partner_display_name: "Giulia".into(),
                    count: 3,
                    latest_at: at(),
                }),
                json!({"kind": "new_messages", "data": {
                    "pairing_id": pairing_id, "program_id": program_id,
                    "program_name": "Neo genitori", "partner_display_name": "Giulia",
                    "count": 3, "latest_at": "2025-11-24T16:00:00Z"}}),
            ),
        ];
        for (payload, stored) in cases {
            assert_eq!(serde_json::to_value(&payload).ok(), Some(stored.clone()));
            assert_eq!(stored["kind"], payload.kind());
            let read: Result<NotificationPayload, _> = serde_json::from_value(stored);
            assert_eq!(read.ok(), Some(payload));
        }
    }

    #[test]
    fn an_unknown_kind_or_data_of_the_wrong_shape_is_not_read() {
        let unknown = json!({"kind": "confetti", "data": {}});
        assert!(serde_json::from_value::<NotificationPayload>(unknown).is_err());
        let wrong = json!({"kind": "matched", "data": {"pairing_id": "x"}});
        assert!(serde_json::from_value::<NotificationPayload>(wrong).is_err());
    }
}
