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
enrolment as mentor or mentee, pairing, weekly check-ins, the pair's private messages.\n\n\
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
        (name = "pair-space", description = "The pair's private space: block and report; the group's reports"),
        (name = "check-ins", description = "The weekly schedule: check-ins, their topics and entries, the member's agenda"),
        (name = "messages", description = "The pair space: messages only the two partners read"),
        (name = "notifications", description = "The caller's notification feed"),
        (name = "operations", description = "Health, readiness and metrics"),
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
        let mut metrics = Http::new(HttpAuthScheme::Bearer);
        metrics.description =
            Some("The operator's metrics token (TANDEM_METRICS_TOKEN), when one is set".into());
        components.add_security_scheme("metrics_token", SecurityScheme::Http(metrics));
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
    add_shared_answers(&mut spec);
    add_links(&mut spec);
    spec
}

/// Where a created resource is used next, as OpenAPI `links`, derived from the paths so
/// no list of operations has to be kept: a `POST` that answers 201 at a collection
/// (`/v1/groups/{group_id}/programs`) links to every operation under the new item's
/// path — `<collection>/{param}` when such paths exist, else `/v1/<collection
/// name>/{param}` (`/v1/programs/{program_id}`). The new parameter comes from the
/// answer (`id`, or the field it names, such as `key`); the others from the request's
/// path. Operations that need a parameter neither gives are left out. Generated clients
/// and stateful testers (Schemathesis) chain calls along these links.
fn add_links(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::link::LinkBuilder;
    use utoipa::openapi::RefOr;
    let operations: Vec<(String, String)> = spec
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
                .filter_map(|op| op.operation_id.clone())
                .map(move |id| (path.clone(), id))
        })
        .collect();
    for (collection, item) in spec.paths.paths.iter_mut() {
        let Some(RefOr::T(created)) = item
            .post
            .as_mut()
            .and_then(|post| post.responses.responses.get_mut("201"))
        else {
            continue;
        };
        let known = path_parameters(collection);
        let name = collection.rsplit('/').next().unwrap_or_default();
        let nested = format!("{collection}/{{");
        let top = format!("/v1/{name}/{{");
        let prefix = if operations.iter().any(|(path, _)| path.starts_with(&nested)) {
            nested
        } else {
            top
        };
        for (path, target) in operations
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
        {
            let new_param = path[prefix.len()..].split('}').next().unwrap_or_default();
            let mut link = LinkBuilder::new();
            let mut resolvable = true;
            for param in path_parameters(path) {
                link = if param == new_param {
                    let field = if param.ends_with("_id") { "id" } else { param };
                    link.parameter(param, format!("$response.body#/{field}"))
                } else if known.contains(&param) {
                    link.parameter(param, format!("$request.path.{param}"))
                } else {
                    resolvable = false;
                    link
                };
            }
            if !resolvable {
                continue;
            }
            let mut link = link.build();
            // utoipa 5 writes `Link::operation_id` as `operation_id`, which no tool
            // reads; the OpenAPI name goes in through the flattened map.
            let mut named = utoipa::openapi::extensions::Extensions::default();
            named.insert("operationId".into(), target.as_str().into());
            link.extensions = Some(named);
            created.links.insert(target.clone(), RefOr::T(link));
        }
    }
}

/// The `{name}`s of a path template, in order.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .collect()
}

/// Marks, in a handler's `extensions(...)`, an operation served without the database
/// (never 503). Read and removed here, so it does not reach the published spec.
const NO_DATABASE: &str = "x-no-database";
/// Marks an operation under the auth rate limits (may answer 429).
const RATE_LIMITED: &str = "x-rate-limited";

/// The answers many operations share, written once here as `components/responses` and
/// referenced from every operation that can give them, so they cannot drift apart:
/// 400 and 413 and 415 wherever a JSON body is read, 401 wherever a bearer token is
/// required, 429 under the rate limits, 503 wherever the database is used; and the
/// `Idempotency-Key` header (with its 409 and 422) on authenticated POSTs.
/// `If-Match` and `If-None-Match` as the server reads them (`api/src/etag.rs`): `*`, or a
/// comma-separated list, possibly empty, of entity tags (`"…"` of visible ASCII other
/// than `"`, optionally weak `W/`).
pub(crate) const ENTITY_TAGS: &str =
    r#"^(\*|[ \t]*((W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)?[ \t]*)$"#;

