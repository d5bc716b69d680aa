//! Compatibility of one mentee with one mentor, from their answers to matching questions.
//!
//! # The rule
//!
//! Only questions with `match_weight > 0` and a matchable kind count; `text` questions are
//! never matchable (free text cannot be compared reliably), whatever their weight. Each
//! counting question gets a similarity in `[0, 1]`:
//!
//! - `single_choice`: 1 if both chose the same option, else 0;
//! - `multi_choice`: Jaccard overlap `|A ∩ B| / |A ∪ B|` of the chosen options;
//! - `number`: `1 − |a − b| / (max − min)`, clamped to `[0, 1]`, using the question's
//!   bounds. Without both bounds (or with `max <= min`) the difference is taken relative to
//!   the larger magnitude instead: `1 − |a − b| / max(|a|, |b|)` (so 30 vs 40 → 0.75,
//!   2 vs 4 → 0.5, 0 vs 0 → 1), which needs no scale and stays symmetric.
//!
//! The score is `round(100 · Σ w·sim / Σ w)`, where the sums run over:
//!
//! - questions **both** sides answered (with their similarity);
//! - questions **one** side answered, when the question's audience is `both`: they count
//!   with similarity 0. Both partners were asked; one said what matters to them and the
//!   other gave nothing to agree with, so the pair is not known to agree on it.
//!   Questions answered by one side only whose audience is `mentor` or `mentee` are
//!   skipped: the other side was never asked, so there is nothing to compare;
//! - questions nobody answered are skipped.
//!
//! If nothing counts the score is 0, with no reasons. Answers that do not fit the
//! question (unknown option values, a non-finite number, the wrong shape) are ignored,
//! as if not given; an empty multi choice is "not answered". Validation of answers
//! against questions happens at enrolment; scoring is lenient so it never fails.
//!
//! The rule is symmetric (swapping mentee and mentor never changes the score), bounded
//! to `0..=100`, monotone (making one more weighted answer agree never lowers the score)
//! and gives 100 for identical complete answers; property tests below hold it to that.
//!
//! # Bulk scoring
//!
//! [`MatchModel`] compiles the questions once and [`MatchModel::profile`] compiles each
//! member's answers once (single choice → option index, multi choice → bitset of option
//! indices, number → `f64`), so [`MatchModel::score`] is a short loop over plain arrays
//! with no allocation: scoring 10,000 × 2,000 pairs takes a fraction of a second.
//! [`MatchModel::explain`] adds the human-readable reasons, for the few pairs shown.

use crate::question::{AnswerValue, Answers, Audience, Question, QuestionKind};

/// How many reasons [`MatchModel::explain`] gives at most.
pub const MAX_REASONS: usize = 5;

/// A number similarity at or above this is reported as a reason ("close on …").
const CLOSE_NUMBER: f64 = 0.75;

/// Marks an unanswered single choice in a [`Profile`].
const NO_OPTION: u16 = u16::MAX;

/// The compatibility of a mentee and a mentor: a score and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compatibility {
    /// 0..=100; 100 = full agreement on every matching question that counts.
    pub score: u8,
    /// What they agree on, most important first, at most [`MAX_REASONS`]:
    /// `same stage: Newborn (0–3 months)`, `shared languages: Italian, English`,
    /// `close on years experience: 3 and 4`. Labels come from the question's options, in
    /// the program's language; the key, with `_`/`-` read as spaces, names the question.
    pub reasons: Vec<String>,
}

/// Scores one pair straight from questions and answers.
///
/// Convenient for a single pair; to score many pairs build a [`MatchModel`] once and
/// compile each member's answers with [`MatchModel::profile`].
pub fn compatibility(questions: &[Question], mentee: &Answers, mentor: &Answers) -> Compatibility {
    let model = MatchModel::new(questions);
    model.explain(&model.profile(mentee), &model.profile(mentor))
}

