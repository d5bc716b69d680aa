//! Sign-up questions and the answers members give to them.
//!
//! Question keys and option values are stable across languages: answers and matching
//! use them. Only `text` and option `label`s are translated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum QuestionKind {
    SingleChoice,
    MultiChoice,
    Text,
    Number,
}

/// Who is asked a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Audience {
    Mentor,
    Mentee,
    Both,
}

/// One option of a choice question: `value` is what answers store, `label` what people read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

/// A sign-up question of a template or program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    pub key: String,
    pub text: String,
    pub kind: QuestionKind,
    #[serde(default)]
    pub options: Vec<ChoiceOption>,
    pub audience: Audience,
    pub required: bool,
    /// 0 = not used for matching; 1..=10 = how much agreement on it counts.
    pub match_weight: u8,
    /// Bounds of a `number` question (inclusive).
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

/// An answer to one question, shaped by the question's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AnswerValue {
    Number(f64),
    Text(String),
    Choices(Vec<String>),
}

/// A member's answers, by question key.
pub type Answers = BTreeMap<String, AnswerValue>;
