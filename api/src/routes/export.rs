//! The caller's data export: everything Tandem holds about them, as one JSON document.
//!
//! Streamed, never built whole in memory: a blocking producer reads each section page by
//! page (keyset pagination) inside one read-only snapshot, serialises it into chunks of
//! about 64 KiB and hands them through a bounded channel to the response body. A slow
//! reader makes the producer wait; a reader that goes away stops it; an export that
//! outlasts its deadline (`TANDEM_EXPORT_DEADLINE_SECS`) is cut. A body that ends
//! before the producer finished ends with an error, never as a whole-looking document.

use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::task::Poll;
use std::time::Instant;

use actix_web::{get, http::header, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tandem_domain::enrolment::{EnrolmentRole, EnrolmentStatus};
use tandem_domain::group::Role;
use tandem_domain::ids::UserId;
use tandem_domain::pairing::PairingStatus;
use tandem_domain::question::Answers;
use tandem_domain::safety::ReportStatus;
use tandem_persistence::{
    blocks, calendar_tokens, check_ins, db, enrolments, groups, messages, notifications, pairings,
    reports, users, DbConn, Page,
};
use tokio::sync::{mpsc, oneshot, Semaphore};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::error::{account_gone, ApiError, Problem};
use crate::extract::AuthUser;
use crate::routes::me::UserView;
use crate::routes::messages::MessageView;
use crate::routes::notifications::NotificationView;
use crate::state::AppState;

/// Rows read per query.
const PAGE: usize = 500;
/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the client at most: the memory an export holds is about this
/// times `CHUNK`, whatever its size.
const CHUNKS_IN_FLIGHT: usize = 4;
/// Exports running at once on this node. Each holds a reader connection and a snapshot
/// for as long as its client reads; beyond this, 503 with `Retry-After`, so exports
/// never take the whole reader pool.
const EXPORTS_AT_ONCE: usize = 2;
/// How long the producer waits for a client that reads nothing before giving up: a
/// stalled client must not hold a connection and a snapshot for ever.
const STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

static EXPORTS: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(EXPORTS_AT_ONCE)));

/// Seconds a caller whose own export is still running is told to wait.
const OWN_EXPORT_RETRY_SECS: u64 = 30;

/// The users with an export running on this node: one each, so no one user takes all
/// of `EXPORTS_AT_ONCE`.
static EXPORTING: LazyLock<Mutex<HashSet<UserId>>> = LazyLock::new(Default::default);

/// A user's one export slot, held by the producer and freed when it ends.
struct ExportSlot(UserId);

impl ExportSlot {
    fn take(user: UserId) -> Option<Self> {
        // The guard is gone before a slot exists: a refused `Self` is never built, so
        // its `Drop` never frees the running export's slot (nor waits on this lock).
        let free = EXPORTING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user);
        free.then(|| Self(user))
    }
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        EXPORTING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

/// The export document, section by section: the spec's description of the streamed
/// body, which the producer writes section by section (see `SECTIONS`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Export {
    /// `tandem-export/1`.
    format: String,
    exported_at: DateTime<Utc>,
    profile: ExportProfile,
    calendar_feed: ExportCalendarFeed,
    memberships: Vec<ExportMembership>,
    /// With the answers given.
    enrolments: Vec<ExportEnrolment>,
    pairings: Vec<ExportPairing>,
    /// The caller's own check-in entries, with their notes.
    check_ins: Vec<ExportCheckIn>,
    /// The messages the caller wrote.
    messages: Vec<MessageView>,
    /// Reports the caller made.
    reports: Vec<ExportReport>,
    /// Blocks the caller made.
    blocks: Vec<ExportBlock>,
    notifications: Vec<NotificationView>,
}

/// The names of the sections, in the order they are written.
const SECTIONS: [&str; 12] = [
    "format",
    "exported_at",
    "profile",
    "calendar_feed",
    "memberships",
    "enrolments",
    "pairings",
    "check_ins",
    "messages",
    "reports",
    "blocks",
    "notifications",
];

