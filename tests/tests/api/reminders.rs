//! The reminder job: check-ins due in each partner's own day, missed check-ins and
//! completed pairings, each told exactly once, also from several nodes at once.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tandem_api::jobs::{run_once, JobReport};
use tandem_domain::clock::Clock;
use tandem_tests::{PairedProgram, TestApp, TestUser};

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
}

fn hours(n: i64) -> chrono::Duration {
    chrono::Duration::hours(n)
}

/// A Monday at 02:00 UTC: already the 4th in Rome (03:00), still the 3rd in Los Angeles.
const START: &str = "2030-03-04T02:00:00Z";

fn nothing_planned(report: JobReport) {
    assert_eq!(report, JobReport::default(), "a run with nothing due");
}

fn kinds(app: &TestApp, user: &TestUser, expected: &[(&str, usize)]) {
    let expected = expected
        .iter()
        .map(|(kind, n)| ((*kind).to_owned(), *n))
        .collect();
    assert_eq!(
        app.notification_kinds(user),
        expected,
        "{}",
        user.display_name
    );
}

#[test]
fn a_pair_follows_its_program_and_hears_of_each_event_once_in_their_own_day() {
    let app = TestApp::spawn();
    app.clock.set(at(START));
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        program,
        pairing,
        ..
    } = app.paired_short_program();

    // Bea's day (Rome) has begun; Cleo's (Los Angeles) has not.
    let first = app.run_jobs();
    assert_eq!((first.planned, first.sent), (1, 1));
    let due = app.notifications_of_kind(&bea, "check_in_due");
    assert_eq!(due.len(), 1);
    let data = &due[0]["data"];
    assert_eq!(data["pairing_id"], pairing["id"]);
    assert_eq!(data["program_name"], program["name"]);
    assert_eq!(data["number"], 1);
    assert_eq!(data["due_on"], "2030-03-04");
    assert_eq!(data["closes_on"], "2030-03-10");
    assert_eq!(data["topic_title"], program["weeks"][0]["title"]);
    assert_eq!(data["partner_display_name"], "Cleo");
    assert!(app.notifications_of_kind(&cleo, "check_in_due").is_empty());
    nothing_planned(app.run_jobs());

    // Midnight in Los Angeles is 08:00 UTC: not a minute before.
    app.clock.advance(chrono::Duration::minutes(5 * 60 + 58));
    nothing_planned(app.run_jobs());
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(app.run_jobs().sent, 1);
    let due = app.notifications_of_kind(&cleo, "check_in_due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0]["data"]["due_on"], "2030-03-04");
    assert_eq!(due[0]["data"]["partner_display_name"], "Bea");
    nothing_planned(app.run_jobs());

    // The first window closes at midnight in Rome, 23:00 UTC on the 10th: nobody
    // checked in, so both hear it was missed, and Bea that the second is due.
    app.clock
        .advance(hours(6 * 24 + 15) + chrono::Duration::minutes(1));
    assert_eq!(app.run_jobs().sent, 3);
    let missed = app.notifications_of_kind(&cleo, "check_in_missed");
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0]["data"]["number"], 1);
    assert_eq!(app.notifications_of_kind(&bea, "check_in_due").len(), 2);
    // Los Angeles moved its clocks on the 10th: its 11th begins at 07:00 UTC.
    app.clock.advance(hours(8));
    assert_eq!(app.run_jobs().sent, 1);
    let due = app.notifications_of_kind(&cleo, "check_in_due");
    assert_eq!(due[1]["data"]["number"], 2);
    assert_eq!(due[1]["data"]["topic_title"], program["weeks"][1]["title"]);

    // The last window closes at 23:00 UTC on the 17th.
    app.clock
        .advance(hours(6 * 24 + 15) + chrono::Duration::minutes(59));
    let last = app.run_jobs();
    assert_eq!((last.sent, last.completed), (4, 1));
    assert_eq!(app.pairing_as(&bea, &pairing)["status"], "completed");
    let completed = app.notifications_of_kind(&bea, "pairing_completed");
    assert_eq!(completed[0]["data"]["check_ins"], 2);
    assert_eq!(completed[0]["data"]["completed_check_ins"], 0);
    assert_eq!(completed[0]["data"]["partner_display_name"], "Cleo");
    nothing_planned(app.run_jobs());
    app.clock.advance(hours(24 * 30));
    nothing_planned(app.run_jobs());
    for partner in [&bea, &cleo] {
        kinds(
            &app,
            partner,
            &[
                ("check_in_due", 2),
                ("check_in_missed", 2),
                ("matched", 1),
                ("pairing_completed", 1),
            ],
        );
    }
}

