//! State shared by the hubs of every executor (`Send + Sync`, behind sharded mutexes):
//!
//! - the **STCP directory**: which connection (hub index, connection number) holds each
//!   session's STCP channel now. The latest `HELO` wins, whichever executor accepted it:
//!   a hub writes `WVCI` only on the connection the directory names, and drops a local
//!   connection found replaced. It also answers [`CirShared::has_tcp`] for the HTTP
//!   layer, which may run on any executor.
//! - the **SHTTP pending set**: `session -> WVCI line`, recorded by the owner hub and taken
//!   by the SHTTP endpoint from any executor. Bounded: each of the [`CirShared::SLOTS`]
//!   parts drops its oldest entry when full.
//!
//! No I/O; a lock is held only for a map operation.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};

use hashbrown::HashMap;

/// An STCP connection: the hub (executor) that accepted it and its number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ConnId {
    pub(crate) hub: usize,
    pub(crate) seq: u64,
}

/// The state every hub shares; cheap to clone (an `Arc`).
#[derive(Debug, Clone)]
pub struct CirShared {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    hasher: RandomState,
    slots: Box<[Mutex<Slot>]>,
}

#[derive(Debug)]
struct Slot {
    stcp: HashMap<String, ConnId>,
    http: PendingSet,
}

impl Default for CirShared {
    /// With room for 1,000,000 pending SHTTP wake-ups.
    fn default() -> Self {
        Self::new(1_000_000)
    }
}

impl CirShared {
    /// How many independently locked parts the state is split into.
    pub const SLOTS: usize = 64;

    /// Empty state keeping at most about `http_pending_max` pending SHTTP wake-ups.
    pub fn new(http_pending_max: usize) -> Self {
        let per_slot = http_pending_max.div_ceil(Self::SLOTS).max(1);
        let slots = (0..Self::SLOTS)
            .map(|_| {
                Mutex::new(Slot {
                    stcp: HashMap::new(),
                    http: PendingSet::new(per_slot),
                })
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                hasher: RandomState::new(),
                slots,
            }),
        }
    }

    fn slot(&self, session_id: &str) -> MutexGuard<'_, Slot> {
        let hash = self.inner.hasher.hash_one(session_id);
        let index = usize::try_from(hash % Self::SLOTS as u64).unwrap_or(0);
        // A panic while holding the lock leaves the maps consistent (every operation is
        // a single map call), so a poisoned lock is still usable.
        self.inner.slots[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session has an STCP channel open, on any executor.
    pub fn has_tcp(&self, session_id: &str) -> bool {
        self.slot(session_id).stcp.contains_key(session_id)
    }

    /// Takes the pending SHTTP wake-up of the session: its `WVCI` line, once.
    pub fn take_http_pending(&self, session_id: &str) -> Option<String> {
        self.slot(session_id).http.take(session_id)
    }

    /// Pending SHTTP wake-ups now (locks every part in turn: for metrics).
    pub fn http_pending_len(&self) -> usize {
        self.inner
            .slots
            .iter()
            .map(|slot| {
                slot.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .http
                    .len()
            })
            .sum()
    }

    /// Records the connection `id` as the session's STCP channel; returns the one it
    /// replaces.
    pub(crate) fn bind_tcp(&self, session_id: &str, id: ConnId) -> Option<ConnId> {
        self.slot(session_id).stcp.insert(session_id.to_owned(), id)
    }

    /// Forgets the session's STCP channel if it is still `id`.
    pub(crate) fn unbind_tcp(&self, session_id: &str, id: ConnId) -> bool {
        let mut slot = self.slot(session_id);
        if slot.stcp.get(session_id) == Some(&id) {
            slot.stcp.remove(session_id);
            true
        } else {
            false
        }
    }

    /// The session's current STCP channel.
    pub(crate) fn tcp_channel(&self, session_id: &str) -> Option<ConnId> {
        self.slot(session_id).stcp.get(session_id).copied()
    }

    /// Records a pending SHTTP wake-up; true if an older one had to be dropped for room.
    pub(crate) fn set_http_pending(&self, session_id: &str, line: String) -> bool {
        self.slot(session_id).http.insert(session_id, line)
    }
}

