//! The searcher's shard: Search-Request and StopSearch-Request, the gathering of every
//! shard's hits into one sorted result list, and the pages read from it.
//!
//! ```text
//!   first request --> Find x shards --> gathering[(query, part)]
//!   Found x shards --> sorted, deduplicated --> kept (session, SearchID) --> page 0
//!   Search(SearchID, SearchIndex) --> page at index --> CompletionFlag when the last
//! ```
//!
//! Kept results are bounded: [`KEPT_PER_SESSION`] per session (the oldest goes) and
//! [`KEPT_PER_SHARD`] per shard; those of ended sessions are dropped as new ones come.

use std::collections::VecDeque;
use std::sync::Arc;

use hashbrown::HashMap;
use imps_protocol::common::{CspResult, UserList};
use imps_protocol::primitives::{
    GroupList, SearchRequest, SearchResponse, SearchResult, Status, StopSearchRequest,
};
use imps_protocol::types::{GroupId, SearchId, UserId};
use imps_protocol::{Primitive, StatusCode};

use super::SearchMsg;
use super::criteria::{Criteria, Target};
use super::find::MAX_HITS;
use crate::presence::publication::SessionRef;
use crate::shard::{PartKind, Shard, ShardMsg};

/// Results per page when the client does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// Results per page at most.
pub const MAX_LIMIT: u32 = 500;
/// Searches a session keeps at once.
pub const KEPT_PER_SESSION: usize = 4;
/// Searches a shard keeps at once.
pub const KEPT_PER_SHARD: usize = 1024;

/// A finished search, kept for its pages.
#[derive(Debug)]
struct Kept {
    session: SessionRef,
    id: Box<str>,
    target: Target,
    hits: Vec<Box<str>>,
    limit: u32,
}

/// A search waiting for shards.
#[derive(Debug)]
struct Gather {
    session: SessionRef,
    target: Target,
    limit: u32,
    waiting: usize,
    hits: Vec<Box<str>>,
    failed: Option<StatusCode>,
}

/// A shard's searches: gathering and kept.
#[derive(Debug, Default)]
pub(crate) struct Searches {
    gathering: HashMap<(u64, u32), Gather>,
    kept: VecDeque<Kept>,
    next_id: u64,
}

fn status(code: StatusCode) -> Primitive {
    Status::new(code).into()
}

fn limit_of(asked: Option<u32>, default: u32) -> u32 {
    match asked {
        Some(0) | None => default,
        Some(n) => n.min(MAX_LIMIT),
    }
}

impl Kept {
    /// The page starting at `start`; 425 when `start` is past the results.
    fn page(&self, start: u32, limit: u32) -> Result<SearchResponse, StatusCode> {
        let len = self.hits.len();
        let start = start as usize;
        if start > len || (start == len && len > 0) {
            return Err(StatusCode::InvalidSearchIndex);
        }
        let end = (start + limit as usize).min(len);
        let page = &self.hits[start..end];
        let result = (!page.is_empty()).then(|| match self.target {
            Target::Users => SearchResult {
                user_list: Some(UserList {
                    user_ids: page.iter().map(|u| UserId(u.to_string())).collect(),
                    ..UserList::default()
                }),
                group_list: None,
            },
            Target::Groups => SearchResult {
                user_list: None,
                group_list: Some(GroupList {
                    group_ids: page.iter().map(|g| GroupId(g.to_string())).collect(),
                }),
            },
        });
        Ok(SearchResponse {
            search_id: Some(SearchId(self.id.to_string())),
            findings: u32::try_from(len).unwrap_or(u32::MAX),
            completion_flag: end == len,
            index: u32::try_from(end).unwrap_or(u32::MAX),
            result,
            outcome: Some(CspResult::new(StatusCode::Successful)),
        })
    }
}

