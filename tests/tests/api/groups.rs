use serde_json::json;
use tandem_tests::TestApp;

#[test]
fn the_creator_owns_the_group_and_sees_its_invite_code() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Mamme di Torino");
    assert_eq!(group["my_role"], "owner");
    assert_eq!(group["name"], "Mamme di Torino");
    assert!(group["invite_code"].as_str().is_some_and(|c| c.len() == 10));

    let mine = app.get("/v1/groups").token(&ada.token).send();
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["items"][0]["id"], group["id"]);
    assert_eq!(mine.body["next_cursor"], serde_json::Value::Null);
}

#[test]
fn members_join_with_the_code_and_do_not_see_it() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let bea = app.register("Bea");
    let group = app.create_group(&ada, "Parents");
    let id = group["id"].as_str().expect("id");

    app.post(&format!("/v1/groups/{id}/join"))
        .token(&bea.token)
        .json(&json!({"invite_code": "WRONGCODE2"}))
        .send()
        .problem(404);
    app.join(&bea, &group);
    // Joining again changes nothing.
    app.join(&bea, &group);

    let seen = app
        .get(&format!("/v1/groups/{id}"))
        .token(&bea.token)
        .send();
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body["my_role"], "member");
    assert!(seen.body.get("invite_code").is_none(), "{}", seen.body);
}

#[test]
fn a_non_member_learns_nothing() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let eve = app.register("Eve");
    let group = app.create_group(&ada, "Parents");
    let id = group["id"].as_str().expect("id");
    let missing = uuid::Uuid::new_v4();
    for path in [
        format!("/v1/groups/{id}"),
        format!("/v1/groups/{id}/members"),
    ] {
        let not_visible = app.get(&path).token(&eve.token).send();
        not_visible.problem(404);
        let not_existing = app
            .get(&path.replace(id, &missing.to_string()))
            .token(&eve.token)
            .send();
        assert_eq!(not_visible.body["detail"], not_existing.body["detail"]);
    }
    app.patch(&format!("/v1/groups/{id}"))
        .token(&eve.token)
        .json(&json!({"name": "Mine now"}))
        .send()
        .problem(404);
    app.post(&format!("/v1/groups/{id}/invite-code"))
        .token(&eve.token)
        .send()
        .problem(404);
    app.patch(&format!("/v1/groups/{id}/members/{}", ada.id))
        .token(&eve.token)
        .json(&json!({"role": "member"}))
        .send()
        .problem(404);
    app.delete(&format!("/v1/groups/{id}/members/{}", ada.id))
        .token(&eve.token)
        .send()
        .problem(404);
    app.get("/v1/groups/not-a-uuid")
        .token(&eve.token)
        .send()
        .problem(404);
    assert_eq!(
        app.get("/v1/groups").token(&eve.token).send().body["items"],
        json!([])
    );
}

#[test]
fn only_owners_and_admins_update_the_group() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let bea = app.register("Bea");
    let group = app.create_group(&ada, "Parents");
    let id = group["id"].as_str().expect("id");
    app.join(&bea, &group);

    app.patch(&format!("/v1/groups/{id}"))
        .token(&bea.token)
        .json(&json!({"name": "Bea's group"}))
        .send()
        .problem(403);
    app.post(&format!("/v1/groups/{id}/invite-code"))
        .token(&bea.token)
        .send()
        .problem(403);

    app.set_role(&ada, &group, &bea, "admin");
    let updated = app
        .patch(&format!("/v1/groups/{id}"))
        .token(&bea.token)
        .json(&json!({"description": "Support for new parents in Turin"}))
        .send();
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(
        updated.body["description"],
        "Support for new parents in Turin"
    );
    assert_eq!(updated.body["name"], "Parents");
}

#[test]
fn updates_are_validated_and_conditional() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let id = group["id"].as_str().expect("id");
    let etag = app
        .get(&format!("/v1/groups/{id}"))
        .token(&ada.token)
        .send()
        .header("etag")
        .expect("etag")
        .to_owned();

    app.patch(&format!("/v1/groups/{id}"))
        .token(&ada.token)
        .json(&json!({"name": ""}))
        .send()
        .invalid_field("name");
    app.patch(&format!("/v1/groups/{id}"))
        .token(&ada.token)
        .json(&json!({"name": 7}))
        .send()
        .invalid_field("name");
    let ok = app
        .patch(&format!("/v1/groups/{id}"))
        .token(&ada.token)
        .header("If-Match", &etag)
        .json(&json!({"name": "Parents of Turin"}))
        .send();
    assert_eq!(ok.status, 200, "{}", ok.text);
    app.patch(&format!("/v1/groups/{id}"))
        .token(&ada.token)
        .header("If-Match", &etag)
        .json(&json!({"name": "Lost update"}))
        .send()
        .problem(412);
    assert_eq!(
        app.get(&format!("/v1/groups/{id}"))
            .token(&ada.token)
            .send()
            .body["name"],
        "Parents of Turin"
    );
}

#[test]
fn rotating_the_code_retires_the_old_one() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let bea = app.register("Bea");
    let group = app.create_group(&ada, "Parents");
    let id = group["id"].as_str().expect("id");
    let rotated = app
        .post(&format!("/v1/groups/{id}/invite-code"))
        .token(&ada.token)
        .send();
    assert_eq!(rotated.status, 200);
    assert_ne!(rotated.body["invite_code"], group["invite_code"]);
    app.post(&format!("/v1/groups/{id}/join"))
        .token(&bea.token)
        .json(&json!({"invite_code": group["invite_code"]}))
        .send()
        .problem(404);
    app.join(&bea, &rotated.body);
}

#[test]
fn my_groups_are_paginated_with_a_cursor() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let created: Vec<_> = (0..5)
        .map(|i| app.create_group(&ada, &format!("Group {i}"))["id"].clone())
        .collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = app.get("/v1/groups").token(&ada.token).query("limit", "2");
        if let Some(c) = &cursor {
            request = request.query("cursor", c);
        }
        let page = request.send();
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|g| g["id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);
}
