//! Partners' check-in entries. The schedule they belong to is derived, not stored.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
use tandem_domain::check_in::Entry;
use tandem_domain::ids::{PairingId, UserId};

use crate::convert::{corrupt, from_db_time, parse_id, to_db_time, StoredTime};
use crate::db::on_engine;
use crate::schema::check_in_entries;
use crate::{DbConn, StoreError};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = check_in_entries)]
struct Row {
    pairing_id: String,
    #[diesel(embed)]
    entry: EntryOf,
}

impl TryFrom<Row> for Entry {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        row.entry.of(parse_id(&row.pairing_id, "pairing")?)
    }
}

/// An entry's columns other than its pairing: read alone where the pairing is known
/// (the key's first column is not read back), embedded in a `Row` elsewhere.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = check_in_entries)]
struct EntryOf {
    number: i32,
    user_id: String,
    rating: i32,
    note: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    completed_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    updated_at: NaiveDateTime,
}

impl EntryOf {
    fn of(self, pairing_id: PairingId) -> Result<Entry, StoreError> {
        Ok(Entry {
            pairing_id,
            number: u16::try_from(self.number).map_err(|_| corrupt("check-in number"))?,
            user_id: parse_id(&self.user_id, "user")?,
            rating: u8::try_from(self.rating).map_err(|_| corrupt("check-in rating"))?,
            note: self.note,
            completed_at: from_db_time(self.completed_at),
            updated_at: from_db_time(self.updated_at),
        })
    }
}

impl From<&Entry> for Row {
    fn from(entry: &Entry) -> Self {
        Self {
            pairing_id: entry.pairing_id.to_string(),
            entry: EntryOf {
                number: i32::from(entry.number),
                user_id: entry.user_id.to_string(),
                rating: i32::from(entry.rating),
                note: entry.note.clone(),
                completed_at: to_db_time(entry.completed_at),
                updated_at: to_db_time(entry.updated_at),
            },
        }
    }
}

/// The entries of some pairings, by pairing, check-in and user.
pub fn for_pairings(conn: &mut DbConn, pairings: &[PairingId]) -> Result<Vec<Entry>, StoreError> {
    let ids: Vec<String> = pairings.iter().map(ToString::to_string).collect();
    check_in_entries::table
        .filter(check_in_entries::pairing_id.eq_any(ids))
        .select(Row::as_select())
        .order((
            check_in_entries::pairing_id,
            check_in_entries::number,
            check_in_entries::completed_at,
            check_in_entries::user_id,
        ))
        .load::<Row>(conn)?
        .into_iter()
        .map(Entry::try_from)
        .collect()
}

/// One pairing's entries, as `for_pairings` orders them. A fixed statement (no `IN`
/// list), so SQLite keeps it prepared. Read in the key's order, which the key's index
/// (SQLite: the clustered table) gives without a sort; a check-in's entries (two at
/// most) are put in time order here. Sorting the rows in the statement instead was a
/// temporary B-tree per check-in.
pub fn of_pairing(conn: &mut DbConn, pairing: PairingId) -> Result<Vec<Entry>, StoreError> {
    let rows = on_engine!(conn, c => check_in_entries::table
        .filter(check_in_entries::pairing_id.eq(pairing.to_string()))
        .select(EntryOf::as_select())
        .order((check_in_entries::number, check_in_entries::user_id))
        .load::<EntryOf>(c))?;
    let mut entries = rows
        .into_iter()
        .map(|row| row.of(pairing))
        .collect::<Result<Vec<_>, _>>()?;
    // `for_pairings`' order: the timestamps compare as stored, the ids' hyphenated
    // lower-case text as their bytes.
    entries.sort_by_key(|e| (e.number, e.completed_at, e.user_id.0));
    Ok(entries)
}

/// The numbers of a pairing's check-ins that have at least one entry.
pub fn completed_numbers(
    conn: &mut DbConn,
    pairing: PairingId,
) -> Result<BTreeSet<u16>, StoreError> {
    check_in_entries::table
        .filter(check_in_entries::pairing_id.eq(pairing.to_string()))
        .select(check_in_entries::number)
        .distinct()
        .load::<i32>(conn)?
        .into_iter()
        .map(|n| u16::try_from(n).map_err(|_| corrupt("check-in number")))
        .collect()
}

/// A user's entry for one check-in, if they made one.
pub fn find(
    conn: &mut DbConn,
    pairing: PairingId,
    number: u16,
    user: UserId,
) -> Result<Option<Entry>, StoreError> {
    check_in_entries::table
        .find((pairing.to_string(), i32::from(number), user.to_string()))
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(Entry::try_from)
        .transpose()
}

/// One check-in's entries, in the order of `for_pairings`, with its version (as
/// `version` answers): what a write reads before and after, in one query.
pub fn of_check_in(
    conn: &mut DbConn,
    pairing: PairingId,
    number: u16,
) -> Result<(Vec<Entry>, i64), StoreError> {
    let rows: Vec<(Row, i64)> = on_engine!(conn, c => check_in_entries::table
        .filter(check_in_entries::pairing_id.eq(pairing.to_string()))
        .filter(check_in_entries::number.eq(i32::from(number)))
        .select((Row::as_select(), check_in_entries::version))
        .order((check_in_entries::completed_at, check_in_entries::user_id))
        .load(c))?;
    let version = rows.iter().map(|(_, v)| v).sum();
    let entries = rows
        .into_iter()
        .map(|(row, _)| Entry::try_from(row))
        .collect::<Result<_, _>>()?;
    Ok((entries, version))
}

