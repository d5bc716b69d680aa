//! The steps people take, taken as the API's handlers take them (domain rules,
//! repositories, workflows) but at an instant the caller gives: the demo and the
//! generator build their data with these, so what they store is what the real flows
//! would have stored at that time. Each runs inside the caller's transaction.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use tandem_domain::check_in::{Entry, EntryInput};
use tandem_domain::enrolment::{Enrolment, EnrolmentRole};
use tandem_domain::group::{
    validate_group_description, validate_group_name, Group, Membership, Role,
};
use tandem_domain::ids::{
    EnrolmentId, GroupId, MembershipId, MessageId, PairingId, ProgramId, ReportId, UserId,
};
use tandem_domain::message::{check_may_enter_space, Message, MessageInput};
use tandem_domain::pairing::Pairing;
use tandem_domain::program::{Program, ProgramStatus, SettingsChange};
use tandem_domain::question::Answers;
use tandem_domain::safety::Report;
use tandem_domain::template::Language;
use tandem_domain::user::{DisplayName, Email, TimeZone, User};
use tandem_domain::{catalogue, DomainError, ValidationError};
use tandem_persistence::{
    check_ins, enrolments, groups, messages, pairings, programs, reports, users, DbConn,
};

use crate::jobs::{self, JobReport};
use crate::workflows::pairing::PairingRequest;
use crate::workflows::{journey, notify, pairing as pairing_flow, WorkflowError};

/// A refused rule as an error that names every invalid field.
fn invalid(errors: Vec<ValidationError>) -> anyhow::Error {
    let fields: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    anyhow!("invalid input ({})", fields.join("; "))
}

fn refused(error: DomainError) -> anyhow::Error {
    match error {
        DomainError::Invalid(errors) => invalid(errors),
        other => anyhow!(other),
    }
}

fn flow(error: WorkflowError) -> anyhow::Error {
    match error {
        WorkflowError::Invalid(errors) => invalid(errors),
        other => anyhow!(other),
    }
}

