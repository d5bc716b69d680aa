//! Pairings: a mentor and a mentee of one program, and the rules for making and
//! ending one.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::enrolment::{Enrolment, EnrolmentRole, EnrolmentStatus};
use crate::ids::{PairingId, ProgramId, UserId};
use crate::program::{Program, ProgramStatus};
use crate::question::{AnswerValue, Answers, Question, QuestionKind};
use crate::safety::BlockedPairs;
use crate::template::Language;
use crate::text::{self, Lines};
use crate::{DomainError, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PairingStatus {
    Active,
    /// The schedule ran out.
    Completed,
    /// Ended early by a partner or an admin.
    Ended,
}

impl PairingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PairingStatus::Active => "active",
            PairingStatus::Completed => "completed",
            PairingStatus::Ended => "ended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(PairingStatus::Active),
            "completed" => Some(PairingStatus::Completed),
            "ended" => Some(PairingStatus::Ended),
            _ => None,
        }
    }
}

/// One side of a pairing.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub enrolment_id: crate::ids::EnrolmentId,
    pub user_id: UserId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pairing {
    pub id: PairingId,
    pub program_id: ProgramId,
    pub mentor: Partner,
    pub mentee: Partner,
    pub introduction: String,
    pub status: PairingStatus,
    pub started_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<UserId>,
    pub end_reason: Option<String>,
}

pub const MAX_INTRODUCTION: usize = 2000;
pub const MAX_END_REASON: usize = 1000;

/// An introduction: 1–2000 characters after trimming.
pub fn validate_introduction(raw: &str, field: &str) -> Result<String, ValidationError> {
    let text = text::clean(raw, field, Lines::Many)?;
    if text.is_empty() || text::length(raw, &text) > MAX_INTRODUCTION {
        return Err(ValidationError::new(field, "must be 1 to 2000 characters"));
    }
    Ok(text)
}

/// The reason of an end, a block or a report: 1–1000 characters after trimming.
pub fn validate_reason(raw: &str) -> Result<String, ValidationError> {
    let reason = text::clean(raw, "reason", Lines::Many)?;
    if reason.is_empty() || text::length(raw, &reason) > MAX_END_REASON {
        return Err(ValidationError::new(
            "reason",
            "must be 1 to 1000 characters",
        ));
    }
    Ok(reason)
}

/// Nobody is paired with themselves (a member enrolled on both sides of a program is
/// never their own mentor), nor with a member either of them blocked in the group.
/// Making a pairing, auto matching and suggestions all ask here.
pub fn could_pair(mentor: &Enrolment, mentee: &Enrolment, blocked: &BlockedPairs) -> bool {
    mentor.user_id != mentee.user_id && !blocked.contains(mentor.user_id, mentee.user_id)
}

