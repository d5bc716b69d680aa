//! Check-ins: the schedule a pair follows, entries, who sees what, the agenda.

use chrono::Duration;
use serde_json::{json, Value};
use tandem_tests::{PairedProgram, TestApp, TestUser};

fn instant(raw: &str) -> chrono::DateTime<chrono::Utc> {
    raw.parse().expect("an RFC 3339 instant")
}

fn check_ins(app: &TestApp, user: &TestUser, pairing: &Value) -> tandem_tests::Response {
    app.get(&format!(
        "/v1/pairings/{}/check-ins",
        pairing["id"].as_str().expect("id")
    ))
    .token(&user.token)
    .send()
}

fn check_in(
    app: &TestApp,
    user: &TestUser,
    pairing: &Value,
    number: &str,
    body: Value,
) -> tandem_tests::Response {
    app.put(&format!(
        "/v1/pairings/{}/check-ins/{number}",
        pairing["id"].as_str().expect("id")
    ))
    .token(&user.token)
    .json(&body)
    .send()
}

fn states(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["state"].as_str().expect("state").to_owned())
        .collect()
}

#[test]
fn a_pair_follows_the_program_from_the_first_check_in_to_completion() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        program,
        pairing,
        ..
    } = app.short_program(3, "UTC", "UTC", "2027-03-01T10:00:00Z");
    assert_eq!(pairing["started_on"], "2027-03-01");
    assert_eq!(pairing["completes_on"], "2027-03-21");

    let list = check_ins(&app, &bea, &pairing);
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(states(&list.body), ["due", "upcoming", "upcoming"]);
    let first = &list.body["items"][0];
    assert_eq!(first["number"], 1);
    assert_eq!(first["due_on"], "2027-03-01");
    assert_eq!(first["closes_on"], "2027-03-07");
    assert_eq!(first["topic"], program["weeks"][0]);
    assert_eq!(list.body["items"][2]["due_on"], "2027-03-15");

    let mine = check_in(
        &app,
        &bea,
        &pairing,
        "1",
        json!({"rating": 4, "note": " Slept well\r\nfinally "}),
    );
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.body["state"], "completed");
    assert_eq!(mine.body["entries"][0]["note"], "Slept well\nfinally");
    let first_completed_at = mine.str("/entries/0/completed_at");
    let theirs = check_in(&app, &cleo, &pairing, "1", json!({"rating": 5}));
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert_eq!(theirs.body["entries"].as_array().map(Vec::len), Some(2));
    // Partners read each other's notes.
    assert!(theirs.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .any(|e| e["note"] == "Slept well\nfinally"));

    let early = check_in(&app, &bea, &pairing, "2", json!({"rating": 3}));
    assert!(early.problem(409)["detail"]
        .as_str()
        .is_some_and(|d| d.contains("not due yet")));

    // A partner changes their own entry while the window is open.
    app.clock.advance(Duration::days(1));
    let changed = check_in(
        &app,
        &bea,
        &pairing,
        "1",
        json!({"rating": 2, "note": null}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    let entry = changed.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["user_id"] == bea.id.as_str())
        .cloned()
        .expect("Bea's entry");
    assert_eq!(entry["rating"], 2);
    assert_eq!(entry["note"], Value::Null);
    assert_eq!(entry["completed_at"], first_completed_at.as_str());
    assert_ne!(entry["updated_at"], entry["completed_at"]);
    // The answer is built from what was written; a read finds the same stored.
    let stored = check_ins(&app, &bea, &pairing).body["items"][0]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["user_id"] == bea.id.as_str())
        .cloned()
        .expect("Bea's stored entry");
    assert_eq!(stored, entry);

    // Week 2 passes without anyone checking in.
    app.clock.set(instant("2027-03-15T12:00:00Z"));
    assert_eq!(
        states(&check_ins(&app, &cleo, &pairing).body),
        ["completed", "missed", "due"]
    );
    let late = check_in(&app, &cleo, &pairing, "2", json!({"rating": 3}));
    assert!(late.problem(409)["detail"]
        .as_str()
        .is_some_and(|d| d.contains("closed")));
    assert_eq!(
        check_in(&app, &cleo, &pairing, "3", json!({"rating": 5})).status,
        200
    );

    // The last window closes: the pairing reads completed before any job has run.
    app.clock.set(instant("2027-03-22T00:00:01Z"));
    let read = app
        .get(&format!(
            "/v1/pairings/{}",
            pairing["id"].as_str().expect("id")
        ))
        .token(&bea.token)
        .send();
    assert_eq!(read.body["status"], "completed", "{}", read.text);
    let mine = app.get("/v1/me/pairings").token(&cleo.token).send();
    assert_eq!(mine.body["items"][0]["status"], "completed");
    assert_eq!(
        states(&check_ins(&app, &bea, &pairing).body),
        ["completed", "missed", "completed"]
    );
    check_in(&app, &bea, &pairing, "3", json!({"rating": 1})).problem(409);
    let end = app
        .post(&format!(
            "/v1/pairings/{}/end",
            pairing["id"].as_str().expect("id")
        ))
        .token(&bea.token)
        .json(&json!({"reason": "Too late"}))
        .send();
    end.problem(409);
}

