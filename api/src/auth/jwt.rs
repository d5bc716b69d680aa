//! Short-lived access tokens: HS256 JWTs, and only HS256 is accepted.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tandem_domain::ids::UserId;

/// How long an access token lives.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
const ISSUER: &str = "tandem";
/// Seconds of clock skew allowed past a token's expiry.
const LEEWAY_SECS: u64 = 5;
/// Verified tokens remembered: one per client active within a token's lifetime, at
/// about 250 bytes each, is a few MB at most.
const VERIFIED_TOKENS: usize = 10_000;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: i64,
    exp: i64,
}

/// What a genuine token said: whose it is and until when it holds.
#[derive(Debug, Clone, Copy)]
struct Verified {
    user: UserId,
    expires_at: u64,
}

impl Verified {
    /// The same rule as `Validation`'s: expired once `exp` is more than the leeway past.
    fn holds_at(self, now: u64) -> bool {
        now <= self.expires_at.saturating_add(LEEWAY_SECS)
    }
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// A client sends the same token with each request for up to 15 minutes; checking
    /// its signature and parsing its claims once, instead of on every request, was
    /// about a twelfth of a hot read's CPU. Keyed by the whole token: only strings whose
    /// signature was verified get in, and the expiry is checked again on each use.
    verified: quick_cache::sync::Cache<Box<str>, Verified>,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: quick_cache::sync::Cache::new(VERIFIED_TOKENS),
        }
    }

    /// A signed access token for the user, and its lifetime in seconds.
    pub fn issue(&self, user: UserId, now: DateTime<Utc>) -> anyhow::Result<(String, i64)> {
        let claims = Claims {
            sub: user.to_string(),
            iss: ISSUER.into(),
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, ACCESS_TOKEN_TTL.num_seconds()))
    }

    /// The user a token speaks for, if the token is genuine, HS256 and unexpired.
    pub fn verify(&self, token: &str) -> Option<UserId> {
        // The clock `Validation` reads, so a remembered token expires when a fresh
        // verification would refuse it.
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(known) = self.verified.get(token) {
            return known.holds_at(now).then_some(known.user);
        }
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let verified = Verified {
            user: data.claims.sub.parse().ok()?,
            expires_at: u64::try_from(data.claims.exp).ok()?,
        };
        self.verified.insert(token.into(), verified);
        Some(verified.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a test secret of at least thirty-two bytes";

    fn issued_at(keys: &JwtKeys, user: UserId, seconds_ago: i64) -> String {
        let (token, _) = keys
            .issue(user, Utc::now() - Duration::seconds(seconds_ago))
            .expect("issue");
        token
    }

    #[test]
    fn a_token_verifies_again_from_memory_and_still_names_its_user() {
        let keys = JwtKeys::new(SECRET);
        let user = UserId(uuid::Uuid::now_v7());
        let token = issued_at(&keys, user, 0);
        assert_eq!(keys.verify(&token), Some(user));
        assert_eq!(keys.verified.len(), 1);
        assert_eq!(keys.verify(&token), Some(user));
        assert_eq!(keys.verified.len(), 1);
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let keys = JwtKeys::new(SECRET);
        let user = UserId(uuid::Uuid::now_v7());
        let token = issued_at(&keys, user, 0);
        assert_eq!(keys.verify(&token), Some(user));
        let known = keys.verified.get(token.as_str()).expect("remembered");
        let expiry = known.expires_at + LEEWAY_SECS;
        assert!(known.holds_at(expiry));
        assert!(!known.holds_at(expiry + 1));
        // Remembered as already expired: refused without a second verification.
        keys.verified.insert(
            token.as_str().into(),
            Verified {
                expires_at: 0,
                ..known
            },
        );
        assert_eq!(keys.verify(&token), None);
    }

    #[test]
    fn tampered_expired_and_foreign_tokens_are_refused_and_not_remembered() {
        let keys = JwtKeys::new(SECRET);
        let user = UserId(uuid::Uuid::now_v7());
        let expired = issued_at(&keys, user, ACCESS_TOKEN_TTL.num_seconds() + 60);
        let foreign = issued_at(
            &JwtKeys::new(b"another secret of thirty-two bytes!!"),
            user,
            0,
        );
        let genuine = issued_at(&keys, user, 0);
        // One character of the signature changed (not the last, whose low bits are padding).
        let at = genuine.len() - 10;
        let swapped = if &genuine[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &genuine[..at], &genuine[at + 1..]);
        for token in [&expired, &foreign, &tampered] {
            assert_eq!(keys.verify(token), None, "{token}");
        }
        assert_eq!(keys.verified.len(), 0);
        // The genuine token still verifies after its tampered copy was refused.
        assert_eq!(keys.verify(&genuine), Some(user));
    }
}
