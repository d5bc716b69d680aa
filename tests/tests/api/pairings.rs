//! Pairing by admins, auto matching, the partners' view, ending.

use serde_json::{json, Value};
use tandem_tests::answers::new_parent_answers;
use tandem_tests::scenarios::INTRODUCTION;
use tandem_tests::{OpenProgram, PairCandidates, PairedProgram, TestApp, TestUser};

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
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

#[test]
fn an_admin_pairs_and_both_partners_see_it() {
    let app = TestApp::spawn();
    let PairCandidates {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        program,
        mentor_enrolment: mentor,
        mentee_enrolment: mentee,
        ..
    } = app.program_with_pair_candidates();
    let made = pair(&app, &ada, &program, &mentor, &mentee);
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.body["status"], "active");
    assert_eq!(made.body["mentor"]["display_name"], "Cleo");
    assert_eq!(made.body["mentee"]["display_name"], "Bea");
    assert!(made.body["started_on"]
        .as_str()
        .is_some_and(|d| d.len() == 10));

    for (user, role, partner) in [(&bea, "mentee", "Cleo"), (&cleo, "mentor", "Bea")] {
        let mine = app.get("/v1/me/pairings").token(&user.token).send();
        assert_eq!(mine.status, 200, "{}", mine.text);
        let item = &mine.body["items"][0];
        assert_eq!(item["id"], made.body["id"]);
        assert_eq!(item["my_role"], role);
        assert_eq!(item["program_name"], program["name"]);
        assert!(item["introduction"]
            .as_str()
            .is_some_and(|t| t.contains("twins")));
        let partner_side = if role == "mentee" { "mentor" } else { "mentee" };
        assert_eq!(item[partner_side]["display_name"], partner);
        assert!(
            !mine.text.contains("@example.org"),
            "no emails: {}",
            mine.text
        );

        let feed = app.get("/v1/me/notifications").token(&user.token).send();
        let matched = &feed.body["items"][0];
        assert_eq!(matched["kind"], "matched");
        assert_eq!(matched["data"]["partner_display_name"], partner);
        assert_eq!(matched["data"]["pairing_id"], made.body["id"]);
        assert_eq!(
            app.get(&format!("/v1/pairings/{}", id(&made.body)))
                .token(&user.token)
                .send()
                .status,
            200
        );
    }
    let listed = app
        .get(&format!("/v1/programs/{}/pairings", id(&program)))
        .token(&ada.token)
        .send();
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn pairing_rules_are_enforced() {
    let app = TestApp::spawn();
    let PairCandidates {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentor_enrolment: mentor,
        mentee_enrolment: mentee,
    } = app.program_with_pair_candidates();
    let eve = app.register("Eve");
    pair(&app, &bea, &program, &mentor, &mentee).problem(403);
    pair(&app, &eve, &program, &mentor, &mentee).problem(404);
    // Roles swapped, and the same person on both sides.
    pair(&app, &ada, &program, &mentee, &mentor).invalid_field("mentor_enrolment_id");
    let bea_mentor = app.enrol_mentor(&bea, &program, None);
    pair(&app, &ada, &program, &bea_mentor, &mentee).invalid_field("mentee_enrolment_id");
    // An enrolment of another program.
    let other = app.create_open_program(&ada, &group, json!({"template_key": "new-parents"}));
    let elsewhere = app.enrol_mentee(&cleo, &other);
    pair(&app, &ada, &program, &mentor, &elsewhere).invalid_field("mentee_enrolment_id");
    // Introduction bounds.
    app.post(&format!("/v1/programs/{}/pairings", id(&program)))
        .token(&ada.token)
        .json(&json!({"mentor_enrolment_id": id(&mentor), "mentee_enrolment_id": id(&mentee), "introduction": "x".repeat(2001)}))
        .send()
        .invalid_field("introduction");
    app.post(&format!("/v1/programs/{}/pairings", id(&program)))
        .token(&ada.token)
        .json(&json!({"mentor_enrolment_id": id(&mentor), "mentee_enrolment_id": id(&mentee), "introduction": "  "}))
        .send()
        .invalid_field("introduction");
    // One active pairing per mentee.
    assert_eq!(pair(&app, &ada, &program, &mentor, &mentee).status, 201);
    let dan = app.member(&group, "Dan");
    let second_mentor = app.enrol_mentor(&dan, &program, None);
    pair(&app, &ada, &program, &second_mentor, &mentee).problem(409);
}

