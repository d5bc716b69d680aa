//! Answers to the new-parents questions, for enrolling in a story: a typical parent and
//! two parents who differ on every matching question.

use serde_json::{json, Value};

/// Answers to the new-parents questions of a parent of a newborn in Italy.
pub fn new_parent_answers() -> Value {
    json!({
        "child_stage": "newborn",
        "first_child": "first",
        "children_count": 1,
        "feeding": ["breastfeeding", "expressed"],
        "sleep": "our_room",
        "work_plans": "going_back",
        "support_wanted": ["sleep", "feeding"],
        "time_zone": "europe_africa",
        "languages": ["it", "en"],
    })
}

/// A parent of a first newborn in Europe who speaks Italian.
pub fn newborn_in_europe() -> Value {
    json!({
        "child_stage": "newborn",
        "first_child": "first",
        "children_count": 1,
        "feeding": ["breastfeeding"],
        "sleep": "our_bed",
        "work_plans": "going_back",
        "support_wanted": ["sleep"],
        "time_zone": "europe_africa",
        "languages": ["it"],
    })
}

/// A parent of several, the youngest a toddler, in the Americas, who speaks Spanish:
/// different from [`newborn_in_europe`] on every matching question.
pub fn toddler_in_the_americas() -> Value {
    json!({
        "child_stage": "toddler",
        "first_child": "not_first",
        "children_count": 10,
        "feeding": ["formula"],
        "sleep": "own_room",
        "work_plans": "staying_home",
        "support_wanted": ["wellbeing"],
        "time_zone": "americas",
        "languages": ["es"],
    })
}

/// `base` with some answers replaced by those in `changes`.
pub fn changed(base: &Value, changes: Value) -> Value {
    let mut answers = base.clone();
    if let (Some(a), Some(c)) = (answers.as_object_mut(), changes.as_object()) {
        a.extend(c.clone());
    }
    answers
}
