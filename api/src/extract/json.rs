//! JSON request bodies: size-limited, strictly typed, validated.
//!
//! Malformed JSON is 400; a body that parses but has the wrong shape (unknown field,
//! wrong type, missing field) or breaks a rule is 422 naming the field; a body over
//! the limit is 413 (checked against Content-Length first, then while reading).

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{ApiError, FieldError};

/// The largest JSON body accepted by most operations.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest body of an operation that takes many items at once (a batch of 1,000
/// pairings is about 125 KiB without introductions).
pub const MAX_BATCH_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body of type `T` of at most `LIMIT` bytes, deserialised and validated.
pub struct Json<T, const LIMIT: usize = MAX_BODY_BYTES>(pub T);

impl<T, const LIMIT: usize> FromRequest for Json<T, LIMIT>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            if declared_length.is_some_and(|len| len > LIMIT) {
                return Err(too_large(LIMIT));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
                if body.len() + chunk.len() > LIMIT {
                    return Err(too_large(LIMIT));
                }
                body.extend_from_slice(&chunk);
            }
            let value = parse::<T>(&body)?;
            value
                .validate()
                .map_err(|e| ApiError::Validation(field_errors(&e, "")))?;
            Ok(Json(value))
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        }
        _ => false,
    }
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("the body must be at most {limit} bytes"))
}

/// Deserialises, keeping the path of the field that failed.
/// Syntax first (400), then shape (422), so a malformed body is never reported as a
/// missing field.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    if !json.is_object() {
        // Every body is an object; serde would otherwise read an array as a struct.
        return Err(ApiError::Validation(vec![FieldError {
            field: "body".into(),
            message: "must be a JSON object".into(),
        }]));
    }
    if let Some(field) = find_nul(&json, String::new()) {
        // PostgreSQL cannot store U+0000 in text; no field has a use for it.
        return Err(ApiError::Validation(vec![FieldError {
            field,
            message: "must not contain the NUL character (\\u0000)".into(),
        }]));
    }
    serde_path_to_error::deserialize(json).map_err(|e| {
        let message = e.inner().to_string();
        let field = field_of(&e.path().to_string(), &message);
        ApiError::Validation(vec![FieldError {
            field,
            message: strip_position(&message),
        }])
    })
}

/// The path of the first string (or object key) holding U+0000, if any.
fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => {
            Some(if path.is_empty() { "body".into() } else { path })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_nul(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join("<key>"))
            } else {
                find_nul(item, join(key))
            }
        }),
        _ => None,
    }
}

/// The field a serde error is about. A missing field is reported at the path of the
/// object that lacks it, so its name is taken from the message.
fn field_of(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (parent, named) {
        ("", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        ("", None) => "body".to_owned(),
        (parent, None) => parent.to_owned(),
    }
}

/// serde_json appends " at line 1 column 42", which means nothing to a field error.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// Flattens validator's nested errors into `field.path: message` pairs.
pub fn field_errors(errors: &validator::ValidationErrors, prefix: &str) -> Vec<FieldError> {
    use validator::ValidationErrorsKind;
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|e| {
                FieldError {
                    field: path.clone(),
                    message: e
                        .message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| describe(e)),
                }
            })),
            ValidationErrorsKind::Struct(inner) => out.extend(field_errors(inner, &path)),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    out.extend(field_errors(inner, &format!("{path}[{index}]")));
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn describe(error: &validator::ValidationError) -> String {
    let param = |name: &str| error.params.get(name).map(ToString::to_string);
    match error.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be {min} to {max} characters long"),
            (Some(min), None) => format!("must be at least {min} characters long"),
            (None, Some(max)) => format!("must be at most {max} characters long"),
            _ => "has the wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        "email" => "must be a valid email address".into(),
        code => format!("is invalid ({code})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_fields_are_named() {
        assert_eq!(
            field_of("colour", "unknown field `colour`, expected one of `name`"),
            "colour"
        );
        assert_eq!(field_of("answers", "missing field `key`"), "answers.key");
        assert_eq!(
            field_of("capacity", "invalid type: string \"x\", expected u8"),
            "capacity"
        );
        assert_eq!(
            field_of(".", "invalid type: sequence, expected struct"),
            "body"
        );
    }

    #[test]
    fn nul_characters_are_found_with_their_path() {
        let value = serde_json::json!({"a": [{"b": "ok"}, {"c": "x\u{0}y"}]});
        assert_eq!(find_nul(&value, String::new()), Some("a[1].c".to_owned()));
        assert_eq!(
            find_nul(&serde_json::json!({"a": "fine"}), String::new()),
            None
        );
    }

    #[test]
    fn positions_are_dropped() {
        assert_eq!(
            strip_position("invalid type: string at line 1 column 9"),
            "invalid type: string"
        );
    }
}
