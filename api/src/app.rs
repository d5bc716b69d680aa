//! The HTTP application: routes, middleware and the server that runs them.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpResponse, HttpServer};
use tandem_domain::clock::Clock;
use tandem_persistence::Db;
use tracing::Instrument;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHashing;
use crate::error::ApiError;
use crate::extract::path::path_error_handler;
use crate::limits::{AuthLimits, LimitSettings};
use crate::routes::templates;
use crate::routes::{
    auth, enrolments, groups, health, matching, me, members, notifications, pairings, programs,
};
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every documented route, module by module; the spec is built from the same calls.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope("/v1")
                .configure(auth::configure)
                .configure(templates::configure)
                .configure(me::configure)
                .configure(groups::configure)
                .configure(members::configure)
                .configure(programs::configure)
                .configure(enrolments::configure)
                .configure(matching::configure)
                .configure(pairings::configure)
                .configure(notifications::configure),
        );
}

/// A running server: the port it bound (useful with port 0) and the server future.
pub struct Application {
    port: u16,
    server: Server,
}

/// What the server is built with, beside the database and the clock.
pub struct AppConfig {
    pub jwt_secret: Vec<u8>,
    /// HTTP worker threads; `None` for one per core.
    pub workers: Option<usize>,
    pub limits: LimitSettings,
}

impl Application {
    pub fn build(
        listener: TcpListener,
        db: Db,
        clock: Arc<dyn Clock>,
        config: AppConfig,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let limits = &config.limits;
        let state = web::Data::new(AppState {
            db,
            jwt: JwtKeys::new(&config.jwt_secret),
            clock,
            passwords: PasswordHashing::start(limits.hashing_slots(), limits.hashing_wait())?,
            auth_limits: AuthLimits::from_settings(limits),
            trusted_proxies: limits.trusted_proxies.clone(),
        });
        let workers = config.workers;
        let spec_json: Arc<str> = Arc::from(crate::openapi::spec_json());
        let mut server = HttpServer::new(move || {
            let spec_json = spec_json.clone();
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(routes)
                .split_for_parts();
            app.app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(path_error_handler))
                .route(
                    "/openapi.json",
                    web::get().to(move || {
                        let body = spec_json.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body.to_string())
                        }
                    }),
                )
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header((header::LOCATION, "/docs/"))
                            .finish()
                    }),
                )
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/openapi.json")),
                )
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::NotFound("no such route".into()))
                }))
                .wrap(from_fn(crate::idempotency::idempotency))
                .wrap(from_fn(request_context))
        })
        .listen(listener)?;
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere (tests stop theirs when done).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Gives every request an id (the client's `X-Request-Id` when it sends a sane one),
/// a tracing span carrying it, a log line when done, and the id on the answer.
async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "answered"
        );
    });
    Ok(response)
}
