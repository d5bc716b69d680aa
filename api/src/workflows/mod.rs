//! Steps that several handlers share and that span several repositories, each run
//! inside the caller's transaction.

mod error;
pub mod journey;
pub mod membership;
pub mod notify;
pub mod pairing;
pub mod reminders;
pub mod safety;

pub use error::WorkflowError;
