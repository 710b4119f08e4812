//! One shard on its executor: the driver around a [`Core`], its tasks, and the local handle.
//! What happens when its log fails for good is in [`reopen`].

mod ready;
mod reopen;

pub(crate) use ready::ReadyGuard;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use glommio::channels::shared_channel::{
    ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use glommio::{GlommioError, ResourceType};
use hashbrown::HashMap;

use crate::core::{Core, LogSeq, Millis, Output, Token};

use super::calls::{CallReplies, Calls, reply_loop};
use super::client::{Client, Inbound, Job};
use super::local::{LocalReplier, LocalReply, Notify, Tasks, reply_channel};
use super::log::{LogError, LogSink};
use super::{Clock, RuntimeError};
use reopen::{Made, Remake};

/// What travels on the mesh between two shards: every message produced for one destination
/// during one drain of outputs.
pub(crate) type MeshBatch<C> = Vec<<C as Core>::Mesh>;

/// Counters of one shard (read with [`LocalShard::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Requests handed to the core (from clients and local submissions).
    pub requests: u64,
    /// Replies delivered.
    pub replies: u64,
    /// Replies whose token was unknown (dropped).
    pub unknown_tokens: u64,
    /// Mesh messages received from other shards.
    pub mesh_in: u64,
    /// Mesh batches (channel items) received.
    pub mesh_batches_in: u64,
    /// Mesh messages sent to other shards.
    pub mesh_out: u64,
    /// Mesh batches (channel items) sent.
    pub mesh_batches_out: u64,
    /// Mesh messages the shard addressed to itself (routed in place, no channel).
    pub mesh_local: u64,
    /// Mesh messages dropped: bad destination, or the destination already stopped.
    pub mesh_dropped: u64,
    /// Log records appended.
    pub appends: u64,
    /// Times the shard was rebuilt from its durable state after a log failure.
    pub reopens: u64,
    /// Requests refused because the log had failed and the shard was not rebuilt yet.
    pub refused: u64,
    /// Commits started.
    pub commits: u64,
    /// Commits that failed (durability not reported for them).
    pub commit_errors: u64,
    /// The last durable sequence number reported to the core.
    pub durable: LogSeq,
    /// Calls to `handle_timer`.
    pub timers: u64,
    /// Wake-ups produced.
    pub wakes: u64,
    /// Wake-ups dropped because the wake channel was full.
    pub wakes_dropped: u64,
}

/// Collects the replies of one batch, answering when the last one is in.
struct BatchCollector<R> {
    replies: Vec<Option<R>>,
    missing: usize,
    tx: flume::Sender<Vec<R>>,
}

impl<R> BatchCollector<R> {
    fn put(&mut self, index: usize, reply: R) {
        if let Some(slot) = self.replies.get_mut(index)
            && slot.replace(reply).is_none()
        {
            self.missing -= 1;
            if self.missing == 0 {
                let replies = std::mem::take(&mut self.replies).into_iter().flatten();
                let _ = self.tx.try_send(replies.collect());
            }
        }
    }
}

/// Where the reply to a token goes.
enum ReplyTo<R> {
    Remote(flume::Sender<R>),
    Batch(Rc<RefCell<BatchCollector<R>>>, usize),
    Local(LocalReplier<R>),
    /// A batched call from executor `.0`, with its id there.
    Call(usize, u64),
}

type ShardCell<C> = Rc<RefCell<Shard<C>>>;

type WakeHandler<W> = Box<dyn FnMut(W) + 'static>;

/// The driver of one core: feeds it inputs, drains its outputs and routes them.
pub(crate) struct Shard<C: Core> {
    index: usize,
    shards: usize,
    clock: Clock,
    core: C,
    next_token: u64,
    pending: HashMap<Token, ReplyTo<C::Reply>>,
    /// Mesh messages waiting to be sent, per destination.
    outbox: Vec<MeshBatch<C>>,
    /// Destinations whose channel was full: a flusher task owns sending to them.
    blocked: Vec<bool>,
    senders: Vec<Option<Rc<ConnectedSender<MeshBatch<C>>>>>,
    /// Mesh messages the shard sent to itself.
    local_mesh: VecDeque<C::Mesh>,
    log: Box<dyn LogSink>,
    /// Records were appended since the last commit started.
    log_dirty: bool,
    committing: bool,
    /// A commit failed: requests are refused until [`reopen`] replaces core and log.
    log_failed: bool,
    remake: Remake<C>,
    wake_tx: flume::Sender<C::Wake>,
    wake_handler: Option<WakeHandler<C::Wake>>,
    /// The deadline the timer task sleeps towards (None: it waits to be notified).
    timer_armed: Option<Millis>,
    timer_notify: Rc<Notify>,
    this: Weak<RefCell<Shard<C>>>,
    tasks: Rc<Tasks>,
    /// The runtime is stopping: no more requests reach the core.
    closed: bool,
    /// Replies to batched calls, per origin executor, sent at the end of a drain.
    call_replies: Vec<CallReplies<C::Reply>>,
    call_reply_tx: Arc<Vec<flume::Sender<CallReplies<C::Reply>>>>,
    stats: ShardStats,
}

