//! Pairing invariants under concurrent requests.
//!
//! Many clients (several admins' tabs, retries, a published assignment racing a manual
//! pairing) may pair the same people at once. Whatever the interleaving, on SQLite and on
//! PostgreSQL: a mentee has at most one active pairing per program, a mentor never has
//! more active pairings than their capacity, a batch lands whole or not at all, and the
//! losers get a clean `409` problem, never a `500`. And requests without a precondition
//! never fail for having raced each other: without `If-Match` the last write wins.
//! And a block racing a pairing of the same two in another program of the group never
//! leaves them paired (PostgreSQL, where the two can commit at the same instant).

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_tests::answers::new_parent_answers;
use tandem_tests::scenarios::INTRODUCTION;
use tandem_tests::templates::book_club;
use tandem_tests::{OpenProgram, Request, Response, TestApp, TestUser};

/// How many requests race in the first test.
const RACERS: usize = 50;

fn program_id(program: &Value) -> &str {
    program["id"].as_str().expect("program id")
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

fn pairing(mentor: &str, mentee: &str) -> Value {
    json!({
        "mentor_enrolment_id": mentor,
        "mentee_enrolment_id": mentee,
        "introduction": "Meet your partner: you have a lot in common.",
    })
}

/// Sends every `(path, body)` as a POST from a thread of its own, all released together
/// by a barrier; answers the responses in the order given.
fn post_all_at_once(app: &TestApp, token: &str, calls: &[(String, Value)]) -> Vec<Response> {
    send_all_at_once(
        calls
            .iter()
            .map(|(path, body)| app.post(path).token(token).json(body))
            .collect(),
    )
}

/// Sends every request from a thread of its own, all released together by a barrier;
/// answers the responses in the order given.
fn send_all_at_once(requests: Vec<Request>) -> Vec<Response> {
    send_staggered(requests.into_iter().map(|r| (Duration::ZERO, r)).collect())
}

/// Like [`send_all_at_once`], each request sent its delay after the barrier: a sweep of
/// small delays lands the racers' transactions at many different overlaps.
fn send_staggered(requests: Vec<(Duration, Request)>) -> Vec<Response> {
    let barrier = Barrier::new(requests.len());
    std::thread::scope(|scope| {
        let threads: Vec<_> = requests
            .into_iter()
            .map(|(delay, request)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    if !delay.is_zero() {
                        std::thread::sleep(delay);
                    }
                    request.send()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().expect("a request thread panicked"))
            .collect()
    })
}

/// Asserts `created` answers of 201 and problem+json 409 for all the others, with a
/// readable account of every answer otherwise.
fn assert_outcome(responses: &[Response], created: usize) {
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for response in responses {
        *statuses.entry(response.status).or_default() += 1;
    }
    let unexpected: Vec<String> = responses
        .iter()
        .filter(|r| r.status != 201 && r.status != 409)
        .map(|r| format!("{} {}", r.status, r.text))
        .collect();
    assert!(
        unexpected.is_empty(),
        "statuses {statuses:?}; unexpected answers: {unexpected:#?}"
    );
    assert_eq!(
        statuses.get(&201).copied().unwrap_or(0),
        created,
        "statuses {statuses:?}"
    );
    for response in responses.iter().filter(|r| r.status != 201) {
        response.problem(409);
    }
}

/// The program's active pairings, as an admin sees them.
fn active_pairings(app: &TestApp, admin: &TestUser, program: &Value) -> Vec<Value> {
    let response = app
        .get(&format!("/v1/programs/{}/pairings", program_id(program)))
        .token(&admin.token)
        .query("status", "active")
        .query("limit", "100")
        .send();
    assert_eq!(response.status, 200, "list pairings: {}", response.text);
    assert!(response.body["next_cursor"].is_null(), "one page is enough");
    response.body["items"]
        .as_array()
        .expect("a list of pairings")
        .clone()
}

/// Ranked suggestions: `(mentee enrolment id, [mentor enrolment ids])`.
fn suggested(app: &TestApp, admin: &TestUser, program: &Value) -> Vec<(String, Vec<String>)> {
    let response = app
        .get(&format!(
            "/v1/programs/{}/match-suggestions",
            program_id(program)
        ))
        .token(&admin.token)
        .query("per_mentee", "20")
        .send();
    assert_eq!(response.status, 200, "suggestions: {}", response.text);
    response.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let mentors = item["candidates"]
                .as_array()
                .expect("candidates")
                .iter()
                .map(|c| {
                    c["mentor_enrolment_id"]
                        .as_str()
                        .expect("mentor")
                        .to_owned()
                })
                .collect();
            (
                item["mentee_enrolment_id"]
                    .as_str()
                    .expect("mentee")
                    .to_owned(),
                mentors,
            )
        })
        .collect()
}