#[test]
fn admins_see_dates_states_and_ratings_but_never_notes() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        group,
        pairing,
        ..
    } = app.short_program(2, "UTC", "UTC", "2027-03-01T10:00:00Z");
    let secret = "We talked about the night feeds";
    assert_eq!(
        check_in(
            &app,
            &bea,
            &pairing,
            "1",
            json!({"rating": 4, "note": secret})
        )
        .status,
        200
    );
    let seen = check_ins(&app, &ada, &pairing);
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(!seen.text.contains(secret), "{}", seen.text);
    let entry = &seen.body["items"][0]["entries"][0];
    assert_eq!(entry["rating"], 4);
    assert!(entry.get("note").is_none(), "{entry}");
    assert_eq!(seen.body["items"][0]["state"], "completed");

    // An admin is not a partner: 403. Another member and a stranger learn nothing: 404.
    check_in(&app, &ada, &pairing, "1", json!({"rating": 5})).problem(403);
    let dana = app.member(&group, "Dana");
    check_ins(&app, &dana, &pairing).problem(404);
    check_in(&app, &dana, &pairing, "1", json!({"rating": 5})).problem(404);
    let stranger = app.register("Eve");
    check_ins(&app, &stranger, &pairing).problem(404);
    let agenda = app.get("/v1/me/check-ins").token(&ada.token).send();
    assert_eq!(agenda.body["items"], json!([]));
}

#[test]
fn entries_are_checked_field_by_field() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        pairing,
        ..
    } = app.short_program(2, "UTC", "UTC", "2027-03-01T10:00:00Z");
    check_in(&app, &bea, &pairing, "1", json!({"rating": 0})).invalid_field("rating");
    check_in(&app, &bea, &pairing, "1", json!({"rating": 6})).invalid_field("rating");
    check_in(
        &app,
        &bea,
        &pairing,
        "1",
        json!({"rating": 3, "note": "n".repeat(4001)}),
    )
    .invalid_field("note");
    check_in(
        &app,
        &bea,
        &pairing,
        "1",
        json!({"rating": 3, "note": "hidden\u{202E}"}),
    )
    .invalid_field("note");
    check_in(&app, &bea, &pairing, "1", json!({"note": "no rating"})).problem(422);
    for number in ["0", "3", "99", "first"] {
        check_in(&app, &bea, &pairing, number, json!({"rating": 3})).problem(404);
    }
    // Nothing was stored by the refusals.
    assert_eq!(
        states(&check_ins(&app, &bea, &pairing).body),
        ["due", "upcoming"]
    );
    let full = check_in(
        &app,
        &bea,
        &pairing,
        "1",
        json!({"rating": 3, "note": "n".repeat(4000)}),
    );
    assert_eq!(full.status, 200, "{}", full.text);
}