impl<C: Core> Shard<C> {
    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn request(&mut self, now: Millis, request: C::Request, reply_to: ReplyTo<C::Reply>) {
        if self.closed {
            // Dropping `reply_to` fails the caller with `RuntimeError::Shutdown`.
            return;
        }
        if self.log_failed {
            // The core's state may hold changes that are not durable: nobody sees it.
            self.stats.refused += 1;
            return;
        }
        let token = self.token();
        self.pending.insert(token, reply_to);
        self.stats.requests += 1;
        self.core.handle_request(now, token, request);
    }

    fn accept(&mut self, now: Millis, inbound: Inbound<C>) {
        match inbound {
            Inbound::One(request, tx) => self.request(now, request, ReplyTo::Remote(tx)),
            Inbound::Batch(requests, tx) => {
                let collector = Rc::new(RefCell::new(BatchCollector {
                    replies: std::iter::repeat_with(|| None)
                        .take(requests.len())
                        .collect(),
                    missing: requests.len(),
                    tx,
                }));
                for (i, request) in requests.into_iter().enumerate() {
                    self.request(now, request, ReplyTo::Batch(collector.clone(), i));
                }
            }
            Inbound::Calls { origin, calls } => {
                for (id, request) in calls {
                    self.request(now, request, ReplyTo::Call(origin, id));
                }
            }
        }
    }

    fn reply(&mut self, token: Token, reply: C::Reply) {
        match self.pending.remove(&token) {
            Some(ReplyTo::Remote(tx)) => {
                let _ = tx.try_send(reply);
            }
            Some(ReplyTo::Batch(collector, index)) => collector.borrow_mut().put(index, reply),
            Some(ReplyTo::Local(replier)) => replier.send(reply),
            Some(ReplyTo::Call(origin, id)) => {
                if let Some(out) = self.call_replies.get_mut(origin) {
                    out.push((id, reply));
                }
            }
            None => {
                self.stats.unknown_tokens += 1;
                return;
            }
        }
        self.stats.replies += 1;
    }

    fn route(&mut self, shard: usize, msg: C::Mesh) {
        if shard == self.index {
            self.stats.mesh_local += 1;
            self.local_mesh.push_back(msg);
        } else if let Some(outbox) = self.outbox.get_mut(shard) {
            outbox.push(msg);
        } else {
            self.stats.mesh_dropped += 1;
            eprintln!(
                "imps-engine runtime: shard {} sent a mesh message to shard {shard}, which does \
                 not exist (there are {}); dropped",
                self.index, self.shards
            );
        }
    }

    fn wake(&mut self, wake: C::Wake) {
        self.stats.wakes += 1;
        if let Some(handler) = &mut self.wake_handler {
            handler(wake);
        } else if self.wake_tx.try_send(wake).is_err() {
            self.stats.wakes_dropped += 1;
        }
    }

    /// Drains every output of the core (handling messages to itself in place), then sends
    /// the mesh batches, starts a commit if needed and re-arms the timer.
    fn drain(&mut self) {
        loop {
            while let Some(output) = self.core.poll_output() {
                match output {
                    Output::Reply { token, reply } => self.reply(token, reply),
                    Output::ToShard { shard, msg } => self.route(shard, msg),
                    Output::Append(record) => {
                        self.log.append(record);
                        self.log_dirty = true;
                        self.stats.appends += 1;
                    }
                    Output::Wake(wake) => self.wake(wake),
                }
            }
            if self.local_mesh.is_empty() {
                break;
            }
            let now = self.clock.now();
            while let Some(msg) = self.local_mesh.pop_front() {
                self.core.handle_mesh(now, self.index, msg);
            }
        }
        self.flush_mesh();
        self.flush_call_replies();
        self.maybe_commit();
        self.rearm_timer();
    }

