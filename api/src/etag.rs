//! ETags from row versions, `If-Match` checks for updates and `If-None-Match` for reads.
//!
//! A resource whose representation is its row alone is tagged by the row's version
//! (`"3"`). One whose representation also depends on the viewer (a role, private notes),
//! on other rows (names, both partners' entries) or on the clock (a pairing that
//! completes by itself) is tagged by its version and a digest of the representation as
//! that viewer gets it (`"3-1f0c…"`): the tag changes whenever what the caller would
//! read changes, and two viewers of different representations never share a tag.

use std::future::{ready, Ready};

use actix_web::http::StatusCode;
use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The tag of a representation that is more than its row: the version (so every write
/// changes it, even one that restores earlier content) and 64 bits of the SHA-256 of
/// the JSON the viewer is answered.
pub fn of_view<T: Serialize>(version: i64, view: &T) -> String {
    let json = serde_json::to_vec(view).unwrap_or_default();
    tag_of_json(version, &json)
}

fn tag_of_json(version: i64, json: &[u8]) -> String {
    let digest = Sha256::digest(json);
    format!("\"{version}-{}\"", hex::encode(&digest[..8]))
}

/// 304 with only the current tag: the client already holds it.
fn not_modified(tag: String) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, tag))
        .finish()
}

/// A view serialized once, with the `of_view` tag of those very bytes: a hot read or
/// write answers it without serializing the view a second time for the body.
pub struct Tagged {
    pub tag: String,
    json: Vec<u8>,
}

impl Tagged {
    pub fn new<T: Serialize>(version: i64, view: &T) -> Result<Self, ApiError> {
        let json = serde_json::to_vec(view).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Self {
            tag: tag_of_json(version, &json),
            json,
        })
    }

    /// As `respond`: `status` with the body and tag, or 304 when `If-None-Match` names it.
    pub fn respond(self, status: StatusCode, if_none_match: &IfNoneMatch) -> HttpResponse {
        if if_none_match.matches(&self.tag) {
            return not_modified(self.tag);
        }
        self.into_response(status)
    }

    /// `status` with the body and its tag (a write's answer).
    pub fn into_response(self, status: StatusCode) -> HttpResponse {
        HttpResponse::build(status)
            .insert_header((header::ETAG, self.tag))
            .content_type(header::ContentType::json())
            .body(self.json)
    }
}

/// A representation with its tag: 200 (or `status`) with the body, or 304 with only the
/// tag when `If-None-Match` already names it.
pub fn respond<T: Serialize>(
    status: StatusCode,
    tag: String,
    view: &T,
    if_none_match: &IfNoneMatch,
) -> HttpResponse {
    if if_none_match.matches(&tag) {
        return not_modified(tag);
    }
    HttpResponse::build(status)
        .insert_header((header::ETAG, tag))
        .json(view)
}

/// The request's `If-None-Match` header (RFC 9110 §13.1.2), for reads. A malformed one
/// is a 422 naming it, like `If-Match`.
#[derive(Debug, Clone, Default)]
pub struct IfNoneMatch(Option<Condition>);

impl IfNoneMatch {
    /// Does the client already hold the current representation? `*` matches any;
    /// tags compare weakly, as the RFC asks for this header.
    pub fn matches(&self, current: &str) -> bool {
        match &self.0 {
            None => false,
            Some(Condition::Any) => true,
            Some(Condition::Tags(tags)) => tags.iter().any(|t| t == current),
        }
    }
}

impl FromRequest for IfNoneMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(condition_of(req, header::IF_NONE_MATCH, "If-None-Match").map(IfNoneMatch))
    }
}

/// Parses a precondition header; absent is `None`, malformed a 422 naming the header.
fn condition_of(
    req: &HttpRequest,
    name: header::HeaderName,
    field: &str,
) -> Result<Option<Condition>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(parse)
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid(
                    field,
                    "must be `*` or a list of ETags as answered, such as \"3\"",
                )
            }),
    }
}

/// The request's `If-Match` header, parsed up front (a malformed one is a 422 naming
/// the header, before the body is read) and checked later inside the transaction.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Condition>);

#[derive(Debug, Clone)]
enum Condition {
    /// `*`: any current version.
    Any,
    /// Opaque tags with their quotes (`"3"`), weak prefixes dropped: `If-Match`
    /// compares weakly here, since versions are the only validators.
    Tags(Vec<String>),
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(condition_of(req, header::IF_MATCH, "If-Match").map(IfMatch))
    }
}

