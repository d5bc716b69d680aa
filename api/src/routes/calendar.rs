//! The caller's calendar feed: a private iCalendar (RFC 5545) URL of their check-ins,
//! for calendar apps that subscribe to it, and the secret that opens it.
//!
//! Calendar apps cannot send a bearer token, so the feed's URL carries a secret of its
//! own: 256 random bits, stored only as a hash, one per user. Rotating it stops the old
//! URL at once.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Days, NaiveDate, Utc};
use icalendar::{Calendar, Component, Event, EventLike, Property};
use serde::Serialize;
use tandem_domain::ids::{PairingId, UserId};
use tandem_domain::template::Language;
use tandem_persistence::{calendar_tokens, pairings, users, DbConn};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::refresh;
use crate::error::{ApiError, Problem};
use crate::extract::AuthUser;
use crate::state::AppState;
use crate::workflows::journey::{self, Followed};

/// A feed secret is made like a refresh token: 32 random bytes in unpadded base64url
/// (the spec's `^[A-Za-z0-9_-]{43}$`).
const TOKEN_LENGTH: usize = 43;

/// The feed's secret and address. Shown once: only a hash of the secret is kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarToken {
    /// The secret in the feed's URL.
    #[schema(pattern = "^[A-Za-z0-9_-]{43}$", min_length = 43, max_length = 43)]
    pub token: String,
    /// The feed's absolute address, to subscribe to in a calendar app. Whoever has it
    /// can read the feed without logging in: keep it private, rotate it if it leaks.
    pub url: String,
}

/// Create or rotate the caller's calendar feed URL.
///
/// Gives the caller a new feed secret; any earlier one stops working at once. The
/// answer holds a secret, so it is never kept for an `Idempotency-Key`: a retry rotates
/// again, and the latest answer's URL is the one that works.
#[utoipa::path(
    tag = "me",
    operation_id = "rotate_calendar_token",
    responses(
        (status = 201, description = "The new secret and the feed's URL; the previous URL no longer opens the feed",
            body = CalendarToken,
            headers(("Cache-Control" = String, description = "`no-store`: the answer holds a secret"))),
    ),
    security(("bearer" = []))
)]
#[post("/me/calendar-token")]
pub async fn rotate_calendar_token(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let token = refresh::generate();
    let token_hash = refresh::hash(&token);
    let now = state.now();
    state
        .write(move |conn| {
            // Locks the user: two rotations at once run one after the other, instead of
            // both deleting nothing and colliding on the insert.
            users::lock(conn, caller.0)?;
            Ok(calendar_tokens::replace(conn, caller.0, &token_hash, now)?)
        })
        .await
        .map_err(|error| match error {
            ApiError::NotFound(_) => {
                ApiError::Unauthenticated("the account no longer exists".into())
            }
            other => other,
        })?;
    let url = state
        .public_url
        .join(&format!("/v1/me/calendar.ics?token={token}"));
    Ok(HttpResponse::Created()
        // Secrets are never cached (and so never replayed for an Idempotency-Key).
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CalendarToken { token, url }))
}

