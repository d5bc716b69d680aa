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
use crate::error::ApiError;
use crate::extract::path::path_error_handler;
use crate::routes::templates;
use crate::routes::{
    auth, enrolments, groups, health, matching, me, members, notifications, pairings, programs,
};
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every documented route. The spec is built from this same list.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope("/v1")
                .service(auth::register)
                .service(auth::login)
                .service(auth::refresh_tokens)
                .service(auth::logout)
                .service(templates::list_templates)
                .service(templates::get_template)
                .service(templates::create_custom_template)
                .service(templates::list_custom_templates)
                .service(templates::get_custom_template)
                .service(templates::update_custom_template)
                .service(templates::delete_custom_template)
                .service(me::get_me)
                .service(me::update_me)
                .service(groups::create_group)
                .service(groups::list_my_groups)
                .service(groups::get_group)
                .service(groups::update_group)
                .service(groups::rotate_invite_code)
                .service(groups::join_group)
                .service(members::list_members)
                .service(members::change_member_role)
                .service(members::remove_member)
                .service(programs::create_program)
                .service(programs::list_programs)
                .service(programs::get_program)
                .service(programs::update_program)
                .service(enrolments::enrol)
                .service(enrolments::list_enrolments)
                .service(enrolments::get_enrolment)
                .service(enrolments::update_enrolment)
                .service(enrolments::withdraw_enrolment)
                .service(matching::get_match_suggestions)
                .service(matching::get_match_assignment)
                .service(pairings::create_pairing)
                .service(pairings::publish_pairings)
                .service(pairings::list_program_pairings)
                .service(pairings::list_my_pairings)
                .service(pairings::get_pairing)
                .service(pairings::end_pairing)
                .service(notifications::list_notifications)
                .service(notifications::update_notification)
                .service(notifications::mark_all_notifications_read),
        );
}

/// A running server: the port it bound (useful with port 0) and the server future.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(
        listener: TcpListener,
        db: Db,
        jwt_secret: &[u8],
        clock: Arc<dyn Clock>,
        workers: Option<usize>,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            db,
            jwt: JwtKeys::new(jwt_secret),
            clock,
        });
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
