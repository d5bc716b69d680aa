//! Conversions between stored columns and domain values.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::StoreError;

pub fn to_db_time(at: DateTime<Utc>) -> NaiveDateTime {
    tandem_domain::clock::storable(at).naive_utc()
}

pub fn from_db_time(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// Parses a stored id; a malformed one means the database was written by something else.
pub fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("stored {what} id {raw:?} is not a UUID")))
}

pub fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

/// A stored timestamp, read by a fixed-format parser on SQLite: diesel tries chrono's
/// format strings one after another on every value (about 4% of the server's CPU on a
/// pairing's check-ins, docs/performance.md), while every value Tandem writes has the
/// one form diesel writes, `YYYY-MM-DD HH:MM:SS[.fraction]`. Anything else goes the
/// way diesel reads it. Hot row types read their timestamp columns through it:
/// `#[diesel(deserialize_as = StoredTime)]`.
#[derive(Debug, Clone, Copy, diesel::deserialize::FromSqlRow)]
pub(crate) struct StoredTime(NaiveDateTime);

impl From<StoredTime> for NaiveDateTime {
    fn from(time: StoredTime) -> Self {
        time.0
    }
}

/// A stored date, read as `StoredTime` is: `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, diesel::deserialize::FromSqlRow)]
pub(crate) struct StoredDate(NaiveDate);

impl From<StoredDate> for NaiveDate {
    fn from(date: StoredDate) -> Self {
        date.0
    }
}

mod stored_forms {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::Pg;
    use diesel::sql_types::{Date, Timestamp};
    use diesel::sqlite::Sqlite;

    use super::{StoredDate, StoredTime};
    use crate::db::MultiBackend;

    impl FromSql<Timestamp, Sqlite> for StoredTime {
        fn from_sql(
            mut value: diesel::sqlite::SqliteValue<'_, '_, '_>,
        ) -> deserialize::Result<Self> {
            match date_time(value.read_text().as_bytes()) {
                Some(time) => Ok(StoredTime(time)),
                None => {
                    <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(StoredTime)
                }
            }
        }
    }

    impl FromSql<Timestamp, Pg> for StoredTime {
        fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
            <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(StoredTime)
        }
    }

    impl FromSql<Timestamp, MultiBackend> for StoredTime {
        fn from_sql(
            value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
        ) -> deserialize::Result<Self> {
            value.from_sql::<Self, Timestamp>()
        }
    }

    impl FromSql<Date, Sqlite> for StoredDate {
        fn from_sql(
            mut value: diesel::sqlite::SqliteValue<'_, '_, '_>,
        ) -> deserialize::Result<Self> {
            date(value.read_text().as_bytes()).map_or_else(
                || <NaiveDate as FromSql<Date, Sqlite>>::from_sql(value).map(StoredDate),
                |d| Ok(StoredDate(d)),
            )
        }
    }

    impl FromSql<Date, Pg> for StoredDate {
        fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
            <NaiveDate as FromSql<Date, Pg>>::from_sql(value).map(StoredDate)
        }
    }

    impl FromSql<Date, MultiBackend> for StoredDate {
        fn from_sql(
            value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
        ) -> deserialize::Result<Self> {
            value.from_sql::<Self, Date>()
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 fraction digits.
    pub(super) fn date_time(text: &[u8]) -> Option<NaiveDateTime> {
        let (day, rest) = text.split_at_checked(10)?;
        let [b' ', h1, h2, b':', m1, m2, b':', s1, s2, fraction @ ..] = rest else {
            return None;
        };
        let nanos = match fraction {
            [] => 0,
            [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
                let value = number(digits)?;
                value * 10u32.pow(9 - digits.len() as u32)
            }
            _ => return None,
        };
        let time = NaiveTime::from_hms_nano_opt(
            number(&[*h1, *h2])?,
            number(&[*m1, *m2])?,
            number(&[*s1, *s2])?,
            nanos,
        )?;
        Some(date(day)?.and_time(time))
    }

    /// `YYYY-MM-DD`.
    pub(super) fn date(text: &[u8]) -> Option<NaiveDate> {
        let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *text else {
            return None;
        };
        NaiveDate::from_ymd_opt(
            i32::try_from(number(&[y1, y2, y3, y4])?).ok()?,
            number(&[m1, m2])?,
            number(&[d1, d2])?,
        )
    }

    fn number(digits: &[u8]) -> Option<u32> {
        digits.iter().try_fold(0u32, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + u32::from(digit - b'0'))
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveDateTime};

    use super::stored_forms::{date, date_time};

    #[test]
    fn the_fixed_forms_read_as_chrono_reads_them() {
        for text in [
            "2026-12-01 02:03:04",
            "2026-12-01 02:03:04.5",
            "2026-12-01 23:59:59.123456",
            "1999-02-28 00:00:00.000000001",
        ] {
            let chrono = NaiveDateTime::parse_from_str(text, "%F %T%.f").expect("chrono reads it");
            assert_eq!(date_time(text.as_bytes()), Some(chrono), "{text}");
        }
        assert_eq!(date(b"2027-03-08"), NaiveDate::from_ymd_opt(2027, 3, 8));
    }

    #[test]
    fn other_forms_are_left_to_diesel() {
        for text in [
            "2026-12-01T02:03:04",
            "2026-12-01 02:03",
            "2026-12-01 02:03:04Z",
            "2026-12-01 02:03:04+01:00",
            "2026-12-01 02:03:04.",
            "2026-12-01 02:03:04.1234567890",
            "2026-02-30 02:03:04",
            "2026-12-01 24:03:04",
            "2026-1a-01 02:03:04",
            "2460000.5",
            "",
        ] {
            assert_eq!(date_time(text.as_bytes()), None, "{text}");
        }
        assert_eq!(date(b"2027-3-08"), None);
    }
}
