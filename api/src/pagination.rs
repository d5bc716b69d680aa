//! Cursor pagination: `?limit=` (default 20, at most 100) and an opaque `?cursor=`.

use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to answer (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (opaque, URL-safe base64).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A validated page request: how many, and the key to continue after.
pub struct PageRequest<K> {
    pub limit: usize,
    pub after: Option<K>,
}

impl PageParams {
    pub fn parse<K: FromStr>(&self) -> Result<PageRequest<K>, ApiError> {
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(_) => return Err(ApiError::invalid("limit", "must be between 1 and 100")),
        };
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

pub fn encode_cursor(key: impl ToString) -> String {
    URL_SAFE_NO_PAD.encode(key.to_string())
}

fn decode_cursor<K: FromStr>(cursor: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|key| key.parse().ok())
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this list gave out"))
}

/// Declares a named list response `{ items, next_cursor }` for an item schema.
#[macro_export]
macro_rules! list_response {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `?cursor=` to get the next page; null on the last page.
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn from_page<K: ToString>(page: tandem_persistence::Page<$item, K>) -> Self {
                Self {
                    items: page.items,
                    next_cursor: page.next.map($crate::pagination::encode_cursor),
                }
            }
        }
    };
}