impl Pairing {
    /// Pairs a mentee with a mentor of the same program. The caller holds both
    /// enrolments as they are inside the transaction that stores the pairing; the
    /// database re-checks capacity, the mentee's single active pairing and blocks.
    /// `blocked` holds the group's blocked pairs (at least any between these two).
    #[expect(
        clippy::too_many_arguments,
        reason = "each is one fact the rules weigh"
    )]
    pub fn new(
        id: PairingId,
        program: &Program,
        mentor: &Enrolment,
        mentee: &Enrolment,
        blocked: &BlockedPairs,
        introduction: String,
        started_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        if !matches!(program.status, ProgramStatus::Open | ProgramStatus::Closed) {
            return Err(DomainError::Conflict(
                "pairs are made only while a program is open or closed",
            ));
        }
        let mut errors = Vec::new();
        if mentor.program_id != program.id {
            errors.push(ValidationError::new(
                "mentor_enrolment_id",
                "is not an enrolment of this program",
            ));
        } else if mentor.role != EnrolmentRole::Mentor {
            errors.push(ValidationError::new(
                "mentor_enrolment_id",
                "is a mentee's enrolment",
            ));
        }
        if mentee.program_id != program.id {
            errors.push(ValidationError::new(
                "mentee_enrolment_id",
                "is not an enrolment of this program",
            ));
        } else if mentee.role != EnrolmentRole::Mentee {
            errors.push(ValidationError::new(
                "mentee_enrolment_id",
                "is a mentor's enrolment",
            ));
        }
        if errors.is_empty() && mentor.user_id == mentee.user_id {
            errors.push(ValidationError::new(
                "mentee_enrolment_id",
                "cannot be paired with their own mentor enrolment",
            ));
        }
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        if mentor.status != EnrolmentStatus::Active || mentee.status != EnrolmentStatus::Active {
            return Err(DomainError::Conflict("both enrolments must be active"));
        }
        if !could_pair(mentor, mentee, blocked) {
            return Err(DomainError::Conflict(
                "one of the two blocked the other in this group: they are never paired again",
            ));
        }
        if mentee.active_pairings > 0 {
            return Err(DomainError::Conflict(
                "the mentee already has an active pairing",
            ));
        }
        if mentor.free_capacity() == 0 {
            return Err(DomainError::Conflict("the mentor has no free capacity"));
        }
        Ok(Self {
            id,
            program_id: program.id,
            mentor: Partner {
                enrolment_id: mentor.id,
                user_id: mentor.user_id,
            },
            mentee: Partner {
                enrolment_id: mentee.id,
                user_id: mentee.user_id,
            },
            introduction,
            status: PairingStatus::Active,
            started_on,
            created_at: now,
            ended_at: None,
            ended_by: None,
            end_reason: None,
        })
    }

    pub fn involves(&self, user: UserId) -> bool {
        self.mentor.user_id == user || self.mentee.user_id == user
    }

    /// The other partner, seen from `user`.
    pub fn partner_of(&self, user: UserId) -> Option<UserId> {
        if self.mentor.user_id == user {
            Some(self.mentee.user_id)
        } else if self.mentee.user_id == user {
            Some(self.mentor.user_id)
        } else {
            None
        }
    }

    /// Ends an active pairing early, with a reason (1–1000 characters).
    pub fn end(&mut self, by: UserId, reason: &str, now: DateTime<Utc>) -> Result<(), DomainError> {
        let reason = validate_reason(reason)?;
        if self.status != PairingStatus::Active {
            return Err(DomainError::Conflict("only an active pairing can be ended"));
        }
        self.status = PairingStatus::Ended;
        self.ended_at = Some(now);
        self.ended_by = Some(by);
        self.end_reason = Some(reason);
        Ok(())
    }
}

/// What two people answered alike to the program's weighted choice questions, as the
/// option labels (in the program's language), most heavily weighted first, at most
/// five. Only answers both gave: nothing here tells one partner what the other answered
/// beyond what they share.
pub fn shared_answers(questions: &[Question], a: &Answers, b: &Answers) -> Vec<String> {
    let mut weighted: Vec<&Question> = questions
        .iter()
        .filter(|q| q.match_weight > 0)
        .filter(|q| {
            matches!(
                q.kind,
                QuestionKind::SingleChoice | QuestionKind::MultiChoice
            )
        })
        .collect();
    weighted.sort_by_key(|q| std::cmp::Reverse(q.match_weight));
    let values = |answer: Option<&AnswerValue>| -> Vec<String> {
        match answer {
            Some(AnswerValue::Text(v)) => vec![v.clone()],
            Some(AnswerValue::Choices(vs)) => vs.clone(),
            _ => Vec::new(),
        }
    };
    let mut labels = Vec::new();
    for question in weighted {
        let theirs = values(b.get(&question.key));
        for value in values(a.get(&question.key)) {
            if theirs.contains(&value) {
                if let Some(option) = question.options.iter().find(|o| o.value == value) {
                    labels.push(option.label.clone());
                }
            }
        }
    }
    labels.truncate(5);
    labels
}

