//! Enrolments: a member's application to a program as mentor or mentee, and the
//! validation of their answers against the program's questions.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EnrolmentId, ProgramId, UserId};
use crate::program::{Program, MAX_CAPACITY};
use crate::question::{AnswerValue, Answers, Audience, Question, QuestionKind};
use crate::text::{self, Lines};
use crate::{DomainError, ValidationError};

/// The side a member takes in a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EnrolmentRole {
    Mentor,
    Mentee,
}

impl EnrolmentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrolmentRole::Mentor => "mentor",
            EnrolmentRole::Mentee => "mentee",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "mentor" => Some(EnrolmentRole::Mentor),
            "mentee" => Some(EnrolmentRole::Mentee),
            _ => None,
        }
    }

    /// Is a question of this audience asked of this role?
    pub fn is_asked(self, audience: Audience) -> bool {
        matches!(
            (self, audience),
            (_, Audience::Both)
                | (EnrolmentRole::Mentor, Audience::Mentor)
                | (EnrolmentRole::Mentee, Audience::Mentee)
        )
    }
}

/// pending → active | declined; pending or active → withdrawn (the member's wish).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EnrolmentStatus {
    Pending,
    Active,
    Declined,
    Withdrawn,
}

impl EnrolmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrolmentStatus::Pending => "pending",
            EnrolmentStatus::Active => "active",
            EnrolmentStatus::Declined => "declined",
            EnrolmentStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(EnrolmentStatus::Pending),
            "active" => Some(EnrolmentStatus::Active),
            "declined" => Some(EnrolmentStatus::Declined),
            "withdrawn" => Some(EnrolmentStatus::Withdrawn),
            _ => None,
        }
    }
}

