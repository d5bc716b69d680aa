//! The caller's notification feed.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tandem_domain::ids::NotificationId;
use tandem_domain::notification::{
    CheckInNoticeData, EnrolmentDecidedData, MatchedData, NewMessagesData, NotificationPayload,
    PairingCompletedData, PairingEndedData,
};
use tandem_persistence::notifications::{self, Notification};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{self, etag, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Json, Query};
use crate::list_response;
use crate::pagination::PageParams;
use crate::state::AppState;

/// One notification kind's schema: the common fields, a constant `kind`, typed `data`.
macro_rules! notification_kind {
    ($(#[$doc:meta])* $view:ident, $kind:ident :: $variant:ident, $data:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $view {
            pub id: Uuid,
            pub kind: $kind,
            pub created_at: DateTime<Utc>,
            /// When the user read it; null while unread.
            pub read_at: Option<DateTime<Utc>>,
            pub data: $data,
        }

        /// The constant that tells this kind of notification apart.
        #[derive(Debug, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $kind {
            $variant,
        }
    };
}

notification_kind!(
    /// `matched`: the user was paired; `data` says with whom and in which role.
    MatchedNotification,
    MatchedKind::Matched,
    MatchedData
);
notification_kind!(
    /// `pairing_ended`: a partner or an admin ended the user's pairing early.
    PairingEndedNotification,
    PairingEndedKind::PairingEnded,
    PairingEndedData
);
notification_kind!(
    /// `enrolment_approved`: an admin approved the user's pending enrolment.
    EnrolmentApprovedNotification,
    EnrolmentApprovedKind::EnrolmentApproved,
    EnrolmentDecidedData
);
notification_kind!(
    /// `enrolment_declined`: an admin declined the user's pending enrolment.
    EnrolmentDeclinedNotification,
    EnrolmentDeclinedKind::EnrolmentDeclined,
    EnrolmentDecidedData
);

notification_kind!(
    /// `check_in_due`: a check-in's day has come, in the user's time zone.
    CheckInDueNotification,
    CheckInDueKind::CheckInDue,
    CheckInNoticeData
);
notification_kind!(
    /// `check_in_missed`: a check-in's window closed without an entry from either partner.
    CheckInMissedNotification,
    CheckInMissedKind::CheckInMissed,
    CheckInNoticeData
);
notification_kind!(
    /// `pairing_completed`: the pairing's last check-in window closed.
    PairingCompletedNotification,
    PairingCompletedKind::PairingCompleted,
    PairingCompletedData
);
notification_kind!(
    /// `new_messages`: the partner wrote in the pair space. One unread notification per
    /// pairing: later messages update its `data.count` and `data.latest_at` until the
    /// user reads it; the next message after that adds a new one. Never the text.
    NewMessagesNotification,
    NewMessagesKind::NewMessages,
    NewMessagesData
);