impl Shard {
    /// `Search-Request`: a first search (asks every shard; the answer waits) or the next
    /// page of a kept one.
    pub(crate) fn search(&mut self, slot: u32, req: &SearchRequest) -> Primitive {
        let Some(session) = self.session_ref(slot) else {
            return status(StatusCode::InvalidSession);
        };
        if let Some(id) = &req.search_id {
            let Some(kept) = self.kept(session, id.as_str()) else {
                return status(StatusCode::InvalidSearchId);
            };
            let limit = limit_of(req.limit, kept.limit);
            return match kept.page(req.index.unwrap_or(0), limit) {
                Ok(page) => page.into(),
                Err(code) => status(code),
            };
        }
        let criteria = match Criteria::parse(&req.pairs, &self.config.domain) {
            Ok(c) => Arc::new(c),
            Err(e) => return status(e.code()),
        };
        let Some(searcher) = self
            .sessions
            .get(slot)
            .and_then(|s| self.users.user(s.user))
            .map(|u| Arc::<str>::from(&*u.id))
        else {
            return status(StatusCode::InvalidSession);
        };
        let (query, part) = self.open_part(PartKind::Remote);
        let shards = self.shards;
        if let Some(p) = self.part_mut(query, part) {
            p.waiting = shards;
            p.asked = shards;
        }
        let gather = Gather {
            session,
            target: criteria.target,
            limit: limit_of(req.limit, DEFAULT_LIMIT),
            waiting: shards,
            hits: Vec::new(),
            failed: None,
        };
        self.searches.gathering.insert((query, part), gather);
        for shard in 0..shards {
            let msg = SearchMsg::Find {
                query,
                part,
                searcher: searcher.clone(),
                criteria: criteria.clone(),
            };
            self.send_after_records(shard, ShardMsg::Search(msg));
        }
        // A placeholder: the part's answer takes its place.
        status(StatusCode::Successful)
    }

    /// `StopSearch-Request`: the kept results go.
    pub(crate) fn stop_search(&mut self, slot: u32, req: &StopSearchRequest) -> StatusCode {
        let Some(session) = self.session_ref(slot) else {
            return StatusCode::InvalidSession;
        };
        let id = req.search_id.as_str();
        let before = self.searches.kept.len();
        self.searches
            .kept
            .retain(|k| !(k.session == session && *k.id == *id));
        if self.searches.kept.len() == before {
            StatusCode::InvalidSearchId
        } else {
            StatusCode::Successful
        }
    }

    fn kept(&self, session: SessionRef, id: &str) -> Option<&Kept> {
        self.searches
            .kept
            .iter()
            .find(|k| k.session == session && *k.id == *id)
    }

    /// A search message from shard `from`.
    pub(crate) fn handle_search_msg(&mut self, from: usize, msg: SearchMsg) {
        match msg {
            SearchMsg::Find {
                query,
                part,
                searcher,
                criteria,
            } => {
                let hits = self.find(&searcher, &criteria);
                let msg = SearchMsg::Found { query, part, hits };
                self.send_after_records(from, ShardMsg::Search(msg));
            }
            SearchMsg::Found { query, part, hits } => self.gathered(query, part, hits),
        }
    }

    /// One shard's hits arrived; after the last, the first page answers the request.
    fn gathered(&mut self, query: u64, part: u32, hits: Result<Vec<Box<str>>, StatusCode>) {
        let Some(g) = self.searches.gathering.get_mut(&(query, part)) else {
            return;
        };
        match hits {
            Ok(h) if g.failed.is_none() => {
                g.hits.extend(h);
                if g.hits.len() > MAX_HITS {
                    g.failed = Some(StatusCode::TooManyHits);
                    g.hits = Vec::new();
                }
            }
            Ok(_) => {}
            Err(code) => {
                g.failed.get_or_insert(code);
                g.hits = Vec::new();
            }
        }
        g.waiting = g.waiting.saturating_sub(1);
        let waiting = g.waiting;
        if waiting > 0 {
            if let Some(p) = self.part_mut(query, part) {
                p.waiting = waiting;
            }
            return;
        }
        let Some(g) = self.searches.gathering.remove(&(query, part)) else {
            return;
        };
        let content = match g.failed {
            Some(code) => status(code),
            None => self.keep(g),
        };
        if let Some(p) = self.part_mut(query, part) {
            p.remote = Some(content);
            p.waiting = 0;
        }
        self.part_answered(query);
    }

    /// Keeps a finished search and answers its first page.
    fn keep(&mut self, g: Gather) -> Primitive {
        let mut hits = g.hits;
        hits.sort_unstable();
        hits.dedup();
        self.searches.next_id += 1;
        let kept = Kept {
            session: g.session,
            id: format!("s{}.{}", self.id, self.searches.next_id).into_boxed_str(),
            target: g.target,
            hits,
            limit: g.limit,
        };
        let first = match kept.page(0, kept.limit) {
            Ok(page) => page.into(),
            Err(code) => status(code),
        };
        // Room: ended sessions' searches go, then this session's oldest, then the shard's.
        let mut searches = std::mem::take(&mut self.searches.kept);
        searches.retain(|k| self.slot_of(k.session).is_some());
        let mine = searches.iter().filter(|k| k.session == g.session).count();
        if mine >= KEPT_PER_SESSION
            && let Some(i) = searches.iter().position(|k| k.session == g.session)
        {
            searches.remove(i);
        }
        if searches.len() >= KEPT_PER_SHARD {
            searches.pop_front();
        }
        searches.push_back(kept);
        self.searches.kept = searches;
        first
    }
}
