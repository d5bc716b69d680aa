//! The pair space's messages: only the two partners read and write them, admins get 403
//! and everyone else 404, a pairing that is over is read-only, and the other partner
//! gets one coalesced notification per pairing that never carries the text.

use std::sync::Barrier;

use serde_json::{json, Value};
use tandem_tests::{PairedProgram, Response, TestApp, TestUser};

fn path(pairing: &Value) -> String {
    format!(
        "/v1/pairings/{}/messages",
        pairing["id"].as_str().expect("pairing id")
    )
}

fn post(app: &TestApp, user: &TestUser, pairing: &Value, body: Value) -> Response {
    app.post(&path(pairing))
        .token(&user.token)
        .json(&body)
        .send()
}

fn say(app: &TestApp, user: &TestUser, pairing: &Value, text: &str) -> Value {
    let response = post(app, user, pairing, json!({"body": text}));
    assert_eq!(response.status, 201, "{}", response.text);
    response.body
}

fn list(app: &TestApp, user: &TestUser, pairing: &Value, query: &[(&str, &str)]) -> Response {
    let mut request = app.get(&path(pairing)).token(&user.token);
    for (name, value) in query {
        request = request.query(name, value);
    }
    request.send()
}

fn bodies(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["body"].as_str().expect("body").to_owned())
        .collect()
}

fn unread_new_messages(app: &TestApp, user: &TestUser) -> Vec<Value> {
    app.notifications_of_kind(user, "new_messages")
        .into_iter()
        .filter(|n| n["read_at"].is_null())
        .collect()
}

#[test]
fn partners_write_to_each_other_and_read_newest_first() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.paired_program();
    let first = post(
        &app,
        &bea,
        &pairing,
        json!({"body": "  Hello Cleo!\r\nHow did week one go? ", "week": 1}),
    );
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["body"], "Hello Cleo!\nHow did week one go?");
    assert_eq!(first.body["week"], 1);
    assert_eq!(first.body["author_id"], bea.id.as_str());
    assert_eq!(first.body["pairing_id"], pairing["id"]);
    assert!(first.body["created_at"].is_string());
    say(&app, &cleo, &pairing, "Well, thanks!");
    let third = post(
        &app,
        &cleo,
        &pairing,
        json!({"body": "About sleep…", "week": 2}),
    );
    assert_eq!(third.status, 201, "{}", third.text);
    assert!(third.body["week"] == 2);
    say(&app, &bea, &pairing, "Talk soon");

    let all = list(&app, &cleo, &pairing, &[]);
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(
        bodies(&all.body),
        [
            "Talk soon",
            "About sleep…",
            "Well, thanks!",
            "Hello Cleo!\nHow did week one go?"
        ]
    );
    assert_eq!(all.body["next_cursor"], Value::Null);
    assert_eq!(all.body["items"][3], first.body);
    assert_eq!(all.body["items"][2]["week"], Value::Null);
    assert_eq!(list(&app, &bea, &pairing, &[]).body, all.body);

    // Pages of two, newest first, continuing after the cursor.
    let page = list(&app, &bea, &pairing, &[("limit", "2")]);
    assert_eq!(bodies(&page.body), ["Talk soon", "About sleep…"]);
    let cursor = page.str("/next_cursor");
    let rest = list(&app, &bea, &pairing, &[("limit", "2"), ("cursor", &cursor)]);
    assert_eq!(
        bodies(&rest.body),
        ["Well, thanks!", "Hello Cleo!\nHow did week one go?"]
    );
    assert_eq!(rest.body["next_cursor"], Value::Null);

    // One guide week's messages.
    let week = list(&app, &bea, &pairing, &[("week", "2")]);
    assert_eq!(week.status, 200, "{}", week.text);
    assert_eq!(bodies(&week.body), ["About sleep…"]);
    let empty = list(&app, &bea, &pairing, &[("week", "3")]);
    assert_eq!(empty.body["items"], json!([]));
}

#[test]
fn a_retried_post_with_an_idempotency_key_posts_once() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.paired_program();
    let send = || {
        app.post(&path(&pairing))
            .token(&bea.token)
            .header("Idempotency-Key", "msg-1")
            .json(&json!({"body": "Only once"}))
            .send()
    };
    let first = send();
    assert_eq!(first.status, 201, "{}", first.text);
    let again = send();
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(
        bodies(&list(&app, &cleo, &pairing, &[]).body),
        ["Only once"]
    );
    let unread = unread_new_messages(&app, &cleo);
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0]["data"]["count"], 1);
}

