//! Match suggestions, the program-wide assignment and publishing it in one batch.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use tandem_tests::answers::{changed, newborn_in_europe, toddler_in_the_americas};
use tandem_tests::{OpenProgram, Response, TestApp, TestUser};

fn program_id(program: &Value) -> &str {
    program["id"].as_str().expect("program id")
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

fn enrol_as(
    app: &TestApp,
    user: &TestUser,
    program: &Value,
    role: &str,
    answers: &Value,
    capacity: Option<u8>,
) -> String {
    let mut body = json!({"role": role, "answers": answers});
    if let Some(capacity) = capacity {
        body["capacity"] = json!(capacity);
    }
    id(&app.enrol(user, program, body))
}

fn suggestions(
    app: &TestApp,
    user: &TestUser,
    program: &Value,
    params: &[(&str, &str)],
) -> Response {
    get_with(app, user, "match-suggestions", program, params)
}

/// The program-wide assignment, an operation of its own.
fn get_assignment(
    app: &TestApp,
    user: &TestUser,
    program: &Value,
    params: &[(&str, &str)],
) -> Response {
    get_with(app, user, "match-suggestions/assignment", program, params)
}

fn get_with(
    app: &TestApp,
    user: &TestUser,
    resource: &str,
    program: &Value,
    params: &[(&str, &str)],
) -> Response {
    let mut request = app
        .get(&format!("/v1/programs/{}/{resource}", program_id(program)))
        .token(&user.token);
    for (name, value) in params {
        request = request.query(name, value);
    }
    request.send()
}

/// Ranked suggestions that must succeed, by mentee enrolment id.
fn ranked(
    app: &TestApp,
    admin: &TestUser,
    program: &Value,
    params: &[(&str, &str)],
) -> BTreeMap<String, Vec<Value>> {
    let response = suggestions(app, admin, program, params);
    assert_eq!(response.status, 200, "suggestions: {}", response.text);
    let keys: Vec<&String> = response
        .body
        .as_object()
        .expect("an object")
        .keys()
        .collect();
    assert_eq!(keys, ["items"], "ranked suggestions hold only their items");
    response.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let candidates = item["candidates"].as_array().expect("candidates").clone();
            let scores: Vec<u64> = candidates
                .iter()
                .map(|c| c["score"].as_u64().expect("score"))
                .collect();
            assert!(
                scores.windows(2).all(|w| w[0] >= w[1]),
                "candidates by score, best first: {item}"
            );
            assert!(scores.iter().all(|s| (1..=100).contains(s)), "{item}");
            (text(&item["mentee_enrolment_id"]).to_owned(), candidates)
        })
        .collect()
}

fn mentors_of(candidates: &[Value]) -> Vec<&str> {
    candidates
        .iter()
        .map(|c| text(&c["mentor_enrolment_id"]))
        .collect()
}

fn publish(app: &TestApp, user: &TestUser, program: &Value, pairings: Value) -> Response {
    app.post(&format!(
        "/v1/programs/{}/pairings/batch",
        program_id(program)
    ))
    .token(&user.token)
    .json(&json!({ "pairings": pairings }))
    .send()
}

/// The program's pairings as `(mentor enrolment id, mentee enrolment id, status)`.
fn pairings_of(
    app: &TestApp,
    admin: &TestUser,
    program: &Value,
) -> BTreeSet<(String, String, String)> {
    let response = app
        .get(&format!("/v1/programs/{}/pairings", program_id(program)))
        .token(&admin.token)
        .query("limit", "100")
        .send();
    assert_eq!(response.status, 200, "list pairings: {}", response.text);
    response.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                text(&p["mentor"]["enrolment_id"]).to_owned(),
                text(&p["mentee"]["enrolment_id"]).to_owned(),
                text(&p["status"]).to_owned(),
            )
        })
        .collect()
}

