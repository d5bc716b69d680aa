//! Pairings with their schedules: what reads, check-ins, the calendar and the reminder
//! job all start from.

use std::collections::HashMap;
use std::sync::Arc;

use tandem_domain::check_in::Journey;
use tandem_domain::ids::{ProgramId, UserId};
use tandem_domain::pairing::Pairing;
use tandem_domain::program::Program;
use tandem_persistence::{programs, users, DbConn};

use crate::workflows::WorkflowError;

/// A pairing's journey with the program it belongs to.
#[derive(Debug, Clone)]
pub struct Followed {
    pub journey: Journey,
    pub program: Arc<Program>,
}

/// The journeys of several pairings, in the order given: each program is read once, and
/// the mentees' time zones in one query.
pub fn load(conn: &mut DbConn, pairings: Vec<Pairing>) -> Result<Vec<Followed>, WorkflowError> {
    let mentees: Vec<UserId> = pairings.iter().map(|p| p.mentee.user_id).collect();
    let zones = users::time_zones(conn, &mentees)?;
    let mut programs_by_id: HashMap<ProgramId, Arc<Program>> = HashMap::new();
    let mut out = Vec::with_capacity(pairings.len());
    for pairing in pairings {
        let program = match programs_by_id.get(&pairing.program_id) {
            Some(program) => Arc::clone(program),
            None => {
                let program = Arc::new(programs::find(conn, pairing.program_id)?);
                programs_by_id.insert(program.id, Arc::clone(&program));
                program
            }
        };
        let zone = zones
            .get(&pairing.mentee.user_id)
            .copied()
            .unwrap_or(chrono_tz::Tz::UTC);
        out.push(Followed {
            journey: Journey::new(pairing, &program, zone),
            program,
        });
    }
    Ok(out)
}

/// One pairing's journey, with its program already at hand.
pub fn of(
    conn: &mut DbConn,
    pairing: Pairing,
    program: &Program,
) -> Result<Journey, WorkflowError> {
    let zones = users::time_zones(conn, &[pairing.mentee.user_id])?;
    let zone = zones
        .get(&pairing.mentee.user_id)
        .copied()
        .unwrap_or(chrono_tz::Tz::UTC);
    Ok(Journey::new(pairing, program, zone))
}