/// Something that happened that the user should know about: one schema per `kind`,
/// each with its own typed `data`. Clients should skip kinds they do not know yet.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "kind", mapping(
    ("matched" = "#/components/schemas/MatchedNotification"),
    ("pairing_ended" = "#/components/schemas/PairingEndedNotification"),
    ("enrolment_approved" = "#/components/schemas/EnrolmentApprovedNotification"),
    ("enrolment_declined" = "#/components/schemas/EnrolmentDeclinedNotification"),
    ("check_in_due" = "#/components/schemas/CheckInDueNotification"),
    ("check_in_missed" = "#/components/schemas/CheckInMissedNotification"),
    ("pairing_completed" = "#/components/schemas/PairingCompletedNotification"),
    ("new_messages" = "#/components/schemas/NewMessagesNotification"),
)))]
pub enum NotificationView {
    Matched(MatchedNotification),
    PairingEnded(PairingEndedNotification),
    EnrolmentApproved(EnrolmentApprovedNotification),
    EnrolmentDeclined(EnrolmentDeclinedNotification),
    CheckInDue(CheckInDueNotification),
    CheckInMissed(CheckInMissedNotification),
    PairingCompleted(PairingCompletedNotification),
    NewMessages(NewMessagesNotification),
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        let (id, created_at, read_at) = (n.id.0, n.created_at, n.read_at);
        match n.payload {
            NotificationPayload::Matched(data) => Self::Matched(MatchedNotification {
                id,
                kind: MatchedKind::Matched,
                created_at,
                read_at,
                data,
            }),
            NotificationPayload::PairingEnded(data) => {
                Self::PairingEnded(PairingEndedNotification {
                    id,
                    kind: PairingEndedKind::PairingEnded,
                    created_at,
                    read_at,
                    data,
                })
            }
            NotificationPayload::EnrolmentApproved(data) => {
                Self::EnrolmentApproved(EnrolmentApprovedNotification {
                    id,
                    kind: EnrolmentApprovedKind::EnrolmentApproved,
                    created_at,
                    read_at,
                    data,
                })
            }
            NotificationPayload::EnrolmentDeclined(data) => {
                Self::EnrolmentDeclined(EnrolmentDeclinedNotification {
                    id,
                    kind: EnrolmentDeclinedKind::EnrolmentDeclined,
                    created_at,
                    read_at,
                    data,
                })
            }
            NotificationPayload::CheckInDue(data) => Self::CheckInDue(CheckInDueNotification {
                id,
                kind: CheckInDueKind::CheckInDue,
                created_at,
                read_at,
                data,
            }),
            NotificationPayload::CheckInMissed(data) => {
                Self::CheckInMissed(CheckInMissedNotification {
                    id,
                    kind: CheckInMissedKind::CheckInMissed,
                    created_at,
                    read_at,
                    data,
                })
            }
            NotificationPayload::PairingCompleted(data) => {
                Self::PairingCompleted(PairingCompletedNotification {
                    id,
                    kind: PairingCompletedKind::PairingCompleted,
                    created_at,
                    read_at,
                    data,
                })
            }
            NotificationPayload::NewMessages(data) => Self::NewMessages(NewMessagesNotification {
                id,
                kind: NewMessagesKind::NewMessages,
                created_at,
                read_at,
                data,
            }),
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
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
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

/// List the caller's notifications.
#[utoipa::path(
    tag = "notifications",
    operation_id = "list_notifications",
    params(NotificationParams),
    responses(
        (status = 200, description = "The caller's notifications, newest first", body = NotificationList),
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

/// Read one of the caller's notifications.
#[utoipa::path(
    tag = "notifications",
    operation_id = "get_notification",
    params(
        ("notification_id" = Uuid, Path, description = "The notification"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The notification", body = NotificationView,
            headers(("ETag" = String, description = "The notification's version, for If-Match"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 404, description = "No such notification of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/notifications/{notification_id}")]
pub async fn get_notification(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let id = NotificationId(path.into_inner());
    let (notification, version) = state
        .read(move |conn| {
            notifications::find_own_versioned(conn, caller.0, id)
                .map_err(crate::error::not_found_as("notification"))
        })
        .await?;
    Ok(etag::respond(
        actix_web::http::StatusCode::OK,
        etag(version),
        &NotificationView::from(notification),
        &if_none_match,
    ))
}

/// Mark a notification read or unread.
#[utoipa::path(
    tag = "notifications",
    operation_id = "update_notification",
    params(
        ("notification_id" = Uuid, Path, description = "The notification"),
        ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 if it changed since"),
    ),
    request_body = UpdateNotificationRequest,
    responses(
        (status = 200, description = "The notification, read or unread", body = NotificationView,
            headers(("ETag" = String, description = "The notification's version, for If-Match"))),
        (status = 404, description = "No such notification of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Marking a `new_messages` notification unread while a newer one of the same pairing is unread (it already counts the messages)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/me/notifications/{notification_id}")]
pub async fn update_notification(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateNotificationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = NotificationId(path.into_inner());
    let read_at = body.0.read.then(|| state.now());
    let (version, notification) = state
        .write(move |conn| {
            if read_at.is_none() {
                crate::workflows::notify::check_may_mark_unread(conn, caller.0, id)
                    .map_err(ApiError::from)
                    .map_err(|e| match e {
                        ApiError::NotFound(_) => ApiError::not_found("notification"),
                        other => other,
                    })?;
            }
            // After the pairing's lock (taken above for an unread mark), in the usual order.
            notifications::lock(conn, caller.0, id)
                .map_err(crate::error::not_found_as("notification"))?;
            if_match.check(notifications::version(conn, id)?)?;
            let notification = notifications::set_read(conn, caller.0, id, read_at)
                .map_err(crate::error::not_found_as("notification"))?;
            Ok((notifications::version(conn, id)?, notification))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(version)))
        .json(NotificationView::from(notification)))
}

/// Mark every notification read.
#[utoipa::path(
    tag = "notifications",
    operation_id = "mark_all_notifications_read",
    responses(
        (status = 200, description = "Every unread notification of the caller's is now read", body = MarkedRead),
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
        .service(get_notification)
        .service(update_notification)
        .service(mark_all_notifications_read);
}
