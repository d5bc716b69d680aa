//! Connections, pools and migrations for both engines behind one type.
//!
//! SQLite gets one writer connection beside a pool of readers: SQLite allows a single
//! writer anyway, and queueing writers in the pool (instead of inside SQLite's busy
//! handler) keeps write latency flat and avoids `database is locked` on lock upgrades.
//! PostgreSQL gets two pools as well, so that reads can run on read-only sessions.
//!
//! Reader connections refuse writes (`PRAGMA query_only` on SQLite, read-only sessions
//! on PostgreSQL): a write slipped into a read path fails loudly in tests instead of
//! taking locks behind the caller's back.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::guides::Guides;
use crate::pooled::{note_connection_lost, PooledDb};
use crate::writer::WriteQueue;
use crate::StoreError;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to either engine; repositories are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs a hot query on the engine's own connection instead of through `DbConn`.
///
/// Diesel's multi-connection cannot key its statement cache by the query's type: on
/// every run it writes out the query's SQL text to look the prepared statement up, which
/// was 15–20% of the server's CPU on one pairing (step 6 of docs/performance.md). On the
/// engine's own connection a query whose shape is fixed is found by its type. The body
/// is one source, compiled once per engine: `on_engine!(conn, c => query.load(c))`.
macro_rules! on_engine {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_engine;

/// Which engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

impl Engine {
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }
}

/// Opens connections for the engine the URL names. Chosen by scheme rather than by
/// trying each engine in turn, so a PostgreSQL outage reports its real cause at once.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    engine: Engine,
    read_only: bool,
}

/// How long a writer waits for a lock another writer holds before the request is
/// answered 503 (SQLite's busy timeout; PostgreSQL's lock timeout).
const LOCK_WAIT_MS: u32 = 5000;

impl ManageConnection for ConnectionManager {
    type Connection = PooledDb;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PooledDb, r2d2::Error> {
        let opened = match self.engine {
            Engine::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.url)?;
                let session = if self.read_only {
                    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY".to_owned()
                } else {
                    format!("SET lock_timeout = {LOCK_WAIT_MS}")
                };
                conn.batch_execute(&session)
                    .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConn::Postgres(conn))
            }
            Engine::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url)?;
                // Every connection needs these: they are per connection in SQLite.
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA busy_timeout = {LOCK_WAIT_MS};
                     PRAGMA synchronous = NORMAL;
                     PRAGMA query_only = {};",
                    if self.read_only { "ON" } else { "OFF" }
                ))
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
        };
        match opened {
            Ok(conn) => Ok(PooledDb::new(conn)),
            Err(e) => {
                note_connection_lost();
                Err(r2d2::Error::ConnectionError(e))
            }
        }
    }

    /// Asks the server only about a connection the pool cannot vouch for
    /// (`PooledDb::is_trusted`).
    fn is_valid(&self, conn: &mut PooledDb) -> Result<(), r2d2::Error> {
        if conn.is_trusted(Instant::now()) {
            return Ok(());
        }
        match conn.batch_execute("SELECT 1") {
            Ok(()) => {
                conn.proven_alive();
                Ok(())
            }
            Err(e) => {
                note_connection_lost();
                Err(r2d2::Error::QueryError(e))
            }
        }
    }

    /// A connection left mid-transaction or lost (a panic, a dropped server) is not
    /// handed out again.
    fn has_broken(&self, conn: &mut PooledDb) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.returned(Instant::now());
        std::thread::panicking() || conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// The database: a pool of read-only readers and a pool of writers, and on SQLite the
/// thread that runs queued writes on its one writer (`WriteQueue`).
#[derive(Clone)]
pub struct Db {
    engine: Engine,
    readers: Pool,
    writer: Pool,
    queue: Option<WriteQueue>,
    guides: Arc<Guides>,
    longest_wait: Duration,
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout: Duration,
}

