//! A database of the test's own: an SQLite file in a temporary folder, or a fresh
//! PostgreSQL database that is dropped afterwards.

use diesel::prelude::*;

pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

/// Which engine this run tests.
pub fn backend() -> &'static str {
    match std::env::var("TANDEM_TEST_BACKEND").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sqlite",
    }
}

impl TestDb {
    pub fn create() -> Self {
        if backend() == "postgres" {
            let admin_url = std::env::var("TANDEM_TEST_DATABASE_URL")
                .expect("TANDEM_TEST_BACKEND=postgres needs TANDEM_TEST_DATABASE_URL");
            let name = format!("tandem_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin =
                PgConnection::establish(&admin_url).expect("connect to the PostgreSQL test server");
            diesel::sql_query(format!(
                "CREATE DATABASE {name} TEMPLATE {}",
                migrated_template(&admin_url)
            ))
            .execute(&mut admin)
            .expect("create test database");
            // A test database need not survive a crash: commits need not wait for disk.
            diesel::sql_query(format!(
                "ALTER DATABASE {name} SET synchronous_commit = off"
            ))
            .execute(&mut admin)
            .expect("configure test database");
            let url = with_database(&admin_url, &name);
            TestDb::Postgres {
                admin_url,
                name,
                url,
            }
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = dir.path().join("tandem.db").to_string_lossy().into_owned();
            TestDb::Sqlite { _dir: dir, url }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// A database with every migration applied, copied for each test (much faster than
/// migrating each one). Named after the migrations, so a changed migration gets a new
/// template; built under a temporary name and renamed, so concurrent runs never see a
/// half-migrated one.
fn migrated_template(admin_url: &str) -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("tandem_template_{:016x}", migrations_fingerprint());
        let mut admin = PgConnection::establish(admin_url).expect("connect to PostgreSQL");
        if !database_exists(&mut admin, &name) {
            let building = format!("tandem_building_{}", uuid::Uuid::new_v4().simple());
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut admin)
                .expect("create template database");
            {
                let db = tandem_persistence::Db::open(&tandem_persistence::DbConfig {
                    url: with_database(admin_url, &building),
                    pool_size: 1,
                    connect_timeout: std::time::Duration::from_secs(10),
                })
                .expect("open template database");
                db.migrate().expect("migrate template database");
            } // every connection to it is closed here: a template must have none
            let renamed = diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                .execute(&mut admin);
            if renamed.is_err() {
                // Another run published the same template first.
                let _ = diesel::sql_query(format!("DROP DATABASE {building} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
        name
    })
}

fn database_exists(admin: &mut PgConnection, name: &str) -> bool {
    diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM pg_database WHERE datname = '{name}'"
    ))
    .get_result::<Count>(admin)
    .is_ok_and(|count| count.n > 0)
}

/// A hash of the PostgreSQL migrations' files.
fn migrations_fingerprint() -> u64 {
    use std::hash::{Hash, Hasher};
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../persistence/migrations/postgres");
    let mut files = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)
            .expect("read migrations")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hasher = std::hash::DefaultHasher::new();
    for file in files {
        file.strip_prefix(&root).unwrap_or(&file).hash(&mut hasher);
        std::fs::read(&file)
            .expect("read migration")
            .hash(&mut hasher);
    }
    hasher.finish()
}

/// The same server URL naming another database.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// A direct connection to a test's database, for tests that hold locks or look behind
/// the API.
pub enum DirectConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub fn connect(url: &str) -> DirectConn {
    if url.starts_with("postgres") {
        DirectConn::Postgres(PgConnection::establish(url).expect("connect to the test database"))
    } else {
        DirectConn::Sqlite(SqliteConnection::establish(url).expect("open the test database"))
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl DirectConn {
    /// Runs statements, e.g. to take a lock and keep it until this connection drops.
    pub fn execute(&mut self, sql: &str) {
        use diesel::connection::SimpleConnection;
        match self {
            DirectConn::Postgres(c) => c.batch_execute(sql),
            DirectConn::Sqlite(c) => c.batch_execute(sql),
        }
        .expect("execute SQL");
    }

    /// Runs statements and answers the database's refusal, for tests that prove a rule
    /// is held by the database itself.
    pub fn try_execute(&mut self, sql: &str) -> Result<(), String> {
        use diesel::connection::SimpleConnection;
        match self {
            DirectConn::Postgres(c) => c.batch_execute(sql),
            DirectConn::Sqlite(c) => c.batch_execute(sql),
        }
        .map_err(|e| e.to_string())
    }

    /// The rows of `table`.
    pub fn count(&mut self, table: &str) -> i64 {
        let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
        match self {
            DirectConn::Postgres(c) => query.get_result::<Count>(c),
            DirectConn::Sqlite(c) => query.get_result::<Count>(c),
        }
        .expect("count rows")
        .n
    }
}
