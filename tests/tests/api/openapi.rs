//! The published spec is the one the server serves and the code generates.

use tandem_tests::TestApp;

const COMMITTED: &str = include_str!("../../../openapi/openapi.json");

#[test]
fn the_committed_spec_is_current() {
    let generated = tandem_api::openapi::spec_json();
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    );
}

#[test]
fn the_server_serves_the_committed_spec() {
    let app = TestApp::spawn();
    let served = app.get("/openapi.json").send();
    assert_eq!(served.status, 200);
    assert_eq!(served.text, COMMITTED);
}

#[test]
fn every_operation_is_named_and_documents_its_errors() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).expect("spec is JSON");
    assert_eq!(spec["openapi"], "3.1.0");
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{id} documents no response");
            let needs_auth = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if needs_auth {
                assert!(
                    responses.contains_key("401"),
                    "{id} needs auth but documents no 401"
                );
            }
            for (status, response) in responses {
                let response = match response["$ref"].as_str() {
                    Some(reference) => spec
                        .pointer(reference.trim_start_matches('#'))
                        .unwrap_or_else(|| panic!("{id} {status}: {reference} points nowhere")),
                    None => response,
                };
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{id} {status} is not problem+json"
                    );
                }
            }
        }
    }
}

#[test]
fn every_reference_resolves() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).expect("spec is JSON");
    let mut refs = Vec::new();
    collect_refs(&spec, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {reference}"));
        assert!(
            spec.pointer(pointer).is_some(),
            "$ref {reference} points nowhere"
        );
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item.as_str()) {
                    ("$ref", Some(target)) => out.push(target.to_owned()),
                    _ => collect_refs(item, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

#[test]
fn shared_answers_are_written_once_and_referenced() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).expect("spec is JSON");
    let shared = spec["components"]["responses"]
        .as_object()
        .expect("shared responses");
    for name in [
        "MalformedJson",
        "Unauthenticated",
        "PayloadTooLarge",
        "UnsupportedMediaType",
        "RateLimited",
        "Unavailable",
    ] {
        assert!(shared.contains_key(name), "no shared {name} answer");
    }
    for name in ["RateLimited", "Unavailable"] {
        assert!(
            shared[name]["headers"].get("Retry-After").is_some(),
            "{name} without Retry-After"
        );
    }
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = &op["responses"];
            for status in ["400", "413", "415", "429", "503"] {
                if let Some(response) = responses.get(status) {
                    assert!(
                        response.get("$ref").is_some(),
                        "{method} {path} writes its own {status}"
                    );
                }
            }
            let has_body = op.get("requestBody").is_some();
            assert_eq!(
                responses.get("413").is_some(),
                has_body,
                "{method} {path}: 413 iff a body"
            );
        }
    }
    for path in ["/v1/auth/login", "/v1/auth/register", "/v1/auth/refresh"] {
        assert!(
            spec["paths"][path]["post"]["responses"]
                .get("429")
                .is_some(),
            "{path} documents no 429"
        );
    }
    assert!(
        spec["paths"]["/healthz"]["get"]["responses"]
            .get("503")
            .is_none(),
        "healthz never touches the database"
    );
    assert!(
        !COMMITTED.contains("\"x-no-database\""),
        "internal marks leak into the spec"
    );
}
