//! Blocking a partner: the pairing ends at once, the blocked partner is told only that
//! it ended, and the two are never paired again in the group, whichever way an admin,
//! a batch, auto matching or a suggestion would try, nor by a write behind the API.

use serde_json::{json, Value};
use tandem_tests::scenarios::INTRODUCTION;
use tandem_tests::{PairedProgram, TestApp, TestUser};

const REASON: &str = "He kept pressing me for my address";

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

fn block(app: &TestApp, user: &TestUser, pairing: &Value, reason: &str) -> tandem_tests::Response {
    app.post(&format!("/v1/pairings/{}/block", id(pairing)))
        .token(&user.token)
        .json(&json!({ "reason": reason }))
        .send()
}

fn pair(
    app: &TestApp,
    admin: &TestUser,
    program: &Value,
    mentor: &Value,
    mentee: &Value,
) -> tandem_tests::Response {
    app.post(&format!("/v1/programs/{}/pairings", id(program)))
        .token(&admin.token)
        .json(&json!({
            "mentor_enrolment_id": id(mentor),
            "mentee_enrolment_id": id(mentee),
            "introduction": INTRODUCTION,
        }))
        .send()
}

fn feed(app: &TestApp, user: &TestUser) -> Value {
    let feed = app.get("/v1/me/notifications").token(&user.token).send();
    assert_eq!(feed.status, 200, "{}", feed.text);
    feed.body
}

#[test]
fn a_partner_blocks_the_pairing_ends_and_the_other_is_told_only_that() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentee_enrolment,
        pairing,
        ..
    } = app.paired_program();

    let blocked = block(&app, &bea, &pairing, REASON);
    assert_eq!(blocked.status, 200, "{}", blocked.text);
    assert_eq!(blocked.body["id"], pairing["id"]);
    assert_eq!(blocked.body["status"], "ended");
    assert_eq!(blocked.body["end_reason"], "The pairing was ended.");
    assert!(blocked.body["ended_at"].is_string());

    // Cleo learns that the pairing ended, by a partner, and nothing more.
    let cleo_feed = feed(&app, &cleo);
    let told = &cleo_feed["items"][0];
    assert_eq!(told["kind"], "pairing_ended", "{cleo_feed}");
    assert_eq!(told["data"]["pairing_id"], pairing["id"]);
    assert_eq!(told["data"]["by_partner"], true);
    assert_eq!(told["data"]["reason"], "The pairing was ended.");
    let cleos_view = app
        .get(&format!("/v1/pairings/{}", id(&pairing)))
        .token(&cleo.token)
        .send();
    assert_eq!(cleos_view.body["status"], "ended");
    for text in [cleo_feed.to_string(), cleos_view.text.clone()] {
        assert!(!text.contains(REASON), "{text}");
        assert!(!text.to_lowercase().contains("block"), "{text}");
    }
    // The one who blocked is not notified of their own act.
    assert_eq!(feed(&app, &bea)["items"][0]["kind"], "matched");

    // Bea is free to be paired with someone else at once.
    let dan = app.member(&group, "Dan");
    let dans = app.enrol_mentor(&dan, &program, Some(1));
    let with_dan = pair(&app, &ada, &program, &dans, &mentee_enrolment);
    assert_eq!(with_dan.status, 201, "{}", with_dan.text);
    // The block's reason is recorded, but only for the group's records.
    assert_eq!(
        tandem_tests::db::connect(app.database_url()).count("blocks"),
        1
    );
}

