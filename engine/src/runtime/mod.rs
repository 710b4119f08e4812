//! Thread-per-core runtime: drives sans-IO [`Core`]s on pinned glommio executors.
//!
//! One executor thread per shard ([`RuntimeConfig::shards`], pinned to CPU `i` with
//! `Placement::Fixed(i)` when [`RuntimeConfig::pin`] and CPU `i` is online). On its
//! executor, a shard's driver owns the core (built there by the `make_core` factory, so cores
//! need not be `Send`), its log sink, and these tasks:
//!
//! - the **inbox**: a bounded flume channel of requests (or batches of requests) from
//!   [`Client`]s, taken up to [`RuntimeConfig::batch_max`] requests per drain of outputs;
//!   the runtime assigns the tokens;
//! - one **mesh receiver** per other shard: glommio `shared_channel`s carrying
//!   `Vec<C::Mesh>`, i.e. everything one drain produced for one destination travels as one
//!   channel item (when the channel is full, later messages join the waiting batch);
//!   messages a shard sends to itself are handled in place, in the same drain;
//! - the **timer**: sleeps until `next_timer()` (woken early when a drain brings the deadline
//!   forward), then calls `handle_timer`; no busy polling;
//! - **group commit**: after a drain that appended records ([`LogSink::append`]), one
//!   [`LogSink::commit`] at a time (records appended meanwhile go in the next one); when it
//!   resolves with `Ok(seq)`, `handle_durable(now, seq)` and a new drain. A failed commit is
//!   printed to stderr and durability is not reported: requests waiting on it keep waiting
//!   until a later commit (started by the next append) succeeds;
//! - the **control** task, which runs closures sent with [`Client::spawn_on`].
//!
//! `now` is milliseconds since [`Runtime::start`] (one `Instant`, shared by all shards).
//! Wake-ups (`Output::Wake`) go to a bounded flume channel per shard ([`Client::wakes`]) or,
//! if one is set, to a handler on the shard's executor ([`LocalShard::set_wake_handler`]).
//!
//! Shutdown ([`Runtime::shutdown`] or drop) stops every executor: waiting callers get
//! [`RuntimeError::Shutdown`], the shard's tasks (including those started with
//! [`LocalShard::spawn`] and [`Client::spawn_on`]) are cancelled, the core and the log sink
//! are dropped on their executor, and the threads are joined.
//!
//! # Use
//!
//! ```ignore
//! let runtime = Runtime::start(RuntimeConfig::default(), |shard| MyCore::new(shard))?;
//! let client = runtime.client();                  // Clone + Send + Sync
//! let reply = client.call(0, request)?;           // blocking, from an ordinary thread
//! let replies = client.call_batch(1, requests)?;  // one channel crossing for many
//!
//! // A listener per core (front-end): the closure runs on each shard's executor; the
//! // future it returns is spawned there and cancelled at shutdown.
//! runtime.spawn_on_each(|local: LocalShard<MyCore>| async move {
//!     let listener = glommio::net::TcpListener::bind(addr_for(local.index())).unwrap();
//!     while let Ok(stream) = listener.accept().await {
//!         let local = local.clone();
//!         local.clone().spawn(async move {
//!             // ... parse a request from `stream`, find its shard ...
//!             let reply = if shard == local.index() {
//!                 local.call(request).await                        // in place, no channel
//!             } else {
//!                 local.client().call_async(shard, request).await  // another core
//!             };
//!         });
//!     }
//! })?;
//! runtime.shutdown()?;                            // or drop it
//! ```
//!
//! To build the core from a recovered log, use [`Runtime::start_with`], whose asynchronous
//! factory returns the core and its [`LogSink`] together.

mod calls;
mod client;
mod local;
mod log;
mod shard;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use glommio::channels::shared_channel;
use glommio::{CpuSet, ExecutorJoinHandle, LocalExecutorBuilder, Placement};

use crate::core::{Core, Millis};

pub use client::{Client, Pending};
pub use local::LocalReply;
pub use log::{CommitFuture, LogError, LogFactory, LogSink, MemoryLog};
pub use shard::{LocalShard, ShardStats};

use client::Shared;
use shard::{ReadyGuard, ShardInit, run_shard};

