//! The notification feed.

use serde_json::{json, Value};
use tandem_tests::answers::new_parent_answers;
use tandem_tests::{OpenProgram, TestApp};

#[test]
fn notifications_are_read_one_by_one_or_all_at_once() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({"requires_approval": true}));
    let cleo = app.member(&group, "Cleo");
    for role in ["mentee", "mentor"] {
        let enrolment = app.enrol(
            &bea,
            &program,
            json!({"role": role, "answers": new_parent_answers()}),
        );
        let decision = if role == "mentee" {
            "active"
        } else {
            "declined"
        };
        app.patch(&format!(
            "/v1/enrolments/{}",
            enrolment["id"].as_str().expect("id")
        ))
        .token(&ada.token)
        .json(&json!({"status": decision}))
        .send();
    }
    let feed = app.get("/v1/me/notifications").token(&bea.token).send();
    assert_eq!(feed.status, 200, "{}", feed.text);
    let items = feed.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "enrolment_declined");
    assert_eq!(items[1]["kind"], "enrolment_approved");
    assert_eq!(items[1]["data"]["program_name"], program["name"]);
    assert!(items.iter().all(|n| n["read_at"].is_null()));

    let first = items[0]["id"].as_str().expect("id");
    // Someone else's notification does not exist for Cleo.
    app.patch(&format!("/v1/me/notifications/{first}"))
        .token(&cleo.token)
        .json(&json!({"read": true}))
        .send()
        .problem(404);
    let read = app
        .patch(&format!("/v1/me/notifications/{first}"))
        .token(&bea.token)
        .json(&json!({"read": true}))
        .send();
    assert_eq!(read.status, 200, "{}", read.text);
    assert!(read.body["read_at"].is_string());
    let unread = app
        .get("/v1/me/notifications")
        .token(&bea.token)
        .query("unread", "true")
        .send();
    assert_eq!(unread.body["items"].as_array().map(Vec::len), Some(1));

    let all = app
        .post("/v1/me/notifications/read-all")
        .token(&bea.token)
        .send();
    assert_eq!(all.body["marked"], 1);
    let unread = app
        .get("/v1/me/notifications")
        .token(&bea.token)
        .query("unread", "true")
        .send();
    assert_eq!(unread.body["items"], json!([]));
    app.get("/v1/me/notifications").send().problem(401);
}

#[test]
fn the_feed_is_paginated_newest_first() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        program,
        ..
    } = app.open_program(json!({"requires_approval": true}));
    let enrolment = app.enrol_mentee(&bea, &program);
    app.patch(&format!(
        "/v1/enrolments/{}",
        enrolment["id"].as_str().expect("id")
    ))
    .token(&ada.token)
    .json(&json!({"status": "active"}))
    .send();
    let mentor = app.enrol_mentor(&bea, &program, None);
    app.patch(&format!(
        "/v1/enrolments/{}",
        mentor["id"].as_str().expect("id")
    ))
    .token(&ada.token)
    .json(&json!({"status": "active"}))
    .send();
    let first = app
        .get("/v1/me/notifications")
        .token(&bea.token)
        .query("limit", "1")
        .send();
    assert_eq!(first.body["items"][0]["data"]["role"], "mentor");
    let cursor = first.body["next_cursor"].as_str().expect("a second page");
    let second = app
        .get("/v1/me/notifications")
        .token(&bea.token)
        .query("limit", "1")
        .query("cursor", cursor)
        .send();
    assert_eq!(second.body["items"][0]["data"]["role"], "mentee");
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
}

#[test]
fn each_kind_carries_its_typed_data() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({}));
    let cleo = app.member(&group, "Cleo");
    let mentee = app.enrol_mentee(&bea, &program);
    let mentor = app.enrol_mentor(&cleo, &program, None);
    let program_id = program["id"].as_str().expect("program id");
    let pairing = app
        .post(&format!("/v1/programs/{program_id}/pairings"))
        .token(&ada.token)
        .json(&json!({
            "mentor_enrolment_id": mentor["id"],
            "mentee_enrolment_id": mentee["id"],
            "introduction": "Meet each other.",
        }))
        .send();
    assert_eq!(pairing.status, 201, "{}", pairing.text);
    let pairing_id = pairing.body["id"].as_str().expect("pairing id");
    let ended = app
        .post(&format!("/v1/pairings/{pairing_id}/end"))
        .token(&cleo.token)
        .json(&json!({"reason": "We live too far apart."}))
        .send();
    assert_eq!(ended.status, 200, "{}", ended.text);

    let feed = app.get("/v1/me/notifications").token(&bea.token).send();
    let items = feed.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{}", feed.text);
    assert_eq!(
        items[0],
        json!({
            "id": items[0]["id"],
            "kind": "pairing_ended",
            "created_at": items[0]["created_at"],
            "read_at": null,
            "data": {
                "pairing_id": pairing_id,
                "program_id": program_id,
                "program_name": program["name"],
                "by_partner": true,
                "reason": "We live too far apart.",
            },
        })
    );
    assert_eq!(
        items[1]["data"],
        json!({
            "pairing_id": pairing_id,
            "program_id": program_id,
            "program_name": program["name"],
            "role": "mentee",
            "partner_display_name": "Cleo",
        })
    );
    assert_eq!(items[1]["kind"], "matched");
    // Cleo ended it herself: she was told she was matched, not that it ended.
    let cleo_feed = app.get("/v1/me/notifications").token(&cleo.token).send();
    let kinds: Vec<&Value> = cleo_feed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| &n["kind"])
        .collect();
    assert_eq!(kinds, [&json!("matched")]);
    assert_eq!(cleo_feed.body["items"][0]["data"]["role"], "mentor");
}
