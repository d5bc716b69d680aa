//! The demo community: a parenting group with two `new-parents` programs, one ending
//! (its pairs completed or about to) and one running (pairs three weeks in, with
//! check-ins, messages, a report, enrolments waiting for review).
//!
//! Everything happens on a timeline in the past: each step runs at its own instant
//! through [`actions`], and the reminder job runs once a simulated day in between, so
//! schedules, check-in windows and notifications are what the real flows would have
//! made. The whole community is written in one transaction: a failed run leaves
//! nothing. It is found again by its owner's fixed email, so a second run only prints
//! the logins.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tandem_domain::clock::storable;
use tandem_domain::enrolment::EnrolmentRole;
use tandem_domain::group::Role;
use tandem_domain::ids::{EnrolmentId, GroupId, PairingId, ProgramId, UserId};
use tandem_domain::program::{ProgramStatus, SettingsChange};
use tandem_domain::question::{AnswerValue, Answers};
use tandem_domain::template::Language;
use tandem_domain::user::Email;
use tandem_persistence::{users, Db, DbConn};

use super::{actions, answers_for, names};

/// The one password of every demo account.
pub const DEMO_PASSWORD: &str = "tandem-demo-2026";

/// The template both demo programs start from.
const TEMPLATE: &str = "new-parents";

/// Where the people of the demo are in [`names::cast`].
const OWNER: usize = 0;
const ADMIN: usize = 1;
const SARAH: usize = 2;
const JAMES: usize = 3;
const PRIYA: usize = 4;
const HANNAH: usize = 5;
const TOM: usize = 6;
const GRACE: usize = 7;
const EMMA: usize = 8;
const LUCY: usize = 9;
const OLIVIA: usize = 10;
const BEN: usize = 11;
const ROSIE: usize = 12;
const SOPHIE: usize = 13;
const AMIR: usize = 14;
const CHLOE: usize = 15;
const MIA: usize = 16;

/// The program ending and the program running.
const SPRING: usize = 0;
const AUTUMN: usize = 1;

/// An account to try, and what it shows.
#[derive(Debug, Clone)]
pub struct Login {
    pub email: String,
    pub display_name: String,
    pub role: String,
}

/// What `tandem demo` made (or found).
#[derive(Debug, Clone)]
pub struct Community {
    /// False when the demo was already there and nothing was written.
    pub created: bool,
    pub password: &'static str,
    pub logins: Vec<Login>,
}

/// The demo's email of cast member `index` in `language` (the domain differs per
/// language, so both communities can live in one database).
pub fn email_of(language: Language, index: usize) -> String {
    let (name, _) = names::cast(language)[index];
    let domain = match language {
        Language::En => "parents-together.example.org",
        Language::It => "genitori-insieme.example.org",
    };
    format!("{}@{domain}", names::email_local_part(name))
}

/// Fills `db` (migrated) with the demo community in `language`, as of `now`, unless it
/// is already there.
pub fn fill(db: &Db, language: Language, now: DateTime<Utc>) -> anyhow::Result<Community> {
    let now = storable(now);
    let owner =
        Email::parse(&email_of(language, OWNER)).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let exists = db.read(|conn| Ok::<_, anyhow::Error>(users::find_by_email(conn, &owner)?))?;
    if exists.is_none() {
        // One password hash for everyone: argon2 per account would only cost time.
        let hash = crate::auth::password::hash(DEMO_PASSWORD)
            .map_err(|e| anyhow::anyhow!("hashing the demo password: {e:?}"))?;
        db.write(|conn| build(conn, language, &hash, now))
            .context("writing the demo community")?;
    }
    Ok(Community {
        created: exists.is_none(),
        password: DEMO_PASSWORD,
        logins: logins(language),
    })
}