/// Why the runtime, or a call through it, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The configuration cannot be used.
    #[error("invalid runtime configuration: {0}")]
    Config(String),
    /// A shard's executor could not be started (the others were stopped).
    #[error("shard {shard} failed to start: {message}")]
    Start {
        /// The shard.
        shard: usize,
        /// What went wrong.
        message: String,
    },
    /// A request named a shard that does not exist.
    #[error("no shard {shard} (the runtime has {shards})")]
    NoSuchShard {
        /// The shard asked for.
        shard: usize,
        /// How many there are.
        shards: usize,
    },
    /// The runtime is shut down (or the shard stopped) before the reply came.
    #[error("the runtime is shut down")]
    Shutdown,
    /// [`Pending::wait_timeout`] gave up.
    #[error("timed out waiting for a shard")]
    Timeout,
    /// A shard's executor thread ended abnormally (a panic in a core, say).
    #[error("shard {shard} stopped abnormally: {message}")]
    Panicked {
        /// The shard.
        shard: usize,
        /// What the thread reported.
        message: String,
    },
}

/// The runtime's monotonic clock: milliseconds since start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> Millis {
        Millis(u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX))
    }
}

/// How to run the shards.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Number of shards, one executor thread each (default: the available cores).
    pub shards: usize,
    /// Pin shard `i` to CPU `i` when that CPU is online (default true); unpinned otherwise.
    pub pin: bool,
    /// Mesh batches that may wait in the channel from one shard to another (default 64);
    /// when full, messages accumulate in the sender's batch.
    pub mesh_capacity: usize,
    /// Requests taken from the inbox before the outputs are drained and other tasks get a
    /// turn (default 512; a batch is never split).
    pub batch_max: usize,
    /// Inbox items (single requests or batches) that may wait per shard (default 1024);
    /// blocking calls block and async calls wait when it is full.
    pub inbox_capacity: usize,
    /// Wake-ups that may wait in a shard's [`Client::wakes`] channel (default 65536); more
    /// are dropped and counted in [`ShardStats::wakes_dropped`].
    pub wake_capacity: usize,
    /// Thread name prefix (glommio appends `-<executor id>`).
    pub name: String,
    /// Memory glommio reserves per executor for storage I/O (None: glommio's default,
    /// 10 MiB).
    pub io_memory: Option<usize>,
    /// Spin this long before parking an idle executor (None: park at once).
    pub spin_before_park: Option<Duration>,
    /// Builds each shard's log sink, on its executor (default: a fresh [`MemoryLog`]).
    pub log: LogFactory,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            shards: std::thread::available_parallelism().map_or(1, |n| n.get()),
            pin: true,
            mesh_capacity: 64,
            batch_max: 512,
            inbox_capacity: 1024,
            wake_capacity: 65536,
            name: "imps-shard".to_owned(),
            io_memory: None,
            spin_before_park: None,
            log: Arc::new(|_| Box::new(MemoryLog::new())),
        }
    }
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("shards", &self.shards)
            .field("pin", &self.pin)
            .field("mesh_capacity", &self.mesh_capacity)
            .field("batch_max", &self.batch_max)
            .field("inbox_capacity", &self.inbox_capacity)
            .field("wake_capacity", &self.wake_capacity)
            .field("name", &self.name)
            .field("io_memory", &self.io_memory)
            .field("spin_before_park", &self.spin_before_park)
            .finish_non_exhaustive()
    }
}

impl RuntimeConfig {
    /// The default configuration with `shards` shards.
    pub fn with_shards(shards: usize) -> RuntimeConfig {
        RuntimeConfig {
            shards,
            ..RuntimeConfig::default()
        }
    }

    /// Uses `make_log(shard)` (called on the shard's executor) for the log sinks.
    pub fn with_log<F>(mut self, make_log: F) -> RuntimeConfig
    where
        F: Fn(usize) -> Box<dyn LogSink> + Send + Sync + 'static,
    {
        self.log = Arc::new(make_log);
        self
    }

