//! ETags from row versions, and `If-Match` checks for updates.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The request's `If-Match` header, taken out so the check can run inside a transaction.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<String>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch(
            req.headers()
                .get(header::IF_MATCH)
                .map(|v| v.to_str().unwrap_or_default().to_owned()),
        )))
    }
}

impl IfMatch {
    /// Refuses the update with 412 when `If-Match` names another version. Without
    /// `If-Match` the update goes ahead (last write wins).
    pub fn check(&self, current_version: i64) -> Result<(), ApiError> {
        let Some(value) = &self.0 else {
            return Ok(());
        };
        let current = etag(current_version);
        let matches = value
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == "*" || tag == current);
        if matches {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed(format!(
                "the resource changed: its ETag is now {current}; fetch it again and retry"
            )))
        }
    }
}