#[test]
fn messages_are_checked_field_by_field() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        pairing,
        program,
        ..
    } = app.paired_program();
    let weeks = program["duration_weeks"].as_u64().expect("duration_weeks");
    for body in ["", "   \n ", &"m".repeat(4001), "hidden\u{202E}text"] {
        post(&app, &bea, &pairing, json!({ "body": body })).invalid_field("body");
    }
    for week in [json!(0), json!(weeks + 1), json!(-1), json!(53)] {
        post(&app, &bea, &pairing, json!({"body": "Hi", "week": week})).invalid_field("week");
    }
    let both = post(&app, &bea, &pairing, json!({"body": "", "week": 0}));
    both.invalid_field("body");
    both.invalid_field("week");
    post(&app, &bea, &pairing, json!({"week": 1})).problem(422);
    post(&app, &bea, &pairing, json!({"body": "Hi", "week": "one"})).problem(422);
    post(&app, &bea, &pairing, json!({"body": "Hi", "mood": 3})).problem(422);
    list(&app, &bea, &pairing, &[("week", "0")]).invalid_field("week");
    list(&app, &bea, &pairing, &[("week", &(weeks + 1).to_string())]).invalid_field("week");
    list(&app, &bea, &pairing, &[("limit", "0")]).invalid_field("limit");
    list(&app, &bea, &pairing, &[("cursor", "bm9wZQ")]).invalid_field("cursor");
    // Nothing was stored by the refusals.
    assert_eq!(list(&app, &bea, &pairing, &[]).body["items"], json!([]));
    let longest = post(
        &app,
        &bea,
        &pairing,
        json!({"body": "m".repeat(4000), "week": weeks}),
    );
    assert_eq!(longest.status, 201, "{}", longest.text);
}

#[test]
fn only_the_two_partners_enter_the_pair_space() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_program();
    let secret = "Only for you: the night feeds are hard";
    say(&app, &bea, &pairing, secret);

    // An admin who may see the pairing may not enter its space.
    let refused = list(&app, &ada, &pairing, &[]);
    refused.problem(403);
    assert!(!refused.text.contains(secret));
    post(
        &app,
        &ada,
        &pairing,
        json!({"body": "Hello from the admin"}),
    )
    .problem(403);
    let seen = app
        .get(&format!(
            "/v1/pairings/{}",
            pairing["id"].as_str().expect("id")
        ))
        .token(&ada.token)
        .send();
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(!seen.text.contains(secret));

    // Another member and a stranger learn nothing; an anonymous caller is asked to log in.
    let dana = app.member(&group, "Dana");
    let eve = app.register("Eve");
    for outsider in [&dana, &eve] {
        list(&app, outsider, &pairing, &[]).problem(404);
        post(&app, outsider, &pairing, json!({"body": "Hi"})).problem(404);
    }
    app.get(&path(&pairing)).send().problem(401);
    app.post(&path(&pairing))
        .json(&json!({"body": "Hi"}))
        .send()
        .problem(401);
    let unknown = json!({"id": "0193f1d2-7a05-7e3b-b1c4-9d2e6f0a8c15"});
    list(&app, &bea, &unknown, &[]).problem(404);
    post(&app, &bea, &unknown, json!({"body": "Hi"})).problem(404);

    // Nothing was posted by the refusals, and the admin was told nothing.
    assert_eq!(bodies(&list(&app, &cleo, &pairing, &[]).body), [secret]);
    assert!(app.notifications_of_kind(&ada, "new_messages").is_empty());

    // A partner removed from the group reads nothing more; the other keeps the history.
    let removed = app
        .delete(&format!(
            "/v1/groups/{}/members/{}",
            group["id"].as_str().expect("group id"),
            bea.id
        ))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);
    list(&app, &bea, &pairing, &[]).problem(404);
    post(&app, &bea, &pairing, json!({"body": "Still here?"})).problem(404);
    assert_eq!(bodies(&list(&app, &cleo, &pairing, &[]).body), [secret]);
}

#[test]
fn an_ended_pairing_keeps_its_messages_read_only() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.paired_program();
    say(&app, &bea, &pairing, "Thank you for everything");
    let end = app
        .post(&format!(
            "/v1/pairings/{}/end",
            pairing["id"].as_str().expect("id")
        ))
        .token(&cleo.token)
        .json(&json!({"reason": "Moving abroad"}))
        .send();
    assert_eq!(end.status, 200, "{}", end.text);
    for partner in [&bea, &cleo] {
        let refused = post(&app, partner, &pairing, json!({"body": "One more thing"}));
        assert!(refused.problem(409)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("read-only")));
        assert_eq!(
            bodies(&list(&app, partner, &pairing, &[]).body),
            ["Thank you for everything"]
        );
    }
}

#[test]
fn an_archived_programs_spaces_are_read_only() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        program,
        pairing,
        ..
    } = app.paired_program();
    say(&app, &bea, &pairing, "Before the archive");
    app.set_program_status(&ada, &program, "closed");
    say(&app, &bea, &pairing, "A closed program's pairs go on");
    app.set_program_status(&ada, &program, "archived");
    let refused = post(&app, &bea, &pairing, json!({"body": "After"}));
    assert!(refused.problem(409)["detail"]
        .as_str()
        .is_some_and(|d| d.contains("archived")));
    assert_eq!(
        bodies(&list(&app, &bea, &pairing, &[]).body),
        ["A closed program's pairs go on", "Before the archive"]
    );
}

