//! Data rights: a member downloads everything Tandem holds about them, and deletes their
//! account, after which nothing of theirs is readable by anyone.

use serde_json::{json, Value};
use tandem_tests::answers::new_parent_answers;
use tandem_tests::{PairedProgram, TestApp, TestUser};

const NOTE: &str = "Rights note: the night feeds are hard";
const MESSAGE: &str = "Rights message: can we talk on Sunday?";
const PARTNER_MESSAGE: &str = "Partner message: Sunday works";
const REPORT: &str = "Rights report: missed three calls";
const ABOUT_ME: &str = "Partner report: stopped answering";
const NAME: &str = "Zephyrine Quill";
const PASSWORD: &str = "correct horse battery";

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

fn rename(app: &TestApp, user: &TestUser, name: &str) {
    let renamed = app
        .patch("/v1/me")
        .token(&user.token)
        .json(&json!({"display_name": name}))
        .send();
    assert_eq!(renamed.status, 200, "{}", renamed.text);
}

fn check_in(app: &TestApp, user: &TestUser, pairing: &str, note: &str) {
    let noted = app
        .put(&format!("/v1/pairings/{pairing}/check-ins/1"))
        .token(&user.token)
        .json(&json!({"rating": 4, "note": note}))
        .send();
    assert_eq!(noted.status, 200, "{}", noted.text);
}

fn write(app: &TestApp, user: &TestUser, pairing: &str, body: &str) {
    let said = app
        .post(&format!("/v1/pairings/{pairing}/messages"))
        .token(&user.token)
        .json(&json!({"body": body}))
        .send();
    assert_eq!(said.status, 201, "{}", said.text);
}

fn report(app: &TestApp, user: &TestUser, pairing: &str, reason: &str) -> String {
    let reported = app
        .post(&format!("/v1/pairings/{pairing}/report"))
        .token(&user.token)
        .json(&json!({"reason": reason}))
        .send();
    assert_eq!(reported.status, 201, "{}", reported.text);
    id(&reported.body).to_owned()
}

fn calendar_token(app: &TestApp, user: &TestUser) -> String {
    let made = app.post("/v1/me/calendar-token").token(&user.token).send();
    assert_eq!(made.status, 201, "{}", made.text);
    made.str("/token")
}

fn delete_account(app: &TestApp, user: &TestUser) {
    let deleted = app
        .delete("/v1/me")
        .token(&user.token)
        .json(&json!({"password": PASSWORD}))
        .send();
    assert_eq!(deleted.status, 204, "{}", deleted.text);
}

fn export(app: &TestApp, user: &TestUser) -> Value {
    let exported = app.get("/v1/me/export").token(&user.token).send();
    assert_eq!(exported.status, 200, "{}", exported.text);
    assert!(exported.content_type.starts_with("application/json"));
    let disposition = exported.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment; filename=\"tandem-export-")
            && disposition.ends_with(".json\""),
        "{disposition}"
    );
    assert_eq!(exported.header("cache-control"), Some("no-store"));
    assert!(
        !exported.body.is_null(),
        "the export is valid JSON: {}",
        &exported.text[..exported.text.len().min(300)]
    );
    exported.body
}

