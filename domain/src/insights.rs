//! A program's health, for its admins: counts, waits, loads and weekly progress, from
//! figures the database aggregates. No note or message text ever comes in.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::check_in::Journey;
use crate::ids::{EnrolmentId, PairingId};
use crate::pairing::PairingStatus;

/// How many pairings are in each status, as the clock has it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairingCounts {
    pub active: u32,
    pub completed: u32,
    pub ended: u32,
}

pub fn pairing_counts(journeys: &[Journey], now: DateTime<Utc>) -> PairingCounts {
    let mut counts = PairingCounts::default();
    for journey in journeys {
        match journey.status_at(now) {
            PairingStatus::Active => counts.active += 1,
            PairingStatus::Completed => counts.completed += 1,
            PairingStatus::Ended => counts.ended += 1,
        }
    }
    counts
}

/// The median of the days each mentee waited from enrolling to their first pairing, to
/// a tenth of a day; `None` when nobody was paired yet.
pub fn median_days_to_pairing(waits: &[(DateTime<Utc>, DateTime<Utc>)]) -> Option<f64> {
    let mut days: Vec<f64> = waits
        .iter()
        .map(|(enrolled, paired)| (*paired - *enrolled).num_seconds().max(0) as f64 / 86_400.0)
        .collect();
    if days.is_empty() {
        return None;
    }
    days.sort_by(f64::total_cmp);
    let middle = days.len() / 2;
    let median = if days.len() % 2 == 1 {
        days[middle]
    } else {
        (days[middle - 1] + days[middle]) / 2.0
    };
    Some((median * 10.0).round() / 10.0)
}

/// Active mentors' places: how many there are and how many are taken.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MentorLoad {
    pub mentors: u32,
    pub places: u32,
    pub taken: u32,
    /// Mentors with no free place.
    pub full: u32,
    /// Mentors with no mentee.
    pub idle: u32,
    /// Taken places over all places, 0–1; `None` without places.
    pub utilisation: Option<f64>,
}

/// Each mentor enrolment's places taken at `now`: its pairings the clock still has
/// active (one whose schedule ran out holds no place, whether or not a job recorded it).
pub fn places_taken(journeys: &[Journey], now: DateTime<Utc>) -> HashMap<EnrolmentId, u32> {
    let mut taken = HashMap::new();
    for journey in journeys {
        if journey.status_at(now) == PairingStatus::Active {
            *taken
                .entry(journey.pairing.mentor.enrolment_id)
                .or_insert(0) += 1;
        }
    }
    taken
}

/// From each active mentor's `(capacity, places taken)`.
pub fn mentor_load(mentors: &[(u32, u32)]) -> MentorLoad {
    let mut load = MentorLoad::default();
    for &(capacity, taken) in mentors {
        load.mentors += 1;
        load.places += capacity;
        load.taken += taken.min(capacity);
        if taken >= capacity {
            load.full += 1;
        }
        if taken == 0 {
            load.idle += 1;
        }
    }
    load.utilisation = (load.places > 0).then(|| ratio(load.taken, load.places));
    load
}

/// What the entries of one guide week add up to, across the program's pairings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WeekEntries {
    /// Pairings with at least one entry for the week.
    pub checked_in_pairings: u32,
    pub ratings: u32,
    pub rating_sum: u32,
}

/// One guide week's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekProgress {
    pub number: u16,
    /// Pairings whose check-in for the week has come (its day began before now, and
    /// before the pairing ended).
    pub reached: u32,
    pub completed: u32,
    /// `completed / reached`, 0–1; `None` while no pairing reached the week.
    pub completion_rate: Option<f64>,
    /// Of both partners' ratings, 1–5; `None` without any.
    pub average_rating: Option<f64>,
}

/// Week by week, for `weeks` guide weeks.
pub fn weekly_progress(
    journeys: &[Journey],
    entries: &HashMap<u16, WeekEntries>,
    weeks: u16,
    now: DateTime<Utc>,
) -> Vec<WeekProgress> {
    (1..=weeks)
        .map(|number| {
            let reached = journeys
                .iter()
                .filter(|journey| {
                    journey
                        .reached()
                        .any(|slot| slot.number == number && slot.opens_at <= now)
                })
                .count() as u32;
            let week = entries.get(&number).copied().unwrap_or_default();
            let completed = week.checked_in_pairings.min(reached);
            WeekProgress {
                number,
                reached,
                completed,
                completion_rate: (reached > 0).then(|| ratio(completed, reached)),
                average_rating: (week.ratings > 0).then(|| {
                    (f64::from(week.rating_sum) / f64::from(week.ratings) * 100.0).round() / 100.0
                }),
            }
        })
        .collect()
}

