//! Messages: what the two partners write to each other in their pair space.
//!
//! The space is the partners' alone: an admin who may see the pairing may not enter it,
//! and once the pairing is no longer active (ended, or its schedule ran out) it is kept
//! read-only.

use chrono::{DateTime, Utc};

use crate::check_in::Journey;
use crate::ids::{MessageId, PairingId, UserId};
use crate::pairing::{Pairing, PairingStatus};
use crate::program::Program;
use crate::text::{self, Lines};
use crate::{DomainError, ValidationError};

pub const MAX_BODY: usize = 4000;

/// One message of a pair space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub pairing_id: PairingId,
    pub author_id: UserId,
    /// The guide week it is about, if the author tied it to one.
    pub week: Option<u16>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What a partner sends: a body of 1–4,000 characters and an optional guide week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInput {
    pub body: String,
    pub week: Option<u16>,
}

impl MessageInput {
    /// Checks both fields against the program's guide, reporting every invalid one.
    pub fn parse(
        body: &str,
        week: Option<i64>,
        program: &Program,
    ) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let body = match text::clean(body, "body", Lines::Many) {
            Err(error) => {
                errors.push(error);
                String::new()
            }
            Ok(cleaned) if cleaned.is_empty() || text::length(body, &cleaned) > MAX_BODY => {
                errors.push(ValidationError::new("body", "must be 1 to 4000 characters"));
                String::new()
            }
            Ok(cleaned) => cleaned,
        };
        let week = match week.map(|w| check_week(w, program)) {
            None => None,
            Some(Ok(week)) => Some(week),
            Some(Err(error)) => {
                errors.push(error);
                None
            }
        };
        if errors.is_empty() {
            Ok(Self { body, week })
        } else {
            Err(errors)
        }
    }
}

/// A week of the program's guide: 1 to its length. Also what `?week=` filters by.
pub fn check_week(week: i64, program: &Program) -> Result<u16, ValidationError> {
    let weeks = program.guide().len();
    u16::try_from(week)
        .ok()
        .filter(|w| *w >= 1 && usize::from(*w) <= weeks)
        .ok_or_else(|| {
            ValidationError::new("week", format!("must be a week of the guide, 1 to {weeks}"))
        })
}

/// Who may enter a pair space: the two partners. Anyone else who may see the pairing
/// (an admin of its group) is refused; the caller has already answered 404 to everyone
/// who may not even see it.
pub fn check_may_enter_space(pairing: &Pairing, viewer: UserId) -> Result<(), DomainError> {
    if pairing.involves(viewer) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "the pair space is the two partners' alone",
        ))
    }
}

impl Journey {
    /// May `author` post at `now`? A partner, while the pairing is active (a pairing
    /// whose schedule ran out is completed even before a job recorded it) and its
    /// program not archived.
    pub fn check_can_post(
        &self,
        program: &Program,
        author: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        check_may_enter_space(&self.pairing, author)?;
        if self.status_at(now) != PairingStatus::Active {
            return Err(DomainError::Conflict(
                "the pairing is no longer active: its messages are read-only",
            ));
        }
        program.check_not_archived()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_in::tests::{at, journey, program};

    #[test]
    fn a_body_is_one_to_4000_characters_of_clean_text() {
        let program = program(7, 4);
        assert_eq!(
            MessageInput::parse("  See you\r\nThursday ", Some(2), &program),
            Ok(MessageInput {
                body: "See you\nThursday".into(),
                week: Some(2)
            })
        );
        let fields = |body: &str, week: Option<i64>| -> Vec<String> {
            MessageInput::parse(body, week, &program)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields("   ", None), ["body"]);
        assert_eq!(fields(&"a".repeat(4001), Some(0)), ["body", "week"]);
        assert_eq!(fields("hidden\u{202E}", Some(5)), ["body", "week"]);
        assert_eq!(fields("ok", Some(-1)), ["week"]);
        assert!(fields(&"a".repeat(4000), Some(4)).is_empty());
        assert!(fields("ok", Some(1)).is_empty());
    }

    #[test]
    fn only_the_partners_post_and_only_while_the_pairing_is_active() {
        let program = program(7, 2);
        let mut journey = journey(&program, "2026-01-05");
        let mentee = journey.pairing.mentee.user_id;
        let mentor = journey.pairing.mentor.user_id;
        let admin = UserId::new_v7(at("2026-01-01T00:00:00Z"));
        let during = at("2026-01-10T00:00:00Z");
        assert_eq!(journey.check_can_post(&program, mentee, during), Ok(()));
        assert_eq!(journey.check_can_post(&program, mentor, during), Ok(()));
        assert!(matches!(
            journey.check_can_post(&program, admin, during),
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            check_may_enter_space(&journey.pairing, admin),
            Err(DomainError::Forbidden(_))
        ));
        // Completed by the clock, before any job recorded it.
        assert!(matches!(
            journey.check_can_post(&program, mentee, at("2026-01-19T00:00:00Z")),
            Err(DomainError::Conflict(_))
        ));
        journey
            .pairing
            .end(mentor, "We moved", during)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(
            journey.check_can_post(&program, mentee, during),
            Err(DomainError::Conflict(_))
        ));
        // Still theirs to read.
        assert_eq!(check_may_enter_space(&journey.pairing, mentee), Ok(()));
    }

    #[test]
    fn an_archived_programs_spaces_are_read_only() {
        let mut program = program(7, 4);
        let journey = journey(&program, "2026-01-05");
        program.status = crate::program::ProgramStatus::Archived;
        assert!(matches!(
            journey.check_can_post(
                &program,
                journey.pairing.mentee.user_id,
                at("2026-01-10T00:00:00Z")
            ),
            Err(DomainError::Conflict(_))
        ));
    }
}
