//! The caller's notification feed.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tandem_domain::ids::NotificationId;
use tandem_persistence::notifications::{self, Notification};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::state::AppState;

/// Something that happened that the user should know about.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// `matched`, `pairing_ended`, `enrolment_approved`, `enrolment_declined`, …
    pub kind: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Ids and names the client needs to show it (e.g. `pairing_id`, `program_name`,
    /// `partner_display_name`); the shape depends on `kind`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id.0,
            kind: n.kind,
            created_at: n.created_at,
            read_at: n.read_at,
            data: n.data,
        }
    }
}

list_response!(
    NotificationList,
    NotificationView,
    "A page of notifications, newest first."
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Only unread notifications.
    pub unread: Option<bool>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNotificationRequest {
    /// true marks it read, false unread.
    pub read: bool,
}

/// How many notifications a call marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    pub marked: usize,
}

#[utoipa::path(
    tag = "notifications",
    operation_id = "list_notifications",
    params(NotificationParams),
    responses(
        (status = 200, description = "The caller's notifications, newest first", body = NotificationList),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: AuthUser,
    params: Query<NotificationParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.0;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse::<NotificationId>()?;
    let unread = params.unread.unwrap_or(false);
    let list = state
        .read(move |conn| {
            Ok(notifications::list(
                conn, caller.0, unread, page.after, page.limit,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(NotificationList::from_page(
        list.map(NotificationView::from),
    )))
}

#[utoipa::path(
    tag = "notifications",
    operation_id = "update_notification",
    params(("notification_id" = Uuid, Path, description = "The notification")),
    request_body = UpdateNotificationRequest,
    responses(
        (status = 200, description = "The notification, read or unread", body = NotificationView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/me/notifications/{notification_id}")]
pub async fn update_notification(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    body: Json<UpdateNotificationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = NotificationId(path.into_inner());
    let read_at = body.0.read.then(|| state.now());
    let notification = state
        .write(move |conn| {
            notifications::set_read(conn, caller.0, id, read_at)
                .map_err(crate::error::not_found_as("notification"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(NotificationView::from(notification)))
}

#[utoipa::path(
    tag = "notifications",
    operation_id = "mark_all_notifications_read",
    responses(
        (status = 200, description = "Every unread notification of the caller's is now read", body = MarkedRead),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/notifications/read-all")]
pub async fn mark_all_notifications_read(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let marked = state
        .write(move |conn| Ok(notifications::mark_all_read(conn, caller.0, now)?))
        .await?;
    Ok(HttpResponse::Ok().json(MarkedRead { marked }))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_notifications)
        .service(update_notification)
        .service(mark_all_notifications_read);
}