#[test]
fn an_ended_pairing_keeps_what_it_reached_read_only() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.short_program(4, "UTC", "UTC", "2027-03-01T10:00:00Z");
    assert_eq!(
        check_in(&app, &bea, &pairing, "1", json!({"rating": 5})).status,
        200
    );
    app.clock.set(instant("2027-03-09T09:00:00Z"));
    let end = app
        .post(&format!(
            "/v1/pairings/{}/end",
            pairing["id"].as_str().expect("id")
        ))
        .token(&cleo.token)
        .json(&json!({"reason": "Moving abroad"}))
        .send();
    assert_eq!(end.status, 200, "{}", end.text);
    let list = check_ins(&app, &bea, &pairing);
    assert_eq!(states(&list.body), ["completed", "missed"]);
    let refused = check_in(&app, &bea, &pairing, "2", json!({"rating": 3}));
    assert!(refused.problem(409)["detail"]
        .as_str()
        .is_some_and(|d| d.contains("ended")));
    app.clock.set(instant("2027-06-01T00:00:00Z"));
    assert_eq!(
        states(&check_ins(&app, &cleo, &pairing).body),
        ["completed", "missed"]
    );
}

#[test]
fn due_dates_are_the_mentees_local_days() {
    let app = TestApp::spawn();
    // 20:00 UTC on 1 March is already 09:00 on 2 March in Auckland (UTC+13).
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.short_program(
        2,
        "Pacific/Auckland",
        "America/Los_Angeles",
        "2027-03-01T20:00:00Z",
    );
    assert_eq!(pairing["started_on"], "2027-03-02");
    let seen_by_mentor = check_ins(&app, &cleo, &pairing);
    assert_eq!(seen_by_mentor.body["items"][1]["due_on"], "2027-03-09");
    // Check-in 2 opens at midnight in Auckland: 11:00 UTC on 8 March.
    app.clock.set(instant("2027-03-08T10:59:00Z"));
    check_in(&app, &cleo, &pairing, "2", json!({"rating": 4})).problem(409);
    app.clock.advance(Duration::minutes(2));
    let open = check_in(&app, &cleo, &pairing, "2", json!({"rating": 4}));
    assert_eq!(open.status, 200, "{}", open.text);
    assert_eq!(
        states(&check_ins(&app, &bea, &pairing).body),
        ["missed", "completed"]
    );
}

#[test]
fn my_check_ins_put_what_is_due_first_and_page_through_the_rest() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentor: cleo,
        group,
        program,
        mentor_enrolment,
        pairing: first,
        ..
    } = app.short_program(3, "UTC", "UTC", "2027-03-01T10:00:00Z");
    // Cleo takes a second mentee two days later.
    let dana = app.member(&group, "Dana");
    let dana_enrolment = app.enrol_mentee(&dana, &program);
    app.clock.set(instant("2027-03-03T10:00:00Z"));
    let second = app.pair(
        &ada,
        &program,
        mentor_enrolment["id"].as_str().expect("id"),
        dana_enrolment["id"].as_str().expect("id"),
        "Dana, meet Cleo.",
    );
    assert_eq!(
        check_in(&app, &cleo, &first, "1", json!({"rating": 4})).status,
        200
    );

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = app
            .get("/v1/me/check-ins")
            .token(&cleo.token)
            .query("limit", "2");
        if let Some(cursor) = &cursor {
            request = request.query("cursor", cursor);
        }
        let page = request.send();
        assert_eq!(page.status, 200, "{}", page.text);
        for item in page.body["items"].as_array().expect("items") {
            seen.push((
                item["pairing_id"].as_str().expect("pairing").to_owned(),
                item["number"].as_u64().expect("number"),
                item["state"].as_str().expect("state").to_owned(),
                item["partner"]["display_name"]
                    .as_str()
                    .expect("partner")
                    .to_owned(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    let first_id = first["id"].as_str().expect("id");
    let second_id = second["id"].as_str().expect("id");
    // Due first: only Dana's first check-in is; then upcoming, soonest first; then the past.
    assert_eq!(
        (seen[0].0.as_str(), seen[0].1, seen[0].2.as_str()),
        (second_id, 1, "due")
    );
    assert_eq!(seen[0].3, "Dana");
    assert_eq!((seen[1].0.as_str(), seen[1].1), (first_id, 2));
    assert_eq!((seen[2].0.as_str(), seen[2].1), (second_id, 2));
    assert_eq!((seen[3].0.as_str(), seen[3].1), (first_id, 3));
    assert_eq!((seen[4].0.as_str(), seen[4].1), (second_id, 3));
    assert_eq!(
        (seen[5].0.as_str(), seen[5].1, seen[5].2.as_str()),
        (first_id, 1, "completed")
    );
    assert!(seen[1..5].iter().all(|s| s.2 == "upcoming"), "{seen:?}");

    app.get("/v1/me/check-ins")
        .token(&cleo.token)
        .query("cursor", "bm90LWEtY3Vyc29y")
        .send()
        .invalid_field("cursor");
}

#[test]
fn a_partner_removed_from_the_group_reads_no_check_ins_there() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.short_program(2, "UTC", "UTC", "2027-03-01T10:00:00Z");
    assert_eq!(
        check_in(&app, &bea, &pairing, "1", json!({"rating": 4})).status,
        200
    );
    let removed = app
        .delete(&format!(
            "/v1/groups/{}/members/{}",
            group["id"].as_str().expect("group id"),
            bea.id
        ))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);
    check_ins(&app, &bea, &pairing).problem(404);
    check_in(&app, &bea, &pairing, "1", json!({"rating": 1})).problem(404);
    let agenda = app.get("/v1/me/check-ins").token(&bea.token).send();
    assert_eq!(agenda.body["items"], json!([]), "{}", agenda.text);
    // The partner keeps the pairing's history, ended when Bea was removed.
    let kept = check_ins(&app, &cleo, &pairing);
    assert_eq!(states(&kept.body), ["completed"]);
}

#[test]
fn a_rating_is_a_whole_number_however_it_is_written() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        pairing,
        ..
    } = app.short_program(2, "UTC", "UTC", "2027-03-01T10:00:00Z");
    let written = check_in(&app, &bea, &pairing, "1", json!({"rating": 3.0}));
    assert_eq!(written.status, 200, "{}", written.text);
    assert_eq!(written.body["entries"][0]["rating"], 3);
    check_in(&app, &bea, &pairing, "1", json!({"rating": 3.5})).invalid_field("rating");
    check_in(&app, &bea, &pairing, "1", json!({"rating": "4"})).problem(422);
}

