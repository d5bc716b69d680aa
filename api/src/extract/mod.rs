//! Request extractors: the caller, JSON bodies and query strings, each failing with a
//! problem+json answer that names the field.

pub mod auth_user;
pub mod json;
pub mod path;
pub mod query;

pub use auth_user::{AuthUser, Bearer};
pub use json::Json;
pub use query::Query;
