//! What a publisher's shard keeps per user: the current presence as a shared, immutable
//! [`Snapshot`], the watcher list (one compact [`WatcherEdge`] per subscribed session), the
//! recent former watchers and the watchers waiting for a reactive decision.
//!
//! A snapshot is never changed in place: an update builds the next one and every queue that
//! holds the old one keeps a valid value. Edges are 24 bytes; the watcher's user ID is an
//! interned name (see [`crate::names`]).

use std::collections::VecDeque;
use std::sync::Arc;

use imps_protocol::primitives::{OnlineStatus, PresenceSubList};

use crate::core::Millis;

/// A publisher's presence at one moment, shared by every queue it was delivered to.
#[derive(Debug)]
pub struct Snapshot {
    /// The publisher's normalized user ID.
    pub publisher: Arc<str>,
    /// Every attribute value the publisher has.
    pub values: PresenceSubList,
}

impl Snapshot {
    /// The presence of a user who never published: offline.
    pub fn offline(publisher: Arc<str>) -> Self {
        let values = PresenceSubList {
            online_status: Some(OnlineStatus {
                qualifier: Some(true),
                value: Some(false),
            }),
            ..PresenceSubList::default()
        };
        Self { publisher, values }
    }
}

/// A session anywhere in the deployment: its shard, slot and serial (slots are reused; the
/// serial tells a new session in an old slot apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionRef {
    /// The session's shard.
    pub shard: u16,
    /// Its slot in that shard's session table.
    pub slot: u32,
    /// Its serial number.
    pub serial: u32,
}

/// One subscribed session of a publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatcherEdge {
    /// The watching session.
    pub session: SessionRef,
    /// The watcher's user ID (interned on the publisher's shard).
    pub user: u32,
    /// The attributes the publisher authorizes this watcher to see (see
    /// [`super::mask`]); 0 when nothing is authorized (the watcher still counts).
    pub auth: u32,
    /// The attributes the watcher asked for.
    pub wanted: u32,
}

/// A watcher of another domain (one per user: a remote domain's sessions are not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteWatcher {
    /// The watcher's user ID (interned on the publisher's shard).
    pub user: u32,
    /// The attributes the watcher asked for.
    pub wanted: u32,
    /// The attributes authorized when last computed (see [`super::mask`]).
    pub auth: u32,
}

/// Former watchers remembered per publisher (for GetWatcherList's history).
pub const FORMER_LIMIT: usize = 64;

/// A publisher's presence state (soft: rebuilt empty after a restart).
#[derive(Debug)]
pub struct Publication {
    /// The current presence.
    pub snapshot: Arc<Snapshot>,
    /// The user set OnlineStatus themselves: it no longer follows their sessions.
    pub user_set_online: bool,
    /// Current subscribers, one edge per session.
    pub watchers: Vec<WatcherEdge>,
    /// Recent former subscribers: (interned user, when they left), oldest first.
    pub former: VecDeque<(u32, Millis)>,
    /// Watchers waiting for a reactive decision (interned users), with the attributes they
    /// asked for.
    pub pending_auth: Vec<(u32, u32)>,
    /// Watchers of other domains.
    pub remote: Vec<RemoteWatcher>,
}

impl Publication {
    /// The state of a user who has not published yet.
    pub fn new(publisher: Arc<str>) -> Self {
        Self {
            snapshot: Arc::new(Snapshot::offline(publisher)),
            user_set_online: false,
            watchers: Vec::new(),
            former: VecDeque::new(),
            pending_auth: Vec::new(),
            remote: Vec::new(),
        }
    }

    /// Remembers that `user` stopped watching at `now`.
    pub fn remember_former(&mut self, user: u32, now: Millis) {
        self.former.retain(|(u, _)| *u != user);
        if self.former.len() >= FORMER_LIMIT {
            self.former.pop_front();
        }
        self.former.push_back((user, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_compact() {
        assert_eq!(std::mem::size_of::<WatcherEdge>(), 24);
    }
}