#[test]
fn pending_enrolments_cannot_be_paired() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({"requires_approval": true}));
    let cleo = app.member(&group, "Cleo");
    let mentee = app.enrol_mentee(&bea, &program);
    let mentor = app.enrol_mentor(&cleo, &program, None);
    pair(&app, &ada, &program, &mentor, &mentee).problem(409);
}

#[test]
fn a_mentor_takes_no_more_than_their_capacity() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        group,
        program,
        ..
    } = app.open_program(json!({}));
    let cleo = app.member(&group, "Cleo");
    let mentor = app.enrol_mentor(&cleo, &program, Some(1));
    let mentees: Vec<Value> = ["Dora", "Emma"]
        .iter()
        .map(|name| {
            let user = app.register(name);
            app.join(&user, &group);
            app.enrol_mentee(&user, &program)
        })
        .collect();
    assert_eq!(pair(&app, &ada, &program, &mentor, &mentees[0]).status, 201);
    pair(&app, &ada, &program, &mentor, &mentees[1]).problem(409);
}

#[test]
fn either_partner_ends_and_places_free_up() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentor_enrolment: mentor,
        mentee_enrolment: mentee,
        pairing: made,
    } = app.paired_program();
    let dan = app.member(&group, "Dan");
    let end_path = format!("/v1/pairings/{}/end", id(&made));

    // A member who is not a partner sees nothing; reasons are validated.
    app.post(&end_path)
        .token(&dan.token)
        .json(&json!({"reason": "curious"}))
        .send()
        .problem(404);
    app.get(&format!("/v1/pairings/{}", id(&made)))
        .token(&dan.token)
        .send()
        .problem(404);
    app.post(&end_path)
        .token(&bea.token)
        .json(&json!({"reason": ""}))
        .send()
        .invalid_field("reason");

    let ended = app
        .post(&end_path)
        .token(&bea.token)
        .json(&json!({"reason": "Our schedules never line up"}))
        .send();
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(ended.body["status"], "ended");
    assert_eq!(ended.body["end_reason"], "Our schedules never line up");
    assert!(ended.body["ended_at"].is_string());
    app.post(&end_path)
        .token(&cleo.token)
        .json(&json!({"reason": "again"}))
        .send()
        .problem(409);

    // The mentor is told; the one who ended it is not.
    let cleo_feed = app.get("/v1/me/notifications").token(&cleo.token).send();
    assert_eq!(cleo_feed.body["items"][0]["kind"], "pairing_ended");
    assert_eq!(
        cleo_feed.body["items"][0]["data"]["reason"],
        "Our schedules never line up"
    );
    let bea_feed = app.get("/v1/me/notifications").token(&bea.token).send();
    assert_eq!(bea_feed.body["items"][0]["kind"], "matched");

    // The mentee can be paired again, and the mentor's place is free again.
    let again = pair(&app, &ada, &program, &mentor, &mentee);
    assert_eq!(again.status, 201, "{}", again.text);
    // An admin may end it too; both partners are told.
    let by_admin = app
        .post(&format!("/v1/pairings/{}/end", id(&again.body)))
        .token(&ada.token)
        .json(&json!({"reason": "Restructuring the cohort"}))
        .send();
    assert_eq!(by_admin.status, 200, "{}", by_admin.text);
    for user in [&bea, &cleo] {
        let feed = app.get("/v1/me/notifications").token(&user.token).send();
        assert_eq!(feed.body["items"][0]["kind"], "pairing_ended");
        assert_eq!(feed.body["items"][0]["data"]["by_partner"], false);
    }
}

#[test]
fn withdrawing_needs_the_pairing_ended_first() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentee_enrolment: mentee,
        pairing: made,
        ..
    } = app.paired_program();
    app.delete(&format!("/v1/enrolments/{}", id(&mentee)))
        .token(&bea.token)
        .send()
        .problem(409);
    app.post(&format!("/v1/pairings/{}/end", id(&made)))
        .token(&bea.token)
        .json(&json!({"reason": "Moving abroad"}))
        .send();
    assert_eq!(
        app.delete(&format!("/v1/enrolments/{}", id(&mentee)))
            .token(&bea.token)
            .send()
            .status,
        204
    );
}