/// An enrolment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    pub id: EnrolmentId,
    pub program_id: ProgramId,
    pub user_id: UserId,
    pub role: EnrolmentRole,
    pub status: EnrolmentStatus,
    /// How many mentees a mentor takes at once (always 1 for a mentee).
    pub capacity: u8,
    /// Active pairings held now.
    pub active_pairings: u8,
    pub answers: Answers,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Enrolment {
    /// A new enrolment in an open program, answers and capacity checked. Active at once
    /// unless the program wants admins to approve enrolments.
    pub fn new(
        id: EnrolmentId,
        program: &Program,
        user_id: UserId,
        role: EnrolmentRole,
        answers: Answers,
        capacity: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        program.check_enrolment_open()?;
        let answers = normalise_answers(&program.questions, answers);
        let mut errors = validate_answers(&program.questions, role, &answers)
            .err()
            .unwrap_or_default();
        let capacity = match (role, capacity) {
            (EnrolmentRole::Mentee, None) => 1,
            (EnrolmentRole::Mentee, Some(_)) => {
                errors.push(ValidationError::new(
                    "capacity",
                    "only mentors give a capacity",
                ));
                1
            }
            (EnrolmentRole::Mentor, None) => program.settings.default_capacity,
            (EnrolmentRole::Mentor, Some(c)) => match u8::try_from(c) {
                Ok(c) if (1..=MAX_CAPACITY).contains(&i64::from(c)) => c,
                _ => {
                    errors.push(ValidationError::new("capacity", "must be between 1 and 20"));
                    1
                }
            },
        };
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        Ok(Self {
            id,
            program_id: program.id,
            user_id,
            role,
            status: if program.settings.requires_approval {
                EnrolmentStatus::Pending
            } else {
                EnrolmentStatus::Active
            },
            capacity,
            active_pairings: 0,
            answers,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// Enrolling again in the same role: a withdrawn enrolment reopens with the new
    /// enrolment's answers, capacity and starting status (so ids and history stay one);
    /// any other is already there.
    pub fn reopen(&mut self, fresh: Enrolment, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status != EnrolmentStatus::Withdrawn {
            return Err(already_enrolled(self.role));
        }
        self.status = fresh.status;
        self.capacity = fresh.capacity;
        self.answers = fresh.answers;
        self.updated_at = now;
        Ok(())
    }

    /// An admin approves (→ active) or declines a pending enrolment.
    pub fn decide(&mut self, approve: bool, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status != EnrolmentStatus::Pending {
            return Err(DomainError::Conflict(
                "only a pending enrolment can be approved or declined",
            ));
        }
        self.status = if approve {
            EnrolmentStatus::Active
        } else {
            EnrolmentStatus::Declined
        };
        self.updated_at = now;
        Ok(())
    }

    /// The member withdraws. Someone still in an active pairing ends it first.
    pub fn withdraw(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match self.status {
            EnrolmentStatus::Pending | EnrolmentStatus::Active => {
                if self.active_pairings > 0 {
                    return Err(DomainError::Conflict(
                        "end your active pairings before withdrawing from the program",
                    ));
                }
                self.status = EnrolmentStatus::Withdrawn;
                self.updated_at = now;
                Ok(())
            }
            EnrolmentStatus::Withdrawn => Ok(()),
            EnrolmentStatus::Declined => Err(DomainError::Conflict(
                "a declined enrolment cannot be withdrawn",
            )),
        }
    }

    /// Room for more mentees (mentors) or for a partner at all (mentees).
    pub fn free_capacity(&self) -> u8 {
        if self.status == EnrolmentStatus::Active {
            self.capacity.saturating_sub(self.active_pairings)
        } else {
            0
        }
    }
}

/// One enrolment per member, program and role.
pub fn already_enrolled(role: EnrolmentRole) -> DomainError {
    DomainError::Conflict(match role {
        EnrolmentRole::Mentor => "you are already enrolled in this program as a mentor",
        EnrolmentRole::Mentee => "you are already enrolled in this program as a mentee",
    })
}

/// Checks answers against the questions asked of `role`: no unknown or unasked key,
/// each answer of its question's kind (an offered option, a number in bounds, text of
/// reasonable length), and every required question answered. Every problem is reported,
/// each under `answers.<question key>`.
pub fn validate_answers(
    questions: &[Question],
    role: EnrolmentRole,
    answers: &Answers,
) -> Result<(), Vec<ValidationError>> {
    let mut errors = Vec::new();
    for (key, answer) in answers {
        let field = format!("answers.{key}");
        match questions.iter().find(|q| &q.key == key) {
            None => errors.push(ValidationError::new(
                field,
                "is not a question of this program",
            )),
            Some(question) if !role.is_asked(question.audience) => errors.push(
                ValidationError::new(field, format!("is not asked of {}s", role.as_str())),
            ),
            Some(question) => {
                if let Err(message) = check_answer(question, answer) {
                    errors.push(ValidationError::new(field, message));
                }
            }
        }
    }
    for question in questions {
        if question.required
            && role.is_asked(question.audience)
            && !answers.contains_key(&question.key)
        {
            errors.push(ValidationError::new(
                format!("answers.{}", question.key),
                "is required",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

const MAX_TEXT_ANSWER: usize = 2000;

/// Free-text answers in NFC and trimmed (see [`crate::text`]); option values are slugs.
fn normalise_answers(questions: &[Question], mut answers: Answers) -> Answers {
    for question in questions.iter().filter(|q| q.kind == QuestionKind::Text) {
        if let Some(AnswerValue::Text(answer)) = answers.get_mut(&question.key) {
            *answer = text::normalise(answer, Lines::Many);
        }
    }
    answers
}

fn check_answer(question: &Question, answer: &AnswerValue) -> Result<(), String> {
    let offered = |value: &str| question.options.iter().any(|o| o.value == value);
    let choices = || {
        question
            .options
            .iter()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (question.kind, answer) {
        (QuestionKind::SingleChoice, AnswerValue::Text(value)) => {
            if offered(value) {
                Ok(())
            } else {
                Err(format!(
                    "{value:?} is not an option; choose one of: {}",
                    choices()
                ))
            }
        }
        (QuestionKind::SingleChoice, _) => Err(format!(
            "must be one option value (a string): one of {}",
            choices()
        )),
        (QuestionKind::MultiChoice, AnswerValue::Choices(values)) => {
            if values.is_empty() {
                return Err("choose at least one option".into());
            }
            if let Some(bad) = values.iter().find(|v| !offered(v)) {
                return Err(format!(
                    "{bad:?} is not an option; choose from: {}",
                    choices()
                ));
            }
            let distinct: HashSet<_> = values.iter().collect();
            if distinct.len() != values.len() {
                return Err("lists an option twice".into());
            }
            Ok(())
        }
        (QuestionKind::MultiChoice, _) => Err(format!(
            "must be a list of option values from: {}",
            choices()
        )),
        (QuestionKind::Number, AnswerValue::Number(n)) => {
            if !n.is_finite() {
                return Err("must be a finite number".into());
            }
            match (question.min, question.max) {
                (Some(min), _) if *n < min => Err(format!("must be at least {min}")),
                (_, Some(max)) if *n > max => Err(format!("must be at most {max}")),
                _ => Ok(()),
            }
        }
        (QuestionKind::Number, _) => Err("must be a number".into()),
        (QuestionKind::Text, AnswerValue::Text(answer)) => {
            if let Some(c) = text::hidden_char(answer, Lines::Many) {
                return Err(text::hidden_message(c));
            }
            let chars = answer.trim().chars().count();
            if chars == 0 || chars > MAX_TEXT_ANSWER {
                Err(format!("must be 1 to {MAX_TEXT_ANSWER} characters"))
            } else {
                Ok(())
            }
        }
        (QuestionKind::Text, _) => Err("must be text".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::question::ChoiceOption;

    fn question(key: &str, kind: QuestionKind, audience: Audience, required: bool) -> Question {
        let options = match kind {
            QuestionKind::SingleChoice | QuestionKind::MultiChoice => ["a", "b", "c"]
                .iter()
                .map(|v| ChoiceOption {
                    value: (*v).into(),
                    label: v.to_uppercase(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Question {
            key: key.into(),
            text: key.into(),
            kind,
            options,
            audience,
            required,
            match_weight: 1,
            min: (kind == QuestionKind::Number).then_some(0.0),
            max: (kind == QuestionKind::Number).then_some(10.0),
        }
    }

    fn questions() -> Vec<Question> {
        vec![
            question("stage", QuestionKind::SingleChoice, Audience::Both, true),
            question("langs", QuestionKind::MultiChoice, Audience::Both, false),
            question("kids", QuestionKind::Number, Audience::Both, false),
            question("story", QuestionKind::Text, Audience::Mentee, false),
            question("years", QuestionKind::Number, Audience::Mentor, true),
        ]
    }

    fn answers(pairs: &[(&str, AnswerValue)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn fields(result: Result<(), Vec<ValidationError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn valid_answers_pass() {
        let given = answers(&[
            ("stage", AnswerValue::Text("a".into())),
            ("langs", AnswerValue::Choices(vec!["a".into(), "c".into()])),
            ("kids", AnswerValue::Number(2.0)),
            ("story", AnswerValue::Text("Twins!".into())),
        ]);
        assert_eq!(
            validate_answers(&questions(), EnrolmentRole::Mentee, &given),
            Ok(())
        );
    }

    #[test]
    fn every_problem_names_its_question() {
        let given = answers(&[
            ("stage", AnswerValue::Text("z".into())),
            ("langs", AnswerValue::Choices(vec!["a".into(), "a".into()])),
            ("kids", AnswerValue::Number(11.0)),
            ("story", AnswerValue::Number(1.0)),
            ("shoe_size", AnswerValue::Number(38.0)),
        ]);
        let mut got = fields(validate_answers(
            &questions(),
            EnrolmentRole::Mentee,
            &given,
        ));
        got.sort();
        assert_eq!(
            got,
            [
                "answers.kids",
                "answers.langs",
                "answers.shoe_size",
                "answers.stage",
                "answers.story"
            ]
        );
    }

    #[test]
    fn required_questions_depend_on_the_role() {
        let given = answers(&[("stage", AnswerValue::Text("b".into()))]);
        assert_eq!(
            validate_answers(&questions(), EnrolmentRole::Mentee, &given),
            Ok(())
        );
        assert_eq!(
            fields(validate_answers(
                &questions(),
                EnrolmentRole::Mentor,
                &given
            )),
            ["answers.years"]
        );
        let asked_of_mentees_only = answers(&[
            ("stage", AnswerValue::Text("b".into())),
            ("years", AnswerValue::Number(3.0)),
            ("story", AnswerValue::Text("hi".into())),
        ]);
        assert_eq!(
            fields(validate_answers(
                &questions(),
                EnrolmentRole::Mentor,
                &asked_of_mentees_only
            )),
            ["answers.story"]
        );
    }

    #[test]
    fn text_answers_refuse_hidden_characters_and_are_normalised() {
        let hidden = answers(&[
            ("stage", AnswerValue::Text("a".into())),
            ("story", AnswerValue::Text("Twins\u{202E}!".into())),
        ]);
        assert_eq!(
            fields(validate_answers(
                &questions(),
                EnrolmentRole::Mentee,
                &hidden
            )),
            ["answers.story"]
        );
        let given = answers(&[("story", AnswerValue::Text(" Cafe\u{0301}\r\nyes ".into()))]);
        assert_eq!(
            normalise_answers(&questions(), given).get("story"),
            Some(&AnswerValue::Text("Caf\u{00E9}\nyes".into()))
        );
    }

    fn enrolment(status: EnrolmentStatus, capacity: u8) -> Enrolment {
        let at = DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        Enrolment {
            id: EnrolmentId::new_v7(at),
            program_id: ProgramId::new_v7(at),
            user_id: UserId::new_v7(at),
            role: EnrolmentRole::Mentor,
            status,
            capacity,
            active_pairings: 0,
            answers: Answers::new(),
            version: 3,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn only_a_withdrawn_enrolment_reopens() {
        let later = DateTime::from_timestamp(1_764_100_000, 0).unwrap_or_default();
        let mut fresh = enrolment(EnrolmentStatus::Pending, 4);
        fresh.answers = answers(&[("years", AnswerValue::Number(3.0))]);

        let mut withdrawn = enrolment(EnrolmentStatus::Withdrawn, 1);
        let id = withdrawn.id;
        assert_eq!(withdrawn.reopen(fresh.clone(), later), Ok(()));
        assert_eq!(withdrawn.id, id, "the same enrolment");
        assert_eq!(withdrawn.status, EnrolmentStatus::Pending);
        assert_eq!(withdrawn.capacity, 4);
        assert_eq!(withdrawn.answers, fresh.answers);
        assert_eq!(withdrawn.updated_at, later);

        for status in [
            EnrolmentStatus::Pending,
            EnrolmentStatus::Active,
            EnrolmentStatus::Declined,
        ] {
            let mut existing = enrolment(status, 1);
            let before = existing.clone();
            assert_eq!(
                existing.reopen(fresh.clone(), later),
                Err(already_enrolled(EnrolmentRole::Mentor)),
                "{status:?}"
            );
            assert_eq!(existing, before);
        }
    }

    #[test]
    fn kinds_are_enforced() {
        let wrong = answers(&[
            ("stage", AnswerValue::Choices(vec!["a".into()])),
            ("langs", AnswerValue::Text("a".into())),
            ("kids", AnswerValue::Text("two".into())),
        ]);
        assert_eq!(
            fields(validate_answers(
                &questions(),
                EnrolmentRole::Mentee,
                &wrong
            ))
            .len(),
            3
        );
        let empty = answers(&[
            ("stage", AnswerValue::Text("a".into())),
            ("langs", AnswerValue::Choices(vec![])),
        ]);
        assert_eq!(
            fields(validate_answers(
                &questions(),
                EnrolmentRole::Mentee,
                &empty
            )),
            ["answers.langs"]
        );
    }
}
