use serde_json::{json, Value};
use tandem_tests::templates::{book_club, book_club_keyed};
use tandem_tests::{Response, TestApp, TestUser};

const BUILTIN_KEYS: [&str; 5] = [
    "career-advancement",
    "encouragement-and-support",
    "new-parents",
    "education",
    "health-and-wellbeing",
];

fn keys(list: &Response) -> Vec<String> {
    list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["key"].as_str().expect("key").to_owned())
        .collect()
}

/// The structure of a template that must not depend on the language.
fn structure(template: &Value) -> Value {
    let questions: Vec<Value> = template["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| {
            let values: Vec<&Value> = q["options"]
                .as_array()
                .expect("options")
                .iter()
                .map(|o| &o["value"])
                .collect();
            json!([q["key"], q["kind"], values, q["match_weight"]])
        })
        .collect();
    json!({
        "key": template["key"],
        "duration_weeks": template["duration_weeks"],
        "cadence_days": template["cadence_days"],
        "weeks": template["weeks"].as_array().expect("weeks").len(),
        "questions": questions,
    })
}

#[test]
fn the_catalogue_lists_every_builtin_in_english_by_default() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let list = app
        .get("/v1/templates")
        .token(&ada.token)
        .query("limit", "100")
        .send();
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.header("content-language"), Some("en"));
    assert_eq!(keys(&list), BUILTIN_KEYS);
    assert_eq!(list.body["next_cursor"], Value::Null);
    for template in list.body["items"].as_array().expect("items") {
        assert_eq!(template["language"], "en");
        assert_eq!(template["builtin"], true);
        assert!(template["name"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(template["description"].is_string());
        assert_eq!(
            template["duration_weeks"].as_u64(),
            template["weeks"].as_array().map(|w| w.len() as u64)
        );
        assert_eq!(template["cadence_days"], 7);
        let question = &template["questions"][0];
        for field in ["key", "text", "kind", "options", "audience", "required"] {
            assert!(question.get(field).is_some(), "question lacks {field}");
        }
        let week = &template["weeks"][0];
        assert_eq!(week["number"], 1);
        assert!(week["title"].is_string() && week["goal"].is_string());
        assert!(week["prompts"].as_array().is_some_and(|p| !p.is_empty()));
    }
}

#[test]
fn italian_is_chosen_by_lang_or_accept_language() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let english = app.get("/v1/templates").token(&ada.token).send();
    let by_query = app
        .get("/v1/templates")
        .token(&ada.token)
        .query("lang", "it")
        .send();
    let by_header = app
        .get("/v1/templates")
        .token(&ada.token)
        .header("Accept-Language", "it-IT,it;q=0.9,en;q=0.8")
        .send();
    for italian in [&by_query, &by_header] {
        assert_eq!(italian.status, 200, "{}", italian.text);
        assert_eq!(italian.header("content-language"), Some("it"));
        assert_eq!(italian.body, by_query.body);
        assert_eq!(keys(italian), keys(&english));
        let pairs = english.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .zip(italian.body["items"].as_array().expect("items"));
        for (en, it) in pairs {
            assert_eq!(it["language"], "it");
            assert_ne!(en["name"], it["name"], "{} is not translated", en["key"]);
            assert_eq!(structure(en), structure(it));
        }
    }

    // ?lang= wins over the header; q-values decide between languages.
    let en = app
        .get("/v1/templates/new-parents")
        .token(&ada.token)
        .header("Accept-Language", "it")
        .query("lang", "en")
        .send();
    assert_eq!(en.status, 200, "{}", en.text);
    assert_eq!(en.header("content-language"), Some("en"));
    assert_eq!(en.body["language"], "en");
    let it = app
        .get("/v1/templates/new-parents")
        .token(&ada.token)
        .header("Accept-Language", "fr;q=1, en;q=0.5, it;q=0.7")
        .send();
    assert_eq!(it.header("content-language"), Some("it"));
    assert_eq!(it.body["language"], "it");
    assert_eq!(structure(&en.body), structure(&it.body));
    let fallback = app
        .get("/v1/templates/new-parents")
        .token(&ada.token)
        .header("Accept-Language", "fr, de")
        .send();
    assert_eq!(fallback.header("content-language"), Some("en"));
}

#[test]
fn unsupported_languages_unknown_keys_and_strangers_are_refused() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    app.get("/v1/templates")
        .token(&ada.token)
        .query("lang", "fr")
        .send()
        .invalid_field("lang");
    app.get("/v1/templates/new-parents")
        .token(&ada.token)
        .query("lang", "fr")
        .send()
        .invalid_field("lang");
    app.get("/v1/templates/knitting")
        .token(&ada.token)
        .send()
        .problem(404);
    app.get("/v1/templates").send().problem(401);
    app.get("/v1/templates/new-parents").send().problem(401);
    app.get("/v1/templates")
        .token(&ada.token)
        .query("cursor", "bm9wZQ")
        .send()
        .invalid_field("cursor");
}