#[test]
fn auto_matching_pairs_the_second_mother_at_once() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({"matching": "auto", "default_capacity": 2}));
    let cleo = app.member(&group, "Cleo");
    // The first to enrol waits: nobody to pair with yet.
    let mentor = app.enrol_mentor(&cleo, &program, None);
    assert_eq!(
        app.get("/v1/me/pairings").token(&cleo.token).send().body["items"],
        json!([])
    );
    // The second, with matching answers, is paired in the same request.
    let mentee = app.enrol_mentee(&bea, &program);
    let mine = app.get("/v1/me/pairings").token(&bea.token).send();
    let pairing = &mine.body["items"][0];
    assert_eq!(pairing["status"], "active", "{}", mine.text);
    assert_eq!(pairing["mentor"]["enrolment_id"], mentor["id"]);
    assert_eq!(pairing["mentee"]["enrolment_id"], mentee["id"]);
    let intro = pairing["introduction"].as_str().expect("introduction");
    assert!(intro.contains("Cleo") && intro.contains("Bea"), "{intro}");
    for user in [&bea, &cleo] {
        assert_eq!(
            app.get("/v1/me/notifications")
                .token(&user.token)
                .send()
                .body["items"][0]["kind"],
            "matched"
        );
    }
    assert_eq!(
        app.get(&format!("/v1/programs/{}/pairings", id(&program)))
            .token(&ada.token)
            .send()
            .body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn auto_matching_waits_below_the_threshold() {
    let app = TestApp::spawn();
    let OpenProgram {
        member: bea,
        group,
        program,
        ..
    } = app.open_program(json!({"matching": "auto", "auto_match_threshold": 90}));
    let cleo = app.member(&group, "Cleo");
    app.enrol_mentor(&cleo, &program, None);
    let mut different = new_parent_answers();
    different["child_stage"] = json!("toddler");
    different["languages"] = json!(["ar"]);
    different["time_zone"] = json!("americas");
    different["feeding"] = json!(["solids"]);
    different["support_wanted"] = json!(["company"]);
    app.enrol(
        &bea,
        &program,
        json!({"role": "mentee", "answers": different}),
    );
    assert_eq!(
        app.get("/v1/me/pairings").token(&bea.token).send().body["items"],
        json!([])
    );
}

#[test]
fn auto_matching_runs_when_an_enrolment_is_approved() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({"matching": "auto", "requires_approval": true}));
    let cleo = app.member(&group, "Cleo");
    let mentor = app.enrol_mentor(&cleo, &program, None);
    let mentee = app.enrol_mentee(&bea, &program);
    assert_eq!(
        app.get("/v1/me/pairings").token(&bea.token).send().body["items"],
        json!([])
    );
    for enrolment in [&mentor, &mentee] {
        let approved = app
            .patch(&format!("/v1/enrolments/{}", id(enrolment)))
            .token(&ada.token)
            .json(&json!({"status": "active"}))
            .send();
        assert_eq!(approved.status, 200, "{}", approved.text);
    }
    let mine = app.get("/v1/me/pairings").token(&bea.token).send();
    assert_eq!(
        mine.body["items"][0]["mentor"]["display_name"], "Cleo",
        "{}",
        mine.text
    );
    let kinds: Vec<Value> = app
        .get("/v1/me/notifications")
        .token(&bea.token)
        .send()
        .body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].clone())
        .collect();
    assert_eq!(kinds, vec![json!("matched"), json!("enrolment_approved")]);
}

