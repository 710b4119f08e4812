//! Search (SRCH, STSRC), sans-IO, as plain functions over a [`crate::shard::Shard`]. Every
//! shard indexes its own users (kept by [`crate::users::Directory`]) and its searchable
//! groups; a search asks every shard once and the searcher's shard keeps the result list
//! for paging:
//!
//! ```text
//!   searcher's shard                                    every shard (itself included)
//!   Search-Request(pairs, limit) --checked--> Find ---> index range + checks --> hits
//!   part waits for every shard      <------- Found ---  (or 536 when too many)
//!   results sorted, kept for the session; first page answered (SearchID, findings)
//!   Search-Request(SearchID, SearchIndex) --> next page from the kept list (424 / 425)
//!   StopSearch-Request(SearchID)          --> the kept list is dropped (424 when unknown)
//! ```
//!
//! Limits: [`find::MAX_HITS`] per search (536 beyond), [`criteria::MIN_CHARS`] per text
//! (537 below). Kept results are soft and bounded (a few per session, a cap per shard).

pub mod criteria;
pub mod find;
pub mod index;
pub mod pages;

use std::sync::Arc;

use imps_protocol::StatusCode;

pub use criteria::Criteria;
pub(crate) use pages::Searches;

/// A search message between shards.
#[derive(Debug)]
pub enum SearchMsg {
    /// The searcher's shard asks a shard for its hits.
    Find {
        /// The waiting request.
        query: u64,
        /// Its part.
        part: u32,
        /// The searcher (normalized user ID), for what they may see.
        searcher: Arc<str>,
        /// The criteria, shared by every shard asked.
        criteria: Arc<Criteria>,
    },
    /// A shard's hits (IDs, unsorted), or why it has none to give.
    Found {
        /// The request.
        query: u64,
        /// Its part.
        part: u32,
        /// The hits.
        hits: Result<Vec<Box<str>>, StatusCode>,
    },
}
