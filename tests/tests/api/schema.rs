//! `persistence/src/schema.rs` agrees with the migrations, on the engine under test.
//!
//! The code is compiled against schema.rs, the database is made by the migrations: when
//! one changes without the other, queries fail only at run time. This migrates a fresh
//! database and compares every table and column it has (name, type class, nullability)
//! with what schema.rs declares.

use std::collections::BTreeMap;

use diesel::connection::Connection;
use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};
use tandem_tests::db::{backend, TestDb};

/// The schema as diesel sees it, in the `table!` form that `diesel print-schema` writes.
const SCHEMA_RS: &str = include_str!("../../../persistence/src/schema.rs");

/// Table → column → (type class, nullable).
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

#[derive(QueryableByName)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    declared_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

/// The type class a diesel SQL type is stored as on this engine.
fn class_of_diesel_type(engine: &str, sql_type: &str) -> String {
    match (sql_type, engine) {
        ("Text", _) => "text",
        // SQLite has one integer type, 64 bits wide.
        ("Integer" | "BigInt", "sqlite") => "integer",
        ("Integer", _) => "integer",
        ("BigInt", _) => "bigint",
        ("Bool", _) => "boolean",
        ("Timestamp", _) => "timestamp",
        ("Date", _) => "date",
        (other, _) => panic!("schema.rs uses {other}: teach this test its class"),
    }
    .to_owned()
}

/// The type class of a column as the database reports it.
fn class_of_column(engine: &str, declared: &str) -> String {
    let declared = declared.to_ascii_lowercase();
    match (declared.as_str(), engine) {
        ("integer" | "bigint", "sqlite") => "integer".to_owned(),
        ("timestamp without time zone", _) => "timestamp".to_owned(),
        _ => declared,
    }
}

/// What schema.rs declares: every `table!` block's columns.
fn declared(engine: &str) -> Columns {
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in SCHEMA_RS.lines().map(str::trim) {
        if let Some(name) = line.strip_suffix('{').and_then(|l| l.split_once(" (")) {
            current = Some(name.0.to_owned());
            continue;
        }
        if line == "}" {
            current = None;
            continue;
        }
        let (Some(table), Some((column, sql_type))) = (&current, line.split_once(" -> ")) else {
            continue;
        };
        let sql_type = sql_type.trim_end_matches(',');
        let (sql_type, nullable) = match sql_type
            .strip_prefix("Nullable<")
            .and_then(|t| t.strip_suffix('>'))
        {
            Some(inner) => (inner, true),
            None => (sql_type, false),
        };
        tables.entry(table.clone()).or_default().insert(
            column.to_owned(),
            (class_of_diesel_type(engine, sql_type), nullable),
        );
    }
    tables
}

/// What a freshly migrated database has.
fn migrated(engine: &str, url: &str) -> Columns {
    let rows: Vec<ColumnInfo> = if engine == "postgres" {
        let mut conn = diesel::PgConnection::establish(url).expect("connect to the test database");
        diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name,
                    data_type::text AS declared_type, is_nullable = 'NO' AS not_null
             FROM information_schema.columns
             WHERE table_schema = current_schema()
               AND table_name <> '__diesel_schema_migrations'",
        )
        .load(&mut conn)
        .expect("read information_schema")
    } else {
        let mut conn = diesel::SqliteConnection::establish(url).expect("open the test database");
        // SQLite lets a non-integer primary key hold NULL unless declared NOT NULL;
        // diesel reads primary keys as not null, and Tandem never writes a NULL id.
        diesel::sql_query(
            "SELECT m.name AS table_name, c.name AS column_name, c.type AS declared_type,
                    (c.\"notnull\" OR c.pk > 0) AS not_null
             FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
               AND m.name <> '__diesel_schema_migrations'",
        )
        .load(&mut conn)
        .expect("read the table info")
    };
    let mut tables = Columns::new();
    for row in rows {
        tables.entry(row.table_name).or_default().insert(
            row.column_name,
            (class_of_column(engine, &row.declared_type), !row.not_null),
        );
    }
    tables
}

#[test]
fn schema_rs_matches_the_migrations() {
    let engine = backend();
    let db = TestDb::create();
    let database = tandem_persistence::Db::open(&tandem_persistence::DbConfig {
        url: db.url().to_owned(),
        pool_size: 1,
        connect_timeout: std::time::Duration::from_secs(10),
    })
    .expect("open the test database");
    database.migrate().expect("migrate");

    let declared = declared(engine);
    assert!(
        declared.len() >= 10 && declared.values().all(|columns| !columns.is_empty()),
        "schema.rs was not read: {declared:#?}"
    );
    let migrated = migrated(engine, db.url());
    let tables: std::collections::BTreeSet<&String> =
        declared.keys().chain(migrated.keys()).collect();
    let mut drift = Vec::new();
    for table in tables {
        let (ours, theirs) = (declared.get(table), migrated.get(table));
        let (Some(ours), Some(theirs)) = (ours, theirs) else {
            drift.push(format!(
                "table {table}: {} in schema.rs, {} in the migrations",
                if ours.is_some() { "present" } else { "absent" },
                if theirs.is_some() {
                    "present"
                } else {
                    "absent"
                },
            ));
            continue;
        };
        let columns: std::collections::BTreeSet<&String> =
            ours.keys().chain(theirs.keys()).collect();
        for column in columns {
            let (a, b) = (ours.get(column), theirs.get(column));
            if a != b {
                drift.push(format!(
                    "{table}.{column}: schema.rs says {a:?}, the migrations made {b:?} \
                     (type class, nullable)"
                ));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "schema.rs and the {engine} migrations disagree:\n{}",
        drift.join("\n")
    );
}
