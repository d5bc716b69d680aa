//! Programs: a group's mentorship program, started from a template whose content it copies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{GroupId, ProgramId};
use crate::question::Question;
use crate::template::{GuideWeek, Language, TemplateContent};
use crate::text::{self, Lines};
use crate::{DomainError, ValidationError};

/// Where a program is in its life. Only forward, one step at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProgramStatus {
    /// Being prepared; only admins see it.
    Draft,
    /// Enrolment is open.
    Open,
    /// No new enrolments; pairs go on.
    Closed,
    /// Read-only.
    Archived,
}

impl ProgramStatus {
    /// An archived program is read-only: no settings, enrolment or pairing changes.
    pub fn check_not_archived(self) -> Result<(), DomainError> {
        if self == ProgramStatus::Archived {
            return Err(DomainError::Conflict(
                "the program is archived and read-only",
            ));
        }
        Ok(())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProgramStatus::Draft => "draft",
            ProgramStatus::Open => "open",
            ProgramStatus::Closed => "closed",
            ProgramStatus::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(ProgramStatus::Draft),
            "open" => Some(ProgramStatus::Open),
            "closed" => Some(ProgramStatus::Closed),
            "archived" => Some(ProgramStatus::Archived),
            _ => None,
        }
    }

    /// The only status this one may move to.
    pub fn next(self) -> Option<Self> {
        match self {
            ProgramStatus::Draft => Some(ProgramStatus::Open),
            ProgramStatus::Open => Some(ProgramStatus::Closed),
            ProgramStatus::Closed => Some(ProgramStatus::Archived),
            ProgramStatus::Archived => None,
        }
    }

    /// draft → open → closed → archived; staying put is allowed, anything else is a conflict.
    pub fn transition_to(self, target: Self) -> Result<Self, DomainError> {
        if target == self || self.next() == Some(target) {
            Ok(target)
        } else {
            Err(DomainError::Conflict(
                "a program moves only forward, one step at a time: draft → open → closed → archived",
            ))
        }
    }
}

/// Who pairs people in a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MatchingMode {
    /// Admins pair people (helped by suggestions).
    Admin,
    /// A new active enrolment is paired at once with the best partner above the threshold.
    Auto,
}

impl MatchingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchingMode::Admin => "admin",
            MatchingMode::Auto => "auto",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(MatchingMode::Admin),
            "auto" => Some(MatchingMode::Auto),
            _ => None,
        }
    }
}

/// A program as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub id: ProgramId,
    pub group_id: GroupId,
    pub template_key: String,
    pub language: Language,
    pub settings: ProgramSettings,
    pub status: ProgramStatus,
    pub questions: Vec<Question>,
    pub weeks: Vec<GuideWeek>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The settings of a program an admin chooses (and may change later).
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSettings {
    pub name: String,
    pub description: String,
    pub duration_weeks: u16,
    pub cadence_days: u16,
    pub matching: MatchingMode,
    pub default_capacity: u8,
    pub requires_approval: bool,
    pub auto_match_threshold: u8,
}

/// Changes to a program's settings; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub duration_weeks: Option<i64>,
    pub cadence_days: Option<i64>,
    pub matching: Option<MatchingMode>,
    pub default_capacity: Option<i64>,
    pub requires_approval: Option<bool>,
    pub auto_match_threshold: Option<i64>,
}

pub const DEFAULT_CAPACITY: u8 = 1;
pub const DEFAULT_AUTO_MATCH_THRESHOLD: u8 = 60;
pub const MAX_CAPACITY: i64 = 20;

impl ProgramSettings {
    /// The settings a template suggests, before any override.
    pub fn from_template(template: &TemplateContent) -> Self {
        Self {
            name: template.name.clone(),
            description: template.description.clone(),
            duration_weeks: template.duration_weeks,
            cadence_days: template.cadence_days,
            matching: MatchingMode::Admin,
            default_capacity: DEFAULT_CAPACITY,
            requires_approval: false,
            auto_match_threshold: DEFAULT_AUTO_MATCH_THRESHOLD,
        }
    }

