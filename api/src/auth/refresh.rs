//! Opaque refresh tokens: 256 random bits, handed out once and stored only as a hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a refresh token stays usable.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// A new token to give the client.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps. A fast hash suffices: the token is random, not a password.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
