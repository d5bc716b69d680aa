//! Path parameters: an id that does not parse names nothing that exists, so it is 404.

use actix_web::{error::PathError, web, HttpRequest};

use crate::app::MethodTable;
use crate::error::ApiError;

/// A segment that is not an id is 404, unless it is a literal path of its own asked
/// with another method (`PATCH /v1/me/notifications/read-all` reaches the template
/// `/v1/me/notifications/{notification_id}`): then 405, as for any known path.
pub fn path_error_handler(_: PathError, req: &HttpRequest) -> actix_web::Error {
    let literal = req
        .app_data::<web::Data<MethodTable>>()
        .and_then(|methods| methods.allowed_literal(req.path()));
    match literal {
        Some(allow) => ApiError::MethodNotAllowed { allow }.into(),
        None => ApiError::NotFound("no such resource".into()).into(),
    }
}