/// The account. Never its password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportProfile {
    #[serde(flatten)]
    pub user: UserView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether a calendar feed URL exists. Never its secret (only its hash is stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportCalendarFeed {
    pub exists: bool,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportMembership {
    pub group_id: Uuid,
    pub group_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportEnrolment {
    pub id: Uuid,
    pub program_id: Uuid,
    pub role: EnrolmentRole,
    pub status: EnrolmentStatus,
    pub capacity: u8,
    #[schema(value_type = std::collections::BTreeMap<String, tandem_domain::question::AnswerValue>)]
    pub answers: Answers,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A pairing the caller was part of: their side of it. The partner's data is theirs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportPairing {
    pub id: Uuid,
    pub program_id: Uuid,
    /// The caller's side.
    pub role: EnrolmentRole,
    pub status: PairingStatus,
    pub started_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// True when the caller ended it.
    pub ended_by_me: bool,
    /// The reason the caller gave when ending it (null otherwise).
    pub end_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportCheckIn {
    pub pairing_id: Uuid,
    #[schema(minimum = 1, maximum = 52)]
    pub number: u16,
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    pub note: Option<String>,
    pub completed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportReport {
    pub id: Uuid,
    pub group_id: Uuid,
    pub program_id: Uuid,
    pub pairing_id: Uuid,
    pub reported_user_id: Uuid,
    pub reason: String,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportBlock {
    pub group_id: Uuid,
    pub blocked_user_id: Uuid,
    pub pairing_id: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// Download everything Tandem holds about the caller.
///
/// One JSON document, streamed: profile, calendar feed (whether one exists), memberships,
/// enrolments with answers, pairings, the caller's check-in entries with notes, the
/// messages they wrote, reports and blocks they made, and their notifications. Read
/// from one consistent snapshot. Never a password hash, token or feed secret.
#[utoipa::path(
    tag = "me",
    operation_id = "export_me",
    responses(
        (status = 200, description = "The export, as an attachment", body = Export,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"tandem-export-<date>.json\"`"),
                ("Cache-Control" = String, description = "`no-store`: personal data"),
            )),
        (status = 503, description = "Too many exports running; retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = [])),
    // 429 while an export of the caller's is still running (one at a time per account).
    extensions(("x-rate-limited" = json!(true)))
)]
#[get("/me/export")]
pub async fn export_me(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    // Before the node-wide permit: a second export of the same account is refused
    // without taking one.
    let slot = ExportSlot::take(caller.0).ok_or_else(|| ApiError::TooManyRequests {
        detail: "an export of this account is already running; retry when it is done".into(),
        retry_after_secs: OWN_EXPORT_RETRY_SECS,
    })?;
    let permit = EXPORTS
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Unavailable {
            detail: "too many exports are running; retry shortly".into(),
            retry_after_secs: 5,
        })?;
    let now = state.now();
    let deadline = Instant::now() + state.export_deadline;
    let complete = Arc::new(AtomicBool::new(false));
    let (sender, mut receiver) = mpsc::channel::<Result<web::Bytes, io::Error>>(CHUNKS_IN_FLIGHT);
    // Whether the export could begin (a connection, the profile read), said before any
    // header goes out: an outage is then a 503, not a 200 with a broken body.
    let (began, beginning) = oneshot::channel::<Result<(), ApiError>>();
    let db = state.db.clone();
    let finished = Arc::clone(&complete);
    actix_web::rt::task::spawn_blocking(move || {
        let _slot = slot;
        let _permit = permit;
        let mut began = Some(began);
        let mut out = ChunkWriter {
            sender,
            buffer: Vec::with_capacity(CHUNK),
            deadline,
        };
        let written = db
            .read(|conn| {
                db::snapshot(conn, |conn| {
                    let user = users::find(conn, caller.0)?;
                    if let Some(began) = began.take() {
                        let _ = began.send(Ok(()));
                    }
                    write_export(conn, user, now, &mut out)
                })
            })
            .and_then(|()| out.flush().map_err(ExportError::Io));
        match written {
            // Before the sender (in `out`) is dropped, so the body sees it at its end.
            Ok(()) => finished.store(true, Ordering::Release),
            Err(error) => match began.take() {
                // Nothing answered yet: the request fails as any read would.
                Some(began) => {
                    let _ = began.send(Err(error.into_api()));
                }
                None => match error {
                    // The client went away: nobody to tell.
                    ExportError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                    ExportError::Io(e) if e.kind() == io::ErrorKind::TimedOut => {
                        tracing::warn!(reason = %e, "export cut");
                    }
                    other => tracing::error!(error = %other, "export failed midway"),
                },
            },
        }
    });
    match beginning.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(error),
        Err(_) => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "the export stopped before it began"
            )))
        }
    }
    // Headers are sent with the first chunk: a body cut short (deadline, stalled client,
    // failure) can only say so by failing, so it ends with an error unless the producer
    // finished, and a client never takes a cut document for a whole one.
    let mut ended = false;
    let body = futures_util::stream::poll_fn(move |cx| {
        if ended {
            return Poll::Ready(None);
        }
        match receiver.poll_recv(cx) {
            Poll::Ready(None) => {
                ended = true;
                if complete.load(Ordering::Acquire) {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(io::Error::other("the export was cut short"))))
                }
            }
            other => other,
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"tandem-export-{}.json\"",
                now.format("%Y-%m-%d")
            ),
        ))
        .streaming(body))
}

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error("storage: {0}")]
    Store(#[from] tandem_persistence::StoreError),
    #[error("writing: {0}")]
    Io(#[from] io::Error),
    #[error("serialising: {0}")]
    Json(#[from] serde_json::Error),
}

impl ExportError {
    /// The answer for an export that failed before its first byte.
    fn into_api(self) -> ApiError {
        match self {
            ExportError::Store(e) => account_gone(e.into()),
            other => ApiError::Internal(anyhow::anyhow!("export: {other}")),
        }
    }
}

impl From<tandem_persistence::DieselError> for ExportError {
    fn from(e: tandem_persistence::DieselError) -> Self {
        ExportError::Store(e.into())
    }
}

/// Gathers bytes and sends them on in chunks, waiting while the channel is full.
struct ChunkWriter {
    sender: mpsc::Sender<Result<web::Bytes, io::Error>>,
    buffer: Vec<u8>,
    /// When the whole export must be done, however fast its client reads: a client
    /// reading a chunk just within `STALL_LIMIT` each time must not hold a connection
    /// and a snapshot for ever.
    deadline: Instant,
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = web::Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        let mut pending = Ok(chunk);
        let started = Instant::now();
        loop {
            if Instant::now() >= self.deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the export passed its deadline",
                ));
            }
            match self.sender.try_send(pending) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the client went away",
                    ))
                }
                Err(mpsc::error::TrySendError::Full(back)) => {
                    if started.elapsed() > STALL_LIMIT {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the client stopped reading",
                        ));
                    }
                    pending = back;
                    // A blocking thread of its own: waiting here holds no async worker.
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
    }
}

