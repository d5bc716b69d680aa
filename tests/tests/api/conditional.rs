//! Conditional requests on every single resource (issue 11): each answer carries an
//! `ETag`; a write changes it; `If-None-Match` with the current tag is a 304 without a
//! body; a stale `If-Match` is a 412 and the current one goes through; and of N updates
//! racing with the same `If-Match`, exactly one lands and the rest are 412. Without a
//! precondition, racing updates all land (the last write wins).

use std::sync::Barrier;

use chrono::Duration;
use serde_json::{json, Value};
use tandem_tests::{OpenProgram, PairedProgram, Request, Response, TestApp, TestUser};

/// How many updates race.
const RACERS: usize = 16;

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

fn etag_of(response: &Response) -> String {
    response
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag on {} {}", response.status, response.text))
        .to_owned()
}

/// Sends every request from a thread of its own, all released together.
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

/// The read side of the contract: the GET carries an ETag; `If-None-Match` naming it
/// (alone, weak, in a list, or `*`) is a 304 with the tag and no body; another tag is a
/// 200; a malformed header is a 422 naming it. Answers the current tag.
fn assert_revalidates(read: &dyn Fn() -> Request) -> String {
    let first = read().send();
    assert_eq!(first.status, 200, "{}", first.text);
    let tag = etag_of(&first);
    for condition in [
        tag.clone(),
        format!("W/{tag}"),
        format!("\"nope\", {tag}"),
        "*".to_owned(),
    ] {
        let again = read().header("If-None-Match", &condition).send();
        assert_eq!(again.status, 304, "{condition}: {}", again.text);
        assert_eq!(again.header("etag"), Some(tag.as_str()), "{condition}");
        assert!(again.text.is_empty(), "a 304 has no body: {}", again.text);
    }
    let other = read().header("If-None-Match", "\"0\"").send();
    assert_eq!(other.status, 200, "{}", other.text);
    assert_eq!(other.body, first.body);
    read()
        .header("If-None-Match", "3")
        .send()
        .invalid_field("If-None-Match");
    tag
}

/// The write side: a stale `If-Match` is a 412 problem and changes nothing; the current
/// one goes through and answers a new tag, which a read then confirms (and a
/// revalidation with the old tag is a 200).
fn assert_preconditions(read: &dyn Fn() -> Request, write: &dyn Fn(usize) -> Request) -> String {
    let before = assert_revalidates(read);
    let stale = write(1).header("If-Match", "\"0-0\"").send();
    stale.problem(412);
    assert_eq!(etag_of(&read().send()), before, "a 412 changes nothing");

    let written = write(2).header("If-Match", &before).send();
    assert!(
        (200..300).contains(&written.status),
        "{} {}",
        written.status,
        written.text
    );
    let read_back = read().header("If-None-Match", &before).send();
    assert_eq!(
        read_back.status, 200,
        "the old tag is stale: {}",
        read_back.text
    );
    let after = etag_of(&read_back);
    assert_ne!(after, before, "a write changes the ETag");
    if written.status == 200 {
        assert_eq!(
            etag_of(&written),
            after,
            "the write answers the tag a read sees"
        );
    }
    // The tag the write replaced is now stale for writes too.
    write(3).header("If-Match", &before).send().problem(412);
    after
}

/// RACERS writes with the same (current) `If-Match`: exactly one 2xx, the others 412;
/// answers the index of the winner.
fn race(tag: &str, write: &dyn Fn(usize) -> Request) -> usize {
    let answers = all_at_once(
        (0..RACERS)
            .map(|n| write(n).header("If-Match", tag))
            .collect(),
    );
    let winners: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, r)| (200..300).contains(&r.status))
        .map(|(n, _)| n)
        .collect();
    let others: Vec<String> = answers
        .iter()
        .filter(|r| !(200..300).contains(&r.status) && r.status != 412)
        .map(|r| format!("{} {}", r.status, r.text))
        .collect();
    assert!(others.is_empty(), "only 2xx and 412: {others:#?}");
    assert_eq!(winners.len(), 1, "exactly one wins: {winners:?}");
    for answer in answers.iter().filter(|r| r.status == 412) {
        answer.problem(412);
    }
    winners[0]
}

