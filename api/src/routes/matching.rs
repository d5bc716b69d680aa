//! Match suggestions for admins: the best mentors for each waiting mentee, and one
//! program-wide assignment that maximises the total score (two operations, each with
//! its own answer schema).

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::enrolment::{Enrolment, EnrolmentRole};
use tandem_domain::ids::{ProgramId, UserId};
use tandem_domain::matching::{assign, suggestions, total_score, MatchModel, Profile, ScoreMatrix};
use tandem_domain::pairing::could_pair;
use tandem_persistence::{blocks, enrolments, users, DbConn};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{AuthUser, Query};
use crate::routes::access::{program_for, require_manager};
use crate::state::AppState;

/// Query parameters of the ranked suggestions.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionParams {
    /// Mentors per mentee (1–20, default 5).
    #[param(minimum = 1, maximum = 20)]
    pub per_mentee: Option<i64>,
    /// Lowest score to suggest (0–100, default 1: a pair with nothing in common is no
    /// suggestion).
    #[param(minimum = 0, maximum = 100)]
    pub min_score: Option<i64>,
}

/// Query parameters of the program-wide assignment.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentParams {
    /// Lowest score of a proposed pair (0–100, default 1: a pair with nothing in common
    /// is never proposed).
    #[param(minimum = 0, maximum = 100)]
    pub min_score: Option<i64>,
}

/// A mentor suggested for a mentee.
#[derive(Debug, Serialize, ToSchema)]
pub struct Candidate {
    pub mentor_enrolment_id: Uuid,
    pub display_name: String,
    /// Compatibility, 0–100.
    pub score: u8,
    /// What they have in common, most important first.
    pub reasons: Vec<String>,
}

/// The best mentors for one waiting mentee.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub mentee_enrolment_id: Uuid,
    pub display_name: String,
    pub candidates: Vec<Candidate>,
}

/// Ranked suggestions for every active mentee without a pairing.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedSuggestions {
    pub items: Vec<Suggestion>,
}

/// One proposed pair of an assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposedPairing {
    pub mentee_enrolment_id: Uuid,
    pub mentee_display_name: String,
    pub mentor_enrolment_id: Uuid,
    pub mentor_display_name: String,
    pub score: u8,
    pub reasons: Vec<String>,
}

/// A program-wide assignment to review and publish with `POST .../pairings/batch`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchAssignment {
    pub pairings: Vec<ProposedPairing>,
    /// Sum of the proposed pairs' scores: the largest possible within capacities.
    pub total_score: u64,
    /// Waiting mentees the assignment leaves without a mentor.
    pub unassigned_mentee_enrolment_ids: Vec<Uuid>,
}

fn min_score(raw: Option<i64>) -> Result<u8, ApiError> {
    match raw {
        None => Ok(1),
        Some(n @ 0..=100) => Ok((n as u8).max(1)),
        Some(_) => Err(ApiError::invalid("min_score", "must be between 0 and 100")),
    }
}

/// Waiting mentees and mentors with room, compiled for scoring.
struct Pool {
    model: MatchModel,
    mentees: Vec<Enrolment>,
    mentors: Vec<Enrolment>,
    mentee_profiles: Vec<Profile>,
    mentor_profiles: Vec<Profile>,
    scores: ScoreMatrix,
    free: Vec<u32>,
}

fn pool(conn: &mut DbConn, program: &tandem_domain::program::Program) -> Result<Pool, ApiError> {
    let model = MatchModel::new(&program.questions);
    let mentees = enrolments::available(conn, program.id, EnrolmentRole::Mentee)?;
    let mentors = enrolments::available(conn, program.id, EnrolmentRole::Mentor)?;
    let mentee_profiles: Vec<Profile> = mentees.iter().map(|e| model.profile(&e.answers)).collect();
    let mentor_profiles: Vec<Profile> = mentors.iter().map(|e| model.profile(&e.answers)).collect();
    // Pairs the rules forbid (someone enrolled on both sides, or a pair blocked in the
    // group) are never suggested: score 0 is below every minimum score we accept.
    let blocked = blocks::of_group(conn, program.group_id)?;
    let mut cells = model.score_rows(&mentee_profiles, &mentor_profiles);
    for (row, mentee) in cells.chunks_mut(mentors.len().max(1)).zip(&mentees) {
        for (cell, mentor) in row.iter_mut().zip(&mentors) {
            if !could_pair(mentor, mentee, &blocked) {
                *cell = 0;
            }
        }
    }
    let scores = ScoreMatrix::new(mentees.len(), mentors.len(), cells)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("score matrix of the wrong size")))?;
    let free = mentors
        .iter()
        .map(|m| u32::from(m.free_capacity()))
        .collect();
    Ok(Pool {
        model,
        mentees,
        mentors,
        mentee_profiles,
        mentor_profiles,
        scores,
        free,
    })
}

