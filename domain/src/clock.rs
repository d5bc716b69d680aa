//! Time as a value: the domain never reads the wall clock itself.

use chrono::{DateTime, SubsecRound, Utc};

/// A source of "now". The server uses the system clock; tests may use a fixed one.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that always answers the same instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Both databases keep microseconds (SQLite would keep more): truncating here makes
/// every stored instant round-trip equal.
pub fn storable(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
