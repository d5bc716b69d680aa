//! Matching: which mentor suits which mentee.
//!
//! This module owns the matching rules of a program, independent of storage and HTTP:
//!
//! - [`score`]: the compatibility score (0–100) of a mentee and a mentor from their
//!   answers to the program's matching questions, with human-readable reasons, and a
//!   compiled form ([`MatchModel`], [`Profile`]) for scoring many pairs cheaply;
//! - [`assignment`]: per-mentee suggestions (top mentors with free capacity) and the
//!   program-wide assignment that maximises the total score within mentor capacities.
//!
//! Callers map enrolments to indices: mentees and mentors are plain positions in the
//! slices and matrices given here, and results refer back to those positions.

pub mod assignment;
pub mod score;

pub use assignment::{assign, suggestions, top_mentors, total_score, Pair, ScoreMatrix};
pub use score::{compatibility, Compatibility, MatchModel, Profile, MAX_REASONS};

impl MatchModel {
    /// Scores every mentee profile against every mentor profile.
    pub fn score_matrix(&self, mentees: &[Profile], mentors: &[Profile]) -> ScoreMatrix {
        ScoreMatrix::from_fn(mentees.len(), mentors.len(), |i, j| {
            self.score(&mentees[i], &mentors[j])
        })
    }
}
