//! Calls from tasks on one executor to other shards, batched both ways: every request a
//! turn of the executor makes towards one shard crosses as one inbox item, and the
//! destination sends the replies back as one message per origin per drain. Under load this
//! turns a channel send and a cross-thread wake-up per request into one per batch.
//!
//! ```text
//!   task: LocalShard::call_on(shard, req) -> queued here, flusher scheduled
//!   flusher (next turn): Inbound::Calls { origin, [(id, req)...] } -> shard's inbox
//!   shard: replies gathered per origin during a drain -> one Vec<(id, reply)> back
//!   reply loop (origin): each reply to its waiting task (local, no thread crossing)
//! ```

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use hashbrown::HashMap;

use super::client::{Client, Inbound};
use super::local::{LocalReplier, LocalReply, Tasks, reply_channel};
use crate::core::Core;

/// Replies travelling back to an origin executor.
pub(crate) type CallReplies<R> = Vec<(u64, R)>;

/// Calls queued for one destination shard: (id at the origin, request).
pub(crate) type CallQueue<R> = Vec<(u64, R)>;

/// The outgoing cross-shard calls of one executor.
pub(crate) struct Calls<C: Core> {
    origin: usize,
    next_id: Cell<u64>,
    waiting: RefCell<HashMap<u64, LocalReplier<C::Reply>>>,
    outgoing: RefCell<Vec<CallQueue<C::Request>>>,
    scheduled: Cell<bool>,
}

impl<C: Core> Calls<C> {
    pub(crate) fn new(origin: usize, shards: usize) -> Rc<Self> {
        Rc::new(Calls {
            origin,
            next_id: Cell::new(0),
            waiting: RefCell::new(HashMap::new()),
            outgoing: RefCell::new((0..shards).map(|_| Vec::new()).collect()),
            scheduled: Cell::new(false),
        })
    }

    /// Queues a call to `shard`; the flush is scheduled for the executor's next turn.
    pub(crate) fn call(
        self: &Rc<Self>,
        shard: usize,
        request: C::Request,
        client: &Client<C>,
        tasks: &Tasks,
    ) -> LocalReply<C::Reply> {
        let (replier, reply) = reply_channel();
        let Some(queue) = self.outgoing.borrow_mut().get_mut(shard).map(|q| {
            let id = self.next_id.get() + 1;
            self.next_id.set(id);
            q.push((id, request));
            id
        }) else {
            // No such shard: dropping the replier fails the caller.
            return reply;
        };
        self.waiting.borrow_mut().insert(queue, replier);
        if !self.scheduled.replace(true) {
            tasks.spawn(flush(Rc::clone(self), client.clone()));
        }
        reply
    }
}

/// Sends everything queued, one inbox item per destination shard.
async fn flush<C: Core>(calls: Rc<Calls<C>>, client: Client<C>) {
    calls.scheduled.set(false);
    let batches: Vec<(usize, CallQueue<C::Request>)> = calls
        .outgoing
        .borrow_mut()
        .iter_mut()
        .enumerate()
        .filter(|(_, q)| !q.is_empty())
        .map(|(shard, q)| (shard, std::mem::take(q)))
        .collect();
    for (shard, batch) in batches {
        let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
        let sent = match client.inbox_sender(shard) {
            Ok(inbox) => inbox
                .send_async(Inbound::Calls {
                    origin: calls.origin,
                    calls: batch,
                })
                .await
                .is_ok(),
            Err(_) => false,
        };
        if !sent {
            // The shard is gone: its callers fail with Shutdown.
            let mut waiting = calls.waiting.borrow_mut();
            for id in ids {
                waiting.remove(&id);
            }
        }
    }
}

/// Hands replies coming back from other shards to the tasks waiting for them.
pub(crate) async fn reply_loop<C: Core>(
    calls: Rc<Calls<C>>,
    rx: flume::Receiver<CallReplies<C::Reply>>,
) {
    while let Ok(batch) = rx.recv_async().await {
        for (id, reply) in batch {
            let replier = calls.waiting.borrow_mut().remove(&id);
            if let Some(replier) = replier {
                replier.send(reply);
            }
        }
    }
}
