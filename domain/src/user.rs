//! User accounts: the values a user is made of, each parsed once and valid after.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use unicode_normalization::UnicodeNormalization;

use crate::ids::UserId;
use crate::text::{self, Lines};
use crate::ValidationError;

/// A user account as stored (the password hash stays in persistence).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: DisplayName,
    pub time_zone: TimeZone,
    /// Bumped on every change; the API's ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An email address, normalised: trimmed and lower-cased, since emails are unique
/// regardless of case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// A new address, as registration takes it: well formed, and not under a top-level
    /// domain reserved as never deliverable (RFC 2606, RFC 6761): `.invalid` is where
    /// deleted accounts' tombstones live, so no one can take a tombstone's address first
    /// and make that account's deletion fail on the unique email rule.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = Self::parse_stored(raw)?;
        let domain = email.0.rsplit_once('@').map_or("", |(_, domain)| domain);
        if domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| Self::RESERVED_TLDS.contains(&tld))
        {
            return Err(ValidationError::new(
                "email",
                "must be a deliverable address (reserved domains such as .invalid are refused)",
            ));
        }
        Ok(email)
    }

    /// Top-level domains that can never receive mail.
    const RESERVED_TLDS: [&'static str; 1] = ["invalid"];

    /// An address as stored: well formed. Tombstones (`Erased::email`) are, though
    /// `parse` refuses them.
    pub fn parse_stored(raw: &str) -> Result<Self, ValidationError> {
        let email = text::clean(raw, "email", Lines::One)?.to_lowercase();
        let invalid = || ValidationError::new("email", "must be a valid email address");
        if email.len() > 254 || email.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown to other members: 1–80 characters after normalising and trimming,
/// and never the label that stands for a deleted account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 80;
    /// What partners see in place of a deleted member's name; nobody may take it.
    pub const DELETED: &'static str = "Deleted member";

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = text::clean(raw, "display_name", Lines::One)?;
        if name.is_empty() || text::length(raw, &name) > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "display_name",
                "must be 1 to 80 characters",
            ));
        }
        if Self::is_reserved(&name) {
            return Err(ValidationError::new(
                "display_name",
                "is reserved for deleted accounts; choose another name",
            ));
        }
        Ok(Self(name))
    }

    /// Reads as the deleted-account label: compared without case, in compatibility form
    /// (full-width letters are letters) and with any run of spaces as one space.
    fn is_reserved(name: &str) -> bool {
        let folded: String = name.nfkc().collect::<String>().to_lowercase();
        let words: Vec<&str> = folded.split_whitespace().collect();
        words.join(" ") == Self::DELETED.to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name others see for a user: their display name, or the deleted-account label
/// once the account is deleted (whatever the row still holds).
pub fn shown_name(display_name: &str, deleted: bool) -> &str {
    if deleted {
        DisplayName::DELETED
    } else {
        display_name
    }
}

/// What a deleted account's row holds in place of the person's data: the row stays so
/// pairings and enrolments keep their user (admins' counts stay right), nothing in it
/// is theirs.
pub struct Erased;

impl Erased {
    /// Frees the address for a new account: unique per account and never deliverable
    /// (`.invalid` is reserved, RFC 2606), so no one can register or log in with it.
    pub fn email(id: UserId) -> String {
        format!("deleted-{id}@deleted.invalid")
    }

    /// Matches no password: it is not a hash at all.
    pub const PASSWORD_HASH: &'static str = "!deleted";
}

/// An IANA time zone name such as `Europe/Rome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        raw.trim().parse::<Tz>().map(Self).map_err(|_| {
            ValidationError::new(
                "time_zone",
                "must be an IANA time zone name such as Europe/Rome",
            )
        })
    }

    /// Every name `parse` accepts (IANA names, as the tz database spells them).
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    pub fn utc() -> Self {
        Self(Tz::UTC)
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

/// A new password: long enough to resist guessing, short enough to hash cheaply.
pub struct NewPassword<'a>(&'a str);

impl<'a> NewPassword<'a> {
    pub const MIN_CHARS: usize = 10;
    /// Counted in characters, as JSON Schema's `maxLength` counts, so the spec can
    /// state it exactly; 256 characters are at most 1 KiB, still cheap to hash.
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: &'a str) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(ValidationError::new(
                "password",
                "must be 10 to 256 characters",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &'a str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").map(|e| e.to_string()),
            Ok("ada@example.org".to_owned())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@x.org",
            "a@.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse(" Ada ").map(|n| n.as_str().to_owned()),
            Ok("Ada".into())
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
        assert!(DisplayName::parse(&"è".repeat(80)).is_ok());
    }

    #[test]
    fn names_and_emails_with_hidden_characters_are_refused() {
        for bad in ["Ada\u{202E}nimda", "A\u{200B}da", "Ada\u{0001}"] {
            let error = DisplayName::parse(bad).err().map(|e| e.field);
            assert_eq!(error.as_deref(), Some("display_name"), "{bad:?}");
        }
        let error = Email::parse("ada\u{0001}@example.org")
            .err()
            .map(|e| e.field);
        assert_eq!(error.as_deref(), Some("email"));
        assert!(Email::parse("ad\u{200B}a@example.org").is_err());
    }

    #[test]
    fn names_and_emails_are_stored_in_nfc() {
        let decomposed = "Zoe\u{0308}";
        assert_eq!(
            DisplayName::parse(decomposed).map(|n| n.as_str().to_owned()),
            Ok("Zo\u{00EB}".to_owned())
        );
        assert_eq!(
            Email::parse("zoe\u{0308}@example.org"),
            Email::parse("Zo\u{00CB}@example.org")
        );
    }

    #[test]
    fn the_deleted_member_label_is_reserved() {
        for taken in [
            "Deleted member",
            "  deleted MEMBER ",
            "Deleted   member",
            "Deleted\u{00A0}member",
            "\u{FF24}eleted member",
        ] {
            let error = DisplayName::parse(taken).err();
            assert_eq!(
                error.map(|e| e.field).as_deref(),
                Some("display_name"),
                "{taken:?}"
            );
        }
        assert!(DisplayName::parse("Deleted members club").is_ok());
        assert!(DisplayName::parse("Deleted").is_ok());
    }

    #[test]
    fn deleted_accounts_are_shown_by_the_label_and_keep_no_address() {
        assert_eq!(shown_name("Ada", false), "Ada");
        assert_eq!(shown_name("Ada", true), "Deleted member");
        let id = UserId(uuid::Uuid::nil());
        let email = Erased::email(id);
        // Loads back as a stored address, but registration can never produce it.
        assert!(email.ends_with("@deleted.invalid"));
        assert_eq!(
            Email::parse_stored(&email).map(|e| e.to_string()),
            Ok(email.clone())
        );
        assert_eq!(
            Email::parse(&email).err().map(|e| e.field).as_deref(),
            Some("email")
        );
        assert!(Email::parse("Ada@Mail.INVALID").is_err());
        assert!(Email::parse("ada@invalid.example.org").is_ok());
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZone::parse("Europe/Rome").map(|t| t.name()),
            Ok("Europe/Rome")
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("long enough pass").is_ok());
        assert!(NewPassword::parse(&"x".repeat(300)).is_err());
    }
}
