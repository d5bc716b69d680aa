//! Tandem's storage: one diesel code path for SQLite (the embedded default) and
//! PostgreSQL (production). Repository functions take `&mut DbConn`, so several of
//! them compose inside one transaction (`Db::write`).

pub mod blocks;
pub mod calendar_tokens;
pub mod check_ins;
mod convert;
pub mod custom_templates;
pub mod db;
pub mod enrolments;
pub mod erasure;
mod error;
pub mod groups;
pub mod guides;
pub mod idempotency;
pub mod insights;
pub mod messages;
pub mod notifications;
mod page;
pub mod pairings;
mod pooled;
pub mod programs;
pub mod refresh_tokens;
pub mod reports;
pub mod schema;
pub mod users;
pub mod writer;

pub use db::{Db, DbConfig, DbConn, Engine, MigrationStep, PoolUsage};
pub use diesel::result::Error as DieselError;
pub use error::{StoreError, BLOCKED_PAIR};
pub use page::Page;
pub use writer::WriteQueue;
