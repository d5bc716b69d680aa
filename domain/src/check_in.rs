//! Check-ins: a pairing's progress through its schedule, and the partners' entries.
//!
//! Whether a check-in is due, missed or completed, and whether the pairing is still
//! active, derive from the schedule, the entries and the clock: every read is right
//! before any background job has run.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ids::{PairingId, UserId};
use crate::pairing::{Pairing, PairingStatus};
use crate::program::{Program, ProgramStatus, ProgramSummary};
use crate::schedule::{Schedule, Slot};
use crate::template::GuideWeek;
use crate::text::{self, Lines};
use crate::{DomainError, ValidationError};

pub const MIN_RATING: u8 = 1;
pub const MAX_RATING: u8 = 5;
pub const MAX_NOTE: usize = 4000;

/// Where a check-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckInState {
    /// Its day has not come.
    Upcoming,
    /// Its window is open and nobody has checked in.
    Due,
    /// A partner checked in.
    Completed,
    /// Its window closed (or the pairing ended) without a check-in.
    Missed,
}

/// Where a check-in goes in a member's agenda, smallest first: due ones (the soonest to
/// close first), then upcoming ones (the soonest first), then the past (latest first).
pub fn agenda_key(state: CheckInState, slot: &Slot) -> (u8, i64) {
    match state {
        CheckInState::Due => (0, slot.closes_at.timestamp()),
        CheckInState::Upcoming => (1, slot.opens_at.timestamp()),
        CheckInState::Completed | CheckInState::Missed => (2, -slot.opens_at.timestamp()),
    }
}

/// One partner's entry for one check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub pairing_id: PairingId,
    pub number: u16,
    pub user_id: UserId,
    pub rating: u8,
    /// Private to the two partners.
    pub note: Option<String>,
    pub completed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a partner sends: a rating 1–5 and an optional note of at most 4,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInput {
    pub rating: u8,
    pub note: Option<String>,
}

impl EntryInput {
    /// Checks both fields, reporting every invalid one. A blank note is no note.
    pub fn parse(rating: i64, note: Option<&str>) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let rating = match u8::try_from(rating) {
            Ok(r) if (MIN_RATING..=MAX_RATING).contains(&r) => r,
            _ => {
                errors.push(ValidationError::new(
                    "rating",
                    "must be a whole number between 1 and 5",
                ));
                0
            }
        };
        let note = match note.map(|raw| (raw, text::clean(raw, "note", Lines::Many))) {
            None => None,
            Some((_, Err(error))) => {
                errors.push(error);
                None
            }
            Some((raw, Ok(cleaned))) if text::length(raw, &cleaned) > MAX_NOTE => {
                errors.push(ValidationError::new(
                    "note",
                    "must be at most 4000 characters",
                ));
                None
            }
            Some((_, Ok(cleaned))) => Some(cleaned).filter(|n| !n.is_empty()),
        };
        if errors.is_empty() {
            Ok(Self { rating, note })
        } else {
            Err(errors)
        }
    }
}

/// A pairing with its schedule: what it is at any instant.
#[derive(Debug, Clone)]
pub struct Journey {
    pub pairing: Pairing,
    pub schedule: Schedule,
}

impl Journey {
    /// The schedule a pairing follows: one check-in per guide week of its program, due
    /// every `cadence_days` from its start, in the mentee's time zone.
    pub fn new(pairing: Pairing, program: &Program, mentee_time_zone: Tz) -> Self {
        Self::following(pairing, &program.summary(), mentee_time_zone)
    }

    /// The same schedule from the program's summary, for reads that skip the guide.
    pub fn following(pairing: Pairing, program: &ProgramSummary, mentee_time_zone: Tz) -> Self {
        let schedule = Schedule::new(
            pairing.started_on,
            program.cadence_days,
            program.guide_length,
            mentee_time_zone,
        );
        Self { pairing, schedule }
    }

    /// The pairing's status at `now`: an active pairing whose last window has closed is
    /// completed, whether or not a job has recorded it yet.
    pub fn status_at(&self, now: DateTime<Utc>) -> PairingStatus {
        match (self.pairing.status, self.schedule.ends_at()) {
            (PairingStatus::Active, Some(end)) if end <= now => PairingStatus::Completed,
            (status, _) => status,
        }
    }

    /// Ends the pairing early, by a partner or an admin: only while it is active, which a
    /// pairing whose schedule ran out no longer is, even before a job recorded it.
    pub fn end(&mut self, by: UserId, reason: &str, now: DateTime<Utc>) -> Result<(), DomainError> {
        let mut ended = self.pairing.clone();
        ended.end(by, reason, now)?;
        if self.status_at(now) == PairingStatus::Completed {
            return Err(DomainError::Conflict(
                "the pairing has completed its schedule and can no longer be ended",
            ));
        }
        self.pairing = ended;
        Ok(())
    }

