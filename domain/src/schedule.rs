//! A pairing's check-in schedule: derived from the pairing's start, the program's cadence
//! and length and the mentee's time zone, never stored.
//!
//! Check-in `n` is due on `started_on + (n − 1)·cadence`, a local date in the mentee's
//! time zone. Its window opens when that day begins there and closes when the next
//! check-in's day begins: a full cadence, whatever the clocks do meanwhile.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// One check-in of a schedule, with its dates and the instants its window spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// 1-based; also the guide week that is its topic.
    pub number: u16,
    /// The local day it becomes due.
    pub due_on: NaiveDate,
    /// The last local day it can still be completed.
    pub closes_on: NaiveDate,
    /// When `due_on` begins in the mentee's time zone.
    pub opens_at: DateTime<Utc>,
    /// When the day after `closes_on` begins there: the window is `[opens_at, closes_at)`.
    pub closes_at: DateTime<Utc>,
}

impl Slot {
    /// Is the window open at `now`?
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.opens_at <= now && now < self.closes_at
    }
}

/// The check-ins of one pairing, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    slots: Vec<Slot>,
}

impl Schedule {
    /// `check_ins` check-ins, `cadence_days` apart, the first due on `started_on`, in the
    /// mentee's time zone `tz`. Dates beyond chrono's range end the schedule early.
    pub fn new(started_on: NaiveDate, cadence_days: u16, check_ins: u16, tz: Tz) -> Self {
        let cadence = u64::from(cadence_days.max(1));
        let mut slots = Vec::with_capacity(usize::from(check_ins));
        // Each window opens when the one before closes: one time-zone conversion per
        // boundary, not two per check-in (they were most of a page of pairings' schedules).
        let mut opens_at = day_start(started_on, tz);
        for number in 1..=check_ins {
            let offset = u64::from(number - 1) * cadence;
            let Some(due_on) = started_on.checked_add_days(Days::new(offset)) else {
                break;
            };
            let Some(next_due) = due_on.checked_add_days(Days::new(cadence)) else {
                break;
            };
            let Some(closes_on) = next_due.pred_opt() else {
                break;
            };
            let closes_at = day_start(next_due, tz);
            slots.push(Slot {
                number,
                due_on,
                closes_on,
                opens_at,
                closes_at,
            });
            opens_at = closes_at;
        }
        Self { slots }
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// Check-in `number`, if the schedule has it.
    pub fn slot(&self, number: u16) -> Option<&Slot> {
        let index = usize::from(number).checked_sub(1)?;
        self.slots.get(index)
    }

    /// When the last window closes: the pairing is then completed.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.slots.last().map(|slot| slot.closes_at)
    }
}