#[test]
fn leaving_after_the_schedule_ran_out_leaves_the_pairing_completed() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.short_program(1, "UTC", "UTC", "2027-03-01T10:00:00Z");
    app.clock.set(instant("2027-03-09T10:00:00Z"));
    let left = app
        .delete(&format!(
            "/v1/groups/{}/members/{}",
            group["id"].as_str().expect("group id"),
            bea.id
        ))
        .token(&bea.token)
        .send();
    assert!(left.status < 300, "{}", left.text);
    let read = app
        .get(&format!(
            "/v1/pairings/{}",
            pairing["id"].as_str().expect("id")
        ))
        .token(&cleo.token)
        .send();
    assert_eq!(read.body["status"], "completed", "{}", read.text);
    assert_eq!(read.body["end_reason"], Value::Null);
}

#[test]
fn a_member_whose_schedule_ran_out_can_withdraw_before_any_job_runs() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        mentee_enrolment,
        mentor_enrolment,
        ..
    } = app.short_program(1, "UTC", "UTC", "2027-03-01T10:00:00Z");
    let withdraw = |user: &TestUser, enrolment: &Value| {
        app.delete(&format!(
            "/v1/enrolments/{}",
            enrolment["id"].as_str().expect("enrolment id")
        ))
        .token(&user.token)
        .send()
    };
    // Still paired: refused.
    withdraw(&bea, &mentee_enrolment).problem(409);
    app.clock.set(instant("2027-03-08T00:00:01Z"));
    assert_eq!(withdraw(&bea, &mentee_enrolment).status, 204);
    assert_eq!(withdraw(&cleo, &mentor_enrolment).status, 204);
}