/// Read the caller's check-ins as an iCalendar feed.
///
/// For calendar apps: no bearer token, the `token` from `POST /v1/me/calendar-token` is
/// the credential. One all-day event per check-in, on its due date in the mentee's time
/// zone, titled with the week's topic and listing its prompts; for the pairings of the
/// groups the owner still belongs to (an ended pairing keeps the check-ins it reached).
/// Never any check-in notes.
#[utoipa::path(
    tag = "me",
    operation_id = "get_calendar_feed",
    params(
        ("token" = String, Query, description = "The feed's secret, as in the URL `POST /v1/me/calendar-token` answered",
            pattern = "^[A-Za-z0-9_-]{43}$", min_length = 43, max_length = 43),
    ),
    responses(
        (status = 200, description = "An iCalendar (RFC 5545) document, in UTF-8", content_type = "text/calendar",
            body = String,
            headers(
                ("Cache-Control" = String, description = "`private, no-store`: the feed is personal"),
                ("Referrer-Policy" = String, description = "`no-referrer`: the URL holds a secret"),
            ),
            example = json!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tandem//Check-in calendar//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nNAME:Tandem check-ins\r\nX-WR-CALNAME:Tandem check-ins\r\nBEGIN:VEVENT\r\nDESCRIPTION:New Parents · with Cleo\\nGoal: Talk openly about sleep\\n\\nProm\r\n pts:\\n- What are nights like at your place right now?\\n\\nOpen from 2026-12\r\n -07 to 2026-12-13.\r\nDTEND;VALUE=DATE:20261208\r\nDTSTAMP:20261201T100000Z\r\nDTSTART;VALUE=DATE:20261207\r\nSUMMARY:Check-in 2: Sleep\r\nTRANSP:TRANSPARENT\r\nUID:0193a5c2-7b1e-7c44-9a61-2f3d4e5f6a7b-check-in-2@tandem\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")),
        (status = 404, description = "No feed has this token (unknown, rotated, malformed or missing: one answer for all)",
            body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/me/calendar.ics")]
pub async fn get_calendar_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // Anything but a well-formed token is answered as an unknown one, so the answer
    // tells a prober nothing.
    let token_hash = feed_token(&req)
        .map(|token| refresh::hash(&token))
        .ok_or_else(no_such_feed)?;
    let check_ins = state
        .read(move |conn| {
            let owner = calendar_tokens::owner(conn, &token_hash)?.ok_or_else(no_such_feed)?;
            check_ins_of(conn, owner)
        })
        .await?;
    let feed = render(&check_ins, state.now());
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        // The feed is one person's and its URL is a credential: no shared cache keeps
        // it, and no page linked from a calendar app learns the URL.
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(feed))
}

fn no_such_feed() -> ApiError {
    ApiError::NotFound("no calendar feed has this token".into())
}

/// The `token` query parameter when it has a token's shape. Other parameters are
/// ignored: some calendar apps add their own.
fn feed_token(req: &HttpRequest) -> Option<String> {
    let token = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())?;
    let well_formed = token.len() == TOKEN_LENGTH
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(token)
}

/// One check-in as the feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FeedCheckIn {
    pairing_id: PairingId,
    number: u16,
    due_on: NaiveDate,
    closes_on: NaiveDate,
    language: Language,
    program_name: String,
    partner_name: Option<String>,
    title: String,
    goal: String,
    prompts: Vec<String>,
}

