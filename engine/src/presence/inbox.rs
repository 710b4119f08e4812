//! A watching session's side of presence: what it subscribed to, which of its contact lists
//! it follows, and the presence waiting for it to poll.
//!
//! The waiting presence is a bounded, coalescing queue: at most one entry per publisher. A
//! newer value of a publisher replaces the queued one (the entry keeps its place; the
//! attributes to show are the union of both), so a burst from one publisher costs one entry.
//!
//! ```text
//!   deliver(snapshot, mask) --> [ (publisher A, mask) (publisher B, mask) ... ]
//!   restrict(A, auth)       --> masks of A cut to what is still authorized
//!   take(n)                 --> oldest n entries, for one PresenceNotification-Request
//! ```

use std::sync::Arc;

use imps_protocol::primitives::{Presence, PresenceNotificationRequest};
use imps_protocol::types::UserId;

use super::mask;
use super::publication::Snapshot;

/// A publisher's presence waiting for a watcher.
#[derive(Debug, Clone)]
pub struct Queued {
    /// The newest value.
    pub snapshot: Arc<Snapshot>,
    /// The attributes to show (a snapshot mask).
    pub mask: u32,
}

/// One subscription of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watching {
    /// The publisher (interned on this shard).
    pub publisher: u32,
    /// Subscribed by name (not only as a member of a followed contact list).
    pub direct: bool,
}

/// A session's presence state; allocated on first use.
#[derive(Debug, Default)]
pub struct SessionPresence {
    /// Presence waiting for a poll, one entry per publisher, oldest first.
    pub queue: Vec<Queued>,
    /// Publishers this session subscribed to.
    pub watching: Vec<Watching>,
    /// Contact lists followed (normalized list ID, attributes wanted).
    pub lists: Vec<(Box<str>, u32)>,
    /// Publishers of other domains this session subscribed to.
    pub remote: Vec<RemoteWatching>,
}

/// One subscription of a session to a publisher of another domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteWatching {
    /// The publisher (normalized user ID).
    pub publisher: Arc<str>,
    /// The attributes wanted.
    pub wanted: u32,
    /// Subscribed by name (not only as a member of a followed contact list).
    pub direct: bool,
}

fn same_publisher(a: &Snapshot, b: &Snapshot) -> bool {
    Arc::ptr_eq(&a.publisher, &b.publisher) || a.publisher == b.publisher
}

impl SessionPresence {
    /// Queues `mask` of `snapshot`; true when the queue was empty before.
    pub fn deliver(&mut self, snapshot: &Arc<Snapshot>, mask: u32) -> bool {
        let was_empty = self.queue.is_empty();
        match self
            .queue
            .iter_mut()
            .find(|q| same_publisher(&q.snapshot, snapshot))
        {
            Some(q) => {
                q.snapshot = snapshot.clone();
                q.mask |= mask;
            }
            None => self.queue.push(Queued {
                snapshot: snapshot.clone(),
                mask,
            }),
        }
        was_empty
    }

    /// Cuts what is queued from `publisher` to `auth` (a grant was withdrawn).
    pub fn restrict(&mut self, publisher: &str, auth: u32) {
        self.queue.retain_mut(|q| {
            if *q.snapshot.publisher != *publisher {
                return true;
            }
            let vendor = if auth & mask::VENDOR != 0 {
                mask::UNKNOWN
            } else {
                0
            };
            q.mask &= (auth & mask::KNOWN) | vendor;
            q.mask != 0
        });
    }

    /// Takes up to `max` entries as one PresenceNotification-Request.
    pub fn take_notification(&mut self, max: usize) -> Option<PresenceNotificationRequest> {
        if self.queue.is_empty() {
            return None;
        }
        let n = max.max(1).min(self.queue.len());
        let presences = self
            .queue
            .drain(..n)
            .map(|q| Presence {
                user_id: Some(UserId(q.snapshot.publisher.to_string())),
                contact_list: None,
                sub_lists: vec![mask::filtered(&q.snapshot.values, q.mask)],
            })
            .collect();
        if self.queue.is_empty() && self.queue.capacity() > 16 {
            self.queue = Vec::new();
        }
        Some(PresenceNotificationRequest { presences })
    }

    /// True when presence waits to be polled.
    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// True when the session watches `publisher`.
    pub fn watches(&self, publisher: u32) -> bool {
        self.watching.iter().any(|w| w.publisher == publisher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::primitives::{PresenceSubList, StatusText};

    fn snap(publisher: &Arc<str>, text: &str) -> Arc<Snapshot> {
        Arc::new(Snapshot {
            publisher: publisher.clone(),
            values: PresenceSubList {
                status_text: Some(StatusText {
                    qualifier: Some(true),
                    value: Some(text.into()),
                }),
                ..Snapshot::offline(publisher.clone()).values
            },
        })
    }

    #[test]
    fn a_burst_from_one_publisher_is_one_entry() {
        let a: Arc<str> = Arc::from("wv:a@x");
        let b: Arc<str> = Arc::from("wv:b@x");
        let mut p = SessionPresence::default();
        assert!(p.deliver(&snap(&a, "1"), mask::of_names(["OnlineStatus"])));
        assert!(!p.deliver(&snap(&b, "x"), mask::ALL));
        for i in 0..1000 {
            p.deliver(&snap(&a, &i.to_string()), mask::of_names(["StatusText"]));
        }
        assert_eq!(p.queue.len(), 2);
        let n = p.take_notification(10).unwrap();
        assert_eq!(n.presences.len(), 2);
        let first = &n.presences[0].sub_lists[0];
        assert_eq!(first.names(), vec!["OnlineStatus", "StatusText"]);
        assert_eq!(
            first.status_text.as_ref().unwrap().value.as_deref(),
            Some("999")
        );
        assert!(!p.has_queued());
    }

    #[test]
    fn restriction_cuts_queued_presence() {
        let a: Arc<str> = Arc::from("wv:a@x");
        let mut p = SessionPresence::default();
        p.deliver(
            &snap(&a, "1"),
            mask::of_names(["OnlineStatus", "StatusText"]),
        );
        p.restrict("wv:a@x", mask::of_names(["OnlineStatus"]));
        let n = p.take_notification(10).unwrap();
        assert_eq!(n.presences[0].sub_lists[0].names(), vec!["OnlineStatus"]);
        p.deliver(&snap(&a, "2"), mask::of_names(["StatusText"]));
        p.restrict("wv:a@x", 0);
        assert!(!p.has_queued());
    }
}
