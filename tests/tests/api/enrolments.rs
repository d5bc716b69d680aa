use serde_json::{json, Value};
use tandem_tests::answers::new_parent_answers;
use tandem_tests::{OpenProgram, TestApp};

fn enrol_path(program: &Value) -> String {
    format!(
        "/v1/programs/{}/enrolments",
        program["id"].as_str().expect("id")
    )
}

#[test]
fn members_enrol_with_valid_answers() {
    let app = TestApp::spawn();
    let OpenProgram {
        member: bea,
        program,
        ..
    } = app.open_program(json!({"default_capacity": 2}));
    let mentee = app.enrol_mentee(&bea, &program);
    assert_eq!(mentee["status"], "active");
    assert_eq!(mentee["role"], "mentee");
    assert_eq!(mentee["capacity"], 1);
    assert_eq!(mentee["answers"]["child_stage"], "newborn");
    assert_eq!(mentee["display_name"], "Bea");
    // The same member may also mentor, with the program's default capacity.
    let mentor = app.enrol_mentor(&bea, &program, None);
    assert_eq!(mentor["capacity"], 2);
}

#[test]
fn invalid_answers_name_the_question() {
    let app = TestApp::spawn();
    let OpenProgram {
        member: bea,
        program,
        ..
    } = app.open_program(json!({}));
    let path = enrol_path(&program);
    let with = |change: Value| {
        let mut answers = new_parent_answers();
        if let (Some(a), Some(c)) = (answers.as_object_mut(), change.as_object()) {
            for (k, v) in c {
                if v.is_null() {
                    a.remove(k);
                } else {
                    a.insert(k.clone(), v.clone());
                }
            }
        }
        app.post(&path)
            .token(&bea.token)
            .json(&json!({"role": "mentee", "answers": answers}))
            .send()
    };
    with(json!({"shoe_size": 38})).invalid_field("answers.shoe_size");
    with(json!({"child_stage": "teenager"})).invalid_field("answers.child_stage");
    with(json!({"child_stage": ["newborn"]})).invalid_field("answers.child_stage");
    with(json!({"feeding": "formula"})).invalid_field("answers.feeding");
    with(json!({"feeding": ["pizza"]})).invalid_field("answers.feeding");
    with(json!({"children_count": 11})).invalid_field("answers.children_count");
    with(json!({"children_count": "two"})).invalid_field("answers.children_count");
    with(json!({"children_count": true})).invalid_field("answers.children_count");
    with(json!({"time_zone": null})).invalid_field("answers.time_zone");
    app.post(&path)
        .token(&bea.token)
        .json(&json!({"role": "mentee", "answers": new_parent_answers(), "capacity": 3}))
        .send()
        .invalid_field("capacity");
    app.post(&path)
        .token(&bea.token)
        .json(&json!({"role": "mentor", "answers": new_parent_answers(), "capacity": 21}))
        .send()
        .invalid_field("capacity");
    app.post(&path)
        .token(&bea.token)
        .json(&json!({"role": "sponsor", "answers": new_parent_answers()}))
        .send()
        .invalid_field("role");
    // Nothing was stored by the refusals.
    let mine = app.get(&path).token(&bea.token).send();
    assert_eq!(mine.body["items"], json!([]));
}

#[test]
fn one_enrolment_per_user_program_and_role() {
    let app = TestApp::spawn();
    let OpenProgram {
        member: bea,
        program,
        ..
    } = app.open_program(json!({}));
    let first = app.enrol_mentee(&bea, &program);
    app.post(&enrol_path(&program))
        .token(&bea.token)
        .json(&json!({"role": "mentee", "answers": new_parent_answers()}))
        .send()
        .problem(409);
    // After withdrawing, enrolling again reopens the same enrolment.
    let id = first["id"].as_str().expect("id");
    assert_eq!(
        app.delete(&format!("/v1/enrolments/{id}"))
            .token(&bea.token)
            .send()
            .status,
        204
    );
    let again = app.enrol_mentee(&bea, &program);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["status"], "active");
}