impl Db {
    /// Opens the database, creating an SQLite file's folder when needed.
    pub fn open(config: &DbConfig) -> Result<Self, StoreError> {
        let engine = Engine::of_url(&config.url);
        let build = |size: u32, read_only: bool| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                // A `SELECT 1` before each use lets the pool drop PostgreSQL sessions lost
                // in an outage. An SQLite connection to a local file cannot go stale, and
                // the test costs a statement compiled on every request.
                .test_on_check_out(engine == Engine::Postgres)
                .connection_timeout(config.connect_timeout)
                .build(ConnectionManager {
                    url: config.url.clone(),
                    engine,
                    read_only,
                })
                .map_err(StoreError::Unavailable)
        };
        match engine {
            Engine::Postgres => Ok(Self {
                engine,
                readers: build(config.pool_size, true)?,
                writer: build(config.pool_size, false)?,
                queue: None,
                guides: Arc::default(),
                longest_wait: config.connect_timeout,
            }),
            Engine::Sqlite => {
                if let Some(parent) = Path::new(&config.url).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            StoreError::Setup(format!(
                                "cannot create the folder {}: {e}",
                                parent.display()
                            ))
                        })?;
                    }
                }
                // The writer first: it creates the file and switches it to WAL.
                let writer = build(1, false)?;
                let readers = build(config.pool_size, true)?;
                Ok(Self {
                    engine,
                    readers,
                    queue: Some(WriteQueue::start(writer.clone(), config.connect_timeout)?),
                    writer,
                    guides: Arc::default(),
                    longest_wait: config.connect_timeout,
                })
            }
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The writer pool, for tests that run a `WriteQueue` of their own.
    #[cfg(test)]
    pub(crate) fn writer_pool(&self) -> &Pool {
        &self.writer
    }

    /// How long a caller waits at most for a pooled connection (or, on SQLite, for the
    /// writer thread) before it is told the database is busy.
    pub fn longest_wait(&self) -> Duration {
        self.longest_wait
    }

    /// The programs' guides this process has parsed (see `guides`), for the closures
    /// given to `read` and `write`.
    pub fn guides(&self) -> &Arc<Guides> {
        &self.guides
    }

    /// Applies pending migrations; answers how many ran.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        self.migrate_with(|_| {})
    }

    /// Applies pending migrations one by one, each in its own transaction, telling
    /// `on_step` after each one (for progress on a terminal); answers how many ran.
    pub fn migrate_with(
        &self,
        mut on_step: impl FnMut(MigrationStep<'_>),
    ) -> Result<usize, StoreError> {
        let mut conn = self.writer.get().map_err(StoreError::Unavailable)?;
        match &mut **conn {
            DbConn::Postgres(c) => apply_each(c, POSTGRES_MIGRATIONS, &mut on_step),
            DbConn::Sqlite(c) => apply_each(c, SQLITE_MIGRATIONS, &mut on_step),
        }
        .map_err(|e| StoreError::Setup(format!("migration failed: {e}")))
    }

    /// Runs `f` on a read-only connection: a write inside fails. Blocking: call it from a
    /// blocking thread.
    pub fn read<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = checkout(&self.readers, "readers")?;
        f(&mut conn)
    }

    /// Runs `f` on an idle read-only connection at once, or hands `f` back when none is
    /// idle: for callers that must never wait for the pool (an async worker). Should `f`
    /// panic, the connection is dropped while unwinding, never handed out again.
    pub fn read_if_idle<T, E, F>(&self, f: F) -> Result<Result<T, E>, F>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
    {
        match self.readers.try_get() {
            Some(mut conn) => Ok(f(&mut conn)),
            None => Err(f),
        }
    }

    /// Runs `f` in one transaction on the writer: all of it is stored, or none.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut conn = checkout(&self.writer, "writer")?;
        DbConn::transaction(&mut conn, f)
    }

    /// The queue of SQLite's writer thread, for callers that await (the HTTP handlers);
    /// `None` on PostgreSQL, whose writers run side by side on pooled connections.
    pub fn write_queue(&self) -> Option<&WriteQueue> {
        self.queue.as_ref()
    }

    /// Settles the database after a bulk load (`tandem demo --scale`). On PostgreSQL,
    /// `VACUUM ANALYZE`: the load's updates leave dead row versions that the hot reads'
    /// index scans would step over until autovacuum came by, and the planner gets
    /// statistics for the tables it just saw grow. SQLite is left as it is: without
    /// `ANALYZE` statistics its plans are the ones `docs/performance.md` shows.
    pub fn settle_after_bulk_load(&self) -> Result<(), StoreError> {
        match self.engine {
            Engine::Postgres => {
                let mut conn = checkout(&self.writer, "writer")?;
                conn.batch_execute("VACUUM ANALYZE")
                    .map_err(StoreError::from)
            }
            Engine::Sqlite => Ok(()),
        }
    }

    /// Is the database reachable?
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = checkout(&self.readers, "readers")?;
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    /// How full each pool is now, for the metrics.
    pub fn pool_usage(&self) -> [PoolUsage; 2] {
        let usage = |pool: &'static str, p: &Pool| {
            let state = p.state();
            PoolUsage {
                pool,
                max: p.max_size(),
                connections: state.connections,
                idle: state.idle_connections,
            }
        };
        [
            usage("readers", &self.readers),
            usage("writer", &self.writer),
        ]
    }
}

/// One pool's connections at a moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolUsage {
    /// `readers` or `writer`.
    pub pool: &'static str,
    pub max: u32,
    /// Open connections, idle or in use.
    pub connections: u32,
    pub idle: u32,
}

/// A migration just applied: its place among the pending ones (from 1) and its name.
#[derive(Debug, Clone, Copy)]
pub struct MigrationStep<'a> {
    pub index: usize,
    pub pending: usize,
    pub name: &'a str,
}

