//! `Idempotency-Key` takes no part in authentication: tokens are never stored or
//! replayed, anonymous callers share no scope, and expired keys are swept.

use serde_json::json;
use tandem_tests::TestApp;

fn stored_keys(app: &TestApp) -> i64 {
    tandem_tests::db::connect(app.database_url()).count("idempotency_keys")
}

#[test]
fn a_keyed_login_is_carried_out_again_and_nothing_is_stored() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let login = || {
        app.post("/v1/auth/login")
            .header("Idempotency-Key", "login-1")
            .json(&json!({"email": ada.email, "password": "correct horse battery"}))
            .send()
    };
    let first = login();
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    // Logging out ends that session; the same keyed login must not hand it back.
    let logout = app
        .post("/v1/auth/logout")
        .json(&json!({"refresh_token": first.str("/refresh_token")}))
        .send();
    assert_eq!(logout.status, 204);
    let again = login();
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_ne!(again.str("/refresh_token"), first.str("/refresh_token"));
    assert_eq!(stored_keys(&app), 0, "no anonymous answer is kept");
}

#[test]
fn a_replayed_refresh_with_a_spent_token_meets_rotation() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let refresh = |token: &str| {
        app.post("/v1/auth/refresh")
            .header("Idempotency-Key", "refresh-1")
            .json(&json!({"refresh_token": token}))
            .send()
    };
    let first = refresh(&ada.refresh_token);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    // The spent token again, with the same key: refused, and its family revoked.
    refresh(&ada.refresh_token).problem(401);
    refresh(&first.str("/refresh_token")).problem(401);
}

#[test]
fn an_authenticated_caller_keyed_on_auth_endpoints_gets_no_stored_tokens() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let login = || {
        app.post("/v1/auth/login")
            .token(&ada.token)
            .header("Idempotency-Key", "login-with-bearer")
            .json(&json!({"email": ada.email, "password": "correct horse battery"}))
            .send()
    };
    let first = login();
    let again = login();
    assert_eq!((first.status, again.status), (200, 200));
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_ne!(again.str("/refresh_token"), first.str("/refresh_token"));
    assert_eq!(stored_keys(&app), 0, "no-store answers are never kept");
}

#[test]
fn anonymous_callers_cannot_poison_each_others_keys() {
    let app = TestApp::spawn();
    let register = |name: &str| {
        app.post("/v1/auth/register")
            .header("Idempotency-Key", "signup")
            .json(&json!({
                "email": format!("{name}@example.org"),
                "password": "correct horse battery",
                "display_name": name,
            }))
            .send()
    };
    let mallory = register("mallory");
    assert_eq!(mallory.status, 201, "{}", mallory.text);
    let victim = register("victim");
    assert_eq!(victim.status, 201, "{}", victim.text);
    assert_eq!(victim.str("/user/display_name"), "victim");
}

#[test]
fn expired_keys_are_swept() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let create = |key: &str| {
        let response = app
            .post("/v1/groups")
            .token(&ada.token)
            .header("Idempotency-Key", key)
            .json(&json!({"name": format!("Group {key}")}))
            .send();
        assert_eq!(response.status, 201, "{}", response.text);
    };
    for key in ["a", "b", "c"] {
        create(key);
    }
    assert_eq!(stored_keys(&app), 3);
    app.clock.advance(chrono::Duration::hours(25));
    // The server's time moved on; a fresh token keeps the caller valid.
    let fresh = app
        .post("/v1/auth/login")
        .json(&json!({"email": ada.email, "password": "correct horse battery"}))
        .send();
    let token = fresh.str("/access_token");
    let later = app
        .post("/v1/groups")
        .token(&token)
        .header("Idempotency-Key", "d")
        .json(&json!({"name": "Later"}))
        .send();
    assert_eq!(later.status, 201, "{}", later.text);
    assert_eq!(stored_keys(&app), 1, "only the new key is left");
}
