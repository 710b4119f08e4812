//! The outbound queue of one peer: SSP request transactions waiting to be POSTed, each with its
//! own transaction id, retransmitted with back-off until the transport acknowledges it, failed
//! when it expires.
//!
//! # Durability
//!
//! The queue itself lives in memory. Every change is also reported as a [`QueueChange`]
//! (through [`super::Federation::poll_queue_change`]): `Enqueued` with the whole item and
//! `Removed` with the reason. A caller that wants the queue to survive a restart appends these
//! records to its log and, on start, hands the items still enqueued back with
//! [`super::Federation::restore`]. Instants are process-local: a log stores them as wall-clock
//! times and converts back. Items relayed for another domain ([`ItemOrigin::Relay`]) are not
//! worth restoring: the relay Transaction Table that leads their answer back is not kept.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use imps_protocol::ssp::Transaction;

use super::config::RetryPolicy;

/// Who is waiting for the outcome of a queued item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOrigin {
    /// An instant message from a local user to one remote recipient.
    Message {
        /// The local sender, `wv:user@local-domain`.
        sender: String,
        /// The remote recipient.
        recipient: String,
        /// The sender's message id, if any.
        message_id: Option<String>,
    },
    /// A delivery report of a local recipient for a remote sender.
    DeliveryReport {
        /// The remote sender the report goes to.
        original_sender: String,
        /// The local user who received the message.
        recipient: String,
        /// The message.
        message_id: Option<String>,
    },
    /// A request of a local user (or a notice of the local server) for another domain; its
    /// outcome is reported as [`super::Event::RequestResult`].
    Service(Box<super::request::RemoteRequest>),
    /// Our service agreement request to the peer (session-scoped, never in the durable log).
    Agreement,
    /// A request of another domain that we relay; its answer goes back to `peer` under
    /// `transaction_id`.
    Relay {
        /// The domain the request came from.
        peer: String,
        /// Its transaction id there.
        transaction_id: String,
    },
}

/// One queued SSP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedItem {
    /// The peer it goes to.
    pub peer: String,
    /// The request, with its unique transaction id.
    pub transaction: Transaction,
    /// Who waits for the outcome.
    pub origin: ItemOrigin,
    /// When it was queued.
    pub enqueued_at: Instant,
    /// When it fails if still not acknowledged.
    pub expires_at: Instant,
}

impl QueuedItem {
    /// The transaction id.
    pub fn transaction_id(&self) -> &str {
        &self.transaction.transaction_id
    }
}

/// Why an item left its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemovalReason {
    /// The peer's transport acknowledged it (HTTP 200); its SSP answer comes later.
    Acknowledged,
    /// Its SSP answer arrived before the acknowledgement was reported.
    Answered,
    /// It expired unacknowledged.
    Expired,
    /// The peer's agreement does not cover its feature group (failed with 506).
    Refused,
}

/// A change of a peer queue, as a record a log can keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueChange {
    /// An item was queued (also after the peer forgot the session and it was queued again).
    Enqueued(Box<QueuedItem>),
    /// An item left the queue.
    Removed {
        /// The peer.
        peer: String,
        /// The item's transaction id.
        transaction_id: String,
        /// Why.
        reason: RemovalReason,
    },
}

/// `now + d`, saturating far in the future instead of overflowing (durations come from the
/// configuration).
pub(crate) fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(now)
}

#[derive(Debug, Clone)]
struct Entry {
    item: QueuedItem,
    failures: u32,
    next_attempt: Instant,
    in_flight_until: Option<Instant>,
}

/// The queue of one peer.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerQueue {
    entries: VecDeque<Entry>,
}