#[derive(Debug, Clone)]
struct Meta {
    /// The question key, as answers use it.
    key: String,
    /// The key, as a short human name: `child_stage` → `child stage`.
    name: String,
    /// Option values and labels, by option index (empty for numbers).
    values: Vec<String>,
    labels: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Common {
    weight: f64,
    /// Audience `both`: a one-sided answer counts as disagreement.
    asked_both: bool,
    /// Index in `MatchModel::meta`, which is in question order.
    meta: usize,
}

#[derive(Debug, Clone, Copy)]
struct MultiSlot {
    common: Common,
    offset: usize,
    words: usize,
}

#[derive(Debug, Clone, Copy)]
struct NumberSlot {
    common: Common,
    /// `1 / (max − min)` when both bounds are known and ordered; else relative differences.
    inv_range: Option<f64>,
}

/// Matching questions compiled for fast scoring. Build once per program.
#[derive(Debug, Clone)]
pub struct MatchModel {
    singles: Vec<Common>,
    multis: Vec<MultiSlot>,
    numbers: Vec<NumberSlot>,
    multi_words: usize,
    meta: Vec<Meta>,
}

/// One member's answers compiled against a [`MatchModel`]. Only valid with that model.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Option index per single-choice question, [`NO_OPTION`] if unanswered.
    singles: Vec<u16>,
    /// Bitset words of all multi-choice questions, laid end to end.
    multis: Vec<u64>,
    /// Options chosen per multi-choice question; 0 = unanswered.
    multi_counts: Vec<u32>,
    /// Per number question; NaN = unanswered.
    numbers: Vec<f64>,
}

/// Accumulates `Σ w·sim` and `Σ w` for one question.
#[inline(always)]
fn add(
    num: &mut f64,
    den: &mut f64,
    c: &Common,
    a_answered: bool,
    b_answered: bool,
    sim: impl FnOnce() -> f64,
) {
    if a_answered && b_answered {
        *num += c.weight * sim();
        *den += c.weight;
    } else if (a_answered || b_answered) && c.asked_both {
        *den += c.weight;
    }
}

#[inline]
fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut inter, mut union) = (0u32, 0u32);
    for (x, y) in a.iter().zip(b) {
        inter += (x & y).count_ones();
        union += (x | y).count_ones();
    }
    if union == 0 {
        0.0
    } else {
        f64::from(inter) / f64::from(union)
    }
}

#[inline]
fn number_similarity(inv_range: Option<f64>, a: f64, b: f64) -> f64 {
    let diff = (a - b).abs();
    if diff == 0.0 {
        return 1.0;
    }
    match inv_range {
        Some(inv) => (1.0 - diff * inv).clamp(0.0, 1.0),
        None => {
            let scale = a.abs().max(b.abs());
            if scale > 0.0 {
                (1.0 - diff / scale).clamp(0.0, 1.0)
            } else {
                0.0
            }
        }
    }
}

/// Jaccard similarity `|A ∩ B| / |A ∪ B|` of two non-empty answers.
#[inline(always)]
fn jaccard_of(inter: u32, union: u32) -> f64 {
    if inter == union {
        1.0
    } else if let Some(recip) = RECIPROCALS.get(union as usize) {
        f64::from(inter) * recip
    } else {
        f64::from(inter) / f64::from(union)
    }
}

/// `1/n` for the small unions of multi-choice Jaccard: a multiply instead of a divide.
const RECIPROCALS: [f64; 65] = {
    let mut table = [0.0; 65];
    let mut n = 1;
    while n < 65 {
        table[n] = 1.0 / n as f64;
        n += 1;
    }
    table
};

fn to_score(num: f64, den: f64) -> u8 {
    if den <= 0.0 {
        return 0;
    }
    // The epsilon keeps exact halves (62.5) from rounding down through float noise.
    let pct = (100.0 * num / den + 1e-9).round();
    pct.clamp(0.0, 100.0) as u8
}

