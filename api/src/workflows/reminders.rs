//! One pairing's reminder step: what its plan owes at an instant is sent (each under its
//! own unique key), a pairing whose schedule ran out is recorded completed, and the
//! pairing is told when to be looked at next. The job runs it on the pairings it
//! claimed; pairing a mentor runs it first on the mentor's pairings the clock has
//! already completed, so their places are free before any job has run.

use chrono::{DateTime, Utc};
use tandem_domain::check_in::Journey;
use tandem_domain::ids::{EnrolmentId, UserId};
use tandem_domain::notification::{CheckInNoticeData, NotificationPayload, PairingCompletedData};
use tandem_domain::pairing::{Pairing, PairingStatus};
use tandem_domain::program::{Program, ProgramStatus};
use tandem_domain::reminders::{self, Recipient, Reminder};
use tandem_domain::schedule::Slot;
use tandem_domain::user::DisplayName;
use tandem_persistence::{check_ins, groups, notifications, pairings, programs, users, DbConn};

use crate::workflows::{journey, WorkflowError};

/// What one step did.
#[derive(Debug, Default)]
pub struct Step {
    /// Notifications stored by this step (not those another run stored first).
    pub sent: usize,
    /// The places a pairing recorded completed by this step still holds: the caller
    /// frees them (`free_places`).
    pub places: Option<[EnrolmentId; 2]>,
}

/// Runs one pairing's step inside the caller's transaction, which holds the pairing's
/// row lock and read it under that lock.
pub fn step(
    conn: &mut DbConn,
    pairing: Pairing,
    now: DateTime<Utc>,
) -> Result<Step, WorkflowError> {
    let program = programs::find(conn, pairing.program_id)?;
    let journey = journey::of(conn, pairing, &program)?;
    let checked_in = check_ins::completed_numbers(conn, journey.pairing.id)?;
    let people = [
        journey.pairing.mentor.user_id,
        journey.pairing.mentee.user_id,
    ];
    let zones = users::time_zones(conn, &people)?;
    let recipients = people.map(|user_id| Recipient {
        user_id,
        time_zone: zones.get(&user_id).copied().unwrap_or(chrono_tz::Tz::UTC),
    });
    let archived = program.status == ProgramStatus::Archived;
    let plan = reminders::plan(&journey, &checked_in, &recipients, archived, now);
    let mut sent = 0;
    if !plan.reminders.is_empty() {
        let names = users::display_names(conn, &people)?;
        let mut members = Vec::with_capacity(2);
        for user in people {
            if groups::membership(conn, program.group_id, user)?.is_some() {
                members.push(user);
            }
        }
        let context = Context {
            journey: &journey,
            program: &program,
            names: &names,
            checked_in: checked_in.len(),
        };
        for reminder in &plan.reminders {
            // Someone removed from the group reads nothing of it any more.
            if !members.contains(&reminder.user_id()) {
                continue;
            }
            let payload = context.payload(reminder);
            let key = reminder.dedupe_key(&journey);
            if notifications::push_once(conn, reminder.user_id(), &payload, &key, now)? {
                sent += 1;
            }
        }
    }
    let places = if plan.completes && pairings::mark_completed(conn, &journey.pairing)? {
        Some([
            journey.pairing.mentor.enrolment_id,
            journey.pairing.mentee.enrolment_id,
        ])
    } else {
        None
    };
    pairings::schedule_next(conn, journey.pairing.id, plan.next_run)?;
    Ok(Step { sent, places })
}

/// Gives back the places of pairings recorded completed, in enrolment id order: every
/// writer that frees several places takes their rows in that one order, so two nodes
/// completing pairings of the same mentor at once wait for each other instead of
/// deadlocking.
pub fn free_places(
    conn: &mut DbConn,
    places: impl IntoIterator<Item = EnrolmentId>,
) -> Result<(), WorkflowError> {
    let mut places: Vec<EnrolmentId> = places.into_iter().collect();
    places.sort();
    for enrolment in places {
        tandem_persistence::enrolments::release_place(conn, enrolment)?;
    }
    Ok(())
}

/// Settles the pairings of an enrolment that the clock has completed but no job has
/// recorded yet: recorded completed, partners notified, places freed. Pairing a mentor
/// and withdrawing an enrolment run it first, so what the schedule ended no longer holds
/// a place. Callers hold the program's lock: program, then pairings, then enrolments.
pub fn settle_completed_of_enrolment(
    conn: &mut DbConn,
    program: &Program,
    enrolment_id: EnrolmentId,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let mut places = Vec::new();
    let active = pairings::active_of_enrolment(conn, program.id, enrolment_id)?;
    for followed in journey::load(conn, active)? {
        if followed.journey.status_at(now) != PairingStatus::Completed {
            continue;
        }
        let id = followed.journey.pairing.id;
        pairings::lock(conn, id)?;
        // Read again under the lock: a job may have recorded it meanwhile.
        let pairing = pairings::find(conn, id)?;
        let step = step(conn, pairing, now)?;
        places.extend(step.places.into_iter().flatten());
    }
    free_places(conn, places)
}

/// What the payloads of one pairing's reminders are made of.
struct Context<'a> {
    journey: &'a Journey,
    program: &'a Program,
    names: &'a std::collections::HashMap<UserId, String>,
    checked_in: usize,
}

impl Context<'_> {
    fn partner_name(&self, user: UserId) -> String {
        self.journey
            .pairing
            .partner_of(user)
            .and_then(|partner| self.names.get(&partner).cloned())
            .unwrap_or_else(|| DisplayName::DELETED.to_owned())
    }

    fn notice(&self, user: UserId, slot: &Slot) -> CheckInNoticeData {
        let topic_title = self
            .journey
            .topic(self.program, slot)
            .map(|week| week.title.clone())
            .unwrap_or_default();
        CheckInNoticeData {
            pairing_id: self.journey.pairing.id,
            program_id: self.program.id,
            program_name: self.program.settings.name.clone(),
            number: slot.number,
            due_on: slot.due_on,
            closes_on: slot.closes_on,
            topic_title,
            partner_display_name: self.partner_name(user),
        }
    }

    fn payload(&self, reminder: &Reminder) -> NotificationPayload {
        match reminder {
            Reminder::CheckInDue { user_id, slot } => {
                NotificationPayload::CheckInDue(self.notice(*user_id, slot))
            }
            Reminder::CheckInMissed { user_id, slot } => {
                NotificationPayload::CheckInMissed(self.notice(*user_id, slot))
            }
            Reminder::PairingCompleted { user_id } => {
                let check_ins = self.journey.schedule.slots().len();
                NotificationPayload::PairingCompleted(PairingCompletedData {
                    pairing_id: self.journey.pairing.id,
                    program_id: self.program.id,
                    program_name: self.program.settings.name.clone(),
                    completed_check_ins: u16::try_from(self.checked_in.min(check_ins))
                        .unwrap_or(u16::MAX),
                    check_ins: u16::try_from(check_ins).unwrap_or(u16::MAX),
                    partner_display_name: self.partner_name(*user_id),
                })
            }
        }
    }
}