#[test]
fn the_catalogue_is_paginated_with_a_cursor() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = app
            .get("/v1/templates")
            .token(&ada.token)
            .query("limit", "2")
            .query("lang", "it");
        if let Some(c) = &cursor {
            request = request.query("cursor", c);
        }
        let page = request.send();
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.body["items"].as_array().is_some_and(|i| i.len() <= 2));
        seen.extend(keys(&page));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, BUILTIN_KEYS);
}

struct Group {
    id: String,
    owner: TestUser,
}

fn group_with_owner(app: &TestApp) -> (Group, Value) {
    let owner = app.register("Ada");
    let group = app.create_group(&owner, "Readers");
    let id = group["id"].as_str().expect("id").to_owned();
    (Group { id, owner }, group)
}

impl Group {
    fn templates(&self) -> String {
        format!("/v1/groups/{}/templates", self.id)
    }

    fn template(&self, key: &str) -> String {
        format!("/v1/groups/{}/templates/{key}", self.id)
    }
}

#[test]
fn owners_and_admins_manage_custom_templates() {
    let app = TestApp::spawn();
    let (group, group_json) = group_with_owner(&app);
    let created = app
        .post(&group.templates())
        .token(&group.owner.token)
        .json(&book_club())
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["key"], "book-club");
    assert_eq!(created.body["language"], "en");
    assert_eq!(created.body["cadence_days"], 7);
    assert_eq!(created.body["builtin"], false);
    assert_eq!(created.body["group_id"], group.id.as_str());
    assert_eq!(created.body["questions"][1]["max"], 365.0);
    assert_eq!(created.header("content-language"), Some("en"));
    let etag = created.header("etag").expect("etag").to_owned();

    let fetched = app
        .get(&group.template("book-club"))
        .token(&group.owner.token)
        .send();
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_eq!(fetched.body, created.body);
    assert_eq!(fetched.header("etag"), Some(etag.as_str()));

    // An admin edits it: given fields are replaced, the others kept.
    let bea = app.register("Bea");
    app.join(&bea, &group_json);
    app.set_role(&group.owner, &group_json, &bea, "admin");
    let updated = app
        .patch(&group.template("book-club"))
        .token(&bea.token)
        .header("If-Match", &etag)
        .json(&json!({
            "name": "Circolo di lettura",
            "language": "it",
            "cadence_days": 14,
            "duration_weeks": 1,
            "weeks": [{"number": 1, "title": "Ciao", "goal": "Conoscersi", "prompts": ["Cosa leggi?"]}]
        }))
        .send();
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["name"], "Circolo di lettura");
    assert_eq!(updated.body["language"], "it");
    assert_eq!(updated.body["cadence_days"], 14);
    assert_eq!(updated.body["weeks"].as_array().map(Vec::len), Some(1));
    assert_eq!(updated.body["questions"], created.body["questions"]);
    assert_eq!(updated.body["description"], created.body["description"]);
    assert_ne!(updated.header("etag"), Some(etag.as_str()));

    // The stale ETag no longer matches.
    app.patch(&group.template("book-club"))
        .token(&group.owner.token)
        .header("If-Match", &etag)
        .json(&json!({"name": "Lost update"}))
        .send()
        .problem(412);
    app.delete(&group.template("book-club"))
        .token(&group.owner.token)
        .header("If-Match", &etag)
        .send()
        .problem(412);

    let second = app
        .post(&group.templates())
        .token(&bea.token)
        .json(&book_club_keyed("book-club-2"))
        .send();
    assert_eq!(second.status, 201, "{}", second.text);
    let list = app
        .get(&group.templates())
        .token(&bea.token)
        .query("limit", "1")
        .send();
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(keys(&list), ["book-club"]);
    let cursor = list.str("/next_cursor");
    let rest = app
        .get(&group.templates())
        .token(&bea.token)
        .query("limit", "1")
        .query("cursor", &cursor)
        .send();
    assert_eq!(keys(&rest), ["book-club-2"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    let deleted = app
        .delete(&group.template("book-club"))
        .token(&bea.token)
        .send();
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    app.get(&group.template("book-club"))
        .token(&group.owner.token)
        .send()
        .problem(404);
    app.delete(&group.template("book-club"))
        .token(&group.owner.token)
        .send()
        .problem(404);
    app.patch(&group.template("book-club"))
        .token(&group.owner.token)
        .json(&json!({"name": "Gone"}))
        .send()
        .problem(404);
    let list = app.get(&group.templates()).token(&bea.token).send();
    assert_eq!(keys(&list), ["book-club-2"]);
}

#[test]
fn members_are_forbidden_and_strangers_learn_nothing() {
    let app = TestApp::spawn();
    let (group, group_json) = group_with_owner(&app);
    let created = app
        .post(&group.templates())
        .token(&group.owner.token)
        .json(&book_club())
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    let bea = app.register("Bea");
    app.join(&bea, &group_json);
    let eve = app.register("Eve");

    for (user, status) in [(&bea, 403), (&eve, 404)] {
        app.post(&group.templates())
            .token(&user.token)
            .json(&book_club_keyed("mine"))
            .send()
            .problem(status);
        app.get(&group.templates())
            .token(&user.token)
            .send()
            .problem(status);
        app.get(&group.template("book-club"))
            .token(&user.token)
            .send()
            .problem(status);
        app.patch(&group.template("book-club"))
            .token(&user.token)
            .json(&json!({"name": "Mine now"}))
            .send()
            .problem(status);
        app.delete(&group.template("book-club"))
            .token(&user.token)
            .send()
            .problem(status);
    }
    app.get(&group.templates()).send().problem(401);
    let missing = uuid::Uuid::new_v4();
    let not_existing = app
        .get(&format!("/v1/groups/{missing}/templates"))
        .token(&eve.token)
        .send();
    let not_visible = app.get(&group.templates()).token(&eve.token).send();
    assert_eq!(not_visible.body["detail"], not_existing.body["detail"]);
    // Still there, unchanged.
    let fetched = app
        .get(&group.template("book-club"))
        .token(&group.owner.token)
        .send();
    assert_eq!(fetched.body, created.body);
}

/// Posts `book_club()` changed by `change`, expecting a 422 naming every field in `fields`.
fn assert_invalid(app: &TestApp, group: &Group, change: impl FnOnce(&mut Value), fields: &[&str]) {
    let mut body = book_club();
    change(&mut body);
    let response = app
        .post(&group.templates())
        .token(&group.owner.token)
        .json(&body)
        .send();
    for field in fields {
        response.invalid_field(field);
    }
}

#[test]
fn custom_templates_are_validated_field_by_field() {
    let app = TestApp::spawn();
    let (group, _) = group_with_owner(&app);
    assert_invalid(
        &app,
        &group,
        |b| {
            b["weeks"] = json!([]);
            b["duration_weeks"] = json!(0);
        },
        &["weeks"],
    );
    assert_invalid(
        &app,
        &group,
        |b| b["duration_weeks"] = json!(3),
        &["duration_weeks"],
    );
    assert_invalid(
        &app,
        &group,
        |b| b["questions"][1]["key"] = json!("genre"),
        &["questions[1].key"],
    );
    assert_invalid(
        &app,
        &group,
        |b| b["questions"][0]["options"] = json!([{"value": "only", "label": "Only"}]),
        &["questions[0].options"],
    );
    assert_invalid(
        &app,
        &group,
        |b| b["questions"][0]["match_weight"] = json!(11),
        &["questions[0].match_weight"],
    );
    assert_invalid(&app, &group, |b| b["key"] = json!("new-parents"), &["key"]);
    assert_invalid(&app, &group, |b| b["key"] = json!("Book Club!"), &["key"]);
    assert_invalid(
        &app,
        &group,
        |b| b["weeks"][1]["prompts"] = json!([]),
        &["weeks[1].prompts"],
    );
    assert_invalid(&app, &group, |b| b["colour"] = json!("red"), &["colour"]);
    assert_invalid(&app, &group, |b| b["language"] = json!("fr"), &["language"]);
    // Every problem at once, not just the first.
    assert_invalid(
        &app,
        &group,
        |b| {
            b["name"] = json!("");
            b["cadence_days"] = json!(40);
            b["questions"][0]["match_weight"] = json!(11);
            b["weeks"][0]["number"] = json!(2);
        },
        &[
            "name",
            "cadence_days",
            "questions[0].match_weight",
            "weeks[0].number",
        ],
    );

    // Nothing invalid was saved; a valid template is, once per key.
    let list = app.get(&group.templates()).token(&group.owner.token).send();
    assert_eq!(list.body["items"], json!([]));
    let created = app
        .post(&group.templates())
        .token(&group.owner.token)
        .json(&book_club())
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    app.post(&group.templates())
        .token(&group.owner.token)
        .json(&book_club())
        .send()
        .problem(409);

    // Updates are held to the same rules, on the template as a whole.
    let path = group.template("book-club");
    let patch = |body: Value| {
        app.patch(&path)
            .token(&group.owner.token)
            .json(&body)
            .send()
    };
    patch(json!({"weeks": []})).invalid_field("weeks");
    patch(json!({"duration_weeks": 5})).invalid_field("duration_weeks");
    patch(json!({"key": "renamed"})).invalid_field("key");
    patch(
        json!({"questions": [{"key": "a", "text": "A?", "kind": "text", "audience": "both",
        "required": false, "match_weight": 0, "options": [{"value": "x", "label": "X"}]}]}),
    )
    .invalid_field("questions[0].options");
    let unchanged = app.get(&path).token(&group.owner.token).send();
    assert_eq!(unchanged.body, created.body);
}
