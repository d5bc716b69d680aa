//! Reporting a partner: the group's admins read who, which pairing and why, page by
//! page, and resolve it. They never see the pair's words, and the reported member is
//! never told.

use serde_json::{json, Value};
use tandem_tests::{PairedProgram, TestApp, TestUser};

const REASON: &str = "She asked me for money twice";
const NOTE: &str = "Talked about sleep regressions and my mother-in-law";

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

fn report(app: &TestApp, user: &TestUser, pairing: &Value, reason: &str) -> tandem_tests::Response {
    app.post(&format!("/v1/pairings/{}/report", id(pairing)))
        .token(&user.token)
        .json(&json!({ "reason": reason }))
        .send()
}

fn reports_of(
    app: &TestApp,
    user: &TestUser,
    group: &Value,
    query: &str,
) -> tandem_tests::Response {
    app.get(&format!("/v1/groups/{}/reports{query}", id(group)))
        .token(&user.token)
        .send()
}

fn resolve(app: &TestApp, user: &TestUser, report: &Value) -> tandem_tests::Response {
    app.patch(&format!("/v1/reports/{}", id(report)))
        .token(&user.token)
        .json(&json!({"status": "resolved"}))
        .send()
}

#[test]
fn a_partner_reports_and_the_admins_read_it_without_the_pairs_words() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        pairing,
        ..
    } = app.paired_program();
    // The pair wrote a private note first: it must never reach the admins.
    let noted = app
        .put(&format!("/v1/pairings/{}/check-ins/1", id(&pairing)))
        .token(&bea.token)
        .json(&json!({"rating": 4, "note": NOTE}))
        .send();
    assert_eq!(noted.status, 200, "{}", noted.text);
    let cleo_feed_before = app
        .get("/v1/me/notifications")
        .token(&cleo.token)
        .send()
        .body;

    let made = report(&app, &bea, &pairing, REASON);
    assert_eq!(made.status, 201, "{}", made.text);
    let expected = json!({
        "id": made.body["id"],
        "group_id": group["id"],
        "program_id": program["id"],
        "pairing_id": pairing["id"],
        "reporter": {"user_id": bea.id, "display_name": "Bea"},
        "reported": {"user_id": cleo.id, "display_name": "Cleo"},
        "reason": REASON,
        "status": "open",
        "created_at": made.body["created_at"],
        "resolved_at": null,
    });
    assert_eq!(made.body, expected);
    // The pairing goes on; Cleo is not told anything.
    let still = app
        .get(&format!("/v1/pairings/{}", id(&pairing)))
        .token(&cleo.token)
        .send();
    assert_eq!(still.body["status"], "active");
    assert!(!still.text.contains(REASON));
    let cleo_feed = app.get("/v1/me/notifications").token(&cleo.token).send();
    assert_eq!(cleo_feed.body, cleo_feed_before);
    assert!(!cleo_feed.text.contains(REASON));

    let listed = reports_of(&app, &ada, &group, "");
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(
        listed.body,
        json!({"items": [expected], "next_cursor": null})
    );
    assert!(!listed.text.contains(NOTE), "{}", listed.text);

    // Resolving: once; again changes nothing.
    let resolved = resolve(&app, &ada, &made.body);
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    assert_eq!(resolved.body["status"], "resolved");
    assert!(resolved.body["resolved_at"].is_string());
    let again = resolve(&app, &ada, &made.body);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body, resolved.body);
    assert!(!resolved.text.contains(NOTE));
}