fn mentee_of(pairing: &Value) -> &str {
    pairing["mentee"]["enrolment_id"]
        .as_str()
        .expect("mentee enrolment id")
}

fn mentor_of(pairing: &Value) -> &str {
    pairing["mentor"]["enrolment_id"]
        .as_str()
        .expect("mentor enrolment id")
}

#[test]
fn fifty_concurrent_pairings_of_one_mentee_make_exactly_one() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        group,
        program,
        ..
    } = app.open_program(json!({"matching": "admin"}));
    let mentee_user = app.member(&group, "Mila");
    let mentee = id(&app.enrol_mentee(&mentee_user, &program));
    // Mentors with one place each: a failed attempt that leaked a taken place would
    // show up below as a mentor missing from the suggestions.
    let mentors: Vec<String> = (0..5)
        .map(|n| {
            let user = app.member(&group, &format!("Mentor{n}"));
            id(&app.enrol_mentor(&user, &program, Some(1)))
        })
        .collect();
    let path = format!("/v1/programs/{}/pairings", program_id(&program));
    let calls: Vec<(String, Value)> = (0..RACERS)
        .map(|n| (path.clone(), pairing(&mentors[n % mentors.len()], &mentee)))
        .collect();

    let started = Instant::now();
    let responses = post_all_at_once(&app, &ada.token, &calls);
    let elapsed = started.elapsed();

    assert_outcome(&responses, 1);
    let made = responses
        .iter()
        .find(|r| r.status == 201)
        .expect("one pairing was made");
    assert_eq!(made.body["status"], "active");
    assert_eq!(made.body["mentee"]["enrolment_id"], mentee.as_str());
    let winner = made.body["mentor"]["enrolment_id"]
        .as_str()
        .expect("mentor")
        .to_owned();

    let active = active_pairings(&app, &ada, &program);
    assert_eq!(active.len(), 1, "exactly one active pairing: {active:#?}");
    assert_eq!(active[0]["id"], made.body["id"]);
    assert_eq!(mentee_of(&active[0]), mentee);

    // The counters behind suggestions agree with the rows: the paired mentee waits no
    // more, the winning mentor is full and the four others still have their place.
    let newcomer = app.member(&group, "Nina");
    let newcomer = id(&app.enrol_mentee(&newcomer, &program));
    let suggestions = suggested(&app, &ada, &program);
    assert_eq!(
        suggestions.len(),
        1,
        "only the newcomer waits: {suggestions:?}"
    );
    assert_eq!(suggestions[0].0, newcomer);
    let mut free: Vec<String> = suggestions[0].1.clone();
    free.sort();
    let mut expected: Vec<String> = mentors.iter().filter(|m| **m != winner).cloned().collect();
    expected.sort();
    assert_eq!(free, expected, "the mentors with a free place");
    assert!(
        elapsed.as_secs() < 20,
        "{RACERS} concurrent pairings took {elapsed:?}"
    );
}