/// Registers an account whose password hash was made once for all of them.
pub fn register(
    conn: &mut DbConn,
    email: &str,
    display_name: &str,
    time_zone: &str,
    password_hash: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<User> {
    let user = User {
        id: UserId::new_v7(at),
        email: Email::parse(email).map_err(|e| invalid(vec![e]))?,
        display_name: DisplayName::parse(display_name).map_err(|e| invalid(vec![e]))?,
        time_zone: TimeZone::parse(time_zone).map_err(|e| invalid(vec![e]))?,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    users::insert(conn, &user, password_hash).with_context(|| format!("registering {email}"))?;
    Ok(user)
}

/// Creates a group owned by `owner`.
pub fn create_group(
    conn: &mut DbConn,
    owner: UserId,
    name: &str,
    description: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<Group> {
    let group = Group {
        id: GroupId::new_v7(at),
        name: validate_group_name(name).map_err(|e| invalid(vec![e]))?,
        description: validate_group_description(description).map_err(|e| invalid(vec![e]))?,
        invite_code: crate::routes::groups::new_invite_code(),
        version: 1,
        created_at: at,
        updated_at: at,
    };
    groups::insert_group(conn, &group)?;
    groups::insert_membership(
        conn,
        &Membership {
            id: MembershipId::new_v7(at),
            group_id: group.id,
            user_id: owner,
            role: Role::Owner,
            joined_at: at,
        },
    )?;
    Ok(group)
}

/// `user` joins with the invite code (as a member); an owner then makes them an admin
/// when `role` says so.
pub fn join(
    conn: &mut DbConn,
    group_id: GroupId,
    user: UserId,
    role: Role,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let membership = Membership {
        id: MembershipId::new_v7(at),
        group_id,
        user_id: user,
        role: Role::Member,
        joined_at: at,
    };
    groups::insert_membership(conn, &membership)?;
    if role != Role::Member {
        groups::set_role(conn, membership.id, role)?;
    }
    Ok(())
}

/// A draft program from a built-in template, in `language`.
pub fn create_program(
    conn: &mut DbConn,
    group_id: GroupId,
    template_key: &str,
    language: Language,
    change: SettingsChange,
    at: DateTime<Utc>,
) -> anyhow::Result<Program> {
    let template = catalogue::builtin(template_key, language)
        .ok_or_else(|| anyhow!("no built-in template {template_key}"))?;
    let program = Program::from_template(ProgramId::new_v7(at), group_id, template, change, at)
        .map_err(invalid)?;
    programs::insert(conn, &program)?;
    Ok(program)
}

/// An admin moves the program to `status` (draft → open → closed → archived).
pub fn set_status(
    conn: &mut DbConn,
    program_id: ProgramId,
    status: ProgramStatus,
    at: DateTime<Utc>,
) -> anyhow::Result<Program> {
    let mut program = programs::find_locked(conn, program_id)?;
    program
        .update(SettingsChange::default(), Some(status), at)
        .map_err(refused)?;
    Ok(programs::update(conn, &program, at)?)
}

/// A member enrols; a program with automatic matching pairs them at once.
pub fn enrol(
    conn: &mut DbConn,
    program_id: ProgramId,
    user: UserId,
    role: EnrolmentRole,
    answers: Answers,
    capacity: Option<i64>,
    at: DateTime<Utc>,
) -> anyhow::Result<Enrolment> {
    let program = programs::find_locked(conn, program_id)?;
    let enrolment = Enrolment::new(
        EnrolmentId::new_v7(at),
        &program,
        user,
        role,
        answers,
        capacity,
        at,
    )
    .map_err(refused)?;
    enrolments::insert(conn, &enrolment)?;
    pairing_flow::auto_match(conn, &program, &enrolment, at).map_err(flow)?;
    Ok(enrolment)
}

/// An admin approves or declines a pending enrolment; the member is told.
pub fn decide(
    conn: &mut DbConn,
    enrolment_id: EnrolmentId,
    approve: bool,
    at: DateTime<Utc>,
) -> anyhow::Result<Enrolment> {
    let found = enrolments::find(conn, enrolment_id)?;
    let program = programs::find_locked(conn, found.program_id)?;
    let mut enrolment = enrolments::find(conn, enrolment_id)?;
    enrolment.decide(approve, at).map_err(refused)?;
    let decided = enrolments::update(conn, &enrolment, at)?;
    notify::enrolment_decided(conn, &program, &decided, at).map_err(flow)?;
    pairing_flow::auto_match(conn, &program, &decided, at).map_err(flow)?;
    Ok(decided)
}

/// An admin pairs a mentee with a mentor; both are notified.
pub fn pair(
    conn: &mut DbConn,
    program_id: ProgramId,
    mentor: EnrolmentId,
    mentee: EnrolmentId,
    introduction: Option<String>,
    at: DateTime<Utc>,
) -> anyhow::Result<Pairing> {
    let program = programs::find_locked(conn, program_id)?;
    let request = PairingRequest {
        mentor_enrolment_id: mentor,
        mentee_enrolment_id: mentee,
        introduction,
    };
    pairing_flow::make(conn, &program, &request, at).map_err(flow)
}

/// One partner's entry of one check-in, at its instant.
pub struct EntryStep<'a> {
    pub number: u16,
    pub user: UserId,
    pub rating: i64,
    pub note: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// A partner records (or changes) their entry of a check-in, inside its window.
pub fn check_in(
    conn: &mut DbConn,
    pairing_id: PairingId,
    step: EntryStep<'_>,
) -> anyhow::Result<()> {
    check_ins_of(conn, pairing_id, &[step])
}

/// Entries of one pair, in time order, each checked as the check-in handler checks it;
/// the pairing is locked and read once for all of them (the generator's many entries).
pub fn check_ins_of(
    conn: &mut DbConn,
    pairing_id: PairingId,
    steps: &[EntryStep<'_>],
) -> anyhow::Result<()> {
    pairings::lock(conn, pairing_id)?;
    let pairing = pairings::find(conn, pairing_id)?;
    let program = programs::find(conn, pairing.program_id)?;
    let journey = journey::of(conn, pairing, &program).map_err(flow)?;
    for step in steps {
        let input = EntryInput::parse(step.rating, step.note).map_err(invalid)?;
        if !journey.pairing.involves(step.user) {
            anyhow::bail!("only the pair's two partners check in");
        }
        let slot = *journey
            .schedule
            .slot(step.number)
            .ok_or_else(|| anyhow!("no check-in {}", step.number))?;
        journey
            .check_can_record(&program, &slot, step.at)
            .map_err(refused)?;
        let earlier = check_ins::find(conn, pairing_id, step.number, step.user)?;
        check_ins::save(
            conn,
            &Entry {
                pairing_id,
                number: step.number,
                user_id: step.user,
                rating: input.rating,
                note: input.note,
                completed_at: earlier.map_or(step.at, |e| e.completed_at),
                updated_at: step.at,
            },
        )?;
    }
    Ok(())
}

/// One message, at its instant.
pub struct Post<'a> {
    pub author: UserId,
    pub body: &'a str,
    pub week: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A partner posts in the pair space; the other partner's unread notice is coalesced.
pub fn post_message(
    conn: &mut DbConn,
    pairing_id: PairingId,
    post: Post<'_>,
) -> anyhow::Result<()> {
    post_messages(conn, pairing_id, &[post])
}

/// Posts of one pair, in time order, each checked and notified as the message handler
/// does; the pairing is locked and read once for all of them.
pub fn post_messages(
    conn: &mut DbConn,
    pairing_id: PairingId,
    posts: &[Post<'_>],
) -> anyhow::Result<()> {
    pairings::lock(conn, pairing_id)?;
    let pairing = pairings::find(conn, pairing_id)?;
    let program = programs::find(conn, pairing.program_id)?;
    let journey = journey::of(conn, pairing, &program).map_err(flow)?;
    let partners = [
        journey.pairing.mentor.user_id,
        journey.pairing.mentee.user_id,
    ];
    let names = users::display_names(conn, &partners)?;
    for post in posts {
        check_may_enter_space(&journey.pairing, post.author).map_err(refused)?;
        let input = MessageInput::parse(post.body, post.week, &program).map_err(invalid)?;
        journey
            .check_can_post(&program, post.author, post.at)
            .map_err(refused)?;
        let message = Message {
            id: MessageId::new_v7(post.at),
            pairing_id,
            author_id: post.author,
            week: input.week,
            body: input.body,
            created_at: post.at,
        };
        messages::insert(conn, &message)?;
        let author_name = names.get(&post.author).cloned().unwrap_or_default();
        notify::new_message(
            conn,
            &program,
            &journey.pairing,
            post.author,
            &author_name,
            post.at,
        )
        .map_err(flow)?;
    }
    Ok(())
}

/// A partner reports the other to the group's admins.
pub fn report(
    conn: &mut DbConn,
    pairing_id: PairingId,
    by: UserId,
    reason: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<Report> {
    let pairing = pairings::find(conn, pairing_id)?;
    let program = programs::find(conn, pairing.program_id)?;
    let report = Report::new(
        ReportId::new_v7(at),
        program.group_id,
        &pairing,
        by,
        reason,
        at,
    )
    .map_err(refused)?;
    reports::insert(conn, &report)?;
    Ok(report)
}

/// The reminder job at `at`, as `tandem jobs run-once` runs it, but inside the caller's
/// transaction; a pairing whose step fails fails the whole step here.
pub fn run_jobs(conn: &mut DbConn, at: DateTime<Utc>) -> anyhow::Result<JobReport> {
    let mut total = JobReport::default();
    loop {
        let batch = jobs::run_batch(conn, at).map_err(flow)?;
        if batch.failed > 0 {
            anyhow::bail!("the reminder job failed for {} pairings", batch.failed);
        }
        total.sent += batch.sent;
        total.completed += batch.completed;
        total.planned += batch.planned;
        if batch.planned < jobs::BATCH {
            return Ok(total);
        }
    }
}