/// Active pairings in which nobody has checked in for two cadences: since their last
/// entry, or since they started when they have none.
pub fn at_risk(
    journeys: &[Journey],
    last_entry: &HashMap<PairingId, DateTime<Utc>>,
    cadence_days: u16,
    now: DateTime<Utc>,
) -> u32 {
    let quiet = Duration::days(2 * i64::from(cadence_days));
    journeys
        .iter()
        .filter(|journey| journey.status_at(now) == PairingStatus::Active)
        .filter(|journey| {
            let since = last_entry
                .get(&journey.pairing.id)
                .copied()
                .unwrap_or(journey.pairing.created_at);
            now - since >= quiet
        })
        .count() as u32
}

fn ratio(part: u32, whole: u32) -> f64 {
    (f64::from(part) / f64::from(whole) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EnrolmentId, ProgramId, UserId};
    use crate::pairing::{Pairing, Partner};
    use crate::schedule::Schedule;
    use chrono_tz::Tz;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn journey(started_on: &str, weeks: u16) -> Journey {
        let made = at(&format!("{started_on}T09:00:00Z"));
        let started_on = started_on.parse().unwrap_or_else(|_| panic!());
        Journey {
            pairing: Pairing {
                id: PairingId::new_v7(made),
                program_id: ProgramId::new_v7(made),
                mentor: Partner {
                    enrolment_id: EnrolmentId::new_v7(made),
                    user_id: UserId::new_v7(made),
                },
                mentee: Partner {
                    enrolment_id: EnrolmentId::new_v7(made),
                    user_id: UserId::new_v7(made),
                },
                introduction: "Hello".into(),
                status: PairingStatus::Active,
                started_on,
                created_at: made,
                ended_at: None,
                ended_by: None,
                end_reason: None,
            },
            schedule: Schedule::new(started_on, 7, weeks, Tz::UTC),
        }
    }

    #[test]
    fn statuses_follow_the_clock() {
        let mut ended = journey("2027-03-01", 2);
        ended.pairing.status = PairingStatus::Ended;
        let journeys = [journey("2027-03-01", 2), journey("2027-03-10", 2), ended];
        let counts = pairing_counts(&journeys, at("2027-03-16T00:00:00Z"));
        assert_eq!(
            counts,
            PairingCounts {
                active: 1,
                completed: 1,
                ended: 1
            }
        );
    }

    #[test]
    fn the_median_wait_is_in_days() {
        let day = |d: i64| at("2027-03-01T00:00:00Z") + Duration::days(d);
        assert_eq!(median_days_to_pairing(&[]), None);
        assert_eq!(
            median_days_to_pairing(&[(day(0), day(3)), (day(0), day(1)), (day(2), day(12))]),
            Some(3.0)
        );
        assert_eq!(
            median_days_to_pairing(&[(day(0), day(1)), (day(0), day(2))]),
            Some(1.5)
        );
    }

    #[test]
    fn mentor_load_counts_places() {
        let load = mentor_load(&[(2, 2), (3, 1), (1, 0)]);
        assert_eq!((load.mentors, load.places, load.taken), (3, 6, 3));
        assert_eq!((load.full, load.idle), (1, 1));
        assert_eq!(load.utilisation, Some(0.5));
        assert_eq!(mentor_load(&[]).utilisation, None);
    }

    #[test]
    fn weekly_progress_is_over_the_pairs_that_reached_the_week() {
        let journeys = [journey("2027-03-01", 3), journey("2027-03-08", 3)];
        let entries = HashMap::from([(
            1,
            WeekEntries {
                checked_in_pairings: 1,
                ratings: 2,
                rating_sum: 7,
            },
        )]);
        let weeks = weekly_progress(&journeys, &entries, 3, at("2027-03-09T00:00:00Z"));
        assert_eq!((weeks[0].reached, weeks[0].completed), (2, 1));
        assert_eq!(weeks[0].completion_rate, Some(0.5));
        assert_eq!(weeks[0].average_rating, Some(3.5));
        assert_eq!((weeks[1].reached, weeks[1].completion_rate), (1, Some(0.0)));
        assert_eq!((weeks[2].reached, weeks[2].completion_rate), (0, None));
    }

    #[test]
    fn pairs_quiet_for_two_cadences_are_at_risk() {
        let quiet = journey("2027-03-01", 8);
        let talking = journey("2027-03-01", 8);
        let last = HashMap::from([(talking.pairing.id, at("2027-03-10T00:00:00Z"))]);
        let journeys = [quiet, talking];
        assert_eq!(at_risk(&journeys, &last, 7, at("2027-03-15T08:59:59Z")), 0);
        assert_eq!(at_risk(&journeys, &last, 7, at("2027-03-15T09:00:00Z")), 1);
        assert_eq!(at_risk(&journeys, &last, 7, at("2027-03-24T00:00:00Z")), 2);
    }
}
