//! What the fuzzer (scripts/contract-test.sh) found the server doing against its own
//! spec, each pinned here: undeclared methods, `If-Match` judged after the body, and
//! the spec saying what the server checks.

use serde_json::{json, Value};
use tandem_tests::{TestApp, TestUser};

/// A draft program of the `new-parents` template (8 weeks) in a fresh group.
fn program(app: &TestApp, owner: &TestUser) -> String {
    let group = app.create_group(owner, "Contract");
    let gid = group["id"].as_str().expect("group id");
    let response = app
        .post(&format!("/v1/groups/{gid}/programs"))
        .token(&owner.token)
        .json(&json!({"template_key": "new-parents"}))
        .send();
    assert_eq!(response.status, 201, "{}", response.text);
    response.str("/id")
}

#[test]
fn an_undeclared_method_on_a_known_path_is_405_with_allow() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let cases = [
        ("TRACE", "/v1/groups".to_owned(), "GET, POST"),
        (
            "PUT",
            format!("/v1/groups/{}", uuid::Uuid::nil()),
            "GET, PATCH",
        ),
        ("DELETE", "/healthz".to_owned(), "GET"),
        ("POST", "/openapi.json".to_owned(), "GET"),
        // A literal path wins over the template that also matches it.
        ("TRACE", "/v1/me/notifications/read-all".to_owned(), "POST"),
    ];
    for (method, path, allow) in cases {
        let response = app.request(method, &path).token(&ada.token).send();
        let problem = response.problem(405);
        assert_eq!(problem["type"], "/problems/method-not-allowed");
        assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
    }
    app.request("TRACE", "/v1/nothing-here").send().problem(404);
}

#[test]
fn a_literal_path_is_not_read_as_an_id_of_its_neighbour() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    // PATCH reaches the route /v1/me/notifications/{notification_id}, whose id does not
    // parse; the path is a known one of its own, so the answer is 405, not 404.
    let response = app
        .patch("/v1/me/notifications/read-all")
        .token(&ada.token)
        .json(&json!({"read": true}))
        .send();
    response.problem(405);
    assert_eq!(response.header("allow"), Some("POST"));
    app.patch("/v1/me/notifications/not-an-id")
        .token(&ada.token)
        .json(&json!({"read": true}))
        .send()
        .problem(404);
}

#[test]
fn the_body_is_judged_before_the_if_match_precondition() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let pid = program(&app, &ada);
    let stale = "\"999\"";
    // An invalid value is a 422 naming the field, whatever the precondition says.
    app.patch(&format!("/v1/programs/{pid}"))
        .token(&ada.token)
        .header("If-Match", stale)
        .json(&json!({"cadence_days": 0}))
        .send()
        .invalid_field("cadence_days");
    // Malformed JSON is a 400, even with an empty If-Match.
    app.patch(&format!("/v1/programs/{pid}"))
        .token(&ada.token)
        .header("If-Match", "")
        .raw("application/json", "{\"name\":")
        .send()
        .problem(400);
    // A valid body meets the precondition.
    app.patch(&format!("/v1/programs/{pid}"))
        .token(&ada.token)
        .header("If-Match", stale)
        .json(&json!({"cadence_days": 14}))
        .send()
        .problem(412);
}

#[test]
fn a_custom_template_update_is_validated_before_if_match() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Readers");
    let gid = group["id"].as_str().expect("group id");
    let created = app
        .post(&format!("/v1/groups/{gid}/templates"))
        .token(&ada.token)
        .json(&json!({
            "key": "book-club", "name": "Book club", "description": "", "duration_weeks": 1,
            "questions": [],
            "weeks": [{"number": 1, "title": "First", "goal": "Pick a book", "prompts": ["Which?"]}],
        }))
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    app.patch(&format!("/v1/groups/{gid}/templates/book-club"))
        .token(&ada.token)
        .header("If-Match", "\"999\"")
        .json(&json!({"cadence_days": 0}))
        .send()
        .invalid_field("cadence_days");
}

