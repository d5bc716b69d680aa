//! The HTTP routes, one module per resource, registered together with the spec.

pub mod access;
pub mod auth;
pub mod calendar;
pub mod check_ins;
pub mod enrolments;
pub mod export;
pub mod groups;
pub mod health;
pub mod insights;
pub mod matching;
pub mod me;
pub mod members;
pub mod messages;
pub mod notifications;
pub mod pairings;
pub mod programs;
pub mod safety;
pub mod templates;
