//! The pair space's messages: what the two partners write to each other. Nobody else
//! reads them, admins included, and the other partner's notification never carries
//! their text.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tandem_domain::ids::{MessageId, PairingId};
use tandem_domain::message::{self, Message, MessageInput};
use tandem_persistence::{messages, pairings, users};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::routes::pairings::visible_pairing;
use crate::state::AppState;
use crate::workflows::{journey, notify};

/// One message of a pair space.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193f1e8-2b40-7c12-8a6e-51d0c3f9a2b4",
    "pairing_id": "0193f1d2-7a05-7e3b-b1c4-9d2e6f0a8c15",
    "author_id": "0193f1d2-6c1e-7a41-9d4b-2f0a8e5c3b71",
    "week": 2,
    "body": "Nights are a little better since we started taking turns. How are yours?",
    "created_at": "2027-03-09T21:02:17.204Z"
}))]
pub struct MessageView {
    pub id: Uuid,
    pub pairing_id: Uuid,
    /// One of the two partners.
    pub author_id: Uuid,
    /// The guide week it is about; null when the author tied it to none.
    #[schema(minimum = 1, maximum = 52)]
    pub week: Option<u16>,
    pub body: String,
    #[serde(serialize_with = "crate::json_time::instant")]
    pub created_at: DateTime<Utc>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.0,
            pairing_id: m.pairing_id.0,
            author_id: m.author_id.0,
            week: m.week,
            body: m.body,
            created_at: m.created_at,
        }
    }
}

list_response!(
    MessageList,
    MessageView,
    "A page of a pair space's messages, newest first."
);

/// A message to the partner.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessageRequest {
    /// 1–4,000 characters; several lines allowed.
    #[schema(schema_with = crate::openapi::fields::many_lines::<1, { tandem_domain::message::MAX_BODY }>)]
    pub body: String,
    /// The guide week it is about: 1 to the program's `duration_weeks`.
    #[schema(minimum = 1, maximum = 52)]
    pub week: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    /// Only the messages about this guide week (1 to the program's `duration_weeks`).
    #[param(minimum = 1, maximum = 52)]
    pub week: Option<i64>,
    /// How many items to answer (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// List a pair space's messages.
#[utoipa::path(
    tag = "messages",
    operation_id = "list_messages",
    params(("pairing_id" = Uuid, Path, description = "The pairing"), MessageParams),
    responses(
        (status = 200, description = "The messages, newest first; an ended or completed pairing's stay readable to its partners", body = MessageList),
        (status = 403, description = "The caller is an admin who may see the pairing, not one of the partners: the pair space is theirs alone", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pairing, the caller is not in its group (a partner who left or was removed included), or neither a partner nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid week, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[get("/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    params: Query<MessageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = PairingId(path.into_inner());
    let params = params.0;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse::<MessageId>()?;
    let week = params.week;
    let list = state
        .read(move |conn| {
            let (pairing, program) = visible_pairing(conn, id, caller.0)?;
            message::check_may_enter_space(&pairing, caller.0)?;
            let week = week.map(|w| message::check_week(w, &program)).transpose()?;
            Ok::<_, ApiError>(messages::list(conn, id, week, page.after, page.limit)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MessageList::from_page(list.map(MessageView::from))))
}

/// Post a message to the partner.
#[utoipa::path(
    tag = "messages",
    operation_id = "post_message",
    params(("pairing_id" = Uuid, Path, description = "The pairing")),
    request_body = PostMessageRequest,
    responses(
        (status = 201, description = "Posted; the partner's one unread `new_messages` notification for this pairing is added or counts it", body = MessageView),
        (status = 403, description = "The caller is an admin who may see the pairing, not one of the partners", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pairing, the caller is not in its group (a partner who left or was removed included), or neither a partner nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The pairing is no longer active (ended, or its schedule ran out) or its program is archived: the pair space is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body or week", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[post("/messages")]
pub async fn post_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<PostMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = PairingId(path.into_inner());
    let request = body.0;
    let now = state.now();
    let view = state
        .write(move |conn| {
            // Posts of one pairing run one after another, and everything is read under
            // the lock: an end committed meanwhile is seen, and the partner's coalesced
            // notification is looked up and changed by one post at a time. An unknown
            // id is the same 404 as an invisible one.
            pairings::lock(conn, id).map_err(crate::error::not_found_as("pairing"))?;
            let (pairing, program) = visible_pairing(conn, id, caller.0)?;
            message::check_may_enter_space(&pairing, caller.0)?;
            let input = MessageInput::parse(&request.body, request.week, &program)
                .map_err(tandem_domain::DomainError::Invalid)?;
            let journey = journey::of(conn, pairing, &program)?;
            journey.check_can_post(&program, caller.0, now)?;
            let message = Message {
                id: MessageId::new_v7(now),
                pairing_id: id,
                author_id: caller.0,
                week: input.week,
                body: input.body,
                created_at: now,
            };
            messages::insert(conn, &message)?;
            let author_name = users::find(conn, caller.0)?.display_name;
            notify::new_message(
                conn,
                &program,
                &journey.pairing,
                caller.0,
                author_name.as_str(),
                now,
            )?;
            Ok::<_, ApiError>(MessageView::from(message))
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Registers this module's operations (paths and spec together).
/// The routes under one pairing (`app::PAIRING_SCOPE`).
pub fn configure_pairing(cfg: &mut ServiceConfig) {
    cfg.service(list_messages).service(post_message);
}
