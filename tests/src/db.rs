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
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create test database");
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