    /// What check-in `slot` is about: week `n` of the program's guide.
    pub fn topic<'p>(&self, program: &'p Program, slot: &Slot) -> Option<&'p GuideWeek> {
        Self::topic_in(program.guide(), slot)
    }

    /// What check-in `slot` is about, in the weeks the program follows.
    pub fn topic_in<'g>(guide: &'g [GuideWeek], slot: &Slot) -> Option<&'g GuideWeek> {
        usize::from(slot.number)
            .checked_sub(1)
            .and_then(|index| guide.get(index))
    }

    /// Notes are the two partners' alone: an admin reads dates, states and ratings.
    pub fn may_read_notes(&self, viewer: UserId) -> bool {
        self.pairing.involves(viewer)
    }

    /// When it completed (or will): the last window's close.
    pub fn completes_at(&self) -> Option<DateTime<Utc>> {
        self.schedule.ends_at()
    }

    /// The check-ins the pair reached: all of them, except that a pairing ended early
    /// keeps only those whose window had opened.
    pub fn reached(&self) -> impl Iterator<Item = &Slot> {
        let ended_at = self.pairing.ended_at;
        self.schedule
            .slots()
            .iter()
            .filter(move |slot| ended_at.is_none_or(|end| slot.opens_at <= end))
    }

    /// The check-in whose window is open at `now`, or else the next one to open: what
    /// the pair works on now. None once the pairing has ended or completed.
    pub fn next_check_in(&self, now: DateTime<Utc>) -> Option<&Slot> {
        if self.status_at(now) != PairingStatus::Active {
            return None;
        }
        self.schedule
            .slots()
            .iter()
            .find(|slot| now < slot.closes_at)
    }

    /// Where check-in `slot` stands at `now`, given whether anyone checked in.
    pub fn state_of(&self, slot: &Slot, checked_in: bool, now: DateTime<Utc>) -> CheckInState {
        if checked_in {
            CheckInState::Completed
        } else if now < slot.opens_at {
            CheckInState::Upcoming
        } else if self.pairing.status == PairingStatus::Ended || now >= slot.closes_at {
            CheckInState::Missed
        } else {
            CheckInState::Due
        }
    }

    /// May a partner record or change an entry for check-in `slot` at `now`? Only in its
    /// window, only while the pairing is active and its program not archived.
    pub fn check_can_record(
        &self,
        program: &Program,
        slot: &Slot,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.check_can_record_in(program.status, slot, now)
    }

    /// `check_can_record`, given the program's status.
    pub fn check_can_record_in(
        &self,
        program_status: ProgramStatus,
        slot: &Slot,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        program_status.check_not_archived()?;
        if self.pairing.status == PairingStatus::Ended {
            return Err(DomainError::Conflict(
                "the pairing has ended: its check-ins are read-only",
            ));
        }
        if now < slot.opens_at {
            return Err(DomainError::Conflict(
                "this check-in is not due yet: it opens on its due_on date, in the mentee's time zone",
            ));
        }
        if now >= slot.closes_at {
            return Err(DomainError::Conflict(
                "this check-in's window has closed: it could be completed until its closes_on date",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalogue;
    use crate::ids::{EnrolmentId, GroupId, ProgramId};
    use crate::pairing::Partner;
    use crate::program::{ProgramStatus, SettingsChange};
    use crate::template::Language;

    pub(crate) fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    pub(crate) fn program(cadence: i64, weeks: i64) -> Program {
        let template = catalogue::builtin("new-parents", Language::En).unwrap_or_else(|| panic!());
        let change = SettingsChange {
            cadence_days: Some(cadence),
            duration_weeks: Some(weeks),
            ..SettingsChange::default()
        };
        let mut program = Program::from_template(
            ProgramId::new_v7(at("2026-01-01T00:00:00Z")),
            GroupId::new_v7(at("2026-01-01T00:00:00Z")),
            template,
            change,
            at("2026-01-01T00:00:00Z"),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        program.status = ProgramStatus::Open;
        program
    }

    pub(crate) fn journey(program: &Program, started_on: &str) -> Journey {
        let now = at("2026-01-01T00:00:00Z");
        let pairing = Pairing {
            id: PairingId::new_v7(now),
            program_id: program.id,
            mentor: Partner {
                enrolment_id: EnrolmentId::new_v7(now),
                user_id: UserId::new_v7(now),
            },
            mentee: Partner {
                enrolment_id: EnrolmentId::new_v7(now),
                user_id: UserId::new_v7(now),
            },
            introduction: "Hello".into(),
            status: PairingStatus::Active,
            started_on: started_on.parse().unwrap_or_else(|_| panic!()),
            created_at: now,
            ended_at: None,
            ended_by: None,
            end_reason: None,
        };
        Journey::new(pairing, program, Tz::UTC)
    }

    #[test]
    fn one_check_in_per_guide_week_of_the_program() {
        let journey = journey(&program(14, 3), "2026-01-05");
        assert_eq!(journey.schedule.slots().len(), 3);
        assert_eq!(journey.completes_at(), Some(at("2026-02-16T00:00:00Z")));
    }

    #[test]
    fn states_follow_the_clock_and_the_entries() {
        let journey = journey(&program(7, 4), "2026-01-05");
        let second = journey.schedule.slots()[1];
        assert_eq!(
            journey.state_of(&second, false, at("2026-01-11T23:59:59Z")),
            CheckInState::Upcoming
        );
        assert_eq!(
            journey.state_of(&second, false, at("2026-01-12T00:00:00Z")),
            CheckInState::Due
        );
        assert_eq!(
            journey.state_of(&second, false, at("2026-01-19T00:00:00Z")),
            CheckInState::Missed
        );
        assert_eq!(
            journey.state_of(&second, true, at("2026-01-19T00:00:00Z")),
            CheckInState::Completed
        );
    }

    #[test]
    fn the_next_check_in_is_the_open_one_then_the_next_to_open_until_the_end() {
        let mut journey = journey(&program(7, 3), "2026-01-05");
        let number =
            |journey: &Journey, now: &str| journey.next_check_in(at(now)).map(|s| s.number);
        // Before the start the first is next; each then stays until its window closes.
        assert_eq!(number(&journey, "2026-01-01T00:00:00Z"), Some(1));
        assert_eq!(number(&journey, "2026-01-11T23:59:59Z"), Some(1));
        assert_eq!(number(&journey, "2026-01-12T00:00:00Z"), Some(2));
        assert_eq!(number(&journey, "2026-01-25T23:59:59Z"), Some(3));
        assert_eq!(number(&journey, "2026-01-26T00:00:00Z"), None);
        let mentee = journey.pairing.mentee.user_id;
        journey
            .end(mentee, "Moving on", at("2026-01-13T00:00:00Z"))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(number(&journey, "2026-01-13T00:00:01Z"), None);
    }

    #[test]
    fn a_pairing_completes_when_its_last_window_closes() {
        let mut journey = journey(&program(7, 2), "2026-01-05");
        let mentee = journey.pairing.mentee.user_id;
        assert_eq!(
            journey.end(mentee, "Done", at("2026-01-19T00:00:00Z")),
            Err(DomainError::Conflict(
                "the pairing has completed its schedule and can no longer be ended"
            ))
        );
        assert_eq!(
            journey.status_at(at("2026-01-18T23:59:59Z")),
            PairingStatus::Active
        );
        assert_eq!(
            journey.status_at(at("2026-01-19T00:00:00Z")),
            PairingStatus::Completed
        );
    }

    #[test]
    fn an_ended_pairing_keeps_what_it_reached_read_only() {
        let program = program(7, 4);
        let mut journey = journey(&program, "2026-01-05");
        let end = at("2026-01-13T10:00:00Z");
        journey
            .pairing
            .end(journey.pairing.mentee.user_id, "We moved", end)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let reached: Vec<u16> = journey.reached().map(|s| s.number).collect();
        assert_eq!(reached, [1, 2]);
        let second = journey.schedule.slots()[1];
        assert_eq!(journey.state_of(&second, false, end), CheckInState::Missed);
        assert_eq!(
            journey.status_at(at("2027-01-01T00:00:00Z")),
            PairingStatus::Ended
        );
        assert!(matches!(
            journey.check_can_record(&program, &second, end),
            Err(DomainError::Conflict(_))
        ));
    }

    #[test]
    fn entries_are_taken_only_inside_the_window() {
        let program = program(7, 4);
        let journey = journey(&program, "2026-01-05");
        let second = journey.schedule.slots()[1];
        let refused = |now: &str| {
            journey
                .check_can_record(&program, &second, at(now))
                .is_err()
        };
        assert!(refused("2026-01-11T23:59:59Z"));
        assert!(!refused("2026-01-12T00:00:00Z"));
        assert!(!refused("2026-01-18T23:59:59Z"));
        assert!(refused("2026-01-19T00:00:00Z"));
    }

    #[test]
    fn inputs_are_a_rating_and_an_optional_note() {
        assert_eq!(
            EntryInput::parse(4, Some("  Good talk\r\nabout sleep ")),
            Ok(EntryInput {
                rating: 4,
                note: Some("Good talk\nabout sleep".into())
            })
        );
        assert_eq!(EntryInput::parse(5, Some("   ")).map(|e| e.note), Ok(None));
        let fields = |rating, note: &str| -> Vec<String> {
            EntryInput::parse(rating, Some(note))
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(0, "x"), ["rating"]);
        assert_eq!(fields(6, &"a".repeat(4001)), ["rating", "note"]);
        assert_eq!(fields(3, "hidden\u{202E}"), ["note"]);
        assert!(fields(1, &"a".repeat(4000)).is_empty());
    }
}