fn human_name(key: &str) -> String {
    key.chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .collect()
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The option values an answer names: a string or a list of strings.
fn chosen(answer: &AnswerValue) -> &[String] {
    match answer {
        AnswerValue::Text(s) => std::slice::from_ref(s),
        AnswerValue::Choices(list) => list,
        AnswerValue::Number(_) => &[],
    }
}

impl MatchModel {
    /// Compiles the matching questions: those with `match_weight > 0` whose kind can be
    /// compared (`single_choice` and `multi_choice` with options, `number`).
    pub fn new(questions: &[Question]) -> Self {
        let mut model = MatchModel {
            singles: Vec::new(),
            multis: Vec::new(),
            numbers: Vec::new(),
            multi_words: 0,
            meta: Vec::new(),
        };
        for q in questions {
            if q.match_weight == 0 {
                continue;
            }
            let choice = matches!(
                q.kind,
                QuestionKind::SingleChoice | QuestionKind::MultiChoice
            );
            let usable = match q.kind {
                QuestionKind::Text => false,
                QuestionKind::Number => true,
                // An option index must fit below `NO_OPTION`.
                _ => !q.options.is_empty() && q.options.len() < usize::from(NO_OPTION),
            };
            if !usable {
                continue;
            }
            let common = Common {
                weight: f64::from(q.match_weight),
                asked_both: q.audience == Audience::Both,
                meta: model.meta.len(),
            };
            model.meta.push(Meta {
                key: q.key.clone(),
                name: human_name(&q.key),
                values: if choice {
                    q.options.iter().map(|o| o.value.clone()).collect()
                } else {
                    Vec::new()
                },
                labels: if choice {
                    q.options.iter().map(|o| o.label.clone()).collect()
                } else {
                    Vec::new()
                },
            });
            match q.kind {
                QuestionKind::SingleChoice => model.singles.push(common),
                QuestionKind::MultiChoice => {
                    let words = q.options.len().div_ceil(64);
                    model.multis.push(MultiSlot {
                        common,
                        offset: model.multi_words,
                        words,
                    });
                    model.multi_words += words;
                }
                QuestionKind::Number => {
                    let range = match (q.min, q.max) {
                        (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() && hi > lo => {
                            Some(hi - lo)
                        }
                        _ => None,
                    };
                    model.numbers.push(NumberSlot {
                        common,
                        inv_range: range.map(|r| 1.0 / r),
                    });
                }
                QuestionKind::Text => {}
            }
        }
        model
    }

    /// How many questions count for matching.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// True when no question counts, so every score is 0.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    fn option_index(&self, meta: usize, value: &str) -> Option<usize> {
        self.meta[meta].values.iter().position(|v| v == value)
    }

    /// Compiles one member's answers (keyed by question key) for [`score`](Self::score).
    pub fn profile(&self, answers: &Answers) -> Profile {
        let mut profile = Profile {
            singles: vec![NO_OPTION; self.singles.len()],
            multis: vec![0; self.multi_words],
            multi_counts: vec![0; self.multis.len()],
            numbers: vec![f64::NAN; self.numbers.len()],
        };
        for (k, q) in self.singles.iter().enumerate() {
            if let Some(a) = self.answer(answers, q.meta) {
                if let Some(first) = chosen(a).first() {
                    if let Some(ix) = self.option_index(q.meta, first) {
                        profile.singles[k] = ix as u16;
                    }
                }
            }
        }
        for (k, q) in self.multis.iter().enumerate() {
            if let Some(a) = self.answer(answers, q.common.meta) {
                for value in chosen(a) {
                    if let Some(ix) = self.option_index(q.common.meta, value) {
                        profile.multis[q.offset + ix / 64] |= 1u64 << (ix % 64);
                    }
                }
            }
            let words = &profile.multis[q.offset..q.offset + q.words];
            profile.multi_counts[k] = words.iter().map(|w| w.count_ones()).sum();
        }
        for (k, q) in self.numbers.iter().enumerate() {
            if let Some(AnswerValue::Number(x)) = self.answer(answers, q.common.meta) {
                if x.is_finite() {
                    profile.numbers[k] = *x;
                }
            }
        }
        profile
    }

    fn answer<'a>(&self, answers: &'a Answers, meta: usize) -> Option<&'a AnswerValue> {
        answers.get(&self.meta[meta].key)
    }

    /// `(Σ w·sim, Σ w)` for a pair; the same sums in the same order whatever the pair's
    /// order, so the score is exactly symmetric.
    #[inline]
    fn sums(&self, a: &Profile, b: &Profile) -> (f64, f64) {
        let (mut num, mut den) = (0.0, 0.0);
        for (q, (&x, &y)) in self.singles.iter().zip(a.singles.iter().zip(&b.singles)) {
            add(
                &mut num,
                &mut den,
                q,
                x != NO_OPTION,
                y != NO_OPTION,
                || if x == y { 1.0 } else { 0.0 },
            );
        }
        for (k, q) in self.multis.iter().enumerate() {
            let (ca, cb) = (a.multi_counts[k], b.multi_counts[k]);
            add(&mut num, &mut den, &q.common, ca > 0, cb > 0, || {
                let inter: u32 = if q.words == 1 {
                    (a.multis[q.offset] & b.multis[q.offset]).count_ones()
                } else {
                    let x = &a.multis[q.offset..q.offset + q.words];
                    let y = &b.multis[q.offset..q.offset + q.words];
                    x.iter().zip(y).map(|(x, y)| (x & y).count_ones()).sum()
                };
                jaccard_of(inter, ca + cb - inter)
            });
        }
        for (q, (&x, &y)) in self.numbers.iter().zip(a.numbers.iter().zip(&b.numbers)) {
            add(
                &mut num,
                &mut den,
                &q.common,
                !x.is_nan(),
                !y.is_nan(),
                || number_similarity(q.inv_range, x, y),
            );
        }
        (num, den)
    }

    /// Scores every mentee against every mentor, row-major (`mentees × mentors`).
    ///
    /// The same sums as [`score`](Self::score), in the same order, so each cell equals
    /// `score(mentee, mentor)` exactly; but computed one mentee against all mentors at a
    /// time, question by question, over the mentors' answers laid out column by column.
    /// Those inner loops are branch-light and vectorise, which makes a 10,000 × 2,000
    /// matrix several times faster than scoring pair by pair.
    pub fn score_rows(&self, mentees: &[Profile], mentors: &[Profile]) -> Vec<u8> {
        let m = mentors.len();
        let mut out = vec![0u8; mentees.len() * m];
        if m == 0 {
            return out;
        }
        // Mentors' answers, one column per question.
        let singles: Vec<Vec<u16>> = (0..self.singles.len())
            .map(|k| mentors.iter().map(|p| p.singles[k]).collect())
            .collect();
        let multi_counts: Vec<Vec<u32>> = (0..self.multis.len())
            .map(|k| mentors.iter().map(|p| p.multi_counts[k]).collect())
            .collect();
        let multi_words: Vec<Vec<u64>> = (0..self.multi_words)
            .map(|w| mentors.iter().map(|p| p.multis[w]).collect())
            .collect();
        let numbers: Vec<Vec<f64>> = (0..self.numbers.len())
            .map(|k| mentors.iter().map(|p| p.numbers[k]).collect())
            .collect();
        let mut num = vec![0.0f64; m];
        let mut den = vec![0.0f64; m];
        // Each update adds `w·sim` when both answered and `w` to the weight when both
        // answered or (for `both`-audience questions) one did: the same arithmetic as
        // `add`, written as selects so the loops over mentors vectorise.
        for (row, mentee) in out.chunks_exact_mut(m).zip(mentees) {
            num.fill(0.0);
            den.fill(0.0);
            for (k, q) in self.singles.iter().enumerate() {
                let x = mentee.singles[k];
                let (w, a, both_audience) = (q.weight, x != NO_OPTION, q.asked_both);
                for ((n, d), &y) in num.iter_mut().zip(den.iter_mut()).zip(&singles[k]) {
                    let b = y != NO_OPTION;
                    *n += if a && b && x == y { w } else { 0.0 };
                    *d += if (a && b) || ((a || b) && both_audience) {
                        w
                    } else {
                        0.0
                    };
                }
            }
            for (k, q) in self.multis.iter().enumerate() {
                let ca = mentee.multi_counts[k];
                let (w, a, both_audience) = (q.common.weight, ca > 0, q.common.asked_both);
                let counts = &multi_counts[k];
                if q.words == 1 {
                    // Up to 64 options: one word, unions ≤ 64, all selects.
                    let xa = mentee.multis[q.offset];
                    let words = &multi_words[q.offset];
                    for (((n, d), &cb), &yb) in
                        num.iter_mut().zip(den.iter_mut()).zip(counts).zip(words)
                    {
                        let b = cb > 0;
                        let inter = (xa & yb).count_ones();
                        let union = (ca + cb - inter).min(64);
                        let sim = if inter == union {
                            1.0
                        } else {
                            f64::from(inter) * RECIPROCALS[union as usize]
                        };
                        *n += if a && b { w * sim } else { 0.0 };
                        *d += if (a && b) || ((a || b) && both_audience) {
                            w
                        } else {
                            0.0
                        };
                    }
                    continue;
                }
                for (j, (n, d)) in num.iter_mut().zip(den.iter_mut()).enumerate() {
                    let cb = counts[j];
                    let b = cb > 0;
                    if a && b {
                        let inter: u32 = (0..q.words)
                            .map(|w| {
                                (mentee.multis[q.offset + w] & multi_words[q.offset + w][j])
                                    .count_ones()
                            })
                            .sum();
                        *n += w * jaccard_of(inter, ca + cb - inter);
                        *d += w;
                    } else if (a || b) && both_audience {
                        *d += w;
                    }
                }
            }
            for (k, q) in self.numbers.iter().enumerate() {
                let x = mentee.numbers[k];
                let (w, a, both_audience) = (q.common.weight, !x.is_nan(), q.common.asked_both);
                if let Some(inv) = q.inv_range {
                    for ((n, d), &y) in num.iter_mut().zip(den.iter_mut()).zip(&numbers[k]) {
                        let b = !y.is_nan();
                        let diff = (x - y).abs();
                        let sim = if diff == 0.0 {
                            1.0
                        } else {
                            (1.0 - diff * inv).clamp(0.0, 1.0)
                        };
                        *n += if a && b { w * sim } else { 0.0 };
                        *d += if (a && b) || ((a || b) && both_audience) {
                            w
                        } else {
                            0.0
                        };
                    }
                    continue;
                }
                for ((n, d), &y) in num.iter_mut().zip(den.iter_mut()).zip(&numbers[k]) {
                    let b = !y.is_nan();
                    if a && b {
                        *n += w * number_similarity(q.inv_range, x, y);
                        *d += w;
                    } else if (a || b) && both_audience {
                        *d += w;
                    }
                }
            }
            for ((cell, &n), &d) in row.iter_mut().zip(&num).zip(&den) {
                *cell = to_score(n, d);
            }
        }
        out
    }

    /// The compatibility score (0..=100) of two compiled profiles, without allocating.
    /// Symmetric: `score(a, b) == score(b, a)`.
    #[inline]
    pub fn score(&self, mentee: &Profile, mentor: &Profile) -> u8 {
        let (num, den) = self.sums(mentee, mentor);
        to_score(num, den)
    }

    /// The score and the reasons for it (what the pair agrees on, by contribution).
    pub fn explain(&self, mentee: &Profile, mentor: &Profile) -> Compatibility {
        let score = self.score(mentee, mentor);
        // (contribution, question order, text)
        let mut found: Vec<(f64, usize, String)> = Vec::new();
        for (k, q) in self.singles.iter().enumerate() {
            let (x, y) = (mentee.singles[k], mentor.singles[k]);
            if x != NO_OPTION && x == y {
                let meta = &self.meta[q.meta];
                found.push((
                    q.weight,
                    q.meta,
                    format!("same {}: {}", meta.name, meta.labels[usize::from(x)]),
                ));
            }
        }
        for q in &self.multis {
            let x = &mentee.multis[q.offset..q.offset + q.words];
            let y = &mentor.multis[q.offset..q.offset + q.words];
            let sim = jaccard(x, y);
            if sim > 0.0 {
                let meta = &self.meta[q.common.meta];
                let labels: Vec<&str> = (0..meta.labels.len())
                    .filter(|&ix| x[ix / 64] & y[ix / 64] & (1u64 << (ix % 64)) != 0)
                    .map(|ix| meta.labels[ix].as_str())
                    .collect();
                found.push((
                    q.common.weight * sim,
                    q.common.meta,
                    format!("shared {}: {}", meta.name, labels.join(", ")),
                ));
            }
        }
        for (k, q) in self.numbers.iter().enumerate() {
            let (x, y) = (mentee.numbers[k], mentor.numbers[k]);
            if x.is_nan() || y.is_nan() {
                continue;
            }
            let sim = number_similarity(q.inv_range, x, y);
            if sim >= CLOSE_NUMBER {
                let meta = &self.meta[q.common.meta];
                let text = if x == y {
                    format!("same {}: {}", meta.name, format_number(x))
                } else {
                    format!(
                        "close on {}: {} and {}",
                        meta.name,
                        format_number(x),
                        format_number(y)
                    )
                };
                found.push((q.common.weight * sim, q.common.meta, text));
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let reasons = found
            .into_iter()
            .take(MAX_REASONS)
            .map(|(_, _, text)| text)
            .collect();
        Compatibility { score, reasons }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::question::ChoiceOption;

    fn q(key: &str, kind: QuestionKind, options: &[(&str, &str)], weight: u8) -> Question {
        Question {
            key: key.to_owned(),
            text: format!("What is your {key}?"),
            kind,
            options: options
                .iter()
                .map(|(v, l)| ChoiceOption {
                    value: (*v).to_owned(),
                    label: (*l).to_owned(),
                })
                .collect(),
            audience: Audience::Both,
            required: false,
            match_weight: weight,
            min: None,
            max: None,
        }
    }

    fn stage(weight: u8) -> Question {
        q(
            "stage",
            QuestionKind::SingleChoice,
            &[
                ("newborn", "Newborn (0–3 months)"),
                ("infant", "Infant"),
                ("toddler", "Toddler"),
            ],
            weight,
        )
    }

    fn languages(weight: u8) -> Question {
        q(
            "languages",
            QuestionKind::MultiChoice,
            &[
                ("it", "Italian"),
                ("en", "English"),
                ("fr", "French"),
                ("de", "German"),
            ],
            weight,
        )
    }

    fn level(weight: u8) -> Question {
        Question {
            min: Some(1.0),
            max: Some(5.0),
            ..q("level", QuestionKind::Number, &[], weight)
        }
    }

    fn answers(pairs: &[(&str, AnswerValue)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn text(s: &str) -> AnswerValue {
        AnswerValue::Text(s.to_owned())
    }

    fn choices(list: &[&str]) -> AnswerValue {
        AnswerValue::Choices(list.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn same_single_choice_scores_100_with_the_label_as_reason() {
        let c = compatibility(
            &[stage(5)],
            &answers(&[("stage", text("newborn"))]),
            &answers(&[("stage", choices(&["newborn"]))]),
        );
        assert_eq!(c.score, 100);
        assert_eq!(
            c.reasons,
            vec!["same stage: Newborn (0–3 months)".to_owned()]
        );
    }

    #[test]
    fn different_single_choice_scores_0_without_reasons() {
        let c = compatibility(
            &[stage(5)],
            &answers(&[("stage", text("newborn"))]),
            &answers(&[("stage", text("toddler"))]),
        );
        assert_eq!(
            c,
            Compatibility {
                score: 0,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn multi_choice_uses_jaccard_overlap() {
        let c = compatibility(
            &[languages(3)],
            &answers(&[("languages", choices(&["it", "en"]))]),
            &answers(&[("languages", choices(&["en", "fr"]))]),
        );
        assert_eq!(c.score, 33);
        assert_eq!(c.reasons, vec!["shared languages: English".to_owned()]);
        let c = compatibility(
            &[languages(3)],
            &answers(&[("languages", choices(&["it", "en", "de"]))]),
            &answers(&[("languages", choices(&["en", "it"]))]),
        );
        assert_eq!(c.score, 67);
        assert_eq!(
            c.reasons,
            vec!["shared languages: Italian, English".to_owned()]
        );
    }

    #[test]
    fn numbers_use_the_question_range() {
        let c = compatibility(
            &[level(2)],
            &answers(&[("level", AnswerValue::Number(3.0))]),
            &answers(&[("level", AnswerValue::Number(4.0))]),
        );
        assert_eq!(c.score, 75);
        assert_eq!(c.reasons, vec!["close on level: 3 and 4".to_owned()]);
        let c = compatibility(
            &[level(2)],
            &answers(&[("level", AnswerValue::Number(1.0))]),
            &answers(&[("level", AnswerValue::Number(5.0))]),
        );
        assert_eq!(
            c,
            Compatibility {
                score: 0,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn numbers_without_bounds_compare_relatively() {
        let age = q("age", QuestionKind::Number, &[], 1);
        let c = compatibility(
            std::slice::from_ref(&age),
            &answers(&[("age", AnswerValue::Number(30.0))]),
            &answers(&[("age", AnswerValue::Number(40.0))]),
        );
        assert_eq!(c.score, 75);
        let c = compatibility(
            &[age],
            &answers(&[("age", AnswerValue::Number(0.0))]),
            &answers(&[("age", AnswerValue::Number(0.0))]),
        );
        assert_eq!(c.score, 100);
        assert_eq!(c.reasons, vec!["same age: 0".to_owned()]);
    }

    #[test]
    fn weights_combine_and_reasons_come_by_contribution() {
        let questions = [
            stage(2),
            languages(6),
            level(1),
            q(
                "goal",
                QuestionKind::SingleChoice,
                &[("a", "A"), ("b", "B")],
                3,
            ),
        ];
        let mentee = answers(&[
            ("stage", text("infant")),
            ("languages", choices(&["it", "en"])),
            ("level", AnswerValue::Number(2.0)),
            ("goal", text("a")),
        ]);
        let mentor = answers(&[
            ("stage", text("infant")),
            ("languages", choices(&["it"])),
            ("level", AnswerValue::Number(2.0)),
            ("goal", text("b")),
        ]);
        let c = compatibility(&questions, &mentee, &mentor);
        // (2·1 + 6·0.5 + 1·1 + 3·0) / 12 = 0.5
        assert_eq!(c.score, 50);
        assert_eq!(
            c.reasons,
            vec![
                "shared languages: Italian",
                "same stage: Infant",
                "same level: 2"
            ]
        );
    }

    #[test]
    fn text_and_unweighted_questions_do_not_count() {
        let about = q("about", QuestionKind::Text, &[], 10);
        let questions = [about, stage(0)];
        let a = answers(&[("about", text("same")), ("stage", text("newborn"))]);
        assert_eq!(
            compatibility(&questions, &a, &a),
            Compatibility {
                score: 0,
                reasons: vec![]
            }
        );
        assert!(MatchModel::new(&questions).is_empty());
        assert_eq!(compatibility(&[], &a, &a).score, 0);
    }

    #[test]
    fn one_sided_answers_count_as_disagreement_only_when_both_are_asked() {
        let mentee = answers(&[("stage", text("newborn")), ("languages", choices(&["it"]))]);
        let mentor = answers(&[("stage", text("newborn"))]);
        // languages asked to both, answered by one: counts as 0.
        assert_eq!(
            compatibility(&[stage(1), languages(1)], &mentee, &mentor).score,
            50
        );
        // asked to mentees only: skipped.
        let mentee_only = Question {
            audience: Audience::Mentee,
            ..languages(1)
        };
        assert_eq!(
            compatibility(&[stage(1), mentee_only], &mentee, &mentor).score,
            100
        );
        // nobody answered: skipped.
        assert_eq!(
            compatibility(&[stage(1), level(3)], &mentee, &mentor).score,
            100
        );
    }

    #[test]
    fn answers_that_do_not_fit_are_ignored() {
        let mentee = answers(&[
            ("stage", text("teen")),
            ("languages", choices(&[])),
            ("level", text("3")),
        ]);
        let mentor = answers(&[
            ("stage", text("teen")),
            ("languages", choices(&[])),
            ("level", AnswerValue::Number(f64::NAN)),
        ]);
        let c = compatibility(&[stage(1), languages(1), level(1)], &mentee, &mentor);
        assert_eq!(
            c,
            Compatibility {
                score: 0,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn at_most_five_reasons() {
        let questions: Vec<Question> = (0..8)
            .map(|k| stage(1 + k as u8))
            .map(|mut s| {
                s.key = format!("{}{}", s.key, s.match_weight);
                s
            })
            .collect();
        let a: Answers = questions
            .iter()
            .map(|q| (q.key.clone(), text("toddler")))
            .collect();
        let c = compatibility(&questions, &a, &a);
        assert_eq!(c.score, 100);
        assert_eq!(c.reasons.len(), MAX_REASONS);
        assert_eq!(c.reasons[0], "same stage8: Toddler");
    }

    #[test]
    fn many_options_use_several_words() {
        let options: Vec<(String, String)> = (0..130)
            .map(|i| (format!("v{i}"), format!("L{i}")))
            .collect();
        let refs: Vec<(&str, &str)> = options
            .iter()
            .map(|(v, l)| (v.as_str(), l.as_str()))
            .collect();
        let big = q("big", QuestionKind::MultiChoice, &refs, 1);
        let c = compatibility(
            &[big],
            &answers(&[("big", choices(&["v1", "v129"]))]),
            &answers(&[("big", choices(&["v129", "v70"]))]),
        );
        assert_eq!(c.score, 33);
        assert_eq!(c.reasons, vec!["shared big: L129"]);
    }

    // --- properties -------------------------------------------------------------------

    /// Six questions of every matchable kind (one multi with 70 options, one number
    /// without bounds) plus a text one, with random weights and audiences.
    fn arb_questions() -> impl Strategy<Value = Vec<Question>> {
        let audience = prop_oneof![
            Just(Audience::Both),
            Just(Audience::Mentor),
            Just(Audience::Mentee)
        ];
        proptest::collection::vec((0u8..=10, audience), 7).prop_map(|params| {
            let wide: Vec<(String, String)> = (0..70)
                .map(|i| (format!("w{i}"), format!("W{i}")))
                .collect();
            let wide: Vec<(&str, &str)> =
                wide.iter().map(|(v, l)| (v.as_str(), l.as_str())).collect();
            let four = [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")];
            let mut qs = vec![
                q("s1", QuestionKind::SingleChoice, &four, 0),
                q("s2", QuestionKind::SingleChoice, &four[..2], 0),
                q("m1", QuestionKind::MultiChoice, &four, 0),
                q("m2", QuestionKind::MultiChoice, &wide, 0),
                Question {
                    min: Some(0.0),
                    max: Some(10.0),
                    ..q("n1", QuestionKind::Number, &[], 0)
                },
                q("n2", QuestionKind::Number, &[], 0),
                q("t", QuestionKind::Text, &[], 0),
            ];
            for (question, (weight, audience)) in qs.iter_mut().zip(params) {
                question.match_weight = weight;
                question.audience = audience;
            }
            qs
        })
    }

    /// A random answer to question `k` of `arb_questions`.
    fn arb_answer(k: usize) -> BoxedStrategy<AnswerValue> {
        match k {
            0 => (0usize..4)
                .prop_map(|i| text(["a", "b", "c", "d"][i]))
                .boxed(),
            1 => (0usize..2).prop_map(|i| text(["a", "b"][i])).boxed(),
            2 => proptest::sample::subsequence(vec!["a", "b", "c", "d"], 1..=4)
                .prop_map(|v| choices(&v))
                .boxed(),
            3 => proptest::collection::btree_set(0usize..70, 1..6)
                .prop_map(|set| AnswerValue::Choices(set.iter().map(|i| format!("w{i}")).collect()))
                .boxed(),
            4 => (0.0f64..=10.0).prop_map(AnswerValue::Number).boxed(),
            5 => (-50i32..50)
                .prop_map(|x| AnswerValue::Number(f64::from(x)))
                .boxed(),
            _ => "[a-z]{0,5}".prop_map(AnswerValue::Text).boxed(),
        }
    }

    const KEYS: [&str; 7] = ["s1", "s2", "m1", "m2", "n1", "n2", "t"];

    fn arb_answers() -> impl Strategy<Value = Answers> {
        let per_question: Vec<_> = (0..KEYS.len())
            .map(|k| proptest::option::weighted(0.75, arb_answer(k)))
            .collect();
        per_question.prop_map(|list| {
            KEYS.iter()
                .zip(list)
                .filter_map(|(k, a)| a.map(|a| ((*k).to_owned(), a)))
                .collect()
        })
    }

    fn full_answers() -> impl Strategy<Value = Answers> {
        let per_question: Vec<_> = (0..KEYS.len()).map(arb_answer).collect();
        per_question.prop_map(|list| {
            KEYS.iter()
                .zip(list)
                .map(|(k, a)| ((*k).to_owned(), a))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn score_is_symmetric_and_bounded(qs in arb_questions(), a in arb_answers(), b in arb_answers()) {
            let model = MatchModel::new(&qs);
            let (pa, pb) = (model.profile(&a), model.profile(&b));
            let ab = model.score(&pa, &pb);
            prop_assert_eq!(ab, model.score(&pb, &pa));
            prop_assert!(ab <= 100);
            let explained = model.explain(&pa, &pb);
            prop_assert_eq!(explained.score, ab);
            prop_assert!(explained.reasons.len() <= MAX_REASONS);
            prop_assert_eq!(compatibility(&qs, &a, &b).score, ab);
        }

        #[test]
        fn one_more_agreement_never_lowers_the_score(
            qs in arb_questions(),
            a in arb_answers(),
            b in arb_answers(),
            k in 0..KEYS.len(),
            fresh in full_answers(),
        ) {
            let model = MatchModel::new(&qs);
            let before = model.score(&model.profile(&a), &model.profile(&b));
            // Make question k agree: copy a's answer to b, or give both the same new one.
            let key = KEYS[k].to_owned();
            let value = a.get(&key).cloned().or_else(|| fresh.get(&key).cloned());
            let (mut a2, mut b2) = (a.clone(), b.clone());
            if let Some(value) = value {
                a2.insert(key.clone(), value.clone());
                b2.insert(key, value);
            }
            let after = model.score(&model.profile(&a2), &model.profile(&b2));
            prop_assert!(after >= before, "before {} after {}", before, after);
        }

        #[test]
        fn identical_full_answers_score_100(qs in arb_questions(), a in full_answers()) {
            let model = MatchModel::new(&qs);
            let p = model.profile(&a);
            let expected = if model.is_empty() { 0 } else { 100 };
            prop_assert_eq!(model.score(&p, &p), expected);
        }
    }
}
