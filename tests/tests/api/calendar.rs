//! The calendar feed: a secret URL per user, rotated at will, serving an iCalendar
//! document that an independent parser (the `ical` crate, not the writer's own) reads.

use chrono::{Days, NaiveDate, Timelike, Utc};
use serde_json::{json, Value};
use tandem_tests::{PairCandidates, PairedProgram, Response, TestApp, TestUser};

/// One VEVENT as the independent parser reads it, TEXT values unescaped.
#[derive(Debug, Clone)]
struct Event {
    uid: String,
    start: String,
    start_params: Vec<(String, Vec<String>)>,
    end: String,
    summary: String,
    description: String,
}

/// A feed's secret and URL, as `POST /v1/me/calendar-token` answers.
struct Feed {
    token: String,
    url: String,
}

fn new_feed(app: &TestApp, user: &TestUser) -> Feed {
    let response = app.post("/v1/me/calendar-token").token(&user.token).send();
    assert_eq!(response.status, 201, "calendar token: {}", response.text);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    Feed {
        token: response.str("/token"),
        url: response.str("/url"),
    }
}

/// GETs a feed URL as a calendar app would: the absolute URL, no Authorization.
fn fetch(app: &TestApp, url: &str) -> Response {
    let path = url
        .strip_prefix(&app.base_url)
        .unwrap_or_else(|| panic!("{url} is not under {}", app.base_url));
    app.get(path).send()
}

/// The feed's events, after checking it is a well-formed calendar served as one.
fn read_feed(app: &TestApp, url: &str) -> (Vec<Event>, String) {
    let response = fetch(app, url);
    assert_eq!(response.status, 200, "feed: {}", response.text);
    assert_eq!(response.content_type, "text/calendar; charset=utf-8");
    let text = response.text;
    let mut calendars = ical::IcalParser::new(text.as_bytes());
    let calendar = calendars
        .next()
        .expect("one calendar")
        .unwrap_or_else(|e| panic!("the feed does not parse: {e}\n{text}"));
    assert!(calendars.next().is_none(), "more than one calendar");
    let property = |props: &[ical::property::Property], name: &str| {
        props
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
    };
    assert_eq!(
        property(&calendar.properties, "VERSION").as_deref(),
        Some("2.0")
    );
    assert!(property(&calendar.properties, "PRODID").is_some());
    assert_eq!(
        property(&calendar.properties, "X-WR-CALNAME").as_deref(),
        Some("Tandem check-ins")
    );
    let events = calendar
        .events
        .iter()
        .map(|event| {
            let props = &event.properties;
            let get = |name: &str| {
                property(props, name).unwrap_or_else(|| panic!("an event without {name}"))
            };
            assert!(property(props, "DTSTAMP").is_some(), "DTSTAMP is required");
            let start = props.iter().find(|p| p.name == "DTSTART").expect("DTSTART");
            Event {
                uid: get("UID"),
                start: get("DTSTART"),
                start_params: start.params.clone().unwrap_or_default(),
                end: get("DTEND"),
                summary: unescape(&get("SUMMARY")),
                description: unescape(&get("DESCRIPTION")),
            }
        })
        .collect();
    (events, text)
}

/// RFC 5545 §3.3.11: a TEXT value escapes backslash, comma, semicolon and newline.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn ical_date(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

fn date(value: &Value) -> NaiveDate {
    value
        .as_str()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or_else(|| panic!("not a date: {value}"))
}

fn uids(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.uid.clone()).collect()
}

#[test]
fn a_token_opens_the_feed_without_a_login_and_rotating_it_closes_the_old_url_at_once() {
    let app = TestApp::spawn();
    let PairedProgram { mentee: bea, .. } = app.paired_program();
    let first = new_feed(&app, &bea);
    assert_eq!(first.token.len(), 43);
    assert_eq!(
        first.url,
        format!("{}/v1/me/calendar.ics?token={}", app.base_url, first.token)
    );
    let served = fetch(&app, &first.url);
    assert_eq!(served.status, 200, "{}", served.text);
    assert_eq!(served.header("referrer-policy"), Some("no-referrer"));
    assert!(
        served
            .header("cache-control")
            .is_some_and(|v| v.starts_with("private")),
        "{:?}",
        served.header("cache-control")
    );

    let second = new_feed(&app, &bea);
    assert_ne!(second.token, first.token);
    let old = fetch(&app, &first.url);
    assert_eq!(old.problem(404)["type"], "/problems/not-found");
    assert_eq!(fetch(&app, &second.url).status, 200);
}

