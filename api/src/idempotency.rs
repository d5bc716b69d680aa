//! `Idempotency-Key` on POST: a retried request (a mobile client that lost the answer)
//! is answered again from storage instead of being carried out twice.
//!
//! Keys are scoped to the authenticated caller and kept 24 hours. The same key with
//! another request body is a 422; with a request still being carried out, a 409. Only
//! successful answers are stored: after a failure the key is free again, so the client
//! can correct and retry.
//!
//! What is never stored: anonymous calls (they share no scope, so one caller could
//! poison another's key), and answers marked `Cache-Control: no-store` (tokens). Those
//! requests simply run again, which is what the auth endpoints need: a replayed refresh
//! must meet rotation, a replayed login must meet a logout. A replay re-checks the
//! caller: the token must be valid now and its account must still exist.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use chrono::Duration;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tandem_domain::ids::UserId;
use tandem_persistence::idempotency::{self, Recorded, Retention, StoredResponse};
use tandem_persistence::users;

use crate::error::ApiError;
use crate::extract::json::{too_large, MAX_BATCH_BODY_BYTES};
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match req.headers().get(IDEMPOTENCY_KEY) {
        Some(value) if req.method() == Method::POST => value.to_str().ok().map(str::to_owned),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let Some(key) =
        key.filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
    else {
        let error = ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        );
        return Ok(req.into_response(error.error_response()));
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(user) = caller(&req, &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let scope = format!("user:{user}");

    // The body is read here to fingerprint the request, then handed on unchanged.
    let mut payload = req.take_payload();
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        // The largest any operation takes; the operation's own extractor holds its limit.
        if bytes.len() + chunk.len() > MAX_BATCH_BODY_BYTES {
            return Ok(req.into_response(too_large(MAX_BATCH_BODY_BYTES).error_response()));
        }
        bytes.extend_from_slice(&chunk);
    }
    let bytes = bytes.freeze();
    let request_hash = fingerprint(&req, &bytes);
    req.set_payload(Payload::from(bytes));

    let now = state.now();
    let retention = Retention {
        keep_since: now - Duration::hours(24),
        abandoned_before: now - Duration::minutes(2),
    };
    let claimed = {
        let (scope, key, request_hash) = (scope.clone(), key.clone(), request_hash.clone());
        state
            .write(move |conn| {
                Ok(idempotency::claim(
                    conn,
                    &scope,
                    &key,
                    &request_hash,
                    now,
                    &retention,
                )?)
            })
            .await
    };
    match claimed {
        Ok(None) => {}
        Ok(Some(Recorded::Done(stored))) if stored.request_hash == request_hash => {
            let account = state.read(move |conn| Ok(users::exists(conn, user)?)).await;
            return Ok(req.into_response(match account {
                Ok(true) => replay(&stored),
                Ok(false) => ApiError::Unauthenticated("the account no longer exists".into())
                    .error_response(),
                Err(error) => error.error_response(),
            }));
        }
        Ok(Some(Recorded::InProgress {
            request_hash: other,
        })) if other == request_hash => {
            return Ok(req.into_response(in_progress()));
        }
        Ok(Some(_)) => {
            let error = ApiError::invalid(
                "Idempotency-Key",
                "was already used for a different request",
            );
            return Ok(req.into_response(error.error_response()));
        }
        Err(ApiError::Conflict(_)) => return Ok(req.into_response(in_progress())),
        Err(other) => return Ok(req.into_response(other.error_response())),
    }

    let response = next.call(req).await?;
    let status = response.status();
    if !status.is_success() || must_not_store(response.headers()) {
        let _ = state
            .write(move |conn| Ok(idempotency::release(conn, &scope, &key)?))
            .await;
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("could not read the answer"))?;
    let stored = StoredResponse {
        request_hash,
        status: status.as_u16(),
        content_type: header_text(&head, header::CONTENT_TYPE),
        body: String::from_utf8_lossy(&body).into_owned(),
        etag: header_text(&head, header::ETAG),
    };
    if let Err(error) = state
        .write(move |conn| Ok(idempotency::complete(conn, &scope, &key, &stored)?))
        .await
    {
        // The request itself succeeded; only a later retry would be carried out again.
        tracing::warn!(%error, "could not store the answer for an Idempotency-Key");
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(body)),
    ))
}

/// Whose key this is: the user of a valid access token, if any.
fn caller(req: &ServiceRequest, state: &AppState) -> Option<UserId> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| state.jwt.verify(token.trim()))
}

/// An answer that no cache may keep (tokens) is not kept here either.
fn must_not_store(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
        })
}

/// The method, path, query and body: what makes two requests the same request.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update([0]);
    hasher.update(req.uri().to_string());
    hasher.update([0]);
    hasher.update(body);
    hex::encode(hasher.finalize())
}

fn header_text(response: &HttpResponse<()>, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(stored.status)
        .unwrap_or(actix_web::http::StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.insert_header((REPLAYED, "true"));
    if let Some(content_type) = &stored.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type.as_str()));
    }
    if let Some(etag) = &stored.etag {
        response.insert_header((header::ETAG, etag.as_str()));
    }
    response.body(stored.body.clone())
}

fn in_progress() -> HttpResponse {
    ApiError::Conflict(
        "a request with this Idempotency-Key is still being carried out; retry shortly".into(),
    )
    .error_response()
}