    /// Sends the replies to batched calls: one message per origin executor.
    fn flush_call_replies(&mut self) {
        for (origin, replies) in self.call_replies.iter_mut().enumerate() {
            if replies.is_empty() {
                continue;
            }
            let batch = std::mem::take(replies);
            if let Some(tx) = self.call_reply_tx.get(origin) {
                // Unbounded: never blocks the shard; a stopped origin drops the replies.
                let _ = tx.send(batch);
            }
        }
    }

    fn flush_mesh(&mut self) {
        for dest in 0..self.outbox.len() {
            if self.blocked[dest] || self.outbox[dest].is_empty() {
                continue;
            }
            let Some(sender) = self.senders[dest].clone() else {
                continue;
            };
            let batch = std::mem::take(&mut self.outbox[dest]);
            let len = batch.len() as u64;
            match sender.try_send(batch) {
                Ok(()) => {
                    self.stats.mesh_out += len;
                    self.stats.mesh_batches_out += 1;
                }
                Err(GlommioError::WouldBlock(ResourceType::Channel(batch))) => {
                    // The channel is full: keep accumulating here (later messages join this
                    // batch) and let a task send it when there is room.
                    self.outbox[dest] = batch;
                    self.blocked[dest] = true;
                    self.tasks
                        .spawn(flush_blocked(self.this.clone(), dest, sender));
                }
                Err(_) => self.stats.mesh_dropped += len,
            }
        }
    }

    fn maybe_commit(&mut self) {
        if !self.log_dirty || self.committing || self.log_failed {
            return;
        }
        self.log_dirty = false;
        self.committing = true;
        self.stats.commits += 1;
        let commit = self.log.commit();
        let this = self.this.clone();
        self.tasks.spawn(async move {
            let result = commit.await;
            if let Some(shard) = this.upgrade() {
                shard.borrow_mut().committed(result);
            }
        });
    }

    fn committed(&mut self, result: Result<LogSeq, LogError>) {
        self.committing = false;
        match result {
            Ok(seq) => {
                self.stats.durable = self.stats.durable.max(seq);
                let now = self.clock.now();
                self.core.handle_durable(now, seq);
            }
            Err(error) if !self.log.is_failed() => {
                self.stats.commit_errors += 1;
                eprintln!(
                    "imps-engine runtime: shard {}: log commit failed: {error}; durability not \
                     reported (a later successful commit covers these records)",
                    self.index
                );
            }
            Err(error) => self.failed_for_good(&error),
        }
        self.drain();
    }

    /// Stops serving: fails every waiting caller with [`RuntimeError::Shutdown`] (their
    /// reply channels are dropped), drops undelivered mesh messages and closes the mesh.
    fn close(&mut self) {
        self.closed = true;
        self.pending.clear();
        self.wake_handler = None;
        self.outbox.iter_mut().for_each(Vec::clear);
        self.local_mesh.clear();
        self.senders.iter_mut().for_each(|sender| *sender = None);
    }

    fn rearm_timer(&mut self) {
        if let Some(next) = self.core.next_timer()
            && self.timer_armed.is_none_or(|armed| next < armed)
        {
            self.timer_armed = Some(next);
            self.timer_notify.notify();
        }
    }
}

/// Sends the accumulated batches to `dest` while its channel is full, then hands sending
/// back to [`Shard::flush_mesh`].
async fn flush_blocked<C: Core>(
    this: Weak<RefCell<Shard<C>>>,
    dest: usize,
    sender: Rc<ConnectedSender<MeshBatch<C>>>,
) {
    loop {
        let batch = {
            let Some(shard) = this.upgrade() else { return };
            let mut shard = shard.borrow_mut();
            let batch = std::mem::take(&mut shard.outbox[dest]);
            if batch.is_empty() {
                shard.blocked[dest] = false;
                return;
            }
            batch
        };
        let len = batch.len() as u64;
        let sent = sender.send(batch).await.is_ok();
        let Some(shard) = this.upgrade() else { return };
        let mut shard = shard.borrow_mut();
        if sent {
            shard.stats.mesh_out += len;
            shard.stats.mesh_batches_out += 1;
        } else {
            shard.stats.mesh_dropped += len;
        }
    }
}