/// A well-formed `If-Match` (RFC 9110 §13.1.1): `*`, or a comma-separated list of
/// entity tags, each `"…"` of visible ASCII other than `"`, optionally weak (`W/`).
/// An empty value is an empty list (the grammar is `#entity-tag`), which no version
/// matches.
fn parse(value: &str) -> Option<Condition> {
    if value == "*" {
        return Some(Condition::Any);
    }
    if value.trim_matches([' ', '\t']).is_empty() {
        return Some(Condition::Tags(Vec::new()));
    }
    // Read tag by tag: a comma may sit inside the quotes of a tag.
    let ows = |s: &str| s.trim_start_matches([' ', '\t']).len();
    let mut rest = value;
    let mut tags = Vec::new();
    loop {
        rest = &rest[rest.len() - ows(rest)..];
        let tag = rest.strip_prefix("W/").unwrap_or(rest);
        let inner = tag.strip_prefix('"')?;
        let end = inner.find('"')?;
        if !inner[..end].bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        tags.push(format!("\"{}\"", &inner[..end]));
        rest = &inner[end + 1..];
        rest = &rest[rest.len() - ows(rest)..];
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None if rest.is_empty() => return Some(Condition::Tags(tags)),
            None => return None,
        }
    }
}

impl IfMatch {
    /// Refuses the update with 412 when `If-Match` names another version. Without
    /// `If-Match` the update goes ahead (last write wins).
    pub fn check(&self, current_version: i64) -> Result<(), ApiError> {
        self.check_tag(&etag(current_version))
    }

    /// Does the request carry a precondition? Without one, the current tag need not be
    /// computed.
    pub fn is_conditional(&self) -> bool {
        self.0.is_some()
    }

    /// As `check`, against the current tag of a representation (see `of_view`).
    pub fn check_tag(&self, current: &str) -> Result<(), ApiError> {
        if matches!(&self.0, Some(Condition::Tags(tags)) if tags.is_empty()) {
            return Err(ApiError::PreconditionFailed(format!(
                "If-Match is empty, so it matches no version; send the ETag you have ({current} is current) or *"
            )));
        }
        let matches = match &self.0 {
            None | Some(Condition::Any) => true,
            Some(Condition::Tags(tags)) => tags.iter().any(|t| t == current),
        };
        if matches {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed(format!(
                "the resource changed: its ETag is now {current}; fetch it again and retry"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(value: &str) -> bool {
        parse(value).is_some()
    }

    #[test]
    fn entity_tag_lists_parse() {
        assert!(parses("*"));
        assert!(parses("\"3\""));
        assert!(parses("W/\"3\""));
        assert!(parses("\"1\", W/\"2\",\"x\""));
        assert!(parses("\"\""));
        assert!(parses("\"a,b\", \"?;\""), "a comma inside a tag");
    }

    /// The spec's pattern for the two headers says what `parse` accepts: a client that
    /// follows the spec is never refused, and what the spec refuses, the server refuses.
    #[test]
    fn the_spec_pattern_agrees_with_the_parser() {
        let pattern = regex::Regex::new(crate::openapi::ENTITY_TAGS).expect("a valid pattern");
        let values = [
            "*",
            "\"3\"",
            "W/\"3\"",
            "\"1\", W/\"2\",\"x\"",
            "\"\"",
            "",
            "  ",
            " \"3\" ",
            "\"a,b\", \"?;\"",
            "\"2-9f86d081884c7d65\"",
            "null",
            "3",
            "\"3",
            "3\"",
            "\"a\"b\"",
            "*, \"3\"",
            ",",
            "\"1\",",
            "W/3",
            "w/\"3\"",
            "\"é\"",
            "\"a b\"",
            "**",
        ];
        for value in values {
            assert_eq!(
                pattern.is_match(value),
                parses(value),
                "the spec and the server disagree on {value:?}"
            );
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for value in ["null", "3", "\"3", "3\"", "\"a\"b\"", "*, \"3\"", ","] {
            assert!(!parses(value), "{value:?} should be refused");
        }
    }

    #[test]
    fn the_check_compares_weakly() {
        let condition = |v: &str| IfMatch(parse(v));
        assert!(condition("W/\"4\"").check(4).is_ok());
        assert!(condition("\"1\", \"4\"").check(4).is_ok());
        assert!(condition("*").check(9).is_ok());
        assert!(condition("\"3\"").check(4).is_err());
        assert!(
            condition("").check(4).is_err(),
            "an empty list matches nothing"
        );
        assert!(IfMatch::default().check(4).is_ok());
    }

    #[test]
    fn if_none_match_matches_any_listed_tag_weakly() {
        let condition = |v: &str| IfNoneMatch(parse(v));
        assert!(condition("W/\"4\"").matches("\"4\""));
        assert!(condition("\"1\", \"4\"").matches("\"4\""));
        assert!(condition("*").matches("\"9-ab\""));
        assert!(!condition("\"3\"").matches("\"4\""));
        assert!(
            !condition("").matches("\"4\""),
            "an empty list names nothing"
        );
        assert!(!IfNoneMatch::default().matches("\"4\""));
    }

    #[test]
    fn view_tags_follow_the_representation_and_the_version() {
        let a = of_view(3, &serde_json::json!({"note": "x"}));
        assert_eq!(a, of_view(3, &serde_json::json!({"note": "x"})));
        assert_ne!(
            a,
            of_view(3, &serde_json::json!({})),
            "another viewer's view"
        );
        assert_ne!(
            a,
            of_view(4, &serde_json::json!({"note": "x"})),
            "a new version"
        );
        assert!(a.starts_with("\"3-") && a.ends_with('"'));
    }
}