    fn validate(&self) -> Result<(), RuntimeError> {
        let positive = [
            ("shards", self.shards),
            ("mesh_capacity", self.mesh_capacity),
            ("batch_max", self.batch_max),
            ("inbox_capacity", self.inbox_capacity),
            ("wake_capacity", self.wake_capacity),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(RuntimeError::Config(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }
}

/// A running set of shards. Dropping it shuts it down like [`Runtime::shutdown`].
pub struct Runtime<C: Core> {
    client: Client<C>,
    /// Dropping these stops the executors.
    stops: Vec<flume::Sender<()>>,
    threads: Vec<ExecutorJoinHandle<()>>,
}

impl<C: Core> std::fmt::Debug for Runtime<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("shards", &self.shards())
            .finish_non_exhaustive()
    }
}

impl<C: Core> Runtime<C> {
    /// Starts one executor per shard, builds each core with `make_core(shard)` and its log
    /// sink with [`RuntimeConfig::log`] on its executor, connects the mesh, and returns once
    /// every shard is ready. If any shard fails to come up (executor error, panic in
    /// `make_core`), the others are stopped and joined and the error is returned.
    pub fn start<F>(config: RuntimeConfig, make_core: F) -> Result<Runtime<C>, RuntimeError>
    where
        F: Fn(usize) -> C + Send + Sync + 'static,
    {
        let make_log = config.log.clone();
        Runtime::start_with(config, move |shard| {
            let parts = (make_core(shard), make_log(shard));
            std::future::ready(Ok(parts))
        })
    }

