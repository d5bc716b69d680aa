//! Tandem's HTTP API: actix-web routes, JWT auth, problem+json errors, the OpenAPI spec.

pub mod allocator;
pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod jobs;
pub mod json_time;
pub mod language;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod progress;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod turns;
pub mod workflows;

pub use app::{AppConfig, Application};
