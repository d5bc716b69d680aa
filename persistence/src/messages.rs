//! The messages of pair spaces.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tandem_domain::ids::{MessageId, PairingId};
use tandem_domain::message::Message;

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time};
use crate::page::load_page;
use crate::schema::messages;
use crate::{DbConn, Page, StoreError};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
struct Row {
    id: String,
    pairing_id: String,
    author_id: String,
    week: Option<i32>,
    body: String,
    created_at: NaiveDateTime,
}

impl TryFrom<Row> for Message {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(Message {
            id: parse_id(&row.id, "message")?,
            pairing_id: parse_id(&row.pairing_id, "pairing")?,
            author_id: parse_id(&row.author_id, "user")?,
            week: row
                .week
                .map(|w| u16::try_from(w).map_err(|_| corrupt("message week")))
                .transpose()?,
            body: row.body,
            created_at: from_db_time(row.created_at),
        })
    }
}

impl From<&Message> for Row {
    fn from(message: &Message) -> Self {
        Self {
            id: message.id.to_string(),
            pairing_id: message.pairing_id.to_string(),
            author_id: message.author_id.to_string(),
            week: message.week.map(i32::from),
            body: message.body.clone(),
            created_at: to_db_time(message.created_at),
        }
    }
}

pub fn insert(conn: &mut DbConn, message: &Message) -> Result<(), StoreError> {
    diesel::insert_into(messages::table)
        .values(Row::from(message))
        .execute(conn)?;
    Ok(())
}

/// A pairing's messages, newest first (ids are UUIDv7, so id order is time order),
/// optionally only those about one guide week.
pub fn list(
    conn: &mut DbConn,
    pairing: PairingId,
    week: Option<u16>,
    after: Option<MessageId>,
    limit: usize,
) -> Result<Page<Message, MessageId>, StoreError> {
    let mut query = messages::table
        .filter(messages::pairing_id.eq(pairing.to_string()))
        .select(Row::as_select())
        .order(messages::id.desc())
        .into_boxed();
    if let Some(week) = week {
        query = query.filter(messages::week.eq(i32::from(week)));
    }
    if let Some(after) = after {
        query = query.filter(messages::id.lt(after.to_string()));
    }
    load_page(conn, query, limit, Message::try_from, |m| m.id)
}

/// The messages a user wrote, in any pairing, oldest first after `after`: one page of
/// the user's export.
pub fn by_author(
    conn: &mut DbConn,
    author: tandem_domain::ids::UserId,
    after: Option<MessageId>,
    limit: usize,
) -> Result<Page<Message, MessageId>, StoreError> {
    let mut query = messages::table
        .filter(messages::author_id.eq(author.to_string()))
        .select(Row::as_select())
        .order(messages::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(messages::id.gt(after.to_string()));
    }
    load_page(conn, query, limit, Message::try_from, |m| m.id)
}
