//! `tandem demo`: the demo community fills an empty database once, its logins work over
//! HTTP and show what the README promises; the generator makes the stated proportions of
//! rows, and its pairs follow the rules the API reads them by, busy members' full pages
//! among them.

use serde_json::{json, Value};
use tandem_api::demo::{community, generator};
use tandem_domain::clock::Clock;
use tandem_domain::template::Language;
use tandem_tests::db::connect;
use tandem_tests::TestApp;

/// Every table the demo writes to.
const TABLES: [&str; 10] = [
    "users",
    "community_groups",
    "memberships",
    "programs",
    "enrolments",
    "pairings",
    "check_in_entries",
    "messages",
    "notifications",
    "reports",
];

fn row_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut conn = connect(app.database_url());
    TABLES.iter().map(|t| (*t, conn.count(t))).collect()
}

fn log_in(app: &TestApp, email: &str, password: &str) -> String {
    let response = app
        .post("/v1/auth/login")
        .json(&json!({"email": email, "password": password}))
        .send();
    assert_eq!(response.status, 200, "log in {email}: {}", response.body);
    response.str("/access_token")
}

fn items(response: &tandem_tests::Response) -> Vec<Value> {
    response.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_demo_fills_an_empty_database_once_and_its_logins_show_the_story() {
    let app = TestApp::spawn();
    let db = app.open_database();
    let made = community::fill(&db, Language::En, app.clock.now()).expect("the demo");
    assert!(made.created);
    let login = |name: &str| {
        made.logins
            .iter()
            .find(|l| l.display_name == name)
            .unwrap_or_else(|| panic!("{name} is among the printed logins"))
            .email
            .clone()
    };

    // The mentee three weeks in: her pairing, its check-ins reached, their messages.
    let emma = log_in(&app, &login("Emma Clarke"), made.password);
    let pairings = app.get("/v1/me/pairings").token(&emma).send();
    assert_eq!(pairings.status, 200, "{}", pairings.body);
    let active: Vec<Value> = items(&pairings)
        .into_iter()
        .filter(|p| p["status"] == "active")
        .collect();
    assert_eq!(active.len(), 1, "{}", pairings.body);
    let pairing = active[0]["id"].as_str().expect("pairing id").to_owned();
    assert_eq!(active[0]["mentor"]["display_name"], "Priya Sharma");
    let check_ins = app
        .get(&format!("/v1/pairings/{pairing}/check-ins"))
        .token(&emma)
        .send();
    assert_eq!(check_ins.status, 200, "{}", check_ins.body);
    let states: Vec<String> = items(&check_ins)
        .iter()
        .map(|c| c["state"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        states[..4],
        ["completed", "completed", "completed", "due"],
        "{}",
        check_ins.body
    );
    let first = &items(&check_ins)[0];
    assert_eq!(first["entries"].as_array().map(Vec::len), Some(2));
    assert!(
        first["entries"]
            .as_array()
            .is_some_and(|e| e.iter().any(|entry| entry["note"].is_string())),
        "a partner reads the pair's notes: {first}"
    );
    let messages = app
        .get(&format!("/v1/pairings/{pairing}/messages"))
        .token(&emma)
        .send();
    assert_eq!(messages.status, 200, "{}", messages.body);
    assert_eq!(items(&messages).len(), 8);
    let notifications = app.get("/v1/me/notifications").token(&emma).send();
    let kinds: Vec<String> = items(&notifications)
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    for kind in [
        "matched",
        "enrolment_approved",
        "check_in_due",
        "new_messages",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }

    // The owner sees the report; the mentee in the ending program was told of the end.
    let maya = log_in(&app, &login("Maya Thompson"), made.password);
    let groups = app.get("/v1/groups").token(&maya).send();
    let group = items(&groups)[0]["id"].as_str().expect("group").to_owned();
    let reports = app
        .get(&format!("/v1/groups/{group}/reports"))
        .token(&maya)
        .send();
    assert_eq!(reports.status, 200, "{}", reports.body);
    assert_eq!(items(&reports).len(), 1, "{}", reports.body);
    let sophie = log_in(&app, &login("Sophie Turner"), made.password);
    let hers = app.get("/v1/me/pairings").token(&sophie).send();
    assert_eq!(items(&hers)[0]["status"], "completed", "{}", hers.body);
    // A member is refused the admins' reports.
    let refused = app
        .get(&format!("/v1/groups/{group}/reports"))
        .token(&emma)
        .send();
    assert_eq!(refused.status, 403, "{}", refused.body);

    // A second run finds the demo and writes nothing.
    let before = row_counts(&app);
    let again = community::fill(&db, Language::En, app.clock.now()).expect("the demo again");
    assert!(!again.created);
    assert_eq!(row_counts(&app), before);
}

#[test]
fn the_generator_makes_the_stated_proportions_of_pairs_that_follow_the_rules() {
    let app = TestApp::spawn();
    let db = app.open_database();
    let folder = tempfile::tempdir().expect("temporary folder");
    let options = generator::Options {
        scale: 0.01,
        seed: 7,
        out: folder.path().join("bench/users.json"),
    };
    let summary = generator::generate(&db, &options, app.clock.now()).expect("generate");
    let counts: std::collections::HashMap<&str, i64> = row_counts(&app).into_iter().collect();
    let c = summary.counts;
    // Scale 0.01 of 5,000 users, 10,000 enrolments, 4,000 pairings, 40,000 entries.
    assert_eq!(counts["users"], 50);
    assert_eq!(counts["enrolments"], 100);
    assert_eq!(counts["pairings"], 40);
    assert_eq!(counts["check_in_entries"], 400);
    assert_eq!(counts["messages"], 200);
    assert_eq!(counts["programs"], 2);
    assert_eq!(
        (c.users, c.enrolments, c.pairings, c.check_in_entries),
        (50, 100, 40, 400)
    );

    // The listing names real people and resources: a mentee reads her pair's check-ins,
    // five reached and completed by both partners.
    let listing: Value =
        serde_json::from_str(&std::fs::read_to_string(&options.out).expect("the credentials file"))
            .expect("JSON");
    let password = listing["password"].as_str().expect("password");
    let pair = &listing["pairings"][0];
    let mentee = log_in(
        &app,
        pair["mentee_email"].as_str().expect("email"),
        password,
    );
    let id = pair["id"].as_str().expect("pairing id");
    let check_ins = app
        .get(&format!("/v1/pairings/{id}/check-ins"))
        .token(&mentee)
        .send();
    assert_eq!(check_ins.status, 200, "{}", check_ins.body);
    let reached: Vec<Value> = items(&check_ins).into_iter().take(5).collect();
    assert!(
        reached
            .iter()
            .all(|c| c["state"] == "completed" && c["entries"].as_array().map(Vec::len) == Some(2)),
        "{}",
        check_ins.body
    );
    let messages = app
        .get(&format!("/v1/pairings/{id}/messages"))
        .token(&mentee)
        .send();
    assert_eq!(items(&messages).len(), 5);
    // Someone else's pairing stays closed to her.
    let other = listing["pairings"][1]["id"]
        .as_str()
        .expect("another pairing");
    let closed = app
        .get(&format!("/v1/pairings/{other}/messages"))
        .token(&mentee)
        .send();
    assert!(
        closed.status == 403 || closed.status == 404,
        "{}",
        closed.body
    );

    // The program for match suggestions has unpaired mentees and free mentors.
    let program = &listing["match_program"];
    let admin = log_in(
        &app,
        program["admin_email"].as_str().expect("admin"),
        password,
    );
    let suggestions = app
        .get(&format!(
            "/v1/programs/{}/match-suggestions",
            program["id"].as_str().expect("program id")
        ))
        .token(&admin)
        .send();
    assert_eq!(suggestions.status, 200, "{}", suggestions.body);
    assert!(!items(&suggestions).is_empty(), "{}", suggestions.body);

    // A busy member's first page of pairings is full.
    let busy = &listing["busy_members"];
    assert_eq!(busy.as_array().map(Vec::len), Some(1), "{busy}");
    assert!(busy[0]["pairings"].as_u64() >= Some(20), "{busy}");
    let member = log_in(&app, busy[0]["email"].as_str().expect("email"), password);
    let page = app.get("/v1/me/pairings?limit=20").token(&member).send();
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(items(&page).len(), 20, "{}", page.body);

    // Generating again into the same database is refused, and writes nothing.
    let before = row_counts(&app);
    assert!(generator::generate(&db, &options, app.clock.now()).is_err());
    assert_eq!(row_counts(&app), before);
}
