//! Tandem's domain: the rules of mentorship programs, free of I/O.
//!
//! Nothing here knows about HTTP, SQL or the wall clock: time comes in as a value.

pub mod catalogue;
pub mod check_in;
pub mod clock;
pub mod enrolment;
pub mod error;
pub mod group;
pub mod ids;
pub mod insights;
pub mod matching;
pub mod message;
pub mod notification;
pub mod pairing;
pub mod program;
pub mod question;
pub mod reminders;
pub mod safety;
pub mod schedule;
pub mod template;
pub mod text;
pub mod user;

pub use error::{DomainError, ValidationError};
