use serde_json::{json, Value};
use tandem_tests::templates::book_club;
use tandem_tests::TestApp;

#[test]
fn every_builtin_template_starts_a_program_in_both_languages() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    for key in [
        "career-advancement",
        "encouragement-and-support",
        "new-parents",
        "education",
        "health-and-wellbeing",
    ] {
        let en = app.create_program(&ada, &group, json!({"template_key": key}));
        let it = app.create_program(&ada, &group, json!({"template_key": key, "language": "it"}));
        assert_eq!(
            (en["status"].as_str(), en["language"].as_str()),
            (Some("draft"), Some("en"))
        );
        assert_eq!(it["language"], "it");
        assert_ne!(
            en["name"], it["name"],
            "{key}: the Italian copy is in Italian"
        );
        assert_eq!(
            en["weeks"].as_array().map(Vec::len),
            it["weeks"].as_array().map(Vec::len)
        );
        let keys = |p: &Value| {
            p["questions"]
                .as_array()
                .map(|q| q.iter().map(|q| q["key"].clone()).collect::<Vec<_>>())
        };
        assert_eq!(keys(&en), keys(&it));
        assert!(en["weeks"]
            .as_array()
            .is_some_and(|w| (4..=12).contains(&w.len())));
    }
}

#[test]
fn overrides_apply_and_are_validated() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let program = app.create_program(&ada,
        &group,
        json!({"template_key": "new-parents", "name": "Mamme in rete", "duration_weeks": 4, "cadence_days": 14,
               "matching": "auto", "default_capacity": 3, "requires_approval": true, "auto_match_threshold": 70}),
    );
    assert_eq!(program["name"], "Mamme in rete");
    assert_eq!(program["duration_weeks"], 4);
    assert_eq!(program["cadence_days"], 14);
    assert_eq!(program["matching"], "auto");
    assert_eq!(program["default_capacity"], 3);
    assert_eq!(program["requires_approval"], true);
    assert_eq!(program["auto_match_threshold"], 70);

    let id = group["id"].as_str().expect("id");
    let bad = app
        .post(&format!("/v1/groups/{id}/programs"))
        .token(&ada.token)
        .json(&json!({"template_key": "new-parents", "duration_weeks": 53, "default_capacity": 0, "auto_match_threshold": 101, "cadence_days": 0}))
        .send();
    for field in [
        "duration_weeks",
        "default_capacity",
        "auto_match_threshold",
        "cadence_days",
    ] {
        bad.invalid_field(field);
    }
    app.post(&format!("/v1/groups/{id}/programs"))
        .token(&ada.token)
        .json(&json!({"template_key": "knitting"}))
        .send()
        .invalid_field("template_key");
    app.post(&format!("/v1/groups/{id}/programs"))
        .token(&ada.token)
        .json(&json!({"template_key": "new-parents", "language": "fr"}))
        .send()
        .invalid_field("language");
    app.post(&format!("/v1/groups/{id}/programs"))
        .token(&ada.token)
        .json(&json!({"template_key": "new-parents", "matching": "magic"}))
        .send()
        .invalid_field("matching");
}

#[test]
fn only_admins_create_and_update_programs() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let bea = app.register("Bea");
    let eve = app.register("Eve");
    let group = app.create_group(&ada, "Parents");
    app.join(&bea, &group);
    let id = group["id"].as_str().expect("id");
    app.post(&format!("/v1/groups/{id}/programs"))
        .token(&bea.token)
        .json(&json!({"template_key": "new-parents"}))
        .send()
        .problem(403);
    app.post(&format!("/v1/groups/{id}/programs"))
        .token(&eve.token)
        .json(&json!({"template_key": "new-parents"}))
        .send()
        .problem(404);
    let program = app.create_program(&ada, &group, json!({"template_key": "new-parents"}));
    let program = app.set_program_status(&ada, &program, "open");
    let pid = program["id"].as_str().expect("id");
    app.patch(&format!("/v1/programs/{pid}"))
        .token(&bea.token)
        .json(&json!({"name": "Mine"}))
        .send()
        .problem(403);
    app.patch(&format!("/v1/programs/{pid}"))
        .token(&eve.token)
        .json(&json!({"name": "Mine"}))
        .send()
        .problem(404);
    app.get(&format!("/v1/programs/{pid}"))
        .token(&eve.token)
        .send()
        .problem(404);
    assert_eq!(
        app.get(&format!("/v1/programs/{pid}"))
            .token(&bea.token)
            .send()
            .status,
        200
    );
}

