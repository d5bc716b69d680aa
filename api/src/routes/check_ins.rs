//! Check-ins: a pairing's schedule with each partner's entry, and a member's agenda
//! across pairings. Notes are the two partners' alone: admins see dates, states and
//! ratings.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{get, put, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tandem_domain::check_in::{agenda_key, CheckInState, Entry, EntryInput, Journey};
use tandem_domain::enrolment::EnrolmentRole;
use tandem_domain::ids::{PairingId, UserId};
use tandem_domain::schedule::Slot;
use tandem_domain::template::GuideWeek;
use tandem_persistence::{check_ins, pairings, users, DbConn};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::etag::{self, IfMatch, IfNoneMatch};
use crate::extract::{AuthUser, Bearer, Json, Query};
use crate::list_response;
use crate::pagination::{encode_cursor, PageParams};
use crate::routes::pairings::{visible_in_context_to, visible_pairing};
use crate::state::AppState;
use crate::workflows::journey::{self, Followed};

/// One partner's entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInEntryView {
    pub user_id: Uuid,
    /// 1–5: how the partner felt it went.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    /// The partner's private note; only the two partners receive this field (null when
    /// they wrote none). Admins never do.
    #[serde(skip_serializing_if = "Hidden::is_hidden")]
    #[schema(value_type = Option<String>)]
    pub note: Hidden,
    #[serde(serialize_with = "crate::json_time::instant")]
    pub completed_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::instant")]
    pub updated_at: DateTime<Utc>,
}

/// A note as the viewer may see it: withheld entirely from admins.
#[derive(Debug)]
pub enum Hidden {
    Shown(Option<String>),
    Withheld,
}

impl Hidden {
    fn is_hidden(&self) -> bool {
        matches!(self, Hidden::Withheld)
    }
}

impl Serialize for Hidden {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Hidden::Shown(note) => note.serialize(serializer),
            Hidden::Withheld => serializer.serialize_none(),
        }
    }
}

/// One check-in of a pairing's schedule.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "number": 2,
    "due_on": "2027-03-08",
    "closes_on": "2027-03-14",
    "state": "completed",
    "topic": {
        "number": 2,
        "title": "Days and nights",
        "goal": "Talk openly about sleep, your child's and your own, without comparing.",
        "prompts": [
            "What are nights like at your place right now?",
            "What has helped you rest, even a little: taking turns, naps, a hand from someone?"
        ]
    },
    "entries": [{
        "user_id": "0193f1d2-6c1e-7a41-9d4b-2f0a8e5c3b71",
        "rating": 4,
        "note": "We tried taking turns at night. Better!",
        "completed_at": "2027-03-09T20:14:03.512Z",
        "updated_at": "2027-03-09T20:14:03.512Z"
    }]
}))]
pub struct CheckInView {
    /// 1-based; check-in `n` is about week `n` of the guide.
    #[schema(minimum = 1, maximum = 52)]
    pub number: u16,
    /// The day it becomes due, in the mentee's time zone.
    #[serde(serialize_with = "crate::json_time::date")]
    pub due_on: NaiveDate,
    /// The last day it can be completed (the day before the next one is due).
    #[serde(serialize_with = "crate::json_time::date")]
    pub closes_on: NaiveDate,
    pub state: CheckInState,
    /// The guide week it is about.
    pub topic: GuideWeek,
    /// Each partner's entry, oldest first; empty until someone checks in.
    pub entries: Vec<CheckInEntryView>,
}

/// A pairing's check-ins, first to last: every one of them (a schedule has at most 52).
#[derive(Debug, Serialize, ToSchema)]
pub struct PairingCheckIns {
    pub pairing_id: Uuid,
    pub items: Vec<CheckInView>,
}

/// The other side of a pairing, for the agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaPartner {
    pub user_id: Uuid,
    pub display_name: String,
}

/// One of the caller's check-ins, with the pairing it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCheckInView {
    pub pairing_id: Uuid,
    pub program_id: Uuid,
    pub program_name: String,
    /// The caller's side in the pairing.
    pub my_role: EnrolmentRole,
    pub partner: AgendaPartner,
    #[serde(flatten)]
    pub check_in: CheckInView,
}

list_response!(
    MyCheckInList,
    MyCheckInView,
    "A page of the caller's check-ins: due ones first (soonest to close first), then upcoming ones (soonest first), then past ones (latest first)."
);

/// A check-in entry: a rating and an optional private note.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    /// 1–5: how it went. A whole number (`4.0` is 4, as in JSON Schema).
    #[schema(value_type = i64, minimum = 1, maximum = 5)]
    pub rating: serde_json::Number,
    /// At most 4,000 characters, read by the two partners only; blank or null is no note.
    #[schema(schema_with = crate::openapi::fields::many_lines_or_null::<0, { tandem_domain::check_in::MAX_NOTE }>)]
    pub note: Option<String>,
}

