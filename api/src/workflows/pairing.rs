//! Making pairings (by an admin, a published assignment or auto matching) and ending them.

use chrono::{DateTime, Utc};
use tandem_domain::enrolment::{Enrolment, EnrolmentRole};
use tandem_domain::ids::{EnrolmentId, PairingId};
use tandem_domain::matching::MatchModel;
use tandem_domain::pairing::{could_pair, default_introduction, shared_answers, Pairing};
use tandem_domain::program::{MatchingMode, Program};
use tandem_domain::safety::BlockedPairs;
use tandem_domain::schedule::start_date;
use tandem_domain::ValidationError;
use tandem_persistence::{
    blocks, enrolments, groups, pairings, users, DbConn, StoreError, BLOCKED_PAIR,
};

use crate::workflows::{notify, reminders, WorkflowError};

/// One pairing to make.
pub struct PairingRequest {
    pub mentor_enrolment_id: EnrolmentId,
    pub mentee_enrolment_id: EnrolmentId,
    /// When absent, one is written from the match's reasons.
    pub introduction: Option<String>,
}

/// Makes a pairing inside the caller's transaction: settles the mentor's pairings the
/// clock completed, checks the rules, stores it (the database re-checks capacity and the
/// mentee's single active pairing) and notifies both partners.
pub fn make(
    conn: &mut DbConn,
    program: &Program,
    request: &PairingRequest,
    now: DateTime<Utc>,
) -> Result<Pairing, WorkflowError> {
    lock_members(
        conn,
        program,
        &[request.mentor_enrolment_id, request.mentee_enrolment_id],
    )?;
    // A place the schedule freed counts before any job has recorded it.
    reminders::settle_completed_of_enrolment(conn, program, request.mentor_enrolment_id, now)?;
    let (mentor, mentee) = load_pair(conn, program, request)?;
    let mentee_user = users::find(conn, mentee.user_id)?;
    let mentor_user = users::find(conn, mentor.user_id)?;
    let started_on = start_date(now, mentee_user.time_zone.tz());
    let introduction = match &request.introduction {
        Some(text) => text.clone(),
        None => {
            // Partners read it: only what they share, in the program's language.
            let reasons = shared_answers(&program.questions, &mentee.answers, &mentor.answers);
            default_introduction(
                program.language,
                mentor_user.display_name.as_str(),
                mentee_user.display_name.as_str(),
                &reasons,
            )
        }
    };
    // Only this pair's block matters here: one lookup, not the group's whole list.
    let blocked = if blocks::between(conn, program.group_id, mentor.user_id, mentee.user_id)? {
        BlockedPairs::new([(mentor.user_id, mentee.user_id)])
    } else {
        BlockedPairs::default()
    };
    let pairing = Pairing::new(
        PairingId::new_v7(now),
        program,
        &mentor,
        &mentee,
        &blocked,
        introduction,
        started_on,
        now,
    )?;
    pairings::insert(conn, &pairing).map_err(|e| match e {
        StoreError::Constraint(rule) if rule == BLOCKED_PAIR => WorkflowError::Conflict(
            "one of the two blocked the other in this group: they are never paired again".into(),
        ),
        StoreError::Constraint(_) => WorkflowError::Conflict(
            "the mentee was paired meanwhile, or the mentor's places were taken; fetch the enrolments again".into(),
        ),
        other => other.into(),
    })?;
    notify::matched(
        conn,
        program,
        &pairing,
        mentor_user.display_name.as_str(),
        mentee_user.display_name.as_str(),
        now,
    )?;
    Ok(pairing)
}