#[test]
fn ranked_suggestions_put_the_closest_mentor_first() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin: ada,
        member: bea,
        group,
        program,
    } = app.open_program(json!({"matching": "admin"}));
    let zoe = app.register("Zoe");
    // Carla (a newborn, Italian, Europe) and Dora (a toddler, Spanish, the Americas) wait.
    let carla = app.member(&group, "Carla");
    let carla = enrol_as(
        &app,
        &carla,
        &program,
        "mentee",
        &changed(&newborn_in_europe(), json!({})),
        None,
    );
    let dora = app.member(&group, "Dora");
    let dora = enrol_as(
        &app,
        &dora,
        &program,
        "mentee",
        &changed(
            &toddler_in_the_americas(),
            json!({"time_zone": "europe_africa"}),
        ),
        None,
    );
    // Elena is all but identical to Carla, and has one place; Fabia is like Dora and
    // shares only Italian with Carla.
    let elena = app.member(&group, "Elena");
    let elena = enrol_as(
        &app,
        &elena,
        &program,
        "mentor",
        &changed(&newborn_in_europe(), json!({"languages": ["it", "en"]})),
        Some(1),
    );
    let fabia = app.member(&group, "Fabia");
    let fabia = enrol_as(
        &app,
        &fabia,
        &program,
        "mentor",
        &changed(
            &toddler_in_the_americas(),
            json!({"languages": ["es", "it"]}),
        ),
        Some(2),
    );

    let items = ranked(&app, &ada, &program, &[]);
    assert_eq!(
        items.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([carla.clone(), dora.clone()]),
        "one item per waiting mentee"
    );
    let for_carla = &items[&carla];
    assert_eq!(mentors_of(for_carla), [elena.as_str(), fabia.as_str()]);
    let (close, far) = (&for_carla[0], &for_carla[1]);
    assert!(
        close["score"].as_u64() > far["score"].as_u64(),
        "{for_carla:#?}"
    );
    assert!(close["score"].as_u64() >= Some(80), "{close}");
    assert_eq!(close["display_name"], "Elena");
    let reasons: Vec<&str> = close["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(text)
        .collect();
    assert!(
        !reasons.is_empty() && reasons.iter().all(|r| !r.trim().is_empty()),
        "{close}"
    );
    assert!(
        reasons.contains(&"same child stage: Newborn (0–3 months)"),
        "the heaviest agreement, in words: {reasons:?}"
    );
    assert!(
        far["reasons"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| text(r).contains("Italian"))),
        "{far}"
    );
    let for_dora = &items[&dora];
    assert_eq!(mentors_of(for_dora), [fabia.as_str(), elena.as_str()]);

    // Fewer candidates on request; a minimum score filters the weak ones.
    let one = ranked(&app, &ada, &program, &[("per_mentee", "1")]);
    assert_eq!(mentors_of(&one[&carla]), [elena.as_str()]);
    assert_eq!(mentors_of(&one[&dora]), [fabia.as_str()]);
    let strong = ranked(&app, &ada, &program, &[("min_score", "50")]);
    assert_eq!(mentors_of(&strong[&carla]), [elena.as_str()]);
    assert!(strong[&carla]
        .iter()
        .all(|c| c["score"].as_u64() >= Some(50)));

    // Invalid parameters name themselves.
    for bad in ["0", "21", "-1"] {
        suggestions(&app, &ada, &program, &[("per_mentee", bad)]).invalid_field("per_mentee");
    }
    suggestions(&app, &ada, &program, &[("min_score", "101")]).invalid_field("min_score");

    // Only admins: a member is forbidden, a stranger learns nothing, nobody is refused.
    suggestions(&app, &bea, &program, &[]).problem(403);
    suggestions(&app, &zoe, &program, &[]).problem(404);
    app.get(&format!(
        "/v1/programs/{}/match-suggestions",
        program_id(&program)
    ))
    .send()
    .problem(401);

    // Once Carla is paired with Elena, Carla waits no more and Elena (full) is no
    // longer suggested to anyone.
    let pairing = app.pair(&ada, &program, &elena, &carla, "You two should talk.");
    let items = ranked(&app, &ada, &program, &[]);
    assert_eq!(items.keys().collect::<Vec<_>>(), [&dora]);
    assert_eq!(mentors_of(&items[&dora]), [fabia.as_str()]);

    // A pairing ended early frees both again.
    let ended = app
        .post(&format!("/v1/pairings/{}/end", id(&pairing)))
        .token(&ada.token)
        .json(&json!({"reason": "They could not find a time to meet."}))
        .send();
    assert_eq!(ended.status, 200, "end: {}", ended.text);
    let items = ranked(&app, &ada, &program, &[]);
    assert_eq!(mentors_of(&items[&carla]), [elena.as_str(), fabia.as_str()]);
    assert_eq!(mentors_of(&items[&dora]), [fabia.as_str(), elena.as_str()]);
}