/// The entries of one pairing by check-in number.
type EntriesByNumber = HashMap<u16, Vec<Entry>>;

fn by_number(entries: Vec<Entry>) -> HashMap<PairingId, EntriesByNumber> {
    let mut out: HashMap<PairingId, EntriesByNumber> = HashMap::new();
    for entry in entries {
        out.entry(entry.pairing_id)
            .or_default()
            .entry(entry.number)
            .or_default()
            .push(entry);
    }
    out
}

/// A check-in as `viewer` sees it: partners read notes, admins do not.
fn view(
    journey: &Journey,
    guide: &[GuideWeek],
    slot: &Slot,
    entries: &[Entry],
    viewer: UserId,
    now: DateTime<Utc>,
) -> CheckInView {
    let partner = journey.may_read_notes(viewer);
    let topic = Journey::topic_in(guide, slot)
        .cloned()
        .unwrap_or_else(|| GuideWeek {
            number: slot.number,
            title: String::new(),
            goal: String::new(),
            prompts: Vec::new(),
        });
    CheckInView {
        number: slot.number,
        due_on: slot.due_on,
        closes_on: slot.closes_on,
        state: journey.state_of(slot, !entries.is_empty(), now),
        topic,
        entries: entries
            .iter()
            .map(|entry| CheckInEntryView {
                user_id: entry.user_id.0,
                rating: entry.rating,
                note: if partner {
                    Hidden::Shown(entry.note.clone())
                } else {
                    Hidden::Withheld
                },
                completed_at: entry.completed_at,
                updated_at: entry.updated_at,
            })
            .collect(),
    }
}

/// One check-in as `viewer` sees it, with its ETag: the sum of its entries' versions and
/// a digest of this view, which holds both partners' entries, the state the clock
/// derives and (for partners only) the notes.
fn tagged_check_in(
    conn: &mut DbConn,
    followed: &Followed,
    slot: &Slot,
    viewer: UserId,
    now: DateTime<Utc>,
) -> Result<(String, CheckInView), ApiError> {
    let pairing_id = followed.journey.pairing.id;
    let entries = by_number(check_ins::for_pairings(conn, &[pairing_id])?)
        .remove(&pairing_id)
        .and_then(|mut numbers| numbers.remove(&slot.number))
        .unwrap_or_default();
    let version = check_ins::version(conn, pairing_id, slot.number)?;
    let view = view(
        &followed.journey,
        followed.program.guide(),
        slot,
        &entries,
        viewer,
        now,
    );
    Ok((etag::of_view(version, &view), view))
}

/// Every check-in a pairing reached, as `viewer` sees them.
fn pairing_check_ins(
    conn: &mut DbConn,
    journey: &Journey,
    guide: &[GuideWeek],
    viewer: UserId,
    now: DateTime<Utc>,
) -> Result<PairingCheckIns, ApiError> {
    let pairing_id = journey.pairing.id;
    let mut entries = by_number(check_ins::of_pairing(conn, pairing_id)?)
        .remove(&pairing_id)
        .unwrap_or_default();
    let items = journey
        .reached()
        .map(|slot| {
            let mine = entries.remove(&slot.number).unwrap_or_default();
            view(journey, guide, slot, &mine, viewer, now)
        })
        .collect();
    Ok(PairingCheckIns {
        pairing_id: pairing_id.0,
        items,
    })
}

