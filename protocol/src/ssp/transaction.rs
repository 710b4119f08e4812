//! Transaction ids (SSP.md §2, §8) and the receiver's dedupe table of (peer, transaction id).
//!
//! Ids follow Baraza: `<queue-id>-<recipient-id>` with the queue id zero-padded to ten
//! digits (`0000000042-7`), so an asynchronous answer leads back to the queued message and
//! the one recipient it was for. A peer may retry a request with the same id; the
//! [`DedupeTable`] makes that safe (Matrix-style idempotency): the first copy is processed,
//! later ones get the remembered answer or are dropped.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The transaction id of queued message `queue_id` for recipient `recipient_id`.
pub fn relay_transaction_id(queue_id: u64, recipient_id: u64) -> String {
    format!("{queue_id:010}-{recipient_id}")
}

/// The (queue id, recipient id) of an id made by [`relay_transaction_id`] (or by Baraza).
pub fn parse_relay_transaction_id(id: &str) -> Option<(u64, u64)> {
    let (queue, recipient) = id.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(queue) || !digits(recipient) {
        return None;
    }
    Some((queue.parse().ok()?, recipient.parse().ok()?))
}

/// Hands out transaction ids for requests that have no queue entry: a counter, formatted as
/// [`relay_transaction_id`] with recipient 0. Start it from a value the caller persists (or a
/// random one) so ids are not reused after a restart.
#[derive(Debug, Clone)]
pub struct TransactionIds {
    next: u64,
}

impl TransactionIds {
    /// Ids from `start` on.
    pub fn new(start: u64) -> Self {
        Self { next: start }
    }

    /// The next id.
    pub fn next_id(&mut self) -> String {
        let id = relay_transaction_id(self.next, 0);
        self.next = self.next.wrapping_add(1);
        id
    }
}

/// What [`DedupeTable::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen<'a, R> {
    /// First time: process it (and [`DedupeTable::record_answer`] the answer).
    New,
    /// Seen before; the answer given then, if it was recorded.
    Duplicate(Option<&'a R>),
}

#[derive(Debug, Clone)]
struct Entry<R> {
    at: Instant,
    answer: Option<R>,
}

/// The (peer domain, transaction id) pairs received recently, with the answer given to each.
/// Bounded: at most `capacity` entries (the oldest go first) and none older than `ttl`.
#[derive(Debug, Clone)]
pub struct DedupeTable<R> {
    entries: HashMap<(String, String), Entry<R>>,
    order: VecDeque<(Instant, (String, String))>,
    capacity: usize,
    ttl: Duration,
}

impl<R> DedupeTable<R> {
    /// A table of at most `capacity` entries kept for `ttl` (the session lifetime, say).
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            ttl,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks `(peer, transaction_id)` up at `now` and remembers it if new.
    pub fn check(&mut self, now: Instant, peer: &str, transaction_id: &str) -> Seen<'_, R> {
        self.expire(now);
        let key = (peer.to_ascii_lowercase(), transaction_id.to_owned());
        if self.entries.contains_key(&key) {
            return Seen::Duplicate(self.entries.get(&key).and_then(|e| e.answer.as_ref()));
        }
        while self.entries.len() >= self.capacity {
            let Some((_, old)) = self.order.pop_front() else {
                break;
            };
            self.entries.remove(&old);
        }
        self.order.push_back((now, key.clone()));
        self.entries.insert(
            key,
            Entry {
                at: now,
                answer: None,
            },
        );
        Seen::New
    }

    /// Remembers the answer given to `(peer, transaction_id)`, for its duplicates.
    pub fn record_answer(&mut self, peer: &str, transaction_id: &str, answer: R) {
        let key = (peer.to_ascii_lowercase(), transaction_id.to_owned());
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.answer = Some(answer);
        }
    }

    /// Forgets every entry of `peer` (its session ended).
    pub fn forget_peer(&mut self, peer: &str) {
        let peer = peer.to_ascii_lowercase();
        self.entries.retain(|(p, _), _| *p != peer);
        self.order.retain(|(_, (p, _))| *p != peer);
    }

    /// Drops entries older than the table's lifetime.
    pub fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.ttl {
                break;
            }
            if let Some((at, key)) = self.order.pop_front()
                && self.entries.get(&key).is_some_and(|e| e.at == at)
            {
                self.entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_ids_round_trip_and_match_baraza() {
        assert_eq!(relay_transaction_id(42, 7), "0000000042-7");
        assert_eq!(parse_relay_transaction_id("0000000042-7"), Some((42, 7)));
        assert_eq!(parse_relay_transaction_id("17"), None);
        assert_eq!(parse_relay_transaction_id("-7"), None);
        assert_eq!(parse_relay_transaction_id("1-x"), None);
        let mut ids = TransactionIds::new(9);
        assert_eq!(ids.next_id(), "0000000009-0");
        assert_eq!(ids.next_id(), "0000000010-0");
    }
}
