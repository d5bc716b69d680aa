//! ETags from row versions, and `If-Match` checks for updates.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
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
        ready(match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(value) => value
                .to_str()
                .ok()
                .and_then(parse)
                .map(|condition| IfMatch(Some(condition)))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "If-Match",
                        "must be `*` or a list of ETags as answered, such as \"3\"",
                    )
                }),
        })
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
        let current = etag(current_version);
        if matches!(&self.0, Some(Condition::Tags(tags)) if tags.is_empty()) {
            return Err(ApiError::PreconditionFailed(format!(
                "If-Match is empty, so it matches no version; send the ETag you have ({current} is current) or *"
            )));
        }
        let matches = match &self.0 {
            None | Some(Condition::Any) => true,
            Some(Condition::Tags(tags)) => tags.contains(&current),
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
}