#[test]
fn a_malformed_if_match_is_422_naming_the_header() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    for value in ["null", "3", "\"3", "W/3"] {
        app.patch("/v1/me")
            .token(&ada.token)
            .header("If-Match", value)
            .json(&json!({"display_name": "Ada L."}))
            .send()
            .invalid_field("If-Match");
    }
    // An empty list of ETags matches no version: 412, saying so.
    let empty = app
        .patch("/v1/me")
        .token(&ada.token)
        .header("If-Match", "")
        .json(&json!({"display_name": "Ada L."}))
        .send();
    let problem = empty.problem(412);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("If-Match")),
        "{problem}"
    );
}

#[test]
fn if_match_takes_lists_and_weak_tags() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let me = app.get("/v1/me").token(&ada.token).send();
    let etag = me.header("etag").expect("etag").to_owned();
    let list = format!("\"0\", W/{etag}");
    let response = app
        .patch("/v1/me")
        .token(&ada.token)
        .header("If-Match", &list)
        .json(&json!({"display_name": "Ada L."}))
        .send();
    assert_eq!(response.status, 200, "{}", response.text);
    app.patch("/v1/me")
        .token(&ada.token)
        .header("If-Match", "*")
        .json(&json!({"display_name": "Ada B."}))
        .send();
}

#[test]
fn a_password_is_limited_in_characters_as_the_spec_says() {
    let app = TestApp::spawn();
    // 256 characters of three bytes each: within the declared maxLength of 256.
    let long = "€".repeat(256);
    let response = app
        .post("/v1/auth/register")
        .json(&json!({"email": "euro@example.org", "password": long, "display_name": "Euro"}))
        .send();
    assert_eq!(response.status, 201, "{}", response.text);
    app.post("/v1/auth/register")
        .json(&json!({"email": "more@example.org", "password": "€".repeat(257), "display_name": "More"}))
        .send()
        .invalid_field("password");
}

#[test]
fn the_spec_declares_what_the_server_checks_and_links_operations() {
    let app = TestApp::spawn();
    let spec: Value = app.get("/openapi.json").send().body;
    let schemas = &spec["components"]["schemas"];
    let name = &schemas["CreateGroupRequest"]["properties"]["name"];
    assert_eq!(name["minLength"], 1);
    assert_eq!(name["maxLength"], 120);
    assert!(name["pattern"]
        .as_str()
        .is_some_and(|p| p.contains("\\u202E")));
    let register = &schemas["RegisterRequest"]["properties"];
    assert_eq!(register["display_name"]["maxLength"], 80);
    assert_eq!(register["password"]["minLength"], 10);
    assert_eq!(register["email"]["format"], "email");
    assert!(register["time_zone"]["enum"]
        .as_array()
        .is_some_and(|zones| zones.iter().any(|z| z == "Europe/Rome")));
    assert_eq!(
        schemas["EnrolRequest"]["properties"]["capacity"]["minimum"],
        1
    );
    let members = &spec["paths"]["/v1/groups/{group_id}/members"]["get"]["parameters"];
    let cursor = members
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "cursor"))
        .expect("a cursor parameter");
    assert_eq!(cursor["schema"]["minLength"], 1);
    let link = &spec["paths"]["/v1/groups/{group_id}/programs"]["post"]["responses"]["201"]
        ["links"]["get_program"];
    assert_eq!(link["operationId"], "get_program");
    assert_eq!(link["parameters"]["program_id"], "$response.body#/id");
}

#[test]
fn a_body_is_an_object() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Readers");
    let gid = group["id"].as_str().expect("group id");
    // serde reads an array as a struct's fields in order; the API takes objects only.
    app.patch(&format!("/v1/groups/{gid}"))
        .token(&ada.token)
        .json(&json!([null, null]))
        .send()
        .invalid_field("body");
}

#[test]
fn a_length_limit_counts_the_characters_sent() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    // 80 visible characters fit; padded to 85 as sent, they exceed the declared 80.
    let name = "x".repeat(80);
    let fits = app
        .patch("/v1/me")
        .token(&ada.token)
        .json(&json!({"display_name": name}))
        .send();
    assert_eq!(fits.status, 200, "{}", fits.text);
    app.patch("/v1/me")
        .token(&ada.token)
        .json(&json!({"display_name": format!("     {name}")}))
        .send()
        .invalid_field("display_name");
}