/// A program where the best total differs from taking the best pair first.
///
/// Mentors Xena and Yara have one place each; mentees Anna, Bice and Cloe wait. Anna
/// likes Xena best, but Bice fits only Xena: taking the best pair first (Anna–Xena)
/// leaves Yara to the weak Cloe, while Anna–Yara plus Bice–Xena scores more.
struct Scene {
    app: TestApp,
    ada: TestUser,
    bea: TestUser,
    group: Value,
    program: Value,
    names: BTreeMap<String, &'static str>,
    users: BTreeMap<&'static str, TestUser>,
}

impl Scene {
    fn new() -> Scene {
        let app = TestApp::spawn();
        let OpenProgram {
            admin: ada,
            member: bea,
            group,
            program,
        } = app.open_program(json!({"matching": "admin"}));
        let xena_answers = newborn_in_europe();
        let yara_answers = toddler_in_the_americas();
        // Anna: Xena's stage, time zone, language and family size; Yara's ways.
        let anna_answers = changed(
            &yara_answers,
            json!({"child_stage": "newborn", "time_zone": "europe_africa", "languages": ["it"], "children_count": 1}),
        );
        // Bice: Xena's ways, nothing of Yara's.
        let bice_answers = changed(
            &xena_answers,
            json!({"child_stage": "infant", "time_zone": "asia_pacific", "languages": ["fr"]}),
        );
        // Cloe: little in common with anyone.
        let cloe_answers = json!({
            "child_stage": "expecting",
            "first_child": "first",
            "children_count": 5,
            "feeding": ["solids"],
            "sleep": "it_varies",
            "work_plans": "not_sure",
            "support_wanted": ["company"],
            "time_zone": "americas",
            "languages": ["de"],
        });
        let mut names = BTreeMap::new();
        let mut users = BTreeMap::new();
        let mut enrol_one = |name: &'static str, role: &str, answers: &Value| {
            let user = app.member(&group, name);
            let capacity = (role == "mentor").then_some(1);
            let enrolment = enrol_as(&app, &user, &program, role, answers, capacity);
            names.insert(enrolment, name);
            users.insert(name, user);
        };
        enrol_one("Xena", "mentor", &xena_answers);
        enrol_one("Yara", "mentor", &yara_answers);
        enrol_one("Anna", "mentee", &anna_answers);
        enrol_one("Bice", "mentee", &bice_answers);
        enrol_one("Cloe", "mentee", &cloe_answers);
        Scene {
            app,
            ada,
            bea,
            group,
            program,
            names,
            users,
        }
    }

    fn enrolment(&self, name: &str) -> String {
        self.names
            .iter()
            .find(|(_, n)| **n == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no enrolment for {name}"))
    }

    fn name(&self, enrolment: &Value) -> &str {
        self.names
            .get(text(enrolment))
            .copied()
            .unwrap_or_else(|| panic!("unknown enrolment {enrolment}"))
    }

    fn assignment(&self, params: &[(&str, &str)]) -> Value {
        let response = get_assignment(&self.app, &self.ada, &self.program, params);
        assert_eq!(response.status, 200, "assignment: {}", response.text);
        let mut keys: Vec<&String> = response
            .body
            .as_object()
            .expect("an object")
            .keys()
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            ["pairings", "total_score", "unassigned_mentee_enrolment_ids"]
        );
        response.body
    }

    /// Every eligible pair's score, from the ranked suggestions.
    fn scores(&self, min_score: &str) -> BTreeMap<(String, String), u64> {
        let items = ranked(
            &self.app,
            &self.ada,
            &self.program,
            &[("per_mentee", "20"), ("min_score", min_score)],
        );
        let mut scores = BTreeMap::new();
        for (mentee, candidates) in items {
            for c in candidates {
                let mentor = text(&c["mentor_enrolment_id"]).to_owned();
                let score = c["score"].as_u64().expect("score");
                scores.insert((mentee.clone(), mentor), score);
            }
        }
        scores
    }
}