#[test]
fn a_mentor_is_never_filled_past_capacity() {
    const MENTEES: usize = 15;
    const CAPACITY: u8 = 3;
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        group,
        program,
        ..
    } = app.open_program(json!({"matching": "admin"}));
    let mentor_user = app.member(&group, "Marta");
    let mentor = id(&app.enrol_mentor(&mentor_user, &program, Some(CAPACITY)));
    let mentees: Vec<String> = (0..MENTEES)
        .map(|n| {
            let user = app.member(&group, &format!("Mentee{n}"));
            id(&app.enrol_mentee(&user, &program))
        })
        .collect();
    let path = format!("/v1/programs/{}/pairings", program_id(&program));
    let calls: Vec<(String, Value)> = mentees
        .iter()
        .map(|mentee| (path.clone(), pairing(&mentor, mentee)))
        .collect();

    let responses = post_all_at_once(&app, &ada.token, &calls);

    assert_outcome(&responses, usize::from(CAPACITY));
    let active = active_pairings(&app, &ada, &program);
    assert_eq!(
        active.len(),
        usize::from(CAPACITY),
        "the mentor's active pairings: {active:#?}"
    );
    assert!(active.iter().all(|p| mentor_of(p) == mentor));
    let mut paired: Vec<&str> = active.iter().map(mentee_of).collect();
    paired.sort_unstable();
    paired.dedup();
    assert_eq!(
        paired.len(),
        usize::from(CAPACITY),
        "three different mentees"
    );
    let mut created: Vec<&str> = responses
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| mentee_of(&r.body))
        .collect();
    created.sort_unstable();
    assert_eq!(created, paired, "the 201s are the pairings that exist");

    // The mentor is full for suggestions and for a later attempt too.
    let suggestions = suggested(&app, &ada, &program);
    assert_eq!(suggestions.len(), MENTEES - usize::from(CAPACITY));
    assert!(
        suggestions.iter().all(|(_, mentors)| mentors.is_empty()),
        "a full mentor is suggested: {suggestions:?}"
    );
    let waiting = &suggestions[0].0;
    app.post(&path)
        .token(&ada.token)
        .json(&pairing(&mentor, waiting))
        .send()
        .problem(409);
    assert_eq!(active_pairings(&app, &ada, &program).len(), 3);
}

#[test]
fn concurrent_batches_sharing_a_mentee_publish_exactly_one() {
    const BATCHES: usize = 10;
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        group,
        program,
        ..
    } = app.open_program(json!({"matching": "admin"}));
    let mentor_user = app.member(&group, "Marta");
    // Room for one batch of two, and one place more.
    let mentor = id(&app.enrol_mentor(&mentor_user, &program, Some(3)));
    let shared_user = app.member(&group, "Sara");
    let shared = id(&app.enrol_mentee(&shared_user, &program));
    let own: Vec<String> = (0..BATCHES)
        .map(|n| {
            let user = app.member(&group, &format!("Mentee{n}"));
            id(&app.enrol_mentee(&user, &program))
        })
        .collect();
    let path = format!("/v1/programs/{}/pairings/batch", program_id(&program));
    // Each batch pairs a mentee of its own first, then the shared one.
    let calls: Vec<(String, Value)> = own
        .iter()
        .map(|mentee| {
            (
                path.clone(),
                json!({"pairings": [
                    {"mentor_enrolment_id": mentor, "mentee_enrolment_id": mentee},
                    {"mentor_enrolment_id": mentor, "mentee_enrolment_id": shared},
                ]}),
            )
        })
        .collect();

    let responses = post_all_at_once(&app, &ada.token, &calls);

    assert_outcome(&responses, 1);
    let (winner, published) = responses
        .iter()
        .enumerate()
        .find(|(_, r)| r.status == 201)
        .expect("one batch was published");
    let items = published.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(mentee_of(&items[0]), own[winner]);
    assert_eq!(mentee_of(&items[1]), shared);

    // Only the winning batch's two pairings exist: the losers left nothing behind.
    let active = active_pairings(&app, &ada, &program);
    let mut paired: Vec<&str> = active.iter().map(mentee_of).collect();
    paired.sort_unstable();
    let mut expected = vec![own[winner].as_str(), shared.as_str()];
    expected.sort_unstable();
    assert_eq!(paired, expected, "active pairings: {active:#?}");

    // Every other mentee still waits, and the mentor has exactly one place left.
    let suggestions = suggested(&app, &ada, &program);
    assert_eq!(suggestions.len(), BATCHES - 1);
    assert!(suggestions.iter().all(|(mentee, mentors)| {
        *mentee != own[winner] && *mentee != shared && mentors == &vec![mentor.clone()]
    }));
    let single = format!("/v1/programs/{}/pairings", program_id(&program));
    let response = app
        .post(&single)
        .token(&ada.token)
        .json(&pairing(&mentor, &suggestions[0].0))
        .send();
    assert_eq!(response.status, 201, "the last place: {}", response.text);
    app.post(&single)
        .token(&ada.token)
        .json(&pairing(&mentor, &suggestions[1].0))
        .send()
        .problem(409);
}

