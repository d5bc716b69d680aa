//! Operations: CORS for configured browser origins, and the Prometheus metrics.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use tandem_api::limits::LimitSettings;
use tandem_tests::{relaxed_limits, Response, TestApp};

const ALLOWED: &str = "https://app.example.org";

fn with_cors(limits: LimitSettings) -> TestApp {
    TestApp::spawn_configured(limits, |config| {
        config.cors_origins = vec![ALLOWED.into(), "http://localhost:3000".into()];
    })
}

fn preflight(app: &TestApp, path: &str, origin: &str, method: &str, headers: &str) -> Response {
    app.request("OPTIONS", path)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
        .send()
}

/// The comma-separated tokens of a header, lower-cased.
fn tokens(response: &Response, name: &str) -> Vec<String> {
    response
        .header(name)
        .unwrap_or_default()
        .split(',')
        .map(|token| token.trim().to_lowercase())
        .filter(|token| !token.is_empty())
        .collect()
}

#[test]
fn a_preflight_from_an_allowed_origin_is_answered_with_the_policy() {
    let app = with_cors(relaxed_limits());
    let response = preflight(
        &app,
        "/v1/groups",
        ALLOWED,
        "POST",
        "authorization, content-type, idempotency-key, if-match, if-none-match, x-request-id",
    );
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(ALLOWED)
    );
    let methods = tokens(&response, "access-control-allow-methods");
    for method in ["get", "post", "put", "patch", "delete"] {
        assert!(
            methods.contains(&method.to_owned()),
            "{method} in {methods:?}"
        );
    }
    let headers = tokens(&response, "access-control-allow-headers");
    for header in [
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "idempotency-key",
        "x-request-id",
    ] {
        assert!(
            headers.contains(&header.to_owned()),
            "{header} in {headers:?}"
        );
    }
    let max_age: u64 = response
        .header("access-control-max-age")
        .and_then(|v| v.parse().ok())
        .expect("a max age in seconds");
    assert!((600..=7200).contains(&max_age), "max age {max_age}");
    assert!(tokens(&response, "vary").contains(&"origin".to_owned()));
    // Answered by the server like any request: it carries a request id.
    assert!(response.header("x-request-id").is_some());
}

#[test]
fn a_preflight_from_another_origin_or_for_other_headers_is_refused() {
    let app = with_cors(relaxed_limits());
    for (origin, method, headers) in [
        ("https://evil.example.org", "POST", "content-type"),
        (
            "https://app.example.org.evil.example",
            "GET",
            "authorization",
        ),
        ("http://app.example.org", "GET", "authorization"),
        (ALLOWED, "GET", "x-secret-header"),
    ] {
        let response = preflight(&app, "/v1/groups", origin, method, headers);
        assert_eq!(
            response.header("access-control-allow-origin"),
            None,
            "{origin} {headers}"
        );
        let problem = response.problem(400);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("CORS"),
            "{problem}"
        );
    }
}

#[test]
fn requests_with_an_origin_get_cors_headers_only_for_allowed_origins() {
    let app = with_cors(relaxed_limits());
    let user = app.register("Corsa");
    let allowed = app
        .get("/v1/me")
        .token(&user.token)
        .header("Origin", "http://localhost:3000")
        .send();
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let exposed = tokens(&allowed, "access-control-expose-headers");
    for header in [
        "etag",
        "location",
        "retry-after",
        "x-request-id",
        "content-disposition",
    ] {
        assert!(
            exposed.contains(&header.to_owned()),
            "{header} in {exposed:?}"
        );
    }
    // Another origin's page gets the answer without the header, so its browser hides
    // it; clients that are not browsers are unaffected.
    let other = app
        .get("/v1/me")
        .token(&user.token)
        .header("Origin", "https://evil.example.org")
        .send();
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[test]
fn without_configured_origins_there_are_no_cors_headers() {
    let app = TestApp::spawn();
    let response = preflight(&app, "/v1/groups", ALLOWED, "POST", "content-type");
    assert_eq!(response.header("access-control-allow-origin"), None);
    assert_eq!(response.header("access-control-allow-methods"), None);
    response.problem(405);
    let health = app.get("/healthz").header("Origin", ALLOWED).send();
    assert_eq!(health.status, 200);
    assert_eq!(health.header("access-control-allow-origin"), None);
    assert_eq!(health.header("vary"), None);
}

#[test]
fn preflights_need_no_token_and_are_not_rate_limited() {
    let app = with_cors(LimitSettings {
        rate_limits: "on".into(),
        auth_rate_per_address: NonZeroU32::MIN,
        auth_rate_per_account: NonZeroU32::MIN,
        ..relaxed_limits()
    });
    for _ in 0..5 {
        let response = preflight(&app, "/v1/auth/login", ALLOWED, "POST", "content-type");
        assert_eq!(response.status, 200, "{}", response.text);
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(ALLOWED)
        );
    }
    let me = preflight(&app, "/v1/me", ALLOWED, "GET", "authorization");
    assert_eq!(me.status, 200, "{}", me.text);
    // The limits still hold for the real requests.
    let login = |_| {
        app.post("/v1/auth/login")
            .header("Origin", ALLOWED)
            .json(&serde_json::json!({"email": "nobody@example.org", "password": "wrong password"}))
            .send()
            .status
    };
    let statuses: Vec<u16> = (0..3).map(login).collect();
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// One sample of the exposition: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text format, failing on any line that is neither a comment nor a sample.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "comment line {line:?}"
            );
            if let Some(kind) = comment.strip_prefix("TYPE ") {
                let kind = kind.split_whitespace().nth(1).unwrap_or_default();
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line:?}"
                );
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            value => value
                .parse()
                .unwrap_or_else(|_| panic!("value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("labels in {line:?}"));
                let labels = body
                    .split("\",")
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair
                            .split_once("=\"")
                            .unwrap_or_else(|| panic!("label in {line:?}"));
                        (key.to_owned(), value.trim_end_matches('"').to_owned())
                    })
                    .collect();
                (name, labels)
            }
            None => (series, BTreeMap::new()),
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name in {line:?}"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

