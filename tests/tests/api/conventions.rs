//! The API conventions every endpoint shares.

use serde_json::json;
use tandem_tests::TestApp;

#[test]
fn health_and_readiness() {
    let app = TestApp::spawn();
    let health = app.get("/healthz").send();
    assert_eq!((health.status, &health.body["status"]), (200, &json!("ok")));
    let ready = app.get("/readyz").send();
    assert_eq!((ready.status, &ready.body["status"]), (200, &json!("ok")));
}

#[test]
fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn();
    let generated = app.get("/healthz").send();
    assert!(generated
        .header("x-request-id")
        .is_some_and(|id| id.len() >= 32));
    let echoed = app
        .get("/v1/me")
        .header("X-Request-Id", "client-trace-42")
        .send();
    assert_eq!(echoed.header("x-request-id"), Some("client-trace-42"));
    let unknown_route = app.get("/v1/nothing-here").send();
    unknown_route.problem(404);
    assert!(unknown_route.header("x-request-id").is_some());
}

#[test]
fn malformed_json_is_a_bad_request() {
    let app = TestApp::spawn();
    app.post("/v1/auth/register")
        .raw("application/json", "{\"email\": ")
        .send()
        .problem(400);
    app.post("/v1/auth/register")
        .raw("application/json", "{\"email\": \"a@b.org\"} trailing")
        .send()
        .problem(400);
}

#[test]
fn wrong_types_missing_and_unknown_fields_name_the_field() {
    let app = TestApp::spawn();
    app.post("/v1/auth/register")
        .json(&json!({"email": 42, "password": "long enough pass", "display_name": "Ada"}))
        .send()
        .invalid_field("email");
    app.post("/v1/auth/register")
        .json(&json!({"password": "long enough pass", "display_name": "Ada"}))
        .send()
        .invalid_field("email");
    app.post("/v1/auth/register")
        .json(&json!({"email": "a@b.org", "password": "long enough pass", "display_name": "Ada", "is_admin": true}))
        .send()
        .invalid_field("is_admin");
}

#[test]
fn other_media_types_are_refused() {
    let app = TestApp::spawn();
    app.post("/v1/auth/login")
        .raw("text/plain", "email=a@b.org")
        .send()
        .problem(415);
}

#[test]
fn oversized_bodies_are_refused_before_parsing() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let huge = "x".repeat(70 * 1024);
    app.post("/v1/groups")
        .token(&ada.token)
        .json(&json!({"name": "Big", "description": huge}))
        .send()
        .problem(413);
    // Just under the limit parses (and then fails on the description's own rule).
    let near = "x".repeat(60 * 1024);
    app.post("/v1/groups")
        .token(&ada.token)
        .json(&json!({"name": "Big", "description": near}))
        .send()
        .invalid_field("description");
}

#[test]
fn pagination_parameters_are_validated() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    for (name, value) in [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
        ("cursor", "%%%"),
    ] {
        app.get("/v1/groups")
            .token(&ada.token)
            .query(name, value)
            .send()
            .invalid_field(name);
    }
}

#[test]
fn docs_are_served_without_the_internet() {
    let app = TestApp::spawn();
    let redirect = app.get("/docs").send();
    assert_eq!(redirect.status, 308);
    let page = app.get("/docs/").send();
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("swagger-ui"),
        "{}",
        &page.text[..page.text.len().min(300)]
    );
    assert!(!page.text.contains("https://unpkg.com") && !page.text.contains("cdn.jsdelivr"));
    let bundle = app.get("/docs/swagger-ui-bundle.js").send();
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
}

#[test]
fn nul_characters_are_refused_not_stored() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    app.post("/v1/groups")
        .token(&ada.token)
        .json(&json!({"name": "Nul\u{0}group"}))
        .send()
        .invalid_field("name");
}

#[test]
fn a_retried_post_with_an_idempotency_key_is_carried_out_once() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let create = |key: &str, name: &str| {
        app.post("/v1/groups")
            .token(&ada.token)
            .header("Idempotency-Key", key)
            .json(&json!({"name": name}))
            .send()
    };
    let first = create("retry-1", "Parents");
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = create("retry-1", "Parents");
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("etag"), first.header("etag"));
    // The same key for another request is refused; a new key makes a new group.
    create("retry-1", "Another").invalid_field("Idempotency-Key");
    assert_eq!(create("retry-2", "Another").status, 201);
    let mine = app.get("/v1/groups").token(&ada.token).send();
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(2));
    // Keys belong to their user: Bea's "retry-1" is hers.
    let bea = app.register("Bea");
    let hers = app
        .post("/v1/groups")
        .token(&bea.token)
        .header("Idempotency-Key", "retry-1")
        .json(&json!({"name": "Parents"}))
        .send();
    assert_eq!(hers.status, 201);
    assert_ne!(hers.body["id"], first.body["id"]);
}

#[test]
fn a_failed_request_frees_its_idempotency_key() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let invalid = app
        .post("/v1/groups")
        .token(&ada.token)
        .header("Idempotency-Key", "k")
        .json(&json!({"name": ""}))
        .send();
    invalid.invalid_field("name");
    let fixed = app
        .post("/v1/groups")
        .token(&ada.token)
        .header("Idempotency-Key", "k")
        .json(&json!({"name": "Parents"}))
        .send();
    assert_eq!(fixed.status, 201, "{}", fixed.text);
    app.post("/v1/groups")
        .token(&ada.token)
        .header("Idempotency-Key", "bad key with spaces")
        .json(&json!({"name": "Parents"}))
        .send()
        .invalid_field("Idempotency-Key");
}
