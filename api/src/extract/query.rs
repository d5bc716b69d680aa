//! Query strings, deserialised with the failing parameter named.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded_parse(
            req.query_string().as_bytes(),
        ));
        ready(
            serde_path_to_error::deserialize(deserializer)
                .map(Query)
                .map_err(|e| {
                    let message = e.inner().to_string();
                    let path = e.path().to_string();
                    let field = if path == "." {
                        message
                            .strip_prefix("unknown field `")
                            .and_then(|r| r.split('`').next())
                            .unwrap_or("query")
                            .to_owned()
                    } else {
                        path
                    };
                    ApiError::Validation(vec![FieldError { field, message }])
                }),
        )
    }
}

fn form_urlencoded_parse(input: &[u8]) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(input)
}