/// Takes requests from the inbox, up to `batch_max` per drain of outputs.
async fn inbox_loop<C: Core>(
    shard: ShardCell<C>,
    inbox: flume::Receiver<Inbound<C>>,
    batch_max: usize,
) {
    let mut since_yield = 0;
    while let Ok(first) = inbox.recv_async().await {
        {
            let mut shard = shard.borrow_mut();
            let now = shard.clock.now();
            let mut taken = first.len();
            shard.accept(now, first);
            while taken < batch_max {
                let Ok(next) = inbox.try_recv() else { break };
                taken += next.len();
                shard.accept(now, next);
            }
            shard.drain();
            since_yield += taken;
        }
        if since_yield >= batch_max {
            since_yield = 0;
            futures_lite::future::yield_now().await;
        }
    }
}

/// Takes mesh batches from shard `from`.
async fn mesh_loop<C: Core>(
    shard: ShardCell<C>,
    from: usize,
    receiver: ConnectedReceiver<MeshBatch<C>>,
    batch_max: usize,
) {
    let mut since_yield = 0;
    while let Some(batch) = receiver.recv().await {
        {
            let mut shard = shard.borrow_mut();
            let now = shard.clock.now();
            shard.stats.mesh_batches_in += 1;
            shard.stats.mesh_in += batch.len() as u64;
            since_yield += batch.len();
            for msg in batch {
                shard.core.handle_mesh(now, from, msg);
            }
            shard.drain();
        }
        if since_yield >= batch_max {
            since_yield = 0;
            futures_lite::future::yield_now().await;
        }
    }
}

/// Calls `handle_timer` when `next_timer()` is due; sleeps until the earliest deadline
/// otherwise, and is woken early by [`Shard::rearm_timer`] when a drain brings it forward.
async fn timer_loop<C: Core>(shard: ShardCell<C>, notify: Rc<Notify>) {
    loop {
        let wait = {
            let mut shard = shard.borrow_mut();
            let now = shard.clock.now();
            let fired = shard.core.next_timer().is_some_and(|due| due <= now);
            if fired {
                shard.stats.timers += 1;
                shard.core.handle_timer(now);
                shard.drain();
            }
            let next = shard.core.next_timer();
            shard.timer_armed = next;
            next.map(|due| {
                let ms = due.since(shard.clock.now());
                // A core that still reports a due timer right after handle_timer would make
                // this loop spin: give it a millisecond.
                Duration::from_millis(if fired && ms == 0 { 1 } else { ms })
            })
        };
        match wait {
            None => notify.notified().await,
            Some(wait) if wait.is_zero() => futures_lite::future::yield_now().await,
            Some(wait) => {
                futures_lite::future::or(glommio::timer::sleep(wait), notify.notified()).await
            }
        }
    }
}

/// Runs the jobs sent with [`Client::spawn_on`].
async fn control_loop<C: Core>(local: LocalShard<C>, control: flume::Receiver<Job<C>>) {
    while let Ok(job) = control.recv_async().await {
        job(local.clone());
    }
}

/// Everything a shard's executor thread needs, built by [`Runtime::start`](super::Runtime).
pub(crate) struct ShardInit<C: Core> {
    pub(crate) index: usize,
    pub(crate) clock: Clock,
    pub(crate) batch_max: usize,
    pub(crate) inbox: flume::Receiver<Inbound<C>>,
    pub(crate) control: flume::Receiver<Job<C>>,
    pub(crate) wake_tx: flume::Sender<C::Wake>,
    /// Indexed by destination; `None` for itself.
    pub(crate) mesh_senders: Vec<Option<SharedSender<MeshBatch<C>>>>,
    /// Indexed by source; `None` for itself.
    pub(crate) mesh_receivers: Vec<Option<SharedReceiver<MeshBatch<C>>>>,
    pub(crate) client: Client<C>,
    /// Where replies to batched calls go, per origin executor.
    pub(crate) call_reply_tx: Arc<Vec<flume::Sender<CallReplies<C::Reply>>>>,
    /// Replies to this executor's batched calls.
    pub(crate) call_reply_rx: flume::Receiver<CallReplies<C::Reply>>,
}