/// The local date a pairing made at `at` starts on, in the mentee's time zone: a pair
/// matched late in the evening starts that evening's day, not the UTC one.
pub fn start_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The first instant of a local day. Where midnight falls in a clock change's gap (some
/// zones change at 00:00), the day begins when the clocks resume; where midnight happens
/// twice, at the first.
pub fn day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    // Gaps last at most a few hours; quarter hours cover every offset in use.
    for quarter in 0..(24 * 4) {
        let local = midnight + chrono::Duration::minutes(15 * quarter);
        if let Some(instant) = tz.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
    }
    // Unreachable for real zones: no day is entirely skipped by a quarter-hour zone.
    midnight.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDateTime};
    use proptest::prelude::*;

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse::<DateTime<Utc>>()
            .unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn tz(name: &str) -> Tz {
        name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn weekly_check_ins_fall_on_the_same_weekday() {
        let schedule = Schedule::new(date("2026-01-05"), 7, 12, Tz::UTC);
        assert_eq!(schedule.slots().len(), 12);
        let third = schedule.slot(3).copied().unwrap_or_else(|| panic!());
        assert_eq!(third.due_on, date("2026-01-19"));
        assert_eq!(third.closes_on, date("2026-01-25"));
        assert_eq!(third.opens_at, utc("2026-01-19T00:00:00Z"));
        assert_eq!(third.closes_at, utc("2026-01-26T00:00:00Z"));
        assert_eq!(schedule.ends_at(), Some(utc("2026-03-30T00:00:00Z")));
        assert!(schedule.slot(0).is_none() && schedule.slot(13).is_none());
    }

    #[test]
    fn auckland_days_begin_the_previous_utc_day() {
        // New Zealand daylight time (UTC+13) in January.
        let schedule = Schedule::new(date("2026-01-10"), 7, 2, tz("Pacific/Auckland"));
        let first = schedule.slots()[0];
        assert_eq!(first.opens_at, utc("2026-01-09T11:00:00Z"));
        assert_eq!(first.closes_at, utc("2026-01-16T11:00:00Z"));
    }

    #[test]
    fn a_week_across_auckland_spring_forward_is_an_hour_shorter() {
        // Clocks go from 02:00 to 03:00 on 2026-09-27 (UTC+12 → UTC+13).
        let schedule = Schedule::new(date("2026-09-24"), 7, 2, tz("Pacific/Auckland"));
        let first = schedule.slots()[0];
        assert_eq!(first.opens_at, utc("2026-09-23T12:00:00Z"));
        assert_eq!(first.closes_at, utc("2026-09-30T11:00:00Z"));
        assert_eq!(
            first.closes_at - first.opens_at,
            Duration::hours(7 * 24 - 1)
        );
    }

    #[test]
    fn los_angeles_fall_back_makes_a_day_of_25_hours() {
        // Clocks go from 02:00 back to 01:00 on 2026-11-01 (UTC−7 → UTC−8).
        let schedule = Schedule::new(date("2026-11-01"), 1, 2, tz("America/Los_Angeles"));
        let first = schedule.slots()[0];
        assert_eq!(first.opens_at, utc("2026-11-01T07:00:00Z"));
        assert_eq!(first.closes_at, utc("2026-11-02T08:00:00Z"));
        assert_eq!(first.closes_on, date("2026-11-01"));
    }

    #[test]
    fn kolkata_keeps_its_half_hour() {
        let schedule = Schedule::new(date("2026-03-08"), 14, 3, tz("Asia/Kolkata"));
        let second = schedule.slots()[1];
        assert_eq!(second.due_on, date("2026-03-22"));
        assert_eq!(second.closes_on, date("2026-04-04"));
        assert_eq!(second.opens_at, utc("2026-03-21T18:30:00Z"));
        assert_eq!(second.closes_at, utc("2026-04-04T18:30:00Z"));
    }

    #[test]
    fn a_day_that_starts_in_a_gap_starts_when_the_clocks_resume() {
        // Chile springs forward at 24:00 on 2026-09-05: 2026-09-06 begins at 01:00.
        let start = day_start(date("2026-09-06"), tz("America/Santiago"));
        assert_eq!(start, utc("2026-09-06T04:00:00Z"));
        assert_eq!(
            start.with_timezone(&tz("America/Santiago")).date_naive(),
            date("2026-09-06")
        );
    }

    #[test]
    fn a_pairing_made_late_in_the_evening_starts_that_local_day() {
        // 23:30 in Los Angeles is already the next day in UTC.
        let made = utc("2026-06-10T06:30:00Z");
        let la = tz("America/Los_Angeles");
        let started_on = start_date(made, la);
        assert_eq!(started_on, date("2026-06-09"));
        let first = Schedule::new(started_on, 7, 4, la).slots()[0];
        assert!(first.is_open(made), "{first:?}");
        assert_eq!(first.closes_on, date("2026-06-15"));
    }

    const ZONES: &[&str] = &[
        "UTC",
        "Pacific/Auckland",
        "Pacific/Chatham",
        "America/Los_Angeles",
        "America/Santiago",
        "America/St_Johns",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "Europe/Rome",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
    ];

    fn any_zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(ZONES).prop_map(tz)
    }

    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2020–2035, to the second.
        (1_577_836_800i64..2_082_758_400)
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_else(|| panic!("{s}")))
    }

    fn local(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
        at.with_timezone(&tz).naive_local()
    }

    proptest! {
        #[test]
        fn windows_follow_each_other_without_gaps(
            made in any_instant(), zone in any_zone(), cadence in 1u16..=31, count in 1u16..=52,
        ) {
            let started_on = start_date(made, zone);
            let schedule = Schedule::new(started_on, cadence, count, zone);
            prop_assert_eq!(schedule.slots().len(), usize::from(count));
            for pair in schedule.slots().windows(2) {
                prop_assert_eq!(pair[0].closes_at, pair[1].opens_at);
                prop_assert_eq!(pair[0].closes_on.succ_opt(), Some(pair[1].due_on));
            }
            prop_assert_eq!(schedule.ends_at(), schedule.slots().last().map(|s| s.closes_at));
        }

        #[test]
        fn each_check_in_is_due_cadence_days_after_the_last_as_a_local_date(
            made in any_instant(), zone in any_zone(), cadence in 1u16..=31, count in 1u16..=52,
        ) {
            let started_on = start_date(made, zone);
            let schedule = Schedule::new(started_on, cadence, count, zone);
            for slot in schedule.slots() {
                let days = i64::from(slot.number - 1) * i64::from(cadence);
                prop_assert_eq!((slot.due_on - started_on).num_days(), days);
                prop_assert_eq!((slot.closes_on - slot.due_on).num_days(), i64::from(cadence) - 1);
                // The window opens as the due day begins there, and not a moment before.
                prop_assert_eq!(local(slot.opens_at, zone).date(), slot.due_on);
                prop_assert!(local(slot.opens_at - Duration::seconds(1), zone).date() < slot.due_on);
                prop_assert_eq!(local(slot.closes_at - Duration::seconds(1), zone).date(), slot.closes_on);
                prop_assert!(local(slot.closes_at, zone).date() > slot.closes_on);
                // Clock changes stretch or shrink a window by at most two hours.
                let hours = (slot.closes_at - slot.opens_at).num_minutes() as f64 / 60.0;
                prop_assert!((hours - 24.0 * f64::from(cadence)).abs() <= 2.0, "{hours}");
            }
        }

        #[test]
        fn the_first_check_in_is_open_from_the_moment_of_pairing(
            made in any_instant(), zone in any_zone(), cadence in 1u16..=31,
        ) {
            let schedule = Schedule::new(start_date(made, zone), cadence, 1, zone);
            prop_assert!(schedule.slots()[0].is_open(made), "{:?}", schedule.slots()[0]);
        }
    }
}