#[test]
fn leaving_the_group_ends_pairings_and_withdraws_enrolments() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentor_enrolment: mentor,
        mentee_enrolment: mentee,
        pairing: made,
    } = app.paired_program();
    let gid = id(&group);
    assert_eq!(
        app.delete(&format!("/v1/groups/{gid}/members/{}", cleo.id))
            .token(&cleo.token)
            .send()
            .status,
        204
    );

    let now = app
        .get(&format!("/v1/pairings/{}", id(&made)))
        .token(&ada.token)
        .send();
    assert_eq!(now.body["status"], "ended", "{}", now.text);
    assert_eq!(now.body["end_reason"], "left the group");
    let bea_feed = app.get("/v1/me/notifications").token(&bea.token).send();
    assert_eq!(bea_feed.body["items"][0]["kind"], "pairing_ended");
    let mentor_now = app
        .get(&format!("/v1/enrolments/{}", id(&mentor)))
        .token(&ada.token)
        .send();
    assert_eq!(mentor_now.body["status"], "withdrawn");
    // The mentee is free again, and the one who left is no longer suggested.
    let suggestions = app
        .get(&format!("/v1/programs/{}/match-suggestions", id(&program)))
        .token(&ada.token)
        .send();
    assert_eq!(suggestions.status, 200, "{}", suggestions.text);
    assert_eq!(
        suggestions.body["items"][0]["mentee_enrolment_id"],
        mentee["id"]
    );
    assert_eq!(suggestions.body["items"][0]["candidates"], json!([]));
}

#[test]
fn an_archived_program_is_read_only_for_pairings_and_enrolments() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        program,
        mentor_enrolment: mentor,
        mentee_enrolment: mentee,
        pairing: made,
        ..
    } = app.paired_program();
    app.set_program_status(&ada, &program, "closed");
    app.set_program_status(&ada, &program, "archived");
    app.post(&format!("/v1/pairings/{}/end", id(&made)))
        .token(&bea.token)
        .json(&json!({"reason": "done"}))
        .send()
        .problem(409);
    app.delete(&format!("/v1/enrolments/{}", id(&mentee)))
        .token(&bea.token)
        .send()
        .problem(409);
    pair(&app, &ada, &program, &mentor, &mentee).problem(409);
}

#[test]
fn a_removed_member_no_longer_reads_the_groups_pairings() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing: made,
        ..
    } = app.paired_program();
    let pairing_path = format!("/v1/pairings/{}", id(&made));
    assert_eq!(app.get(&pairing_path).token(&cleo.token).send().status, 200);
    let removed = app
        .delete(&format!("/v1/groups/{}/members/{}", id(&group), cleo.id))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);

    // Cleo is a non-member now: the pairing answers like one that does not exist.
    app.get(&pairing_path)
        .token(&cleo.token)
        .send()
        .problem(404);
    app.post(&format!("{pairing_path}/end"))
        .token(&cleo.token)
        .json(&json!({"reason": "one more look"}))
        .send()
        .problem(404);
    let listed = app.get("/v1/me/pairings").token(&cleo.token).send();
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["items"], json!([]), "{}", listed.text);
    assert!(!listed.text.contains("Bea"), "{}", listed.text);

    // Bea, still a member, keeps reading it as ended.
    let hers = app.get("/v1/me/pairings").token(&bea.token).send();
    assert_eq!(hers.body["items"][0]["id"], made["id"], "{}", hers.text);
    assert_eq!(hers.body["items"][0]["status"], "ended");
    assert_eq!(app.get(&pairing_path).token(&bea.token).send().status, 200);
}

/// A second group with an open program and an unpaired mentor and mentee of its own.
fn other_groups_enrolments(app: &TestApp) -> (Value, Value) {
    let zoe = app.register("Zoe");
    let yan = app.register("Yan");
    let group = app.create_group(&zoe, "Elsewhere");
    app.join(&yan, &group);
    let program = app.create_open_program(&zoe, &group, json!({"template_key": "new-parents"}));
    let mentor = app.enrol_mentor(&zoe, &program, None);
    let mentee = app.enrol_mentee(&yan, &program);
    (mentor, mentee)
}