    /// Like [`Runtime::start`], with one asynchronous, fallible factory that builds both the
    /// core and its log sink on the shard's executor (opening the log and recovering the
    /// core's state from it, say); [`RuntimeConfig::log`] is not used. An error fails the
    /// start with [`RuntimeError::Start`]. After a failed log commit the factory is called
    /// again for that shard (on its executor) to rebuild it from what is durable.
    pub fn start_with<F, Fut>(
        config: RuntimeConfig,
        make_shard: F,
    ) -> Result<Runtime<C>, RuntimeError>
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(C, Box<dyn LogSink>), LogError>> + 'static,
    {
        config.validate()?;
        let n = config.shards;
        let clock = Clock::new();
        let online: Vec<usize> = if config.pin {
            CpuSet::online()
                .map(|cpus| cpus.iter().map(|location| location.cpu).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };

        let mut inbox_tx = Vec::with_capacity(n);
        let mut inbox_rx = Vec::with_capacity(n);
        let mut control_tx = Vec::with_capacity(n);
        let mut control_rx = Vec::with_capacity(n);
        let mut wake_tx = Vec::with_capacity(n);
        let mut wake_rx = Vec::with_capacity(n);
        let (call_reply_tx, call_reply_rx): (Vec<_>, Vec<_>) =
            (0..n).map(|_| flume::unbounded()).unzip();
        let call_reply_tx = Arc::new(call_reply_tx);
        for _ in 0..n {
            let (tx, rx) = flume::bounded(config.inbox_capacity);
            inbox_tx.push(RwLock::new(Some(tx)));
            inbox_rx.push(rx);
            let (tx, rx) = flume::unbounded();
            control_tx.push(RwLock::new(Some(tx)));
            control_rx.push(rx);
            let (tx, rx) = flume::bounded(config.wake_capacity);
            wake_tx.push(tx);
            wake_rx.push(rx);
        }
        // mesh_tx[from][to], mesh_rx[to][from]
        let mut mesh_tx: Vec<Vec<_>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
        let mut mesh_rx: Vec<Vec<_>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
        for from in 0..n {
            for to in 0..n {
                if from != to {
                    let (tx, rx) = shared_channel::new_bounded(config.mesh_capacity);
                    mesh_tx[from][to] = Some(tx);
                    mesh_rx[to][from] = Some(rx);
                }
            }
        }
        let client = Client::new(Shared {
            inboxes: inbox_tx,
            control: control_tx,
            wakes: wake_rx,
            clock,
        });

        let make_shard = Arc::new(make_shard);
        let (ready_tx, ready_rx) = flume::unbounded();
        let mut runtime = Runtime {
            client: client.clone(),
            stops: Vec::with_capacity(n),
            threads: Vec::with_capacity(n),
        };
        let shard_parts = inbox_rx
            .into_iter()
            .zip(control_rx)
            .zip(wake_tx)
            .zip(mesh_tx.into_iter().zip(mesh_rx));
        for (index, (((inbox, control), wake_tx), (mesh_senders, mesh_receivers))) in
            shard_parts.enumerate()
        {
            let placement = if online.contains(&index) {
                Placement::Fixed(index)
            } else {
                Placement::Unbound
            };
            let mut builder =
                LocalExecutorBuilder::new(placement).name(&format!("{}{index}", config.name));
            if let Some(io_memory) = config.io_memory {
                builder = builder.io_memory(io_memory);
            }
            if let Some(spin) = config.spin_before_park {
                builder = builder.spin_before_park(spin);
            }
            let init = ShardInit {
                index,
                clock,
                batch_max: config.batch_max,
                inbox,
                control,
                wake_tx,
                mesh_senders,
                mesh_receivers,
                client: client.clone(),
                call_reply_tx: call_reply_tx.clone(),
                call_reply_rx: call_reply_rx
                    .get(index)
                    .cloned()
                    .ok_or(RuntimeError::Config("call reply channels".into()))?,
            };
            let (stop_tx, stop_rx) = flume::bounded::<()>(1);
            let revoke = client.revoke_on_drop(index);
            let guard = ReadyGuard::new(index, ready_tx.clone());
            let make_shard = make_shard.clone();
            let spawned = builder.spawn(move || async move {
                // Dropped when this executor's life ends, however it ends.
                let _revoke = revoke;
                let stopped = async move {
                    let _ = stop_rx.recv_async().await;
                };
                let teardown = Rc::new(RefCell::new(None));
                let running = run_shard(init, make_shard, guard, teardown.clone());
                futures_lite::future::or(running, stopped).await;
                let teardown = teardown.borrow_mut().take();
                if let Some(teardown) = teardown {
                    teardown.run().await;
                }
            });
            match spawned {
                Ok(handle) => {
                    runtime.threads.push(handle);
                    runtime.stops.push(stop_tx);
                }
                Err(error) => {
                    let _ = runtime.stop();
                    return Err(RuntimeError::Start {
                        shard: index,
                        message: error.to_string(),
                    });
                }
            }
        }
        drop(ready_tx);

        let mut ready = 0;
        while ready < n {
            match ready_rx.recv() {
                Ok((_, Ok(()))) => ready += 1,
                Ok((shard, Err(message))) => {
                    let joined = runtime.stop();
                    let message = match joined {
                        Err(RuntimeError::Panicked { message, .. }) => message,
                        _ => message,
                    };
                    return Err(RuntimeError::Start { shard, message });
                }
                Err(_) => {
                    let _ = runtime.stop();
                    return Err(RuntimeError::Start {
                        shard: 0,
                        message: "shards stopped during startup".to_owned(),
                    });
                }
            }
        }
        Ok(runtime)
    }

    /// A client for this runtime (also usable after the runtime is gone: its calls then fail
    /// with [`RuntimeError::Shutdown`]).
    pub fn client(&self) -> Client<C> {
        self.client.clone()
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.client.shards()
    }

    /// See [`Client::spawn_on`].
    pub fn spawn_on<F, Fut>(&self, shard: usize, f: F) -> Result<Pending<Fut::Output>, RuntimeError>
    where
        F: FnOnce(LocalShard<C>) -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.client.spawn_on(shard, f)
    }

    /// See [`Client::spawn_on_each`]: e.g. one listener per core.
    pub fn spawn_on_each<F, Fut>(&self, f: F) -> Result<Vec<Pending<Fut::Output>>, RuntimeError>
    where
        F: Fn(LocalShard<C>) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.client.spawn_on_each(f)
    }

    /// Stops every executor (tasks are dropped where they stand; calls waiting for a reply
    /// fail with [`RuntimeError::Shutdown`]) and joins the threads. Reports the first shard
    /// whose thread ended abnormally.
    pub fn shutdown(mut self) -> Result<(), RuntimeError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), RuntimeError> {
        self.stops.clear();
        let mut result = Ok(());
        for (shard, thread) in self.threads.drain(..).enumerate() {
            if let Err(error) = thread.join()
                && result.is_ok()
            {
                result = Err(RuntimeError::Panicked {
                    shard,
                    message: error.to_string(),
                });
            }
        }
        result
    }
}

impl<C: Core> Drop for Runtime<C> {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
