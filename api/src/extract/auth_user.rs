//! The authenticated caller, from `Authorization: Bearer <access token>`.

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use tandem_domain::ids::UserId;
use tandem_persistence::users;

use crate::error::ApiError;
use crate::state::AppState;

/// The user an access token speaks for. Handlers take it as an argument; a missing,
/// malformed, tampered or expired token, or one of an account deleted since it was
/// issued, is answered with 401 before the handler runs.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub UserId);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = authenticate(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let caller = verified?;
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            // Access tokens are stateless and live 15 minutes: one issued before the
            // account was deleted must not outlive it. One primary-key read per request.
            let live = state
                .read(move |conn| Ok(users::exists(conn, caller.0)?))
                .await?;
            if !live {
                return Err(ApiError::Unauthenticated(
                    "the account no longer exists".into(),
                ));
            }
            Ok(caller)
        })
    }
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthenticated("an Authorization: Bearer token is required".into())
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    state
        .jwt
        .verify(token)
        .map(AuthUser)
        .ok_or_else(|| ApiError::Unauthenticated("the access token is invalid or expired".into()))
}