fn scrape(app: &TestApp, token: Option<&str>) -> Response {
    let mut request = app.get("/metrics");
    if let Some(token) = token {
        request = request.token(token);
    }
    request.send()
}

#[test]
fn metrics_count_requests_per_route_template_and_status() {
    let app = TestApp::spawn();
    let owner = app.register("Metra");
    let group = app.create_group(&owner, "Metrics club");
    let id = group["id"].as_str().expect("group id");
    for _ in 0..3 {
        let response = app
            .get(&format!("/v1/groups/{id}"))
            .token(&owner.token)
            .send();
        assert_eq!(response.status, 200);
    }
    let unknown = uuid::Uuid::new_v4();
    let missing = app
        .get(&format!("/v1/groups/{unknown}"))
        .token(&owner.token)
        .send();
    assert_eq!(missing.status, 404);
    // Unknown paths, with an id or not, share one series.
    for path in [
        format!("/v1/no-such/{unknown}"),
        format!("/no-such-{unknown}"),
    ] {
        assert_eq!(app.get(&path).send().status, 404);
    }
    app.run_jobs();

    let response = scrape(&app, None);
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(
        response.content_type.starts_with("text/plain"),
        "{}",
        response.content_type
    );
    let samples = parse_exposition(&response.text);
    let route = "/v1/groups/{group_id}";
    let ok = [("route", route), ("method", "GET"), ("status", "200")];
    // Other tests share the process's recorder: at least this test's requests.
    let count = value_of(&samples, "tandem_http_requests_total", &ok).expect("the route's count");
    assert!(count >= 3.0, "{count}");
    let not_found = [("route", route), ("method", "GET"), ("status", "404")];
    assert!(value_of(&samples, "tandem_http_requests_total", &not_found).unwrap_or(0.0) >= 1.0);
    let timed = value_of(&samples, "tandem_http_request_duration_seconds_count", &ok);
    assert!(timed.unwrap_or(0.0) >= 3.0, "{timed:?}");
    let le_inf = [("route", route), ("status", "200"), ("le", "+Inf")];
    assert!(value_of(
        &samples,
        "tandem_http_request_duration_seconds_bucket",
        &le_inf
    )
    .is_some());
    // Raw ids never become labels.
    assert!(!response.text.contains(id) && !response.text.contains(&unknown.to_string()));

    for pool in ["readers", "writer"] {
        assert!(
            value_of(
                &samples,
                "tandem_db_pool_max_connections",
                &[("pool", pool)]
            )
            .is_some_and(|max| max >= 1.0),
            "{pool}"
        );
        for state in ["idle", "in_use"] {
            let labels = [("pool", pool), ("state", state)];
            assert!(value_of(&samples, "tandem_db_pool_connections", &labels).is_some());
        }
        let waits = value_of(
            &samples,
            "tandem_db_pool_wait_seconds_count",
            &[("pool", pool)],
        );
        assert!(waits.unwrap_or(0.0) >= 1.0, "{pool}: {waits:?}");
    }
    let runs = [("job", "reminders"), ("outcome", "ok")];
    assert!(value_of(&samples, "tandem_job_runs_total", &runs).unwrap_or(0.0) >= 1.0);
    assert!(value_of(&samples, "tandem_job_run_duration_seconds_count", &runs).is_some());
}

#[test]
fn metrics_take_the_configured_token() {
    let app = TestApp::spawn_configured(relaxed_limits(), |config| {
        config.metrics_token = Some("scrape-secret-0123456789".into());
    });
    let user = app.register("Scraper");
    for token in [None, Some("wrong-token"), Some(user.token.as_str())] {
        let refused = scrape(&app, token);
        refused.problem(401);
        assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
        assert!(!refused.text.contains("tandem_http_requests_total"));
    }
    let scraped = scrape(&app, Some("scrape-secret-0123456789"));
    assert_eq!(scraped.status, 200, "{}", scraped.text);
    assert!(!parse_exposition(&scraped.text).is_empty());
}

/// Lag samples over five minutes so far: the `+Inf` bucket less the `le="300"` one.
fn late_job_claims(app: &TestApp) -> f64 {
    let samples = parse_exposition(&scrape(app, None).text);
    let bucket = |le| {
        value_of(
            &samples,
            "tandem_job_lag_seconds_bucket",
            &[("job", "reminders"), ("le", le)],
        )
        .unwrap_or(0.0)
    };
    bucket("+Inf") - bucket("300")
}

#[test]
fn metrics_show_how_late_the_job_claimed_due_events() {
    let app = TestApp::spawn();
    app.paired_program();
    let before = late_job_claims(&app);
    // The job was down for three days: what was due then is claimed days late.
    app.clock.advance(chrono::Duration::days(3));
    assert!(app.run_jobs().planned >= 1);
    let after = late_job_claims(&app);
    assert!(after >= before + 1.0, "{before} → {after}");
}