/// The accounts worth logging in as, with what each one shows.
fn logins(language: Language) -> Vec<Login> {
    let cast = names::cast(language);
    [
        (
            OWNER,
            "group owner: reviews enrolments, sees the report and insights",
        ),
        (ADMIN, "group admin"),
        (
            EMMA,
            "mentee, three weeks in: check-ins 1-3 done, the 4th due today, messages",
        ),
        (PRIYA, "mentor of the mentee above and of a second one"),
        (
            LUCY,
            "mentee whose mentor missed check-ins; reported it to the admins",
        ),
        (
            AMIR,
            "mentee in the ending program: the pairing completes in two days",
        ),
        (
            SOPHIE,
            "mentee whose pairing in the ending program has completed",
        ),
        (
            MIA,
            "mentee waiting for a partner (the admins see suggestions)",
        ),
    ]
    .into_iter()
    .map(|(index, role)| Login {
        email: email_of(language, index),
        display_name: cast[index].0.to_owned(),
        role: role.to_owned(),
    })
    .collect()
}

/// A step of the story, at its instant.
enum Step {
    Register(usize),
    CreateGroup,
    Join(usize, Role),
    CreateProgram(usize),
    Status(usize, ProgramStatus),
    Enrol {
        person: usize,
        program: usize,
        role: EnrolmentRole,
        capacity: Option<i64>,
    },
    Approve(usize, usize),
    Pair {
        program: usize,
        mentor: usize,
        mentee: usize,
    },
    CheckIn {
        pair: (usize, usize),
        number: u16,
        person: usize,
        rating: i64,
        note: Option<usize>,
    },
    Message {
        pair: (usize, usize),
        author: usize,
        text: usize,
        week: Option<i64>,
    },
    Report {
        pair: (usize, usize),
        by: usize,
    },
}

/// A pair in the story: its mentor and mentee, when it was made, and its partners'
/// activity.
struct PairPlan {
    program: usize,
    mentor: usize,
    mentee: usize,
    days_ago: i64,
    /// Per check-in: the mentor's and the mentee's ratings (`None`: no entry).
    check_ins: &'static [(Option<i64>, Option<i64>)],
    messages: usize,
}

const PAIRS: [PairPlan; 7] = [
    // The ending program: two pairs completed, one completes in two days.
    PairPlan {
        program: SPRING,
        mentor: SARAH,
        mentee: SOPHIE,
        days_ago: 58,
        check_ins: &[
            (Some(4), Some(4)),
            (Some(4), Some(5)),
            (Some(5), Some(4)),
            (Some(4), Some(4)),
            (Some(5), Some(5)),
            (Some(4), Some(5)),
            (Some(5), Some(5)),
            (Some(5), Some(5)),
        ],
        messages: 4,
    },
    PairPlan {
        program: SPRING,
        mentor: SARAH,
        mentee: CHLOE,
        days_ago: 57,
        check_ins: &[
            (Some(3), Some(3)),
            (Some(4), Some(3)),
            (Some(4), Some(4)),
            (None, Some(3)),
            (None, None),
            (Some(4), Some(4)),
            (Some(4), Some(5)),
            (Some(5), Some(5)),
        ],
        messages: 3,
    },
    PairPlan {
        program: SPRING,
        mentor: JAMES,
        mentee: AMIR,
        days_ago: 54,
        check_ins: &[
            (Some(4), Some(4)),
            (Some(4), Some(4)),
            (Some(3), Some(4)),
            (Some(4), Some(5)),
            (Some(5), Some(4)),
            (Some(4), Some(4)),
            (Some(5), Some(5)),
            (None, Some(5)),
        ],
        messages: 5,
    },
    // The running program: Emma's pair is the one to look at.
    PairPlan {
        program: AUTUMN,
        mentor: PRIYA,
        mentee: EMMA,
        days_ago: 21,
        check_ins: &[(Some(4), Some(4)), (Some(5), Some(4)), (Some(5), Some(5))],
        messages: 8,
    },
    PairPlan {
        program: AUTUMN,
        mentor: HANNAH,
        mentee: LUCY,
        days_ago: 20,
        check_ins: &[(Some(3), Some(3)), (None, Some(2))],
        messages: 0,
    },
    PairPlan {
        program: AUTUMN,
        mentor: PRIYA,
        mentee: OLIVIA,
        days_ago: 19,
        check_ins: &[(Some(4), Some(4)), (None, None), (None, Some(4))],
        messages: 3,
    },
    PairPlan {
        program: AUTUMN,
        mentor: TOM,
        mentee: BEN,
        days_ago: 10,
        check_ins: &[(Some(4), Some(5)), (Some(4), None)],
        messages: 2,
    },
];

