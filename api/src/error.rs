//! The one error type handlers return, answered as `application/problem+json` (RFC 9457).
//!
//! Domain and storage errors map here. What a client reads is written for the client;
//! unexpected causes are logged (with the request id of the span) and answered with an
//! opaque 500.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use tandem_domain::{DomainError, ValidationError};
use tandem_persistence::StoreError;
use utoipa::ToSchema;

/// A problem detail (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for a developer to read.
    pub detail: String,
    /// Invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// A problem whose answer is a list of groups: the caller is the last owner of each and
/// must hand it over first (409 of `DELETE /v1/me`).
#[derive(Debug, Serialize, ToSchema)]
pub struct HandOverProblem {
    #[serde(flatten)]
    pub problem: Problem,
    /// The groups to hand over (make another member owner) before trying again.
    pub groups: Vec<GroupToHandOver>,
}

/// A group the caller must hand over.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupToHandOver {
    pub id: uuid::Uuid,
    pub name: String,
}

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the request, e.g. `answers.child_stage` or `limit`.
    pub field: String,
    pub message: String,
}

impl From<ValidationError> for FieldError {
    fn from(e: ValidationError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// The caller is the last owner of these groups: answered 409 with the groups named
    /// in the detail and listed in `groups`.
    #[error("last owner of {} groups", .0.len())]
    MustHandOver(Vec<GroupToHandOver>),
    /// The path exists but not with this method; `allow` lists the methods it has.
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed { allow: String },
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Too many requests from this caller; try again after `retry_after_secs`.
    #[error("rate limited: {detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// Overloaded or the database is busy or unreachable. `detail` is the client's text;
    /// causes are logged where they happen, never sent.
    #[error("service unavailable: {detail}")]
    Unavailable {
        detail: String,
        retry_after_secs: u64,
    },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// The fixed answer when the database cannot be reached (the cause is logged).
    pub fn database_unavailable() -> Self {
        ApiError::Unavailable {
            detail: "the database is unavailable; retry shortly".into(),
            retry_after_secs: 5,
        }
    }

    pub fn invalid(field: &str, message: &str) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        }])
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad-request", "Bad request"),
            ApiError::Unauthenticated(_) => ("unauthenticated", "Authentication required"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict(_) => ("conflict", "Conflict with the current state"),
            ApiError::MustHandOver(_) => ("last-owner", "Groups to hand over first"),
            ApiError::PreconditionFailed(_) => ("precondition-failed", "Precondition failed"),
            ApiError::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::Validation(_) => ("validation", "Validation failed"),
            ApiError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            ApiError::Unavailable { .. } => ("unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.kind();
        let detail = match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthenticated(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::TooManyRequests { detail: d, .. }
            | ApiError::Unavailable { detail: d, .. } => d.clone(),
            ApiError::MethodNotAllowed { allow } => {
                format!("this path answers only {allow}")
            }
            ApiError::MustHandOver(groups) => {
                let named: Vec<String> = groups
                    .iter()
                    .map(|g| format!("{:?} ({})", g.name, g.id))
                    .collect();
                format!(
                    "you are the last owner of {}; make another member owner of each first",
                    named.join(", ")
                )
            }
            ApiError::Validation(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                _ => format!("{} fields are invalid", errors.len()),
            },
            ApiError::Internal(_) => {
                "something went wrong on our side; the request id identifies it in our logs".into()
            }
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::MustHandOver(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            ApiError::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::Unavailable {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        if let ApiError::MustHandOver(groups) = self {
            return response.json(HandOverProblem {
                problem: self.problem(),
                groups: groups.clone(),
            });
        }
        response.json(self.problem())
    }
}

/// A valid token for an account that no longer exists is no longer a login: the
/// caller's own account `NotFound` (deleted meanwhile) is a 401.
pub fn account_gone(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::Unauthenticated("the account no longer exists".into()),
        other => other,
    }
}

/// Takes the caller's row lock, first of all locks (the order account deletion takes
/// them in: user → groups → programs → pairings → enrolments), and refuses an account
/// deleted meanwhile (401): a write racing the deletion commits before it, or not at all.
pub fn lock_caller(
    conn: &mut tandem_persistence::DbConn,
    caller: tandem_domain::ids::UserId,
) -> Result<(), ApiError> {
    tandem_persistence::users::lock(conn, caller)
        .map_err(ApiError::from)
        .map_err(account_gone)
}

/// Maps a storage error to 404 for `what` when the row is missing, and as usual
/// otherwise (an outage stays a 503, not a misleading 404).
pub fn not_found_as(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |error| match error {
        StoreError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Invalid(errors) => {
                ApiError::Validation(errors.into_iter().map(FieldError::from).collect())
            }
            DomainError::Forbidden(why) => ApiError::Forbidden(why.to_owned()),
            DomainError::Conflict(why) => ApiError::Conflict(why.to_owned()),
        }
    }
}

impl From<crate::workflows::WorkflowError> for ApiError {
    fn from(error: crate::workflows::WorkflowError) -> Self {
        use crate::workflows::WorkflowError;
        match error {
            WorkflowError::Invalid(errors) => {
                ApiError::Validation(errors.into_iter().map(FieldError::from).collect())
            }
            WorkflowError::Forbidden(why) => ApiError::Forbidden(why),
            WorkflowError::Conflict(why) => ApiError::Conflict(why),
            WorkflowError::Store(error) => error.into(),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::Validation(vec![error.into()])
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Unavailable(cause) => {
                // The pool's text can name hosts and users: it goes to the log only.
                tracing::warn!(cause = %cause, "database unavailable");
                ApiError::database_unavailable()
            }
            StoreError::ConnectionLost(cause) => {
                tracing::warn!(cause = %cause, "database connection lost");
                ApiError::database_unavailable()
            }
            StoreError::NotCommitted(cause) => {
                tracing::warn!(cause = %cause, "write not committed");
                ApiError::database_unavailable()
            }
            StoreError::Busy(cause) => {
                tracing::warn!(cause = %cause, "database busy");
                ApiError::Unavailable {
                    detail: "the database is busy; retry shortly".into(),
                    retry_after_secs: 1,
                }
            }
            // Constraints the handlers did not foresee are still conflicts with stored state.
            StoreError::Constraint(c) => {
                tracing::info!(constraint = %c, "write refused by a database constraint");
                ApiError::Conflict("the change conflicts with the current state".into())
            }
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<diesel_error::Error> for ApiError {
    fn from(error: diesel_error::Error) -> Self {
        ApiError::from(StoreError::from(error))
    }
}

/// Diesel's error type, reached through persistence so `api` needs no diesel dependency.
pub mod diesel_error {
    pub use tandem_persistence::DieselError as Error;
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_that_names_no_host_or_user() {
        let unreachable = tandem_persistence::Db::open(&tandem_persistence::DbConfig {
            url: "postgres://secret_user@127.0.0.1:1/secret_db".into(),
            pool_size: 1,
            connect_timeout: std::time::Duration::from_millis(200),
        });
        let Err(cause) = unreachable else {
            panic!("port 1 should refuse connections");
        };
        assert!(
            cause.to_string().contains("127.0.0.1"),
            "the cause names the host: {cause}"
        );
        let error = ApiError::from(cause);
        assert_eq!(error.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let problem = serde_json::to_string(&error.problem()).expect("json");
        for secret in ["127.0.0.1", "secret_user", "secret_db", "refused"] {
            assert!(
                !problem.contains(secret),
                "{secret} reached the client: {problem}"
            );
        }
        let response = error.error_response();
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn a_busy_database_is_a_503_with_a_fixed_text() {
        let error = ApiError::from(StoreError::Busy("database is locked".into()));
        assert_eq!(error.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!error.problem().detail.contains("locked"));
    }
}