#[test]
fn a_new_time_zone_moves_the_reminders_at_once() {
    let app = TestApp::spawn();
    app.clock.set(at(START));
    let PairedProgram { mentor: cleo, .. } = app.paired_short_program();
    assert_eq!(app.run_jobs().sent, 1);
    assert!(app.notifications_of_kind(&cleo, "check_in_due").is_empty());
    // In Kolkata the 4th began at 18:30 UTC on the 3rd: the check-in is due for Cleo now,
    // not at midnight in Los Angeles.
    app.set_time_zone(&cleo, "Asia/Kolkata");
    assert_eq!(app.run_jobs().sent, 1);
    assert_eq!(app.notifications_of_kind(&cleo, "check_in_due").len(), 1);
    app.clock.advance(hours(7));
    nothing_planned(app.run_jobs());
}

#[test]
fn a_completed_pairing_frees_the_mentor_before_any_job_runs_and_its_mentee_is_not_offered_again() {
    let app = TestApp::spawn();
    app.clock.set(at(START));
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentee_enrolment,
        mentor_enrolment,
        pairing,
    } = app.paired_short_program();
    let dan = app.member(&group, "Dan");
    let dan_enrolment = app.enrol_mentee(&dan, &program);
    let eve = app.member(&group, "Eve");
    app.enrol_mentor(&eve, &program, Some(2));

    // No job runs at all: the pairing reads completed when its last window closes.
    app.clock.advance(hours(15 * 24));
    assert_eq!(app.pairing_as(&cleo, &pairing)["status"], "completed");
    // Cleo's only place is free for Dan, and what the job owed is settled on the way.
    app.pair(
        &ada,
        &program,
        mentor_enrolment["id"].as_str().expect("id"),
        dan_enrolment["id"].as_str().expect("id"),
        "Dan, meet Cleo.",
    );
    for partner in [&bea, &cleo] {
        assert_eq!(
            app.notifications_of_kind(partner, "pairing_completed")
                .len(),
            1
        );
        // Due notices whose windows have closed are dropped; their misses are told.
        assert_eq!(
            app.notifications_of_kind(partner, "check_in_missed").len(),
            2
        );
    }
    // The job finds only the new pairing to plan, and repeats nothing.
    let run = app.run_jobs();
    assert_eq!(run.planned, 1);
    assert_eq!(run.completed, 0);
    assert_eq!(
        app.notifications_of_kind(&bea, "pairing_completed").len(),
        1
    );
    kinds(
        &app,
        &bea,
        &[
            ("check_in_missed", 2),
            ("matched", 1),
            ("pairing_completed", 1),
        ],
    );

    // Bea had her program: she is not suggested to Eve, who has room.
    let program_id = program["id"].as_str().expect("program id");
    let suggestions = app
        .get(&format!("/v1/programs/{program_id}/match-suggestions"))
        .token(&ada.token)
        .query("min_score", "0")
        .send();
    assert_eq!(suggestions.status, 200, "{}", suggestions.body);
    let offered: Vec<&Value> = suggestions.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| &item["mentee_enrolment_id"])
        .collect();
    assert!(!offered.contains(&&mentee_enrolment["id"]), "{offered:?}");
    let assignment = app
        .get(&format!(
            "/v1/programs/{program_id}/match-suggestions/assignment"
        ))
        .token(&ada.token)
        .query("min_score", "0")
        .send();
    assert_eq!(assignment.status, 200, "{}", assignment.body);
    assert!(assignment.body["pairings"]
        .as_array()
        .expect("pairings")
        .is_empty());
}