/// The best total score over every assignment of these mentees to mentors with one
/// place each, by brute force.
fn best_total(
    scores: &BTreeMap<(String, String), u64>,
    mentees: &[String],
    taken: &mut Vec<String>,
) -> u64 {
    let Some((mentee, rest)) = mentees.split_first() else {
        return 0;
    };
    let mut best = best_total(scores, rest, taken);
    for ((m, mentor), score) in scores {
        if m == mentee && !taken.contains(mentor) {
            taken.push(mentor.clone());
            best = best.max(score + best_total(scores, rest, taken));
            taken.pop();
        }
    }
    best
}

/// Checks an assignment against the rules and the brute-force optimum; answers its
/// pairs as `(mentee name, mentor name)`.
fn check_assignment(
    scene: &Scene,
    assignment: &Value,
    min_score: &str,
) -> BTreeSet<(String, String)> {
    let scores = scene.scores(min_score);
    let pairs = assignment["pairings"].as_array().expect("pairings");
    let mut mentees = BTreeSet::new();
    let mut mentors = BTreeSet::new();
    let mut sum = 0;
    let mut named = BTreeSet::new();
    for p in pairs {
        let mentee = text(&p["mentee_enrolment_id"]).to_owned();
        let mentor = text(&p["mentor_enrolment_id"]).to_owned();
        assert!(
            mentees.insert(mentee.clone()),
            "a mentee twice: {assignment}"
        );
        // Each mentor has one place.
        assert!(
            mentors.insert(mentor.clone()),
            "a mentor over capacity: {assignment}"
        );
        let score = p["score"].as_u64().expect("score");
        assert_eq!(
            scores.get(&(mentee.clone(), mentor.clone())),
            Some(&score),
            "the pair's score is the suggestion's: {p}"
        );
        assert_eq!(
            p["mentee_display_name"],
            scene.name(&p["mentee_enrolment_id"])
        );
        assert_eq!(
            p["mentor_display_name"],
            scene.name(&p["mentor_enrolment_id"])
        );
        assert!(
            p["reasons"].as_array().is_some_and(|r| !r.is_empty()),
            "{p}"
        );
        sum += score;
        named.insert((
            scene.name(&p["mentee_enrolment_id"]).to_owned(),
            scene.name(&p["mentor_enrolment_id"]).to_owned(),
        ));
    }
    assert_eq!(assignment["total_score"], sum, "{assignment}");
    let waiting: Vec<String> = ["Anna", "Bice", "Cloe"]
        .iter()
        .map(|n| scene.enrolment(n))
        .collect();
    assert_eq!(
        sum,
        best_total(&scores, &waiting, &mut Vec::new()),
        "not the best total: {assignment}"
    );
    let unassigned: BTreeSet<String> = assignment["unassigned_mentee_enrolment_ids"]
        .as_array()
        .expect("unassigned")
        .iter()
        .map(|id| text(id).to_owned())
        .collect();
    let expected: BTreeSet<String> = waiting
        .iter()
        .filter(|m| !mentees.contains(*m))
        .cloned()
        .collect();
    assert_eq!(unassigned, expected, "{assignment}");
    named
}