/// The version of a check-in: the sum of its entries' versions (each write of either
/// partner's entry adds one), 0 before either wrote.
pub fn version(conn: &mut DbConn, pairing: PairingId, number: u16) -> Result<i64, StoreError> {
    let versions: Vec<i64> = check_in_entries::table
        .filter(check_in_entries::pairing_id.eq(pairing.to_string()))
        .filter(check_in_entries::number.eq(i32::from(number)))
        .select(check_in_entries::version)
        .load(conn)?;
    Ok(versions.iter().sum())
}

/// Stores a new entry or replaces the user's earlier one. The caller holds the
/// pairing's lock, so two requests of one partner cannot both insert.
pub fn save(conn: &mut DbConn, entry: &Entry) -> Result<(), StoreError> {
    let row = Row::from(entry);
    if update(conn, &row)? == 0 {
        insert(conn, row)?;
    }
    Ok(())
}

/// Stores a new entry.
fn insert(conn: &mut DbConn, row: Row) -> Result<(), StoreError> {
    let insert = diesel::insert_into(check_in_entries::table).values(row);
    on_engine!(conn, c => insert.execute(c))?;
    Ok(())
}

/// Replaces the rating, note and time of the entry `row` names, adding one to its
/// version; answers how many rows changed (0: no such entry).
fn update(conn: &mut DbConn, row: &Row) -> Result<usize, StoreError> {
    Ok(on_engine!(conn, c => UpdateEntry(row).execute(c))?)
}

/// `update`'s statement, written out so that it stays prepared: diesel compiles every
/// `diesel::update` anew (it marks them unsafe to cache), and on SQLite the write runs
/// on the one writer thread, where that compiling was a sixth of its time. The names
/// come from the schema.
struct UpdateEntry<'a>(&'a Row);

impl QueryId for UpdateEntry<'_> {
    type QueryId = UpdateEntry<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for UpdateEntry<'_>
where
    DB: diesel::backend::Backend,
    i32: ToSql<Integer, DB>,
    String: ToSql<Text, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    check_in_entries::table: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        use check_in_entries::*;
        let Row {
            pairing_id: pairing,
            entry: row,
        } = self.0;
        out.push_sql("UPDATE ");
        table.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        column_is::<Integer, _, _>(&mut out, rating::NAME, &row.rating)?;
        out.push_sql(", ");
        column_is::<Nullable<Text>, _, _>(&mut out, note::NAME, &row.note)?;
        out.push_sql(", ");
        column_is::<Timestamp, _, _>(&mut out, updated_at::NAME, &row.updated_at)?;
        out.push_sql(", ");
        out.push_identifier(version::NAME)?;
        out.push_sql(" = ");
        out.push_identifier(version::NAME)?;
        out.push_sql(" + 1 WHERE ");
        column_is::<Text, _, _>(&mut out, pairing_id::NAME, pairing)?;
        out.push_sql(" AND ");
        column_is::<Integer, _, _>(&mut out, number::NAME, &row.number)?;
        out.push_sql(" AND ");
        column_is::<Text, _, _>(&mut out, user_id::NAME, &row.user_id)?;
        Ok(())
    }
}

/// `column = ?`, with `value` bound as `ST`.
fn column_is<'b, ST, U, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    column: &str,
    value: &'b U,
) -> QueryResult<()>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<ST>,
    U: ToSql<ST, DB>,
{
    out.push_identifier(column)?;
    out.push_sql(" = ");
    out.push_bind_param::<ST, U>(value)
}

impl<Conn> RunQueryDsl<Conn> for UpdateEntry<'_> {}

/// Stores `entry` as `save` does, into the check-in `before` (its entries and version,
/// read under the same lock), and answers the check-in as it now stands without reading
/// it again: the entry replaces the user's earlier one or joins the others (in
/// `completed_at` order), and each write adds one to the version.
pub fn save_into(
    conn: &mut DbConn,
    entry: Entry,
    before: (Vec<Entry>, i64),
) -> Result<(Vec<Entry>, i64), StoreError> {
    let (mut entries, version) = before;
    let row = Row::from(&entry);
    if entries.iter().any(|e| e.user_id == entry.user_id) {
        if update(conn, &row)? == 0 {
            return Err(StoreError::NotFound);
        }
    } else {
        insert(conn, row)?;
    }
    entries.retain(|e| e.user_id != entry.user_id);
    entries.push(entry);
    // The order every read of a check-in's entries uses (`of_check_in`), so the answer
    // and its tag match the next read's even when two entries share a time.
    entries.sort_by_key(|e| (e.completed_at, e.user_id.0));
    Ok((entries, version + 1))
}

/// A user's own entries, by pairing and check-in, after `after`: one page of the user's
/// export. `next` is the key of the last entry when more follow.
pub fn of_user(
    conn: &mut DbConn,
    user: UserId,
    after: Option<(PairingId, u16)>,
    limit: usize,
) -> Result<crate::Page<Entry, (PairingId, u16)>, StoreError> {
    let mut query = check_in_entries::table
        .filter(check_in_entries::user_id.eq(user.to_string()))
        .select(Row::as_select())
        .order((check_in_entries::pairing_id, check_in_entries::number))
        .into_boxed();
    if let Some((pairing, number)) = after {
        let pairing = pairing.to_string();
        query = query.filter(
            check_in_entries::pairing_id
                .gt(pairing.clone())
                .or(check_in_entries::pairing_id
                    .eq(pairing)
                    .and(check_in_entries::number.gt(i32::from(number)))),
        );
    }
    crate::page::load_page(conn, query, limit, Entry::try_from, |e| {
        (e.pairing_id, e.number)
    })
}