#[test]
fn a_block_holds_against_every_way_of_pairing() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentee_enrolment,
        mentor_enrolment,
        pairing,
    } = app.paired_program();
    // Cleo blocks; the rule holds whoever blocked.
    assert_eq!(block(&app, &cleo, &pairing, REASON).status, 200);
    let dan = app.member(&group, "Dan");
    let dans = app.enrol_mentor(&dan, &program, Some(1));

    // One pairing by an admin: a clear conflict.
    let single = pair(&app, &ada, &program, &mentor_enrolment, &mentee_enrolment);
    let problem = single.problem(409);
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("blocked"),
        "{problem}"
    );
    // A batch: the item is named, nothing is made (Dan's pairing with Bea neither).
    let batch = app
        .post(&format!("/v1/programs/{}/pairings/batch", id(&program)))
        .token(&ada.token)
        .json(&json!({"pairings": [
            {"mentor_enrolment_id": id(&mentor_enrolment), "mentee_enrolment_id": id(&mentee_enrolment)},
        ]}))
        .send();
    let problem = batch.problem(409);
    let detail = problem["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("pairings[0]") && detail.contains("blocked"),
        "{problem}"
    );

    // Suggestions: Dan is one for Bea, Cleo (two free places) never is.
    let ranked = app
        .get(&format!("/v1/programs/{}/match-suggestions", id(&program)))
        .token(&ada.token)
        .send();
    assert_eq!(ranked.status, 200, "{}", ranked.text);
    let for_bea = ranked.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["mentee_enrolment_id"] == mentee_enrolment["id"])
        .cloned()
        .expect("Bea waits for a mentor");
    let mentors: Vec<&Value> = for_bea["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| &c["mentor_enrolment_id"])
        .collect();
    assert_eq!(mentors, vec![&dans["id"]], "{for_bea}");
    // The program-wide assignment gives Bea to Dan, never to Cleo.
    let assignment = app
        .get(&format!(
            "/v1/programs/{}/match-suggestions/assignment",
            id(&program)
        ))
        .token(&ada.token)
        .send();
    assert_eq!(assignment.status, 200, "{}", assignment.text);
    assert_eq!(
        assignment.body["pairings"],
        json!([{
            "mentee_enrolment_id": mentee_enrolment["id"],
            "mentee_display_name": "Bea",
            "mentor_enrolment_id": dans["id"],
            "mentor_display_name": "Dan",
            "score": assignment.body["pairings"][0]["score"],
            "reasons": assignment.body["pairings"][0]["reasons"],
        }]),
        "{}",
        assignment.text
    );

    // Another program of the same group, matched automatically: Cleo waits as a
    // mentor, and Bea enrolling is not paired with her; Eve, enrolling next, is.
    let auto = app.create_open_program(
        &ada,
        &group,
        json!({"template_key": "new-parents", "name": "Second year", "matching": "auto", "auto_match_threshold": 0}),
    );
    app.enrol_mentor(&cleo, &auto, Some(2));
    app.enrol_mentee(&bea, &auto);
    let beas = app.get("/v1/me/pairings").token(&bea.token).send();
    let in_auto: Vec<&Value> = beas.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|p| p["program_id"] == auto["id"])
        .collect();
    assert!(in_auto.is_empty(), "{}", beas.text);
    let eve = app.member(&group, "Eve");
    app.enrol_mentee(&eve, &auto);
    let eves = app.get("/v1/me/pairings").token(&eve.token).send();
    assert_eq!(eves.body["items"][0]["mentor"]["user_id"], json!(cleo.id));
    assert_eq!(eves.body["items"][0]["program_id"], auto["id"]);
}

#[test]
fn the_database_refuses_a_blocked_pair_written_behind_the_api() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentee_enrolment,
        mentor_enrolment,
        pairing,
        ..
    } = app.paired_program();
    assert_eq!(block(&app, &bea, &pairing, REASON).status, 200);
    let dan = app.member(&group, "Dan");
    let dans = app.enrol_mentor(&dan, &program, Some(1));
    let insert = |pairing_id: &str, mentor: &Value, mentor_user: &str| {
        format!(
            "INSERT INTO pairings (id, program_id, mentor_enrolment_id, mentee_enrolment_id, \
             mentor_user_id, mentee_user_id, introduction, status, started_on, created_at) \
             VALUES ('{pairing_id}', '{}', '{}', '{}', '{mentor_user}', '{}', 'Hello', 'active', \
             '2026-12-01', '2026-12-01 09:00:00')",
            id(&program),
            id(mentor),
            id(&mentee_enrolment),
            bea.id,
        )
    };
    let mut db = tandem_tests::db::connect(app.database_url());
    let refused = db
        .try_execute(&insert(
            "00000000-0000-7000-8000-000000000001",
            &mentor_enrolment,
            &cleo.id,
        ))
        .expect_err("the blocked pair is refused");
    assert!(refused.contains("pairings_blocked_pair"), "{refused}");
    // The same write for a pair nobody blocked goes through: the trigger is that narrow.
    db.try_execute(&insert(
        "00000000-0000-7000-8000-000000000002",
        &dans,
        &dan.id,
    ))
    .expect("an unblocked pair is stored");
}