#[test]
fn the_token_is_the_only_credential_and_every_wrong_one_gets_the_same_404() {
    let app = TestApp::spawn();
    let PairedProgram { mentee: bea, .. } = app.paired_program();
    let feed = new_feed(&app, &bea);
    // A bearer token opens nothing without the feed's token.
    let with_login = app.get("/v1/me/calendar.ics").token(&bea.token).send();
    let expected = with_login.problem(404).clone();
    let mut unknown = feed.token.clone();
    unknown.replace_range(
        ..1,
        if feed.token.starts_with('A') {
            "B"
        } else {
            "A"
        },
    );
    for query in [
        format!("?token={unknown}"),
        format!("?token={}", &feed.token[..42]),
        format!("?token={}x", feed.token),
        format!("?token={}%21", &feed.token[..42]),
        "?token=".to_owned(),
        format!("?feed={}", feed.token),
    ] {
        let answer = app.get(&format!("/v1/me/calendar.ics{query}")).send();
        assert_eq!(answer.problem(404), &expected, "{query}");
    }
    // Other parameters, which some calendar apps add, are ignored.
    let extra = app
        .get("/v1/me/calendar.ics")
        .query("token", &feed.token)
        .query("nocache", "1")
        .send();
    assert_eq!(extra.status, 200, "{}", extra.text);
}

#[test]
fn each_check_in_is_an_all_day_event_on_its_due_date_with_its_topic_and_prompts() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        mentor: cleo,
        program,
        pairing,
        ..
    } = app.paired_program();
    let started_on = date(&pairing["started_on"]);
    let cadence = program["cadence_days"].as_u64().expect("cadence");
    let weeks = program["duration_weeks"].as_u64().expect("duration");
    let guide = program["weeks"].as_array().expect("weeks");
    let (events, _) = read_feed(&app, &new_feed(&app, &bea).url);
    assert_eq!(events.len() as u64, weeks);
    for (i, event) in events.iter().enumerate() {
        let number = i as u64 + 1;
        let due = started_on + Days::new((number - 1) * cadence);
        assert_eq!(event.start, ical_date(due), "check-in {number}");
        assert_eq!(
            event.start_params,
            vec![("VALUE".to_owned(), vec!["DATE".to_owned()])],
            "check-in {number} is all-day"
        );
        assert_eq!(
            event.end,
            ical_date(due + Days::new(1)),
            "DTEND is exclusive"
        );
        let week = &guide[i];
        assert_eq!(
            event.summary,
            format!(
                "Check-in {number}: {}",
                week["title"].as_str().expect("title")
            )
        );
        assert!(
            event.description.contains("with Cleo"),
            "{}",
            event.description
        );
        // Compared without spaces: `ical` trims the end of each folded line, so a space
        // the writer left there (valid: RFC 5545 §3.1 unfolding keeps it) is lost.
        let description = without_spaces(&event.description);
        for prompt in week["prompts"].as_array().expect("prompts") {
            let prompt = prompt.as_str().expect("prompt");
            assert!(
                description.contains(&without_spaces(prompt)),
                "{prompt:?} missing from {:?}",
                event.description
            );
        }
    }
    let all: std::collections::HashSet<_> = uids(&events).into_iter().collect();
    assert_eq!(all.len(), events.len(), "UIDs are unique");

    // The same event in the partner's feed, and the same after a rotation: UIDs come
    // from the pairing and the check-in, not from the feed.
    let (again, _) = read_feed(&app, &new_feed(&app, &bea).url);
    assert_eq!(uids(&again), uids(&events));
    let (cleos, _) = read_feed(&app, &new_feed(&app, &cleo).url);
    assert_eq!(uids(&cleos), uids(&events));
    assert!(cleos[0].description.contains("with Bea"));
}

#[test]
fn uids_are_the_same_in_two_fetches_of_one_url() {
    let app = TestApp::spawn();
    let PairedProgram { mentee: bea, .. } = app.paired_program();
    let feed = new_feed(&app, &bea);
    let (first, _) = read_feed(&app, &feed.url);
    app.clock.advance(chrono::Duration::days(3));
    let (second, _) = read_feed(&app, &feed.url);
    assert!(!first.is_empty());
    assert_eq!(uids(&first), uids(&second));
}

#[test]
fn due_dates_are_in_the_mentees_time_zone() {
    let app = TestApp::spawn();
    // 14:00 UTC is already the next day in Auckland (UTC+12 or +13), the same day in Rome.
    let now = Utc::now();
    let today_at_14 = now
        .with_hour(14)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .expect("14:00 today");
    let target = if today_at_14 > now {
        today_at_14
    } else {
        today_at_14 + chrono::Duration::days(1)
    };
    app.clock.advance(target - now);
    let PairCandidates {
        admin,
        mentee: bea,
        mentor: cleo,
        program,
        mentee_enrolment,
        mentor_enrolment,
        ..
    } = app.program_with_pair_candidates();
    let moved = app
        .patch("/v1/me")
        .token(&bea.token)
        .json(&json!({"time_zone": "Pacific/Auckland"}))
        .send();
    assert_eq!(moved.status, 200, "{}", moved.text);
    let pairing = app.pair(
        &admin,
        &program,
        mentor_enrolment["id"].as_str().expect("id"),
        mentee_enrolment["id"].as_str().expect("id"),
        tandem_tests::scenarios::INTRODUCTION,
    );
    let auckland_day = target.date_naive() + Days::new(1);
    assert_eq!(date(&pairing["started_on"]), auckland_day);
    // The mentor in Rome sees the mentee's dates: the day the check-in opens for both.
    let (events, _) = read_feed(&app, &new_feed(&app, &cleo).url);
    assert_eq!(events[0].start, ical_date(auckland_day));
    assert_eq!(events[1].start, ical_date(auckland_day + Days::new(7)));
}

