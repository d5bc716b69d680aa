//! The built-in template catalogue: the read-only templates shipped inside the binary.
//!
//! This module owns the embedded content of `domain/templates/{key}.{lang}.json`, one file
//! per built-in key and language, compiled in with `include_str!` and parsed once, on first
//! use. Every template exists in every [`Language`], and the languages of one template share
//! their structure (question keys, kinds, option values, weights, weeks); only the words
//! people read differ. The tests below hold the content to those rules, so a malformed file
//! fails `cargo test` rather than a running server.

use std::sync::LazyLock;

use crate::template::{Language, TemplateContent};

/// The keys of the built-in templates, in catalogue order.
pub const BUILTIN_KEYS: [&str; 5] = [
    "career-advancement",
    "encouragement-and-support",
    "new-parents",
    "education",
    "health-and-wellbeing",
];

/// The embedded JSON of one built-in template, in each language.
struct Source {
    key: &'static str,
    en: &'static str,
    it: &'static str,
}

impl Source {
    fn json(&self, language: Language) -> &'static str {
        match language {
            Language::En => self.en,
            Language::It => self.it,
        }
    }
}

macro_rules! source {
    ($key:literal) => {
        Source {
            key: $key,
            en: include_str!(concat!("../templates/", $key, ".en.json")),
            it: include_str!(concat!("../templates/", $key, ".it.json")),
        }
    };
}

/// In [`BUILTIN_KEYS`] order (a test checks it).
static SOURCES: [Source; 5] = [
    source!("career-advancement"),
    source!("encouragement-and-support"),
    source!("new-parents"),
    source!("education"),
    source!("health-and-wellbeing"),
];

static ENGLISH: LazyLock<Vec<TemplateContent>> = LazyLock::new(|| parse_all(Language::En));
static ITALIAN: LazyLock<Vec<TemplateContent>> = LazyLock::new(|| parse_all(Language::It));

/// The built-in template `key` in `language`, or `None` if there is no such built-in.
pub fn builtin(key: &str, language: Language) -> Option<&'static TemplateContent> {
    builtins(language)
        .iter()
        .find(|template| template.key == key)
}

/// All built-in templates in `language`, in [`BUILTIN_KEYS`] order.
pub fn builtins(language: Language) -> &'static [TemplateContent] {
    match language {
        Language::En => &ENGLISH,
        Language::It => &ITALIAN,
    }
}

fn parse_all(language: Language) -> Vec<TemplateContent> {
    SOURCES
        .iter()
        .map(|source| {
            parse(source, language).unwrap_or_else(|error| {
                // Only reachable through a broken embedded file, which the tests rule out.
                panic!("built-in template catalogue is broken: {error}")
            })
        })
        .collect()
}

