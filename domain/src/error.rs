//! Errors the domain reports. The API maps each kind to an HTTP status.

use serde::Serialize;

/// One invalid field of an input, with a message written for the client developer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, nested under a parent field (`answers.child_stage`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

/// A rule of the domain refused an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input is invalid; every invalid field is listed.
    #[error("invalid input")]
    Invalid(Vec<ValidationError>),
    /// The actor may see the thing but not do this to it.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The action conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(&'static str),
}

impl From<ValidationError> for DomainError {
    fn from(error: ValidationError) -> Self {
        DomainError::Invalid(vec![error])
    }
}

impl From<Vec<ValidationError>> for DomainError {
    fn from(errors: Vec<ValidationError>) -> Self {
        DomainError::Invalid(errors)
    }
}
