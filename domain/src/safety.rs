//! A partner's ways out of a pairing that makes them unsafe: a block (the two are never
//! paired again in the group) and a report to the group's admins.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{GroupId, PairingId, ProgramId, ReportId, UserId};
use crate::pairing::Pairing;
use crate::DomainError;

/// What the blocked partner and the pairing's readers see as the end reason: the
/// blocker's own reason stays with the block, and the word "block" is never shown.
pub const BLOCK_END_REASON: &str = "The pairing was ended.";

/// A block's or a report's reason follows the end reason's rule.
pub use crate::pairing::validate_reason;

/// The other partner, when `caller` is one of the pairing's two; an admin or anyone
/// else may not block or report in a pair's name.
fn other_partner(pairing: &Pairing, caller: UserId) -> Result<UserId, DomainError> {
    pairing.partner_of(caller).ok_or(DomainError::Forbidden(
        "only the pairing's partners can do this",
    ))
}

/// One partner will never be paired with the other again in the group.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub group_id: GroupId,
    pub blocker: UserId,
    pub blocked: UserId,
    pub pairing_id: PairingId,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl Block {
    /// A partner blocks the other, whatever the pairing's status: an ended pairing's
    /// partners must not be paired again either.
    pub fn new(
        group_id: GroupId,
        pairing: &Pairing,
        by: UserId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let blocked = other_partner(pairing, by)?;
        Ok(Self {
            group_id,
            blocker: by,
            blocked,
            pairing_id: pairing.id,
            reason: validate_reason(reason)?,
            created_at: now,
        })
    }

    /// The pair in a fixed order, as it is stored once whoever blocked.
    pub fn pair(&self) -> (UserId, UserId) {
        ordered(self.blocker, self.blocked)
    }
}

fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The pairs of members blocked in one group: they are never paired, suggested or
/// assigned to each other.
#[derive(Debug, Clone, Default)]
pub struct BlockedPairs(HashSet<(UserId, UserId)>);

impl BlockedPairs {
    pub fn new(pairs: impl IntoIterator<Item = (UserId, UserId)>) -> Self {
        Self(pairs.into_iter().map(|(a, b)| ordered(a, b)).collect())
    }

    /// Whether either of the two blocked the other.
    pub fn contains(&self, a: UserId, b: UserId) -> bool {
        self.0.contains(&ordered(a, b))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReportStatus {
    /// Waiting for an admin.
    Open,
    /// An admin dealt with it.
    Resolved,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(ReportStatus::Open),
            "resolved" => Some(ReportStatus::Resolved),
            _ => None,
        }
    }
}

/// A partner's report about the other, read by the group's admins only.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: ReportId,
    pub group_id: GroupId,
    pub program_id: ProgramId,
    pub pairing_id: PairingId,
    pub reporter: UserId,
    pub reported: UserId,
    pub reason: String,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
}

impl Report {
    /// A partner reports the other, on an active or an ended pairing alike.
    pub fn new(
        id: ReportId,
        group_id: GroupId,
        pairing: &Pairing,
        by: UserId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let reported = other_partner(pairing, by)?;
        Ok(Self {
            id,
            group_id,
            program_id: pairing.program_id,
            pairing_id: pairing.id,
            reporter: by,
            reported,
            reason: validate_reason(reason)?,
            status: ReportStatus::Open,
            created_at: now,
            resolved_at: None,
            resolved_by: None,
        })
    }

    /// Marks it resolved. Resolving it again changes nothing: the first admin's time stays.
    /// Whether an admin may read (and resolve) this report: never the member it is
    /// about, who must not learn who reported them, even when they administer the group.
    pub fn visible_to(&self, admin: UserId) -> bool {
        self.reported != admin
    }

    pub fn resolve(&mut self, by: UserId, now: DateTime<Utc>) {
        if self.status == ReportStatus::Open {
            self.status = ReportStatus::Resolved;
            self.resolved_at = Some(now);
            self.resolved_by = Some(by);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_blocked_pair_is_found_whichever_way_round() {
        let (a, b, c) = (
            UserId::new_v7(at()),
            UserId::new_v7(at()),
            UserId::new_v7(at()),
        );
        let blocked = BlockedPairs::new([(b, a)]);
        assert!(blocked.contains(a, b));
        assert!(blocked.contains(b, a));
        assert!(!blocked.contains(a, c));
    }

    #[test]
    fn reasons_are_one_to_a_thousand_characters() {
        assert!(validate_reason("  ").is_err());
        assert!(validate_reason(&"x".repeat(1001)).is_err());
        assert_eq!(validate_reason(" unsafe ").ok().as_deref(), Some("unsafe"));
    }
}
