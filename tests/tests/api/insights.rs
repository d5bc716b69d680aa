//! Program insights: a program's health for its admins, without anyone's words.

use serde_json::{json, Value};
use tandem_tests::{PairedProgram, TestApp};

fn instant(raw: &str) -> chrono::DateTime<chrono::Utc> {
    raw.parse().expect("an RFC 3339 instant")
}

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

#[test]
fn admins_see_how_the_program_is_going_without_private_text() {
    let app = TestApp::spawn();
    app.clock.set(instant("2027-02-01T10:00:00Z"));
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentor_enrolment,
        pairing,
        ..
    } = app.short_program(3, "UTC", "UTC", "2027-03-01T10:00:00Z");
    let secret = "Our secret about the night feeds";
    for (user, rating) in [(&bea, 4), (&cleo, 2)] {
        let entry = app
            .put(&format!("/v1/pairings/{}/check-ins/1", id(&pairing)))
            .token(&user.token)
            .json(&json!({"rating": rating, "note": secret}))
            .send();
        assert_eq!(entry.status, 200, "{}", entry.text);
    }
    // Dana enrols now and is paired with Cleo two days later; Eve waits; Finn mentors idle.
    let dana = app.member(&group, "Dana");
    let dana_enrolment = app.enrol_mentee(&dana, &program);
    let eve = app.member(&group, "Eve");
    app.enrol_mentee(&eve, &program);
    let finn = app.member(&group, "Finn");
    app.enrol_mentor(&finn, &program, Some(1));
    app.clock.set(instant("2027-03-03T10:00:00Z"));
    app.pair(
        &ada,
        &program,
        id(&mentor_enrolment),
        id(&dana_enrolment),
        "Dana, meet Cleo.",
    );

    app.clock.set(instant("2027-03-16T12:00:00Z"));
    let path = format!("/v1/programs/{}/insights", id(&program));
    let seen = app.get(&path).token(&ada.token).send();
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(!seen.text.contains(secret), "{}", seen.text);
    let body = &seen.body;
    assert_eq!(body["enrolments"]["mentors"]["active"], 2);
    assert_eq!(body["enrolments"]["mentees"]["active"], 3);
    assert_eq!(body["enrolments"]["mentees"]["pending"], 0);
    assert_eq!(
        body["pairings"],
        json!({"active": 2, "completed": 0, "ended": 0})
    );
    // Bea waited 28 days, Dana 2.
    assert_eq!(body["median_days_to_pairing"], 15.0);
    assert_eq!(
        body["mentor_load"],
        json!({"mentors": 2, "places": 3, "taken": 2, "full": 1, "idle": 1, "utilisation": 0.667})
    );
    let weeks = body["weeks"].as_array().expect("weeks");
    assert_eq!(weeks.len(), 3);
    assert_eq!(weeks[0]["title"], program["weeks"][0]["title"]);
    assert_eq!(
        (
            &weeks[0]["reached"],
            &weeks[0]["completed"],
            &weeks[0]["completion_rate"]
        ),
        (&json!(2), &json!(1), &json!(0.5))
    );
    assert_eq!(weeks[0]["average_rating"], 3.0);
    assert_eq!(
        (&weeks[1]["reached"], &weeks[1]["completion_rate"]),
        (&json!(2), &json!(0.0))
    );
    assert_eq!(
        (&weeks[2]["reached"], &weeks[2]["average_rating"]),
        (&json!(1), &Value::Null)
    );
    // Bea and Cleo have been quiet for two weeks; Dana's pairing is thirteen days old.
    assert_eq!(body["at_risk_pairings"], 1);

    // When the schedules run out, the pairings read completed, job or no job.
    app.clock.set(instant("2027-03-25T00:00:00Z"));
    let later = app.get(&path).token(&ada.token).send();
    assert_eq!(
        later.body["pairings"],
        json!({"active": 0, "completed": 2, "ended": 0})
    );
    assert_eq!(later.body["at_risk_pairings"], 0);
    // Their places are free again, before any job has recorded the completions.
    assert_eq!(later.body["mentor_load"]["taken"], 0);
    assert_eq!(later.body["mentor_load"]["idle"], 2);
}

#[test]
fn only_the_groups_admins_read_insights() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        program,
        ..
    } = app.paired_program();
    let path = format!("/v1/programs/{}/insights", id(&program));
    app.get(&path).token(&bea.token).send().problem(403);
    app.get(&path).token(&cleo.token).send().problem(403);
    let stranger = app.register("Eve");
    app.get(&path).token(&stranger.token).send().problem(404);
    app.get(&path).send().problem(401);
    app.get("/v1/programs/0193f1d2-6c1e-7a41-9d4b-2f0a8e5c3b71/insights")
        .token(&bea.token)
        .send()
        .problem(404);
}
