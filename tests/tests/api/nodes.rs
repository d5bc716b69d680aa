//! Several nodes on one PostgreSQL database: three servers, each with its own pool and
//! its own job loop, with requests spread across them. Nothing a node keeps in memory
//! may decide an invariant: capacity, notifications and idempotency keys hold across
//! nodes. (The job's exactly-once across nodes and cron runs is in `reminders`.)

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::Duration;

use serde_json::{json, Value};
use tandem_tests::{OpenProgram, Request, Response, TestApp};

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// SQLite serves one node (one writer in one process); several nodes are a PostgreSQL
/// deployment.
fn on_postgres() -> bool {
    let postgres = tandem_tests::db::backend() == "postgres";
    if !postgres {
        eprintln!("skipped on SQLite: several nodes share a PostgreSQL database");
    }
    postgres
}

/// Three nodes on `app`'s database, running the jobs every 10 ms.
fn three_nodes(app: &TestApp) -> Vec<TestApp> {
    (0..3)
        .map(|_| app.node(Duration::from_millis(10)))
        .collect()
}

/// Sends every request from a thread of its own, released together.
fn all_at_once(requests: Vec<Request>) -> Vec<Response> {
    let barrier = Barrier::new(requests.len());
    std::thread::scope(|scope| {
        let threads: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    request.send()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a request thread panicked"))
            .collect()
    })
}

fn statuses(responses: &[Response]) -> BTreeMap<u16, usize> {
    let mut counted = BTreeMap::new();
    for response in responses {
        *counted.entry(response.status).or_default() += 1;
    }
    counted
}

#[test]
fn racing_pairings_across_nodes_never_fill_a_mentor_past_capacity() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn();
    let OpenProgram {
        admin,
        member: bea,
        group,
        program,
    } = app.open_program(json!({}));
    let program_id = id(&program);
    let mut mentees = vec![(bea.clone(), id(&app.enrol_mentee(&bea, &program)))];
    for n in 0..8 {
        let mentee = app.member(&group, &format!("Mentee{n}"));
        let enrolment = id(&app.enrol_mentee(&mentee, &program));
        mentees.push((mentee, enrolment));
    }
    let nodes = three_nodes(&app);
    for round in 0..3 {
        // A new mentor each round: two places, one already taken, the last one raced
        // for by the mentees still waiting, their requests spread over the nodes.
        let mentor = app.member(&group, &format!("Mentor{round}"));
        let mentor_enrolment = id(&app.enrol_mentor(&mentor, &program, Some(2)));
        let (_, first) = mentees.remove(0);
        app.pair(
            &admin,
            &program,
            &mentor_enrolment,
            &first,
            "Meet your mentor.",
        );
        let racing: Vec<Request> = mentees
            .iter()
            .enumerate()
            .map(|(n, (_, enrolment))| {
                nodes[n % 3]
                    .post(&format!("/v1/programs/{program_id}/pairings"))
                    .token(&admin.token)
                    .json(&json!({
                        "mentor_enrolment_id": mentor_enrolment,
                        "mentee_enrolment_id": enrolment,
                        "introduction": "Meet your mentor.",
                    }))
            })
            .collect();
        let answers = all_at_once(racing);
        let counted = statuses(&answers);
        assert_eq!(counted.get(&201), Some(&1), "round {round}: {counted:?}");
        for answer in answers.iter().filter(|a| a.status != 201) {
            answer.problem(409);
        }
        // Whoever won leaves the queue; the place is taken, the mentor is full.
        let winner = answers
            .iter()
            .position(|a| a.status == 201)
            .expect("a winner");
        let (winner_user, _) = mentees.remove(winner);
        let pairings = app
            .get(&format!("/v1/programs/{program_id}/pairings"))
            .token(&admin.token)
            .query("limit", "100")
            .send();
        assert_eq!(pairings.status, 200, "{}", pairings.text);
        let of_mentor = pairings.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|p| p["status"] == "active" && p.to_string().contains(&mentor.id))
            .count();
        assert_eq!(of_mentor, 2, "round {round}: the mentor's pairings");
        // Exactly one `matched` for the winner, none for those who lost.
        assert_eq!(app.notifications_of_kind(&winner_user, "matched").len(), 1);
        for (loser, _) in &mentees {
            assert!(app.notifications_of_kind(loser, "matched").is_empty());
        }
    }
}

#[test]
fn an_idempotency_key_holds_across_nodes() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let nodes = three_nodes(&app);
    let create = |node: &TestApp, key: &str, name: &str| {
        node.post("/v1/groups")
            .token(&ada.token)
            .header("Idempotency-Key", key)
            .json(&json!({"name": name}))
    };

    // Replayed at the other nodes: the stored answer, not a second group.
    let first = create(&nodes[0], "key-one", "First").send();
    assert_eq!(first.status, 201, "{}", first.text);
    for node in &nodes[1..] {
        let replay = create(node, "key-one", "First").send();
        assert_eq!(replay.status, 201, "{}", replay.text);
        assert_eq!(replay.body["id"], first.body["id"]);
        // The same key for another body is refused at any node.
        create(node, "key-one", "Another").send().problem(422);
    }

    // Sent at the same instant to all three: one group; each answer is the stored one or
    // a 409 for a request still in progress elsewhere.
    let answers = all_at_once(
        nodes
            .iter()
            .flat_map(|node| {
                [
                    create(node, "key-two", "Second"),
                    create(node, "key-two", "Second"),
                ]
            })
            .collect(),
    );
    let created: Vec<&Response> = answers.iter().filter(|a| a.status == 201).collect();
    assert!(!created.is_empty(), "{:?}", statuses(&answers));
    for answer in &answers {
        if answer.status == 201 {
            assert_eq!(answer.body["id"], created[0].body["id"]);
        } else {
            answer.problem(409);
        }
    }
    let groups = app
        .get("/v1/groups")
        .token(&ada.token)
        .query("limit", "100")
        .send();
    let names: Vec<&str> = groups.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "First").count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| **n == "Second").count(),
        1,
        "{names:?}"
    );
}

#[test]
fn messages_posted_at_every_node_make_one_unread_notification() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn();
    let pair = app.paired_program();
    let pairing_id = id(&pair.pairing);
    let nodes = three_nodes(&app);
    let answers = all_at_once(
        (0..12)
            .map(|n| {
                nodes[n % 3]
                    .post(&format!("/v1/pairings/{pairing_id}/messages"))
                    .token(&pair.mentee.token)
                    .json(&json!({"body": format!("Message {n}")}))
            })
            .collect(),
    );
    assert_eq!(
        statuses(&answers).get(&201),
        Some(&12),
        "{:?}",
        statuses(&answers)
    );
    // Cleo hears of the new messages once: one unread notification for the pairing,
    // whichever node wrote each message.
    let told = app.notifications_of_kind(&pair.mentor, "new_messages");
    assert_eq!(told.len(), 1, "{told:?}");
    let listed = nodes[2]
        .get(&format!("/v1/pairings/{pairing_id}/messages"))
        .token(&pair.mentor.token)
        .query("limit", "100")
        .send();
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(12));
}