/// Parses one embedded file and checks that it is the template and language it is filed as.
fn parse(source: &Source, language: Language) -> Result<TemplateContent, String> {
    let file = format!("templates/{}.{}.json", source.key, language.code());
    let template: TemplateContent = serde_json::from_str(source.json(language))
        .map_err(|error| format!("{file} does not parse: {error}"))?;
    if template.key != source.key {
        return Err(format!("{file} has key {:?}", template.key));
    }
    if template.language != language {
        return Err(format!(
            "{file} has language {:?}",
            template.language.code()
        ));
    }
    Ok(template)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::question::{Question, QuestionKind};

    fn all() -> impl Iterator<Item = &'static TemplateContent> {
        Language::ALL
            .into_iter()
            .flat_map(|language| builtins(language).iter())
    }

    fn label(template: &TemplateContent) -> String {
        format!("{}.{}", template.key, template.language.code())
    }

    fn is_choice(kind: QuestionKind) -> bool {
        matches!(kind, QuestionKind::SingleChoice | QuestionKind::MultiChoice)
    }

    fn question<'a>(template: &'a TemplateContent, key: &str) -> &'a Question {
        template
            .questions
            .iter()
            .find(|question| question.key == key)
            .unwrap_or_else(|| panic!("{} has no question {key:?}", label(template)))
    }

    fn values(question: &Question) -> Vec<&str> {
        question
            .options
            .iter()
            .map(|option| option.value.as_str())
            .collect()
    }

    #[test]
    fn every_embedded_file_parses_as_the_template_it_is_filed_as() {
        for source in &SOURCES {
            for language in Language::ALL {
                if let Err(error) = parse(source, language) {
                    panic!("{error}");
                }
            }
        }
    }

    #[test]
    fn sources_follow_builtin_keys() {
        let keys: Vec<&str> = SOURCES.iter().map(|source| source.key).collect();
        assert_eq!(keys, BUILTIN_KEYS);
    }

    #[test]
    fn every_key_exists_in_both_languages_in_catalogue_order() {
        for language in Language::ALL {
            let keys: Vec<&str> = builtins(language)
                .iter()
                .map(|template| template.key.as_str())
                .collect();
            assert_eq!(keys, BUILTIN_KEYS, "order in {}", language.code());
            for key in BUILTIN_KEYS {
                let template = builtin(key, language)
                    .unwrap_or_else(|| panic!("{key} missing in {}", language.code()));
                assert_eq!(template.key, key);
                assert_eq!(template.language, language);
            }
        }
    }

    #[test]
    fn unknown_keys_are_not_builtins() {
        assert!(builtin("knitting", Language::En).is_none());
        assert!(builtin("", Language::It).is_none());
        assert!(builtin("New-Parents", Language::En).is_none());
    }

    #[test]
    fn languages_share_one_structure() {
        for key in BUILTIN_KEYS {
            let [Some(en), Some(it)] = Language::ALL.map(|language| builtin(key, language)) else {
                panic!("{key} is missing a language");
            };
            assert_eq!(en.duration_weeks, it.duration_weeks, "{key}: duration");
            assert_eq!(en.cadence_days, it.cadence_days, "{key}: cadence");
            assert_eq!(en.questions.len(), it.questions.len(), "{key}: questions");
            for (e, i) in en.questions.iter().zip(&it.questions) {
                let at = format!("{key}/{}", e.key);
                assert_eq!(e.key, i.key, "{at}: key (or order)");
                assert_eq!(e.kind, i.kind, "{at}: kind");
                assert_eq!(values(e), values(i), "{at}: option values");
                assert_eq!(e.audience, i.audience, "{at}: audience");
                assert_eq!(e.required, i.required, "{at}: required");
                assert_eq!(e.match_weight, i.match_weight, "{at}: match_weight");
                assert_eq!(e.min, i.min, "{at}: min");
                assert_eq!(e.max, i.max, "{at}: max");
            }
            assert_eq!(en.weeks.len(), it.weeks.len(), "{key}: weeks");
            for (e, i) in en.weeks.iter().zip(&it.weeks) {
                assert_eq!(e.number, i.number, "{key}: week number");
                assert_eq!(
                    e.prompts.len(),
                    i.prompts.len(),
                    "{key}: prompts in week {}",
                    e.number
                );
            }
        }
    }

    #[test]
    fn guides_run_weekly_from_week_one_with_two_to_four_prompts() {
        for template in all() {
            let at = label(template);
            assert!((4..=12).contains(&template.weeks.len()), "{at}: week count");
            assert_eq!(
                usize::from(template.duration_weeks),
                template.weeks.len(),
                "{at}: duration_weeks"
            );
            assert_eq!(template.cadence_days, 7, "{at}: cadence_days");
            for (index, week) in template.weeks.iter().enumerate() {
                assert_eq!(usize::from(week.number), index + 1, "{at}: numbering");
                assert!(
                    (2..=4).contains(&week.prompts.len()),
                    "{at}: week {} has {} prompts",
                    week.number,
                    week.prompts.len()
                );
            }
        }
    }

    #[test]
    fn questions_are_well_formed() {
        for template in all() {
            let at = label(template);
            assert!(
                (6..=10).contains(&template.questions.len()),
                "{at}: question count"
            );
            let mut keys = HashSet::new();
            for question in &template.questions {
                let at = format!("{at}/{}", question.key);
                assert!(keys.insert(question.key.as_str()), "{at}: duplicate key");
                assert!(
                    question
                        .key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{at}: key is not snake_case"
                );
                assert!(question.match_weight <= 10, "{at}: match_weight");
                if is_choice(question.kind) {
                    let values = values(question);
                    assert!((2..=30).contains(&values.len()), "{at}: option count");
                    let unique: HashSet<&str> = values.iter().copied().collect();
                    assert_eq!(unique.len(), values.len(), "{at}: duplicate option value");
                } else {
                    assert!(question.options.is_empty(), "{at}: options on a non-choice");
                }
                if question.kind == QuestionKind::Number {
                    match (question.min, question.max) {
                        (Some(min), Some(max)) => assert!(min < max, "{at}: min >= max"),
                        _ => panic!("{at}: number question without min and max"),
                    }
                } else {
                    assert!(
                        question.min.is_none() && question.max.is_none(),
                        "{at}: bounds on a non-number"
                    );
                }
            }
        }
    }

    #[test]
    fn every_template_can_be_matched_on() {
        for template in all() {
            let at = label(template);
            let weighted: Vec<&Question> = template
                .questions
                .iter()
                .filter(|question| question.match_weight > 0)
                .collect();
            assert!(weighted.len() >= 4, "{at}: fewer than 4 weighted questions");
            for kind in [
                QuestionKind::SingleChoice,
                QuestionKind::MultiChoice,
                QuestionKind::Number,
            ] {
                assert!(
                    weighted.iter().any(|question| question.kind == kind),
                    "{at}: no weighted {kind:?} question"
                );
            }
            assert!(
                template
                    .questions
                    .iter()
                    .any(|q| q.kind == QuestionKind::Text && q.match_weight == 0),
                "{at}: no free-text question left out of matching"
            );

            let time_zone = question(template, "time_zone");
            assert_eq!(
                time_zone.kind,
                QuestionKind::SingleChoice,
                "{at}: time_zone"
            );
            assert!(time_zone.match_weight > 0, "{at}: time_zone weight");
            assert_eq!(
                values(time_zone),
                ["americas", "europe_africa", "asia_pacific"],
                "{at}: time_zone values"
            );

            let languages = question(template, "languages");
            assert_eq!(languages.kind, QuestionKind::MultiChoice, "{at}: languages");
            assert!(languages.match_weight > 0, "{at}: languages weight");
            let codes = values(languages);
            for code in ["en", "it", "es", "fr", "de", "ar", "other"] {
                assert!(codes.contains(&code), "{at}: languages lacks {code}");
            }
        }
    }

    #[test]
    fn new_parents_covers_what_families_need() {
        for language in Language::ALL {
            let Some(template) = builtin("new-parents", language) else {
                panic!("new-parents missing in {}", language.code());
            };
            let stage = question(template, "child_stage");
            assert_eq!(stage.kind, QuestionKind::SingleChoice);
            assert_eq!(values(stage), ["expecting", "newborn", "infant", "toddler"]);
            assert_eq!(
                question(template, "first_child").kind,
                QuestionKind::SingleChoice
            );
            assert_eq!(
                question(template, "feeding").kind,
                QuestionKind::MultiChoice
            );
            assert_eq!(
                question(template, "support_wanted").kind,
                QuestionKind::MultiChoice
            );
            assert_eq!(
                question(template, "children_count").kind,
                QuestionKind::Number
            );
            question(template, "sleep");
            question(template, "work_plans");
        }
    }

    #[test]
    fn no_text_is_empty() {
        for template in all() {
            let at = label(template);
            let mut texts: Vec<(&str, String)> = vec![
                (template.name.as_str(), "name".to_owned()),
                (template.description.as_str(), "description".to_owned()),
            ];
            for question in &template.questions {
                texts.push((question.key.as_str(), "question key".to_owned()));
                texts.push((question.text.as_str(), format!("{} text", question.key)));
                for option in &question.options {
                    let place = format!("{} option", question.key);
                    texts.push((option.value.as_str(), place.clone()));
                    texts.push((option.label.as_str(), place));
                }
            }
            for week in &template.weeks {
                texts.push((week.title.as_str(), format!("week {} title", week.number)));
                texts.push((week.goal.as_str(), format!("week {} goal", week.number)));
                for prompt in &week.prompts {
                    texts.push((prompt.as_str(), format!("week {} prompt", week.number)));
                }
            }
            for (text, place) in texts {
                assert!(!text.trim().is_empty(), "{at}: empty {place}");
                assert_eq!(text, text.trim(), "{at}: stray whitespace in {place}");
            }
        }
    }

    #[test]
    fn italian_is_written_not_copied() {
        for key in BUILTIN_KEYS {
            let [Some(en), Some(it)] = Language::ALL.map(|language| builtin(key, language)) else {
                panic!("{key} is missing a language");
            };
            assert_ne!(en.name, it.name, "{key}: name");
            assert_ne!(en.description, it.description, "{key}: description");
            for (e, i) in en.questions.iter().zip(&it.questions) {
                assert_ne!(e.text, i.text, "{key}/{}: text", e.key);
            }
            for (e, i) in en.weeks.iter().zip(&it.weeks) {
                assert_ne!(e.title, i.title, "{key}: week {} title", e.number);
                assert_ne!(e.goal, i.goal, "{key}: week {} goal", e.number);
                for (ep, ip) in e.prompts.iter().zip(&i.prompts) {
                    assert_ne!(ep, ip, "{key}: week {} prompt", e.number);
                }
            }
        }
    }
}