/// Locks the group memberships of these enrolments' members (those of this program; any
/// other id is left to the checks that answer it). A block between two members takes
/// the same locks, so a pairing of the two and a block, in any programs of the group,
/// happen one after the other; the block check and the database's trigger then see a
/// block committed meanwhile (each statement reads what committed before it began).
/// Taken after the caller's program lock and before any pairing or enrolment row: the
/// order every writer keeps.
pub fn lock_members(
    conn: &mut DbConn,
    program: &Program,
    enrolment_ids: &[EnrolmentId],
) -> Result<(), WorkflowError> {
    let mut users = Vec::with_capacity(enrolment_ids.len());
    for id in enrolment_ids {
        match enrolments::find(conn, *id) {
            Ok(found) if found.program_id == program.id => users.push(found.user_id),
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
    }
    groups::lock_members(conn, program.group_id, &users)?;
    Ok(())
}

/// Both enrolments of a request, found in this program. An enrolment of any other
/// program is answered exactly like an id that names none, before the program's state is
/// looked at: whether another group's id exists must not show through (a 409 here would
/// tell it does).
fn load_pair(
    conn: &mut DbConn,
    program: &Program,
    request: &PairingRequest,
) -> Result<(Enrolment, Enrolment), WorkflowError> {
    let mut load = |id: EnrolmentId| match enrolments::find(conn, id) {
        Ok(found) if found.program_id == program.id => Ok(Some(found)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(WorkflowError::from(other)),
    };
    let mentor = load(request.mentor_enrolment_id)?;
    let mentee = load(request.mentee_enrolment_id)?;
    match (mentor, mentee) {
        (Some(mentor), Some(mentee)) => Ok((mentor, mentee)),
        (mentor, mentee) => Err(WorkflowError::Invalid(
            [
                ("mentor_enrolment_id", mentor.is_none()),
                ("mentee_enrolment_id", mentee.is_none()),
            ]
            .into_iter()
            .filter(|(_, missing)| *missing)
            .map(|(field, _)| ValidationError::new(field, "is not an enrolment of this program"))
            .collect(),
        )),
    }
}

/// In a program with `matching: auto`, pairs a newly active enrolment with the best
/// available partners whose score reaches the program's threshold: a mentee with one
/// mentor, a mentor with as many waiting mentees as their capacity allows. Each pairing
/// is tried in a savepoint, so a partner taken meanwhile by a concurrent request is
/// skipped and the enrolment itself still stands.
pub fn auto_match(
    conn: &mut DbConn,
    program: &Program,
    enrolment: &Enrolment,
    now: DateTime<Utc>,
) -> Result<Vec<Pairing>, WorkflowError> {
    if program.settings.matching != MatchingMode::Auto || enrolment.free_capacity() == 0 {
        return Ok(Vec::new());
    }
    let other_role = match enrolment.role {
        EnrolmentRole::Mentor => EnrolmentRole::Mentee,
        EnrolmentRole::Mentee => EnrolmentRole::Mentor,
    };
    let model = MatchModel::new(&program.questions);
    let own = model.profile(&enrolment.answers);
    let threshold = program.settings.auto_match_threshold;
    let blocked = blocks::of_group(conn, program.group_id)?;
    let mut candidates: Vec<(u8, Enrolment)> = enrolments::available(conn, program.id, other_role)?
        .into_iter()
        .filter(|c| match enrolment.role {
            EnrolmentRole::Mentee => could_pair(c, enrolment, &blocked),
            EnrolmentRole::Mentor => could_pair(enrolment, c, &blocked),
        })
        .map(|c| {
            let theirs = model.profile(&c.answers);
            let score = match enrolment.role {
                EnrolmentRole::Mentee => model.score(&own, &theirs),
                EnrolmentRole::Mentor => model.score(&theirs, &own),
            };
            (score, c)
        })
        .filter(|(score, _)| *score >= threshold)
        .collect();
    // Best score first; among equals, whoever has waited longest.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let mut wanted = usize::from(enrolment.free_capacity());
    let mut made = Vec::new();
    for (_, candidate) in candidates {
        if wanted == 0 {
            break;
        }
        let request = match enrolment.role {
            EnrolmentRole::Mentee => PairingRequest {
                mentor_enrolment_id: candidate.id,
                mentee_enrolment_id: enrolment.id,
                introduction: None,
            },
            EnrolmentRole::Mentor => PairingRequest {
                mentor_enrolment_id: enrolment.id,
                mentee_enrolment_id: candidate.id,
                introduction: None,
            },
        };
        match tandem_persistence::db::savepoint(conn, |conn| make(conn, program, &request, now)) {
            Ok(pairing) => {
                made.push(pairing);
                wanted -= 1;
            }
            // Taken meanwhile, full, or no longer active: try the next one.
            Err(WorkflowError::Conflict(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    Ok(made)
}
