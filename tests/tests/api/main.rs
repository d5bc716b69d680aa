//! Black-box tests: the real server, its own database, HTTP.

mod auth;
mod conventions;
mod enrolments;
mod groups;
mod members;
mod openapi;
mod programs;
mod templates;
