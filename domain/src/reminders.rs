//! What the reminder job owes a pairing at a given instant, and when to look again.
//!
//! The plan is a pure function of the journey, which check-ins have entries, the
//! partners' time zones and the clock. Each reminder carries a key unique to its event
//! and recipient: storing it under that key is what makes it exactly once, however many
//! times or nodes run the plan.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::check_in::Journey;
use crate::ids::UserId;
use crate::pairing::PairingStatus;
use crate::schedule::{day_start, Slot};

/// A partner to remind, in their own time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: UserId,
    pub time_zone: Tz,
}

/// One notification the job owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// The check-in's day has come in the recipient's time zone.
    CheckInDue { user_id: UserId, slot: Slot },
    /// The check-in's window closed without an entry.
    CheckInMissed { user_id: UserId, slot: Slot },
    /// The last window closed.
    PairingCompleted { user_id: UserId },
}

impl Reminder {
    pub fn user_id(&self) -> UserId {
        match self {
            Reminder::CheckInDue { user_id, .. }
            | Reminder::CheckInMissed { user_id, .. }
            | Reminder::PairingCompleted { user_id } => *user_id,
        }
    }

    /// The event's identity, the same on every run and node.
    pub fn dedupe_key(&self, journey: &Journey) -> String {
        let pairing = journey.pairing.id;
        match self {
            Reminder::CheckInDue { user_id, slot } => {
                format!("check_in_due:{pairing}:{}:{user_id}", slot.number)
            }
            Reminder::CheckInMissed { user_id, slot } => {
                format!("check_in_missed:{pairing}:{}:{user_id}", slot.number)
            }
            Reminder::PairingCompleted { user_id } => {
                format!("pairing_completed:{pairing}:{user_id}")
            }
        }
    }
}

/// What to do for one pairing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub reminders: Vec<Reminder>,
    /// True when the pairing is to be recorded as completed.
    pub completes: bool,
    /// When something next falls due for this pairing; `None` when nothing ever will.
    pub next_run: Option<DateTime<Utc>>,
}

/// When a check-in is announced to a partner: as its day begins for them, but never
/// before its window opens (a mentor ahead of the mentee waits for the mentee's day).
/// Only a recipient more than a day behind the mentee could see the day begin after the
/// window closed; they hear of it as it opens.
pub fn due_notice_at(slot: &Slot, recipient: &Recipient) -> DateTime<Utc> {
    let theirs = day_start(slot.due_on, recipient.time_zone).max(slot.opens_at);
    if theirs < slot.closes_at {
        theirs
    } else {
        slot.opens_at
    }
}