/// The whole story, in time order.
fn story(now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Step)> {
    let ago = |days: i64, hours: i64| now - Duration::days(days) + Duration::hours(hours);
    let mut steps = Vec::new();
    // Everyone registers over a day and a half and joins at once; the owner starts the
    // group first and makes Daniel an admin.
    for person in 0..names::cast(Language::En).len() {
        let hours = i64::try_from(person).unwrap_or(0) * 2;
        steps.push((ago(70, hours), Step::Register(person)));
        if person == OWNER {
            steps.push((ago(70, 1), Step::CreateGroup));
        } else {
            let role = if person == ADMIN {
                Role::Admin
            } else {
                Role::Member
            };
            steps.push((ago(70, hours + 1), Step::Join(person, role)));
        }
    }
    // The spring program: open enrolment, no review, mentors take two by default.
    steps.push((ago(64, 0), Step::CreateProgram(SPRING)));
    steps.push((ago(64, 1), Step::Status(SPRING, ProgramStatus::Open)));
    for (k, (person, role, capacity)) in [
        (SARAH, EnrolmentRole::Mentor, Some(2)),
        (JAMES, EnrolmentRole::Mentor, Some(1)),
        (SOPHIE, EnrolmentRole::Mentee, None),
        (CHLOE, EnrolmentRole::Mentee, None),
        (AMIR, EnrolmentRole::Mentee, None),
    ]
    .into_iter()
    .enumerate()
    {
        let hours = i64::try_from(k).unwrap_or(0) * 3;
        steps.push((
            ago(63, hours),
            Step::Enrol {
                person,
                program: SPRING,
                role,
                capacity,
            },
        ));
    }
    // Its enrolment closes; the pairs go on.
    steps.push((ago(21, 2), Step::Status(SPRING, ProgramStatus::Closed)));
    // The autumn program: enrolments reviewed by the admins.
    steps.push((ago(30, 0), Step::CreateProgram(AUTUMN)));
    steps.push((ago(30, 1), Step::Status(AUTUMN, ProgramStatus::Open)));
    let autumn = [
        (PRIYA, EnrolmentRole::Mentor, Some(2), 29, Some(28)),
        (HANNAH, EnrolmentRole::Mentor, Some(1), 29, Some(28)),
        (TOM, EnrolmentRole::Mentor, Some(1), 29, Some(28)),
        (EMMA, EnrolmentRole::Mentee, None, 28, Some(27)),
        (LUCY, EnrolmentRole::Mentee, None, 28, Some(27)),
        (OLIVIA, EnrolmentRole::Mentee, None, 28, Some(27)),
        (BEN, EnrolmentRole::Mentee, None, 28, Some(27)),
        (GRACE, EnrolmentRole::Mentor, Some(1), 3, Some(2)),
        (MIA, EnrolmentRole::Mentee, None, 3, Some(2)),
        // Still waiting for an admin's review.
        (ROSIE, EnrolmentRole::Mentee, None, 1, None),
    ];
    for (k, (person, role, capacity, enrolled, approved)) in autumn.into_iter().enumerate() {
        let hours = i64::try_from(k).unwrap_or(0);
        steps.push((
            ago(enrolled, hours),
            Step::Enrol {
                person,
                program: AUTUMN,
                role,
                capacity,
            },
        ));
        if let Some(days) = approved {
            steps.push((ago(days, hours), Step::Approve(person, AUTUMN)));
        }
    }
    for plan in &PAIRS {
        let made = ago(plan.days_ago, 0);
        let pair = (plan.mentor, plan.mentee);
        steps.push((
            made,
            Step::Pair {
                program: plan.program,
                mentor: plan.mentor,
                mentee: plan.mentee,
            },
        ));
        // Each check-in a day or two into its week: inside its window (which opens at
        // the start of its due date in the mentee's zone), whatever the hour now is.
        for (index, (mentor, mentee)) in plan.check_ins.iter().enumerate() {
            let week = i64::try_from(index).unwrap_or(0);
            let number = u16::try_from(index + 1).unwrap_or(1);
            let day = made + Duration::days(7 * week + 1);
            for (person, rating, hours) in [(plan.mentor, mentor, 5), (plan.mentee, mentee, 20)] {
                if let Some(rating) = *rating {
                    steps.push((
                        day + Duration::hours(hours),
                        Step::CheckIn {
                            pair,
                            number,
                            person,
                            rating,
                            // Some entries without a note: notes are optional.
                            note: (index % 3 != 2).then_some(index + person),
                        },
                    ));
                }
            }
        }
        // Messages every two days, mentor first; each tied to the week it was written in.
        for index in 0..plan.messages {
            let offset = i64::try_from(index).unwrap_or(0);
            let author = if index % 2 == 0 {
                plan.mentor
            } else {
                plan.mentee
            };
            steps.push((
                made + Duration::days(2 * offset) + Duration::hours(3),
                Step::Message {
                    pair,
                    author,
                    text: index,
                    week: Some(2 * offset / 7 + 1),
                },
            ));
        }
    }
    // Lucy's mentor went quiet; she tells the admins.
    steps.push((
        ago(3, 4),
        Step::Report {
            pair: (HANNAH, LUCY),
            by: LUCY,
        },
    ));
    // Nothing from the future: the story stops at `now`.
    steps.retain(|(at, _)| *at <= now);
    // A stable sort keeps the written order of steps at the same instant.
    steps.sort_by_key(|(at, _)| *at);
    steps
}

