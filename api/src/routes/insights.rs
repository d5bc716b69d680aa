//! A program's health for its admins: counts, waits, loads and weekly progress. Built
//! from aggregates the database computes (a fixed number of queries, whatever the size
//! of the program), never from a note or a message.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tandem_domain::enrolment::{EnrolmentRole, EnrolmentStatus};
use tandem_domain::ids::ProgramId;
use tandem_domain::insights::{self, MentorLoad, PairingCounts};
use tandem_persistence::{insights as aggregates, pairings};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::AuthUser;
use crate::routes::access::{program_for, require_manager};
use crate::state::AppState;
use crate::workflows::journey;

/// Enrolments of one role by status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct StatusCounts {
    pub pending: u32,
    pub active: u32,
    pub declined: u32,
    pub withdrawn: u32,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EnrolmentCounts {
    pub mentors: StatusCounts,
    pub mentees: StatusCounts,
}

/// Pairings by status at the time of the request (a pairing whose schedule ran out is
/// `completed`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PairingStatusCounts {
    pub active: u32,
    pub completed: u32,
    pub ended: u32,
}

/// Active mentors' places.
#[derive(Debug, Serialize, ToSchema)]
pub struct MentorLoadView {
    pub mentors: u32,
    /// Their capacities added up.
    pub places: u32,
    pub taken: u32,
    /// Mentors with no free place.
    pub full: u32,
    /// Mentors with no mentee.
    pub idle: u32,
    /// `taken / places`, 0–1; null without places.
    #[schema(minimum = 0, maximum = 1)]
    pub utilisation: Option<f64>,
}

/// One guide week's progress across the program's pairings.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeekInsight {
    #[schema(minimum = 1, maximum = 52)]
    pub number: u16,
    pub title: String,
    /// Pairings whose check-in for this week has come (before they ended, if they did).
    pub reached: u32,
    /// Of those, the pairings where a partner checked in.
    pub completed: u32,
    /// `completed / reached`, 0–1; null while no pairing reached the week. A week still
    /// open counts as not checked in yet.
    #[schema(minimum = 0, maximum = 1)]
    pub completion_rate: Option<f64>,
    /// The mean of both partners' ratings, 1–5; null without any.
    #[schema(minimum = 1, maximum = 5)]
    pub average_rating: Option<f64>,
}

/// How a program is going: no note or message text, no answers, no names.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramInsights {
    pub program_id: Uuid,
    /// The instant the figures describe.
    pub computed_at: DateTime<Utc>,
    pub enrolments: EnrolmentCounts,
    pub pairings: PairingStatusCounts,
    /// The median days a mentee waited from enrolling to their first pairing, to a
    /// tenth of a day; null while nobody was paired.
    pub median_days_to_pairing: Option<f64>,
    pub mentor_load: MentorLoadView,
    /// Week by week of the guide the program follows.
    pub weeks: Vec<WeekInsight>,
    /// Active pairings in which nobody has checked in for two cadences (since their
    /// last entry, or since they started).
    pub at_risk_pairings: u32,
}

impl From<PairingCounts> for PairingStatusCounts {
    fn from(c: PairingCounts) -> Self {
        Self {
            active: c.active,
            completed: c.completed,
            ended: c.ended,
        }
    }
}

impl From<MentorLoad> for MentorLoadView {
    fn from(l: MentorLoad) -> Self {
        Self {
            mentors: l.mentors,
            places: l.places,
            taken: l.taken,
            full: l.full,
            idle: l.idle,
            utilisation: l.utilisation,
        }
    }
}

/// Read a program's insights.
#[utoipa::path(
    tag = "programs",
    operation_id = "get_program_insights",
    params(("program_id" = Uuid, Path, description = "The program")),
    responses(
        (status = 200, description = "The program's figures, computed now", body = ProgramInsights),
        (status = 403, description = "The caller is a member but not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such program, or the caller is not in its group", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/programs/{program_id}/insights")]
pub async fn get_program_insights(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let program_id = ProgramId(path.into_inner());
    let now = state.now();
    let view = state
        .read(move |conn| {
            let (program, membership) = program_for(conn, program_id, caller.0)?;
            require_manager(&membership)?;
            let mut enrolments = EnrolmentCounts::default();
            for (role, status, count) in aggregates::enrolment_counts(conn, program_id)? {
                let counts = match role {
                    EnrolmentRole::Mentor => &mut enrolments.mentors,
                    EnrolmentRole::Mentee => &mut enrolments.mentees,
                };
                match status {
                    EnrolmentStatus::Pending => counts.pending = count,
                    EnrolmentStatus::Active => counts.active = count,
                    EnrolmentStatus::Declined => counts.declined = count,
                    EnrolmentStatus::Withdrawn => counts.withdrawn = count,
                }
            }
            // Statuses and weeks reached derive from each pairing's schedule: the
            // pairings (one query) and their mentees' time zones (one more).
            let all = pairings::all_for_program(conn, program_id)?;
            let journeys: Vec<_> = journey::load(conn, all)?
                .into_iter()
                .map(|followed| followed.journey)
                .collect();
            let guide = program.guide();
            let week_entries = aggregates::week_entries(conn, program_id)?;
            let weeks = insights::weekly_progress(
                &journeys,
                &week_entries,
                u16::try_from(guide.len()).unwrap_or(u16::MAX),
                now,
            )
            .into_iter()
            .map(|week| WeekInsight {
                title: guide
                    .get(usize::from(week.number).saturating_sub(1))
                    .map(|g| g.title.clone())
                    .unwrap_or_default(),
                number: week.number,
                reached: week.reached,
                completed: week.completed,
                completion_rate: week.completion_rate,
                average_rating: week.average_rating,
            })
            .collect();
            let last_entries = aggregates::last_entries(conn, program_id)?;
            let taken = insights::places_taken(&journeys, now);
            let mentors: Vec<(u32, u32)> = aggregates::mentor_capacities(conn, program_id)?
                .into_iter()
                .map(|(enrolment, capacity)| {
                    (capacity, taken.get(&enrolment).copied().unwrap_or(0))
                })
                .collect();
            Ok::<_, ApiError>(ProgramInsights {
                program_id: program_id.0,
                computed_at: now,
                enrolments,
                pairings: insights::pairing_counts(&journeys, now).into(),
                median_days_to_pairing: insights::median_days_to_pairing(
                    &aggregates::mentee_waits(conn, program_id)?,
                ),
                mentor_load: insights::mentor_load(&mentors).into(),
                weeks,
                at_risk_pairings: insights::at_risk(
                    &journeys,
                    &last_entries,
                    program.settings.cadence_days,
                    now,
                ),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_program_insights);
}