/// How many unconditional updates of one resource race.
const PATCHERS: usize = 32;

/// The body of the n-th of several racing updates.
type BodyFor<'a> = &'a dyn Fn(usize) -> Value;

/// The answers other than 200, as `what: status body`. None of the updates sent
/// `If-Match`, so none may fail for having raced another (no 409, no 412).
fn failures(what: &str, responses: &[Response]) -> Vec<String> {
    responses
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| format!("{what}: {} {}", r.status, r.text))
        .collect()
}

#[test]
fn concurrent_profile_updates_without_if_match_all_land() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let requests = (0..PATCHERS)
        .map(|n| {
            app.patch("/v1/me")
                .token(&ada.token)
                .json(&json!({"display_name": format!("Ada {n}")}))
        })
        .collect();

    let failed = failures("PATCH /v1/me", &send_all_at_once(requests));
    assert!(
        failed.is_empty(),
        "{} of {PATCHERS} failed: {failed:#?}",
        failed.len()
    );

    // Each update applied over the one before: one name sent, one version per update.
    let me = app.get("/v1/me").token(&ada.token).send();
    assert!(
        me.body["display_name"]
            .as_str()
            .is_some_and(|name| name.starts_with("Ada ")),
        "{}",
        me.text
    );
    let expected = format!("\"{}\"", PATCHERS + 1);
    assert_eq!(me.header("etag"), Some(expected.as_str()));
}

