//! What every handler shares: the database, the token keys and the clock.

use std::sync::Arc;

use actix_web::web;
use sha2::{Digest, Sha256};
use tandem_domain::clock::Clock;
use tandem_persistence::{Db, DbConn, Engine};

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHashing;
use crate::config::PublicUrl;
use crate::error::ApiError;
use crate::extract::{AuthUser, Bearer};
use crate::limits::{Account, AuthLimits};
use crate::turns::Turns;

pub struct AppState {
    pub db: Db,
    /// Turns at the readers' and the writers' pools, in order of arrival.
    pub turns: DbTurns,
    pub jwt: JwtKeys,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHashing,
    /// `None` when rate limits are off.
    pub auth_limits: Option<AuthLimits>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub public_url: PublicUrl,
    /// What `GET /metrics` requires, when configured.
    pub metrics_token: Option<MetricsToken>,
    /// How long a data export may take in all.
    pub export_deadline: std::time::Duration,
}

/// The handlers' turns at each pool (see `turns`).
pub struct DbTurns {
    readers: Turns,
    writers: Turns,
}

impl DbTurns {
    pub fn for_pools(db: &Db) -> Self {
        let [readers, writer] = db.pool_usage();
        Self {
            readers: Turns::new(readers.max, db.longest_wait()),
            writers: Turns::new(writer.max, db.longest_wait()),
        }
    }
}

/// The metrics bearer token, kept as its SHA-256: comparing digests takes the same time
/// whatever prefix of the token a guess gets right.
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    pub fn new(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Whether `presented` is the token.
    pub fn accepts(&self, presented: &str) -> bool {
        <[u8; 32]>::from(Sha256::digest(presented.as_bytes())) == self.0
    }
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        tandem_domain::clock::storable(self.clock.now())
    }

    /// Counts an auth attempt against the rate limits (429 when over).
    pub fn limit_auth(
        &self,
        address: std::net::IpAddr,
        account: Account<'_>,
    ) -> Result<(), ApiError> {
        match &self.auth_limits {
            Some(limits) => limits.check(address, account),
            None => Ok(()),
        }
    }

    /// Runs a read on a blocking thread, never on an async worker.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        let turn = self.turns.readers.take().await?;
        let db = self.db.clone();
        web::block(move || {
            let _turn = turn;
            db.read(f)
        })
        .await?
    }

    /// `read` for the hot reads made of a few key lookups.
    ///
    /// On SQLite, when a reader is idle, it runs on the async worker itself: such reads
    /// take microseconds, less than the two thread switches of a blocking-pool hop
    /// (scheduler time was about a fifth of the server's CPU on one pairing, step 5 of
    /// docs/performance.md). It never waits there: without an idle reader, and always on
    /// PostgreSQL (a network round trip), it goes to a blocking thread like `read`.
    pub async fn read_hot<T, F>(&self, read: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        if self.db.engine() != Engine::Sqlite {
            return self.read(read).await;
        }
        // A panic must not take the worker down; `web::block` gives the same guarantee.
        let inline =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.db.read_if_idle(read)));
        match inline {
            Ok(Ok(answer)) => answer,
            Ok(Err(read)) => self.read(read).await,
            Err(_) => Err(ApiError::Internal(anyhow::anyhow!("a read panicked"))),
        }
    }

    /// `write` for a bearer: the account's existence is checked first, in the same
    /// transaction, and `f` gets the caller (401 for a deleted account, as `AuthUser`).
    pub async fn write_as<T, F>(&self, bearer: Bearer, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, AuthUser) -> Result<T, ApiError> + Send + 'static,
    {
        self.write(move |conn| {
            let caller = bearer.check(conn)?;
            f(conn, caller)
        })
        .await
    }

    /// Runs `f` in one write transaction: all of it lands, or none. On SQLite, on the
    /// writer thread, which commits the writes waiting together (`WriteQueue`); on
    /// PostgreSQL, on a blocking thread with a pooled connection.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        if let Some(queue) = self.db.write_queue() {
            return queue.write(f).await;
        }
        let turn = self.turns.writers.take().await?;
        let db = self.db.clone();
        web::block(move || {
            let _turn = turn;
            db.write(f)
        })
        .await?
    }
}
