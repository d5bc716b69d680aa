//! Black-box tests: the real server, its own database, HTTP.

mod auth;
mod blocks;
mod calendar;
mod check_ins;
mod concurrency;
mod contract;
mod conventions;
mod enrolments;
mod groups;
mod idempotency;
mod insights;
mod limits;
mod matching;
mod members;
mod messages;
mod notifications;
mod openapi;
mod pairings;
mod privacy;
mod programs;
mod reminders;
mod reports;
mod schema;
mod storage;
mod templates;
mod user_text;