#[test]
fn every_patch_without_if_match_wins_instead_of_conflicting() {
    const N: usize = PATCHERS / 2;
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({"matching": "admin"}));
    let group_id = id(&group);
    let cleo = app.member(&group, "Cleo");
    let dan = app.member(&group, "Dan");
    let mentee = id(&app.enrol_mentee(&bea, &program));
    let mentor = id(&app.enrol_mentor(&cleo, &program, Some(2)));
    let paired = app
        .post(&format!("/v1/programs/{}/pairings", program_id(&program)))
        .token(&ada.token)
        .json(&pairing(&mentor, &mentee))
        .send();
    assert_eq!(paired.status, 201, "{}", paired.text);
    let notification = app
        .get("/v1/me/notifications")
        .token(&bea.token)
        .send()
        .str("/items/0/id");
    let dans = id(&app.enrol_mentee(&dan, &program));
    let template = app
        .post(&format!("/v1/groups/{group_id}/templates"))
        .token(&ada.token)
        .json(&book_club())
        .send();
    assert_eq!(template.status, 201, "{}", template.text);

    let group_path = format!("/v1/groups/{group_id}");
    let member_path = format!("/v1/groups/{group_id}/members/{}", cleo.id);
    let program_path = format!("/v1/programs/{}", program_id(&program));
    let enrolment_path = format!("/v1/enrolments/{dans}");
    let template_path = format!("/v1/groups/{group_id}/templates/book-club");
    let notification_path = format!("/v1/me/notifications/{notification}");
    let cases: [(&str, &TestUser, BodyFor<'_>); 6] = [
        (
            &group_path,
            &ada,
            &|n| json!({"name": format!("Parents {n}")}),
        ),
        (
            &member_path,
            &ada,
            &|n| json!({"role": if n % 2 == 0 { "admin" } else { "member" }}),
        ),
        (
            &program_path,
            &ada,
            &|n| json!({"name": format!("Program {n}")}),
        ),
        // Withdrawing again is no change, and no conflict either.
        (&enrolment_path, &dan, &|_| json!({"status": "withdrawn"})),
        (
            &template_path,
            &ada,
            &|n| json!({"name": format!("Book club {n}")}),
        ),
        (&notification_path, &bea, &|n| json!({"read": n % 2 == 0})),
    ];
    let mut failed = Vec::new();
    for (path, user, body) in cases {
        let requests = (0..N)
            .map(|n| app.patch(path).token(&user.token).json(&body(n)))
            .collect();
        failed.extend(failures(
            &format!("PATCH {path}"),
            &send_all_at_once(requests),
        ));
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// How many rounds race a block against a pairing of the same two elsewhere.
const BLOCK_ROUNDS: usize = 20;

/// What went wrong in one round of the block race, if anything.
fn block_race_round(
    app: &TestApp,
    ada: &TestUser,
    group: &Value,
    (first, second): (&Value, &Value),
    round: usize,
) -> Option<String> {
    let bea = app.member(group, &format!("Bea{round}"));
    let cleo = app.member(group, &format!("Cleo{round}"));
    let mentor_first = id(&app.enrol_mentor(&cleo, first, Some(1)));
    let mentee_first = id(&app.enrol_mentee(&bea, first));
    let paired = app.pair(ada, first, &mentor_first, &mentee_first, INTRODUCTION);
    let mentor = id(&app.enrol_mentor(&cleo, second, Some(1)));
    let mentee = id(&app.enrol_mentee(&bea, second));
    // Rounds sweep who starts first and by how much (0 to 1.2 ms either way).
    let offset = Duration::from_micros(300 * (round % 5) as u64);
    let (block_delay, pair_delay) = if round.is_multiple_of(2) {
        (Duration::ZERO, offset)
    } else {
        (offset, Duration::ZERO)
    };
    let block = app
        .post(&format!("/v1/pairings/{}/block", id(&paired)))
        .token(&bea.token)
        .json(&json!({"reason": "He kept pressing me for my address"}));
    // One round in three publishes it as a batch, which locks its members up front.
    let batch = round % 3 == 2;
    let pair = if batch {
        app.post(&format!(
            "/v1/programs/{}/pairings/batch",
            program_id(second)
        ))
        .token(&ada.token)
        .json(&json!({"pairings": [pairing(&mentor, &mentee)]}))
    } else {
        app.post(&format!("/v1/programs/{}/pairings", program_id(second)))
            .token(&ada.token)
            .json(&pairing(&mentor, &mentee))
    };
    let [blocked, made]: [Response; 2] =
        send_staggered(vec![(block_delay, block), (pair_delay, pair)])
            .try_into()
            .expect("two answers");

    if blocked.status != 200 || blocked.body["status"] != "ended" {
        return Some(format!(
            "round {round}: block {} {}",
            blocked.status, blocked.text
        ));
    }
    match made.status {
        // Refused: the block was seen.
        409 => {}
        // Made first: the block must have ended it.
        201 => {
            let made = if batch {
                &made.body["items"][0]
            } else {
                &made.body
            };
            let now = app
                .get(&format!("/v1/pairings/{}", id(made)))
                .token(&ada.token)
                .send();
            if now.body["status"] != "ended" {
                return Some(format!(
                    "round {round}: the pairing made beside the block is {}",
                    now.body["status"]
                ));
            }
        }
        other => return Some(format!("round {round}: pairing {other} {}", made.text)),
    }
    let still_paired = active_pairings(app, ada, second)
        .iter()
        .any(|p| mentee_of(p) == mentee);
    still_paired.then(|| {
        format!(
            "round {round}: blocked, yet actively paired ({})",
            made.status
        )
    })
}

#[test]
fn a_block_racing_a_pairing_of_the_two_elsewhere_never_leaves_them_paired() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        group,
        program: first,
        ..
    } = app.open_program(json!({"matching": "admin"}));
    let second = app.create_open_program(
        &ada,
        &group,
        json!({"template_key": "new-parents", "name": "Second year", "matching": "admin"}),
    );

    let failed: Vec<String> = (0..BLOCK_ROUNDS)
        .filter_map(|round| block_race_round(&app, &ada, &group, (&first, &second), round))
        .collect();

    assert!(
        failed.is_empty(),
        "{} of {BLOCK_ROUNDS} rounds failed: {failed:#?}",
        failed.len()
    );
}

