//! One shard's part of a search: candidates from the index of the most selective criterion,
//! then every criterion checked on each candidate.
//!
//! ```text
//!   criteria --count (capped) per indexed criterion--> the smallest range
//!            --collect, sort, dedup--> candidates --all criteria--> hits (IDs)
//! ```
//!
//! Online status is only a filter, and only over users who let the searcher see their
//! OnlineStatus (proactively or by a reactive grant; everyone sees their own): a user who
//! does not is never found through it, whatever their status.

use imps_protocol::StatusCode;

use super::criteria::{Criteria, Criterion, Target};
use super::index::{GroupField, UserField, matches};
use crate::groups::group::Group;
use crate::presence::mask;
use crate::shard::Shard;
use crate::users::{User, UserIdx};

/// Hits one search may have across all shards (536 beyond).
pub const MAX_HITS: usize = 1000;

/// Candidates one shard checks at most (536 beyond: the criteria need narrowing).
pub const MAX_CANDIDATES: usize = 20_000;

/// Is `u` online (as its presence says, or by its sessions before it published)?
fn online(u: &User) -> bool {
    u.presence
        .as_deref()
        .and_then(|p| p.snapshot.values.online_status.as_ref())
        .and_then(|o| o.value)
        .unwrap_or(!u.sessions.is_empty())
}

impl Shard {
    /// This shard's hits for `criteria`, asked by `searcher` (normalized user ID).
    pub(crate) fn find(
        &self,
        searcher: &str,
        criteria: &Criteria,
    ) -> Result<Vec<Box<str>>, StatusCode> {
        match criteria.target {
            Target::Users => self.find_users(searcher, &criteria.all),
            Target::Groups => self.find_groups(&criteria.all),
        }
    }

    fn find_users(&self, searcher: &str, all: &[Criterion]) -> Result<Vec<Box<str>>, StatusCode> {
        let index = self.users.search_index();
        let mut best: Option<(usize, UserField, &str)> = None;
        for c in all {
            if let Criterion::User(field, q) = c {
                let n = index.field(*field).count(q, MAX_CANDIDATES + 1);
                if best.is_none_or(|(m, _, _)| n < m) {
                    best = Some((n, *field, q));
                }
            }
        }
        let (n, field, q) = best.ok_or(StatusCode::SearchTooBroad)?;
        if n > MAX_CANDIDATES {
            return Err(StatusCode::TooManyHits);
        }
        let mut candidates: Vec<UserIdx> = Vec::with_capacity(n);
        index.field(field).collect(q, &mut candidates);
        candidates.sort_unstable();
        candidates.dedup();
        let mut hits = Vec::new();
        for idx in candidates {
            let Some(u) = self.users.user(idx) else {
                continue;
            };
            if all.iter().all(|c| self.user_matches(idx, u, searcher, c)) {
                if hits.len() == MAX_HITS {
                    return Err(StatusCode::TooManyHits);
                }
                hits.push(u.id.clone());
            }
        }
        Ok(hits)
    }

    fn user_matches(&self, idx: UserIdx, u: &User, searcher: &str, c: &Criterion) -> bool {
        match c {
            Criterion::User(field, q) => field
                .value(&u.id, u.profile.as_deref())
                .is_some_and(|v| matches(v, q, field.matching())),
            Criterion::Online(wanted) => {
                let bit = mask::bit_of("OnlineStatus").unwrap_or(mask::ALL);
                let visible =
                    *u.id == *searcher || self.authorization(idx, searcher).mask() & bit != 0;
                visible && online(u) == *wanted
            }
            Criterion::Group(..) | Criterion::Joined(_) => false,
        }
    }

    fn find_groups(&self, all: &[Criterion]) -> Result<Vec<Box<str>>, StatusCode> {
        let index = &self.group_index;
        let mut best: Option<(usize, GroupField, &str)> = None;
        for c in all {
            if let Criterion::Group(field, q) = c {
                let n = index.field(*field).count(q, MAX_CANDIDATES + 1);
                if best.is_none_or(|(m, _, _)| n < m) {
                    best = Some((n, *field, q));
                }
            }
        }
        let joined = all.iter().find_map(|c| match c {
            Criterion::Joined(user) => Some(user),
            _ => None,
        });
        let mut candidates: Vec<Box<str>> = match (joined, best) {
            // A user is joined to few groups: the joined index is the narrowest.
            (Some(user), _) => index.joined_by(user).map(Box::from).collect(),
            (None, Some((n, _, _))) if n > MAX_CANDIDATES => {
                return Err(StatusCode::TooManyHits);
            }
            (None, Some((n, field, q))) => {
                let mut out = Vec::with_capacity(n);
                index.field(field).collect(q, &mut out);
                out
            }
            (None, None) => Vec::new(),
        };
        candidates.sort_unstable();
        candidates.dedup();
        let mut hits = Vec::new();
        for id in candidates {
            let Some(g) = self.groups.get(&id) else {
                continue;
            };
            if g.searchable() && all.iter().all(|c| group_matches(g, c)) {
                if hits.len() == MAX_HITS {
                    return Err(StatusCode::TooManyHits);
                }
                hits.push(id);
            }
        }
        Ok(hits)
    }
}

fn group_matches(g: &Group, c: &Criterion) -> bool {
    match c {
        Criterion::Group(field, q) => field
            .value(&g.stored)
            .is_some_and(|v| matches(v, q, field.matching())),
        Criterion::Joined(user) => g.joined.iter().any(|j| *j.user == **user),
        Criterion::User(..) | Criterion::Online(_) => false,
    }
}
