//! Typed identifiers, so a group id is never passed where a user id belongs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::timestamp::context::ContextV7;
use uuid::Uuid;

/// Keeps ids made in the same millisecond in creation order (a counter in the random
/// bits), so keyset pagination by id never reorders a burst of inserts.
static V7_CONTEXT: std::sync::Mutex<ContextV7> = std::sync::Mutex::new(ContextV7::new());

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id; time-ordered (UUIDv7), so ids sort by creation for cursor pagination.
            pub fn new_v7(at: chrono::DateTime<chrono::Utc>) -> Self {
                let ts = uuid::Timestamp::from_unix(
                    &V7_CONTEXT,
                    u64::try_from(at.timestamp()).unwrap_or(0),
                    at.timestamp_subsec_nanos(),
                );
                Self(Uuid::new_v7(ts))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_at_one_instant_keep_their_order() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let ids: Vec<UserId> = (0..1000).map(|_| UserId::new_v7(at)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids.windows(2).all(|w| w[0] != w[1]));
    }
}

id_type!(
    /// A user account.
    UserId,
    /// A community group.
    GroupId,
    /// A membership of a user in a group.
    MembershipId,
    /// A family of rotating refresh tokens (one login session).
    TokenFamilyId,
    /// One refresh token.
    RefreshTokenId,
    /// A custom template saved in a group.
    CustomTemplateId,
    /// A mentorship program of a group.
    ProgramId,
    /// A member's enrolment in a program as mentor or mentee.
    EnrolmentId,
    /// A mentor and a mentee paired in a program.
    PairingId,
    /// A notification in a user's feed.
    NotificationId,
    /// A message in a pair space.
    MessageId,
    /// A partner's report about the other to the group's admins.
    ReportId,
);