/// A join or an enrolment racing the caller's own account deletion lands before it
/// (and is undone with the rest) or is refused: never after it, leaving a "Deleted
/// member" in a group or their answers kept. Over many rounds at many overlaps (on
/// PostgreSQL the two transactions can run at the same instant).
#[test]
fn a_join_or_enrolment_racing_account_deletion_never_outlives_it() {
    const ROUNDS: usize = 24;
    let app = TestApp::spawn();
    let OpenProgram {
        admin,
        group,
        program,
        ..
    } = app.open_program(json!({}));
    let group_id = id(&group);
    let code = group["invite_code"]
        .as_str()
        .expect("invite code")
        .to_owned();
    let delete = |user: &TestUser| {
        app.delete("/v1/me")
            .token(&user.token)
            .json(&json!({"password": "correct horse battery"}))
    };
    let mut outcomes = BTreeMap::<String, usize>::new();
    for round in 0..ROUNDS {
        let delay = Duration::from_millis((round % 8) as u64 * 3);
        // A join racing the deletion.
        let joiner = app.register(&format!("Joiner{round}"));
        let answers = send_staggered(vec![
            (
                delay,
                app.post(&format!("/v1/groups/{group_id}/join"))
                    .token(&joiner.token)
                    .json(&json!({"invite_code": code})),
            ),
            (Duration::ZERO, delete(&joiner)),
        ]);
        assert_eq!(answers[1].status, 204, "{}", answers[1].text);
        assert!(
            [200, 401].contains(&answers[0].status),
            "join: {} {}",
            answers[0].status,
            answers[0].text
        );
        *outcomes
            .entry(format!("join {}", answers[0].status))
            .or_default() += 1;

        // An enrolment racing the deletion, by a member.
        let enroller = app.register(&format!("Enroller{round}"));
        app.join(&enroller, &group);
        let answers = send_staggered(vec![
            (
                delay,
                app.post(&format!("/v1/programs/{}/enrolments", program_id(&program)))
                    .token(&enroller.token)
                    .json(&json!({"role": "mentee", "answers": new_parent_answers()})),
            ),
            (Duration::ZERO, delete(&enroller)),
        ]);
        assert_eq!(answers[1].status, 204, "{}", answers[1].text);
        assert!(
            [201, 401, 404].contains(&answers[0].status),
            "enrol: {} {}",
            answers[0].status,
            answers[0].text
        );
        *outcomes
            .entry(format!("enrol {}", answers[0].status))
            .or_default() += 1;
    }
    // No deleted member is left in the group: only the admin and Bea.
    let members = app
        .get(&format!("/v1/groups/{group_id}/members?limit=100"))
        .token(&admin.token)
        .send();
    assert_eq!(members.status, 200, "{}", members.text);
    let names: Vec<&str> = members.body["items"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["display_name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&"Deleted member"), "{names:?}");
    // Every enrolment of a deleted member was withdrawn and lost its answers.
    let enrolments = app
        .get(&format!(
            "/v1/programs/{}/enrolments?limit=100",
            program_id(&program)
        ))
        .token(&admin.token)
        .send();
    assert_eq!(enrolments.status, 200, "{}", enrolments.text);
    for enrolment in enrolments.body["items"].as_array().expect("enrolments") {
        assert_eq!(enrolment["answers"], json!({}), "{enrolment}");
        assert_ne!(enrolment["status"], "active", "{enrolment}");
    }
    eprintln!("join/enrol vs deletion: {outcomes:?}");
}
