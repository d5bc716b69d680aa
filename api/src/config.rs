//! Configuration from the environment (each setting also a command-line flag).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use rand::RngCore;
use tandem_persistence::{DbConfig, Engine};

/// Where the data lives and how to reach it.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseSettings {
    /// An SQLite file path, or a `postgres://` URL.
    #[arg(long, env = "TANDEM_DATABASE_URL", default_value = "data/tandem.db")]
    pub database_url: String,
    /// Connections in the pool.
    #[arg(long, env = "TANDEM_DB_POOL_SIZE", default_value_t = 10)]
    pub db_pool_size: u32,
    /// How long a request waits for a pooled connection before it is answered 503, in
    /// milliseconds. Short, so that a database outage is a quick 503, not a hang.
    #[arg(long, env = "TANDEM_DB_CONNECT_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub db_connect_timeout_ms: u64,
}

impl DatabaseSettings {
    pub fn db_config(&self) -> DbConfig {
        DbConfig {
            url: self.database_url.clone(),
            pool_size: self.db_pool_size.max(1),
            connect_timeout: Duration::from_millis(self.db_connect_timeout_ms),
        }
    }
}

/// How to serve.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeSettings {
    #[command(flatten)]
    pub database: DatabaseSettings,
    /// Address and port to listen on.
    #[arg(long, env = "TANDEM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Secret that signs access tokens (at least 32 bytes). Optional on SQLite.
    #[arg(long, env = "TANDEM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "TANDEM_WORKERS")]
    pub workers: Option<usize>,
    /// The address clients reach this server at (`https://tandem.example.org`, with a
    /// path prefix if proxied under one), for the absolute links it hands out, such as
    /// calendar feed URLs. Default: `http://` and the bound address (loopback when bound
    /// to all interfaces).
    #[arg(long, env = "TANDEM_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub limits: crate::limits::LimitSettings,
    #[command(flatten)]
    pub jobs: crate::jobs::JobSettings,
    /// Comma-separated exact origins (`https://app.example.org`) whose browser pages may
    /// call the API (CORS). Unset: no CORS headers at all.
    #[arg(long, env = "TANDEM_CORS_ORIGINS")]
    pub cors_origins: Option<String>,
    /// When set, `GET /metrics` requires `Authorization: Bearer <this token>`.
    #[arg(long, env = "TANDEM_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Seconds a stopping server (SIGTERM, SIGINT) gives in-flight requests to finish.
    #[arg(long, env = "TANDEM_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Seconds a data export (`GET /v1/me/export`) may take in all, however its client
    /// reads: past it the body is cut with an error. Bounds how long one export holds a
    /// reader connection and its snapshot.
    #[arg(long, env = "TANDEM_EXPORT_DEADLINE_SECS", default_value_t = 300)]
    pub export_deadline_secs: u64,
}

