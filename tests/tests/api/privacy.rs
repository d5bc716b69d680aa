//! The privacy walk: every operation of the pair space, check-ins and insights, asked by
//! every kind of caller. Notes and messages reach the two partners and nobody else.

use serde_json::{json, Value};
use tandem_tests::{PairedProgram, TestApp, TestUser};

const NOTE: &str = "Private note: the night feeds are hard";
const MESSAGE: &str = "Private message: can we talk on Sunday?";
const REPORT: &str = "Report reason: missed three calls";

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

/// Who asks.
struct Caller<'a> {
    name: &'static str,
    user: Option<&'a TestUser>,
    partner: bool,
}

/// What each kind of caller gets, in the order of the callers in `walk`.
struct Expect {
    method: &'static str,
    path: String,
    body: Option<Value>,
    statuses: [u16; 7],
}

#[test]
fn notes_and_messages_reach_only_the_two_partners() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentee: bea,
        mentor: cleo,
        group,
        program,
        mentor_enrolment,
        pairing,
        ..
    } = app.paired_program();
    // Another pair in the same program, a plain member and a stranger.
    let dana = app.member(&group, "Dana");
    let dana_enrolment = app.enrol_mentee(&dana, &program);
    app.pair(
        &ada,
        &program,
        id(&mentor_enrolment),
        id(&dana_enrolment),
        "Dana, meet Cleo.",
    );
    let finn = app.member(&group, "Finn");
    let stranger = app.register("Eve");

    let pairing_id = id(&pairing).to_owned();
    let noted = app
        .put(&format!("/v1/pairings/{pairing_id}/check-ins/1"))
        .token(&bea.token)
        .json(&json!({"rating": 4, "note": NOTE}))
        .send();
    assert_eq!(noted.status, 200, "{}", noted.text);
    let said = app
        .post(&format!("/v1/pairings/{pairing_id}/messages"))
        .token(&cleo.token)
        .json(&json!({"body": MESSAGE}))
        .send();
    assert_eq!(said.status, 201, "{}", said.text);
    let reported = app
        .post(&format!("/v1/pairings/{pairing_id}/report"))
        .token(&bea.token)
        .json(&json!({"reason": REPORT}))
        .send();
    assert_eq!(reported.status, 201, "{}", reported.text);
    let report_id = id(&reported.body).to_owned();

    // Dana is a partner too, of the other pairing: for this one she is nobody.
    let callers = [
        Caller {
            name: "anonymous",
            user: None,
            partner: false,
        },
        Caller {
            name: "stranger",
            user: Some(&stranger),
            partner: false,
        },
        Caller {
            name: "member",
            user: Some(&finn),
            partner: false,
        },
        Caller {
            name: "other pair's partner",
            user: Some(&dana),
            partner: false,
        },
        Caller {
            name: "admin",
            user: Some(&ada),
            partner: false,
        },
        Caller {
            name: "mentee",
            user: Some(&bea),
            partner: true,
        },
        Caller {
            name: "mentor",
            user: Some(&cleo),
            partner: true,
        },
    ];
    let group_id = id(&group).to_owned();
    let program_id = id(&program).to_owned();
    let expectations = [
        Expect {
            method: "GET",
            path: format!("/v1/pairings/{pairing_id}/messages"),
            body: None,
            statuses: [401, 404, 404, 404, 403, 200, 200],
        },
        Expect {
            method: "POST",
            path: format!("/v1/pairings/{pairing_id}/messages"),
            body: Some(json!({"body": "Hello from the walk"})),
            statuses: [401, 404, 404, 404, 403, 201, 201],
        },
        Expect {
            method: "GET",
            path: format!("/v1/pairings/{pairing_id}/check-ins"),
            body: None,
            statuses: [401, 404, 404, 404, 200, 200, 200],
        },
        Expect {
            method: "PUT",
            path: format!("/v1/pairings/{pairing_id}/check-ins/1"),
            body: Some(json!({"rating": 5, "note": NOTE})),
            statuses: [401, 404, 404, 404, 403, 200, 200],
        },
        Expect {
            method: "GET",
            path: format!("/v1/pairings/{pairing_id}"),
            body: None,
            statuses: [401, 404, 404, 404, 200, 200, 200],
        },
        Expect {
            method: "POST",
            path: format!("/v1/pairings/{pairing_id}/report"),
            body: Some(json!({"reason": "Another concern"})),
            statuses: [401, 404, 404, 404, 403, 201, 201],
        },
        Expect {
            method: "GET",
            path: format!("/v1/groups/{group_id}/reports"),
            body: None,
            statuses: [401, 404, 403, 403, 200, 403, 403],
        },
        Expect {
            method: "PATCH",
            path: format!("/v1/reports/{report_id}"),
            body: Some(json!({"status": "resolved"})),
            statuses: [401, 404, 403, 403, 200, 403, 403],
        },
        Expect {
            method: "GET",
            path: format!("/v1/programs/{program_id}/insights"),
            body: None,
            statuses: [401, 404, 403, 403, 200, 403, 403],
        },
        Expect {
            method: "GET",
            path: "/v1/me/check-ins".into(),
            body: None,
            statuses: [401, 200, 200, 200, 200, 200, 200],
        },
        Expect {
            method: "GET",
            path: "/v1/me/notifications".into(),
            body: None,
            statuses: [401, 200, 200, 200, 200, 200, 200],
        },
        Expect {
            method: "GET",
            path: "/v1/me/pairings".into(),
            body: None,
            statuses: [401, 200, 200, 200, 200, 200, 200],
        },
        // Refusals only: the partners' own block comes last, below.
        Expect {
            method: "POST",
            path: format!("/v1/pairings/{pairing_id}/block"),
            body: Some(json!({"reason": "Walk"})),
            statuses: [401, 404, 404, 404, 403, 0, 0],
        },
    ];
    let mut partners_saw = (false, false);
    for expect in &expectations {
        for (caller, &status) in callers.iter().zip(expect.statuses.iter()) {
            if status == 0 {
                continue;
            }
            let mut request = app.request(expect.method, &expect.path);
            if let Some(user) = caller.user {
                request = request.token(&user.token);
            }
            if let Some(body) = &expect.body {
                request = request.json(body);
            }
            let answer = request.send();
            let what = format!("{} {} as {}", expect.method, expect.path, caller.name);
            assert_eq!(answer.status, status, "{what}: {}", answer.text);
            let shows_private = answer.text.contains(NOTE) || answer.text.contains(MESSAGE);
            if caller.partner {
                partners_saw.0 |= answer.text.contains(NOTE);
                partners_saw.1 |= answer.text.contains(MESSAGE);
            } else {
                assert!(!shows_private, "{what} shows private text: {}", answer.text);
            }
            // The admins read the report's reason, never the conversation; nobody else
            // reads it, the reported partner least of all.
            let reads_reports = caller.name == "admin" && expect.path.contains("/reports");
            if reads_reports && expect.method == "GET" {
                assert!(answer.text.contains(REPORT), "{what}: {}", answer.text);
            }
            if answer.text.contains(REPORT) {
                assert!(reads_reports, "{what} shows the report: {}", answer.text);
            }
        }
    }
    assert!(
        partners_saw.0 && partners_saw.1,
        "the partners read their note and messages"
    );

    // The feeds: a partner's calendar holds no note either.
    for user in [&bea, &cleo, &dana] {
        let token = app.post("/v1/me/calendar-token").token(&user.token).send();
        assert_eq!(token.status, 201, "{}", token.text);
        let feed = app
            .get("/v1/me/calendar.ics")
            .query("token", &token.str("/token"))
            .send();
        assert_eq!(feed.status, 200);
        assert!(!feed.text.contains(NOTE) && !feed.text.contains(MESSAGE));
    }

    // Finally a partner blocks: the blocked one is told only that the pairing ended.
    let blocked = app
        .post(&format!("/v1/pairings/{pairing_id}/block"))
        .token(&bea.token)
        .json(&json!({"reason": "Secret block reason"}))
        .send();
    assert_eq!(blocked.status, 200, "{}", blocked.text);
    let told = app.get("/v1/me/notifications").token(&cleo.token).send();
    assert!(!told.text.contains("Secret block reason"), "{}", told.text);
    assert!(!told.text.to_lowercase().contains("block"), "{}", told.text);
    // The space stays readable to both, and read-only.
    for user in [&bea, &cleo] {
        let read = app
            .get(&format!("/v1/pairings/{pairing_id}/messages"))
            .token(&user.token)
            .send();
        assert!(read.text.contains(MESSAGE), "{}", read.text);
        app.post(&format!("/v1/pairings/{pairing_id}/messages"))
            .token(&user.token)
            .json(&json!({"body": "Still there?"}))
            .send()
            .problem(409);
    }
}