#[test]
fn ended_pairings_and_removed_members_hear_nothing_more() {
    let app = TestApp::spawn();
    app.clock.set(at(START));
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        pairing,
        ..
    } = app.paired_short_program();
    assert_eq!(app.run_jobs().sent, 1);
    let id = pairing["id"].as_str().expect("pairing id");
    let ended = app
        .post(&format!("/v1/pairings/{id}/end"))
        .token(&bea.token)
        .json(&json!({"reason": "We found we are too far apart"}))
        .send();
    assert_eq!(ended.status, 200, "{}", ended.text);
    app.clock.advance(hours(30 * 24));
    nothing_planned(app.run_jobs());
    kinds(&app, &bea, &[("check_in_due", 1), ("matched", 1)]);
    kinds(&app, &cleo, &[("matched", 1), ("pairing_ended", 1)]);

    // Dan is paired with Cleo, then removed from the group before his day begins.
    let dan = app.member(&group, "Dan");
    app.set_time_zone(&dan, "America/Los_Angeles");
    let program = app.create_open_program(
        &ada,
        &group,
        json!({"template_key": "new-parents", "duration_weeks": 2}),
    );
    let dan_enrolment = app.enrol_mentee(&dan, &program);
    let cleo_enrolment = app.enrol_mentor(&cleo, &program, Some(1));
    app.pair(
        &ada,
        &program,
        cleo_enrolment["id"].as_str().expect("id"),
        dan_enrolment["id"].as_str().expect("id"),
        "Dan, meet Cleo.",
    );
    let group_id = group["id"].as_str().expect("group id");
    let removed = app
        .delete(&format!("/v1/groups/{group_id}/members/{}", dan.id))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);
    app.clock.advance(hours(30 * 24));
    nothing_planned(app.run_jobs());
    kinds(&app, &dan, &[("matched", 1)]);
}