#[test]
fn enrolments_of_another_group_are_answered_like_ids_that_name_none() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let draft = app.create_program(&ada, &group, json!({"template_key": "new-parents"}));
    let (foreign_mentor, foreign_mentee) = other_groups_enrolments(&app);
    let unknown = || json!({"id": uuid::Uuid::new_v4().to_string()});

    // In a draft (where any real pairing would be a 409), single and batch alike.
    let single = |mentor: &Value, mentee: &Value| {
        pair(&app, &ada, &draft, mentor, mentee).problem(422)["errors"].clone()
    };
    let batch = |mentor: &Value, mentee: &Value| {
        app.post(&format!("/v1/programs/{}/pairings/batch", id(&draft)))
            .token(&ada.token)
            .json(&json!({"pairings": [
                {"mentor_enrolment_id": id(mentor), "mentee_enrolment_id": id(mentee)},
            ]}))
            .send()
            .problem(422)["errors"]
            .clone()
    };
    let both_fields = json!([
        {"field": "mentor_enrolment_id", "message": "is not an enrolment of this program"},
        {"field": "mentee_enrolment_id", "message": "is not an enrolment of this program"},
    ]);
    assert_eq!(single(&foreign_mentor, &foreign_mentee), both_fields);
    assert_eq!(single(&unknown(), &unknown()), both_fields);
    let in_batch = json!([
        {"field": "pairings[0].mentor_enrolment_id", "message": "is not an enrolment of this program"},
        {"field": "pairings[0].mentee_enrolment_id", "message": "is not an enrolment of this program"},
    ]);
    assert_eq!(batch(&foreign_mentor, &foreign_mentee), in_batch);
    assert_eq!(batch(&unknown(), &unknown()), in_batch);
}

#[test]
fn listing_a_programs_pairings_reads_while_another_transaction_holds_its_lock() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    use std::time::Duration;

    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        program,
        ..
    } = app.paired_program();
    // Another client holds the program's row lock (and, on SQLite, the write lock), as
    // a long pairing transaction would. A read must not wait for it.
    let hold = format!("UPDATE programs SET id = id WHERE id = '{}'", id(&program));
    let holder: Box<dyn std::any::Any> = match tandem_tests::db::backend() {
        "postgres" => {
            let mut conn = diesel::PgConnection::establish(app.database_url())
                .expect("connect to the test database");
            conn.batch_execute(&format!("BEGIN; {hold};"))
                .expect("hold the program's lock");
            Box::new(conn)
        }
        _ => {
            let mut conn = diesel::SqliteConnection::establish(app.database_url())
                .expect("open the test database");
            conn.batch_execute(&format!("BEGIN IMMEDIATE; {hold};"))
                .expect("hold the write lock");
            Box::new(conn)
        }
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    let path = format!("/v1/programs/{}/pairings", id(&program));
    let token = ada.token.clone();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let response = app.get(&path).token(&token).send();
            // The receiver may have given up already.
            let _ = sender.send((response.status, response.text));
        });
        let answer = receiver.recv_timeout(Duration::from_secs(3));
        // Dropping the holder ends its transaction, so a waiting request can finish.
        drop(holder);
        let (status, text) = answer.expect("the list answered while the lock was held");
        assert_eq!(status, 200, "{text}");
    });
}

#[test]
fn a_batch_of_the_documented_1000_pairings_fits_the_body_limit() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let program = app.create_open_program(&ada, &group, json!({"template_key": "new-parents"}));
    let batch = |count: usize| {
        let items: Vec<Value> = (0..count)
            .map(|_| {
                json!({
                    "mentor_enrolment_id": uuid::Uuid::new_v4().to_string(),
                    "mentee_enrolment_id": uuid::Uuid::new_v4().to_string(),
                })
            })
            .collect();
        app.post(&format!("/v1/programs/{}/pairings/batch", id(&program)))
            .token(&ada.token)
            .json(&json!({ "pairings": items }))
            .send()
    };
    // 1,000 items (about 125 KiB) are read and checked item by item, not refused as
    // too large; 1,001 are over the documented count.
    let thousand = batch(1000);
    let errors = thousand.problem(422)["errors"].clone();
    assert_eq!(errors[0]["field"], "pairings[0].mentor_enrolment_id");
    batch(1001).invalid_field("pairings");
}

/// The ids of the caller's pairings, page by page of `limit`, following the cursors.
fn my_pairing_pages(app: &TestApp, user: &TestUser, limit: usize) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut path = format!("/v1/me/pairings?limit={limit}");
    loop {
        let page = app.get(&path).token(&user.token).send();
        assert_eq!(page.status, 200, "{}", page.text);
        let ids = page.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["id"].clone())
            .collect();
        pages.push(ids);
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/me/pairings?limit={limit}&cursor={cursor}"),
            None => return pages,
        }
    }
}