#[test]
fn a_pairing_completed_by_the_clock_is_read_only_before_any_job_runs() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.short_program(2, "UTC", "UTC", "2027-03-01T10:00:00Z");
    say(&app, &bea, &pairing, "Last week already");
    // The last window closes at the end of 2027-03-14 in the mentee's zone.
    app.clock
        .set("2027-03-14T23:59:00Z".parse().expect("an instant"));
    say(&app, &cleo, &pairing, "Just in time");
    app.clock
        .set("2027-03-15T00:00:00Z".parse().expect("an instant"));
    post(&app, &cleo, &pairing, json!({"body": "Too late"})).problem(409);
    assert_eq!(
        bodies(&list(&app, &bea, &pairing, &[]).body),
        ["Just in time", "Last week already"]
    );
}

#[test]
fn the_partner_gets_one_unread_notification_per_pairing_without_the_text() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        program,
        pairing,
        ..
    } = app.paired_program();
    let texts = ["First secret", "Second secret", "Third secret"];
    for text in texts {
        say(&app, &bea, &pairing, text);
    }
    let unread = unread_new_messages(&app, &cleo);
    assert_eq!(unread.len(), 1, "{unread:?}");
    let data = &unread[0]["data"];
    assert_eq!(data["count"], 3);
    assert_eq!(data["pairing_id"], pairing["id"]);
    assert_eq!(data["program_id"], program["id"]);
    assert_eq!(data["program_name"], program["name"]);
    assert_eq!(data["partner_display_name"], "Bea");
    assert!(data["latest_at"].is_string());
    let feed = app.get("/v1/me/notifications").token(&cleo.token).send();
    for text in texts {
        assert!(!feed.text.contains(text), "{}", feed.text);
    }
    // The author is not told of their own messages.
    assert!(app.notifications_of_kind(&bea, "new_messages").is_empty());

    // Once read, the next message starts a new one.
    let read = app
        .patch(&format!(
            "/v1/me/notifications/{}",
            unread[0]["id"].as_str().expect("id")
        ))
        .token(&cleo.token)
        .json(&json!({"read": true}))
        .send();
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["data"]["count"], 3);
    say(&app, &bea, &pairing, "Fourth");
    let all = app.notifications_of_kind(&cleo, "new_messages");
    assert_eq!(all.len(), 2, "{all:?}");
    let unread = unread_new_messages(&app, &cleo);
    assert_eq!(unread.len(), 1);
    assert_ne!(unread[0]["id"], read.body["id"]);
    assert_eq!(unread[0]["data"]["count"], 1);

    // Bea hears of Cleo's answer in a notification of her own.
    say(&app, &cleo, &pairing, "Answer");
    let bea_unread = unread_new_messages(&app, &bea);
    assert_eq!(bea_unread.len(), 1);
    assert_eq!(bea_unread[0]["data"]["partner_display_name"], "Cleo");
    assert_eq!(bea_unread[0]["data"]["count"], 1);
}

#[test]
fn messages_posted_at_once_still_make_one_unread_notification() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.paired_program();
    const AT_ONCE: usize = 8;
    let barrier = Barrier::new(AT_ONCE);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let request = app
                    .post(&path(&pairing))
                    .token(&bea.token)
                    .json(&json!({ "body": format!("Message {i}") }));
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    request.send().status
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a request thread panicked"))
            .collect()
    });
    assert_eq!(statuses, [201; AT_ONCE]);
    assert_eq!(
        list(&app, &cleo, &pairing, &[]).body["items"]
            .as_array()
            .map(Vec::len),
        Some(AT_ONCE)
    );
    let unread = unread_new_messages(&app, &cleo);
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert_eq!(unread[0]["data"]["count"], AT_ONCE);
}

#[test]
fn an_older_new_messages_notification_cannot_be_reopened_beside_a_newer_one() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        pairing,
        ..
    } = app.paired_program();
    let mark = |notification: &Value, read: bool| {
        app.patch(&format!(
            "/v1/me/notifications/{}",
            notification["id"].as_str().expect("notification id")
        ))
        .token(&cleo.token)
        .json(&json!({ "read": read }))
        .send()
    };
    say(&app, &bea, &pairing, "First");
    let older = unread_new_messages(&app, &cleo).pop().expect("one unread");
    assert_eq!(mark(&older, true).status, 200);
    say(&app, &bea, &pairing, "Second");
    let newer = unread_new_messages(&app, &cleo).pop().expect("a new one");
    assert_ne!(older["id"], newer["id"]);
    // Two unread for one pairing would count the same messages twice.
    mark(&older, false).problem(409);
    assert_eq!(unread_new_messages(&app, &cleo).len(), 1);
    assert_eq!(mark(&newer, true).status, 200);
    assert_eq!(mark(&older, false).status, 200);
    assert_eq!(unread_new_messages(&app, &cleo).len(), 1);
}