#[test]
fn only_partners_report_and_only_admins_read_and_resolve() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_program();
    let dan = app.member(&group, "Dan");
    let stranger = app.register("Zed");
    let path = format!("/v1/pairings/{}/report", id(&pairing));
    let body = json!({ "reason": REASON });
    app.post(&path).json(&body).send().problem(401);
    for outsider in [&stranger, &dan] {
        app.post(&path)
            .token(&outsider.token)
            .json(&body)
            .send()
            .problem(404);
    }
    app.post(&path)
        .token(&ada.token)
        .json(&body)
        .send()
        .problem(403);
    for reason in ["", " \n ", &"x".repeat(1001)] {
        report(&app, &cleo, &pairing, reason).invalid_field("reason");
    }
    let made = report(&app, &cleo, &pairing, REASON).body;

    // Reading: a member is refused, a non-member learns nothing.
    let list_path = format!("/v1/groups/{}/reports", id(&group));
    app.get(&list_path).send().problem(401);
    for member in [&bea, &cleo, &dan] {
        reports_of(&app, member, &group, "").problem(403);
    }
    reports_of(&app, &stranger, &group, "").problem(404);
    // Another group's owner reads only their own group's reports.
    let other_owner = app.register("Olga");
    let other_group = app.create_group(&other_owner, "Elsewhere");
    let theirs = reports_of(&app, &other_owner, &other_group, "");
    assert_eq!(theirs.body["items"], json!([]), "{}", theirs.text);
    reports_of(&app, &other_owner, &group, "").problem(404);

    // Resolving: the same.
    resolve(&app, &dan, &made).problem(403);
    resolve(&app, &cleo, &made).problem(403);
    resolve(&app, &stranger, &made).problem(404);
    resolve(&app, &other_owner, &made).problem(404);
    app.patch("/v1/reports/00000000-0000-7000-8000-000000000000")
        .token(&ada.token)
        .json(&json!({"status": "resolved"}))
        .send()
        .problem(404);
    app.patch(&format!("/v1/reports/{}", id(&made)))
        .token(&ada.token)
        .json(&json!({"status": "open"}))
        .send()
        .invalid_field("status");
    // A group admin (not only the owner) resolves.
    app.set_role(&ada, &group, &dan, "admin");
    assert_eq!(resolve(&app, &dan, &made).status, 200);
}

#[test]
fn reports_come_newest_first_page_by_page_and_filter_by_status() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_program();
    // Either partner may report, more than once.
    assert_eq!(report(&app, &bea, &pairing, "first").status, 201);
    let second = report(&app, &cleo, &pairing, "second").body;
    assert_eq!(report(&app, &bea, &pairing, "third").status, 201);

    let page = reports_of(&app, &ada, &group, "?limit=2");
    assert_eq!(page.status, 200, "{}", page.text);
    let reasons = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| r["reason"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(reasons(&page.body), ["third", "second"]);
    let cursor = page.body["next_cursor"].as_str().expect("a next page");
    let rest = reports_of(&app, &ada, &group, &format!("?limit=2&cursor={cursor}"));
    assert_eq!(reasons(&rest.body), ["first"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    assert_eq!(resolve(&app, &ada, &second).status, 200);
    let open = reports_of(&app, &ada, &group, "?status=open");
    assert_eq!(reasons(&open.body), ["third", "first"]);
    let resolved = reports_of(&app, &ada, &group, "?status=resolved");
    assert_eq!(reasons(&resolved.body), ["second"]);
    assert!(resolved.body["items"][0]["resolved_at"].is_string());
    assert_eq!(reports_of(&app, &ada, &group, "?status=closed").status, 422);
    reports_of(&app, &ada, &group, "?limit=0").invalid_field("limit");
}

#[test]
fn an_ended_pairing_can_be_reported_and_a_removed_partner_cannot() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_program();
    let ended = app
        .post(&format!("/v1/pairings/{}/end", id(&pairing)))
        .token(&cleo.token)
        .json(&json!({"reason": "Moving abroad"}))
        .send();
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(report(&app, &bea, &pairing, REASON).status, 201);

    // Cleo is removed from the group: she can no longer report, and Bea's report about
    // her still reads for the admins, with her name.
    let removed = app
        .delete(&format!("/v1/groups/{}/members/{}", id(&group), cleo.id))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);
    report(&app, &cleo, &pairing, "one more thing").problem(404);
    let listed = reports_of(&app, &ada, &group, "");
    assert_eq!(listed.body["items"][0]["reported"]["display_name"], "Cleo");
    assert_eq!(
        listed.body["items"][0]["reporter"]["user_id"],
        json!(bea.id)
    );
}

#[test]
fn an_admin_who_is_reported_never_sees_the_report() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_program();
    app.set_role(&ada, &group, &cleo, "admin");
    let filed = report(&app, &bea, &pairing, REASON);
    assert_eq!(filed.status, 201, "{}", filed.text);
    let hers = reports_of(&app, &cleo, &group, "");
    assert_eq!(hers.status, 200, "{}", hers.text);
    assert_eq!(hers.body["items"], json!([]), "{}", hers.text);
    assert!(!hers.text.contains(REASON));
    resolve(&app, &cleo, &filed.body).problem(404);
    let theirs = reports_of(&app, &ada, &group, "");
    assert_eq!(theirs.body["items"][0]["reason"], REASON);
    assert_eq!(resolve(&app, &ada, &filed.body).status, 200);
}
