//! Black-box tests: the real server, its own database, HTTP.

mod auth;
mod conventions;
mod groups;
mod members;
mod openapi;