/// Three nodes run the job every few milliseconds on one database while three cron-like
/// runs start at the same instants, through a whole program in six-hour steps: every
/// event is told exactly once. (The nodes start after the pairs are made: on SQLite,
/// which serves one node, a request racing another process's write may be answered 503.)
#[test]
fn three_nodes_and_cron_runs_tell_each_event_exactly_once() {
    let app = TestApp::spawn();
    app.clock.set(at(START));
    // One mentor in Los Angeles with three mentees far apart.
    let ada = app.register("Ada");
    let group = app.create_group(&ada, "Parents");
    let program = app.create_open_program(
        &ada,
        &group,
        json!({"template_key": "new-parents", "duration_weeks": 2, "cadence_days": 7}),
    );
    let cleo = app.member(&group, "Cleo");
    app.set_time_zone(&cleo, "America/Los_Angeles");
    let cleo_enrolment = app.enrol_mentor(&cleo, &program, Some(3));
    let mut mentees = Vec::new();
    for (name, zone) in [
        ("Bea", "Europe/Rome"),
        ("Dan", "Asia/Kolkata"),
        ("Eve", "Pacific/Auckland"),
    ] {
        let mentee = app.member(&group, name);
        app.set_time_zone(&mentee, zone);
        let enrolment = app.enrol_mentee(&mentee, &program);
        app.pair(
            &ada,
            &program,
            cleo_enrolment["id"].as_str().expect("id"),
            enrolment["id"].as_str().expect("id"),
            "Meet your mentor.",
        );
        mentees.push(mentee);
    }
    let nodes: Vec<TestApp> = (0..3)
        .map(|_| app.node(Duration::from_millis(10)))
        .collect();
    let crons: Vec<tandem_persistence::Db> = (0..3).map(|_| app.open_database()).collect();

    // Through the last window's close (23:00 UTC on the 17th, in Rome).
    for _ in 0..(14 * 4) {
        app.clock.advance(hours(6));
        let now = app.clock.now();
        std::thread::scope(|scope| {
            for db in &crons {
                scope.spawn(move || run_once(db, now).expect("a cron run"));
            }
        });
        // Whatever the nodes held meanwhile is done when a run finds nothing due.
        let deadline = Instant::now() + Duration::from_secs(10);
        while app.run_jobs().planned > 0 {
            assert!(Instant::now() < deadline, "the job never caught up");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // Let the nodes run some more: nothing may come twice.
    std::thread::sleep(Duration::from_millis(100));
    kinds(
        &app,
        &cleo,
        &[
            ("check_in_due", 6),
            ("check_in_missed", 6),
            ("matched", 3),
            ("pairing_completed", 3),
        ],
    );
    for mentee in &mentees {
        kinds(
            &app,
            mentee,
            &[
                ("check_in_due", 2),
                ("check_in_missed", 2),
                ("matched", 1),
                ("pairing_completed", 1),
            ],
        );
    }
    let mut db = tandem_tests::db::connect(app.database_url());
    assert_eq!(db.count("notifications"), 36);
    assert_eq!(db.count("pairings WHERE status = 'completed'"), 3);
    assert_eq!(db.count("enrolments WHERE active_pairings <> 0"), 0);
    drop(nodes);
}

#[test]
fn auto_matching_does_not_pair_a_mentee_whose_pairing_completed() {
    let app = TestApp::spawn();
    app.clock.set(at(START));
    let tandem_tests::OpenProgram {
        member: bea,
        group,
        program,
        ..
    } = app.open_program(json!({"matching": "auto", "duration_weeks": 2, "cadence_days": 7}));
    app.enrol_mentee(&bea, &program);
    let cleo = app.member(&group, "Cleo");
    app.enrol_mentor(&cleo, &program, Some(1));
    let paired = app.get("/v1/me/pairings").token(&bea.token).send();
    assert_eq!(paired.body["items"].as_array().map(Vec::len), Some(1));
    app.clock.advance(hours(15 * 24));
    assert_eq!(app.run_jobs().completed, 1);

    let dan = app.member(&group, "Dan");
    app.enrol_mentor(&dan, &program, Some(1));
    let dans = app.get("/v1/me/pairings").token(&dan.token).send();
    assert_eq!(dans.status, 200, "{}", dans.text);
    assert_eq!(dans.body["items"], json!([]));
}

#[test]
fn a_pairing_that_cannot_be_planned_does_not_hold_back_the_others() {
    let app = TestApp::spawn();
    app.clock.set(at(START));
    let PairedProgram {
        admin: ada,
        mentee: bea,
        group,
        program,
        ..
    } = app.paired_short_program();
    let second = app.create_open_program(
        &ada,
        &group,
        json!({"template_key": "new-parents", "duration_weeks": 2}),
    );
    let dan = app.member(&group, "Dan");
    let eve = app.member(&group, "Eve");
    let dan_enrolment = app.enrol_mentee(&dan, &second);
    let eve_enrolment = app.enrol_mentor(&eve, &second, Some(1));
    app.pair(
        &ada,
        &second,
        eve_enrolment["id"].as_str().expect("id"),
        dan_enrolment["id"].as_str().expect("id"),
        "Dan, meet Eve.",
    );
    // The first program's stored guide no longer reads as a guide (still a JSON array:
    // the database counts its weeks, and would refuse text that is not JSON). Corrupt
    // data comes around the database's rules: here, the one that fixes a guide.
    let id = program["id"].as_str().expect("program id");
    let mut db = tandem_tests::db::connect(app.database_url());
    db.execute(match tandem_tests::db::backend() {
        "postgres" => "DROP TRIGGER programs_guide_fixed ON programs",
        _ => "DROP TRIGGER programs_guide_fixed",
    });
    db.execute(&format!(
        r#"UPDATE programs SET weeks = '[{{"not": "a week"}}, {{}}]' WHERE id = '{id}'"#
    ));

    let run = app.run_jobs();
    assert_eq!((run.planned, run.failed), (2, 1));
    assert!(app.notifications_of_kind(&bea, "check_in_due").is_empty());
    assert_eq!(app.notifications_of_kind(&dan, "check_in_due").len(), 1);
    // It is tried again later, not on every run.
    nothing_planned(app.run_jobs());
}
