//! Presence between shards. A watcher's session lives on its user's shard, a publisher's
//! state on theirs; these messages connect them, one per destination shard per batch:
//!
//! ```text
//!   watcher shard                              publisher shard
//!   Watch {publishers, kind} --------------->  add edges (Subscribe) / authorize (Get)
//!                            <---------------  Watched {results: snapshot + mask, or error}
//!   Unwatch {publishers}     --------------->  remove edges
//!                            <---------------  Deliver {one shared snapshot, (session, mask)*}
//!                            <---------------  Restrict {publisher, (session, auth)*}
//! ```
//!
//! A snapshot crosses as an `Arc`: every destination shard and every queue shares the one
//! value, with no copy per watcher.

use std::sync::Arc;

use imps_protocol::StatusCode;

use super::publication::{SessionRef, Snapshot};

/// Why a watcher asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// SubscribePresence: add the session to the watcher lists.
    Subscribe,
    /// A followed contact list gained members: like Subscribe, nobody waits for the answer.
    Follow,
    /// GetPresence: the current values once.
    Get,
}

/// Watcher shard to publisher shard: watch (or read) these publishers.
#[derive(Debug)]
pub struct Watch {
    /// The waiting request (0: nobody waits).
    pub query: u64,
    /// The part of that request.
    pub part: u32,
    /// What is asked.
    pub kind: WatchKind,
    /// The watching session.
    pub session: SessionRef,
    /// The watcher's normalized user ID.
    pub watcher: Arc<str>,
    /// The attributes wanted.
    pub wanted: u32,
    /// The publishers (normalized user IDs), all owned by the destination shard.
    pub publishers: Vec<Arc<str>>,
    /// Per publisher: the session may already watch it (look for its edge); false means
    /// a new edge is appended without a search.
    pub renew: Vec<bool>,
}

/// The outcome for one publisher: the presence to show (when anything is), or an error.
pub type WatchOutcome = Result<Option<(Arc<Snapshot>, u32)>, StatusCode>;

/// Publisher shard to watcher shard: the answer to a [`Watch`].
#[derive(Debug)]
pub struct Watched {
    /// The request's query.
    pub query: u64,
    /// The request's part.
    pub part: u32,
    /// What was asked.
    pub kind: WatchKind,
    /// The watching session.
    pub session: SessionRef,
    /// Per publisher, in the order asked.
    pub results: Vec<(Arc<str>, WatchOutcome)>,
}

/// A presence message between shards.
#[derive(Debug)]
pub enum PresenceMsg {
    /// Watch or read publishers.
    Watch(Watch),
    /// The answer.
    Watched(Watched),
    /// A session stops watching these publishers.
    Unwatch {
        /// The session.
        session: SessionRef,
        /// The publishers (normalized user IDs).
        publishers: Vec<Arc<str>>,
    },
    /// A new presence for some sessions of the destination shard.
    Deliver {
        /// The publisher's new presence.
        snapshot: Arc<Snapshot>,
        /// The sessions and what each may see of it.
        to: Vec<(SessionRef, u32)>,
    },
    /// A publisher withdrew attributes: cut what is queued for these sessions.
    Restrict {
        /// The publisher.
        publisher: Arc<str>,
        /// The sessions and what each may still see.
        to: Vec<(SessionRef, u32)>,
    },
}
