//! Cartesi's cursor pagination: a cursor is the base64 of an item's decimal offset in its
//! listing, a page holds at most [`MAX_PAGE`] items, and forward (`first`/`after`) and backward
//! (`last`/`before`) arguments cannot be mixed. Every connection type has the same shape; the
//! `connection!` macro writes one for a node type.

use async_graphql::{Context, SimpleObject};
use base64::Engine as _;

use super::limits;
use super::schema::int;

/// The largest page, and the page size when neither `first` nor `last` is given (Cartesi's
/// reader uses the same number).
pub(crate) const MAX_PAGE: u64 = 1000;

/// Which slice of a listing a page covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Page {
    pub(super) offset: u64,
    pub(super) limit: u64,
}

/// The pagination arguments of every connection field.
pub(super) struct PageArgs {
    pub(super) first: Option<i32>,
    pub(super) last: Option<i32>,
    pub(super) after: Option<String>,
    pub(super) before: Option<String>,
}

fn encode_cursor(offset: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(offset.to_string())
}

/// A cursor must name an item of the listing: `0 ≤ offset < total`.
fn decode_cursor(cursor: &str, total: u64) -> async_graphql::Result<u64> {
    let invalid = || async_graphql::Error::new(format!("invalid pagination cursor {cursor:?}"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(cursor).map_err(|_| invalid())?;
    let offset: u64 = std::str::from_utf8(&bytes).ok().and_then(|s| s.parse().ok()).ok_or_else(invalid)?;
    if offset >= total {
        return Err(invalid());
    }
    Ok(offset)
}

fn limit(value: Option<i32>) -> async_graphql::Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(|n| Some(n.min(MAX_PAGE)))
            .map_err(|_| async_graphql::Error::new(format!("pagination limit must not be negative (got {n})"))),
    }
}

impl PageArgs {
    /// The slice of a listing of `total` items these arguments select.
    pub(super) fn page(&self, total: u64) -> async_graphql::Result<Page> {
        let forward = self.first.is_some() || self.after.is_some();
        let backward = self.last.is_some() || self.before.is_some();
        if forward && backward {
            return Err(async_graphql::Error::new(
                "cannot mix forward pagination (first, after) with backward pagination (last, before)",
            ));
        }
        if backward {
            let end = match &self.before {
                Some(c) => decode_cursor(c, total)?,
                None => total,
            };
            let count = limit(self.last)?.unwrap_or(MAX_PAGE).min(end);
            Ok(Page { offset: end - count, limit: count })
        } else {
            let start = match &self.after {
                Some(c) => decode_cursor(c, total)? + 1,
                None => 0,
            };
            let count = limit(self.first)?.unwrap_or(MAX_PAGE).min(total.saturating_sub(start));
            Ok(Page { offset: start, limit: count })
        }
    }
}

/// Page metadata for the cursor-based Connection pagination pattern
#[derive(SimpleObject, Clone, Debug)]
pub(super) struct PageInfo {
    /// Cursor pointing to the first entry of the page
    start_cursor: Option<String>,
    /// Cursor pointing to the last entry of the page
    end_cursor: Option<String>,
    /// Indicates if there are additional entries after the end curs
    has_next_page: bool,
    /// Indicates if there are additional entries before the start curs
    has_previous_page: bool,
}

/// What every connection holds, whatever its node type: the total, the nodes with their
/// cursors, and the page metadata.
pub(super) struct Parts<T> {
    pub(super) total: i32,
    pub(super) edges: Vec<(T, String)>,
    pub(super) info: PageInfo,
}

impl<T> Parts<T> {
    pub(super) fn map<U>(self, f: impl Fn(T) -> U) -> Parts<U> {
        Parts { total: self.total, edges: self.edges.into_iter().map(|(t, c)| (f(t), c)).collect(), info: self.info }
    }
}