/// A bounded map `session -> line` dropping its oldest entry when full.
#[derive(Debug)]
struct PendingSet {
    map: HashMap<String, (u64, String)>,
    /// Insertion order; entries whose number no longer matches the map are stale.
    order: VecDeque<(u64, String)>,
    next: u64,
    cap: usize,
}

impl PendingSet {
    fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
            cap,
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    /// Inserts or refreshes; true if the oldest entry was dropped for room.
    fn insert(&mut self, session_id: &str, line: String) -> bool {
        if let Some(entry) = self.map.get_mut(session_id) {
            entry.1 = line;
            return false;
        }
        let mut evicted = false;
        while self.map.len() >= self.cap {
            let Some((seq, oldest)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&oldest).is_some_and(|(s, _)| *s == seq) {
                self.map.remove(&oldest);
                evicted = true;
            }
        }
        let seq = self.next;
        self.next += 1;
        self.map.insert(session_id.to_owned(), (seq, line));
        self.order.push_back((seq, session_id.to_owned()));
        evicted
    }

    fn take(&mut self, session_id: &str) -> Option<String> {
        let (_, line) = self.map.remove(session_id)?;
        // Taken entries leave stale ones in `order`: sweep them once they dominate.
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(seq, session)| map.get(session).is_some_and(|(s, _)| s == seq));
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_latest_helo_wins() {
        let shared = CirShared::default();
        let a = ConnId { hub: 0, seq: 1 };
        let b = ConnId { hub: 1, seq: 1 };
        assert!(!shared.has_tcp("0-s"));
        assert_eq!(shared.bind_tcp("0-s", a), None);
        assert!(shared.has_tcp("0-s"));
        assert_eq!(shared.bind_tcp("0-s", b), Some(a));
        assert_eq!(shared.tcp_channel("0-s"), Some(b));
        // The replaced connection closing does not remove its successor.
        assert!(!shared.unbind_tcp("0-s", a));
        assert!(shared.has_tcp("0-s"));
        assert!(shared.unbind_tcp("0-s", b));
        assert!(!shared.has_tcp("0-s"));
        assert_eq!(shared.tcp_channel("0-s"), None);
    }

    #[test]
    fn http_pending_is_taken_once() {
        let shared = CirShared::default();
        assert!(!shared.set_http_pending("0-s", "WVCI 1.2 c".into()));
        assert!(!shared.set_http_pending("0-s", "WVCI 1.2 d".into()));
        assert_eq!(shared.http_pending_len(), 1);
        assert_eq!(
            shared.take_http_pending("0-s").as_deref(),
            Some("WVCI 1.2 d")
        );
        assert_eq!(shared.take_http_pending("0-s"), None);
        assert_eq!(shared.http_pending_len(), 0);
    }

    #[test]
    fn pending_set_drops_the_oldest() {
        let mut set = PendingSet::new(3);
        for s in ["a", "b", "c"] {
            assert!(!set.insert(s, format!("line {s}")));
        }
        // Refreshing "a" keeps its place: it is still the oldest.
        assert!(!set.insert("a", "line a2".into()));
        assert!(set.insert("d", "line d".into()));
        assert_eq!(set.take("a"), None);
        assert_eq!(set.len(), 3);
        // A taken entry leaves a stale one in the order, skipped at eviction.
        assert_eq!(set.take("b").as_deref(), Some("line b"));
        assert!(!set.insert("e", "line e".into()));
        assert!(set.insert("f", "line f".into()));
        assert_eq!(set.take("c"), None);
        assert_eq!(set.take("d").as_deref(), Some("line d"));
        assert_eq!(set.take("e").as_deref(), Some("line e"));
        assert_eq!(set.take("f").as_deref(), Some("line f"));
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn pending_set_order_stays_bounded() {
        let mut set = PendingSet::new(1_000);
        for i in 0..10_000 {
            let s = format!("s{i}");
            set.insert(&s, String::new());
            assert!(set.take(&s).is_some());
        }
        assert!(set.order.len() <= 64 + 1);
        let shared = CirShared::new(2 * CirShared::SLOTS);
        let mut evicted = 0;
        for i in 0..10 * CirShared::SLOTS {
            evicted += usize::from(shared.set_http_pending(&format!("0-{i}"), String::new()));
        }
        assert_eq!(shared.http_pending_len() + evicted, 10 * CirShared::SLOTS);
        assert!(shared.http_pending_len() <= 2 * CirShared::SLOTS);
    }
}