#[test]
fn my_pairings_come_newest_first_as_mentor_and_mentee_in_full_pages_of_the_groups_i_am_in() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let zoe = app.register("Zoe");
    let parents = app.create_group(&ada, "Parents");
    let elsewhere = app.create_group(&zoe, "Elsewhere");
    let cleo = app.member(&parents, "Cleo");
    app.join(&cleo, &elsewhere);
    let bea = app.member(&parents, "Bea");
    let dan = app.member(&parents, "Dan");
    let yan = app.member(&elsewhere, "Yan");
    let wim = app.member(&elsewhere, "Wim");
    let template = json!({"template_key": "new-parents"});
    let mentoring_here = app.create_open_program(&ada, &parents, template.clone());
    let mentored_here = app.create_open_program(&ada, &parents, template.clone());
    let mentoring_there = app.create_open_program(&zoe, &elsewhere, template);
    let cleo_mentors_here = app.enrol_mentor(&cleo, &mentoring_here, Some(1));
    let cleo_mentors_there = app.enrol_mentor(&cleo, &mentoring_there, Some(2));
    let dan_mentors_here = app.enrol_mentor(&dan, &mentored_here, Some(1));

    let pair_up = |admin: &TestUser, program: &Value, mentor: &Value, mentee: &TestUser| {
        let mentee = app.enrol_mentee(mentee, program);
        let made = pair(&app, admin, program, mentor, &mentee);
        assert_eq!(made.status, 201, "{}", made.text);
        made.body["id"].clone()
    };
    // Made one after another, so that each group's pairings sit between the other's.
    let first_here = pair_up(&ada, &mentoring_here, &cleo_mentors_here, &bea);
    let first_there = pair_up(&zoe, &mentoring_there, &cleo_mentors_there, &yan);
    let second_here = pair_up(&ada, &mentored_here, &dan_mentors_here, &cleo);
    let second_there = pair_up(&zoe, &mentoring_there, &cleo_mentors_there, &wim);

    assert_eq!(
        my_pairing_pages(&app, &cleo, 2),
        vec![
            vec![second_there.clone(), second_here.clone()],
            vec![first_there.clone(), first_here.clone()],
        ]
    );
    let left = app
        .delete(&format!(
            "/v1/groups/{}/members/{}",
            id(&elsewhere),
            cleo.id
        ))
        .token(&cleo.token)
        .send();
    assert_eq!(left.status, 204, "{}", left.text);
    // The group Cleo left takes no place on a page and does not end the list early.
    assert_eq!(
        my_pairing_pages(&app, &cleo, 1),
        vec![vec![second_here], vec![first_here]]
    );
    // Yan, still in it, keeps his.
    assert_eq!(my_pairing_pages(&app, &yan, 1), vec![vec![first_there]]);
}

#[test]
fn a_pairing_written_behind_the_api_is_listed_for_both_partners() {
    // As a node of the release before `pairings_by_partner` writes a pairing: the
    // database lists it for its partners itself.
    let app = TestApp::spawn();
    let PairCandidates {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        program,
        mentee_enrolment,
        mentor_enrolment,
        ..
    } = app.program_with_pair_candidates();
    let pairing_id = "00000000-0000-7000-8000-000000000001";
    tandem_tests::db::connect(app.database_url()).execute(&format!(
        "INSERT INTO pairings (id, program_id, mentor_enrolment_id, mentee_enrolment_id, \
         mentor_user_id, mentee_user_id, introduction, status, started_on, created_at) \
         VALUES ('{pairing_id}', '{}', '{}', '{}', '{}', '{}', 'Hello', 'active', \
         '2026-12-01', '2026-12-01 09:00:00')",
        id(&program),
        id(&mentor_enrolment),
        id(&mentee_enrolment),
        cleo.id,
        bea.id,
    ));
    for partner in [&bea, &cleo] {
        assert_eq!(
            my_pairing_pages(&app, partner, 20),
            vec![vec![json!(pairing_id)]]
        );
    }
    // Ada, the admin and no partner of it, does not have it among her own.
    assert_eq!(my_pairing_pages(&app, &ada, 20), vec![Vec::<Value>::new()]);
}
