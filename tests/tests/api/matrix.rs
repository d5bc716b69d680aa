//! The access-control matrix, generated from the route table: every operation of the
//! published spec whose path takes an id is called by eight kinds of caller, and each
//! answer is checked against [`EXPECTED`], keyed by "METHOD path-template". An operation
//! without an entry fails the test, so a new endpoint cannot be forgotten; an entry
//! without an operation fails it too. Bodies are checked for leaks: notes and messages
//! reach the two partners only, a report's reason the admins only, an email its owner.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tandem_tests::answers::new_parent_answers;
use tandem_tests::templates::book_club;
use tandem_tests::{TestApp, TestUser};

const NOTE: &str = "Matrix note: the night feeds are hard";
const MESSAGE: &str = "Matrix message: can we talk on Sunday?";
const REPORT: &str = "Matrix report: missed three calls";

/// The callers, in the order of each entry's statuses.
const CALLERS: [&str; 8] = [
    "anonymous",
    "non-member",
    "member",
    "removed member",
    "other pair's partner",
    "admin",
    "mentee",
    "mentor",
];

/// Not sent: the caller may do it, and doing it would end the fixture (withdraw, remove,
/// end, block, delete). Those successes are tested in their own modules; here only the
/// refusals are sent.
const KEEP: u16 = 0;