#[test]
fn enrolling_needs_an_open_program() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let bea = app.register("Bea");
    let eve = app.register("Eve");
    let group = app.create_group(&ada, "Parents");
    app.join(&bea, &group);
    let program = app.create_program(&ada, &group, json!({"template_key": "new-parents"}));
    let body = json!({"role": "mentee", "answers": new_parent_answers()});
    app.post(&enrol_path(&program))
        .token(&bea.token)
        .json(&body)
        .send()
        .problem(409);
    app.set_program_status(&ada, &program, "open");
    app.post(&enrol_path(&program))
        .token(&eve.token)
        .json(&body)
        .send()
        .problem(404);
    app.set_program_status(&ada, &program, "closed");
    app.post(&enrol_path(&program))
        .token(&bea.token)
        .json(&body)
        .send()
        .problem(409);
}

#[test]
fn approval_flow() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({"requires_approval": true}));
    let cleo = app.member(&group, "Cleo");
    let pending = app.enrol_mentee(&bea, &program);
    assert_eq!(pending["status"], "pending");
    let other = app.enrol_mentee(&cleo, &program);
    let id = pending["id"].as_str().expect("id");
    let other_id = other["id"].as_str().expect("id");

    // The member cannot approve herself.
    app.patch(&format!("/v1/enrolments/{id}"))
        .token(&bea.token)
        .json(&json!({"status": "active"}))
        .send()
        .problem(403);
    let approved = app
        .patch(&format!("/v1/enrolments/{id}"))
        .token(&ada.token)
        .json(&json!({"status": "active"}))
        .send();
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["status"], "active");
    app.patch(&format!("/v1/enrolments/{id}"))
        .token(&ada.token)
        .json(&json!({"status": "declined"}))
        .send()
        .problem(409);
    let declined = app
        .patch(&format!("/v1/enrolments/{other_id}"))
        .token(&ada.token)
        .json(&json!({"status": "declined"}))
        .send();
    assert_eq!(declined.body["status"], "declined");
    // An admin cannot withdraw a member.
    app.delete(&format!("/v1/enrolments/{id}"))
        .token(&ada.token)
        .send()
        .problem(403);
}

#[test]
fn answers_are_for_the_member_and_admins_only() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({}));
    let cleo = app.register("Cleo");
    let eve = app.register("Eve");
    app.join(&cleo, &group);
    let beas = app.enrol_mentee(&bea, &program);
    app.enrol_mentor(&cleo, &program, Some(2));
    let id = beas["id"].as_str().expect("id");

    assert_eq!(
        app.get(&format!("/v1/enrolments/{id}"))
            .token(&bea.token)
            .send()
            .status,
        200
    );
    let as_admin = app
        .get(&format!("/v1/enrolments/{id}"))
        .token(&ada.token)
        .send();
    assert_eq!(as_admin.body["answers"]["languages"], json!(["it", "en"]));
    app.get(&format!("/v1/enrolments/{id}"))
        .token(&cleo.token)
        .send()
        .problem(404);
    app.get(&format!("/v1/enrolments/{id}"))
        .token(&eve.token)
        .send()
        .problem(404);

    // Lists: admins see everyone (filterable), members only themselves, outsiders nothing.
    let path = enrol_path(&program);
    let all = app.get(&path).token(&ada.token).send();
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(2));
    let mentors = app
        .get(&path)
        .token(&ada.token)
        .query("role", "mentor")
        .send();
    assert_eq!(mentors.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(mentors.body["items"][0]["display_name"], "Cleo");
    let active_mentees = app
        .get(&path)
        .token(&ada.token)
        .query("role", "mentee")
        .query("status", "active")
        .send();
    assert_eq!(active_mentees.body["items"][0]["id"], beas["id"]);
    let own = app.get(&path).token(&cleo.token).send();
    let items = own.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["user_id"], cleo.id.as_str());
    app.get(&path).token(&eve.token).send().problem(404);
    app.get(&path)
        .token(&ada.token)
        .query("status", "asleep")
        .send()
        .invalid_field("status");
}
