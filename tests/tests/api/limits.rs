//! Rate limits on register, login and refresh: per address and per account, 429 with
//! `Retry-After`, and `X-Forwarded-For` believed only from trusted proxies.

use std::num::NonZeroU32;

use serde_json::json;
use tandem_api::limits::LimitSettings;
use tandem_tests::{relaxed_limits, Response, TestApp};

fn limited(per_address: u32, per_account: u32, trusted_proxies: &str) -> TestApp {
    TestApp::spawn_with(LimitSettings {
        rate_limits: "on".into(),
        auth_rate_per_address: NonZeroU32::new(per_address).expect("nonzero"),
        auth_rate_per_account: NonZeroU32::new(per_account).expect("nonzero"),
        trusted_proxies: trusted_proxies
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().expect("proxy"))
            .collect(),
        ..relaxed_limits()
    })
}

fn login(app: &TestApp, email: &str, password: &str, forwarded_for: Option<&str>) -> Response {
    let mut request = app.post("/v1/auth/login");
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    request
        .json(&json!({"email": email, "password": password}))
        .send()
}

fn assert_rate_limited(response: &Response) {
    let problem = response.problem(429);
    assert_eq!(problem["type"], "/problems/rate-limited");
    let retry_after: u64 = response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
}

#[test]
fn wrong_passwords_on_one_account_are_limited_and_so_is_the_right_one_then() {
    let app = limited(1000, 5, "");
    let ada = app.register("Ada");
    for _ in 0..4 {
        login(&app, &ada.email, "wrong password!", None).problem(401);
    }
    // The registration counted as one attempt on the account: the quota is spent.
    assert_rate_limited(&login(&app, &ada.email, "wrong password!", None));
    assert_rate_limited(&login(&app, &ada.email, "correct horse battery", None));
    // The email's case does not make it another account.
    assert_rate_limited(&login(
        &app,
        &ada.email.to_uppercase(),
        "correct horse battery",
        None,
    ));
    // Another account is not affected.
    let bea = app.register("Bea");
    assert_eq!(
        login(&app, &bea.email, "correct horse battery", None).status,
        200
    );
}

#[test]
fn one_address_guessing_many_accounts_is_limited() {
    let app = limited(5, 1000, "");
    for n in 0..5 {
        login(&app, &format!("user{n}@example.org"), "a guess!!!", None).problem(401);
    }
    assert_rate_limited(&login(&app, "user9@example.org", "a guess!!!", None));
    // Registering and refreshing count against the same address.
    let register = app
        .post("/v1/auth/register")
        .json(&json!({"email": "new@example.org", "password": "correct horse battery", "display_name": "New"}))
        .send();
    assert_rate_limited(&register);
    let refresh = app
        .post("/v1/auth/refresh")
        .json(&json!({"refresh_token": "not-a-token"}))
        .send();
    assert_rate_limited(&refresh);
}

#[test]
fn a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let app = limited(3, 1000, "");
    for n in 0..3 {
        login(
            &app,
            &format!("u{n}@example.org"),
            "a guess!!!",
            Some(&format!("203.0.113.{n}")),
        )
        .problem(401);
    }
    assert_rate_limited(&login(
        &app,
        "u9@example.org",
        "a guess!!!",
        Some("203.0.113.99"),
    ));
}

#[test]
fn behind_a_trusted_proxy_each_client_address_has_its_own_limit() {
    let app = limited(3, 1000, "127.0.0.1/32");
    for n in 0..3 {
        login(
            &app,
            &format!("a{n}@example.org"),
            "a guess!!!",
            Some("203.0.113.1"),
        )
        .problem(401);
    }
    assert_rate_limited(&login(
        &app,
        "a9@example.org",
        "a guess!!!",
        Some("203.0.113.1"),
    ));
    // Another client behind the same proxy is counted apart.
    login(&app, "b0@example.org", "a guess!!!", Some("203.0.113.2")).problem(401);
}