/// Writes `{"key": value, ...}` one member at a time.
struct Document<'a> {
    out: &'a mut ChunkWriter,
    members: usize,
}

impl Document<'_> {
    fn key(&mut self, name: &str) -> Result<(), ExportError> {
        debug_assert_eq!(SECTIONS.get(self.members), Some(&name));
        self.out
            .write_all(if self.members == 0 { b"{" } else { b"," })?;
        serde_json::to_writer(&mut *self.out, name)?;
        self.out.write_all(b":")?;
        self.members += 1;
        Ok(())
    }

    fn value(&mut self, name: &str, value: &impl Serialize) -> Result<(), ExportError> {
        self.key(name)?;
        serde_json::to_writer(&mut *self.out, value)?;
        Ok(())
    }

    /// An array section read page by page: `page(after)` gives the rows after a key.
    fn pages<T, K, V: Serialize>(
        &mut self,
        name: &str,
        conn: &mut DbConn,
        mut page: impl FnMut(&mut DbConn, Option<K>) -> Result<Page<T, K>, ExportError>,
        view: impl Fn(T) -> V,
    ) -> Result<(), ExportError> {
        self.key(name)?;
        self.out.write_all(b"[")?;
        let mut first = true;
        let mut after = None;
        loop {
            let Page { items, next } = page(conn, after)?;
            for item in items {
                if !first {
                    self.out.write_all(b",")?;
                }
                first = false;
                serde_json::to_writer(&mut *self.out, &view(item))?;
            }
            match next {
                Some(key) => after = Some(key),
                None => break,
            }
        }
        self.out.write_all(b"]")?;
        Ok(())
    }

    /// An array section small enough to read at once (bounded by the programs joined).
    fn all<T, V: Serialize>(
        &mut self,
        name: &str,
        items: Vec<T>,
        view: impl Fn(T) -> V,
    ) -> Result<(), ExportError> {
        self.key(name)?;
        self.out.write_all(b"[")?;
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *self.out, &view(item))?;
        }
        self.out.write_all(b"]")?;
        Ok(())
    }

    fn close(self) -> Result<(), ExportError> {
        self.out.write_all(b"}")?;
        Ok(())
    }
}