    /// Applies a change, checking every field; all invalid fields are reported at once.
    /// The guide has `guide_weeks` weeks, and the duration cannot outrun it.
    pub fn apply(
        &self,
        change: SettingsChange,
        guide_weeks: usize,
    ) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let mut next = self.clone();
        if let Some(name) = change.name {
            match text::clean(&name, "name", Lines::One) {
                Ok(cleaned) if cleaned.is_empty() || text::length(&name, &cleaned) > 120 => {
                    errors.push(ValidationError::new("name", "must be 1 to 120 characters"));
                }
                Ok(name) => next.name = name,
                Err(error) => errors.push(error),
            }
        }
        if let Some(description) = change.description {
            match text::clean(&description, "description", Lines::Many) {
                Ok(cleaned) if text::length(&description, &cleaned) > 2000 => {
                    errors.push(ValidationError::new(
                        "description",
                        "must be at most 2000 characters",
                    ));
                }
                Ok(description) => next.description = description,
                Err(error) => errors.push(error),
            }
        }
        if let Some(weeks) = change.duration_weeks {
            let max = guide_weeks.min(52) as i64;
            match u16::try_from(weeks) {
                Ok(w) if (1..=max).contains(&weeks) => next.duration_weeks = w,
                _ => errors.push(ValidationError::new(
                    "duration_weeks",
                    format!("must be between 1 and {max} (the guide has {guide_weeks} weeks)"),
                )),
            }
        }
        if let Some(days) = change.cadence_days {
            match u16::try_from(days) {
                Ok(d) if (1..=31).contains(&days) => next.cadence_days = d,
                _ => errors.push(ValidationError::new(
                    "cadence_days",
                    "must be between 1 and 31",
                )),
            }
        }
        if let Some(matching) = change.matching {
            next.matching = matching;
        }
        if let Some(capacity) = change.default_capacity {
            match u8::try_from(capacity) {
                Ok(c) if (1..=MAX_CAPACITY).contains(&capacity) => next.default_capacity = c,
                _ => errors.push(ValidationError::new(
                    "default_capacity",
                    "must be between 1 and 20",
                )),
            }
        }
        if let Some(approval) = change.requires_approval {
            next.requires_approval = approval;
        }
        if let Some(threshold) = change.auto_match_threshold {
            match u8::try_from(threshold) {
                Ok(t) if t <= 100 => next.auto_match_threshold = t,
                _ => errors.push(ValidationError::new(
                    "auto_match_threshold",
                    "must be between 0 and 100",
                )),
            }
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(errors)
        }
    }
}

