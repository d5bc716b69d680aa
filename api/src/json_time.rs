//! Dates and instants in JSON exactly as chrono's serde writes them (`2026-11-30`,
//! RFC 3339 in UTC with `Z` and as many fraction digits as needed: none, 3, 6 or 9),
//! written from digits instead of through `fmt`: formatting the timestamps of a list of
//! check-ins took about a twelfth of its CPU. Years outside 0–9999 and leap seconds, which
//! Tandem never stores, go to chrono itself. For the fields of the hot views:
//! `#[serde(serialize_with = "crate::json_time::date")]` and its siblings.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Serialize, Serializer};

/// `YYYY-MM-DDTHH:MM:SS.fffffffffZ`
const LONGEST: usize = 30;

struct Digits {
    buffer: [u8; LONGEST],
    len: usize,
}

impl Digits {
    fn new() -> Self {
        Self {
            buffer: [0; LONGEST],
            len: 0,
        }
    }

    fn byte(&mut self, byte: u8) {
        self.buffer[self.len] = byte;
        self.len += 1;
    }

    /// `value` as exactly `width` decimal digits (it has no more).
    fn number(&mut self, mut value: u32, width: usize) {
        for at in (self.len..self.len + width).rev() {
            self.buffer[at] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += width;
    }

    fn date(&mut self, date: NaiveDate) {
        // The callers checked the year is in 0..=9999.
        self.number(date.year().unsigned_abs(), 4);
        self.byte(b'-');
        self.number(date.month(), 2);
        self.byte(b'-');
        self.number(date.day(), 2);
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators were written.
        std::str::from_utf8(&self.buffer[..self.len]).unwrap_or_default()
    }
}

fn plain_year(date: NaiveDate) -> bool {
    (0..=9999).contains(&date.year())
}

pub fn date<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    if !plain_year(*date) {
        return date.serialize(serializer);
    }
    let mut out = Digits::new();
    out.date(*date);
    serializer.serialize_str(out.as_str())
}

pub fn optional_date<S: Serializer>(
    value: &Option<NaiveDate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => date(value, serializer),
        None => serializer.serialize_none(),
    }
}

pub fn instant<S: Serializer>(instant: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let nanos = instant.nanosecond();
    if !plain_year(instant.date_naive()) || nanos >= 1_000_000_000 {
        return instant.serialize(serializer);
    }
    let mut out = Digits::new();
    out.date(instant.date_naive());
    out.byte(b'T');
    out.number(instant.hour(), 2);
    out.byte(b':');
    out.number(instant.minute(), 2);
    out.byte(b':');
    out.number(instant.second(), 2);
    if nanos != 0 {
        out.byte(b'.');
        if nanos.is_multiple_of(1_000_000) {
            out.number(nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            out.number(nanos / 1_000, 6);
        } else {
            out.number(nanos, 9);
        }
    }
    out.byte(b'Z');
    serializer.serialize_str(out.as_str())
}

pub fn optional_instant<S: Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => instant(value, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDateTime, TimeZone};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "date")]
        date: NaiveDate,
        #[serde(serialize_with = "optional_date")]
        maybe_date: Option<NaiveDate>,
        #[serde(serialize_with = "instant")]
        instant: DateTime<Utc>,
        #[serde(serialize_with = "optional_instant")]
        maybe_instant: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chronos {
        date: NaiveDate,
        maybe_date: Option<NaiveDate>,
        instant: DateTime<Utc>,
        maybe_instant: Option<DateTime<Utc>>,
    }

    fn both_write(instant: DateTime<Utc>, present: bool) {
        let date = instant.date_naive();
        let ours = Ours {
            date,
            maybe_date: present.then_some(date),
            instant,
            maybe_instant: present.then_some(instant),
        };
        let chronos = Chronos {
            date,
            maybe_date: present.then_some(date),
            instant,
            maybe_instant: present.then_some(instant),
        };
        assert_eq!(
            serde_json::to_string(&ours).expect("ours"),
            serde_json::to_string(&chronos).expect("chrono's"),
        );
    }

    fn at(text: &str, nanos: u32) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("time");
        Utc.from_utc_datetime(&naive)
            .with_nanosecond(nanos)
            .expect("nanos")
    }

    #[test]
    fn every_precision_and_the_edges_of_the_plain_years_read_as_chrono_writes_them() {
        for text in [
            "2026-11-30 00:00:00",
            "2027-03-09 20:14:03",
            "0000-01-01 00:00:00",
            "0999-12-31 23:59:59",
            "9999-12-31 23:59:59",
        ] {
            for nanos in [
                0,
                1,
                500,
                512_000,
                999_000,
                7_000_000,
                645_913_000,
                999_999_999,
            ] {
                for present in [true, false] {
                    both_write(at(text, nanos), present);
                }
            }
        }
    }

    #[test]
    fn years_beyond_four_digits_and_leap_seconds_are_left_to_chrono() {
        both_write(at("2026-06-30 23:59:59", 1_500_000_000), true);
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).expect("date");
        let before = NaiveDate::from_ymd_opt(-1, 12, 31).expect("date");
        for date in [far, before] {
            let instant = Utc.from_utc_datetime(&date.and_hms_opt(1, 2, 3).expect("time"));
            both_write(instant, true);
        }
    }

    #[test]
    fn a_stretch_of_instants_reads_as_chrono_writes_them() {
        // A step prime to every unit, so days, hours, seconds and digits all vary.
        let mut instant = at("1999-02-27 13:45:07", 123_456_789);
        for _ in 0..5_000 {
            both_write(instant, true);
            instant += chrono::Duration::nanoseconds(86_399_999_937_113);
        }
    }
}