/// The introduction written for a pair when an admin gives none (auto matching and
/// published assignments): who they are and why they were matched.
pub fn default_introduction(
    language: Language,
    mentor_name: &str,
    mentee_name: &str,
    reasons: &[String],
) -> String {
    let mut text = match language {
        Language::En => format!("{mentee_name}, meet {mentor_name}, your mentor in this program."),
        Language::It => format!(
            "{mentee_name}, ti presentiamo {mentor_name}, che ti accompagnerà in questo percorso."
        ),
    };
    if !reasons.is_empty() {
        let why = reasons.join(", ");
        text.push(' ');
        text.push_str(&match language {
            Language::En => format!("You have things in common: {why}."),
            Language::It => format!("Avete cose in comune: {why}."),
        });
    }
    text.chars().take(MAX_INTRODUCTION).collect()
}

/// What a pairing's introduction becomes when one partner deletes their account: the
/// introduction named them and what they answered, so it goes too.
pub fn introduction_after_deletion(language: Language) -> String {
    match language {
        Language::En => "This member deleted their account.".into(),
        Language::It => "Questo membro ha eliminato il proprio account.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use crate::ids::{EnrolmentId, GroupId};
    use crate::program::SettingsChange;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default()
    }

    fn open_program() -> Program {
        let template = catalogue::builtin("new-parents", Language::En)
            .cloned()
            .unwrap_or_else(|| panic!());
        let mut program = Program::from_template(
            crate::ids::ProgramId::new_v7(now()),
            GroupId::new_v7(now()),
            &template,
            SettingsChange::default(),
            now(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        program.status = ProgramStatus::Open;
        program
    }

    fn enrolment(program: &Program, role: EnrolmentRole, capacity: u8) -> Enrolment {
        Enrolment {
            id: EnrolmentId::new_v7(now()),
            program_id: program.id,
            user_id: UserId::new_v7(now()),
            role,
            status: EnrolmentStatus::Active,
            capacity,
            active_pairings: 0,
            answers: Answers::new(),
            version: 1,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn pair(
        program: &Program,
        mentor: &Enrolment,
        mentee: &Enrolment,
    ) -> Result<Pairing, DomainError> {
        pair_unless(program, mentor, mentee, &BlockedPairs::default())
    }

    fn pair_unless(
        program: &Program,
        mentor: &Enrolment,
        mentee: &Enrolment,
        blocked: &BlockedPairs,
    ) -> Result<Pairing, DomainError> {
        Pairing::new(
            PairingId::new_v7(now()),
            program,
            mentor,
            mentee,
            blocked,
            "Hello".into(),
            now().date_naive(),
            now(),
        )
    }

    #[test]
    fn a_mentor_and_a_mentee_of_the_program_pair() {
        let program = open_program();
        let mentor = enrolment(&program, EnrolmentRole::Mentor, 2);
        let mentee = enrolment(&program, EnrolmentRole::Mentee, 1);
        let pairing = pair(&program, &mentor, &mentee).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pairing.status, PairingStatus::Active);
        assert_eq!(pairing.partner_of(mentor.user_id), Some(mentee.user_id));
    }

    #[test]
    fn the_rules_refuse_bad_pairs() {
        let program = open_program();
        let mentor = enrolment(&program, EnrolmentRole::Mentor, 1);
        let mentee = enrolment(&program, EnrolmentRole::Mentee, 1);
        assert!(matches!(
            pair(&program, &mentee, &mentor),
            Err(DomainError::Invalid(_))
        ));
        let mut myself = mentee.clone();
        myself.role = EnrolmentRole::Mentee;
        let mut me_as_mentor = mentor.clone();
        me_as_mentor.user_id = myself.user_id;
        assert!(matches!(
            pair(&program, &me_as_mentor, &myself),
            Err(DomainError::Invalid(_))
        ));
        let mut full = mentor.clone();
        full.active_pairings = 1;
        assert!(matches!(
            pair(&program, &full, &mentee),
            Err(DomainError::Conflict(_))
        ));
        let mut taken = mentee.clone();
        taken.active_pairings = 1;
        assert!(matches!(
            pair(&program, &mentor, &taken),
            Err(DomainError::Conflict(_))
        ));
        let mut pending = mentee.clone();
        pending.status = EnrolmentStatus::Pending;
        assert!(matches!(
            pair(&program, &mentor, &pending),
            Err(DomainError::Conflict(_))
        ));
        let mut other = open_program();
        other.status = ProgramStatus::Archived;
        assert!(matches!(
            pair(&other, &mentor, &mentee),
            Err(DomainError::Conflict(_))
        ));
    }

    #[test]
    fn a_blocked_pair_is_never_paired_whoever_blocked() {
        let program = open_program();
        let mentor = enrolment(&program, EnrolmentRole::Mentor, 1);
        let mentee = enrolment(&program, EnrolmentRole::Mentee, 1);
        let blocked = BlockedPairs::new([(mentee.user_id, mentor.user_id)]);
        assert!(!could_pair(&mentor, &mentee, &blocked));
        assert!(matches!(
            pair_unless(&program, &mentor, &mentee, &blocked),
            Err(DomainError::Conflict(_))
        ));
    }

    #[test]
    fn nobody_is_their_own_mentor() {
        let program = open_program();
        let mentor = enrolment(&program, EnrolmentRole::Mentor, 1);
        let mut mentee = enrolment(&program, EnrolmentRole::Mentee, 1);
        let none = BlockedPairs::default();
        assert!(could_pair(&mentor, &mentee, &none));
        mentee.user_id = mentor.user_id;
        assert!(!could_pair(&mentor, &mentee, &none));
        let error = pair(&program, &mentor, &mentee).err();
        assert!(
            matches!(&error, Some(DomainError::Invalid(e)) if e[0].field == "mentee_enrolment_id"),
            "{error:?}"
        );
    }

    #[test]
    fn ending_needs_a_reason_and_an_active_pairing() {
        let program = open_program();
        let mentor = enrolment(&program, EnrolmentRole::Mentor, 1);
        let mentee = enrolment(&program, EnrolmentRole::Mentee, 1);
        let mut pairing = pair(&program, &mentor, &mentee).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(
            pairing.end(mentee.user_id, "  ", now()),
            Err(DomainError::Invalid(_))
        ));
        assert!(matches!(
            pairing.end(mentee.user_id, "We\u{202E} moved", now()),
            Err(DomainError::Invalid(_))
        ));
        assert!(pairing.end(mentee.user_id, "We moved", now()).is_ok());
        assert_eq!(pairing.status, PairingStatus::Ended);
        assert!(matches!(
            pairing.end(mentee.user_id, "Again", now()),
            Err(DomainError::Conflict(_))
        ));
    }

    #[test]
    fn introductions_keep_lines_and_refuse_hidden_characters() {
        assert_eq!(
            validate_introduction("Hi!\r\nMeet Bea.", "introduction"),
            Ok("Hi!\nMeet Bea.".to_owned())
        );
        let error = validate_introduction("Hi\u{200B}", "pairings[2].introduction").err();
        assert_eq!(
            error.map(|e| e.field).as_deref(),
            Some("pairings[2].introduction")
        );
    }

    #[test]
    fn default_introductions_say_what_is_shared() {
        let text = default_introduction(Language::It, "Giulia", "Sara", &["Primi mesi".into()]);
        assert!(text.starts_with("Sara, ti presentiamo Giulia"));
        assert!(text.ends_with("Avete cose in comune: Primi mesi."));
    }

    #[test]
    fn shared_answers_are_labels_both_gave() {
        let template = catalogue::builtin("new-parents", Language::It).unwrap_or_else(|| panic!());
        let answers = |stage: &str, languages: &[&str], children: f64| -> Answers {
            [
                ("child_stage".to_owned(), AnswerValue::Text(stage.into())),
                (
                    "languages".to_owned(),
                    AnswerValue::Choices(languages.iter().map(|l| (*l).to_owned()).collect()),
                ),
                ("children_count".to_owned(), AnswerValue::Number(children)),
            ]
            .into_iter()
            .collect()
        };
        let shared = shared_answers(
            &template.questions,
            &answers("newborn", &["it", "en"], 1.0),
            &answers("newborn", &["it", "fr"], 3.0),
        );
        assert_eq!(shared.len(), 2, "{shared:?}");
        assert!(shared.contains(&"Italiano".to_owned()), "{shared:?}");
        assert!(
            !shared.iter().any(|l| l == "Inglese" || l == "Francese"),
            "{shared:?}"
        );
    }
}
