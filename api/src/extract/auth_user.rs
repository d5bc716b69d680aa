//! The authenticated caller, from `Authorization: Bearer <access token>`.

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use tandem_domain::ids::UserId;
use tandem_persistence::{users, DbConn};

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
            let bearer = Bearer(verified?.0);
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            state.read(move |conn| bearer.check(conn)).await
        })
    }
}

/// A verified access token whose account is not yet known to exist. The hot paths take
/// it instead of `AuthUser` and check it on their own connection: reads inside their
/// query (`check_within`), writes as the first statement of their transaction
/// (`AppState::write_as`), without a second trip through the pool and the blocking
/// threads. The user id stays private, so a handler cannot use it before the check.
#[derive(Debug, Clone, Copy)]
pub struct Bearer(UserId);

impl Bearer {
    /// The caller, if the account still exists. Access tokens are stateless and live 15
    /// minutes: one issued before the account was deleted must not outlive it.
    pub fn check(self, conn: &mut DbConn) -> Result<AuthUser, ApiError> {
        let exists = users::exists(conn, self.0)?;
        self.vouched(exists)
    }

    /// `check` answered by the read itself, one statement fewer on the hottest reads:
    /// `query` gets the claimed id, selects `users::exists_now` beside its columns, and
    /// answers whether the account exists with what it read, or `None` when it found
    /// no row to tell (then the check runs on its own, before the caller hears of it).
    pub fn check_within<T>(
        self,
        conn: &mut DbConn,
        query: impl FnOnce(&mut DbConn, UserId) -> Result<(Option<bool>, T), ApiError>,
    ) -> Result<(AuthUser, T), ApiError> {
        let (exists, read) = query(conn, self.0)?;
        let caller = match exists {
            Some(exists) => self.vouched(exists)?,
            None => self.check(conn)?,
        };
        Ok((caller, read))
    }

    fn vouched(self, exists: bool) -> Result<AuthUser, ApiError> {
        if exists {
            Ok(AuthUser(self.0))
        } else {
            Err(ApiError::Unauthenticated(
                "the account no longer exists".into(),
            ))
        }
    }
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req).map(|caller| Bearer(caller.0)))
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
