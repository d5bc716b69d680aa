//! Configuration from the environment (each setting also a command-line flag).

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
}

impl DatabaseSettings {
    pub fn db_config(&self) -> DbConfig {
        DbConfig {
            url: self.database_url.clone(),
            pool_size: self.db_pool_size.max(1),
            connect_timeout: Duration::from_secs(10),
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
    #[command(flatten)]
    pub limits: crate::limits::LimitSettings,
    #[command(flatten)]
    pub jobs: crate::jobs::JobSettings,
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