/// What [`Teardown::run`] needs, handed out by [`run_shard`] once the shard is up.
pub(crate) struct Teardown<C: Core> {
    shard: ShardCell<C>,
    tasks: Rc<Tasks>,
}

impl<C: Core> Teardown<C> {
    /// Stops the shard on its executor: fails waiting callers, cancels every task, lets the
    /// executor drop their futures, then drops the core and the log sink here.
    pub(crate) async fn run(self) {
        self.shard.borrow_mut().close();
        self.tasks.close();
        futures_lite::future::yield_now().await;
        futures_lite::future::yield_now().await;
    }
}

/// The life of one shard on its executor: builds the core and the log sink here (they need
/// not be `Send`), connects the mesh, starts the tasks, then runs until the executor stops.
pub(crate) async fn run_shard<C, F, Fut>(
    init: ShardInit<C>,
    make_shard: Arc<F>,
    ready: ReadyGuard,
    teardown: Rc<RefCell<Option<Teardown<C>>>>,
) where
    C: Core,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(C, Box<dyn LogSink>), LogError>> + 'static,
{
    let index = init.index;
    let shards = init.mesh_senders.len();
    let remake: Remake<C> = {
        let make_shard = make_shard.clone();
        Rc::new(move |i| Box::pin(make_shard(i)) as Made<C>)
    };
    let (core, log) = match make_shard(index).await {
        Ok(parts) => parts,
        Err(error) => return ready.fail(error.to_string()),
    };

    // Every connect is spawned before any is awaited: a connect completes only when the
    // peer executor connects the other end, which it does concurrently.
    let senders: Vec<_> = init
        .mesh_senders
        .into_iter()
        .map(|s| s.map(|s| glommio::spawn_local(s.connect())))
        .collect();
    let receivers: Vec<_> = init
        .mesh_receivers
        .into_iter()
        .map(|r| r.map(|r| glommio::spawn_local(r.connect())))
        .collect();
    let mut connected_senders = Vec::with_capacity(shards);
    for sender in senders {
        connected_senders.push(match sender {
            Some(task) => Some(Rc::new(task.await)),
            None => None,
        });
    }
    let mut connected_receivers = Vec::with_capacity(shards);
    for receiver in receivers {
        connected_receivers.push(match receiver {
            Some(task) => Some(task.await),
            None => None,
        });
    }

    let timer_notify = Rc::new(Notify::default());
    let tasks = Rc::new(Tasks::default());
    let shard: ShardCell<C> = Rc::new_cyclic(|this| {
        RefCell::new(Shard {
            index,
            shards,
            clock: init.clock,
            core,
            next_token: 0,
            pending: HashMap::new(),
            outbox: (0..shards).map(|_| Vec::new()).collect(),
            blocked: vec![false; shards],
            senders: connected_senders,
            local_mesh: VecDeque::new(),
            log,
            log_dirty: false,
            committing: false,
            log_failed: false,
            remake,
            wake_tx: init.wake_tx,
            wake_handler: None,
            timer_armed: None,
            timer_notify: timer_notify.clone(),
            this: this.clone(),
            tasks: tasks.clone(),
            closed: false,
            call_replies: (0..shards).map(|_| Vec::new()).collect(),
            call_reply_tx: init.call_reply_tx,
            stats: ShardStats::default(),
        })
    });
    *teardown.borrow_mut() = Some(Teardown {
        shard: shard.clone(),
        tasks: tasks.clone(),
    });
    let calls = Calls::new(index, shards);
    tasks.spawn(reply_loop(calls.clone(), init.call_reply_rx));
    let local = LocalShard {
        index,
        shards,
        clock: init.clock,
        shard: shard.clone(),
        tasks: tasks.clone(),
        client: init.client,
        calls,
    };

    tasks.spawn(inbox_loop(shard.clone(), init.inbox, init.batch_max));
    for (from, receiver) in connected_receivers.into_iter().enumerate() {
        if let Some(receiver) = receiver {
            tasks.spawn(mesh_loop(shard.clone(), from, receiver, init.batch_max));
        }
    }
    tasks.spawn(timer_loop(shard.clone(), timer_notify));
    tasks.spawn(control_loop(local, init.control));
    // The core may have produced outputs while being built.
    shard.borrow_mut().drain();
    ready.ready();
    std::future::pending::<()>().await;
}