/// The origins allowed to call the API from a browser: each exactly as browsers send
/// it in `Origin` (scheme, host, port when not the default; no path, no final slash),
/// since matching is exact. Empty (or unset) means no CORS at all.
pub fn cors_origins(raw: Option<&str>) -> anyhow::Result<Vec<String>> {
    let Some(raw) = raw.filter(|raw| !raw.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .map(|origin| {
            if origin == "*" {
                bail!("TANDEM_CORS_ORIGINS lists origins one by one; `*` is not accepted");
            }
            let url = url::Url::parse(origin).with_context(|| {
                format!("TANDEM_CORS_ORIGINS: {origin:?} is not an origin such as https://app.example.org")
            })?;
            let exact = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || exact != origin {
                bail!(
                    "TANDEM_CORS_ORIGINS: {origin:?} is not an exact origin; write it as browsers \
send it, such as {exact:?} (scheme and host, a port only when not the default, no path)"
                );
            }
            Ok(exact)
        })
        .collect()
}

/// Where clients reach the server: the base of the absolute links it hands out. It is
/// configured, never taken from a request's `Host` header, which the client writes: a
/// link built from it could send a feed's secret to a host of the client's choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// An `http` or `https` URL with a host, and neither credentials, query nor fragment.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(raw.trim())
            .with_context(|| format!("TANDEM_PUBLIC_URL {raw:?} is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            bail!("TANDEM_PUBLIC_URL must be an http:// or https:// URL with a host, not {raw:?}");
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            bail!("TANDEM_PUBLIC_URL takes no credentials, query or fragment: {raw:?}");
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The default: the address the server is bound to. Bound to all interfaces, it
    /// has no one address to give, so loopback, which is right only for local use.
    pub fn of_bound(address: SocketAddr) -> Self {
        let ip = match address.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Self(format!("http://{}", SocketAddr::new(ip, address.port())))
    }

    /// The configured URL, else the default for `bound` (with a warning when that
    /// default cannot be what remote clients use).
    pub fn configured_or_bound(
        configured: Option<&str>,
        bound: SocketAddr,
    ) -> anyhow::Result<Self> {
        match configured.filter(|raw| !raw.trim().is_empty()) {
            Some(raw) => Self::parse(raw),
            None => {
                let url = Self::of_bound(bound);
                if bound.ip().is_unspecified() {
                    tracing::warn!(url = %url.0, "TANDEM_PUBLIC_URL is not set and the server listens on all interfaces: links it hands out (calendar feeds) name loopback; set TANDEM_PUBLIC_URL to the address clients use");
                }
                Ok(url)
            }
        }
    }

    /// An absolute URL for `path` (which starts with `/`, and may carry a query).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The signing secret: configured, or on SQLite one generated once and kept beside the
/// database so tokens survive restarts. PostgreSQL deployments run several nodes that
/// must share a secret, so there it has to be configured.
pub fn jwt_secret(settings: &ServeSettings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        if secret.len() < 32 {
            bail!("TANDEM_JWT_SECRET must be at least 32 bytes long");
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let url = &settings.database.database_url;
    if Engine::of_url(url) == Engine::Postgres {
        bail!(
            "TANDEM_JWT_SECRET is not set. On PostgreSQL every node must sign tokens with the \
same secret: set TANDEM_JWT_SECRET to at least 32 random bytes (e.g. `openssl rand -hex 32`)."
        );
    }
    let path = secret_path(url);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            tracing::warn!(path = %path.display(), "TANDEM_JWT_SECRET is not set; using the generated secret kept beside the database");
            return Ok(existing.into_bytes());
        }
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(path = %path.display(), "TANDEM_JWT_SECRET is not set; generated a secret and kept it beside the database");
    Ok(secret.into_bytes())
}

fn secret_path(database_url: &str) -> PathBuf {
    let db = Path::new(database_url);
    let dir = db.parent().unwrap_or_else(|| Path::new("."));
    dir.join("jwt-secret")
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> String {
        PublicUrl::parse(raw)
            .unwrap_or_else(|e| panic!("{raw}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn a_public_url_keeps_its_prefix_without_the_final_slash() {
        assert_eq!(
            parsed("https://tandem.example.org/"),
            "https://tandem.example.org"
        );
        assert_eq!(
            parsed(" https://example.org/tandem/ "),
            "https://example.org/tandem"
        );
        let url = PublicUrl::parse("http://example.org:8080/api").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.join("/v1/me"), "http://example.org:8080/api/v1/me");
    }

    #[test]
    fn a_public_url_is_http_with_a_host_and_nothing_else() {
        for raw in [
            "example.org",
            "ftp://example.org",
            "https://user:pw@example.org",
            "https://example.org/?a=1",
            "https://example.org/#top",
            "mailto:someone@example.org",
        ] {
            assert!(PublicUrl::parse(raw).is_err(), "{raw} was accepted");
        }
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        let parsed = |raw| cors_origins(Some(raw)).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(
            parsed("https://app.example.org, http://localhost:3000"),
            ["https://app.example.org", "http://localhost:3000"]
        );
        assert!(parsed("  ").is_empty());
        assert!(cors_origins(None)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty());
        for raw in [
            "*",
            "app.example.org",
            "https://app.example.org/",
            "https://app.example.org/path",
            "https://APP.example.org",
            "https://app.example.org:443",
            "ftp://app.example.org",
            "null",
            "https://app.example.org,",
        ] {
            let error = cors_origins(Some(raw)).err();
            assert!(
                error.is_some_and(|e| e.to_string().contains("TANDEM_CORS_ORIGINS")),
                "{raw} was accepted"
            );
        }
    }

    #[test]
    fn the_default_is_the_bound_address_with_loopback_for_all_interfaces() {
        let bound = |raw: &str| raw.parse::<SocketAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            PublicUrl::of_bound(bound("127.0.0.1:8080")).as_str(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            PublicUrl::of_bound(bound("0.0.0.0:80")).as_str(),
            "http://127.0.0.1:80"
        );
        assert_eq!(
            PublicUrl::of_bound(bound("[::]:8080")).as_str(),
            "http://[::1]:8080"
        );
        let configured = PublicUrl::configured_or_bound(Some(""), bound("10.0.0.5:9000"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(configured.as_str(), "http://10.0.0.5:9000");
    }
}
