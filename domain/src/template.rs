//! Templates: the content a program is started from.

use serde::{Deserialize, Serialize};

use crate::question::Question;

/// A language Tandem ships built-in content in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Language {
    #[default]
    En,
    It,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::It];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::It => "it",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Language::En),
            "it" => Some(Language::It),
            _ => None,
        }
    }
}

/// One week of the guide: what a pair talks about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuideWeek {
    pub number: u16,
    pub title: String,
    pub goal: String,
    pub prompts: Vec<String>,
}

/// The content of a template, in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateContent {
    pub key: String,
    pub language: Language,
    pub name: String,
    pub description: String,
    pub duration_weeks: u16,
    pub cadence_days: u16,
    pub questions: Vec<Question>,
    pub weeks: Vec<GuideWeek>,
}