#[test]
fn the_export_holds_each_section_of_mine_and_nothing_secret() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        group,
        program,
        pairing,
        mentee_enrolment,
        ..
    } = app.paired_program();
    let pairing_id = id(&pairing);
    check_in(&app, &bea, pairing_id, NOTE);
    write(&app, &bea, pairing_id, MESSAGE);
    write(&app, &cleo, pairing_id, PARTNER_MESSAGE);
    let report_id = report(&app, &bea, pairing_id, REPORT);
    let feed_token = calendar_token(&app, &bea);
    let blocked = app
        .post(&format!("/v1/pairings/{pairing_id}/block"))
        .token(&bea.token)
        .json(&json!({"reason": "Rights block reason"}))
        .send();
    assert_eq!(blocked.status, 200, "{}", blocked.text);

    app.get("/v1/me/export").send().problem(401);
    let doc = export(&app, &bea);
    assert_eq!(doc["format"], "tandem-export/1");
    assert_eq!(doc["profile"]["id"], bea.id.as_str());
    assert_eq!(doc["profile"]["email"], bea.email.as_str());
    assert_eq!(doc["profile"]["display_name"], "Bea");
    assert_eq!(doc["profile"]["time_zone"], "Europe/Rome");
    assert_eq!(doc["calendar_feed"]["exists"], true);
    assert_eq!(doc["memberships"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["memberships"][0]["group_id"], id(&group));
    assert_eq!(doc["memberships"][0]["group_name"], "Parents");
    assert_eq!(doc["memberships"][0]["role"], "member");
    assert_eq!(doc["enrolments"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["enrolments"][0]["id"], id(&mentee_enrolment));
    assert_eq!(doc["enrolments"][0]["program_id"], id(&program));
    assert_eq!(doc["enrolments"][0]["answers"], mentee_enrolment["answers"]);
    assert_eq!(
        doc["enrolments"][0]["answers"]["sleep"],
        new_parent_answers()["sleep"]
    );
    assert_eq!(doc["pairings"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["pairings"][0]["id"], pairing_id);
    assert_eq!(doc["pairings"][0]["role"], "mentee");
    assert_eq!(doc["pairings"][0]["status"], "ended");
    assert_eq!(doc["pairings"][0]["ended_by_me"], true);
    assert_eq!(
        doc["check_ins"],
        json!([{
            "pairing_id": pairing_id, "number": 1, "rating": 4, "note": NOTE,
            "completed_at": doc["check_ins"][0]["completed_at"],
            "updated_at": doc["check_ins"][0]["updated_at"],
        }])
    );
    assert_eq!(doc["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["messages"][0]["body"], MESSAGE);
    assert_eq!(doc["messages"][0]["author_id"], bea.id.as_str());
    assert_eq!(doc["reports"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["reports"][0]["id"], report_id.as_str());
    assert_eq!(doc["reports"][0]["reason"], REPORT);
    assert_eq!(doc["reports"][0]["reported_user_id"], cleo.id.as_str());
    assert_eq!(doc["blocks"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["blocks"][0]["reason"], "Rights block reason");
    assert_eq!(doc["blocks"][0]["blocked_user_id"], cleo.id.as_str());
    let kinds: Vec<&str> = doc["notifications"]
        .as_array()
        .map(|n| n.iter().filter_map(|n| n["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"matched"), "{kinds:?}");
    assert!(kinds.contains(&"new_messages"), "{kinds:?}");

    // Nothing that is not Bea's, and no secret: the partner's words, hashes, tokens.
    let text = doc.to_string();
    for absent in [
        PARTNER_MESSAGE,
        "$argon2",
        "password",
        feed_token.as_str(),
        bea.refresh_token.as_str(),
        cleo.email.as_str(),
    ] {
        assert!(!text.contains(absent), "the export holds {absent:?}");
    }
}

#[test]
fn a_large_export_streams_complete_and_valid() {
    use tandem_domain::ids::{MessageId, PairingId, UserId};
    use tandem_domain::message::Message;
    use tandem_domain::notification::{NewMessagesData, NotificationPayload};

    const MESSAGES: usize = 3000;
    const NOTIFICATIONS: usize = 2000;
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        program,
        pairing,
        ..
    } = app.paired_program();
    let pairing_id: PairingId = id(&pairing).parse().expect("pairing id");
    let author: UserId = bea.id.parse().expect("user id");
    let program_id = id(&program).parse().expect("program id");
    // Written straight to the store: thousands of HTTP posts would only slow the test.
    let db = app.open_database();
    let start = chrono::Utc::now();
    db.write(|conn| {
        for i in 0..MESSAGES {
            let at = start + chrono::Duration::milliseconds(i as i64);
            tandem_persistence::messages::insert(
                conn,
                &Message {
                    id: MessageId::new_v7(at),
                    pairing_id,
                    author_id: author,
                    week: None,
                    body: format!("bulk message {i:05} with some text to make it longer"),
                    created_at: at,
                },
            )?;
        }
        for i in 0..NOTIFICATIONS {
            let at = start + chrono::Duration::milliseconds(i as i64);
            tandem_persistence::notifications::push(
                conn,
                author,
                &NotificationPayload::NewMessages(NewMessagesData {
                    pairing_id,
                    program_id,
                    program_name: "Bulk".into(),
                    partner_display_name: "Cleo".into(),
                    count: u32::try_from(i + 1).unwrap_or(1),
                    latest_at: at,
                }),
                at,
            )?;
        }
        Ok::<_, tandem_persistence::StoreError>(())
    })
    .expect("bulk rows");

    let exported = app.get("/v1/me/export").token(&bea.token).send();
    assert_eq!(exported.status, 200);
    // Streamed: no length known up front, sent in chunks.
    assert_eq!(exported.header("content-length"), None);
    assert_eq!(exported.header("transfer-encoding"), Some("chunked"));
    assert!(exported.text.len() > 500_000, "{}", exported.text.len());
    let doc: Value = serde_json::from_str(&exported.text).expect("the whole export is valid JSON");
    let messages = doc["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), MESSAGES);
    // Every one, once, in order across the pages.
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(
            message["body"],
            format!("bulk message {i:05} with some text to make it longer")
        );
    }
    // Plus the matched notification of the pairing.
    let notifications = doc["notifications"].as_array().expect("notifications");
    assert_eq!(notifications.len(), NOTIFICATIONS + 1);
    let mut ids: Vec<&str> = notifications
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), NOTIFICATIONS + 1);
}

#[test]
fn deleting_needs_the_right_password() {
    let app = TestApp::spawn();
    let bea = app.register("Bea");
    app.delete("/v1/me")
        .json(&json!({"password": PASSWORD}))
        .send()
        .problem(401);
    app.delete("/v1/me")
        .token(&bea.token)
        .json(&json!({}))
        .send()
        .invalid_field("password");
    let wrong = app
        .delete("/v1/me")
        .token(&bea.token)
        .json(&json!({"password": "not the password"}))
        .send();
    let problem = wrong.problem(403);
    assert!(problem["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("password"));
    // Still there.
    assert_eq!(app.get("/v1/me").token(&bea.token).send().status, 200);
}

#[test]
fn password_guesses_through_deletion_are_rate_limited() {
    let app = TestApp::spawn_with(tandem_api::limits::LimitSettings {
        rate_limits: "on".into(),
        auth_rate_per_account: std::num::NonZeroU32::new(3).unwrap_or(std::num::NonZeroU32::MIN),
        password_hashing_wait_ms: 60_000,
        ..tandem_api::limits::LimitSettings::default()
    });
    let bea = app.register("Bea");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let guess = app
            .delete("/v1/me")
            .token(&bea.token)
            .json(&json!({"password": "a wrong guess"}))
            .send();
        statuses.push(guess.status);
    }
    // The registration counted on the account too: then the guesses until the limit.
    assert!(statuses.contains(&403), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[test]
fn the_last_owner_hands_the_group_over_first() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let bea = app.register("Bea");
    let group = app.create_group(&ada, "Night Owls");
    let other = app.create_group(&ada, "Shared");
    app.join(&bea, &group);
    app.join(&bea, &other);
    app.set_role(&ada, &other, &bea, "owner");

    let refused = app
        .delete("/v1/me")
        .token(&ada.token)
        .json(&json!({"password": PASSWORD}))
        .send();
    let problem = refused.problem(409);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("Night Owls") && detail.contains(id(&group)),
        "{detail}"
    );
    assert!(!detail.contains("Shared"), "{detail}");
    assert_eq!(
        problem["groups"],
        json!([{"id": id(&group), "name": "Night Owls"}])
    );
    // Nothing happened.
    assert_eq!(app.get("/v1/me").token(&ada.token).send().status, 200);

    app.set_role(&ada, &group, &bea, "owner");
    delete_account(&app, &ada);
    let members = app
        .get(&format!("/v1/groups/{}/members", id(&group)))
        .token(&bea.token)
        .send();
    assert_eq!(members.status, 200);
    assert_eq!(
        members.body["items"],
        json!([{
            "user_id": bea.id, "display_name": "Bea", "role": "owner",
            "joined_at": members.body["items"][0]["joined_at"],
        }])
    );
}

/// Counts that must not move when a member leaves: totals of enrolments and pairings,
/// and each week's reach, completions and ratings.
fn lasting_counts(insights: &Value) -> Value {
    let total = |v: &Value| -> u64 {
        v.as_object()
            .map(|o| o.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    };
    json!({
        "mentors": total(&insights["enrolments"]["mentors"]),
        "mentees": total(&insights["enrolments"]["mentees"]),
        "pairings": total(&insights["pairings"]),
        "weeks": insights["weeks"],
    })
}

#[test]
fn after_deletion_no_read_shows_anything_of_mine() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        pairing,
        mentee_enrolment,
        ..
    } = app.paired_program();
    rename(&app, &bea, NAME);
    let pairing_id = id(&pairing).to_owned();
    check_in(&app, &bea, &pairing_id, NOTE);
    check_in(&app, &cleo, &pairing_id, "Partner note");
    write(&app, &bea, &pairing_id, MESSAGE);
    write(&app, &cleo, &pairing_id, PARTNER_MESSAGE);
    report(&app, &bea, &pairing_id, REPORT);
    let about_bea = report(&app, &cleo, &pairing_id, ABOUT_ME);
    let feed_token = calendar_token(&app, &bea);
    let eve = app.register("Eve");
    let insights_path = format!("/v1/programs/{}/insights", id(&program));
    let before = app.get(&insights_path).token(&ada.token).send();
    assert_eq!(before.status, 200, "{}", before.text);
    // Cleo was told of Bea's messages under her name: it goes from his feed too.
    assert!(app
        .get("/v1/me/notifications")
        .token(&cleo.token)
        .send()
        .text
        .contains(NAME));

    delete_account(&app, &bea);

    // Her tokens and feed stop working; her password no longer logs in.
    app.get("/v1/me").token(&bea.token).send().problem(401);
    app.get("/v1/groups").token(&bea.token).send().problem(401);
    // The hot reads check the account inside their own query: her pairing (its row
    // still names her), its check-ins, her list, and a pairing that does not exist.
    for path in [
        format!("/v1/pairings/{pairing_id}"),
        format!("/v1/pairings/{pairing_id}/check-ins"),
        "/v1/me/pairings".to_string(),
        format!("/v1/pairings/{}", uuid::Uuid::new_v4()),
    ] {
        app.get(&path).token(&bea.token).send().problem(401);
    }
    // So does the check-in write, on her pairing and on one that does not exist.
    for pairing in [pairing_id.to_string(), uuid::Uuid::new_v4().to_string()] {
        app.put(&format!("/v1/pairings/{pairing}/check-ins/1"))
            .token(&bea.token)
            .json(&json!({"rating": 4}))
            .send()
            .problem(401);
    }
    app.get("/v1/me/export")
        .token(&bea.token)
        .send()
        .problem(401);
    app.post("/v1/groups")
        .token(&bea.token)
        .json(&json!({"name": "Back door", "description": "x"}))
        .send()
        .problem(401);
    app.post("/v1/auth/refresh")
        .json(&json!({"refresh_token": bea.refresh_token}))
        .send()
        .problem(401);
    assert_eq!(
        app.get("/v1/me/calendar.ics")
            .query("token", &feed_token)
            .send()
            .status,
        404
    );
    app.post("/v1/auth/login")
        .json(&json!({"email": bea.email, "password": PASSWORD}))
        .send()
        .problem(401);

    // The admins' numbers stay right: the pairing ended, its check-ins and ratings count.
    let after = app.get(&insights_path).token(&ada.token).send();
    assert_eq!(after.status, 200, "{}", after.text);
    assert_eq!(lasting_counts(&after.body), lasting_counts(&before.body));
    assert_eq!(after.body["pairings"]["ended"], 1);

    // The partner sees the pairing, ended, with "Deleted member" in Bea's place.
    let seen = app.pairing_as(&cleo, &pairing);
    assert!(seen.to_string().contains("Deleted member"), "{seen}");
    assert_eq!(seen["status"], "ended");
    // Her entry keeps its rating (the insights count it), not its note.
    let check_ins = app
        .get(&format!("/v1/pairings/{pairing_id}/check-ins"))
        .token(&cleo.token)
        .send();
    assert!(
        check_ins.text.contains("Partner note"),
        "{}",
        check_ins.text
    );
    let entries = check_ins.body["items"][0]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let hers = entries
        .iter()
        .find(|e| e["user_id"] == bea.id.as_str())
        .expect("her entry stays");
    assert_eq!(hers["rating"], 4);
    assert_eq!(hers["note"], Value::Null);
    let mine = app.get("/v1/me/check-ins").token(&cleo.token).send();
    assert!(mine.text.contains("Deleted member"), "{}", mine.text);
    let enrolment = app
        .get(&format!("/v1/enrolments/{}", id(&mentee_enrolment)))
        .token(&ada.token)
        .send();
    assert_eq!(enrolment.status, 200, "{}", enrolment.text);
    assert_eq!(enrolment.body["answers"], json!({}));
    assert_eq!(enrolment.body["display_name"], "Deleted member");

    // Every read operation of the spec, as the partner, an admin and a stranger.
    let spec = app.get("/openapi.json").send().body;
    let paths = spec["paths"].as_object().expect("paths");
    let forbidden = [
        NAME,
        bea.email.as_str(),
        NOTE,
        MESSAGE,
        REPORT,
        feed_token.as_str(),
    ];
    let mut walked = 0;
    for viewer in [&cleo, &ada, &eve] {
        let own_feed = calendar_token(&app, viewer);
        let notification = app
            .get("/v1/me/notifications")
            .token(&viewer.token)
            .send()
            .body["items"][0]["id"]
            .as_str()
            .unwrap_or("00000000-0000-0000-0000-000000000000")
            .to_owned();
        for (template, operations) in paths {
            if operations.get("get").is_none() {
                continue;
            }
            let path = template
                .replace("{group_id}", id(&group))
                .replace("{program_id}", id(&program))
                .replace("{pairing_id}", &pairing_id)
                .replace("{enrolment_id}", id(&mentee_enrolment))
                .replace("{report_id}", &about_bea)
                .replace("{notification_id}", &notification)
                .replace("{user_id}", &bea.id)
                .replace("{number}", "1")
                .replace("{key}", "new-parents");
            assert!(!path.contains('{'), "teach the walk {template}");
            let answer = app
                .get(&path)
                .token(&viewer.token)
                .query("token", &own_feed)
                .send();
            assert!(
                answer.status < 500,
                "{path}: {} {}",
                answer.status,
                answer.text
            );
            for secret in forbidden {
                assert!(
                    !answer.text.contains(secret),
                    "{path} as {} shows {secret:?}: {}",
                    viewer.display_name,
                    answer.text
                );
            }
            walked += 1;
        }
    }
    assert!(walked > 60, "walked {walked} reads");

    // Her address can register again: a new account, unrelated to the old one.
    let again = app
        .post("/v1/auth/register")
        .json(&json!({
            "email": bea.email, "password": "another long password", "display_name": "Bea",
        }))
        .send();
    assert_eq!(again.status, 201, "{}", again.text);
    assert_ne!(again.str("/user/id"), bea.id);
    let token = again.str("/access_token");
    let groups = app.get("/v1/groups").token(&token).send();
    assert_eq!(groups.body["items"], json!([]));
    let pairings = app.get("/v1/me/pairings").token(&token).send();
    assert_eq!(pairings.body["items"], json!([]));
    let doc = app.get("/v1/me/export").token(&token).send().body;
    assert_eq!(doc["messages"], json!([]));
    assert_eq!(doc["enrolments"], json!([]));
    assert_eq!(doc["notifications"], json!([]));
}

/// Two owners of a group delete their accounts at the same moment: the group's lock
/// makes one wait and count again, so the group is never left without an owner.
#[test]
fn two_owners_deleting_at_once_leave_the_group_an_owner() {
    let app = TestApp::spawn();
    for round in 0..5 {
        let ada = app.register(&format!("Ada{round}"));
        let bea = app.register(&format!("Bea{round}"));
        let cleo = app.register(&format!("Cleo{round}"));
        let group = app.create_group(&ada, "Twin owners");
        app.join(&bea, &group);
        app.join(&cleo, &group);
        app.set_role(&ada, &group, &bea, "owner");
        let barrier = std::sync::Barrier::new(2);
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = [&ada, &bea]
                .into_iter()
                .map(|owner| {
                    let (app, barrier) = (&app, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        app.delete("/v1/me")
                            .token(&owner.token)
                            .json(&json!({"password": PASSWORD}))
                            .send()
                            .status
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("request thread"))
                .collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![204, 409], "round {round}");
        let members = app
            .get(&format!("/v1/groups/{}/members", id(&group)))
            .token(&cleo.token)
            .send();
        let owners = members.body["items"]
            .as_array()
            .map(|m| m.iter().filter(|m| m["role"] == "owner").count())
            .unwrap_or(0);
        assert_eq!(owners, 1, "round {round}: {}", members.text);
    }
}

#[test]
fn nobody_can_squat_a_tombstone_address_to_block_a_deletion() {
    let app = TestApp::spawn();
    let alice = app.register("Alice");
    let mallory = app.register("Mallory");
    // The tombstone Alice's deletion writes, taken first (any case) by someone else.
    for squat in [
        format!("deleted-{}@deleted.invalid", alice.id),
        format!("Deleted-{}@Deleted.INVALID", alice.id),
    ] {
        let registered = app
            .post("/v1/auth/register")
            .json(&json!({
                "email": squat,
                "password": PASSWORD,
                "display_name": "Squatter",
                "time_zone": "Europe/Rome",
            }))
            .send();
        assert_eq!(registered.status, 422, "{}", registered.text);
        assert!(registered.text.contains("email"), "{}", registered.text);
    }
    delete_account(&app, &alice);
    // The address is free again, and the tombstone's is still nobody's to take.
    let again = app.register("Alice");
    assert_ne!(again.id, alice.id);
    assert_eq!(app.get("/v1/me").token(&mallory.token).send().status, 200);
}

#[test]
fn a_rewritten_notification_is_not_answered_304_under_its_old_etag() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        ..
    } = app.paired_program();
    let listed = app.get("/v1/me/notifications").token(&cleo.token).send();
    assert_eq!(listed.status, 200, "{}", listed.text);
    // Cleo's notifications that name Bea, each with the ETag Cleo holds for it.
    let mut held = Vec::new();
    for notification in listed.body["items"].as_array().expect("items") {
        if !notification.to_string().contains("\"Bea\"") {
            continue;
        }
        let path = format!("/v1/me/notifications/{}", id(notification));
        let read = app.get(&path).token(&cleo.token).send();
        assert_eq!(read.status, 200, "{}", read.text);
        held.push((path, read.header("etag").expect("etag").to_owned()));
    }
    assert!(!held.is_empty(), "{}", listed.text);

    delete_account(&app, &bea);

    let mut rewritten = 0;
    for (path, etag) in held {
        let again = app
            .get(&path)
            .token(&cleo.token)
            .header("If-None-Match", &etag)
            .send();
        if again.status == 404 {
            continue;
        }
        assert_eq!(again.status, 200, "{path}: {}", again.text);
        assert_ne!(again.header("etag"), Some(etag.as_str()));
        assert!(!again.text.contains("\"Bea\""), "{}", again.text);
        assert!(again.text.contains("Deleted member"), "{}", again.text);
        rewritten += 1;
    }
    assert!(
        rewritten > 0,
        "no notification naming Bea was kept and rewritten"
    );
}

#[test]
fn an_export_past_its_deadline_is_cut_with_an_error_not_passed_off_as_whole() {
    let app = TestApp::spawn_configured(tandem_tests::relaxed_limits(), |config| {
        config.export_deadline = std::time::Duration::ZERO;
    });
    let ada = app.register("Ada");
    // The profile was read, so the answer is a 200 whose body then fails rather than end
    // as a document that parses. Headers go out with the first chunk, so a deadline
    // passed before any chunk may also drop the connection before the head is flushed
    // (seen under a loaded suite): a cut the client sees either way.
    match app.get("/v1/me/export").token(&ada.token).try_send() {
        Ok(exported) => {
            assert_eq!(exported.status, 200);
            assert!(
                serde_json::from_str::<Value>(&exported.text).is_err(),
                "a cut export parsed: {}",
                exported.text
            );
        }
        // Cut before the head: nothing that could pass for an export reached the
        // client, and the server that cut it still answers.
        Err(_cut) => assert_eq!(app.get("/healthz").send().status, 200),
    }
    // The deadline is per export: another server's default lets the whole one through.
    let other = TestApp::spawn();
    let bea = other.register("Bea");
    assert_eq!(export(&other, &bea)["profile"]["display_name"], "Bea");
}

#[test]
fn one_export_at_a_time_per_account() {
    use std::io::{Read, Write};
    use tandem_domain::ids::{MessageId, PairingId, UserId};
    use tandem_domain::message::Message;

    // Far more than the server buffers (4 chunks of 64 KiB) and both sockets hold, so
    // a client that reads nothing keeps the producer waiting.
    const MESSAGES: usize = 5000;
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        pairing,
        ..
    } = app.paired_program();
    let pairing_id: PairingId = id(&pairing).parse().expect("pairing id");
    let author: UserId = bea.id.parse().expect("user id");
    let body = "x".repeat(3900);
    let start = chrono::Utc::now();
    app.open_database()
        .write(|conn| {
            for i in 0..MESSAGES {
                let at = start + chrono::Duration::milliseconds(i as i64);
                tandem_persistence::messages::insert(
                    conn,
                    &Message {
                        id: MessageId::new_v7(at),
                        pairing_id,
                        author_id: author,
                        week: None,
                        body: body.clone(),
                        created_at: at,
                    },
                )?;
            }
            Ok::<_, tandem_persistence::StoreError>(())
        })
        .expect("bulk rows");

    // A client that asks and then reads only the start of the answer.
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&address).expect("connect");
    write!(
        slow,
        "GET /v1/me/export HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\r\n",
        bea.token
    )
    .expect("send the request");
    let mut start_of_answer = [0u8; 12];
    slow.read_exact(&mut start_of_answer).expect("read");
    assert_eq!(&start_of_answer, b"HTTP/1.1 200");

    let again = app.get("/v1/me/export").token(&bea.token).send();
    let problem = again.problem(429);
    assert!(again.header("retry-after").is_some(), "{problem}");

    // Once the slow client goes away, the account may export again.
    drop(slow);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let next = app.get("/v1/me/export").token(&bea.token).send();
        // (Its body, ~20 MB, is more than the test client reads into a string; the
        // large-export test checks a whole body.)
        if next.status == 200 {
            break;
        }
        assert_eq!(next.status, 429, "{}", next.text);
        assert!(
            std::time::Instant::now() < deadline,
            "the slot was never freed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