/// The check-ins the owner's feed lists: those their pairings reached, in the groups
/// they still belong to, soonest first.
fn check_ins_of(conn: &mut DbConn, owner: UserId) -> Result<Vec<FeedCheckIn>, ApiError> {
    let list = pairings::all_for_user(conn, owner)?;
    let partners: Vec<UserId> = list.iter().filter_map(|p| p.partner_of(owner)).collect();
    let names = users::display_names(conn, &partners)?;
    let mut out = Vec::new();
    for Followed { journey, program } in journey::load(conn, list)? {
        let partner_name = journey
            .pairing
            .partner_of(owner)
            .and_then(|partner| names.get(&partner).cloned());
        for slot in journey.reached() {
            let Some(week) = journey.topic(&program, slot) else {
                continue;
            };
            out.push(FeedCheckIn {
                pairing_id: journey.pairing.id,
                number: slot.number,
                due_on: slot.due_on,
                closes_on: slot.closes_on,
                language: program.language,
                program_name: program.settings.name.clone(),
                partner_name: partner_name.clone(),
                title: week.title.clone(),
                goal: week.goal.clone(),
                prompts: week.prompts.clone(),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.due_on, a.pairing_id.0, a.number).cmp(&(b.due_on, b.pairing_id.0, b.number))
    });
    Ok(out)
}

/// The feed as iCalendar text. `now` stamps the events (`DTSTAMP`: when this copy of
/// them was made), from the server's clock rather than the writer's own.
fn render(check_ins: &[FeedCheckIn], now: DateTime<Utc>) -> String {
    let mut calendar = Calendar::empty();
    for (name, value) in [
        ("VERSION", "2.0"),
        ("PRODID", "-//Tandem//Check-in calendar//EN"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
    ] {
        calendar.append_property(Property::new(name, value));
    }
    calendar.name("Tandem check-ins");
    calendar.description("The check-ins of your Tandem mentorship pairings");
    // Calendar apps poll at their own pace; this asks for about hourly.
    calendar.ttl(&chrono::Duration::hours(1));
    for check_in in check_ins {
        calendar.push(event(check_in, now));
    }
    calendar.done().to_string()
}

fn event(check_in: &FeedCheckIn, now: DateTime<Utc>) -> Event {
    let words = Words::of(check_in.language);
    let mut event = Event::new();
    // From the pairing and the number only: the same event whatever the token, the
    // request or the partner whose feed it is in.
    event.uid(&format!(
        "{}-check-in-{}@tandem",
        check_in.pairing_id.0, check_in.number
    ));
    event.timestamp(now);
    // An all-day event ends, exclusively, on the next day (RFC 5545 §3.6.1).
    event.starts(check_in.due_on);
    event.ends(
        check_in
            .due_on
            .checked_add_days(Days::new(1))
            .unwrap_or(check_in.due_on),
    );
    event.summary(&format!(
        "{} {}: {}",
        words.check_in, check_in.number, check_in.title
    ));
    event.description(&description(check_in, &words));
    // A reminder, not a meeting: it does not make the day look busy.
    event.add_property("TRANSP", "TRANSPARENT");
    event.done()
}

fn description(check_in: &FeedCheckIn, words: &Words) -> String {
    let mut text = match &check_in.partner_name {
        Some(partner) => format!("{} · {} {partner}\n", check_in.program_name, words.with),
        None => format!("{}\n", check_in.program_name),
    };
    text.push_str(&format!("{}: {}\n", words.goal, check_in.goal));
    if !check_in.prompts.is_empty() {
        text.push_str(&format!("\n{}:\n", words.prompts));
        for prompt in &check_in.prompts {
            text.push_str(&format!("- {prompt}\n"));
        }
    }
    text.push_str(&format!(
        "\n{} {} {} {}.",
        words.open_from, check_in.due_on, words.until, check_in.closes_on
    ));
    text
}

/// The feed's own words, in the program's language like its guide.
struct Words {
    check_in: &'static str,
    with: &'static str,
    goal: &'static str,
    prompts: &'static str,
    open_from: &'static str,
    until: &'static str,
}

impl Words {
    fn of(language: Language) -> Self {
        match language {
            Language::En => Self {
                check_in: "Check-in",
                with: "with",
                goal: "Goal",
                prompts: "Prompts",
                open_from: "Open from",
                until: "to",
            },
            Language::It => Self {
                check_in: "Check-in",
                with: "con",
                goal: "Obiettivo",
                prompts: "Spunti",
                open_from: "Aperto dal",
                until: "al",
            },
        }
    }
}

/// Registers this module's operations (paths and spec together).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(rotate_calendar_token)
        .service(get_calendar_feed);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_in() -> FeedCheckIn {
        FeedCheckIn {
            pairing_id: PairingId(uuid::Uuid::nil()),
            number: 3,
            due_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
            closes_on: NaiveDate::from_ymd_opt(2027, 1, 6).unwrap_or_default(),
            language: Language::En,
            program_name: "Parents; first year".into(),
            partner_name: Some("Cleo".into()),
            title: "Sleep, and how little".into(),
            goal: "Share what works".into(),
            prompts: vec!["What helped this week?".into()],
        }
    }

    #[test]
    fn an_all_day_event_ends_the_next_day_and_is_stamped_with_the_given_time() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let text = render(&[check_in()], now);
        for line in [
            "BEGIN:VCALENDAR\r\n",
            "PRODID:-//Tandem//Check-in calendar//EN\r\n",
            "DTSTART;VALUE=DATE:20261231\r\n",
            "DTEND;VALUE=DATE:20270101\r\n",
            "DTSTAMP:20261201T100000Z\r\n",
            "UID:00000000-0000-0000-0000-000000000000-check-in-3@tandem\r\n",
            // TEXT values escape commas and semicolons.
            "SUMMARY:Check-in 3: Sleep\\, and how little\r\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
        assert!(!text.contains("ICALENDAR-RS"), "the writer's own PRODID");
    }

    #[test]
    fn the_description_names_program_partner_goal_prompts_and_window() {
        let text = description(&check_in(), &Words::of(Language::En));
        assert_eq!(
            text,
            "Parents; first year · with Cleo\nGoal: Share what works\n\nPrompts:\n- What helped this week?\n\nOpen from 2026-12-31 to 2027-01-06."
        );
    }

    #[test]
    fn only_a_token_shaped_parameter_is_read() {
        let request = |query: &str| {
            actix_web::test::TestRequest::get()
                .uri(&format!("/v1/me/calendar.ics{query}"))
                .to_http_request()
        };
        let token = "A".repeat(43);
        assert_eq!(
            feed_token(&request(&format!("?x=1&token={token}"))),
            Some(token.clone())
        );
        for query in [
            "",
            "?token=",
            "?token=short",
            &format!("?token={token}A"),
            &format!("?token={}%2B", "A".repeat(42)),
        ] {
            assert_eq!(feed_token(&request(query)), None, "{query}");
        }
    }
}
