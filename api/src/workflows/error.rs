//! What a workflow step reports: a rule refused, or storage failed. Free of HTTP, so a
//! background job can run the same steps; handlers map it to `ApiError` with `From`.

use tandem_domain::{DomainError, ValidationError};
use tandem_persistence::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The input is invalid; every invalid field is listed.
    #[error("invalid input")]
    Invalid(Vec<ValidationError>),
    /// The actor may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The step conflicts with the current state (a partner taken meanwhile, a full
    /// mentor, an enrolment that is not active): retrying with other data may work.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Storage failed (or a row that must exist was not there).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WorkflowError {
    /// The same error about one item of a batch: fields and detail prefixed with its
    /// position (`pairings[3].introduction`), so the client knows which one failed.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            WorkflowError::Invalid(errors) => {
                WorkflowError::Invalid(errors.into_iter().map(|e| e.within(prefix)).collect())
            }
            WorkflowError::Conflict(detail) => {
                WorkflowError::Conflict(format!("{prefix}: {detail}"))
            }
            other => other,
        }
    }
}

impl From<DomainError> for WorkflowError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Invalid(errors) => WorkflowError::Invalid(errors),
            DomainError::Forbidden(why) => WorkflowError::Forbidden(why.to_owned()),
            DomainError::Conflict(why) => WorkflowError::Conflict(why.to_owned()),
        }
    }
}

/// Savepoints and transactions report diesel's errors.
impl From<tandem_persistence::DieselError> for WorkflowError {
    fn from(error: tandem_persistence::DieselError) -> Self {
        WorkflowError::Store(error.into())
    }
}

impl From<ValidationError> for WorkflowError {
    fn from(error: ValidationError) -> Self {
        WorkflowError::Invalid(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_items_are_named_by_position() {
        let invalid = WorkflowError::from(ValidationError::new("mentor_enrolment_id", "bad"));
        match invalid.within("pairings[2]") {
            WorkflowError::Invalid(errors) => {
                assert_eq!(errors[0].field, "pairings[2].mentor_enrolment_id")
            }
            other => panic!("{other:?}"),
        }
        let conflict = WorkflowError::from(DomainError::Conflict("the mentor is full"));
        assert_eq!(
            conflict.within("pairings[0]").to_string(),
            "conflict: pairings[0]: the mentor is full"
        );
    }
}
