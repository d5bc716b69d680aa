//! The HTTP application: routes, middleware and the server that runs them.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ResourceDef, Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, Condition, Next};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer, ResponseError};
use tandem_domain::clock::Clock;
use tandem_persistence::Db;
use tracing::Instrument;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHashing;
use crate::config::PublicUrl;
use crate::error::ApiError;
use crate::extract::path::path_error_handler;
use crate::limits::{AuthLimits, LimitSettings};
use crate::routes::templates;
use crate::routes::{
    auth, calendar, check_ins, enrolments, export, groups, health, insights, matching, me, members,
    messages, notifications, pairings, programs, safety,
};
use crate::state::{AppState, DbTurns, MetricsToken};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The prefix of the routes about one pairing, which the pair calls all the time.
pub const PAIRING_SCOPE: &str = "/pairings/{pairing_id}";

/// Every documented route, module by module; the spec is built from the same calls.
///
/// actix tries a scope's routes in the order they were registered, running each
/// templated path's regex until one matches: registered late, one pairing spent 4–13%
/// of the server's CPU in the regexes of the routes before it, and a pairing's
/// check-ins 8% (docs/performance.md). So the routes under one pairing share a scope,
/// whose pattern is matched once (the rest compare plain strings), registered first
/// with the other routes a pair calls (my pairings, check-ins, messages) next. Order
/// changes no answer: paths match whole, and no two routes of one method match the
/// same path (a unit test in `openapi.rs` checks).
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(
            scope("/v1")
                .service(
                    scope(PAIRING_SCOPE)
                        .configure(pairings::configure_pairing)
                        .configure(check_ins::configure_pairing)
                        .configure(messages::configure_pairing)
                        .configure(safety::configure_pairing),
                )
                .configure(pairings::configure)
                .configure(check_ins::configure)
                .configure(me::configure)
                .configure(auth::configure)
                .configure(templates::configure)
                .configure(export::configure)
                .configure(groups::configure)
                .configure(members::configure)
                .configure(programs::configure)
                .configure(insights::configure)
                .configure(enrolments::configure)
                .configure(matching::configure)
                .configure(safety::configure)
                .configure(notifications::configure)
                .configure(calendar::configure),
        );
}

/// A running server: the port it bound (useful with port 0) and the server future.
pub struct Application {
    port: u16,
    server: Server,
    /// The background jobs' loop, started with the server and stopped with it.
    jobs: Option<JobLoop>,
    /// Tells the job loop to start no new run; set as the stop signal arrives.
    stop_jobs: Arc<tokio::sync::watch::Sender<bool>>,
}

/// Stops a running application: the job loop is told first, so no job run starts
/// while the HTTP server drains its in-flight requests (a run in progress still
/// finishes; `run_until_stopped` waits for it).
#[derive(Clone)]
pub struct Stopper {
    server: actix_web::dev::ServerHandle,
    jobs: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Stopper {
    pub async fn stop(&self, graceful: bool) {
        self.jobs.send_replace(true);
        self.server.stop(graceful).await;
    }
}

struct JobLoop {
    db: Db,
    clock: Arc<dyn Clock>,
    interval: std::time::Duration,
}

/// What the server is built with, beside the database and the clock.
pub struct AppConfig {
    pub jwt_secret: Vec<u8>,
    /// HTTP worker threads; `None` for one per core.
    pub workers: Option<usize>,
    pub limits: LimitSettings,
    /// How often the server runs the background jobs; `None` when it does not.
    pub jobs_interval: Option<std::time::Duration>,
    /// The base of absolute links (calendar feed URLs).
    pub public_url: PublicUrl,
    /// Origins allowed to call from browsers (validated: [`crate::config::cors_origins`]);
    /// empty for no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// The bearer token `GET /metrics` requires; `None` leaves it open.
    pub metrics_token: Option<String>,
    /// How long a stopping server gives in-flight requests.
    pub shutdown_timeout: std::time::Duration,
    /// How long a data export may take in all before its body is cut.
    pub export_deadline: std::time::Duration,
}

impl Application {
    pub fn build(
        listener: TcpListener,
        db: Db,
        clock: Arc<dyn Clock>,
        config: AppConfig,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        crate::metrics::install();
        let limits = &config.limits;
        let jobs = config.jobs_interval.map(|interval| JobLoop {
            db: db.clone(),
            clock: Arc::clone(&clock),
            interval,
        });
        let state = web::Data::new(AppState {
            turns: DbTurns::for_pools(&db),
            db,
            jwt: JwtKeys::new(&config.jwt_secret),
            clock,
            passwords: PasswordHashing::start(limits.hashing_slots(), limits.hashing_wait())?,
            auth_limits: AuthLimits::from_settings(limits),
            trusted_proxies: limits.trusted_proxies.clone(),
            public_url: config.public_url.clone(),
            metrics_token: config.metrics_token.as_deref().map(MetricsToken::new),
            export_deadline: config.export_deadline,
        });
        let cors_origins: Arc<[String]> = config.cors_origins.clone().into();
        let workers = config.workers;
        let spec = crate::openapi::spec();
        let methods = web::Data::new(MethodTable::from_spec(&spec));
        let spec_json: Arc<str> = Arc::from(crate::openapi::to_json(&spec));
        let mut server = HttpServer::new(move || {
            let spec_json = spec_json.clone();
            let methods = methods.clone();
            let cors = Condition::new(!cors_origins.is_empty(), cors(&cors_origins));
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(routes)
                .split_for_parts();
            app.app_data(state.clone())
                .app_data(methods.clone())
                .app_data(web::PathConfig::default().error_handler(path_error_handler))
                .service(
                    web::resource("/openapi.json")
                        .get(move || {
                            let body = spec_json.clone();
                            async move {
                                HttpResponse::Ok()
                                    .content_type("application/json")
                                    .body(body.to_string())
                            }
                        })
                        .default_service(web::to(only_get)),
                )
                .service(
                    web::resource("/docs")
                        .get(|| async {
                            HttpResponse::PermanentRedirect()
                                .insert_header((header::LOCATION, "/docs/"))
                                .finish()
                        })
                        .default_service(web::to(only_get)),
                )
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/openapi.json")),
                )
                .default_service(web::to(|req: HttpRequest| {
                    let methods = req.app_data::<web::Data<MethodTable>>().cloned();
                    let allowed = methods.and_then(|methods| methods.allowed(req.path()));
                    let answer = match allowed {
                        Some(allow) => ApiError::MethodNotAllowed { allow },
                        None => ApiError::NotFound("no such route".into()),
                    };
                    async move { Err::<HttpResponse, _>(answer) }
                }))
                .wrap(from_fn(crate::idempotency::idempotency))
                .wrap(cors)
                .wrap(from_fn(cors_refusal_as_problem))
                .wrap(from_fn(request_context))
        })
        // Signals are the binary's to handle (`main.rs`): SIGINT stops as gracefully as
        // SIGTERM, and servers started inside tests ignore the test process's signals.
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout.as_secs())
        .listen(listener)?;
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            jobs,
            stop_jobs: Arc::new(tokio::sync::watch::channel(false).0),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere (tests stop theirs when done).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// A handle that stops the job loop's new runs and the server together: what a stop
    /// signal uses.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            server: self.server.handle(),
            jobs: Arc::clone(&self.stop_jobs),
        }
    }

    /// Serves (and runs the jobs, when on) until the server is stopped. A graceful stop
    /// through [`Application::stopper`] tells the job loop at once (no new run starts
    /// during the drain), lets in-flight requests finish (up to the shutdown timeout),
    /// then waits for a job run in progress to commit.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stop_jobs = self.stop_jobs;
        let jobs = self
            .jobs
            .map(|jobs| crate::jobs::spawn_loop(jobs.db, jobs.clock, jobs.interval, stop_jobs));
        let served = self.server.await;
        if let Some(jobs) = jobs {
            jobs.stop().await;
        }
        served
    }
}

