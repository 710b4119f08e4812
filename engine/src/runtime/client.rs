//! The in-process client: how ordinary threads and other executors reach a shard.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::core::{Core, Millis};

use super::shard::LocalShard;
use super::{Clock, RuntimeError};

/// A request (or a batch) travelling to a shard's inbox, with where its reply goes.
pub(crate) enum Inbound<C: Core> {
    One(C::Request, flume::Sender<C::Reply>),
    Batch(Vec<C::Request>, flume::Sender<Vec<C::Reply>>),
    /// Calls from tasks on executor `origin`, answered through its call-reply channel.
    Calls {
        origin: usize,
        calls: Vec<(u64, C::Request)>,
    },
}

impl<C: Core> Inbound<C> {
    /// Number of requests carried.
    pub(crate) fn len(&self) -> usize {
        match self {
            Inbound::One(..) => 1,
            Inbound::Batch(requests, _) => requests.len(),
            Inbound::Calls { calls, .. } => calls.len(),
        }
    }
}

/// Work to run on a shard's executor (see [`Client::spawn_on`]).
pub(crate) type Job<C> = Box<dyn FnOnce(LocalShard<C>) + Send + 'static>;

/// What every [`Client`] clone shares.
///
/// The senders to a shard are taken away ([`Revoke`]) when its executor ends: once the last
/// sender and the receiver are gone, flume frees the channel with whatever still sat in it,
/// which drops the reply channels of those requests and so fails their callers (instead of
/// leaving them waiting on a queue nobody reads).
pub(crate) struct Shared<C: Core> {
    pub(crate) inboxes: Vec<RwLock<Option<flume::Sender<Inbound<C>>>>>,
    pub(crate) control: Vec<RwLock<Option<flume::Sender<Job<C>>>>>,
    pub(crate) wakes: Vec<flume::Receiver<C::Wake>>,
    pub(crate) clock: Clock,
}

fn read<T: Clone>(slot: &RwLock<Option<T>>) -> Option<T> {
    slot.read().unwrap_or_else(PoisonError::into_inner).clone()
}

fn take<T>(slot: &RwLock<Option<T>>) -> Option<T> {
    slot.write().unwrap_or_else(PoisonError::into_inner).take()
}

/// Takes the senders to one shard away from every client when dropped (by the shard's
/// executor, however it ends).
pub(crate) struct Revoke<C: Core> {
    shared: Arc<Shared<C>>,
    shard: usize,
}

impl<C: Core> Drop for Revoke<C> {
    fn drop(&mut self) {
        if let Some(slot) = self.shared.inboxes.get(self.shard) {
            drop(take(slot));
        }
        if let Some(slot) = self.shared.control.get(self.shard) {
            drop(take(slot));
        }
    }
}

/// A handle to a running [`Runtime`](super::Runtime), cheap to clone, `Send + Sync`, usable
/// from ordinary threads (blocking methods) and from inside any executor (the `async`
/// methods, which never block the thread).
///
/// Tokens are assigned by the shard; requests sent by one client to one shard are handled in
/// the order they were sent. Once the runtime has shut down every method fails with
/// [`RuntimeError::Shutdown`], and so do calls still waiting for their reply.
pub struct Client<C: Core> {
    shared: Arc<Shared<C>>,
}

impl<C: Core> Clone for Client<C> {
    fn clone(&self) -> Self {
        Client {
            shared: self.shared.clone(),
        }
    }
}

impl<C: Core> std::fmt::Debug for Client<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("shards", &self.shards())
            .finish_non_exhaustive()
    }
}

impl<C: Core> Client<C> {
    pub(crate) fn new(shared: Shared<C>) -> Client<C> {
        Client {
            shared: Arc::new(shared),
        }
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shared.inboxes.len()
    }

    /// The runtime's clock: milliseconds since it started (what the cores see as `now`).
    pub fn now(&self) -> Millis {
        self.shared.clock.now()
    }

