//! Limits on the endpoints that check passwords or mint tokens (register, login,
//! refresh): per client address and per account, so neither one address guessing many
//! accounts nor many addresses guessing one account get far. Counted in this node's
//! memory with `governor` (GCRA); with several nodes, each allows its own share.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::{web, FromRequest, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Rate limits and the password-hashing bound, from the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitSettings {
    /// `on`, or `off` for load tests.
    #[arg(long, env = "TANDEM_RATE_LIMITS", default_value = "on", value_parser = ["on", "off"])]
    pub rate_limits: String,
    /// Register, login and refresh requests allowed per minute from one client address.
    #[arg(long, env = "TANDEM_AUTH_RATE_PER_ADDRESS", default_value_t = NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN))]
    pub auth_rate_per_address: NonZeroU32,
    /// Register and login attempts per minute on one email (and uses of one refresh token).
    #[arg(long, env = "TANDEM_AUTH_RATE_PER_ACCOUNT", default_value_t = NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN))]
    pub auth_rate_per_account: NonZeroU32,
    /// Proxies (IPs or CIDR ranges, comma-separated) whose `X-Forwarded-For` names the
    /// client. Others' `X-Forwarded-For` is ignored: it could be spoofed.
    #[arg(long, env = "TANDEM_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpNet>,
    /// Passwords hashed at once (each takes 19 MiB); default one per core.
    #[arg(long, env = "TANDEM_PASSWORD_HASHING_SLOTS")]
    pub password_hashing_slots: Option<usize>,
    /// How long a request waits for a hashing slot before it is answered 503.
    #[arg(long, env = "TANDEM_PASSWORD_HASHING_WAIT_MS", default_value_t = 2000)]
    pub password_hashing_wait_ms: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            rate_limits: "on".into(),
            auth_rate_per_address: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            auth_rate_per_account: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            trusted_proxies: Vec::new(),
            password_hashing_slots: None,
            password_hashing_wait_ms: 2000,
        }
    }
}

impl LimitSettings {
    pub fn hashing_slots(&self) -> usize {
        self.password_hashing_slots
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    pub fn hashing_wait(&self) -> Duration {
        Duration::from_millis(self.password_hashing_wait_ms)
    }
}

/// Above this many remembered keys, keys whose limit has fully recovered are forgotten,
/// so a flood of distinct addresses or emails cannot grow memory without bound.
const FORGET_ABOVE_KEYS: usize = 10_000;

/// The auth rate limits of this node; `None` in `AppState` when they are off.
pub struct AuthLimits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<[u8; 32]>,
}

/// What a limited request is about: an email (register, login) or a refresh token.
pub enum Account<'a> {
    Email(&'a str),
    RefreshToken(&'a str),
}

impl AuthLimits {
    pub fn from_settings(settings: &LimitSettings) -> Option<Self> {
        (settings.rate_limits == "on").then(|| Self {
            per_address: RateLimiter::keyed(Quota::per_minute(settings.auth_rate_per_address)),
            per_account: RateLimiter::keyed(Quota::per_minute(settings.auth_rate_per_account)),
        })
    }

    /// Counts one attempt from `address` on `account`; 429 with `Retry-After` when either
    /// is over its limit.
    pub fn check(&self, address: IpAddr, account: Account<'_>) -> Result<(), ApiError> {
        check_key(&self.per_address, &address)?;
        // Hashed: the limiter's memory then holds no emails or tokens.
        let mut hasher = Sha256::new();
        match account {
            Account::Email(email) => {
                hasher.update(b"email\0");
                hasher.update(email.trim().to_lowercase());
            }
            Account::RefreshToken(token) => {
                hasher.update(b"refresh\0");
                hasher.update(token);
            }
        }
        check_key(&self.per_account, &hasher.finalize().into())
    }
}

fn check_key<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), ApiError>
where
    K: std::hash::Hash + Eq + Clone,
{
    if limiter.len() > FORGET_ABOVE_KEYS {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::TooManyRequests {
            detail: "too many attempts; wait before trying again".into(),
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not one of our proxies.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    // Proxies append: the rightmost entries are ours, the first other one is the client.
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

/// The caller's address as an extractor (see [`client_address`]).
pub struct ClientAddress(pub IpAddr);

impl FromRequest for ClientAddress {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip());
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.trusted_proxies.as_slice())
            .unwrap_or_default();
        std::future::ready(Ok(ClientAddress(client_address(
            peer,
            req.headers(),
            trusted,
        ))))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_address() {
        let headers = forwarded("203.0.113.9");
        assert_eq!(
            client_address(ip("198.51.100.7"), &headers, &[]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_nearest_untrusted_hop() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        // The client put a spoofed address first; our proxies appended the real one.
        let headers = forwarded("1.2.3.4, 203.0.113.9, 10.0.0.2");
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn limits_refuse_over_the_quota_and_say_when_to_retry() {
        let settings = LimitSettings {
            auth_rate_per_address: NonZeroU32::new(100).expect("nonzero"),
            auth_rate_per_account: NonZeroU32::new(2).expect("nonzero"),
            ..LimitSettings::default()
        };
        let limits = AuthLimits::from_settings(&settings).expect("on by default");
        let address = ip("203.0.113.9");
        assert!(limits
            .check(address, Account::Email("ada@example.org"))
            .is_ok());
        assert!(limits
            .check(address, Account::Email("ADA@example.org "))
            .is_ok());
        match limits.check(address, Account::Email("ada@example.org")) {
            Err(ApiError::TooManyRequests {
                retry_after_secs, ..
            }) => {
                assert!((1..=30).contains(&retry_after_secs))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // Another account from the same address is still allowed.
        assert!(limits
            .check(address, Account::Email("bob@example.org"))
            .is_ok());
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            limits: LimitSettings,
        }
        let parsed = Cli::parse_from(["tandem"]).limits;
        let default = LimitSettings::default();
        assert_eq!(parsed.rate_limits, "on");
        assert_eq!(
            (
                parsed.rate_limits,
                parsed.auth_rate_per_address,
                parsed.auth_rate_per_account
            ),
            (
                default.rate_limits,
                default.auth_rate_per_address,
                default.auth_rate_per_account
            )
        );
        assert!(AuthLimits::from_settings(&LimitSettings::default()).is_some());
    }

    #[test]
    fn off_means_no_limits() {
        let settings = LimitSettings {
            rate_limits: "off".into(),
            ..LimitSettings::default()
        };
        assert!(AuthLimits::from_settings(&settings).is_none());
    }
}