impl PeerQueue {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The items for which `pred` holds.
    pub(crate) fn count(&self, pred: impl Fn(&QueuedItem) -> bool) -> usize {
        self.entries.iter().filter(|e| pred(&e.item)).count()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an item, due at once.
    pub(crate) fn push(&mut self, now: Instant, item: QueuedItem) {
        self.entries.push_back(Entry {
            item,
            failures: 0,
            next_attempt: now,
            in_flight_until: None,
        });
    }

    /// Adds an item ahead of the others, due at once.
    pub(crate) fn push_front(&mut self, now: Instant, item: QueuedItem) {
        self.entries.push_front(Entry {
            item,
            failures: 0,
            next_attempt: now,
            in_flight_until: None,
        });
    }

    /// Removes and returns the items not in flight for which `pred` holds.
    pub(crate) fn remove_where(&mut self, pred: impl Fn(&QueuedItem) -> bool) -> Vec<QueuedItem> {
        let mut removed = Vec::new();
        self.entries.retain(|e| {
            let gone = e.in_flight_until.is_none() && pred(&e.item);
            if gone {
                removed.push(e.item.clone());
            }
            !gone
        });
        removed
    }

    /// The items due at `now` and not expired (only the one with id `only`, when given),
    /// marked in flight until `now + send_timeout`.
    pub(crate) fn take_due(
        &mut self,
        now: Instant,
        retry: &RetryPolicy,
        only: Option<&str>,
    ) -> Vec<Transaction> {
        let mut due = Vec::new();
        for e in &mut self.entries {
            if only.is_some_and(|tid| tid != e.item.transaction.transaction_id) {
                continue;
            }
            if e.in_flight_until.is_none() && e.next_attempt <= now && now < e.item.expires_at {
                e.in_flight_until = Some(later(now, retry.send_timeout));
                due.push(e.item.transaction.clone());
            }
        }
        due
    }

    /// Removes the item with `tid`.
    pub(crate) fn remove(&mut self, tid: &str) -> Option<QueuedItem> {
        let i = self
            .entries
            .iter()
            .position(|e| e.item.transaction.transaction_id == tid)?;
        self.entries.remove(i).map(|e| e.item)
    }

    /// The transport failed to deliver `tid`: back off.
    pub(crate) fn fail(&mut self, now: Instant, tid: &str, retry: &RetryPolicy) -> bool {
        match self
            .entries
            .iter_mut()
            .find(|e| e.item.transaction.transaction_id == tid && e.in_flight_until.is_some())
        {
            Some(e) => {
                e.failures += 1;
                e.in_flight_until = None;
                e.next_attempt = later(now, retry.backoff(e.failures));
                true
            }
            None => false,
        }
    }

    /// Handles timeouts: POSTs unanswered past their send timeout count as failed; items past
    /// their expiry (and not in flight) are removed and returned.
    pub(crate) fn expire(&mut self, now: Instant, retry: &RetryPolicy) -> Vec<QueuedItem> {
        for e in &mut self.entries {
            if e.in_flight_until.is_some_and(|t| now >= t) {
                e.failures += 1;
                e.in_flight_until = None;
                e.next_attempt = later(now, retry.backoff(e.failures));
            }
        }
        let mut expired = Vec::new();
        self.entries.retain(|e| {
            let gone = e.in_flight_until.is_none() && now >= e.item.expires_at;
            if gone {
                expired.push(e.item.clone());
            }
            !gone
        });
        expired
    }

    /// The next instant the queue has work, given whether it may send now (only the item
    /// with id `only`, when given: the others wait for it, so their attempts are not due,
    /// only their expiry).
    pub(crate) fn next_timeout(&self, can_send: bool, only: Option<&str>) -> Option<Instant> {
        self.entries
            .iter()
            .map(|e| match e.in_flight_until {
                Some(t) => t,
                None if can_send
                    && only.is_none_or(|tid| tid == e.item.transaction.transaction_id) =>
                {
                    e.next_attempt.min(e.item.expires_at)
                }
                None => e.item.expires_at,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use imps_protocol::ssp::{Content, Mode, Status};

    use super::*;

    fn item(now: Instant, tid: &str) -> QueuedItem {
        QueuedItem {
            peer: "b.test".into(),
            transaction: Transaction::new(Mode::Request, tid, Content::Status(Status::new(200))),
            origin: ItemOrigin::Relay {
                peer: "c.test".into(),
                transaction_id: "1".into(),
            },
            enqueued_at: now,
            expires_at: now + Duration::from_secs(100),
        }
    }

    #[test]
    fn retries_back_off_and_items_expire() {
        let retry = RetryPolicy::default();
        let t0 = Instant::now();
        let mut q = PeerQueue::default();
        q.push(t0, item(t0, "1"));
        assert_eq!(q.take_due(t0, &retry, None).len(), 1);
        assert!(q.take_due(t0, &retry, None).is_empty(), "in flight");
        assert!(q.fail(t0, "1", &retry));
        assert_eq!(
            q.next_timeout(true, None),
            Some(t0 + Duration::from_secs(10))
        );
        assert!(
            q.take_due(t0 + Duration::from_secs(9), &retry, None)
                .is_empty()
        );
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(q.take_due(t1, &retry, None).len(), 1);
        // The send timeout counts as the second failure: 20 s.
        let t2 = t1 + retry.send_timeout;
        assert!(q.expire(t2, &retry).is_empty());
        assert_eq!(
            q.next_timeout(true, None),
            Some(t2 + Duration::from_secs(20))
        );
        let expired = q.expire(t0 + Duration::from_secs(100), &retry);
        assert_eq!(expired.len(), 1);
        assert!(q.is_empty());
    }
}