/// What each caller gets from each operation taking an id, with the body it sends.
/// To add an operation, add its line here: "METHOD /path/{template}".
const EXPECTED: &[(&str, [u16; 8])] = &[
    // Enrolments: the enrolled member (Bea) and the group's admins.
    (
        "GET /v1/enrolments/{enrolment_id}",
        [401, 404, 404, 404, 404, 200, 200, 404],
    ),
    (
        "DELETE /v1/enrolments/{enrolment_id}",
        [401, 404, 404, 404, 404, 403, KEEP, 404],
    ),
    (
        "PATCH /v1/enrolments/{enrolment_id}",
        [401, 404, 404, 404, 404, 409, 403, 404],
    ),
    // A group: its members; its admins manage it and its custom templates.
    (
        "GET /v1/groups/{group_id}",
        [401, 404, 200, 404, 200, 200, 200, 200],
    ),
    (
        "PATCH /v1/groups/{group_id}",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "POST /v1/groups/{group_id}/invite-code",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    // Joining needs the invite code, which every caller here is given: a member joining
    // again is answered the group, role unchanged (only admins see the code); a removed
    // member may come back and a stranger may join, which would change who they are, so
    // those are not sent.
    (
        "POST /v1/groups/{group_id}/join",
        [401, KEEP, 200, KEEP, 200, 200, 200, 200],
    ),
    (
        "GET /v1/groups/{group_id}/members",
        [401, 404, 200, 404, 200, 200, 200, 200],
    ),
    (
        "DELETE /v1/groups/{group_id}/members/{user_id}",
        [401, 404, 403, 404, 403, KEEP, KEEP, 403],
    ),
    (
        "GET /v1/groups/{group_id}/members/{user_id}",
        [401, 404, 200, 404, 200, 200, 200, 200],
    ),
    (
        "PATCH /v1/groups/{group_id}/members/{user_id}",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "GET /v1/groups/{group_id}/programs",
        [401, 404, 200, 404, 200, 200, 200, 200],
    ),
    (
        "POST /v1/groups/{group_id}/programs",
        [401, 404, 403, 404, 403, 201, 403, 403],
    ),
    (
        "GET /v1/groups/{group_id}/reports",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "GET /v1/groups/{group_id}/templates",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "POST /v1/groups/{group_id}/templates",
        [401, 404, 403, 404, 403, 409, 403, 403],
    ),
    (
        "GET /v1/groups/{group_id}/templates/{key}",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "DELETE /v1/groups/{group_id}/templates/{key}",
        [401, 404, 403, 404, 403, KEEP, 403, 403],
    ),
    (
        "PATCH /v1/groups/{group_id}/templates/{key}",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    // A notification is its owner's (the mentee's here).
    (
        "GET /v1/me/notifications/{notification_id}",
        [401, 404, 404, 404, 404, 404, 200, 404],
    ),
    (
        "PATCH /v1/me/notifications/{notification_id}",
        [401, 404, 404, 404, 404, 404, 200, 404],
    ),
    // The pair space: the two partners; the admins see progress, never the words.
    (
        "GET /v1/pairings/{pairing_id}",
        [401, 404, 404, 404, 404, 200, 200, 200],
    ),
    (
        "POST /v1/pairings/{pairing_id}/block",
        [401, 404, 404, 404, 404, 403, KEEP, KEEP],
    ),
    (
        "GET /v1/pairings/{pairing_id}/check-ins",
        [401, 404, 404, 404, 404, 200, 200, 200],
    ),
    (
        "GET /v1/pairings/{pairing_id}/check-ins/{number}",
        [401, 404, 404, 404, 404, 200, 200, 200],
    ),
    (
        "PUT /v1/pairings/{pairing_id}/check-ins/{number}",
        [401, 404, 404, 404, 404, 403, 200, 200],
    ),
    (
        "POST /v1/pairings/{pairing_id}/end",
        [401, 404, 404, 404, 404, KEEP, KEEP, KEEP],
    ),
    (
        "GET /v1/pairings/{pairing_id}/messages",
        [401, 404, 404, 404, 404, 403, 200, 200],
    ),
    (
        "POST /v1/pairings/{pairing_id}/messages",
        [401, 404, 404, 404, 404, 403, 201, 201],
    ),
    (
        "POST /v1/pairings/{pairing_id}/report",
        [401, 404, 404, 404, 404, 403, 201, 201],
    ),
    // A program: the group's members read it; its admins run it.
    (
        "GET /v1/programs/{program_id}",
        [401, 404, 200, 404, 200, 200, 200, 200],
    ),
    (
        "PATCH /v1/programs/{program_id}",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    // Members list their own enrolments only (checked below); admins list all.
    (
        "GET /v1/programs/{program_id}/enrolments",
        [401, 404, 200, 404, 200, 200, 200, 200],
    ),
    // One enrolment per member and role: Cleo, a mentor, may also enrol as a mentee.
    (
        "POST /v1/programs/{program_id}/enrolments",
        [401, 404, 201, 404, 409, 201, 409, 201],
    ),
    (
        "GET /v1/programs/{program_id}/insights",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "GET /v1/programs/{program_id}/match-suggestions",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "GET /v1/programs/{program_id}/match-suggestions/assignment",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "GET /v1/programs/{program_id}/pairings",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "POST /v1/programs/{program_id}/pairings",
        [401, 404, 403, 404, 403, 409, 403, 403],
    ),
    (
        "POST /v1/programs/{program_id}/pairings/batch",
        [401, 404, 403, 404, 403, 409, 403, 403],
    ),
    // A report: the group's admins.
    (
        "GET /v1/reports/{report_id}",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    (
        "PATCH /v1/reports/{report_id}",
        [401, 404, 403, 404, 403, 200, 403, 403],
    ),
    // The built-in templates are public to every signed-in caller.
    (
        "GET /v1/templates/{key}",
        [401, 200, 200, 200, 200, 200, 200, 200],
    ),
];

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// The ids the paths are filled with, and a valid body for each operation.
struct Fixture {
    params: BTreeMap<&'static str, String>,
    bodies: BTreeMap<&'static str, Value>,
}

/// The operations of the spec whose path takes a parameter, as "METHOD path".
fn operations_with_ids() -> Vec<String> {
    let spec: Value = serde_json::from_str(&tandem_api::openapi::spec_json()).expect("spec");
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        if !path.contains('{') {
            continue;
        }
        for method in ["get", "put", "post", "patch", "delete"] {
            if item.get(method).is_some() {
                operations.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations
}

#[test]
fn every_operation_taking_an_id_has_an_expected_outcome_for_every_caller() {
    let operations = operations_with_ids();
    let listed: Vec<&str> = EXPECTED.iter().map(|(op, _)| *op).collect();
    let missing: Vec<&String> = operations
        .iter()
        .filter(|op| !listed.contains(&op.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add these operations to EXPECTED in tests/tests/api/matrix.rs: {missing:#?}"
    );
    let stale: Vec<&&str> = listed
        .iter()
        .filter(|op| !operations.iter().any(|o| o == *op))
        .collect();
    assert!(
        stale.is_empty(),
        "EXPECTED lists operations the spec lacks: {stale:?}"
    );
}

#[test]
fn the_matrix_holds_and_nothing_leaks() {
    let app = TestApp::spawn();
    let (callers, fixture) = story(&app);
    let emails: Vec<(&str, &str)> = callers
        .iter()
        .flatten()
        .map(|u| (u.id.as_str(), u.email.as_str()))
        .collect();

    // Reads first, then writes: a write the matrix allows must not change what a later
    // read is expected to answer.
    let mut operations = operations_with_ids();
    operations.sort_by_key(|op| !op.starts_with("GET "));
    let admin = callers[5].clone().expect("the admin");
    let mut wrong = Vec::new();
    for operation in &operations {
        let (_, statuses) = EXPECTED
            .iter()
            .find(|(op, _)| op == operation)
            .unwrap_or_else(|| panic!("{operation} has no expected outcome"));
        let (method, template) = operation.split_once(' ').expect("METHOD path");
        let mut params = fixture.params.clone();
        // `{key}` names the group's custom template, except among the built-in ones.
        if template == "/v1/templates/{key}" {
            params.insert("key", "new-parents".to_owned());
        }
        let path = fill(template, &params);
        for (n, caller) in callers.iter().enumerate() {
            let expected = statuses[n];
            if expected == KEEP {
                continue;
            }
            let mut request = app.request(method, &path);
            if let Some(user) = caller {
                request = request.token(&user.token);
            }
            if let Some(body) = fixture.bodies.get(operation.as_str()) {
                request = request.json(body);
            }
            if operation == "POST /v1/groups/{group_id}/join" {
                // The code as it is now (the matrix rotates it too).
                let group = app
                    .get(&path.replace("/join", ""))
                    .token(&admin.token)
                    .send();
                request = request.json(&json!({"invite_code": group.body["invite_code"]}));
            }
            let answer = request.send();
            let who = CALLERS[n];
            if answer.status != expected {
                wrong.push(format!(
                    "{operation} as {who}: expected {expected}, got {} {}",
                    answer.status,
                    answer.text.chars().take(160).collect::<String>()
                ));
            }
            if answer.status >= 400 {
                answer.problem(answer.status);
            }
            // Leaks, whatever the status.
            let partner = who == "mentee" || who == "mentor";
            if !partner {
                assert!(
                    !answer.text.contains(NOTE) && !answer.text.contains(MESSAGE),
                    "{operation} as {who} shows the pair's words: {}",
                    answer.text
                );
            }
            // Enrolment answers: the enrolled member's own, or an admin's view.
            if operation == "GET /v1/programs/{program_id}/enrolments" && who != "admin" {
                for item in answer.body["items"].as_array().into_iter().flatten() {
                    let own = caller.as_ref().map(|u| u.id.as_str());
                    assert_eq!(item["user_id"].as_str(), own, "{who} lists {item}");
                }
            }
            if answer.text.contains(REPORT) {
                assert_eq!(
                    who, "admin",
                    "{operation} shows the report: {}",
                    answer.text
                );
            }
            for (owner, email) in &emails {
                if caller.as_ref().is_none_or(|user| user.id != *owner) {
                    assert!(
                        !answer.text.contains(email),
                        "{operation} as {who} shows {email}: {}",
                        answer.text
                    );
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the matrix does not hold:\n{}",
        wrong.join("\n")
    );
}

/// Fills `{name}` segments from the fixture's ids.
fn fill(template: &str, params: &BTreeMap<&'static str, String>) -> String {
    let mut path = template.to_owned();
    while let Some(start) = path.find('{') {
        let end = path[start..].find('}').expect("closing brace") + start;
        let name = &path[start + 1..end];
        let value = params
            .get(name)
            .unwrap_or_else(|| panic!("no fixture value for {{{name}}} in {template}"));
        path.replace_range(start..=end, value);
    }
    path
}

/// Ada's group and program. Cleo mentors Bea (the pairing under test) and Dana (the
/// other pair); Finn is a plain member; Ron was a member and was removed; Eve never
/// joined. Bea noted check-in 1, Cleo wrote a message, Bea reported Cleo.
fn story(app: &TestApp) -> ([Option<TestUser>; 8], Fixture) {
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let group_id = id(&group);
    let [bea, cleo, dana, finn, ron] =
        ["Bea", "Cleo", "Dana", "Finn", "Ron"].map(|name| app.member(&group, name));
    let eve = app.register("Eve");
    let created = app
        .post(&format!("/v1/groups/{group_id}/templates"))
        .token(&ada.token)
        .json(&book_club())
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    let program = app.create_open_program(&ada, &group, json!({"template_key": "new-parents"}));
    let program_id = id(&program);
    let mentor_enrolment = id(&app.enrol_mentor(&cleo, &program, Some(3)));
    let bea_enrolment = id(&app.enrol_mentee(&bea, &program));
    let dana_enrolment = id(&app.enrol_mentee(&dana, &program));
    let pairing = id(&app.pair(&ada, &program, &mentor_enrolment, &bea_enrolment, "Hello"));
    app.pair(&ada, &program, &mentor_enrolment, &dana_enrolment, "Hello");
    let removed = app
        .delete(&format!("/v1/groups/{group_id}/members/{}", ron.id))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);

    let noted = app
        .put(&format!("/v1/pairings/{pairing}/check-ins/1"))
        .token(&bea.token)
        .json(&json!({"rating": 4, "note": NOTE}))
        .send();
    assert_eq!(noted.status, 200, "{}", noted.text);
    let said = app
        .post(&format!("/v1/pairings/{pairing}/messages"))
        .token(&cleo.token)
        .json(&json!({"body": MESSAGE}))
        .send();
    assert_eq!(said.status, 201, "{}", said.text);
    let reported = app
        .post(&format!("/v1/pairings/{pairing}/report"))
        .token(&bea.token)
        .json(&json!({"reason": REPORT}))
        .send();
    assert_eq!(reported.status, 201, "{}", reported.text);
    let notification = app.notifications_of(&bea)[0]["id"]
        .as_str()
        .expect("Bea's notification")
        .to_owned();

    let params = BTreeMap::from([
        ("group_id", group_id.clone()),
        ("program_id", program_id),
        ("enrolment_id", bea_enrolment.clone()),
        ("pairing_id", pairing),
        ("user_id", bea.id.clone()),
        ("notification_id", notification),
        ("report_id", id(&reported.body)),
        ("key", "book-club".to_owned()),
        ("number", "1".to_owned()),
    ]);
    let pair_body = json!({
        "mentor_enrolment_id": mentor_enrolment,
        "mentee_enrolment_id": bea_enrolment,
        "introduction": "Again",
    });
    let bodies = BTreeMap::from([
        (
            "PATCH /v1/enrolments/{enrolment_id}",
            json!({"status": "active"}),
        ),
        ("PATCH /v1/groups/{group_id}", json!({"name": "Parents"})),
        (
            "PATCH /v1/groups/{group_id}/members/{user_id}",
            json!({"role": "member"}),
        ),
        (
            "POST /v1/groups/{group_id}/programs",
            json!({"template_key": "new-parents"}),
        ),
        ("POST /v1/groups/{group_id}/templates", book_club()),
        (
            "PATCH /v1/groups/{group_id}/templates/{key}",
            json!({"name": "Book club"}),
        ),
        (
            "PATCH /v1/me/notifications/{notification_id}",
            json!({"read": true}),
        ),
        (
            "POST /v1/pairings/{pairing_id}/block",
            json!({"reason": "Matrix"}),
        ),
        (
            "PUT /v1/pairings/{pairing_id}/check-ins/{number}",
            json!({"rating": 5, "note": NOTE}),
        ),
        (
            "POST /v1/pairings/{pairing_id}/end",
            json!({"reason": "Matrix"}),
        ),
        (
            "POST /v1/pairings/{pairing_id}/messages",
            json!({"body": "From the matrix"}),
        ),
        (
            "POST /v1/pairings/{pairing_id}/report",
            json!({"reason": "Another concern"}),
        ),
        (
            "PATCH /v1/programs/{program_id}",
            json!({"description": "Updated"}),
        ),
        (
            "POST /v1/programs/{program_id}/enrolments",
            json!({"role": "mentee", "answers": new_parent_answers()}),
        ),
        ("POST /v1/programs/{program_id}/pairings", pair_body.clone()),
        (
            "POST /v1/programs/{program_id}/pairings/batch",
            json!({"pairings": [pair_body]}),
        ),
        (
            "PATCH /v1/reports/{report_id}",
            json!({"status": "resolved"}),
        ),
    ]);
    (
        [
            None,
            Some(eve),
            Some(finn),
            Some(ron),
            Some(dana),
            Some(ada),
            Some(bea),
            Some(cleo),
        ],
        Fixture { params, bodies },
    )
}