#[test]
fn only_a_partner_blocks() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        group,
        pairing,
        ..
    } = app.paired_program();
    let dan = app.member(&group, "Dan");
    let stranger = app.register("Zed");
    let path = format!("/v1/pairings/{}/block", id(&pairing));
    let body = json!({ "reason": REASON });
    app.post(&path).json(&body).send().problem(401);
    app.post(&path)
        .token(&stranger.token)
        .json(&body)
        .send()
        .problem(404);
    app.post(&path)
        .token(&dan.token)
        .json(&body)
        .send()
        .problem(404);
    app.post(&path)
        .token(&ada.token)
        .json(&body)
        .send()
        .problem(403);
    app.post("/v1/pairings/00000000-0000-7000-8000-000000000000/block")
        .token(&bea.token)
        .json(&body)
        .send()
        .problem(404);
    // Reasons follow the user-text rules, 1–1000 characters.
    for reason in ["", "   ", &"x".repeat(1001)] {
        block(&app, &bea, &pairing, reason).invalid_field("reason");
    }
    assert_eq!(block(&app, &bea, &pairing, &"x".repeat(1000)).status, 200);
}

#[test]
fn an_ended_pairing_can_still_be_blocked_and_a_second_block_changes_nothing() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        program,
        mentee_enrolment,
        mentor_enrolment,
        pairing,
        ..
    } = app.paired_program();
    let ended = app
        .post(&format!("/v1/pairings/{}/end", id(&pairing)))
        .token(&bea.token)
        .json(&json!({"reason": "Our schedules never line up"}))
        .send();
    assert_eq!(ended.status, 200, "{}", ended.text);
    let before = feed(&app, &bea);

    // Cleo blocks the ended pairing: it stays as it ended, nobody is told again.
    let blocked = block(&app, &cleo, &pairing, REASON);
    assert_eq!(blocked.status, 200, "{}", blocked.text);
    assert_eq!(blocked.body["status"], "ended");
    assert_eq!(blocked.body["end_reason"], "Our schedules never line up");
    assert_eq!(feed(&app, &bea), before);
    // Either partner blocking again answers the same and stores nothing more.
    assert_eq!(block(&app, &bea, &pairing, "me too").status, 200);
    assert_eq!(block(&app, &cleo, &pairing, REASON).status, 200);
    assert_eq!(
        tandem_tests::db::connect(app.database_url()).count("blocks"),
        1
    );
    // And they are never paired again.
    pair(&app, &ada, &program, &mentor_enrolment, &mentee_enrolment).problem(409);
}

#[test]
fn a_removed_partner_can_no_longer_block() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_program();
    let removed = app
        .delete(&format!("/v1/groups/{}/members/{}", id(&group), cleo.id))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);
    block(&app, &cleo, &pairing, REASON).problem(404);
}

#[test]
fn a_block_ends_a_pairing_even_in_an_archived_program() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        program,
        pairing,
        ..
    } = app.paired_program();
    app.set_program_status(&ada, &program, "closed");
    app.set_program_status(&ada, &program, "archived");
    // `/end` is refused there (read-only); a member's safety comes first.
    let blocked = block(&app, &bea, &pairing, REASON);
    assert_eq!(blocked.status, 200, "{}", blocked.text);
    assert_eq!(blocked.body["status"], "ended");
    assert_eq!(feed(&app, &cleo)["items"][0]["kind"], "pairing_ended");
}

#[test]
fn a_block_ends_the_pairs_pairings_in_the_groups_other_programs_too() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_program();
    let second = app.create_open_program(
        &ada,
        &group,
        json!({"template_key": "new-parents", "name": "Second year"}),
    );
    let mentor = app.enrol_mentor(&cleo, &second, Some(1));
    let mentee = app.enrol_mentee(&bea, &second);
    let other = pair(&app, &ada, &second, &mentor, &mentee);
    assert_eq!(other.status, 201, "{}", other.text);

    assert_eq!(block(&app, &bea, &pairing, REASON).status, 200);
    let there = app
        .get(&format!("/v1/pairings/{}", id(&other.body)))
        .token(&cleo.token)
        .send();
    assert_eq!(there.body["status"], "ended", "{}", there.text);
    assert_eq!(there.body["end_reason"], "The pairing was ended.");
    let cleo_feed = feed(&app, &cleo);
    let ended: Vec<&Value> = cleo_feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["kind"] == "pairing_ended")
        .map(|n| &n["data"]["pairing_id"])
        .collect();
    assert_eq!(ended.len(), 2, "{cleo_feed}");
    assert!(ended.contains(&&other.body["id"]) && ended.contains(&&pairing["id"]));
    assert!(!cleo_feed.to_string().contains(REASON));
}