#[test]
fn members_do_not_see_drafts() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let bea = app.register("Bea");
    let group = app.create_group(&ada, "Parents");
    app.join(&bea, &group);
    let draft = app.create_program(&ada, &group, json!({"template_key": "education"}));
    let open = app.create_open_program(&ada, &group, json!({"template_key": "new-parents"}));
    let gid = group["id"].as_str().expect("id");

    let as_member = app
        .get(&format!("/v1/groups/{gid}/programs"))
        .token(&bea.token)
        .send();
    let ids: Vec<_> = as_member.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, vec![open["id"].clone()]);
    let as_admin = app
        .get(&format!("/v1/groups/{gid}/programs"))
        .token(&ada.token)
        .send();
    assert_eq!(as_admin.body["items"].as_array().map(Vec::len), Some(2));
    let drafts = app
        .get(&format!("/v1/groups/{gid}/programs"))
        .token(&ada.token)
        .query("status", "draft")
        .send();
    assert_eq!(drafts.body["items"][0]["id"], draft["id"]);
    app.get(&format!(
        "/v1/programs/{}",
        draft["id"].as_str().expect("id")
    ))
    .token(&bea.token)
    .send()
    .problem(404);
    app.get(&format!("/v1/groups/{gid}/programs"))
        .token(&ada.token)
        .query("status", "sleeping")
        .send()
        .invalid_field("status");
}

#[test]
fn status_moves_only_forward_and_archived_is_read_only() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let program = app.create_program(&ada, &group, json!({"template_key": "new-parents"}));
    let pid = program["id"].as_str().expect("id").to_owned();
    let patch = |body: Value| {
        app.patch(&format!("/v1/programs/{pid}"))
            .token(&ada.token)
            .json(&body)
            .send()
    };
    patch(json!({"status": "closed"})).problem(409);
    patch(json!({"status": "archived"})).problem(409);
    app.set_program_status(&ada, &program, "open");
    patch(json!({"status": "draft"})).problem(409);
    patch(json!({"duration_weeks": 4})).problem(409);
    app.set_program_status(&ada, &program, "closed");
    patch(json!({"status": "open"})).problem(409);
    app.set_program_status(&ada, &program, "archived");
    patch(json!({"name": "Renamed"})).problem(409);
    patch(json!({"status": "fancy"})).invalid_field("status");
}

#[test]
fn updates_honour_if_match() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let program = app.create_program(&ada, &group, json!({"template_key": "new-parents"}));
    let pid = program["id"].as_str().expect("id");
    let etag = app
        .get(&format!("/v1/programs/{pid}"))
        .token(&ada.token)
        .send()
        .header("etag")
        .expect("etag")
        .to_owned();
    let ok = app
        .patch(&format!("/v1/programs/{pid}"))
        .token(&ada.token)
        .header("If-Match", &etag)
        .json(&json!({"name": "Spring cohort"}))
        .send();
    assert_eq!(ok.status, 200, "{}", ok.text);
    app.patch(&format!("/v1/programs/{pid}"))
        .token(&ada.token)
        .header("If-Match", &etag)
        .json(&json!({"name": "Autumn cohort"}))
        .send()
        .problem(412);
}

#[test]
fn a_program_keeps_its_copy_when_the_template_changes() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Readers");
    let gid = group["id"].as_str().expect("id");
    let created = app
        .post(&format!("/v1/groups/{gid}/templates"))
        .token(&ada.token)
        .json(&book_club())
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    let program = app.create_program(&ada, &group, json!({"template_key": "book-club"}));
    assert_eq!(program["template_key"], "book-club");
    assert_eq!(program["name"], "Book club");
    assert_eq!(program["weeks"].as_array().map(Vec::len), Some(2));

    let edited = app
        .patch(&format!("/v1/groups/{gid}/templates/book-club"))
        .token(&ada.token)
        .json(&json!({"name": "Poetry circle", "description": "Only poems now."}))
        .send();
    assert_eq!(edited.status, 200, "{}", edited.text);
    let deleted = app
        .delete(&format!("/v1/groups/{gid}/templates/book-club"))
        .token(&ada.token)
        .send();
    assert_eq!(deleted.status, 204);

    let pid = program["id"].as_str().expect("id");
    let now = app
        .get(&format!("/v1/programs/{pid}"))
        .token(&ada.token)
        .send();
    assert_eq!(now.status, 200);
    assert_eq!(now.body["name"], "Book club");
    assert_eq!(now.body["questions"], program["questions"]);
    assert_eq!(now.body["weeks"], program["weeks"]);
}