fn write_export(
    conn: &mut DbConn,
    user: tandem_domain::user::User,
    now: DateTime<Utc>,
    out: &mut ChunkWriter,
) -> Result<(), ExportError> {
    let me = user.id;
    let mut doc = Document { out, members: 0 };
    doc.value("format", &"tandem-export/1")?;
    doc.value("exported_at", &now)?;
    doc.value(
        "profile",
        &ExportProfile {
            user: UserView::own(&user),
            created_at: user.created_at,
            updated_at: user.updated_at,
        },
    )?;
    let feed = calendar_tokens::created_at(conn, me)?;
    doc.value(
        "calendar_feed",
        &ExportCalendarFeed {
            exists: feed.is_some(),
            created_at: feed,
        },
    )?;
    doc.pages(
        "memberships",
        conn,
        |conn, after| Ok(groups::groups_of_user(conn, me, after, PAGE)?),
        |(group, membership)| ExportMembership {
            group_id: group.id.0,
            group_name: group.name,
            role: membership.role,
            joined_at: membership.joined_at,
        },
    )?;
    doc.all("enrolments", enrolments::of_user(conn, me)?, |e| {
        ExportEnrolment {
            id: e.id.0,
            program_id: e.program_id.0,
            role: e.role,
            status: e.status,
            capacity: e.capacity,
            answers: e.answers,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    })?;
    doc.all("pairings", pairings::of_user_anywhere(conn, me)?, |p| {
        let ended_by_me = p.ended_by == Some(me);
        ExportPairing {
            id: p.id.0,
            program_id: p.program_id.0,
            role: if p.mentor.user_id == me {
                EnrolmentRole::Mentor
            } else {
                EnrolmentRole::Mentee
            },
            status: p.status,
            started_on: p.started_on,
            created_at: p.created_at,
            ended_at: p.ended_at,
            ended_by_me,
            end_reason: p.end_reason.filter(|_| ended_by_me),
        }
    })?;
    doc.pages(
        "check_ins",
        conn,
        |conn, after| Ok(check_ins::of_user(conn, me, after, PAGE)?),
        |e| ExportCheckIn {
            pairing_id: e.pairing_id.0,
            number: e.number,
            rating: e.rating,
            note: e.note,
            completed_at: e.completed_at,
            updated_at: e.updated_at,
        },
    )?;
    doc.pages(
        "messages",
        conn,
        |conn, after| Ok(messages::by_author(conn, me, after, PAGE)?),
        MessageView::from,
    )?;
    doc.pages(
        "reports",
        conn,
        |conn, after| Ok(reports::made_by(conn, me, after, PAGE)?),
        |r| ExportReport {
            id: r.id.0,
            group_id: r.group_id.0,
            program_id: r.program_id.0,
            pairing_id: r.pairing_id.0,
            reported_user_id: r.reported.0,
            reason: r.reason,
            status: r.status,
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        },
    )?;
    doc.all("blocks", blocks::made_by(conn, me)?, |b| ExportBlock {
        group_id: b.group_id.0,
        blocked_user_id: b.blocked.0,
        pairing_id: b.pairing_id.0,
        reason: b.reason,
        created_at: b.created_at,
    })?;
    doc.pages(
        "notifications",
        conn,
        |conn, after| Ok(notifications::list(conn, me, false, after, PAGE)?),
        NotificationView::from,
    )?;
    doc.close()
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_me);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed sections are the ones the spec declares, in order.
    #[test]
    fn the_written_sections_are_the_declared_ones() {
        let schema =
            serde_json::to_value(<Export as utoipa::PartialSchema>::schema()).unwrap_or_default();
        let declared: Vec<&str> = schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut written = SECTIONS.to_vec();
        let mut declared_sorted = declared.clone();
        written.sort_unstable();
        declared_sorted.sort_unstable();
        assert_eq!(written, declared_sorted);
    }
}