fn apply_each<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: EmbeddedMigrations,
    on_step: &mut dyn FnMut(MigrationStep<'_>),
) -> diesel::migration::Result<usize>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let pending = conn.pending_migrations(source)?;
    for (index, migration) in pending.iter().enumerate() {
        conn.run_migration(migration.as_ref())?;
        on_step(MigrationStep {
            index: index + 1,
            pending: pending.len(),
            name: &migration.name().to_string(),
        });
    }
    Ok(pending.len())
}

/// A connection from `pool`, recording how long the caller waited for it: waits that
/// grow mean the pool is too small for the load (or transactions too long).
pub(crate) fn checkout(pool: &Pool, name: &'static str) -> Result<PooledConn, StoreError> {
    let started = Instant::now();
    let conn = pool.get();
    metrics::histogram!("tandem_db_pool_wait_seconds", "pool" => name)
        .record(started.elapsed().as_secs_f64());
    conn.map_err(StoreError::Unavailable)
}

/// Runs `f` in a savepoint of the current transaction: when it fails, what it wrote is
/// undone and the outer transaction carries on.
pub fn savepoint<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// Runs `f` in one read-only transaction that sees a single snapshot throughout, so a
/// long read made of many queries (an export, page by page) is consistent. SQLite's
/// transactions on a WAL database already read one snapshot; PostgreSQL needs
/// REPEATABLE READ for that (its default gives each statement a new one).
pub fn snapshot<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let DbConn::Postgres(pg) = conn {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Runs a read of several statements under one read lock on SQLite, and as it is on
/// PostgreSQL. Outside a transaction SQLite takes and drops its WAL read lock around
/// each statement (a process-wide mutex and `fcntl` calls on the `-shm` file), which was
/// 9% of the server's CPU on a pairing's check-ins, two statements; one transaction
/// takes it once, and its statements read one snapshot. On PostgreSQL `BEGIN` and
/// `COMMIT` would be two more round trips, dearer than what they save.
pub fn under_one_read_lock<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(_) => conn.transaction(f),
        DbConn::Postgres(_) => f(conn),
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Bool;

    use super::*;

    /// A program's summary columns come before its large ones on SQLite (migration
    /// 000014): reading a column after the guide walks the row's overflow pages.
    #[test]
    fn a_programs_summary_precedes_its_questions_and_guide() {
        #[derive(QueryableByName)]
        struct Column {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        apply_each(&mut conn, SQLITE_MIGRATIONS, &mut |_| {}).expect("migrations");
        let columns: Vec<String> =
            diesel::sql_query("SELECT name FROM pragma_table_info('programs')")
                .load::<Column>(&mut conn)
                .expect("columns")
                .into_iter()
                .map(|c| c.name)
                .collect();
        // Every other column, the summary's among them, comes before these two.
        assert_eq!(
            columns.iter().rev().take(2).collect::<Vec<_>>(),
            ["weeks", "questions"],
            "{columns:?}"
        );
    }

    /// `.cargo/config.toml` builds the bundled SQLite with these options; a build that
    /// lost them (another `LIBSQLITE3_FLAGS`, a system SQLite) would still work, slower.
    #[test]
    fn the_bundled_sqlite_has_the_options_the_hot_paths_rely_on() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let mut used = |option: &str| {
            diesel::select(diesel::dsl::sql::<Bool>(&format!(
                "sqlite_compileoption_used('{option}')"
            )))
            .get_result::<bool>(&mut conn)
            .expect("compile options")
        };
        for option in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0", "THREADSAFE=2"] {
            assert!(used(option), "{option} missing");
        }
        for option in ["THREADSAFE=1", "ENABLE_MEMORY_MANAGEMENT"] {
            assert!(!used(option), "{option} present");
        }
    }

    /// A read under one lock sees one snapshot: a write committed between its statements
    /// is not in the second one, while the same two statements outside it see the write.
    #[test]
    fn statements_under_one_read_lock_read_one_snapshot() {
        let path =
            std::env::temp_dir().join(format!("tandem-one-lock-{}.db", uuid::Uuid::new_v4()));
        let url = path.to_string_lossy().into_owned();
        let mut writer = diesel::SqliteConnection::establish(&url).expect("writer");
        writer
            .batch_execute(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);",
            )
            .expect("setup");
        let mut reader = DbConn::Sqlite(diesel::SqliteConnection::establish(&url).expect("reader"));
        let count = |conn: &mut DbConn| {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT COUNT(*) FROM t)",
            ))
            .get_result::<i64>(conn)
        };
        let mut insert = || writer.batch_execute("INSERT INTO t VALUES (2)");
        let locked = under_one_read_lock(&mut reader, |conn| {
            let before = count(conn)?;
            insert()?;
            Ok::<_, diesel::result::Error>((before, count(conn)?))
        })
        .expect("read under one lock");
        assert_eq!(locked, (1, 1));
        let before = count(&mut reader).expect("count");
        insert().expect("insert");
        assert_eq!((before, count(&mut reader).expect("count")), (2, 3));
        drop(reader);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{url}{suffix}"));
        }
    }
}