/// What the story made so far, by cast index.
#[derive(Default)]
struct Made {
    users: HashMap<usize, UserId>,
    group: Option<GroupId>,
    programs: HashMap<usize, ProgramId>,
    enrolments: HashMap<(usize, usize), EnrolmentId>,
    pairings: HashMap<(usize, usize), PairingId>,
}

fn found<K: std::hash::Hash + Eq + std::fmt::Debug + Copy, V: Copy>(
    map: &HashMap<K, V>,
    key: K,
) -> anyhow::Result<V> {
    map.get(&key)
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the demo's story refers to {key:?} before making it"))
}

fn build(
    conn: &mut DbConn,
    language: Language,
    password_hash: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let cast = names::cast(language);
    let (group_name, group_description) = names::group(language);
    let program_texts = names::programs(language);
    let notes = names::notes(language);
    let texts = names::messages(language);
    // Answers differ from person to person but are the same on every run.
    let mut rng = StdRng::seed_from_u64(2026);
    let mut made = Made::default();
    let steps = story(now);
    let mut next_tick = steps.first().map_or(now, |(at, _)| *at);
    for (at, step) in steps {
        // The reminder job, once a simulated day, up to this step.
        while next_tick <= at {
            actions::run_jobs(conn, next_tick)?;
            next_tick += Duration::days(1);
        }
        match step {
            Step::Register(person) => {
                let (name, zone) = cast[person];
                let user = actions::register(
                    conn,
                    &email_of(language, person),
                    name,
                    zone,
                    password_hash,
                    at,
                )?;
                made.users.insert(person, user.id);
            }
            Step::CreateGroup => {
                let owner = found(&made.users, OWNER)?;
                let group = actions::create_group(conn, owner, group_name, group_description, at)?;
                made.group = Some(group.id);
            }
            Step::Join(person, role) => {
                let group = made.group.ok_or_else(|| anyhow::anyhow!("no group yet"))?;
                actions::join(conn, group, found(&made.users, person)?, role, at)?;
            }
            Step::CreateProgram(which) => {
                let group = made.group.ok_or_else(|| anyhow::anyhow!("no group yet"))?;
                let (name, description) = program_texts[which];
                let change = SettingsChange {
                    name: Some(name.to_owned()),
                    description: Some(description.to_owned()),
                    default_capacity: Some(if which == SPRING { 2 } else { 1 }),
                    requires_approval: Some(which == AUTUMN),
                    ..SettingsChange::default()
                };
                let program = actions::create_program(conn, group, TEMPLATE, language, change, at)?;
                made.programs.insert(which, program.id);
            }
            Step::Status(which, status) => {
                actions::set_status(conn, found(&made.programs, which)?, status, at)?;
            }
            Step::Enrol {
                person,
                program,
                role,
                capacity,
            } => {
                let program_id = found(&made.programs, program)?;
                let current = tandem_persistence::programs::find(conn, program_id)?;
                let mut answers = answers_for(&current, role, &mut rng);
                localise(&mut answers, language, cast[person].1);
                let enrolment = actions::enrol(
                    conn,
                    program_id,
                    found(&made.users, person)?,
                    role,
                    answers,
                    capacity,
                    at,
                )?;
                made.enrolments.insert((program, person), enrolment.id);
            }
            Step::Approve(person, program) => {
                actions::decide(conn, found(&made.enrolments, (program, person))?, true, at)?;
            }
            Step::Pair {
                program,
                mentor,
                mentee,
            } => {
                // No introduction given: the workflow writes one from what they share.
                let pairing = actions::pair(
                    conn,
                    found(&made.programs, program)?,
                    found(&made.enrolments, (program, mentor))?,
                    found(&made.enrolments, (program, mentee))?,
                    None,
                    at,
                )?;
                made.pairings.insert((mentor, mentee), pairing.id);
            }
            Step::CheckIn {
                pair,
                number,
                person,
                rating,
                note,
            } => {
                actions::check_in(
                    conn,
                    found(&made.pairings, pair)?,
                    actions::EntryStep {
                        number,
                        user: found(&made.users, person)?,
                        rating,
                        note: note.map(|n| notes[n % notes.len()]),
                        at,
                    },
                )
                .with_context(|| format!("check-in {number} of {}", cast[person].0))?;
            }
            Step::Message {
                pair,
                author,
                text,
                week,
            } => {
                actions::post_message(
                    conn,
                    found(&made.pairings, pair)?,
                    actions::Post {
                        author: found(&made.users, author)?,
                        body: texts[text % texts.len()],
                        week,
                        at,
                    },
                )?;
            }
            Step::Report { pair, by } => {
                let reason = names::report_reason(language);
                actions::report(
                    conn,
                    found(&made.pairings, pair)?,
                    found(&made.users, by)?,
                    reason,
                    at,
                )?;
            }
        }
    }
    // The days after the last step, then the job as of now: due notices for today, the
    // completions of the ending program.
    while next_tick <= now {
        actions::run_jobs(conn, next_tick)?;
        next_tick += Duration::days(1);
    }
    actions::run_jobs(conn, now)?;
    Ok(())
}

