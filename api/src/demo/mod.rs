//! `tandem demo`: a living demo community ([`community`]) and a data generator for
//! benchmarks ([`generator`]), both built through the same domain rules, repositories
//! and workflows as the API's handlers ([`actions`]), at instants in the past.

pub mod actions;
pub mod community;
pub mod generator;
pub mod names;

use rand::seq::SliceRandom;
use rand::Rng;
use tandem_domain::enrolment::EnrolmentRole;
use tandem_domain::program::Program;
use tandem_domain::question::{AnswerValue, Answers, QuestionKind};

/// Answers to every question the program asks of `role`, valid for their kinds and
/// bounds (the domain checks them again on enrolment); optional text half the time.
pub fn answers_for(program: &Program, role: EnrolmentRole, rng: &mut impl Rng) -> Answers {
    let mut answers = Answers::new();
    for question in program
        .questions
        .iter()
        .filter(|q| role.is_asked(q.audience))
    {
        let value = match question.kind {
            QuestionKind::SingleChoice => question
                .options
                .choose(rng)
                .map(|o| AnswerValue::Text(o.value.clone())),
            QuestionKind::MultiChoice => {
                let picks = rng.gen_range(1..=question.options.len().clamp(1, 3));
                let chosen: Vec<String> = question
                    .options
                    .choose_multiple(rng, picks)
                    .map(|o| o.value.clone())
                    .collect();
                (!chosen.is_empty()).then_some(AnswerValue::Choices(chosen))
            }
            QuestionKind::Number => {
                let low = question.min.unwrap_or(0.0).ceil() as i64;
                let high = question.max.unwrap_or(10.0).floor() as i64;
                Some(AnswerValue::Number(
                    rng.gen_range(low..=high.max(low)) as f64
                ))
            }
            // The words are about families: only the new-parents template asks that.
            QuestionKind::Text => (question.required
                || (program.template_key == "new-parents" && rng.gen_bool(0.5)))
            .then(|| {
                let texts = names::about_family(program.language);
                AnswerValue::Text(texts[rng.gen_range(0..texts.len())].to_owned())
            }),
        };
        if let Some(value) = value {
            answers.insert(question.key.clone(), value);
        }
    }
    answers
}
