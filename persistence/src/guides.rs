//! Programs' guides, parsed once per process.
//!
//! A program's guide (`programs.weeks`) is written with the program and never changed
//! afterwards (migration 000013 makes both engines refuse an update of it; its settings
//! change, its guide does not). So a parsed guide never goes stale, and each node keeps
//! its own copy without coordinating with the others. The hot reads and writes of a
//! pairing's check-ins then neither read the guide's text (several kilobytes, on SQLite's
//! overflow pages) nor parse it as JSON on every request.

use std::ops::Deref;
use std::sync::Arc;

use diesel::prelude::*;
use tandem_domain::ids::ProgramId;
use tandem_domain::program::{followed_weeks, ProgramSummary};
use tandem_domain::template::GuideWeek;

use crate::convert::corrupt;
use crate::schema::programs;
use crate::{DbConn, StoreError};

/// How many programs' guides a process keeps: a few kilobytes each once parsed.
const CAPACITY: usize = 1024;

/// The parsed guides of the programs read lately, by program.
pub struct Guides {
    parsed: quick_cache::sync::Cache<ProgramId, Arc<[GuideWeek]>>,
}

impl Default for Guides {
    fn default() -> Self {
        Self {
            parsed: quick_cache::sync::Cache::new(CAPACITY),
        }
    }
}

impl Guides {
    /// The weeks of its guide that a program follows (`ProgramSummary::guide_length`),
    /// read from the database only the first time.
    pub fn followed(
        &self,
        conn: &mut DbConn,
        program: &ProgramSummary,
    ) -> Result<FollowedGuide, StoreError> {
        let stored = self
            .parsed
            .get_or_insert_with(&program.id, || stored(conn, program.id))?;
        // The summary's length comes from the count the database keeps beside the guide,
        // never more than the guide holds.
        let length = followed_weeks(&stored, program.guide_length)
            .ok_or_else(|| corrupt("program week count"))?
            .len();
        Ok(FollowedGuide {
            weeks: stored,
            length,
        })
    }
}

/// The weeks of a guide that a program follows: a prefix of its stored guide.
#[derive(Clone)]
pub struct FollowedGuide {
    weeks: Arc<[GuideWeek]>,
    length: usize,
}

impl Deref for FollowedGuide {
    type Target = [GuideWeek];
    fn deref(&self) -> &[GuideWeek] {
        &self.weeks[..self.length]
    }
}

/// The whole stored guide of a program.
fn stored(conn: &mut DbConn, id: ProgramId) -> Result<Arc<[GuideWeek]>, StoreError> {
    let text: String = programs::table
        .find(id.to_string())
        .select(programs::weeks)
        .first(conn)?;
    Ok(crate::programs::parse_weeks(&text)?.into())
}