    pub(crate) fn revoke_on_drop(&self, shard: usize) -> Revoke<C> {
        Revoke {
            shared: self.shared.clone(),
            shard,
        }
    }

    fn no_such_shard(&self, shard: usize) -> RuntimeError {
        RuntimeError::NoSuchShard {
            shard,
            shards: self.shards(),
        }
    }

    /// A sender to the shard's inbox (a clone: the lock is not held while sending).
    /// The inbox of `shard` (for batched calls from executors).
    pub(crate) fn inbox_sender(
        &self,
        shard: usize,
    ) -> Result<flume::Sender<Inbound<C>>, RuntimeError> {
        self.inbox(shard)
    }

    fn inbox(&self, shard: usize) -> Result<flume::Sender<Inbound<C>>, RuntimeError> {
        let slot = self
            .shared
            .inboxes
            .get(shard)
            .ok_or_else(|| self.no_such_shard(shard))?;
        read(slot).ok_or(RuntimeError::Shutdown)
    }

    /// Sends `request` to `shard` and returns at once with a handle to wait for the reply
    /// (pipelining from one thread). Blocks only while the shard's inbox is full.
    pub fn submit(
        &self,
        shard: usize,
        request: C::Request,
    ) -> Result<Pending<C::Reply>, RuntimeError> {
        let inbox = self.inbox(shard)?;
        let (tx, rx) = flume::bounded(1);
        inbox
            .send(Inbound::One(request, tx))
            .map_err(|_| RuntimeError::Shutdown)?;
        Ok(Pending { rx })
    }

    /// Sends many requests to `shard` as one inbox item (one channel crossing each way); the
    /// shard handles them in order and answers once the last one is answered, with the
    /// replies in request order.
    pub fn submit_batch(
        &self,
        shard: usize,
        requests: Vec<C::Request>,
    ) -> Result<Pending<Vec<C::Reply>>, RuntimeError> {
        let inbox = self.inbox(shard)?;
        let (tx, rx) = flume::bounded(1);
        if requests.is_empty() {
            let _ = tx.send(Vec::new());
        } else {
            inbox
                .send(Inbound::Batch(requests, tx))
                .map_err(|_| RuntimeError::Shutdown)?;
        }
        Ok(Pending { rx })
    }

    /// Sends `request` to `shard` and blocks the calling thread until the reply.
    ///
    /// Never call this on an executor thread (it would stall that executor, and deadlock if
    /// the shard is its own): use [`Client::call_async`] or [`LocalShard::call`] there.
    pub fn call(&self, shard: usize, request: C::Request) -> Result<C::Reply, RuntimeError> {
        self.submit(shard, request)?.wait()
    }

    /// [`Client::submit_batch`] then wait: one channel crossing for many requests.
    pub fn call_batch(
        &self,
        shard: usize,
        requests: Vec<C::Request>,
    ) -> Result<Vec<C::Reply>, RuntimeError> {
        self.submit_batch(shard, requests)?.wait()
    }

    /// Sends `request` to `shard` and waits for the reply without blocking the thread (works
    /// on any executor, including the shard executors themselves).
    pub async fn call_async(
        &self,
        shard: usize,
        request: C::Request,
    ) -> Result<C::Reply, RuntimeError> {
        let inbox = self.inbox(shard)?;
        let (tx, rx) = flume::bounded(1);
        inbox
            .send_async(Inbound::One(request, tx))
            .await
            .map_err(|_| RuntimeError::Shutdown)?;
        Pending { rx }.wait_async().await
    }

    /// The `async` form of [`Client::call_batch`].
    pub async fn call_batch_async(
        &self,
        shard: usize,
        requests: Vec<C::Request>,
    ) -> Result<Vec<C::Reply>, RuntimeError> {
        let inbox = self.inbox(shard)?;
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = flume::bounded(1);
        inbox
            .send_async(Inbound::Batch(requests, tx))
            .await
            .map_err(|_| RuntimeError::Shutdown)?;
        Pending { rx }.wait_async().await
    }

