//! A session's server-originated transactions: queued until the client polls, then
//! remembered until the client answers them.
//!
//! ```text
//!   push() --> queued --(take_batch on poll)--> awaiting answer --(answer(id))--> gone
//! ```
//!
//! An idle session's outbox allocates nothing.

use std::collections::VecDeque;

use imps_protocol::Primitive;

use crate::core::Millis;

/// A transaction the server started.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Its TransactionID (chosen by the server).
    pub id: String,
    /// The primitive.
    pub primitive: Primitive,
}

/// Why a push was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("outbox full ({0} transactions)")]
pub struct OutboxFull(pub usize);

/// The per-session queue.
#[derive(Debug, Default)]
pub struct Outbox {
    queued: VecDeque<Outgoing>,
    awaiting: Vec<(String, Millis)>,
}

impl Outbox {
    /// Queues a transaction; refused beyond `limit`.
    pub fn push(&mut self, out: Outgoing, limit: usize) -> Result<(), OutboxFull> {
        if self.queued.len() >= limit {
            return Err(OutboxFull(limit));
        }
        self.queued.push_back(out);
        Ok(())
    }

    /// True when something waits to be polled.
    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// How many wait to be polled.
    pub fn queued_len(&self) -> usize {
        self.queued.len()
    }

    /// Takes up to `max` queued transactions for delivery at `now`; those the client must
    /// answer are remembered (bounded by `limit`, oldest forgotten first).
    pub fn take_batch(&mut self, max: usize, now: Millis, limit: usize) -> Vec<Outgoing> {
        let n = max.min(self.queued.len());
        let batch: Vec<Outgoing> = self.queued.drain(..n).collect();
        for out in &batch {
            if expects_answer(&out.primitive) {
                if self.awaiting.len() >= limit {
                    self.awaiting.remove(0);
                }
                self.awaiting.push((out.id.clone(), now));
            }
        }
        if self.queued.is_empty() && self.queued.capacity() > 16 {
            self.queued = VecDeque::new();
        }
        batch
    }

    /// The client answered transaction `id`: true when the server was waiting for it.
    pub fn answer(&mut self, id: &str) -> bool {
        match self.awaiting.iter().position(|(a, _)| a == id) {
            Some(i) => {
                self.awaiting.swap_remove(i);
                if self.awaiting.is_empty() {
                    self.awaiting = Vec::new();
                }
                true
            }
            None => false,
        }
    }

    /// Forgets answers older than `before`.
    pub fn expire_awaiting(&mut self, before: Millis) {
        self.awaiting.retain(|(_, at)| *at >= before);
    }
}

/// True for server-originated primitives the client answers (with Status or a primitive).
/// A `Disconnect` ends the session: no answer is awaited.
fn expects_answer(p: &Primitive) -> bool {
    !matches!(p, Primitive::Disconnect(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::StatusCode;
    use imps_protocol::common::CspResult;
    use imps_protocol::primitives::{Disconnect, Status};

    fn status(id: &str) -> Outgoing {
        Outgoing {
            id: id.into(),
            primitive: Status {
                result: CspResult::new(StatusCode::Successful),
                client_id: None,
            }
            .into(),
        }
    }

    #[test]
    fn queue_poll_answer() {
        let mut o = Outbox::default();
        o.push(status("a"), 2).unwrap();
        o.push(status("b"), 2).unwrap();
        assert_eq!(o.push(status("c"), 2), Err(OutboxFull(2)));
        let first = o.take_batch(1, Millis(5), 8);
        assert_eq!(first[0].id, "a");
        assert!(o.has_queued());
        assert!(o.answer("a"));
        assert!(!o.answer("a"));
        o.take_batch(10, Millis(6), 8);
        o.expire_awaiting(Millis(7));
        assert!(!o.answer("b"));
        o.push(
            Outgoing {
                id: "d".into(),
                primitive: Disconnect {
                    result: CspResult::new(StatusCode::ForcedLogout),
                }
                .into(),
            },
            2,
        )
        .unwrap();
        o.take_batch(1, Millis(8), 8);
        assert!(!o.answer("d"));
    }
}