#[test]
fn a_feed_shows_only_its_owners_check_ins() {
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
    let dan = app.member(&group, "Dan");
    let dans_enrolment = app.enrol_mentee(&dan, &program);
    let dans_pairing = app.pair(
        &ada,
        &program,
        mentor_enrolment["id"].as_str().expect("id"),
        dans_enrolment["id"].as_str().expect("id"),
        tandem_tests::scenarios::INTRODUCTION,
    );
    let of_pairing = |events: &[Event], pairing: &Value| {
        let id = pairing["id"].as_str().expect("pairing id");
        events.iter().filter(|e| e.uid.contains(id)).count()
    };
    let (beas, _) = read_feed(&app, &new_feed(&app, &bea).url);
    let (dans, _) = read_feed(&app, &new_feed(&app, &dan).url);
    let (cleos, _) = read_feed(&app, &new_feed(&app, &cleo).url);
    let (adas, _) = read_feed(&app, &new_feed(&app, &ada).url);
    assert!(!beas.is_empty());
    assert_eq!(of_pairing(&beas, &pairing), beas.len());
    assert_eq!(of_pairing(&dans, &dans_pairing), dans.len());
    assert_eq!(cleos.len(), beas.len() + dans.len());
    assert!(adas.is_empty(), "the admin is in no pairing");
    assert!(dans.iter().all(|e| !e.description.contains("Bea")));
}

#[test]
fn a_member_removed_from_the_group_no_longer_sees_its_check_ins() {
    let app = TestApp::spawn();
    let PairedProgram {
        admin: ada,
        mentor: cleo,
        group,
        ..
    } = app.paired_program();
    let feed = new_feed(&app, &cleo);
    assert!(!read_feed(&app, &feed.url).0.is_empty());
    let group_id = group["id"].as_str().expect("group id");
    let removed = app
        .delete(&format!("/v1/groups/{group_id}/members/{}", cleo.id))
        .token(&ada.token)
        .send();
    assert_eq!(removed.status, 204, "{}", removed.text);
    let (after, _) = read_feed(&app, &feed.url);
    assert!(after.is_empty(), "{after:?}");
}

#[test]
fn an_ended_pairing_keeps_only_the_check_ins_it_reached() {
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        pairing,
        ..
    } = app.paired_program();
    let feed = new_feed(&app, &bea);
    app.clock.advance(chrono::Duration::days(8));
    let ended = app
        .post(&format!(
            "/v1/pairings/{}/end",
            pairing["id"].as_str().expect("id")
        ))
        .token(&bea.token)
        .json(&json!({"reason": "We moved on"}))
        .send();
    assert_eq!(ended.status, 200, "{}", ended.text);
    let (events, _) = read_feed(&app, &feed.url);
    // Check-ins 1 and 2 had opened (the second on day 7); the rest never came.
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[1].summary.starts_with("Check-in 2: "));
}

#[test]
fn notes_never_appear_in_the_feed() {
    use tandem_domain::check_in::Entry;
    use tandem_domain::ids::{PairingId, UserId};
    let app = TestApp::spawn();
    let PairedProgram {
        mentee: bea,
        pairing,
        ..
    } = app.paired_program();
    let note = "A private note that stays between us";
    // Written behind the API, so the test stands without the check-in routes.
    let db = tandem_persistence::Db::open(&tandem_persistence::DbConfig {
        url: app.database_url().to_owned(),
        pool_size: 1,
        connect_timeout: std::time::Duration::from_secs(10),
    })
    .expect("open");
    let uuid = |raw: &str| raw.parse::<uuid::Uuid>().expect("uuid");
    let now = Utc::now();
    let entry = Entry {
        pairing_id: PairingId(uuid(pairing["id"].as_str().expect("id"))),
        number: 1,
        user_id: UserId(uuid(&bea.id)),
        rating: 5,
        note: Some(note.to_owned()),
        completed_at: now,
        updated_at: now,
    };
    db.write(|conn| tandem_persistence::check_ins::save(conn, &entry))
        .expect("entry saved");
    let (events, text) = read_feed(&app, &new_feed(&app, &bea).url);
    assert!(!events.is_empty());
    // Unfolded (RFC 5545 §3.1), so a note split across lines would still be found.
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    assert!(!unfolded.contains("private note"), "{unfolded}");
    let searched = without_spaces(note);
    for event in &events {
        assert!(!without_spaces(&event.description).contains(&searched));
        assert!(!without_spaces(&event.summary).contains(&searched));
    }
}