    /// The wake-ups (`Output::Wake`) of `shard`, unless a local handler took them over
    /// ([`LocalShard::set_wake_handler`]).
    ///
    /// The channel is bounded ([`RuntimeConfig::wake_capacity`](super::RuntimeConfig)):
    /// when nobody drains it, further wake-ups are dropped (and counted in
    /// [`ShardStats::wakes_dropped`](super::ShardStats)). Every clone of the receiver takes
    /// from the same queue (each wake-up goes to one receiver), so have one consumer per shard.
    pub fn wakes(&self, shard: usize) -> Result<flume::Receiver<C::Wake>, RuntimeError> {
        self.shared
            .wakes
            .get(shard)
            .cloned()
            .ok_or_else(|| self.no_such_shard(shard))
    }

    /// Runs `f` on the executor of `shard` with the [`LocalShard`] handle and spawns the
    /// future it returns there ([`LocalShard::spawn`]: it runs until it finishes or the
    /// runtime stops, which cancels it).
    /// The returned handle yields the future's output.
    pub fn spawn_on<F, Fut>(&self, shard: usize, f: F) -> Result<Pending<Fut::Output>, RuntimeError>
    where
        F: FnOnce(LocalShard<C>) -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let slot = self
            .shared
            .control
            .get(shard)
            .ok_or_else(|| self.no_such_shard(shard))?;
        let control = read(slot).ok_or(RuntimeError::Shutdown)?;
        let (tx, rx) = flume::bounded(1);
        let job: Job<C> = Box::new(move |local: LocalShard<C>| {
            let future = f(local.clone());
            local.spawn(async move {
                let _ = tx.send(future.await);
            });
        });
        control.send(job).map_err(|_| RuntimeError::Shutdown)?;
        Ok(Pending { rx })
    }

    /// [`Client::spawn_on`] on every shard (e.g. one listener per core); the handles are in
    /// shard order.
    pub fn spawn_on_each<F, Fut>(&self, f: F) -> Result<Vec<Pending<Fut::Output>>, RuntimeError>
    where
        F: Fn(LocalShard<C>) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let f = Arc::new(f);
        (0..self.shards())
            .map(|shard| {
                let f = f.clone();
                self.spawn_on(shard, move |local| f(local))
            })
            .collect()
    }
}

/// A value still to come from a shard: the reply to [`Client::submit`], the replies to
/// [`Client::submit_batch`], or the output of a task started with [`Client::spawn_on`].
/// Fails with [`RuntimeError::Shutdown`] if the runtime stops (or the task is dropped) first.
#[derive(Debug)]
#[must_use = "the value is lost unless waited for"]
pub struct Pending<T> {
    rx: flume::Receiver<T>,
}

impl<T> Pending<T> {
    /// Blocks the calling thread until the value is there (not on an executor thread).
    pub fn wait(self) -> Result<T, RuntimeError> {
        self.rx.recv().map_err(|_| RuntimeError::Shutdown)
    }

    /// Like [`Pending::wait`], giving up with [`RuntimeError::Timeout`] after `timeout`
    /// (the value is then lost).
    pub fn wait_timeout(self, timeout: Duration) -> Result<T, RuntimeError> {
        self.rx.recv_timeout(timeout).map_err(|e| match e {
            flume::RecvTimeoutError::Timeout => RuntimeError::Timeout,
            flume::RecvTimeoutError::Disconnected => RuntimeError::Shutdown,
        })
    }

    /// Waits without blocking the thread (any executor).
    pub async fn wait_async(self) -> Result<T, RuntimeError> {
        self.rx
            .recv_async()
            .await
            .map_err(|_| RuntimeError::Shutdown)
    }

    /// Takes the value if it is already there (after which the handle is spent).
    pub fn try_take(&self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}