/// The reminders owed at `now`, of every event up to now: a job that was down catches
/// up, except that a due notice whose window has since closed is dropped (its missed
/// notice says it better). Archived programs are read-only and send no check-in
/// reminders; ended pairings none at all.
pub fn plan(
    journey: &Journey,
    checked_in: &BTreeSet<u16>,
    recipients: &[Recipient; 2],
    program_archived: bool,
    now: DateTime<Utc>,
) -> Plan {
    if journey.pairing.status == PairingStatus::Ended {
        return Plan {
            reminders: Vec::new(),
            completes: false,
            next_run: None,
        };
    }
    let mut reminders = Vec::new();
    let mut next_run: Option<DateTime<Utc>> = None;
    let mut later = |at: DateTime<Utc>| {
        if at > now {
            next_run = Some(next_run.map_or(at, |n| n.min(at)));
        }
    };
    for slot in journey.schedule.slots() {
        let done = checked_in.contains(&slot.number);
        for recipient in recipients {
            let notice = due_notice_at(slot, recipient);
            later(notice);
            if !done && !program_archived && notice <= now && now < slot.closes_at {
                reminders.push(Reminder::CheckInDue {
                    user_id: recipient.user_id,
                    slot: *slot,
                });
            }
        }
        later(slot.closes_at);
        if !done && !program_archived && slot.closes_at <= now {
            reminders.extend(recipients.iter().map(|r| Reminder::CheckInMissed {
                user_id: r.user_id,
                slot: *slot,
            }));
        }
    }
    let completes = journey.status_at(now) == PairingStatus::Completed;
    if completes {
        reminders.extend(
            recipients
                .iter()
                .map(|r| Reminder::PairingCompleted { user_id: r.user_id }),
        );
    }
    Plan {
        reminders,
        completes,
        next_run: if completes { None } else { next_run },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EnrolmentId, PairingId, ProgramId};
    use crate::pairing::{Pairing, Partner};
    use crate::schedule::Schedule;
    use proptest::prelude::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn tz(name: &str) -> Tz {
        name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn journey(cadence: u16, count: u16, mentee_tz: Tz) -> Journey {
        let now = at("2026-01-01T00:00:00Z");
        let started_on = "2026-03-02".parse().unwrap_or_else(|_| panic!());
        Journey {
            pairing: Pairing {
                id: PairingId::new_v7(now),
                program_id: ProgramId::new_v7(now),
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
                started_on,
                created_at: now,
                ended_at: None,
                ended_by: None,
                end_reason: None,
            },
            schedule: Schedule::new(started_on, cadence, count, mentee_tz),
        }
    }

    fn recipients(journey: &Journey, mentor_tz: Tz, mentee_tz: Tz) -> [Recipient; 2] {
        [
            Recipient {
                user_id: journey.pairing.mentor.user_id,
                time_zone: mentor_tz,
            },
            Recipient {
                user_id: journey.pairing.mentee.user_id,
                time_zone: mentee_tz,
            },
        ]
    }

    fn kinds(plan: &Plan) -> Vec<&'static str> {
        plan.reminders
            .iter()
            .map(|r| match r {
                Reminder::CheckInDue { .. } => "due",
                Reminder::CheckInMissed { .. } => "missed",
                Reminder::PairingCompleted { .. } => "completed",
            })
            .collect()
    }

    #[test]
    fn each_partner_hears_of_a_due_check_in_as_their_day_begins() {
        let rome = tz("Europe/Rome");
        let la = tz("America/Los_Angeles");
        let journey = journey(7, 2, rome);
        let people = recipients(&journey, la, rome);
        // Rome's 2026-03-02 begins at 23:00 UTC the day before; Los Angeles's at 08:00.
        let early = plan(
            &journey,
            &BTreeSet::new(),
            &people,
            false,
            at("2026-03-01T23:00:00Z"),
        );
        assert_eq!(kinds(&early), ["due"]);
        assert_eq!(early.reminders[0].user_id(), journey.pairing.mentee.user_id);
        assert_eq!(early.next_run, Some(at("2026-03-02T08:00:00Z")));
        let later = plan(
            &journey,
            &BTreeSet::new(),
            &people,
            false,
            at("2026-03-02T08:00:00Z"),
        );
        assert_eq!(kinds(&later), ["due", "due"]);
    }

    #[test]
    fn a_completed_check_in_is_not_reminded_and_an_empty_one_is_missed() {
        let journey = journey(7, 2, Tz::UTC);
        let people = recipients(&journey, Tz::UTC, Tz::UTC);
        let after_first = at("2026-03-09T00:00:00Z");
        let missed = plan(&journey, &BTreeSet::new(), &people, false, after_first);
        assert_eq!(kinds(&missed), ["missed", "missed", "due", "due"]);
        let done = plan(&journey, &BTreeSet::from([1]), &people, false, after_first);
        assert_eq!(kinds(&done), ["due", "due"]);
        assert!(done
            .reminders
            .iter()
            .all(|r| matches!(r, Reminder::CheckInDue { slot, .. } if slot.number == 2)));
    }

    #[test]
    fn the_last_window_closing_completes_the_pairing_once() {
        let journey = journey(7, 2, Tz::UTC);
        let people = recipients(&journey, Tz::UTC, Tz::UTC);
        let end = at("2026-03-16T00:00:00Z");
        let before = plan(
            &journey,
            &BTreeSet::from([1, 2]),
            &people,
            false,
            end - chrono::Duration::seconds(1),
        );
        assert!(!before.completes);
        assert_eq!(before.next_run, Some(end));
        let done = plan(&journey, &BTreeSet::from([1, 2]), &people, false, end);
        assert!(done.completes);
        assert_eq!(kinds(&done), ["completed", "completed"]);
        assert_eq!(done.next_run, None);
    }

    #[test]
    fn archived_programs_complete_without_nagging_and_ended_pairings_rest() {
        let mut journey = journey(7, 2, Tz::UTC);
        let people = recipients(&journey, Tz::UTC, Tz::UTC);
        let end = at("2026-03-16T00:00:00Z");
        assert_eq!(
            kinds(&plan(&journey, &BTreeSet::new(), &people, true, end)),
            ["completed", "completed"]
        );
        journey.pairing.status = PairingStatus::Ended;
        let rest = plan(&journey, &BTreeSet::new(), &people, false, end);
        assert!(rest.reminders.is_empty() && rest.next_run.is_none());
    }

    #[test]
    fn keys_name_the_event_and_the_recipient() {
        let journey = journey(7, 2, Tz::UTC);
        let people = recipients(&journey, Tz::UTC, Tz::UTC);
        let all = plan(
            &journey,
            &BTreeSet::new(),
            &people,
            false,
            at("2026-03-16T00:00:00Z"),
        );
        let keys: BTreeSet<String> = all
            .reminders
            .iter()
            .map(|r| r.dedupe_key(&journey))
            .collect();
        assert_eq!(keys.len(), all.reminders.len());
    }

    proptest! {
        /// Running the plan at every instant it asks for, from any first run, sends each
        /// event once, and the same events as one late run would.
        #[test]
        fn following_next_run_sends_every_event_exactly_once(
            mentor_zone in prop::sample::select(&["UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago"][..]),
            mentee_zone in prop::sample::select(&["UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"][..]),
            cadence in 1u16..=14,
            count in 1u16..=6,
            first_offset_hours in 0i64..48,
        ) {
            let mentee_tz = tz(mentee_zone);
            let journey = journey(cadence, count, mentee_tz);
            let people = recipients(&journey, tz(mentor_zone), mentee_tz);
            let none = BTreeSet::new();
            let mut now = at("2026-02-28T00:00:00Z") + chrono::Duration::hours(first_offset_hours);
            let mut sent = BTreeSet::new();
            let mut runs = 0;
            loop {
                let step = plan(&journey, &none, &people, false, now);
                for reminder in &step.reminders {
                    sent.insert(reminder.dedupe_key(&journey));
                }
                runs += 1;
                prop_assert!(runs < 1000);
                match step.next_run {
                    Some(next) => { prop_assert!(next > now); now = next; }
                    None => break,
                }
            }
            let missed = sent.iter().filter(|k| k.starts_with("check_in_missed")).count();
            let completed = sent.iter().filter(|k| k.starts_with("pairing_completed")).count();
            prop_assert_eq!(missed, 2 * usize::from(count));
            prop_assert_eq!(completed, 2);
            let due = sent.iter().filter(|k| k.starts_with("check_in_due")).count();
            // A first run after a window closed drops that window's due notices.
            prop_assert!(due <= 2 * usize::from(count));
            if first_offset_hours == 0 {
                prop_assert_eq!(due, 2 * usize::from(count));
            }
        }
    }
}