impl Program {
    /// A new draft program holding its own copy of the template's content.
    pub fn from_template(
        id: ProgramId,
        group_id: GroupId,
        template: &TemplateContent,
        change: SettingsChange,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<ValidationError>> {
        let settings =
            ProgramSettings::from_template(template).apply(change, template.weeks.len())?;
        Ok(Self {
            id,
            group_id,
            template_key: template.key.clone(),
            language: template.language,
            settings,
            status: ProgramStatus::Draft,
            questions: template.questions.clone(),
            weeks: template.weeks.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies an admin's update: settings and/or a status step.
    ///
    /// Archived programs are read-only. The schedule (duration, cadence) is fixed once
    /// the program has opened, since pairs follow it.
    pub fn update(
        &mut self,
        change: SettingsChange,
        status: Option<ProgramStatus>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.check_not_archived()?;
        let schedule_changes = change.duration_weeks.is_some() || change.cadence_days.is_some();
        if schedule_changes && self.status != ProgramStatus::Draft {
            return Err(DomainError::Conflict(
                "duration and cadence can only change while the program is a draft",
            ));
        }
        let settings = self.settings.apply(change, self.weeks.len())?;
        let status = match status {
            Some(target) => self.status.transition_to(target)?,
            None => self.status,
        };
        self.settings = settings;
        self.status = status;
        self.updated_at = now;
        Ok(())
    }

    /// Checks a change's values without applying it (422s only), so that a request is
    /// judged well-formed before its `If-Match` precondition and the program's state.
    pub fn check_change(&self, change: &SettingsChange) -> Result<(), DomainError> {
        self.settings
            .apply(change.clone(), self.weeks.len())
            .map(|_| ())
            .map_err(DomainError::Invalid)
    }

    /// An archived program is read-only: no settings, enrolment or pairing changes.
    pub fn check_not_archived(&self) -> Result<(), DomainError> {
        self.status.check_not_archived()
    }

    /// Is the program taking enrolments?
    pub fn check_enrolment_open(&self) -> Result<(), DomainError> {
        match self.status {
            ProgramStatus::Open => Ok(()),
            ProgramStatus::Draft => Err(DomainError::Conflict(
                "the program is not open for enrolment yet",
            )),
            ProgramStatus::Closed | ProgramStatus::Archived => Err(DomainError::Conflict(
                "the program is closed to new enrolments",
            )),
        }
    }

    /// The guide weeks a pair follows: as many as the program lasts.
    pub fn guide(&self) -> &[GuideWeek] {
        let length = guide_length(self.settings.duration_weeks, self.weeks.len());
        // Never longer than the guide: the whole of it is the same.
        followed_weeks(&self.weeks, length).unwrap_or(&self.weeks)
    }

    /// What reads about its pairings need of the program.
    pub fn summary(&self) -> ProgramSummary {
        ProgramSummary {
            id: self.id,
            group_id: self.group_id,
            name: self.settings.name.clone(),
            status: self.status,
            cadence_days: self.settings.cadence_days,
            guide_length: guide_length(self.settings.duration_weeks, self.weeks.len()),
        }
    }
}

/// How many weeks of its guide a program follows: its duration, or the whole guide when
/// that is shorter. One check-in per week followed.
pub fn guide_length(duration_weeks: u16, guide_weeks: usize) -> u16 {
    u16::try_from(guide_weeks)
        .unwrap_or(u16::MAX)
        .min(duration_weeks)
}

/// The weeks of its guide a program follows: the first `guide_length` of them.
pub fn followed_weeks(weeks: &[GuideWeek], guide_length: u16) -> Option<&[GuideWeek]> {
    weeks.get(..usize::from(guide_length))
}

/// A program as a pairing's reads need it: its name, group, status and schedule, without
/// the guide's text. Lets hot reads skip loading and parsing the guide.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSummary {
    pub id: ProgramId,
    pub group_id: GroupId,
    pub name: String,
    pub status: ProgramStatus,
    pub cadence_days: u16,
    /// `guide_length` of the program's duration and guide.
    pub guide_length: u16,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn the_summary_follows_as_many_weeks_as_the_guide() {
        assert_eq!(guide_length(12, 8), 8);
        assert_eq!(guide_length(6, 8), 6);
        assert_eq!(guide_length(6, 0), 0);
        let mut program = draft();
        program.settings.duration_weeks = 3;
        let summary = program.summary();
        assert_eq!(usize::from(summary.guide_length), program.guide().len());
        assert_eq!(summary.cadence_days, program.settings.cadence_days);
        assert_eq!(summary.name, program.settings.name);
        let followed = followed_weeks(&program.weeks, summary.guide_length);
        assert_eq!(followed, Some(program.guide()));
        // A length beyond the stored guide is no prefix of it.
        let too_long = u16::try_from(program.weeks.len() + 1).unwrap_or(u16::MAX);
        assert_eq!(followed_weeks(&program.weeks, too_long), None);
    }

    fn draft() -> Program {
        let template = catalogue::builtin("new-parents", Language::It).cloned();
        let template = template.unwrap_or_else(|| panic!("new-parents exists"));
        Program::from_template(
            ProgramId::new_v7(now()),
            GroupId::new_v7(now()),
            &template,
            SettingsChange::default(),
            now(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_program_copies_its_template() {
        let program = draft();
        let template = catalogue::builtin("new-parents", Language::It).unwrap_or_else(|| panic!());
        assert_eq!(program.status, ProgramStatus::Draft);
        assert_eq!(program.language, Language::It);
        assert_eq!(program.questions, template.questions);
        assert_eq!(program.weeks, template.weeks);
        assert_eq!(program.settings.name, template.name);
        assert_eq!(program.settings.auto_match_threshold, 60);
    }

    #[test]
    fn status_moves_forward_one_step() {
        use ProgramStatus::*;
        assert_eq!(Draft.transition_to(Open), Ok(Open));
        assert_eq!(Open.transition_to(Closed), Ok(Closed));
        assert_eq!(Closed.transition_to(Archived), Ok(Archived));
        for (from, to) in [
            (Draft, Closed),
            (Draft, Archived),
            (Open, Draft),
            (Closed, Open),
            (Archived, Closed),
            (Open, Archived),
        ] {
            assert!(
                matches!(from.transition_to(to), Err(DomainError::Conflict(_))),
                "{from:?} → {to:?}"
            );
        }
    }

    #[test]
    fn overrides_are_bounded() {
        let program = draft();
        let weeks = program.weeks.len();
        let bad = SettingsChange {
            name: Some(" ".into()),
            duration_weeks: Some(weeks as i64 + 1),
            cadence_days: Some(0),
            default_capacity: Some(21),
            auto_match_threshold: Some(101),
            ..SettingsChange::default()
        };
        let errors = program.settings.apply(bad, weeks).expect_err("all invalid");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "duration_weeks",
                "cadence_days",
                "default_capacity",
                "auto_match_threshold"
            ]
        );

        let good = SettingsChange {
            duration_weeks: Some(4),
            cadence_days: Some(14),
            default_capacity: Some(3),
            matching: Some(MatchingMode::Auto),
            ..SettingsChange::default()
        };
        let settings = program
            .settings
            .apply(good, weeks)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (
                settings.duration_weeks,
                settings.cadence_days,
                settings.default_capacity
            ),
            (4, 14, 3)
        );
        assert_eq!(settings.matching, MatchingMode::Auto);
    }

    #[test]
    fn names_and_descriptions_are_normalised_and_checked() {
        let program = draft();
        let weeks = program.weeks.len();
        let hidden = SettingsChange {
            name: Some("Neo\u{202E}genitori".into()),
            description: Some("ok\u{0007}".into()),
            ..SettingsChange::default()
        };
        let errors = program.settings.apply(hidden, weeks).expect_err("refused");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "description"]);

        let fine = SettingsChange {
            name: Some(" Cafe\u{0301} ".into()),
            description: Some("One\r\nTwo".into()),
            ..SettingsChange::default()
        };
        let settings = program.settings.apply(fine, weeks);
        let settings = settings.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(settings.name, "Caf\u{00E9}");
        assert_eq!(settings.description, "One\nTwo");
    }

    #[test]
    fn the_schedule_is_fixed_once_open_and_archived_is_read_only() {
        let mut program = draft();
        assert!(program
            .update(
                SettingsChange {
                    duration_weeks: Some(4),
                    ..Default::default()
                },
                Some(ProgramStatus::Open),
                now()
            )
            .is_ok());
        assert_eq!(program.guide().len(), 4);
        assert!(matches!(
            program.update(
                SettingsChange {
                    cadence_days: Some(3),
                    ..Default::default()
                },
                None,
                now()
            ),
            Err(DomainError::Conflict(_))
        ));
        assert!(program.check_enrolment_open().is_ok());
        assert!(program
            .update(
                SettingsChange::default(),
                Some(ProgramStatus::Closed),
                now()
            )
            .is_ok());
        assert!(program.check_enrolment_open().is_err());
        assert!(program
            .update(
                SettingsChange::default(),
                Some(ProgramStatus::Archived),
                now()
            )
            .is_ok());
        assert!(matches!(
            program.update(
                SettingsChange {
                    name: Some("New".into()),
                    ..Default::default()
                },
                None,
                now()
            ),
            Err(DomainError::Conflict(_))
        ));
    }
}
