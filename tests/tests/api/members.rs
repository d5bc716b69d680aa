use serde_json::json;
use tandem_tests::{GroupWithMembers, TestApp};

#[test]
fn members_are_listed_without_emails() {
    let app = TestApp::spawn();
    let GroupWithMembers {
        owner: ada,
        members: [bea, _],
        group_id: id,
        ..
    } = app.group_with_members();
    let list = app
        .get(&format!("/v1/groups/{id}/members"))
        .token(&bea.token)
        .send();
    assert_eq!(list.status, 200, "{}", list.text);
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["user_id"], ada.id.as_str());
    assert_eq!(items[0]["role"], "owner");
    assert_eq!(items[1]["display_name"], "Bea");
    assert!(
        !list.text.contains("@example.org"),
        "emails leaked: {}",
        list.text
    );
}

#[test]
fn a_member_acting_as_admin_is_forbidden() {
    let app = TestApp::spawn();
    let GroupWithMembers {
        owner: ada,
        members: [bea, cleo],
        group_id: id,
        ..
    } = app.group_with_members();
    app.patch(&format!("/v1/groups/{id}/members/{}", cleo.id))
        .token(&bea.token)
        .json(&json!({"role": "admin"}))
        .send()
        .problem(403);
    app.delete(&format!("/v1/groups/{id}/members/{}", cleo.id))
        .token(&bea.token)
        .send()
        .problem(403);
    app.delete(&format!("/v1/groups/{id}/members/{}", ada.id))
        .token(&bea.token)
        .send()
        .problem(403);
}

#[test]
fn admins_manage_members_but_not_owners() {
    let app = TestApp::spawn();
    let GroupWithMembers {
        owner: ada,
        members: [bea, cleo],
        group,
        group_id: id,
    } = app.group_with_members();
    app.set_role(&ada, &group, &bea, "admin");
    app.patch(&format!("/v1/groups/{id}/members/{}", cleo.id))
        .token(&bea.token)
        .json(&json!({"role": "owner"}))
        .send()
        .problem(403);
    app.patch(&format!("/v1/groups/{id}/members/{}", ada.id))
        .token(&bea.token)
        .json(&json!({"role": "member"}))
        .send()
        .problem(403);
    app.delete(&format!("/v1/groups/{id}/members/{}", ada.id))
        .token(&bea.token)
        .send()
        .problem(403);
    let removed = app
        .delete(&format!("/v1/groups/{id}/members/{}", cleo.id))
        .token(&bea.token)
        .send();
    assert_eq!(removed.status, 204);
    app.get(&format!("/v1/groups/{id}"))
        .token(&cleo.token)
        .send()
        .problem(404);
}

#[test]
fn roles_are_validated() {
    let app = TestApp::spawn();
    let GroupWithMembers {
        owner: ada,
        members: [bea, _],
        group_id: id,
        ..
    } = app.group_with_members();
    app.patch(&format!("/v1/groups/{id}/members/{}", bea.id))
        .token(&ada.token)
        .json(&json!({"role": "emperor"}))
        .send()
        .invalid_field("role");
    app.patch(&format!("/v1/groups/{id}/members/{}", uuid::Uuid::new_v4()))
        .token(&ada.token)
        .json(&json!({"role": "admin"}))
        .send()
        .problem(404);
}

#[test]
fn the_last_owner_can_neither_leave_nor_be_demoted() {
    let app = TestApp::spawn();
    let GroupWithMembers {
        owner: ada,
        members: [bea, _],
        group,
        group_id: id,
    } = app.group_with_members();
    app.delete(&format!("/v1/groups/{id}/members/{}", ada.id))
        .token(&ada.token)
        .send()
        .problem(409);
    app.patch(&format!("/v1/groups/{id}/members/{}", ada.id))
        .token(&ada.token)
        .json(&json!({"role": "admin"}))
        .send()
        .problem(409);

    // With a second owner, the first may step down and leave.
    app.set_role(&ada, &group, &bea, "owner");
    app.set_role(&ada, &group, &ada, "admin");
    assert_eq!(
        app.delete(&format!("/v1/groups/{id}/members/{}", ada.id))
            .token(&ada.token)
            .send()
            .status,
        204
    );
    app.get(&format!("/v1/groups/{id}"))
        .token(&ada.token)
        .send()
        .problem(404);
    app.delete(&format!("/v1/groups/{id}/members/{}", bea.id))
        .token(&bea.token)
        .send()
        .problem(409);
}

#[test]
fn members_may_leave() {
    let app = TestApp::spawn();
    let GroupWithMembers {
        members: [bea, _],
        group_id: id,
        ..
    } = app.group_with_members();
    assert_eq!(
        app.delete(&format!("/v1/groups/{id}/members/{}", bea.id))
            .token(&bea.token)
            .send()
            .status,
        204
    );
    app.get(&format!("/v1/groups/{id}/members"))
        .token(&bea.token)
        .send()
        .problem(404);
}