/// RACERS writes without a precondition: all land.
fn all_land(write: &dyn Fn(usize) -> Request) {
    let failed: Vec<String> = all_at_once((0..RACERS).map(write).collect())
        .iter()
        .filter(|r| !(200..300).contains(&r.status))
        .map(|r| format!("{} {}", r.status, r.text))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

fn pairing_path(paired: &PairedProgram) -> String {
    format!("/v1/pairings/{}", id(&paired.pairing))
}

#[test]
fn a_pairing_is_tagged_per_viewer_and_by_the_clock_and_its_end_honours_if_match() {
    let app = TestApp::spawn();
    let paired = app.paired_short_program();
    let path = pairing_path(&paired);
    let read_as = |user: &TestUser| {
        let path = path.clone();
        let token = user.token.clone();
        let app = &app;
        move || app.get(&path).token(&token)
    };
    let as_bea = read_as(&paired.mentee);
    let as_cleo = read_as(&paired.mentor);
    let as_ada = read_as(&paired.admin);
    let bea_tag = assert_revalidates(&as_bea);
    let cleo_tag = etag_of(&as_cleo().send());
    let ada_tag = etag_of(&as_ada().send());
    assert_ne!(bea_tag, cleo_tag, "my_role differs, so does the tag");
    assert_ne!(bea_tag, ada_tag);
    // Another viewer's tag does not revalidate this viewer's representation.
    assert_eq!(
        as_bea().header("If-None-Match", &cleo_tag).send().status,
        200
    );

    // The mentee's display name is part of the representation.
    let renamed = app
        .patch("/v1/me")
        .token(&paired.mentee.token)
        .json(&json!({"display_name": "Bea B."}))
        .send();
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let bea_renamed = etag_of(&as_bea().send());
    assert_ne!(bea_renamed, bea_tag);

    // Ending: stale 412, current 200 with the new tag.
    let end = |_: usize| {
        app.post(&format!("{path}/end"))
            .token(&paired.mentee.token)
            .json(&json!({"reason": "We are moving."}))
    };
    end(0).header("If-Match", &bea_tag).send().problem(412);
    let ended = end(0).header("If-Match", &bea_renamed).send();
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(ended.body["status"], "ended");
    assert_eq!(etag_of(&ended), etag_of(&as_bea().send()));
    assert_ne!(etag_of(&ended), bea_renamed);
}

#[test]
fn a_pairing_the_clock_completes_changes_its_etag_without_a_write() {
    let app = TestApp::spawn();
    let paired = app.paired_short_program();
    let path = pairing_path(&paired);
    let read = || app.get(&path).token(&paired.mentee.token);
    let active = read().send();
    assert_eq!(active.body["status"], "active");
    let tag = etag_of(&active);

    app.clock.advance(Duration::days(30));
    let completed = read().header("If-None-Match", &tag).send();
    assert_eq!(completed.status, 200, "{}", completed.text);
    assert_eq!(completed.body["status"], "completed");
    assert_ne!(etag_of(&completed), tag);
    // And an end against the tag of the active pairing is refused as stale.
    app.post(&format!("{path}/end"))
        .token(&paired.mentee.token)
        .header("If-Match", &tag)
        .json(&json!({"reason": "Done."}))
        .send()
        .problem(412);
}

#[test]
fn racing_ends_with_one_etag_end_it_once() {
    let app = TestApp::spawn();
    let paired = app.paired_program();
    let path = pairing_path(&paired);
    let tag = etag_of(&app.get(&path).token(&paired.admin.token).send());
    let reasons: Vec<String> = (0..RACERS).map(|n| format!("Reason {n}.")).collect();
    let winner = race(&tag, &|n| {
        app.post(&format!("{path}/end"))
            .token(&paired.admin.token)
            .json(&json!({"reason": reasons[n]}))
    });
    let stored = app.get(&path).token(&paired.admin.token).send();
    assert_eq!(stored.body["status"], "ended");
    assert_eq!(stored.body["end_reason"], reasons[winner].as_str());
}

#[test]
fn an_enrolment_honours_both_preconditions_and_its_delete_too() {
    let app = TestApp::spawn();
    let OpenProgram {
        admin,
        member: dan,
        program,
        ..
    } = app.open_program(json!({"matching": "admin"}));
    let enrolment = id(&app.enrol_mentee(&dan, &program));
    let path = format!("/v1/enrolments/{enrolment}");
    let read = || app.get(&path).token(&dan.token);
    let write = |_: usize| {
        app.patch(&path)
            .token(&dan.token)
            .json(&json!({"status": "withdrawn"}))
    };
    let tag = assert_preconditions(&read, &write);
    assert_eq!(read().send().body["status"], "withdrawn");

    // The right to the change is judged before the precondition: 403, not 412.
    app.patch(&path)
        .token(&dan.token)
        .header("If-Match", "\"1-00\"")
        .json(&json!({"status": "active"}))
        .send()
        .problem(403);
    app.delete(&path)
        .token(&admin.token)
        .header("If-Match", "\"1-00\"")
        .send()
        .problem(403);
    let stranger = app.register("Stranger");
    app.delete(&path)
        .token(&stranger.token)
        .header("If-Match", &tag)
        .send()
        .problem(404);

    // DELETE: stale 412, current 204.
    app.delete(&path)
        .token(&dan.token)
        .header("If-Match", "\"1-00\"")
        .send()
        .problem(412);
    let deleted = app
        .delete(&path)
        .token(&dan.token)
        .header("If-Match", &tag)
        .send();
    assert_eq!(deleted.status, 204, "{}", deleted.text);

    // The admin reads the same enrolment: its tag is the admin's to revalidate as well.
    let as_admin = || app.get(&path).token(&admin.token);
    assert_revalidates(&as_admin);
}

#[test]
fn a_member_has_a_read_a_tag_and_conditional_changes() {
    let app = TestApp::spawn();
    let group = app.group_with_members();
    let [bea, cleo] = &group.members;
    let path = format!("/v1/groups/{}/members/{}", group.group_id, bea.id);
    let read = || app.get(&path).token(&cleo.token);
    let write = |n: usize| {
        app.patch(&path)
            .token(&group.owner.token)
            .json(&json!({"role": if n.is_multiple_of(2) { "admin" } else { "member" }}))
    };
    let before = assert_preconditions(&read, &write);
    assert_eq!(read().send().body["role"], "admin");

    // Her display name is part of the member's representation.
    app.patch("/v1/me")
        .token(&bea.token)
        .json(&json!({"display_name": "Beatrice"}))
        .send();
    let renamed = etag_of(&read().send());
    assert_ne!(renamed, before);

    // A non-member learns nothing, precondition or not.
    let stranger = app.register("Stranger");
    let hidden = app
        .get(&path)
        .token(&stranger.token)
        .header("If-None-Match", "*")
        .send();
    hidden.problem(404);

    // Removal: stale 412, current 204.
    let remove = || app.delete(&path).token(&group.owner.token);
    remove().header("If-Match", &before).send().problem(412);
    let removed = remove().header("If-Match", &renamed).send();
    assert_eq!(removed.status, 204, "{}", removed.text);
    read().send().problem(404);
}

#[test]
fn racing_role_changes_with_one_etag_land_once_and_the_winner_stands() {
    let app = TestApp::spawn();
    let group = app.group_with_members();
    let path = format!(
        "/v1/groups/{}/members/{}",
        group.group_id, group.members[0].id
    );
    let tag = etag_of(&app.get(&path).token(&group.owner.token).send());
    let role = |n: usize| {
        if n.is_multiple_of(2) {
            "admin"
        } else {
            "member"
        }
    };
    let winner = race(&tag, &|n| {
        app.patch(&path)
            .token(&group.owner.token)
            .json(&json!({"role": role(n)}))
    });
    let stored = app.get(&path).token(&group.owner.token).send();
    assert_eq!(stored.body["role"], role(winner));
}

#[test]
fn a_check_in_is_tagged_by_both_entries_and_per_viewer() {
    let app = TestApp::spawn();
    let paired = app.paired_program();
    let path = format!("{}/check-ins/1", pairing_path(&paired));
    let as_bea = || app.get(&path).token(&paired.mentee.token);
    let as_ada = || app.get(&path).token(&paired.admin.token);
    let write = |n: usize| {
        app.put(&path)
            .token(&paired.mentee.token)
            .json(&json!({"rating": 1 + n % 5, "note": format!("note {n}")}))
    };
    let after_bea = assert_preconditions(&as_bea, &write);
    assert_eq!(as_bea().send().body["entries"][0]["note"], "note 2");

    // The admin sees no notes, so never the partners' tag.
    let admin = as_ada().send();
    assert!(
        admin.body["entries"][0].get("note").is_none(),
        "{}",
        admin.text
    );
    assert_ne!(etag_of(&admin), after_bea);
    assert_revalidates(&as_ada);

    // The other partner's entry is part of the check-in: Bea's tag goes stale.
    let cleo = app
        .put(&path)
        .token(&paired.mentor.token)
        .json(&json!({"rating": 5}))
        .send();
    assert_eq!(cleo.status, 200, "{}", cleo.text);
    assert_eq!(
        as_bea().header("If-None-Match", &after_bea).send().status,
        200
    );
    write(4).header("If-Match", &after_bea).send().problem(412);

    // A check-in beyond the schedule is not found.
    app.get(&format!("{}/check-ins/52", pairing_path(&paired)))
        .token(&paired.mentee.token)
        .send()
        .problem(404);
}

#[test]
fn racing_check_ins_with_one_etag_land_once_and_unconditional_ones_all_land() {
    let app = TestApp::spawn();
    let paired = app.paired_program();
    let path = format!("{}/check-ins/1", pairing_path(&paired));
    let read = || app.get(&path).token(&paired.mentee.token);
    let write = |n: usize| {
        app.put(&path)
            .token(&paired.mentee.token)
            .json(&json!({"rating": 1 + n % 5, "note": format!("note {n}")}))
    };
    let tag = etag_of(&read().send());
    let winner = race(&tag, &write);
    assert_eq!(
        read().send().body["entries"][0]["note"],
        format!("note {winner}").as_str()
    );
    all_land(&write);
}

#[test]
fn a_notification_has_a_read_and_conditional_marks() {
    let app = TestApp::spawn();
    let paired = app.paired_program();
    let bea = &paired.mentee;
    let list = app.get("/v1/me/notifications").token(&bea.token).send();
    let notification = list.str("/items/0/id");
    let path = format!("/v1/me/notifications/{notification}");
    let read = || app.get(&path).token(&bea.token);
    let write = |n: usize| {
        app.patch(&path)
            .token(&bea.token)
            .json(&json!({"read": n.is_multiple_of(2)}))
    };
    let tag = assert_preconditions(&read, &write);
    assert!(read().send().body["read_at"].is_string());

    // Someone else's notification is not found, with or without a precondition.
    let cleo = &paired.mentor;
    app.get(&path).token(&cleo.token).send().problem(404);
    app.patch(&path)
        .token(&cleo.token)
        .header("If-Match", &tag)
        .json(&json!({"read": false}))
        .send()
        .problem(404);

    let winner = race(&tag, &write);
    assert_eq!(
        read().send().body["read_at"].is_string(),
        winner.is_multiple_of(2)
    );
}

#[test]
fn a_report_has_a_read_for_admins_and_a_conditional_resolve() {
    let app = TestApp::spawn();
    let paired = app.paired_program();
    let reported = app
        .post(&format!("{}/report", pairing_path(&paired)))
        .token(&paired.mentee.token)
        .json(&json!({"reason": "Rude messages."}))
        .send();
    assert_eq!(reported.status, 201, "{}", reported.text);
    let path = format!("/v1/reports/{}", id(&reported.body));
    let read = || app.get(&path).token(&paired.admin.token);
    let write = |_: usize| {
        app.patch(&path)
            .token(&paired.admin.token)
            .json(&json!({"status": "resolved"}))
    };
    let open = assert_revalidates(&read);
    let racing = race(&open, &write);
    assert!(racing < RACERS);
    let resolved = read().send();
    assert_eq!(resolved.body["status"], "resolved");
    assert_ne!(etag_of(&resolved), open);
    write(0).header("If-Match", &open).send().problem(412);
    // Resolving again without a precondition is no change, and no conflict.
    all_land(&write);

    // The reporter and the reported member are not its readers.
    app.get(&path)
        .token(&paired.mentee.token)
        .send()
        .problem(403);
    app.get(&path)
        .token(&paired.mentor.token)
        .send()
        .problem(403);
}

#[test]
fn the_older_resources_revalidate_too() {
    let app = TestApp::spawn();
    let paired = app.paired_program();
    let ada = &paired.admin;
    let group_id = id(&paired.group);
    let program_id = id(&paired.program);
    let me = || app.get("/v1/me").token(&ada.token);
    let group = || app.get(&format!("/v1/groups/{group_id}")).token(&ada.token);
    let program = || {
        app.get(&format!("/v1/programs/{program_id}"))
            .token(&ada.token)
    };
    let builtin = || {
        app.get("/v1/templates/new-parents?lang=it")
            .token(&ada.token)
    };
    let reads: [&dyn Fn() -> Request; 4] = [&me, &group, &program, &builtin];
    for read in reads {
        assert_revalidates(read);
    }
    // Another language is another representation.
    let english = app
        .get("/v1/templates/new-parents?lang=en")
        .token(&ada.token)
        .send();
    assert_ne!(etag_of(&english), etag_of(&builtin().send()));

    // A group reads differently to its owner (invite code) and to a member.
    let as_member = app
        .get(&format!("/v1/groups/{group_id}"))
        .token(&paired.mentee.token)
        .send();
    assert_ne!(etag_of(&as_member), etag_of(&group().send()));

    let created = app
        .post(&format!("/v1/groups/{group_id}/templates"))
        .token(&ada.token)
        .json(&tandem_tests::templates::book_club())
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    let template = || {
        app.get(&format!("/v1/groups/{group_id}/templates/book-club"))
            .token(&ada.token)
    };
    assert_revalidates(&template);
}

#[test]
fn racing_profile_updates_with_one_etag_land_once_and_without_one_all_land() {
    let app = TestApp::spawn();
    let ada = app.register("Ada");
    let write = |n: usize| {
        app.patch("/v1/me")
            .token(&ada.token)
            .json(&json!({"display_name": format!("Ada {n}")}))
    };
    let tag = etag_of(&app.get("/v1/me").token(&ada.token).send());
    let winner = race(&tag, &write);
    let me = app.get("/v1/me").token(&ada.token).send();
    assert_eq!(me.body["display_name"], format!("Ada {winner}").as_str());
    // Issue 12: without If-Match, concurrent PATCHes of one user never conflict.
    all_land(&write);
    assert_eq!(
        etag_of(&app.get("/v1/me").token(&ada.token).send()),
        format!("\"{}\"", RACERS + 2)
    );
}

/// The version an ETag starts with (`"12-…"` or `"12"`).
fn version_of(tag: &str) -> u64 {
    tag.trim_matches('"')
        .split('-')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("not a versioned ETag: {tag}"))
}