/// List a pairing's check-ins.
#[utoipa::path(
    tag = "check-ins",
    operation_id = "list_pairing_check_ins",
    params(("pairing_id" = Uuid, Path, description = "The pairing")),
    responses(
        (status = 200, description = "The check-ins the pairing reached, first to last (an ended pairing keeps those whose day had come). Partners see notes; admins see dates, states and ratings only", body = PairingCheckIns),
        (status = 404, description = "No such pairing, the caller is not in its group (a partner who left or was removed included), or neither a partner nor an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[get("/check-ins")]
pub async fn list_pairing_check_ins(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = PairingId(path.into_inner());
    let now = state.now();
    let guides = state.db.guides().clone();
    let list = state
        .read_hot(move |conn| {
            tandem_persistence::db::under_one_read_lock(conn, |conn| {
                let (caller, found) = visible_in_context_to(conn, id, bearer)?;
                let zone = found.mentee.time_zone;
                let (pairing, _, program, guide) = found.guided(conn, &guides)?;
                let journey = Journey::following(pairing, &program, zone);
                pairing_check_ins(conn, &journey, &guide, caller.0, now)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read one check-in of a pairing.
#[utoipa::path(
    tag = "check-ins",
    operation_id = "get_check_in",
    params(
        ("pairing_id" = Uuid, Path, description = "The pairing"),
        ("number" = u16, Path, minimum = 1, maximum = 52, description = "The check-in's number"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds; 304 when one is current"),
    ),
    responses(
        (status = 200, description = "The check-in with both partners' entries (notes for the partners only), as in the pairing's list", body = CheckInView,
            headers(("ETag" = String, description = "Changes with either partner's entry and with the state the clock derives; per viewer"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 404, description = "No such pairing or check-in number (one after an early end included), or the pairing is not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed If-None-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[get("/check-ins/{number}")]
pub async fn get_check_in(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(Uuid, u16)>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let id = PairingId(id);
    let now = state.now();
    let (tag, view) = state
        .read(move |conn| {
            tandem_persistence::db::under_one_read_lock(conn, |conn| {
                let (pairing, _) = visible_pairing(conn, id, caller.0)?;
                let followed = journey::load(conn, vec![pairing])?
                    .pop()
                    .ok_or_else(|| ApiError::not_found("pairing"))?;
                let slot = *followed
                    .journey
                    .reached()
                    .find(|slot| slot.number == number)
                    .ok_or_else(|| ApiError::not_found("check-in"))?;
                tagged_check_in(conn, &followed, &slot, caller.0, now)
            })
        })
        .await?;
    Ok(etag::respond(StatusCode::OK, tag, &view, &if_none_match))
}

/// Check in: record or change the caller's entry.
#[utoipa::path(
    tag = "check-ins",
    operation_id = "record_check_in",
    params(
        ("pairing_id" = Uuid, Path, description = "The pairing"),
        ("number" = u16, Path, minimum = 1, maximum = 52, description = "The check-in's number"),
        ("If-Match" = Option<String>, Header, description = "The check-in's ETag last seen; 412 if it changed since"),
    ),
    request_body = CheckInRequest,
    responses(
        (status = 200, description = "The check-in with the caller's entry; a partner may change their own entry while the window is open", body = CheckInView,
            headers(("ETag" = String, description = "The check-in's new ETag"))),
        (status = 403, description = "The caller is an admin, not one of the partners", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pairing or check-in number, or the pairing is not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Outside the check-in's window (before its due date or after it closed, the detail says which), the pairing ended, or the program is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid rating or note, or a malformed If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
// Inside `app::PAIRING_SCOPE` (`/pairings/{pairing_id}`).
#[put("/check-ins/{number}")]
pub async fn record_check_in(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<(Uuid, u16)>,
    if_match: IfMatch,
    body: Json<CheckInRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let id = PairingId(id);
    // Anything but a whole number reads as 0, which the domain refuses naming `rating`.
    let rating = body.0.rating.as_i64().unwrap_or_else(|| {
        body.0
            .rating
            .as_f64()
            .filter(|r| r.fract() == 0.0 && r.abs() <= 1e9)
            .map_or(0, |r| r as i64)
    });
    let input = EntryInput::parse(rating, body.0.note.as_deref())
        .map_err(tandem_domain::DomainError::Invalid)?;
    let now = state.now();
    let guides = state.db.guides().clone();
    let tagged = state
        .write(move |conn| {
            // One writer per pairing at a time, and everything read under its lock: a
            // partner's two requests cannot both insert, and an end committed meanwhile
            // is seen. An unknown id is the same 404 as an invisible one, once the
            // account is known to exist (a deleted account's token is 401 everywhere).
            if let Err(missing) = pairings::lock(conn, id) {
                bearer.check(conn)?;
                return Err(crate::error::not_found_as("pairing")(missing));
            }
            // The account is checked by the same query that reads the pairing.
            let (caller, found) = visible_in_context_to(conn, id, bearer)?;
            let zone = found.mentee.time_zone;
            let (pairing, _, program, guide) = found.guided(conn, &guides)?;
            let journey = Journey::following(pairing, &program, zone);
            let slot = *journey
                .schedule
                .slot(number)
                .ok_or_else(|| ApiError::not_found("check-in"))?;
            if !journey.pairing.involves(caller.0) {
                return Err(ApiError::Forbidden(
                    "only the pair's two partners check in".into(),
                ));
            }
            // Under the pairing's lock, which every write of its entries holds. One query
            // gives the entries, the caller's earlier one among them, and the version.
            let (entries, version) = check_ins::of_check_in(conn, id, number)?;
            if if_match.is_conditional() {
                let current = view(&journey, &guide, &slot, &entries, caller.0, now);
                if_match.check_tag(&etag::of_view(version, &current))?;
            }
            journey.check_can_record_in(program.status, &slot, now)?;
            let earlier = entries.iter().find(|e| e.user_id == caller.0);
            let entry = Entry {
                pairing_id: id,
                number,
                user_id: caller.0,
                rating: input.rating,
                note: input.note,
                completed_at: earlier.map_or(now, |e| e.completed_at),
                updated_at: now,
            };
            let (entries, version) = check_ins::save_into(conn, entry, (entries, version))?;
            let saved = view(&journey, &guide, &slot, &entries, caller.0, now);
            etag::Tagged::new(version, &saved)
        })
        .await?;
    Ok(tagged.into_response(StatusCode::OK))
}

/// Where the agenda continues: the last item's place in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct AgendaCursor {
    rank: u8,
    at: i64,
    pairing: Uuid,
    number: u16,
}

impl fmt::Display for AgendaCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.rank, self.at, self.pairing, self.number
        )
    }
}

impl FromStr for AgendaCursor {
    type Err = ();
    fn from_str(raw: &str) -> Result<Self, ()> {
        let mut parts = raw.splitn(4, ':');
        let mut next = || parts.next().ok_or(());
        Ok(Self {
            rank: next()?.parse().map_err(|_| ())?,
            at: next()?.parse().map_err(|_| ())?,
            pairing: next()?.parse().map_err(|_| ())?,
            number: next()?.parse().map_err(|_| ())?,
        })
    }
}

/// List the caller's check-ins across pairings.
#[utoipa::path(
    tag = "check-ins",
    operation_id = "list_my_check_ins",
    params(PageParams),
    responses(
        (status = 200, description = "The caller's check-ins in the groups the caller belongs to: due first (soonest to close first), then upcoming (soonest first), then past (latest first)", body = MyCheckInList),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/check-ins")]
pub async fn list_my_check_ins(
    state: web::Data<AppState>,
    caller: AuthUser,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = page.0.parse::<AgendaCursor>()?;
    let now = state.now();
    let me = caller.0;
    let list = state
        .read(move |conn| {
            // A member has a pairing or two per program: the whole agenda is derived,
            // ordered, and then cut at the cursor.
            let mine = pairings::all_for_user(conn, me)?;
            let ids: Vec<PairingId> = mine.iter().map(|p| p.id).collect();
            let partners: Vec<UserId> = mine.iter().filter_map(|p| p.partner_of(me)).collect();
            let names = users::display_names(conn, &partners)?;
            let mut entries = by_number(check_ins::for_pairings(conn, &ids)?);
            let mut agenda = Vec::new();
            for followed in journey::load(conn, mine)? {
                let pairing = &followed.journey.pairing;
                let Some(partner) = pairing.partner_of(me) else {
                    continue;
                };
                let my_role = if pairing.mentor.user_id == me {
                    EnrolmentRole::Mentor
                } else {
                    EnrolmentRole::Mentee
                };
                let mut own = entries.remove(&pairing.id).unwrap_or_default();
                for slot in followed.journey.reached() {
                    let slot_entries = own.remove(&slot.number).unwrap_or_default();
                    let check_in = view(
                        &followed.journey,
                        followed.program.guide(),
                        slot,
                        &slot_entries,
                        me,
                        now,
                    );
                    let (rank, at) = agenda_key(check_in.state, slot);
                    let key = AgendaCursor {
                        rank,
                        at,
                        pairing: pairing.id.0,
                        number: slot.number,
                    };
                    if page.after.is_some_and(|after| key <= after) {
                        continue;
                    }
                    agenda.push((
                        key,
                        MyCheckInView {
                            pairing_id: pairing.id.0,
                            program_id: followed.program.id.0,
                            program_name: followed.program.settings.name.clone(),
                            my_role,
                            partner: AgendaPartner {
                                user_id: partner.0,
                                display_name: names.get(&partner).cloned().unwrap_or_default(),
                            },
                            check_in,
                        },
                    ));
                }
            }
            agenda.sort_by_key(|(key, _)| *key);
            let more = agenda.len() > page.limit;
            agenda.truncate(page.limit);
            let next_cursor = if more {
                agenda.last().map(|(key, _)| encode_cursor(key))
            } else {
                None
            };
            Ok::<_, ApiError>(MyCheckInList {
                items: agenda.into_iter().map(|(_, item)| item).collect(),
                next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_my_check_ins);
}

/// The routes under one pairing (`app::PAIRING_SCOPE`).
pub fn configure_pairing(cfg: &mut ServiceConfig) {
    cfg.service(list_pairing_check_ins)
        .service(get_check_in)
        .service(record_check_in);
}