fn add_shared_answers(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{Ref, RefOr};
    let components = spec.components.get_or_insert_with(Default::default);
    for (name, response) in shared_responses() {
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
    let shared = |name: &str| RefOr::Ref(Ref::new(format!("#/components/responses/{name}")));
    for item in spec.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for (is_post, operation) in operations
            .into_iter()
            .enumerate()
            .filter_map(|(i, op)| op.as_mut().map(|op| (i == 2, op)))
        {
            let marks = operation.extensions.take().unwrap_or_default();
            let no_database = marks.contains_key(NO_DATABASE);
            let rate_limited = marks.contains_key(RATE_LIMITED);
            let authenticated = operation
                .security
                .as_ref()
                .is_some_and(|s| s.iter().any(|r| *r != Default::default()));
            // A header is never null: a plain string, which tools read as the header's
            // own grammar (the server refuses anything else with 422 naming it).
            let mut conditions = Vec::new();
            for parameter in operation.parameters.iter_mut().flatten() {
                let name = parameter.name.as_str();
                if parameter.parameter_in == ParameterIn::Header
                    && (name == "If-Match" || name == "If-None-Match")
                {
                    parameter.schema = Some(
                        utoipa::openapi::schema::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::String)
                            .pattern(Some(ENTITY_TAGS))
                            .into(),
                    );
                    conditions.push(parameter.name.clone());
                }
            }
            let responses = &mut operation.responses.responses;
            if !conditions.is_empty() {
                let description =
                    format!("Invalid fields, or a malformed {}", conditions.join(" or "));
                responses
                    .entry("422".into())
                    .or_insert_with(|| RefOr::T(problem_response(&description)));
            }
            if conditions.iter().any(|name| name == "If-Match") {
                responses.insert("412".into(), shared("PreconditionFailed"));
            }
            if operation.request_body.is_some() {
                responses.insert("400".into(), shared("MalformedJson"));
                responses.insert("413".into(), shared("PayloadTooLarge"));
                responses.insert("415".into(), shared("UnsupportedMediaType"));
            }
            if authenticated {
                responses.insert("401".into(), shared("Unauthenticated"));
            }
            if rate_limited {
                responses.insert("429".into(), shared("RateLimited"));
            }
            if !no_database {
                responses.insert("503".into(), shared("Unavailable"));
            }
            if is_post && authenticated {
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .push(idempotency_key_parameter());
                responses.entry("409".into()).or_insert_with(|| {
                    RefOr::T(problem_response(
                        "A request with this Idempotency-Key is still being carried out",
                    ))
                });
                responses.entry("422".into()).or_insert_with(|| {
                    RefOr::T(problem_response(
                        "The Idempotency-Key was used for a different request",
                    ))
                });
            }
        }
    }
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn shared_responses() -> Vec<(&'static str, utoipa::openapi::Response)> {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let retry_after = || {
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .description(Some("Seconds to wait before retrying"))
            .build()
    };
    let with_retry_after = |description: &str| {
        let mut response = problem_response(description);
        response.headers.insert("Retry-After".into(), retry_after());
        response
    };
    vec![
        ("MalformedJson", problem_response("The body is not well-formed JSON")),
        (
            "PreconditionFailed",
            problem_response("Changed since the given ETag: If-Match names another version"),
        ),
        (
            "Unauthenticated",
            problem_response("No valid access token (missing, malformed, expired or forged)"),
        ),
        (
            "PayloadTooLarge",
            problem_response("The body is larger than 64 KiB (1 MiB for a batch of pairings)"),
        ),
        (
            "UnsupportedMediaType",
            problem_response("The body is not sent as application/json"),
        ),
        (
            "RateLimited",
            with_retry_after("Too many attempts from this address or on this account, or (data export) one of the caller's is still running"),
        ),
        (
            "Unavailable",
            with_retry_after("The database is unreachable or busy, or the server is saturated; retry after the given seconds"),
        ),
    ]
}

/// Schemas of request fields whose rules live in the domain, for
/// `#[schema(schema_with = ...)]`: the limits the domain counts (after trimming and
/// NFC) and the characters it accepts, from the same rules, so a client generated
/// from the spec refuses what the server refuses.
pub mod fields {
    use tandem_domain::text::{self, Lines};
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

    fn string(nullable: bool) -> ObjectBuilder {
        let schema_type = if nullable {
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::new(Type::String)
        };
        ObjectBuilder::new().schema_type(schema_type)
    }

    fn text(lines: Lines, min: usize, max: usize, nullable: bool) -> Object {
        string(nullable)
            .min_length((min > 0).then_some(min))
            .max_length(Some(max))
            .pattern(Some(text::pattern(lines, min > 0)))
            .build()
    }

    /// One line of `MIN..=MAX` characters (a name, a title).
    pub fn one_line<const MIN: usize, const MAX: usize>() -> Object {
        text(Lines::One, MIN, MAX, false)
    }

