//! Templates: the content a program is started from, and the rules any template
//! content (built-in or saved by a group) must follow.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::GroupId;
use crate::question::{Question, QuestionKind};
use crate::text::{self, Lines};
use crate::ValidationError;

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

/// A template saved by a group's owners or admins; its `content.key` is unique in the group.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomTemplate {
    pub group_id: GroupId,
    pub content: TemplateContent,
    /// Bumped on every change; the API's ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Changes to a custom template's content; `None` keeps the current value. The key
/// never changes: programs and other templates name it.
#[derive(Debug, Clone, Default)]
pub struct ContentChange {
    pub language: Option<Language>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub duration_weeks: Option<u16>,
    pub cadence_days: Option<u16>,
    pub questions: Option<Vec<Question>>,
    pub weeks: Option<Vec<GuideWeek>>,
}

impl CustomTemplate {
    /// A group's new custom template: content prepared (see [`prepare_content`]) and a
    /// key that no built-in template uses. Every broken rule is reported.
    pub fn new(
        group_id: GroupId,
        content: TemplateContent,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<ValidationError>> {
        let key_error = validate_custom_key(&content.key).err();
        let content = match prepare_content(content) {
            Ok(content) if key_error.is_none() => content,
            Ok(_) => return Err(key_error.into_iter().collect()),
            Err(mut errors) => {
                // A malformed key is reported once, first.
                if let Some(error) = key_error.filter(|_| !errors.iter().any(|e| e.field == "key"))
                {
                    errors.insert(0, error);
                }
                return Err(errors);
            }
        };
        Ok(Self {
            group_id,
            content,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies an admin's patch. The result must be valid as a whole (a new guide and a
    /// duration that matches it may come in one patch); on error nothing changes.
    pub fn apply(
        &mut self,
        change: ContentChange,
        now: DateTime<Utc>,
    ) -> Result<(), Vec<ValidationError>> {
        let current = &self.content;
        let content = TemplateContent {
            key: current.key.clone(),
            language: change.language.unwrap_or(current.language),
            name: change.name.unwrap_or_else(|| current.name.clone()),
            description: change
                .description
                .unwrap_or_else(|| current.description.clone()),
            duration_weeks: change.duration_weeks.unwrap_or(current.duration_weeks),
            cadence_days: change.cadence_days.unwrap_or(current.cadence_days),
            questions: change
                .questions
                .unwrap_or_else(|| current.questions.clone()),
            weeks: change.weeks.unwrap_or_else(|| current.weeks.clone()),
        };
        self.content = prepare_content(content)?;
        self.updated_at = now;
        Ok(())
    }
}

/// The limits template content is held to.
pub mod limits {
    pub const KEY_CHARS: (usize, usize) = (2, 60);
    pub const NAME_CHARS: usize = 120;
    pub const DESCRIPTION_CHARS: usize = 2000;
    pub const WEEKS: (usize, usize) = (1, 52);
    pub const CADENCE_DAYS: (u16, u16) = (1, 31);
    pub const WEEK_TITLE_CHARS: usize = 120;
    pub const WEEK_GOAL_CHARS: usize = 500;
    pub const PROMPTS: (usize, usize) = (1, 6);
    pub const PROMPT_CHARS: usize = 500;
    pub const QUESTIONS: usize = 50;
    pub const QUESTION_KEY_CHARS: usize = 60;
    pub const QUESTION_TEXT_CHARS: usize = 500;
    pub const OPTIONS: (usize, usize) = (2, 30);
    pub const OPTION_VALUE_CHARS: usize = 60;
    pub const OPTION_LABEL_CHARS: usize = 200;
    pub const MATCH_WEIGHT: u8 = 10;
}

/// Whether `key` is a template key: a slug of 2–60 lowercase letters, digits and `-`.
pub fn is_template_key(key: &str) -> bool {
    (limits::KEY_CHARS.0..=limits::KEY_CHARS.1).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The key of a new custom template: a slug that no built-in template uses, so a
/// program's `template_key` always names one template.
pub fn validate_custom_key(key: &str) -> Result<(), ValidationError> {
    if !is_template_key(key) {
        return Err(ValidationError::new(
            "key",
            "must be 2 to 60 lowercase letters, digits or '-'",
        ));
    }
    if crate::catalogue::BUILTIN_KEYS.contains(&key) {
        return Err(ValidationError::new(
            "key",
            "is the key of a built-in template; choose another",
        ));
    }
    Ok(())
}

/// Template content as a group's admins wrote it, made ready to store: its texts
/// normalised (see [`crate::text`]) and every rule checked.
pub fn prepare_content(
    mut content: TemplateContent,
) -> Result<TemplateContent, Vec<ValidationError>> {
    normalise_content(&mut content);
    validate_content(&content)?;
    Ok(content)
}

/// NFC and trimmed texts, so that what is stored and compared is one form.
fn normalise_content(content: &mut TemplateContent) {
    let one = |t: &mut String| *t = text::normalise(t, Lines::One);
    one(&mut content.name);
    content.description = text::normalise(&content.description, Lines::Many);
    for week in &mut content.weeks {
        one(&mut week.title);
        one(&mut week.goal);
        week.prompts.iter_mut().for_each(one);
    }
    for question in &mut content.questions {
        one(&mut question.text);
        for option in &mut question.options {
            one(&mut option.label);
        }
    }
}

/// Checks template content against every rule and reports every broken one, each at
/// its field path (`questions[2].options`, `weeks[0].prompts[1]`).
pub fn validate_content(content: &TemplateContent) -> Result<(), Vec<ValidationError>> {
    let mut errors = Errors::default();
    if !is_template_key(&content.key) {
        errors.add("key", "must be 2 to 60 lowercase letters, digits or '-'");
    }
    errors.text("name", &content.name, 1, limits::NAME_CHARS);
    errors.lines(
        "description",
        &content.description,
        0,
        limits::DESCRIPTION_CHARS,
    );
    let (min_cadence, max_cadence) = limits::CADENCE_DAYS;
    if !(min_cadence..=max_cadence).contains(&content.cadence_days) {
        errors.add(
            "cadence_days",
            format!("must be between {min_cadence} and {max_cadence}"),
        );
    }
    validate_weeks(content, &mut errors);
    validate_questions(&content.questions, &mut errors);
    errors.finish()
}

fn validate_weeks(content: &TemplateContent, errors: &mut Errors) {
    let (min_weeks, max_weeks) = limits::WEEKS;
    let count = content.weeks.len();
    if !(min_weeks..=max_weeks).contains(&count) {
        errors.add(
            "weeks",
            format!("must have {min_weeks} to {max_weeks} weeks, has {count}"),
        );
    }
    if usize::from(content.duration_weeks) != count {
        errors.add(
            "duration_weeks",
            format!("must equal the number of weeks in the guide ({count})"),
        );
    }
    for (index, week) in content.weeks.iter().enumerate() {
        let at = format!("weeks[{index}]");
        if usize::from(week.number) != index + 1 {
            errors.add(
                format!("{at}.number"),
                format!(
                    "must be {}: weeks are numbered 1, 2, 3… in order",
                    index + 1
                ),
            );
        }
        errors.text(
            &format!("{at}.title"),
            &week.title,
            1,
            limits::WEEK_TITLE_CHARS,
        );
        errors.text(
            &format!("{at}.goal"),
            &week.goal,
            1,
            limits::WEEK_GOAL_CHARS,
        );
        let (min_prompts, max_prompts) = limits::PROMPTS;
        if !(min_prompts..=max_prompts).contains(&week.prompts.len()) {
            errors.add(
                format!("{at}.prompts"),
                format!("must have {min_prompts} to {max_prompts} prompts"),
            );
        }
        for (p, prompt) in week.prompts.iter().enumerate() {
            errors.text(
                &format!("{at}.prompts[{p}]"),
                prompt,
                1,
                limits::PROMPT_CHARS,
            );
        }
    }
}

fn validate_questions(questions: &[Question], errors: &mut Errors) {
    if questions.len() > limits::QUESTIONS {
        errors.add(
            "questions",
            format!("must have at most {} questions", limits::QUESTIONS),
        );
    }
    let mut keys = HashSet::new();
    for (index, question) in questions.iter().enumerate() {
        let at = format!("questions[{index}]");
        let key_ok = (1..=limits::QUESTION_KEY_CHARS).contains(&question.key.len())
            && question
                .key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            errors.add(
                format!("{at}.key"),
                "must be 1 to 60 lowercase letters, digits or '_'",
            );
        } else if !keys.insert(question.key.as_str()) {
            errors.add(
                format!("{at}.key"),
                format!("{:?} is already the key of another question", question.key),
            );
        }
        errors.text(
            &format!("{at}.text"),
            &question.text,
            1,
            limits::QUESTION_TEXT_CHARS,
        );
        if question.match_weight > limits::MATCH_WEIGHT {
            errors.add(
                format!("{at}.match_weight"),
                format!("must be between 0 and {}", limits::MATCH_WEIGHT),
            );
        }
        validate_options(question, &at, errors);
        validate_bounds(question, &at, errors);
    }
}

fn validate_options(question: &Question, at: &str, errors: &mut Errors) {
    let is_choice = matches!(
        question.kind,
        QuestionKind::SingleChoice | QuestionKind::MultiChoice
    );
    if !is_choice {
        if !question.options.is_empty() {
            errors.add(
                format!("{at}.options"),
                "only single_choice and multi_choice questions have options",
            );
        }
        return;
    }
    let (min_options, max_options) = limits::OPTIONS;
    if !(min_options..=max_options).contains(&question.options.len()) {
        errors.add(
            format!("{at}.options"),
            format!("a choice question must have {min_options} to {max_options} options"),
        );
    }
    let mut values = HashSet::new();
    for (index, option) in question.options.iter().enumerate() {
        let at = format!("{at}.options[{index}]");
        let value_ok = (1..=limits::OPTION_VALUE_CHARS).contains(&option.value.len())
            && option
                .value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !value_ok {
            errors.add(
                format!("{at}.value"),
                "must be 1 to 60 lowercase letters, digits, '_' or '-'",
            );
        } else if !values.insert(option.value.as_str()) {
            errors.add(
                format!("{at}.value"),
                format!("{:?} is already the value of another option", option.value),
            );
        }
        errors.text(
            &format!("{at}.label"),
            &option.label,
            1,
            limits::OPTION_LABEL_CHARS,
        );
    }
}

fn validate_bounds(question: &Question, at: &str, errors: &mut Errors) {
    if question.kind != QuestionKind::Number {
        for (name, bound) in [("min", question.min), ("max", question.max)] {
            if bound.is_some() {
                errors.add(format!("{at}.{name}"), "only number questions have bounds");
            }
        }
        return;
    }
    for (name, bound) in [("min", question.min), ("max", question.max)] {
        if bound.is_some_and(|b| !b.is_finite()) {
            errors.add(format!("{at}.{name}"), "must be a finite number");
        }
    }
    if let (Some(min), Some(max)) = (question.min, question.max) {
        if min.is_finite() && max.is_finite() && min > max {
            errors.add(format!("{at}.max"), "must not be less than min");
        }
    }
}

/// Collects validation errors in the order they are found.
#[derive(Default)]
struct Errors(Vec<ValidationError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ValidationError::new(field, message));
    }

    /// A one-line text of `min..=max` characters; blank counts as empty.
    fn text(&mut self, field: &str, text: &str, min: usize, max: usize) {
        self.checked(field, text, Lines::One, min, max);
    }

    /// Like [`Errors::text`], but `\n` is allowed.
    fn lines(&mut self, field: &str, text: &str, min: usize, max: usize) {
        self.checked(field, text, Lines::Many, min, max);
    }

    fn checked(&mut self, field: &str, text: &str, lines: Lines, min: usize, max: usize) {
        if let Some(c) = text::hidden_char(text, lines) {
            return self.add(field, text::hidden_message(c));
        }
        let chars = text.chars().count();
        let blank = text.trim().is_empty();
        if (min > 0 && blank) || chars > max {
            let message = if min > 0 {
                format!("must be {min} to {max} characters, not blank")
            } else {
                format!("must be at most {max} characters")
            };
            self.add(field, message);
        }
    }

    fn finish(self) -> Result<(), Vec<ValidationError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use crate::question::{Audience, ChoiceOption};

    fn week(number: u16) -> GuideWeek {
        GuideWeek {
            number,
            title: format!("Week {number}"),
            goal: "Get to know each other".into(),
            prompts: vec!["What brought you here?".into()],
        }
    }

    fn choice(key: &str, values: &[&str]) -> Question {
        Question {
            key: key.into(),
            text: "Which one?".into(),
            kind: QuestionKind::SingleChoice,
            options: values
                .iter()
                .map(|v| ChoiceOption {
                    value: (*v).into(),
                    label: format!("Label {v}"),
                })
                .collect(),
            audience: Audience::Both,
            required: true,
            match_weight: 5,
            min: None,
            max: None,
        }
    }

    fn number(key: &str, min: Option<f64>, max: Option<f64>) -> Question {
        Question {
            key: key.into(),
            text: "How many?".into(),
            kind: QuestionKind::Number,
            options: Vec::new(),
            audience: Audience::Mentee,
            required: false,
            match_weight: 2,
            min,
            max,
        }
    }

    fn valid() -> TemplateContent {
        TemplateContent {
            key: "book-club".into(),
            language: Language::En,
            name: "Book club".into(),
            description: String::new(),
            duration_weeks: 2,
            cadence_days: 7,
            questions: vec![
                choice("genre", &["fiction", "non-fiction"]),
                number("books", Some(0.0), Some(100.0)),
            ],
            weeks: vec![week(1), week(2)],
        }
    }

    fn fields(content: &TemplateContent) -> Vec<String> {
        match validate_content(content) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn valid_content_passes() {
        assert_eq!(validate_content(&valid()), Ok(()));
    }

    #[test]
    fn the_builtin_catalogue_passes() {
        for language in Language::ALL {
            for template in catalogue::builtins(language) {
                assert_eq!(
                    validate_content(template),
                    Ok(()),
                    "{}.{}",
                    template.key,
                    language.code()
                );
            }
        }
    }

    #[test]
    fn a_guide_has_1_to_52_numbered_weeks_matching_the_duration() {
        let mut content = valid();
        content.weeks.clear();
        content.duration_weeks = 0;
        assert_eq!(fields(&content), ["weeks"]);

        let mut content = valid();
        content.weeks = (1..=53).map(week).collect();
        content.duration_weeks = 53;
        assert_eq!(fields(&content), ["weeks"]);

        let mut content = valid();
        content.duration_weeks = 3;
        assert_eq!(fields(&content), ["duration_weeks"]);

        let mut content = valid();
        content.weeks[1].number = 3;
        assert_eq!(fields(&content), ["weeks[1].number"]);
    }

    #[test]
    fn weeks_need_a_title_a_goal_and_1_to_6_prompts() {
        let mut content = valid();
        content.weeks[0].title = "  ".into();
        content.weeks[0].goal = "g".repeat(501);
        content.weeks[1].prompts = vec!["p".into(); 7];
        assert_eq!(
            fields(&content),
            ["weeks[0].title", "weeks[0].goal", "weeks[1].prompts"]
        );

        let mut content = valid();
        content.weeks[0].prompts.clear();
        content.weeks[1].prompts = vec!["fine".into(), String::new()];
        assert_eq!(
            fields(&content),
            ["weeks[0].prompts", "weeks[1].prompts[1]"]
        );
    }

    #[test]
    fn name_description_cadence_and_key_are_bounded() {
        let mut content = valid();
        content.name = String::new();
        content.description = "d".repeat(2001);
        content.cadence_days = 0;
        content.key = "Book Club".into();
        assert_eq!(
            fields(&content),
            ["key", "name", "description", "cadence_days"]
        );

        let mut content = valid();
        content.name = "n".repeat(120);
        content.description = "d".repeat(2000);
        content.cadence_days = 31;
        assert_eq!(fields(&content), Vec::<String>::new());
        content.cadence_days = 32;
        assert_eq!(fields(&content), ["cadence_days"]);
    }

    #[test]
    fn question_keys_are_unique_snake_case() {
        let mut content = valid();
        content.questions.push(choice("genre", &["a", "b"]));
        content.questions.push(choice("Bad Key", &["a", "b"]));
        content.questions.push(choice("", &["a", "b"]));
        assert_eq!(
            fields(&content),
            ["questions[2].key", "questions[3].key", "questions[4].key"]
        );
    }

    #[test]
    fn at_most_50_questions() {
        let mut content = valid();
        content.questions = (0..51)
            .map(|i| choice(&format!("q{i}"), &["a", "b"]))
            .collect();
        assert_eq!(fields(&content), ["questions"]);
        content.questions.pop();
        assert_eq!(fields(&content), Vec::<String>::new());
        content.questions.clear();
        assert_eq!(fields(&content), Vec::<String>::new());
    }

    #[test]
    fn choice_questions_have_2_to_30_unique_options() {
        let mut content = valid();
        content.questions[0] = choice("genre", &["only"]);
        assert_eq!(fields(&content), ["questions[0].options"]);

        content.questions[0] = choice("genre", &["a", "a", "Bad Value", ""]);
        content.questions[0].options[0].label = String::new();
        assert_eq!(
            fields(&content),
            [
                "questions[0].options[0].label",
                "questions[0].options[1].value",
                "questions[0].options[2].value",
                "questions[0].options[3].value",
            ]
        );

        let values: Vec<String> = (0..31).map(|i| format!("v{i}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        content.questions[0] = choice("genre", &values);
        assert_eq!(fields(&content), ["questions[0].options"]);
    }

    #[test]
    fn only_choice_questions_have_options() {
        let mut content = valid();
        content.questions[1].options = vec![ChoiceOption {
            value: "x".into(),
            label: "X".into(),
        }];
        content.questions[1].kind = QuestionKind::Text;
        content.questions[1].min = None;
        content.questions[1].max = None;
        assert_eq!(fields(&content), ["questions[1].options"]);
    }

    #[test]
    fn only_number_questions_have_finite_ordered_bounds() {
        let mut content = valid();
        content.questions[1] = number("books", Some(10.0), Some(1.0));
        assert_eq!(fields(&content), ["questions[1].max"]);
        content.questions[1] = number("books", Some(f64::NAN), Some(f64::INFINITY));
        assert_eq!(fields(&content), ["questions[1].min", "questions[1].max"]);
        content.questions[1] = number("books", None, Some(3.0));
        assert_eq!(fields(&content), Vec::<String>::new());
        content.questions[1] = number("books", Some(3.0), Some(3.0));
        assert_eq!(fields(&content), Vec::<String>::new());

        content.questions[0].min = Some(1.0);
        content.questions[0].max = Some(2.0);
        assert_eq!(fields(&content), ["questions[0].min", "questions[0].max"]);
    }

    #[test]
    fn match_weight_is_at_most_10_and_texts_are_bounded() {
        let mut content = valid();
        content.questions[0].match_weight = 11;
        content.questions[1].text = "t".repeat(501);
        assert_eq!(
            fields(&content),
            ["questions[0].match_weight", "questions[1].text"]
        );
        content.questions[0].match_weight = 10;
        content.questions[1].text = "t".repeat(500);
        assert_eq!(fields(&content), Vec::<String>::new());
    }

    #[test]
    fn texts_refuse_hidden_characters_and_only_the_description_has_lines() {
        let mut content = valid();
        content.name = "Book\u{202E}club".into();
        content.description = "Read\ntogether".into();
        content.weeks[0].title = "Week\none".into();
        content.weeks[1].prompts[0] = "Why\u{200B}?".into();
        content.questions[0].text = "Which\u{0007}".into();
        content.questions[0].options[1].label = "\u{FEFF}B".into();
        assert_eq!(
            fields(&content),
            [
                "name",
                "weeks[0].title",
                "weeks[1].prompts[0]",
                "questions[0].text",
                "questions[0].options[1].label"
            ]
        );
    }

    #[test]
    fn prepared_content_is_normalised() {
        let mut content = valid();
        content.name = "  Caffe\u{0300} letterario ".into();
        content.description = "One\r\nTwo ".into();
        content.weeks[0].prompts[0] = " Perche\u{0301}? ".into();
        let prepared = prepare_content(content).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(prepared.name, "Caff\u{00E8} letterario");
        assert_eq!(prepared.description, "One\nTwo");
        assert_eq!(prepared.weeks[0].prompts[0], "Perch\u{00E9}?");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let mut content = valid();
        content.name = String::new();
        content.cadence_days = 40;
        content.questions[0].match_weight = 11;
        content.weeks[0].prompts.clear();
        assert_eq!(
            fields(&content),
            [
                "name",
                "cadence_days",
                "weeks[0].prompts",
                "questions[0].match_weight"
            ]
        );
    }

    #[test]
    fn custom_keys_are_slugs_that_no_builtin_uses() {
        assert_eq!(validate_custom_key("book-club-2"), Ok(()));
        for bad in ["a", "Book", "book club", "book_club", &"a".repeat(61)] {
            assert!(validate_custom_key(bad).is_err(), "{bad}");
        }
        for key in catalogue::BUILTIN_KEYS {
            assert!(is_template_key(key));
            let error = validate_custom_key(key).err();
            assert_eq!(error.map(|e| e.field).as_deref(), Some("key"));
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default()
    }

    fn custom() -> CustomTemplate {
        CustomTemplate::new(GroupId::new_v7(now()), valid(), now())
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_custom_template_needs_a_key_of_its_own_and_valid_content() {
        assert_eq!(custom().content, valid());
        let mut content = valid();
        content.key = "new-parents".into();
        let errors = CustomTemplate::new(GroupId::new_v7(now()), content.clone(), now()).err();
        let fields: Vec<String> = errors
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["key"]);
        content.key = "Bad Key".into();
        content.name = String::new();
        let errors = CustomTemplate::new(GroupId::new_v7(now()), content, now()).err();
        let fields: Vec<String> = errors
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["key", "name"]);
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_keeps_the_whole_valid() {
        let mut template = custom();
        let later = now() + chrono::Duration::hours(1);
        let change = ContentChange {
            name: Some(" Book club, again ".into()),
            weeks: Some(vec![week(1), week(2), week(3)]),
            duration_weeks: Some(3),
            ..ContentChange::default()
        };
        assert_eq!(template.apply(change, later), Ok(()));
        assert_eq!(template.content.name, "Book club, again");
        assert_eq!(template.content.weeks.len(), 3);
        assert_eq!(template.content.questions, valid().questions);
        assert_eq!(template.content.key, "book-club");
        assert_eq!(template.updated_at, later);

        // Fewer weeks without the matching duration: refused, and nothing changes.
        let before = template.clone();
        let change = ContentChange {
            weeks: Some(vec![week(1)]),
            cadence_days: Some(0),
            ..ContentChange::default()
        };
        let errors = template.apply(change, later).err().unwrap_or_default();
        let fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["cadence_days", "duration_weeks"]);
        assert_eq!(template, before);
    }

    #[test]
    fn languages_round_trip_through_their_codes() {
        for language in Language::ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::from_code(" IT "), Some(Language::It));
        assert_eq!(Language::from_code("fr"), None);
    }
}