#[test]
fn an_invite_code_rotation_never_undoes_a_rename_racing_it() {
    let app = TestApp::spawn();
    let group = app.group_with_members();
    let path = format!("/v1/groups/{}", group.group_id);
    let token = &group.owner.token;
    let answers = all_at_once(
        (0..RACERS)
            .map(|n| {
                if n.is_multiple_of(2) {
                    app.patch(&path)
                        .token(token)
                        .json(&json!({"name": format!("Parents {n}")}))
                } else {
                    app.post(&format!("{path}/invite-code")).token(token)
                }
            })
            .collect(),
    );
    // Replayed in version order, each rotation shows the name the last rename wrote.
    let mut by_version: Vec<(u64, bool, String)> = answers
        .iter()
        .enumerate()
        .map(|(n, r)| {
            assert_eq!(r.status, 200, "{}", r.text);
            (version_of(&etag_of(r)), n.is_multiple_of(2), r.str("/name"))
        })
        .collect();
    by_version.sort();
    let mut name = "Parents".to_owned();
    for (version, renamed, shown) in by_version {
        if renamed {
            name = shown;
        } else {
            assert_eq!(
                shown, name,
                "the rotation at version {version} undid a rename"
            );
        }
    }
    let stored = app.get(&path).token(token).send();
    assert_eq!(stored.str("/name"), name);

    // And it honours If-Match like any update.
    let rotate = || app.post(&format!("{path}/invite-code")).token(token);
    rotate().header("If-Match", "\"1-00\"").send().problem(412);
    let current = etag_of(&stored);
    let rotated = rotate().header("If-Match", &current).send();
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert_ne!(rotated.str("/invite_code"), stored.str("/invite_code"));
}