#[test]
fn the_assignment_maximises_the_total_score() {
    let scene = Scene::new();
    let scores = scene.scores("1");
    let score = |mentee: &str, mentor: &str| {
        scores
            .get(&(scene.enrolment(mentee), scene.enrolment(mentor)))
            .copied()
            .unwrap_or(0)
    };
    // The scene is what it claims: best-pair-first is worse than the optimum.
    assert!(score("Anna", "Xena") > score("Bice", "Xena"));
    assert!(score("Bice", "Xena") > score("Anna", "Yara"));
    let greedy = score("Anna", "Xena") + score("Bice", "Yara").max(score("Cloe", "Yara"));
    let optimum = score("Anna", "Yara") + score("Bice", "Xena");
    assert!(optimum > greedy, "{scores:?}");

    let assignment = scene.assignment(&[]);
    let pairs = check_assignment(&scene, &assignment, "1");
    assert_eq!(
        pairs,
        BTreeSet::from([
            ("Anna".to_owned(), "Yara".to_owned()),
            ("Bice".to_owned(), "Xena".to_owned()),
        ])
    );
    assert_eq!(assignment["total_score"], optimum);
    assert_eq!(
        assignment["unassigned_mentee_enrolment_ids"],
        json!([scene.enrolment("Cloe")])
    );

    // With a minimum score, weaker pairs are left out and the rest is still optimal.
    let strict = scene.assignment(&[("min_score", "50")]);
    let pairs = check_assignment(&scene, &strict, "50");
    assert!(strict["pairings"]
        .as_array()
        .is_some_and(|p| p.iter().all(|p| p["score"].as_u64() >= Some(50))));
    assert!(pairs.len() < 2, "{strict}");

    // Only admins; parameters are checked.
    get_assignment(&scene.app, &scene.bea, &scene.program, &[]).problem(403);
    get_assignment(
        &scene.app,
        &scene.ada,
        &scene.program,
        &[("min_score", "-1")],
    )
    .invalid_field("min_score");
    // Ranking options do not apply to an assignment.
    get_assignment(
        &scene.app,
        &scene.ada,
        &scene.program,
        &[("per_mentee", "2")],
    )
    .invalid_field("per_mentee");
    scene
        .app
        .get(&format!(
            "/v1/programs/{}/match-suggestions/assignment",
            program_id(&scene.program)
        ))
        .send()
        .problem(401);
}

#[test]
fn the_old_mode_parameter_is_refused() {
    let scene = Scene::new();
    // The assignment moved to its own operation: `?mode=` is an unknown parameter now,
    // so an old client is told instead of silently getting ranked suggestions.
    for mode in ["assignment", "ranked"] {
        suggestions(&scene.app, &scene.ada, &scene.program, &[("mode", mode)])
            .invalid_field("mode");
    }
}

