//! Keyset pagination: a page of rows and the key to continue after.

use diesel::query_dsl::methods::LimitDsl;
use diesel::query_dsl::LoadQuery;
use diesel::RunQueryDsl;

use crate::{DbConn, StoreError};

/// One page of a list. `next` is the key of the last row when more rows follow.
#[derive(Debug, Clone)]
pub struct Page<T, K> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

impl<T, K> Page<T, K> {
    /// Builds a page from up to `limit + 1` rows fetched in key order.
    pub fn from_rows(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> K) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(key) } else { None };
        Self { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U, K> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Loads one page of `query`, which is already filtered past the cursor and ordered by
/// the key: fetches one row more than `limit` (it tells whether another page follows),
/// turns each row into its domain value and keeps the key of the last one shown.
pub(crate) fn load_page<'q, Q, R, T, K>(
    conn: &mut DbConn,
    query: Q,
    limit: usize,
    convert: impl FnMut(R) -> Result<T, StoreError>,
    key: impl Fn(&T) -> K,
) -> Result<Page<T, K>, StoreError>
where
    Q: LimitDsl,
    Q::Output: RunQueryDsl<DbConn> + LoadQuery<'q, DbConn, R>,
{
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let rows = query
        .limit(fetch)
        .load::<R>(conn)?
        .into_iter()
        .map(convert)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, limit, key))
}