    /// As `one_line`, or null (an update that leaves it as it is).
    pub fn one_line_or_null<const MIN: usize, const MAX: usize>() -> Object {
        text(Lines::One, MIN, MAX, true)
    }

    /// Text of `MIN..=MAX` characters that may span lines (a description, a reason).
    pub fn many_lines<const MIN: usize, const MAX: usize>() -> Object {
        text(Lines::Many, MIN, MAX, false)
    }

    /// As `many_lines`, or null.
    pub fn many_lines_or_null<const MIN: usize, const MAX: usize>() -> Object {
        text(Lines::Many, MIN, MAX, true)
    }

    /// An email address as `Email::parse` takes it.
    pub fn email() -> Object {
        string(false)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Email,
            )))
            .min_length(Some(3))
            .max_length(Some(254))
            .description(Some(
                "Addresses under the reserved `.invalid` top-level domain are refused (422).",
            ))
            .build()
    }

    fn time_zone(nullable: bool) -> Object {
        let mut names: Vec<Option<&str>> =
            tandem_domain::user::TimeZone::names().map(Some).collect();
        if nullable {
            names.push(None);
        }
        string(nullable)
            .description(Some("An IANA time zone name such as `Europe/Rome`"))
            .enum_values(Some(names))
            .build()
    }

    /// An IANA time zone name, one of those the server knows.
    pub fn time_zone_or_null() -> Object {
        time_zone(true)
    }
}

fn idempotency_key_parameter() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Any unique string (a UUID is fine). A retry by the same user with the same key \
and the same request within 24 hours is answered with the first answer (marked \
`Idempotent-Replayed: true`) instead of being carried out again.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x21-\\x7E]+$")),
        ))
        .build()
}

/// The document as published in `openapi/openapi.json`: pretty JSON and a final newline.
pub fn spec_json() -> String {
    to_json(&spec())
}

/// A document as published: pretty JSON and a final newline.
pub fn to_json(spec: &utoipa::openapi::OpenApi) -> String {
    let mut json = spec
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_resources_link_to_the_operations_on_them() {
        let json: serde_json::Value = serde_json::from_str(&spec_json()).unwrap_or_default();
        let links = |path: &str| json["paths"][path]["post"]["responses"]["201"]["links"].clone();
        let program = links("/v1/groups/{group_id}/programs");
        assert_eq!(
            program["get_program"]["parameters"]["program_id"],
            "$response.body#/id"
        );
        assert_eq!(program["enrol"]["operationId"], "enrol");
        let template = links("/v1/groups/{group_id}/templates");
        let get = &template["get_custom_template"]["parameters"];
        assert_eq!(get["key"], "$response.body#/key");
        assert_eq!(get["group_id"], "$request.path.group_id");
        assert!(
            template.get("get_template").is_none(),
            "a custom key is no built-in's"
        );
        let group = links("/v1/groups");
        assert!(group.get("list_members").is_some());
        assert!(group.get("remove_member").is_none(), "no user id to give");
        let pairing = links("/v1/programs/{program_id}/pairings");
        assert!(pairing.get("end_pairing").is_some());
    }

    /// `app::routes` registers the hot routes first, which is safe only while no path
    /// can reach two routes of one method: with an overlap, the order would pick one.
    #[test]
    fn no_path_reaches_two_routes_of_one_method() {
        let json: serde_json::Value = serde_json::from_str(&spec_json()).unwrap_or_default();
        let paths = json["paths"].as_object().cloned().unwrap_or_default();
        assert!(paths.len() > 40, "the spec lists the routes");
        // A placeholder takes one whole segment, so two templates overlap when they have
        // as many segments and each pair of segments is equal or holds a placeholder.
        let overlap = |a: &str, b: &str| {
            let (a, b): (Vec<_>, Vec<_>) = (a.split('/').collect(), b.split('/').collect());
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| x == y || x.starts_with('{') || y.starts_with('{'))
        };
        let mut clashes = Vec::new();
        for (i, (a, a_item)) in paths.iter().enumerate() {
            for (b, b_item) in paths.iter().skip(i + 1) {
                let a_methods = a_item.as_object().map(|m| m.keys().collect::<Vec<_>>());
                let shared = a_methods
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|method| {
                        ["get", "put", "post", "patch", "delete"].contains(&method.as_str())
                    })
                    .filter(|method| b_item.get(method.as_str()).is_some())
                    .collect::<Vec<_>>();
                if !shared.is_empty() && overlap(a, b) {
                    clashes.push(format!("{a} and {b} ({shared:?})"));
                }
            }
        }
        assert_eq!(clashes, Vec::<String>::new());
        assert!(
            overlap("/v1/me/{id}", "/v1/me/pairings"),
            "the check can fail"
        );
    }
}