/// Drawn answers made to agree with the person: they speak the demo's language, live
/// where their time zone says, and a first child is an only child.
fn localise(answers: &mut Answers, language: Language, zone: &str) {
    let spoken = match language {
        Language::En => vec!["en".to_owned()],
        Language::It => vec!["it".to_owned(), "en".to_owned()],
    };
    let region = if zone.starts_with("America/") {
        "americas"
    } else {
        "europe_africa"
    };
    if answers.contains_key("languages") {
        answers.insert("languages".into(), AnswerValue::Choices(spoken));
    }
    if answers.contains_key("time_zone") {
        answers.insert("time_zone".into(), AnswerValue::Text(region.into()));
    }
    // A first child is the only child, and the words about the family say so.
    let first = matches!(answers.get("first_child"), Some(AnswerValue::Text(v)) if v == "first");
    let count = match answers.get("children_count") {
        Some(AnswerValue::Number(n)) if !first => n.clamp(2.0, 4.0),
        _ => 1.0,
    };
    answers.insert("children_count".into(), AnswerValue::Number(count));
    if answers.contains_key("about_family") {
        let texts = names::about_family(language);
        let expecting =
            matches!(answers.get("child_stage"), Some(AnswerValue::Text(v)) if v == "expecting");
        let text = match (expecting, first) {
            (true, true) => texts[2],
            (false, true) => texts[0],
            (_, false) => texts[1],
        };
        answers.insert("about_family".into(), AnswerValue::Text(text.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_is_in_time_order_and_never_in_the_future() {
        let now = storable(Utc::now());
        let steps = story(now);
        assert!(steps.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(steps.iter().all(|(at, _)| *at <= now));
    }

    #[test]
    fn demo_emails_differ_between_languages() {
        assert_ne!(email_of(Language::En, OWNER), email_of(Language::It, OWNER));
        assert_eq!(
            email_of(Language::En, EMMA),
            "emma.clarke@parents-together.example.org"
        );
    }
}
