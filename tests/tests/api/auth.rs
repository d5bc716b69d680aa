use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use tandem_tests::{TestApp, JWT_SECRET};

#[test]
fn register_login_and_read_me() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let me = app.get("/v1/me").token(&ada.token).send();
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["email"], "ada@example.org");
    assert_eq!(me.body["display_name"], "Ada");
    assert_eq!(me.body["time_zone"], "Europe/Rome");
    assert!(me.header("etag").is_some());

    let login = app
        .post("/v1/auth/login")
        .json(&json!({"email": "ADA@example.org", "password": "correct horse battery"}))
        .send();
    assert_eq!(login.status, 200, "{}", login.text);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert!(login.body["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 40));
}

#[test]
fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = TestApp::spawn();
    app.register("Ada");
    let again = app
        .post("/v1/auth/register")
        .json(&json!({"email": "Ada@Example.org", "password": "another long password", "display_name": "Ada 2"}))
        .send();
    again.problem(409);
}

#[test]
fn registration_names_every_invalid_field() {
    let app = TestApp::spawn();
    let response = app
        .post("/v1/auth/register")
        .json(&json!({"email": "not-an-email", "password": "short", "display_name": " ", "time_zone": "Mars/Base"}))
        .send();
    for field in ["email", "password", "display_name", "time_zone"] {
        response.invalid_field(field);
    }
}

#[test]
fn wrong_password_and_unknown_email_are_refused_alike() {
    let app = TestApp::spawn();
    app.register("Ada");
    let wrong = app
        .post("/v1/auth/login")
        .json(&json!({"email": "ada@example.org", "password": "not the password"}))
        .send();
    let unknown = app
        .post("/v1/auth/login")
        .json(&json!({"email": "nobody@example.org", "password": "not the password"}))
        .send();
    assert_eq!(wrong.problem(401)["detail"], unknown.problem(401)["detail"]);
}

#[test]
fn requests_without_a_valid_token_are_unauthenticated() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let missing = app.get("/v1/me").send();
    missing.problem(401);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    app.get("/v1/me")
        .header("Authorization", "Basic abc")
        .send()
        .problem(401);
    app.get("/v1/me").token("not.a.jwt").send().problem(401);

    // Tampered: the payload changed, the signature kept.
    let parts: Vec<&str> = ada.token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload"))
            .expect("claims");
    claims["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    app.get("/v1/me").token(&tampered).send().problem(401);

    // alg: none, unsigned.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{header}.{}.", parts[1]);
    app.get("/v1/me").token(&unsigned).send().problem(401);

    // Signed with another secret.
    let foreign = sign(
        &claims_for(&ada.id, 3600),
        b"some-other-secret-that-is-long-enough!!",
    );
    app.get("/v1/me").token(&foreign).send().problem(401);

    // Genuine but expired.
    let expired = sign(&claims_for(&ada.id, -3600), JWT_SECRET.as_bytes());
    app.get("/v1/me").token(&expired).send().problem(401);

    // And the same construction, unexpired, is accepted: the forgeries failed for their flaw.
    let genuine = sign(&claims_for(&ada.id, 3600), JWT_SECRET.as_bytes());
    assert_eq!(app.get("/v1/me").token(&genuine).send().status, 200);
}

fn claims_for(user_id: &str, expires_in: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": user_id, "iss": "tandem", "iat": now, "exp": now + expires_in})
}

fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

#[test]
fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let first = app
        .post("/v1/auth/refresh")
        .json(&json!({"refresh_token": ada.refresh_token}))
        .send();
    assert_eq!(first.status, 200, "{}", first.text);
    let second_token = first.str("/refresh_token");
    assert_ne!(second_token, ada.refresh_token);
    assert_eq!(
        app.get("/v1/me")
            .token(&first.str("/access_token"))
            .send()
            .status,
        200
    );

    // The spent token again: refused, and the whole family with it.
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": ada.refresh_token}))
        .send()
        .problem(401);
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": second_token}))
        .send()
        .problem(401);
}

#[test]
fn logout_revokes_the_session_but_not_others() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let other_session = app
        .post("/v1/auth/login")
        .json(&json!({"email": ada.email, "password": "correct horse battery"}))
        .send()
        .str("/refresh_token");
    let out = app
        .post("/v1/auth/logout")
        .json(&json!({"refresh_token": ada.refresh_token}))
        .send();
    assert_eq!(out.status, 204);
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": ada.refresh_token}))
        .send()
        .problem(401);
    assert_eq!(
        app.post("/v1/auth/refresh")
            .json(&json!({"refresh_token": other_session}))
            .send()
            .status,
        200
    );
}

#[test]
fn unknown_refresh_tokens_are_refused() {
    let app = TestApp::spawn();
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": "made-up"}))
        .send()
        .problem(401);
}

#[test]
fn profile_updates_validate_and_honour_if_match() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let etag = app
        .get("/v1/me")
        .token(&ada.token)
        .send()
        .header("etag")
        .expect("etag")
        .to_owned();
    let updated = app
        .patch("/v1/me")
        .token(&ada.token)
        .header("If-Match", &etag)
        .json(&json!({"display_name": "Ada L.", "time_zone": "America/New_York"}))
        .send();
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["display_name"], "Ada L.");
    assert_eq!(updated.body["time_zone"], "America/New_York");
    assert_ne!(updated.header("etag"), Some(etag.as_str()));

    app.patch("/v1/me")
        .token(&ada.token)
        .header("If-Match", &etag)
        .json(&json!({"display_name": "Stale"}))
        .send()
        .problem(412);
    app.patch("/v1/me")
        .token(&ada.token)
        .json(&json!({"time_zone": "Nowhere/Land"}))
        .send()
        .invalid_field("time_zone");
    assert_eq!(
        app.get("/v1/me").token(&ada.token).send().body["display_name"],
        "Ada L."
    );
}
