//! Reads never write, and a busy database is a 503 to retry, not a 500.

use serde_json::json;
use tandem_tests::db::{backend, connect};
use tandem_tests::TestApp;

#[test]
fn reader_connections_refuse_writes() {
    let app = TestApp::spawn();
    let db = tandem_persistence::Db::open(&tandem_persistence::DbConfig {
        url: app.database_url().to_owned(),
        pool_size: 1,
        connect_timeout: std::time::Duration::from_secs(10),
    })
    .expect("open");
    let write = db.read(|conn| {
        diesel_execute(conn, "DELETE FROM users").map_err(tandem_persistence::StoreError::from)
    });
    assert!(
        write.is_err(),
        "a write through a reader connection must fail"
    );
    // The writer still writes.
    let written = db.write(|conn| {
        diesel_execute(conn, "DELETE FROM idempotency_keys")
            .map_err(tandem_persistence::StoreError::from)
    });
    assert!(written.is_ok(), "{written:?}");
}

fn diesel_execute(
    conn: &mut tandem_persistence::DbConn,
    sql: &str,
) -> Result<usize, tandem_persistence::DieselError> {
    use diesel::RunQueryDsl;
    diesel::sql_query(sql).execute(conn)
}

#[test]
fn a_write_that_meets_a_held_lock_is_answered_503_with_retry_after() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let mut holder = connect(app.database_url());
    match backend() {
        "postgres" => {
            holder.execute("BEGIN; LOCK TABLE community_groups IN ACCESS EXCLUSIVE MODE;")
        }
        _ => holder.execute("BEGIN IMMEDIATE; DELETE FROM idempotency_keys;"),
    }
    let refused = app
        .post("/v1/groups")
        .token(&ada.token)
        .json(&json!({"name": "Parents"}))
        .send();
    let problem = refused.problem(503);
    assert!(
        refused.header("retry-after").is_some(),
        "503 without Retry-After"
    );
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        !detail.contains("lock"),
        "the driver's text must not reach clients: {detail}"
    );
    holder.execute("ROLLBACK;");
    let created = app
        .post("/v1/groups")
        .token(&ada.token)
        .json(&json!({"name": "Parents"}))
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
}

#[test]
fn reads_go_on_while_a_writer_holds_the_lock() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let mut holder = connect(app.database_url());
    match backend() {
        "postgres" => holder.execute("BEGIN; SELECT id FROM community_groups FOR UPDATE;"),
        _ => holder.execute("BEGIN IMMEDIATE; DELETE FROM idempotency_keys;"),
    }
    let id = group["id"].as_str().expect("id");
    let read = app
        .get(&format!("/v1/groups/{id}"))
        .token(&ada.token)
        .send();
    assert_eq!(read.status, 200, "{}", read.text);
    holder.execute("ROLLBACK;");
}
