//! Bodies of custom templates a group may create.

use serde_json::{json, Value};

/// A small custom template: two questions, two weeks, key `book-club`.
pub fn book_club() -> Value {
    json!({
        "key": "book-club",
        "name": "Book club",
        "description": "Read together, talk every week.",
        "duration_weeks": 2,
        "questions": [
            {
                "key": "genre",
                "text": "What do you like to read?",
                "kind": "multi_choice",
                "options": [
                    {"value": "fiction", "label": "Fiction"},
                    {"value": "non-fiction", "label": "Non-fiction"}
                ],
                "audience": "both",
                "required": true,
                "match_weight": 5
            },
            {
                "key": "books_per_year",
                "text": "How many books do you read in a year?",
                "kind": "number",
                "audience": "both",
                "required": false,
                "match_weight": 2,
                "min": 0,
                "max": 365
            }
        ],
        "weeks": [
            {"number": 1, "title": "Hello", "goal": "Meet", "prompts": ["What are you reading?"]},
            {"number": 2, "title": "Goodbye", "goal": "Reflect", "prompts": ["What will you read next?", "What changed?"]}
        ]
    })
}

/// [`book_club`] under another key.
pub fn book_club_keyed(key: &str) -> Value {
    let mut body = book_club();
    body["key"] = json!(key);
    body
}
