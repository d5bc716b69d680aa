//! Path parameters: an id that does not parse names nothing that exists, so it is 404.

use actix_web::{error::PathError, HttpRequest};

use crate::error::ApiError;

pub fn path_error_handler(_: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound("no such resource".into()).into()
}