/// The parts of a connection, given the items fetched for `page`.
pub(super) fn paged<T>(total: u64, page: Page, items: Vec<T>) -> async_graphql::Result<Parts<T>> {
    let count = items.len() as u64;
    let info = if count == 0 {
        PageInfo { start_cursor: None, end_cursor: None, has_next_page: false, has_previous_page: false }
    } else {
        let last = page.offset + count - 1;
        PageInfo {
            start_cursor: Some(encode_cursor(page.offset)),
            end_cursor: Some(encode_cursor(last)),
            has_next_page: last + 1 < total,
            has_previous_page: page.offset > 0,
        }
    };
    let edges = items.into_iter().zip(page.offset..).map(|(item, offset)| (item, encode_cursor(offset))).collect();
    Ok(Parts { total: int(total)?, edges, info })
}

macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty) => {
        /// Pagination result
        #[derive(SimpleObject)]
        pub(super) struct $conn {
            /// Total number of entries that match the query
            total_count: i32,
            /// Pagination entries returned for the current page
            edges: Vec<$edge>,
            /// Pagination metadata
            page_info: PageInfo,
        }

        /// Pagination entry
        #[derive(SimpleObject)]
        pub(super) struct $edge {
            /// Node instance
            node: $node,
            /// Pagination cursor
            cursor: String,
        }

        impl $conn {
            pub(super) fn new(parts: Parts<$node>) -> $conn {
                let edges = parts.edges.into_iter().map(|(node, cursor)| $edge { node, cursor }).collect();
                $conn { total_count: parts.total, edges, page_info: parts.info }
            }
        }

        impl std::fmt::Debug for $conn {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($conn)).field("total_count", &self.total_count).finish_non_exhaustive()
            }
        }

        impl std::fmt::Debug for $edge {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($edge)).field("cursor", &self.cursor).finish_non_exhaustive()
            }
        }
    };
}

pub(super) use connection;

/// Takes a page's items from the request's answer budget before they are read. A schema run
/// outside the HTTP handler has no budget.
pub(super) fn spend_items(ctx: &Context<'_>, page: Page) -> async_graphql::Result<()> {
    match ctx.data_opt::<limits::AnswerBudget>() {
        Some(budget) => budget.spend_items(page.limit),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_base64_of_the_decimal_offset() {
        assert_eq!(encode_cursor(0), "MA==");
        assert_eq!(encode_cursor(12), "MTI=");
        assert_eq!(decode_cursor("MTI=", 13).ok(), Some(12));
        assert!(decode_cursor("MTI=", 12).is_err());
        assert!(decode_cursor("not base64!", 12).is_err());
    }

    #[test]
    fn pages_follow_cartesi_rules() {
        let args = |first, last, after: Option<u64>, before: Option<u64>| PageArgs {
            first,
            last,
            after: after.map(encode_cursor),
            before: before.map(encode_cursor),
        };
        assert_eq!(args(None, None, None, None).page(5).ok(), Some(Page { offset: 0, limit: 5 }));
        assert_eq!(args(None, None, None, None).page(5000).ok(), Some(Page { offset: 0, limit: MAX_PAGE }));
        assert_eq!(args(Some(2), None, Some(1), None).page(5).ok(), Some(Page { offset: 2, limit: 2 }));
        assert_eq!(args(Some(9), None, Some(3), None).page(5).ok(), Some(Page { offset: 4, limit: 1 }));
        assert_eq!(args(None, Some(2), None, None).page(5).ok(), Some(Page { offset: 3, limit: 2 }));
        assert_eq!(args(None, Some(9), None, Some(2)).page(5).ok(), Some(Page { offset: 0, limit: 2 }));
        assert_eq!(args(None, None, None, Some(0)).page(5).ok(), Some(Page { offset: 0, limit: 0 }));
        assert!(args(Some(1), Some(1), None, None).page(5).is_err());
        assert!(args(Some(-1), None, None, None).page(5).is_err());
        assert!(args(None, None, Some(5), None).page(5).is_err());
    }
}