#[test]
fn pairings_show_the_check_in_open_now_then_the_next_until_the_end() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.short_program(3, "UTC", "UTC", "2027-03-01T10:00:00Z");
    let pairing_path = format!("/v1/pairings/{}", pairing["id"].as_str().expect("id"));
    let next = |user: &TestUser| {
        let mine = app.get("/v1/me/pairings").token(&user.token).send();
        assert_eq!(mine.status, 200, "{}", mine.text);
        let one = app.get(&pairing_path).token(&user.token).send();
        assert_eq!(one.status, 200, "{}", one.text);
        assert_eq!(
            mine.body["items"][0]["next_check_in"],
            one.body["next_check_in"]
        );
        one.body["next_check_in"].clone()
    };
    assert_eq!(
        next(&bea),
        json!({"number": 1, "due_on": "2027-03-01", "closes_on": "2027-03-07"})
    );
    // Checking in does not move it: the window is still open.
    let done = check_in(&app, &cleo, &pairing, "1", json!({"rating": 4}));
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(next(&cleo)["number"], 1);
    app.clock.set(instant("2027-03-08T00:00:00Z"));
    assert_eq!(
        next(&bea),
        json!({"number": 2, "due_on": "2027-03-08", "closes_on": "2027-03-14"})
    );
    app.clock.set(instant("2027-03-22T00:00:00Z"));
    assert_eq!(next(&bea), Value::Null);
}

/// Each node keeps the guides it parsed (persistence/src/guides.rs): that is right only
/// while a program's guide never changes once written, which the database enforces.
#[test]
fn the_database_refuses_to_change_a_programs_guide_once_written() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        program,
        pairing,
        ..
    } = app.short_program(3, "UTC", "UTC", "2027-03-01T10:00:00Z");
    app.clock.set(instant("2027-03-16T00:00:00Z"));
    // The guide parsed and kept by this server.
    let before = check_ins(&app, &bea, &pairing);
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.body["items"].as_array().map(Vec::len), Some(3));
    // A writer going around the API (or a node of another release) cannot shorten it.
    let first_week = serde_json::to_string(&json!([program["weeks"][0]])).expect("json");
    let id = program["id"].as_str().expect("program id");
    let mut db = tandem_tests::db::connect(app.database_url());
    let refused = db.try_execute(&format!(
        "UPDATE programs SET weeks = '{}' WHERE id = '{id}'",
        first_week.replace('\'', "''")
    ));
    let error = refused.expect_err("a changed guide must be refused");
    assert!(error.contains("programs_guide_fixed"), "{error}");
    // Writing the same guide again, or changing other columns, is no change to it.
    db.execute(&format!(
        "UPDATE programs SET weeks = weeks, description = 'Now shorter' WHERE id = '{id}'"
    ));
    let after = check_ins(&app, &bea, &pairing);
    assert_eq!(after.status, 200, "{}", after.text);
    assert_eq!(after.body["items"], before.body["items"]);
    let stored = app
        .get(&format!("/v1/programs/{id}"))
        .token(&bea.token)
        .send();
    assert_eq!(stored.body["weeks"], program["weeks"], "{}", stored.text);
    assert_eq!(stored.body["description"], "Now shorter");
}

#[test]
fn a_check_ins_entries_come_in_the_order_they_were_first_made() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.short_program(3, "UTC", "UTC", "2027-03-01T10:00:00Z");
    // The partner whose id sorts last checks in first: time decides, not the id.
    let (first, second) = if bea.id > cleo.id {
        (&bea, &cleo)
    } else {
        (&cleo, &bea)
    };
    assert_eq!(
        check_in(&app, first, &pairing, "1", json!({"rating": 4})).status,
        200
    );
    app.clock.advance(Duration::minutes(5));
    let written = check_in(&app, second, &pairing, "1", json!({"rating": 5}));
    assert_eq!(written.status, 200, "{}", written.text);
    let order = |entries: &Value| -> Vec<String> {
        entries
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["user_id"].as_str().expect("user_id").to_owned())
            .collect()
    };
    let expected = [first.id.clone(), second.id.clone()];
    assert_eq!(order(&written.body["entries"]), expected);
    let listed = check_ins(&app, &bea, &pairing);
    assert_eq!(order(&listed.body["items"][0]["entries"]), expected);
    let one = app
        .get(&format!(
            "/v1/pairings/{}/check-ins/1",
            pairing["id"].as_str().expect("id")
        ))
        .token(&cleo.token)
        .send();
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body["entries"], listed.body["items"][0]["entries"]);
}