#[test]
fn publishing_an_assignment_makes_every_pair_or_none() {
    let scene = Scene::new();
    let (app, ada, program) = (&scene.app, &scene.ada, &scene.program);
    let assignment = scene.assignment(&[]);
    let proposed: Vec<Value> = assignment["pairings"]
        .as_array()
        .expect("pairings")
        .iter()
        .map(|p| {
            json!({
                "mentor_enrolment_id": p["mentor_enrolment_id"],
                "mentee_enrolment_id": p["mentee_enrolment_id"],
            })
        })
        .collect();
    assert_eq!(proposed.len(), 2, "{assignment}");

    // Members may not publish; an empty batch is no batch.
    publish(app, &scene.bea, program, json!(proposed)).problem(403);
    publish(app, ada, program, json!([])).invalid_field("pairings");
    assert!(pairings_of(app, ada, program).is_empty());

    // The reviewed assignment lands whole, in the order given, with introductions
    // written for the pairs.
    let response = publish(app, ada, program, json!(proposed));
    assert_eq!(response.status, 201, "publish: {}", response.text);
    let items = response.body["items"].as_array().expect("items");
    assert_eq!(items.len(), proposed.len());
    for (item, asked) in items.iter().zip(&proposed) {
        assert_eq!(item["status"], "active");
        assert_eq!(item["mentor"]["enrolment_id"], asked["mentor_enrolment_id"]);
        assert_eq!(item["mentee"]["enrolment_id"], asked["mentee_enrolment_id"]);
        let mentor = scene.name(&item["mentor"]["enrolment_id"]);
        let mentee = scene.name(&item["mentee"]["enrolment_id"]);
        assert_eq!(item["mentor"]["display_name"], mentor);
        assert_eq!(item["mentee"]["display_name"], mentee);
        let introduction = text(&item["introduction"]);
        assert!(
            introduction.contains(mentor) && introduction.contains(mentee),
            "a default introduction names both: {introduction:?}"
        );
    }
    let published: BTreeSet<(String, String, String)> = proposed
        .iter()
        .map(|p| {
            (
                text(&p["mentor_enrolment_id"]).to_owned(),
                text(&p["mentee_enrolment_id"]).to_owned(),
                "active".to_owned(),
            )
        })
        .collect();
    assert_eq!(pairings_of(app, ada, program), published);

    // Both partners of each pair see it among theirs.
    for item in items {
        for side in ["mentor", "mentee"] {
            let name = text(&item[side]["display_name"]);
            let mine = app
                .get("/v1/me/pairings")
                .token(&scene.users[name].token)
                .send();
            assert_eq!(mine.status, 200, "{}", mine.text);
            let theirs = mine.body["items"].as_array().expect("items");
            assert!(
                theirs
                    .iter()
                    .any(|p| p["id"] == item["id"] && p["my_role"] == side),
                "{name} sees the pairing as {side}: {}",
                mine.body
            );
        }
    }

    // All or nothing: a second item that fails leaves the first one unmade too.
    // Zia has two places and Cloe still waits, so a batch's first item is valid.
    let zia = app.member(&scene.group, "Zia");
    let zia = enrol_as(app, &zia, program, "mentor", &newborn_in_europe(), Some(2));
    let cloe = scene.enrolment("Cloe");
    let anna = scene.enrolment("Anna");
    let valid = json!({"mentor_enrolment_id": zia, "mentee_enrolment_id": cloe});
    let before = pairings_of(app, ada, program);

    // The second mentee is already paired.
    let response = publish(
        app,
        ada,
        program,
        json!([valid, {"mentor_enrolment_id": zia, "mentee_enrolment_id": anna}]),
    );
    let problem = response.problem(409);
    assert!(
        text(&problem["detail"]).contains("pairings[1]"),
        "the detail names the item: {problem}"
    );
    assert_eq!(pairings_of(app, ada, program), before);

    // The same mentee twice.
    publish(app, ada, program, json!([valid, valid])).problem(409);
    assert_eq!(pairings_of(app, ada, program), before);

    // An enrolment of another program.
    let other = app.create_open_program(
        ada,
        &scene.group,
        json!({"template_key": "new-parents", "name": "Another circle"}),
    );
    let stranger = app.member(&scene.group, "Olga");
    let stranger = enrol_as(app, &stranger, &other, "mentee", &newborn_in_europe(), None);
    publish(
        app,
        ada,
        program,
        json!([valid, {"mentor_enrolment_id": zia, "mentee_enrolment_id": stranger}]),
    )
    .invalid_field("pairings[1].mentee_enrolment_id");
    assert_eq!(pairings_of(app, ada, program), before);

    // A mentor in the mentee's place, and an enrolment that does not exist.
    publish(
        app,
        ada,
        program,
        json!([valid, {"mentor_enrolment_id": zia, "mentee_enrolment_id": zia}]),
    )
    .invalid_field("pairings[1].mentee_enrolment_id");
    publish(
        app,
        ada,
        program,
        json!([valid, {"mentor_enrolment_id": uuid::Uuid::new_v4(), "mentee_enrolment_id": cloe}]),
    )
    .invalid_field("pairings[1].mentor_enrolment_id");
    // An introduction that is too short is caught before anything is tried.
    publish(
        app,
        ada,
        program,
        json!([valid, {"mentor_enrolment_id": zia, "mentee_enrolment_id": cloe, "introduction": ""}]),
    )
    .invalid_field("pairings[1].introduction");
    assert_eq!(pairings_of(app, ada, program), before);

    // Nothing was left half-made: the valid item alone goes through, with its own
    // introduction kept as written.
    let response = publish(
        app,
        ada,
        program,
        json!([{"mentor_enrolment_id": zia, "mentee_enrolment_id": cloe, "introduction": "Zia, meet Cloe."}]),
    );
    assert_eq!(response.status, 201, "publish: {}", response.text);
    assert_eq!(response.body["items"][0]["introduction"], "Zia, meet Cloe.");
    assert_eq!(pairings_of(app, ada, program).len(), before.len() + 1);
}
