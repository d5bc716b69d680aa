//! Forgetting what a deleting account wrote or holds, in the deletion's transaction.
//!
//! What others hold stays (reports about the member, the partner's own entries and
//! messages); what counts for admins stays anonymised (pairings, enrolments, ratings).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tandem_domain::ids::{PairingId, UserId};
use tandem_domain::notification::REASON_FORGOTTEN;
use tandem_domain::template::Language;

use crate::convert::{parse_id, to_db_time};
use crate::schema::{
    blocks, calendar_tokens, check_in_entries, enrolments, idempotency_keys, messages,
    notifications, pairings, programs, refresh_tokens, reports,
};
use crate::{notifications as feed, DbConn, StoreError};

/// Deletes and blanks the member's own data: messages, notes, answers, reports and
/// blocks they made, their notifications, sessions, calendar feed and stored answers to
/// keyed requests. Pairings and enrolments stay for the counts, without the member's text.
pub fn forget_own_data(
    conn: &mut DbConn,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let user = user_id.to_string();
    diesel::delete(messages::table.filter(messages::author_id.eq(&user))).execute(conn)?;
    // Ratings and dates stay (insights count them); the note was the member's words.
    diesel::update(check_in_entries::table.filter(check_in_entries::user_id.eq(&user)))
        .set((
            check_in_entries::note.eq(None::<String>),
            check_in_entries::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    diesel::update(enrolments::table.filter(enrolments::user_id.eq(&user)))
        .set((
            enrolments::answers.eq("{}"),
            enrolments::version.eq(enrolments::version + 1),
            enrolments::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    diesel::delete(reports::table.filter(reports::reporter_user_id.eq(&user))).execute(conn)?;
    diesel::delete(blocks::table.filter(blocks::blocker_user_id.eq(&user))).execute(conn)?;
    diesel::delete(notifications::table.filter(notifications::user_id.eq(&user))).execute(conn)?;
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::user_id.eq(&user)))
        .execute(conn)?;
    diesel::delete(calendar_tokens::table.filter(calendar_tokens::user_id.eq(&user)))
        .execute(conn)?;
    // Answers kept for retried requests may hold what the member wrote.
    diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::scope.eq(format!("user:{user}"))),
    )
    .execute(conn)?;
    Ok(())
}

/// Every pairing the member was part of, in any group, with its program's language.
pub fn pairings_of(
    conn: &mut DbConn,
    user_id: UserId,
) -> Result<Vec<(PairingId, UserId, Language)>, StoreError> {
    let user = user_id.to_string();
    pairings::table
        .inner_join(programs::table)
        .filter(
            pairings::mentor_user_id
                .eq(&user)
                .or(pairings::mentee_user_id.eq(&user)),
        )
        .select((
            pairings::id,
            pairings::mentor_user_id,
            pairings::mentee_user_id,
            programs::language,
        ))
        .load::<(String, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, mentor, mentee, language)| {
            let partner = if mentor == user { mentee } else { mentor };
            let language = Language::from_code(&language)
                .ok_or_else(|| StoreError::Corrupt("program language".into()))?;
            Ok((
                parse_id(&id, "pairing")?,
                parse_id(&partner, "user")?,
                language,
            ))
        })
        .collect()
}

/// Replaces what the member's pairings say about them: the introduction (it named them
/// and their answers) and a reason they wrote when ending one.
pub fn anonymise_pairing(
    conn: &mut DbConn,
    pairing_id: PairingId,
    user_id: UserId,
    introduction: &str,
) -> Result<(), StoreError> {
    let id = pairing_id.to_string();
    diesel::update(pairings::table.find(&id))
        .set(pairings::introduction.eq(introduction))
        .execute(conn)?;
    diesel::update(
        pairings::table
            .find(&id)
            .filter(pairings::ended_by.eq(user_id.to_string()))
            .filter(pairings::end_reason.is_not_null()),
    )
    .set(pairings::end_reason.eq(Some(REASON_FORGOTTEN)))
    .execute(conn)?;
    Ok(())
}

/// Rewrites the partners' notifications about the member's pairings so they no longer
/// carry the member's name or words (see `NotificationPayload::forget_partner`). Takes
/// each pairing with its partner.
pub fn forget_in_partners_feeds(
    conn: &mut DbConn,
    pairings: &[(PairingId, UserId)],
) -> Result<(), StoreError> {
    let ids: HashSet<PairingId> = pairings.iter().map(|(id, _)| *id).collect();
    for (pairing_id, partner) in pairings {
        for mut notification in feed::mentioning_pairing(conn, *partner, *pairing_id)? {
            if notification.payload.forget_partner(&ids) {
                feed::rewrite(conn, &notification)?;
            }
        }
    }
    Ok(())
}