/// The methods of every documented path, taken from the spec, which is built from the
/// same registrations as the routes: a known path asked with a method it lacks answers
/// 405 with `Allow` (actix would otherwise fall through to the default 404).
pub struct MethodTable(Vec<(ResourceDef, Vec<&'static str>)>);

impl MethodTable {
    fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let paths = spec.paths.paths.iter().map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("HEAD", item.head.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
                ("OPTIONS", item.options.is_some()),
                ("TRACE", item.trace.is_some()),
            ];
            let methods = methods
                .into_iter()
                .filter_map(|(name, present)| present.then_some(name))
                .collect();
            (ResourceDef::new(path.as_str()), methods)
        });
        Self(paths.collect())
    }

    /// The `Allow` value for a path, or `None` when no documented path matches. A
    /// literal path (`/v1/me/notifications/read-all`) wins over a template that also
    /// matches it (`/v1/me/notifications/{notification_id}`).
    fn allowed(&self, path: &str) -> Option<String> {
        self.allowed_literal(path)
            .or_else(|| Self::join(self.0.iter().filter(|(def, _)| def.is_match(path))))
    }

    /// The `Allow` value when `path` is one of the literal documented paths.
    pub fn allowed_literal(&self, path: &str) -> Option<String> {
        let literal = |def: &ResourceDef| def.pattern().is_some_and(|p| !p.contains('{'));
        Self::join(
            self.0
                .iter()
                .filter(|(def, _)| literal(def) && def.is_match(path)),
        )
    }

    fn join<'a>(
        chosen: impl Iterator<Item = &'a (ResourceDef, Vec<&'static str>)>,
    ) -> Option<String> {
        let mut methods: Vec<&str> = chosen
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        (!methods.is_empty()).then(|| methods.join(", "))
    }
}

/// The default of a hand-registered resource that answers GET only.
async fn only_get() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allow: "GET".into(),
    })
}

/// The CORS policy: the configured origins, the methods the API uses, the headers its
/// clients send, and the answer headers a browser page may read.
fn cors(origins: &[String]) -> Cors {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    cors.allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            REQUEST_ID,
            header::CONTENT_DISPOSITION,
        ])
        // An hour spares most preflights, and a changed policy reaches browsers soon.
        .max_age(3600)
}

/// A preflight the CORS policy refuses (an origin, method or header not allowed)
/// answers 400 problem+json like every other refusal, not actix-cors's plain text. It
/// carries no `Access-Control-Allow-Origin`, so the browser blocks the real request.
async fn cors_refusal_as_problem(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let response = next.call(req).await?;
    let refusal = response
        .response()
        .error()
        .and_then(|error| error.as_error::<actix_cors::CorsError>())
        .map(ToString::to_string);
    Ok(match refusal {
        Some(detail) => {
            let (req, _) = response.into_parts();
            let answer = ApiError::BadRequest(format!("CORS preflight refused: {detail}"));
            ServiceResponse::new(req, answer.error_response()).map_into_right_body()
        }
        None => response.map_into_left_body(),
    })
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
    // The route template, never the raw path: one series per route, whatever ids come.
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    crate::metrics::record_request(
        method_label(response.request().method()),
        route,
        status,
        started.elapsed().as_secs_f64(),
    );
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "answered"
        );
    });
    Ok(response)
}

/// A request's method as a metrics label: the standard ones, else `other` (a client
/// may send any token as a method, and each would make new series).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