/// The pool of a program the caller administers, with everyone's display name.
fn managed_pool(
    conn: &mut DbConn,
    program_id: ProgramId,
    caller: UserId,
) -> Result<(Pool, HashMap<UserId, String>), ApiError> {
    let (program, membership) = program_for(conn, program_id, caller)?;
    require_manager(&membership)?;
    let pool = pool(conn, &program)?;
    let ids: Vec<UserId> = pool
        .mentees
        .iter()
        .chain(&pool.mentors)
        .map(|e| e.user_id)
        .collect();
    let names = users::display_names(conn, &ids)?;
    Ok((pool, names))
}

impl Pool {
    fn reasons(&self, mentee: usize, mentor: usize) -> Vec<String> {
        self.model
            .explain(&self.mentee_profiles[mentee], &self.mentor_profiles[mentor])
            .reasons
    }
}

fn name_of(names: &HashMap<UserId, String>, enrolment: &Enrolment) -> String {
    names.get(&enrolment.user_id).cloned().unwrap_or_default()
}

/// Rank mentors for each waiting mentee.
#[utoipa::path(
    tag = "pairings",
    operation_id = "get_match_suggestions",
    params(("program_id" = Uuid, Path, description = "The program"), SuggestionParams),
    responses(
        (status = 200, description = "For each active mentee without a pairing, the best mentors with free capacity, best first", body = RankedSuggestions),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/programs/{program_id}/match-suggestions")]
pub async fn get_match_suggestions(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    params: Query<SuggestionParams>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let params = params.0;
    let per_mentee = match params.per_mentee {
        None => 5,
        Some(n @ 1..=20) => n as usize,
        Some(_) => return Err(ApiError::invalid("per_mentee", "must be between 1 and 20")),
    };
    let min_score = min_score(params.min_score)?;
    let answer = state
        .read(move |conn| {
            let (pool, names) = managed_pool(conn, program_id, caller.0)?;
            let ranked = suggestions(&pool.scores, &pool.free, per_mentee, min_score);
            Ok(RankedSuggestions {
                items: ranked
                    .into_iter()
                    .enumerate()
                    .map(|(i, pairs)| Suggestion {
                        mentee_enrolment_id: pool.mentees[i].id.0,
                        display_name: name_of(&names, &pool.mentees[i]),
                        candidates: pairs
                            .into_iter()
                            .map(|p| Candidate {
                                mentor_enrolment_id: pool.mentors[p.mentor].id.0,
                                display_name: name_of(&names, &pool.mentors[p.mentor]),
                                score: p.score,
                                reasons: pool.reasons(p.mentee, p.mentor),
                            })
                            .collect(),
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Propose a program-wide assignment.
#[utoipa::path(
    tag = "pairings",
    operation_id = "get_match_assignment",
    params(("program_id" = Uuid, Path, description = "The program"), AssignmentParams),
    responses(
        (status = 200, description = "One assignment of waiting mentees to mentors with free capacity that maximises the total score (exact); review it and publish the chosen pairs with `POST /v1/programs/{program_id}/pairings/batch`", body = MatchAssignment),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/programs/{program_id}/match-suggestions/assignment")]
pub async fn get_match_assignment(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    params: Query<AssignmentParams>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let min_score = min_score(params.0.min_score)?;
    let answer = state
        .read(move |conn| {
            let (pool, names) = managed_pool(conn, program_id, caller.0)?;
            let pairs = assign(&pool.scores, &pool.free, min_score);
            let mut assigned = vec![false; pool.mentees.len()];
            for p in &pairs {
                assigned[p.mentee] = true;
            }
            Ok(MatchAssignment {
                total_score: total_score(&pairs),
                pairings: pairs
                    .iter()
                    .map(|p| ProposedPairing {
                        mentee_enrolment_id: pool.mentees[p.mentee].id.0,
                        mentee_display_name: name_of(&names, &pool.mentees[p.mentee]),
                        mentor_enrolment_id: pool.mentors[p.mentor].id.0,
                        mentor_display_name: name_of(&names, &pool.mentors[p.mentor]),
                        score: p.score,
                        reasons: pool.reasons(p.mentee, p.mentor),
                    })
                    .collect(),
                unassigned_mentee_enrolment_ids: pool
                    .mentees
                    .iter()
                    .zip(&assigned)
                    .filter(|(_, done)| !**done)
                    .map(|(e, _)| e.id.0)
                    .collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_match_suggestions)
        .service(get_match_assignment);
}
