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

#[test]
fn suggestions_and_the_assignment_answer_one_schema_each() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).expect("spec is JSON");
    for (path, id, schema) in [
        (
            "/v1/programs/{program_id}/match-suggestions",
            "get_match_suggestions",
            "RankedSuggestions",
        ),
        (
            "/v1/programs/{program_id}/match-suggestions/assignment",
            "get_match_assignment",
            "MatchAssignment",
        ),
    ] {
        let op = &spec["paths"][path]["get"];
        assert_eq!(op["operationId"], id, "{path}");
        let answer = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(
            answer["$ref"],
            format!("#/components/schemas/{schema}"),
            "{id} answers one named schema"
        );
        let declared = &spec["components"]["schemas"][schema];
        assert!(declared["properties"].is_object(), "{schema}: {declared}");
        assert!(
            declared.get("oneOf").is_none() && declared.get("anyOf").is_none(),
            "{schema} is not a union"
        );
    }
    let params = spec["paths"]["/v1/programs/{program_id}/match-suggestions"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    assert!(params.iter().all(|p| p["name"] != "mode"), "mode is gone");
}

/// Follows a local `$ref`, or answers the schema itself.
fn resolve<'a>(
    spec: &'a serde_json::Value,
    schema: &'a serde_json::Value,
) -> &'a serde_json::Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => spec.pointer(pointer).unwrap_or(&serde_json::Value::Null),
        None => schema,
    }
}

#[test]
fn notifications_are_one_schema_per_kind_told_apart_by_kind() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).expect("spec is JSON");
    let list = &spec["components"]["schemas"]["NotificationList"];
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/NotificationView"
    );
    let view = &spec["components"]["schemas"]["NotificationView"];
    assert_eq!(view["discriminator"]["propertyName"], "kind", "{view}");
    let mapping = view["discriminator"]["mapping"]
        .as_object()
        .expect("a mapping from kind to schema");
    let kinds: Vec<&str> = mapping.keys().map(String::as_str).collect();
    let mut expected = vec![
        "matched",
        "pairing_ended",
        "enrolment_approved",
        "enrolment_declined",
        "check_in_due",
        "check_in_missed",
        "pairing_completed",
        "new_messages",
    ];
    expected.sort();
    let mut kinds = kinds.clone();
    kinds.sort();
    assert_eq!(kinds, expected);
    let variants = view["oneOf"].as_array().expect("oneOf");
    assert_eq!(variants.len(), mapping.len());
    for (kind, target) in mapping {
        assert!(
            variants.iter().any(|v| v["$ref"] == *target),
            "{kind}: {target} is one of the variants"
        );
        let pointer = target.as_str().and_then(|t| t.strip_prefix('#'));
        let variant = spec
            .pointer(pointer.expect("a local $ref"))
            .expect("the variant's schema");
        let required = variant["required"].as_array().expect("required");
        for field in ["id", "kind", "created_at", "data"] {
            assert!(
                required.iter().any(|r| r == field),
                "{kind} requires {field}"
            );
        }
        // The kind is a constant of its variant, so a client narrows on it.
        let constant = resolve(&spec, &variant["properties"]["kind"]);
        assert_eq!(constant["enum"], serde_json::json!([kind]), "{kind}");
        // And the data is typed: an object with named, required fields.
        let data = resolve(&spec, &variant["properties"]["data"]);
        assert_eq!(data["type"], "object", "{kind}: {data}");
        let fields = data["properties"].as_object().expect("data properties");
        assert!(fields.contains_key("program_id"), "{kind}: {data}");
        assert!(
            !data["required"].as_array().is_none_or(Vec::is_empty),
            "{kind}"
        );
    }
}
