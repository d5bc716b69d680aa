//! The OpenAPI document: generated from the handlers' annotations as the routes are
//! registered (utoipa-actix-web), so the spec and the routes cannot drift apart.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tandem",
        description = "Mentorship programs inside online communities: groups, programs from templates, \
enrolment as mentor or mentee, pairing, weekly check-ins.\n\n\
Errors are `application/problem+json` (RFC 9457). Lists take `?limit=` and `?cursor=` and answer \
`{items, next_cursor}`. Authenticate with `Authorization: Bearer <access_token>` from `/v1/auth/login`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "This server")),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "me", description = "The caller's own account"),
        (name = "groups", description = "Community groups"),
        (name = "members", description = "Group memberships and roles"),
        (name = "templates", description = "Built-in and custom program templates"),
        (name = "programs", description = "Mentorship programs of a group"),
        (name = "enrolments", description = "Members enrolling as mentor or mentee"),
        (name = "pairings", description = "Pairing mentees with mentors, suggestions, ending"),
        (name = "notifications", description = "The caller's notification feed"),
        (name = "operations", description = "Health and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        scheme.description = Some(
            "An access token from /v1/auth/login, /v1/auth/register or /v1/auth/refresh".into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document, with the paths of every registered route.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::app::routes)
        .split_for_parts();
    spec.info.version = env!("CARGO_PKG_VERSION").to_owned();
    add_shared_problems(&mut spec);
    spec
}

/// What every operation of a kind shares, added to each so clients see it: the
/// `Idempotency-Key` header on POSTs, 413 and 415 wherever a JSON body is read, 503
/// wherever the database is used.
fn add_shared_problems(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    // Served from the binary alone, never from the database.
    const NO_DATABASE: [&str; 3] = ["healthz", "list_templates", "get_template"];
    for item in spec.paths.paths.values_mut() {
        if let Some(post) = item.post.as_mut() {
            let parameter = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Any unique string (a UUID is fine). A retry with the same key and the \
same request within 24 hours is answered with the first answer (marked \
`Idempotent-Replayed: true`) instead of being carried out again.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .max_length(Some(255)),
                ))
                .build();
            post.parameters.get_or_insert_with(Vec::new).push(parameter);
            let responses = &mut post.responses.responses;
            responses.entry("409".into()).or_insert_with(|| {
                problem("A request with this Idempotency-Key is still being carried out")
            });
            responses
                .entry("422".into())
                .or_insert_with(|| problem("The Idempotency-Key was used for a different request"));
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            if operation.request_body.is_some() {
                responses
                    .entry("413".into())
                    .or_insert_with(|| problem("Body larger than 64 KiB"));
                responses
                    .entry("415".into())
                    .or_insert_with(|| problem("Body not sent as application/json"));
            }
            let id = operation.operation_id.as_deref().unwrap_or_default();
            if !NO_DATABASE.contains(&id) {
                responses
                    .entry("503".into())
                    .or_insert_with(|| problem("The database is unavailable; retry later"));
            }
        }
    }
}

/// The document as published in `openapi/openapi.json`: pretty JSON and a final newline.
pub fn spec_json() -> String {
    let mut json = spec()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}
