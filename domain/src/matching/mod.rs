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
        let scores = self.score_rows(mentees, mentors);
        ScoreMatrix::new(mentees.len(), mentors.len(), scores)
            .expect("score_rows answers one cell per mentee and mentor")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use crate::question::{AnswerValue, Answers, QuestionKind};
    use crate::template::Language;

    /// Deterministic varied answers (some questions left out) for the given questions.
    fn answers(questions: &[crate::question::Question], seed: u64) -> Answers {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut out = Answers::new();
        for q in questions {
            if next() % 7 == 0 {
                continue;
            }
            let value = match q.kind {
                QuestionKind::SingleChoice => {
                    AnswerValue::Text(q.options[next() % q.options.len()].value.clone())
                }
                QuestionKind::MultiChoice => AnswerValue::Choices(
                    q.options
                        .iter()
                        .filter(|_| next() % 3 == 0)
                        .map(|o| o.value.clone())
                        .collect(),
                ),
                QuestionKind::Number => AnswerValue::Number((next() % 10) as f64 + 1.0),
                QuestionKind::Text => continue,
            };
            out.insert(q.key.clone(), value);
        }
        out
    }

    #[test]
    fn the_row_wise_matrix_equals_pairwise_scores() {
        for key in catalogue::BUILTIN_KEYS {
            let template = catalogue::builtin(key, Language::En).expect("built-in");
            let model = MatchModel::new(&template.questions);
            let mentees: Vec<Profile> = (0..40)
                .map(|i| model.profile(&answers(&template.questions, i)))
                .collect();
            let mentors: Vec<Profile> = (100..130)
                .map(|i| model.profile(&answers(&template.questions, i)))
                .collect();
            let matrix = model.score_matrix(&mentees, &mentors);
            for (i, mentee) in mentees.iter().enumerate() {
                for (j, mentor) in mentors.iter().enumerate() {
                    assert_eq!(
                        matrix.get(i, j),
                        model.score(mentee, mentor),
                        "{key} [{i},{j}]"
                    );
                }
            }
        }
    }
}
