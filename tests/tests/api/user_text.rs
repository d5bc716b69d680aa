//! User-written text: hidden characters are refused with 422 naming the field, text is
//! stored in NFC, and nobody may call themselves "Deleted member".

use serde_json::json;
use tandem_tests::templates::book_club;
use tandem_tests::{OpenProgram, Response, TestApp};

fn register(app: &TestApp, email: &str, display_name: &str) -> Response {
    app.post("/v1/auth/register")
        .json(&json!({
            "email": email,
            "password": "correct horse battery",
            "display_name": display_name,
        }))
        .send()
}

#[test]
fn spoofable_names_and_emails_are_refused() {
    let app = TestApp::spawn();
    register(&app, "ada\u{0001}@example.org", "Ada").invalid_field("email");
    register(&app, "a\u{200B}da@example.org", "Ada").invalid_field("email");
    for name in [
        "Ada\u{202E}nimda",
        "A\u{200B}da",
        "Ada\u{0007}",
        "Ada\nLovelace",
    ] {
        let response = register(&app, "ada@example.org", name);
        response.invalid_field("display_name");
        assert!(
            response.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("U+") || m.contains("single line")),
            "{}",
            response.text
        );
    }
    // An emoji written with joiners is how people write it, and it shows.
    let emoji = register(&app, "ada@example.org", "Ada 👩‍💻");
    assert_eq!(emoji.status, 201, "{}", emoji.text);
    let token = emoji.str("/access_token");
    app.patch("/v1/me")
        .token(&token)
        .json(&json!({"display_name": "Ada\u{2066}x"}))
        .send()
        .invalid_field("display_name");
}

#[test]
fn the_deleted_member_label_is_reserved() {
    let app = TestApp::spawn();
    for name in [
        "Deleted member",
        "  deleted MEMBER ",
        "Deleted\u{00A0}member",
    ] {
        register(&app, "ada@example.org", name).invalid_field("display_name");
    }
    let ada = app.register("Ada");
    app.patch("/v1/me")
        .token(&ada.token)
        .json(&json!({"display_name": "DELETED MEMBER"}))
        .send()
        .invalid_field("display_name");
    let me = app.get("/v1/me").token(&ada.token).send();
    assert_eq!(me.body["display_name"], "Ada");
}

#[test]
fn text_is_stored_in_nfc_so_one_name_is_one_name() {
    let app = TestApp::spawn();
    // "Zoë" written as e + combining diaeresis, and its email likewise.
    let zoe = register(&app, "zoe\u{0308}@example.org", "Zoe\u{0308}");
    assert_eq!(zoe.status, 201, "{}", zoe.text);
    assert_eq!(zoe.body["user"]["display_name"], "Zo\u{00EB}");
    assert_eq!(zoe.body["user"]["email"], "zo\u{00EB}@example.org");
    // The precomposed spelling is the same account.
    register(&app, "zo\u{00EB}@example.org", "Zoë again").problem(409);
    let login = app
        .post("/v1/auth/login")
        .json(&json!({"email": "ZO\u{00CB}@example.org", "password": "correct horse battery"}))
        .send();
    assert_eq!(login.status, 200, "{}", login.text);
}

#[test]
fn group_program_template_and_pairing_texts_follow_the_same_rule() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        group,
        program,
        ..
    } = app.open_program(json!({}));
    let group_id = group["id"].as_str().expect("group id");
    app.post("/v1/groups")
        .token(&ada.token)
        .json(&json!({"name": "Mamme\u{202E}", "description": ""}))
        .send()
        .invalid_field("name");
    // Descriptions keep their lines; Windows line ends become \n.
    let created = app
        .post("/v1/groups")
        .token(&ada.token)
        .json(&json!({"name": "Pa\u{0301}pa\u{0300}", "description": "One\r\nTwo"}))
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["name"], "P\u{00E1}p\u{00E0}");
    assert_eq!(created.body["description"], "One\nTwo");

    let program_path = format!("/v1/programs/{}", program["id"].as_str().expect("id"));
    app.patch(&program_path)
        .token(&ada.token)
        .json(&json!({"name": "Neo\u{200B}genitori"}))
        .send()
        .invalid_field("name");

    let mut template = book_club();
    template["weeks"][1]["prompts"][0] = json!("What\u{FEFF} next?");
    app.post(&format!("/v1/groups/{group_id}/templates"))
        .token(&ada.token)
        .json(&template)
        .send()
        .invalid_field("weeks[1].prompts[0]");

    app.post(&format!(
        "/v1/programs/{}/pairings",
        program["id"].as_str().expect("id")
    ))
    .token(&ada.token)
    .json(&json!({
        "mentor_enrolment_id": "00000000-0000-7000-8000-000000000000",
        "mentee_enrolment_id": "00000000-0000-7000-8000-000000000001",
        "introduction": "Meet\u{202E} Bea",
    }))
    .send()
    .invalid_field("introduction");
}
