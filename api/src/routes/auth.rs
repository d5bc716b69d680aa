//! Register, log in, refresh and log out.

use actix_web::http::header;
use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::ids::{RefreshTokenId, TokenFamilyId, UserId};
use tandem_domain::user::{DisplayName, Email, NewPassword, TimeZone, User};
use tandem_persistence::refresh_tokens::{self as token_store, NewRefreshToken};
use tandem_persistence::{users, DbConn, StoreError};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::auth::refresh;
use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::limits::{Account, ClientAddress};
use crate::routes::me::UserView;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(schema_with = crate::openapi::fields::email, example = "ada@example.org")]
    pub email: String,
    /// 10–256 characters.
    #[schema(
        min_length = 10,
        max_length = 256,
        pattern = "^[^\\u0000]*$",
        example = "correct horse battery"
    )]
    pub password: String,
    #[schema(schema_with = crate::openapi::fields::one_line::<1, { DisplayName::MAX_CHARS }>, example = "Ada")]
    pub display_name: String,
    /// An IANA time zone; `UTC` when omitted.
    #[schema(schema_with = crate::openapi::fields::time_zone_or_null, example = "Europe/Rome")]
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254, pattern = "^[^\\u0000]*$")]
    pub email: String,
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000]*$")]
    pub refresh_token: String,
}

/// A new pair of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tokens {
    /// A JWT for `Authorization: Bearer`, valid for `expires_in` seconds.
    pub access_token: String,
    /// Opaque; trade it at `/v1/auth/refresh` for new tokens. Each can be used once.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    pub user: UserView,
}

/// Create an account and log in.
#[utoipa::path(
    tag = "auth",
    operation_id = "register",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the caller is logged in", body = Tokens),
        (status = 409, description = "The email already has an account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
    extensions(("x-rate-limited" = json!(true)))
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    state.limit_auth(client.0, Account::Email(&body.email))?;
    let mut errors = Vec::new();
    let email = Email::parse(&body.email).map_err(|e| errors.push(e)).ok();
    let display_name = DisplayName::parse(&body.display_name)
        .map_err(|e| errors.push(e))
        .ok();
    let time_zone = match body.time_zone.as_deref() {
        None => Some(TimeZone::utc()),
        Some(tz) => TimeZone::parse(tz).map_err(|e| errors.push(e)).ok(),
    };
    let password_ok = NewPassword::parse(&body.password)
        .map_err(|e| errors.push(e))
        .is_ok();
    let (Some(email), Some(display_name), Some(time_zone), true) =
        (email, display_name, time_zone, password_ok)
    else {
        return Err(ApiError::Validation(
            errors.into_iter().map(Into::into).collect(),
        ));
    };
    let password_hash = state.passwords.hash(body.password).await?;
    let now = state.now();
    let user = User {
        id: UserId::new_v7(now),
        email,
        display_name,
        time_zone,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let tokens = state
        .write(move |conn| {
            users::insert(conn, &user, &password_hash).map_err(|e| match e {
                StoreError::Constraint(_) => {
                    ApiError::Conflict("an account with this email already exists".into())
                }
                other => other.into(),
            })?;
            let refresh_token = start_session(conn, user.id, TokenFamilyId::new_v7(now), now)?;
            Ok((user, refresh_token))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(no_store())
        .json(token_pair(&state, tokens.0, tokens.1)?))
}

/// Log in with email and password.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = Tokens),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
    extensions(("x-rate-limited" = json!(true)))
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    state.limit_auth(client.0, Account::Email(&body.email))?;
    let wrong = || ApiError::Unauthenticated("wrong email or password".into());
    let Ok(email) = Email::parse(&body.email) else {
        return Err(wrong());
    };
    let found = state
        .read(move |conn| Ok(users::find_by_email(conn, &email)?))
        .await?;
    let (user, stored_hash) = found.map_or((None, None), |(user, hash)| (Some(user), Some(hash)));
    let matches = state.passwords.verify(body.password, stored_hash).await?;
    let user = user.filter(|_| matches).ok_or_else(wrong)?;
    let now = state.now();
    let user_id = user.id;
    let refresh_token = state
        .write(move |conn| start_session(conn, user_id, TokenFamilyId::new_v7(now), now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(token_pair(&state, user, refresh_token)?))
}

/// Trade a refresh token for new tokens.
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh_tokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the one presented is spent", body = Tokens),
        (status = 401, description = "Unknown, expired, revoked or already used refresh token (a reused one revokes its whole session)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
    extensions(("x-rate-limited" = json!(true)))
)]
#[post("/auth/refresh")]
pub async fn refresh_tokens(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.limit_auth(client.0, Account::RefreshToken(&body.0.refresh_token))?;
    let presented = refresh::hash(&body.0.refresh_token);
    let now = state.now();
    // A reuse must revoke the family even though the request fails, so the outcome is
    // decided inside the transaction and the refusal made after it commits.
    let outcome = state
        .write(move |conn| {
            let Some(token) = token_store::find_by_hash(conn, &presented)? else {
                return Ok(None);
            };
            if token.revoked_at.is_some() || token.expires_at <= now {
                return Ok(None);
            }
            if !token_store::mark_used(conn, token.id, now)? {
                tracing::warn!(family = %token.family_id, "refresh token reused; revoking its session");
                token_store::revoke_family(conn, token.family_id, now)?;
                return Ok(None);
            }
            let user = users::find(conn, token.user_id)?;
            let new_token = start_session(conn, user.id, token.family_id, now)?;
            Ok(Some((user, new_token)))
        })
        .await?;
    let (user, new_token) = outcome.ok_or_else(|| {
        ApiError::Unauthenticated("the refresh token is invalid, expired or already used".into())
    })?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(token_pair(&state, user, new_token)?))
}

/// Log out: revoke the session.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session's refresh tokens are revoked (also when the token was unknown)"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = refresh::hash(&body.0.refresh_token);
    let now = state.now();
    state
        .write(move |conn| {
            if let Some(token) = token_store::find_by_hash(conn, &presented)? {
                token_store::revoke_family(conn, token.family_id, now)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stores a new refresh token in the family and answers the token itself.
fn start_session(
    conn: &mut DbConn,
    user_id: UserId,
    family_id: TokenFamilyId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, ApiError> {
    let token = refresh::generate();
    token_store::insert(
        conn,
        &NewRefreshToken {
            id: RefreshTokenId::new_v7(now),
            family_id,
            user_id,
            token_hash: &refresh::hash(&token),
            created_at: now,
            expires_at: now + refresh::REFRESH_TOKEN_TTL,
        },
    )?;
    Ok(token)
}

/// Token answers must not be kept by any cache (RFC 6749 §5.1); the idempotency layer
/// never stores a `no-store` answer either.
fn no_store() -> (header::HeaderName, &'static str) {
    (header::CACHE_CONTROL, "no-store")
}

fn token_pair(state: &AppState, user: User, refresh_token: String) -> Result<Tokens, ApiError> {
    let (access_token, expires_in) = state.jwt.issue(user.id, state.now())?;
    Ok(Tokens {
        access_token,
        refresh_token,
        token_type: "Bearer".into(),
        expires_in,
        user: UserView::own(&user),
    })
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh_tokens)
        .service(logout);
}