/// The shard as seen from a task on its own executor: submits requests in place (no
/// channel, no other thread), reaches other shards through [`LocalShard::client`].
///
/// `!Send`: it lives on the executor it was handed out on. Wake handlers run while the shard
/// drains its outputs: from inside one, only [`LocalShard::index`], [`LocalShard::shards`],
/// [`LocalShard::now`], [`LocalShard::client`] and [`LocalShard::spawn`] may be used (the
/// others would find the shard busy and panic); spawn a task to submit requests.
pub struct LocalShard<C: Core> {
    index: usize,
    shards: usize,
    clock: Clock,
    shard: Rc<RefCell<Shard<C>>>,
    tasks: Rc<Tasks>,
    client: Client<C>,
    calls: Rc<Calls<C>>,
}

impl<C: Core> Clone for LocalShard<C> {
    fn clone(&self) -> Self {
        LocalShard {
            index: self.index,
            shards: self.shards,
            clock: self.clock,
            shard: self.shard.clone(),
            tasks: self.tasks.clone(),
            client: self.client.clone(),
            calls: self.calls.clone(),
        }
    }
}

impl<C: Core> std::fmt::Debug for LocalShard<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalShard")
            .field("index", &self.index())
            .field("shards", &self.shards())
            .finish_non_exhaustive()
    }
}

impl<C: Core> LocalShard<C> {
    /// This shard's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// The runtime's clock (what the cores see as `now`).
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// A client, to reach other shards with [`Client::call_async`].
    pub fn client(&self) -> &Client<C> {
        &self.client
    }

    /// Hands `request` to the core at once and drains its outputs; the returned future
    /// resolves with the reply (immediately if the core answered synchronously).
    pub fn submit(&self, request: C::Request) -> LocalReply<C::Reply> {
        let (replier, reply) = reply_channel();
        let mut shard = self.shard.borrow_mut();
        let now = shard.clock.now();
        shard.request(now, request, ReplyTo::Local(replier));
        shard.drain();
        reply
    }

    /// Like [`LocalShard::submit`] for many requests, with one drain of outputs for all.
    pub fn submit_all(
        &self,
        requests: impl IntoIterator<Item = C::Request>,
    ) -> Vec<LocalReply<C::Reply>> {
        let mut shard = self.shard.borrow_mut();
        let now = shard.clock.now();
        let replies = requests
            .into_iter()
            .map(|request| {
                let (replier, reply) = reply_channel();
                shard.request(now, request, ReplyTo::Local(replier));
                reply
            })
            .collect();
        shard.drain();
        replies
    }

    /// Spawns `future` on this executor as one of the shard's tasks (a connection handler,
    /// say): it starts on the executor's next turn, and is cancelled when the runtime shuts
    /// down.
    pub fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        self.tasks.spawn(future);
    }

    /// Submits `request` and waits for the reply.
    pub async fn call(&self, request: C::Request) -> Result<C::Reply, RuntimeError> {
        self.submit(request).await
    }

    /// Calls `shard` from a task on this executor: in place when it is this shard,
    /// otherwise batched with the other calls this executor makes to `shard` in the same
    /// turn (one inbox item there, one reply message back).
    pub async fn call_on(
        &self,
        shard: usize,
        request: C::Request,
    ) -> Result<C::Reply, RuntimeError> {
        if shard == self.index {
            return self.submit(request).await;
        }
        if shard >= self.shards {
            return Err(RuntimeError::NoSuchShard {
                shard,
                shards: self.shards,
            });
        }
        self.calls
            .call(shard, request, &self.client, &self.tasks)
            .await
    }

    /// Delivers this shard's wake-ups to `handler` (on this executor, during the drain that
    /// produced them) instead of the [`Client::wakes`] channel; `None` restores the channel.
    /// The handler must not call back into this shard synchronously (spawn a task instead).
    pub fn set_wake_handler(&self, handler: Option<Box<dyn FnMut(C::Wake) + 'static>>) {
        self.shard.borrow_mut().wake_handler = handler;
    }

    /// The shard's counters.
    pub fn stats(&self) -> ShardStats {
        self.shard.borrow().stats
    }

    /// Read-only access to the core (inspection, metrics).
    pub fn with_core<R>(&self, f: impl FnOnce(&C) -> R) -> R {
        f(&self.shard.borrow().core)
    }
}
