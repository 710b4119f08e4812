//! The engine assembled: a data directory, its shards recovered, one pinned executor per
//! shard writing its own group-committed log, and a client that routes requests to the
//! owning shard. Used in-process by tests, benches and the load generator, and by `impsd`.
//!
//! ```text
//!   Engine::start: lock DATA -> recover every shard (snapshot + log tail)
//!                -> Runtime (executor per shard, ShardLog per shard) -> EngineClient
//! ```

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::AccessConfig;
use crate::core::LogSeq;
use crate::persist::{PersistError, load_shard, os_seed};
use crate::runtime::{
    Client, CommitFuture, LogError, LogSink, Runtime, RuntimeConfig, RuntimeError,
};
use crate::shard::{Reply, Request, Shard, route};
use crate::storage::{DataDir, DirLock, RecoveryReport, ShardLog, ShardLogConfig, StorageError};

/// How to start the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The data directory.
    pub data_dir: PathBuf,
    /// Shards: required to match an existing directory when given; a new directory gets
    /// this many (default: cores).
    pub shards: Option<u16>,
    /// Service policy.
    pub access: AccessConfig,
    /// Pin shard `i` to CPU `i`.
    pub pin: bool,
    /// Group-commit window: how long a commit waits to gather more records before its
    /// fdatasync. Zero (the default) syncs as soon as the previous sync is done, which
    /// groups by itself under load.
    pub commit_window: Duration,
    /// How long an idle executor spins before it sleeps (trades CPU for fewer wake-ups).
    pub spin_before_park: Option<Duration>,
}

impl EngineConfig {
    /// Defaults for `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            shards: None,
            access: AccessConfig::default(),
            pin: true,
            commit_window: Duration::ZERO,
            spin_before_park: None,
        }
    }
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The data directory or a shard's state could not be loaded.
    #[error(transparent)]
    Persist(#[from] PersistError),
    /// The data directory could not be used.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The executors could not start.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// The running engine.
pub struct Engine {
    runtime: Runtime<Shard>,
    client: EngineClient,
    reports: Vec<RecoveryReport>,
    _lock: DirLock,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("shards", &self.runtime.shards())
            .finish()
    }
}

/// Submits requests to the shard that owns them. Clone + Send + Sync.
#[derive(Debug, Clone)]
pub struct EngineClient {
    client: Client<Shard>,
    domain: Arc<str>,
}

impl EngineClient {
    /// The shard that owns `request`.
    pub fn shard_of(&self, request: &Request) -> usize {
        route(request, self.client.shards(), &self.domain)
    }

    /// Sends a request to its shard and waits for the reply (not on an executor thread).
    pub fn call(&self, request: Request) -> Result<Reply, RuntimeError> {
        let shard = self.shard_of(&request);
        self.client.call(shard, request)
    }

    /// Sends requests that all belong to `shard` in one crossing; replies in order.
    pub fn call_batch(
        &self,
        shard: usize,
        requests: Vec<Request>,
    ) -> Result<Vec<Reply>, RuntimeError> {
        self.client.call_batch(shard, requests)
    }

    /// The runtime's client (async calls, wake-ups, tasks on executors).
    pub fn runtime(&self) -> &Client<Shard> {
        &self.client
    }
}

thread_local! {
    /// Commits of this executor's log and their total duration in microseconds.
    static LOG_SYNC: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// Commits done by the log of the calling executor's shard, and their total time in µs.
pub fn log_sync_totals() -> (u64, u64) {
    LOG_SYNC.with(std::cell::Cell::get)
}

/// A shard's log on disk behind the runtime's sink. `ShardLog::append` can refuse a record;
/// the refusal is kept and fails the next commit, so nothing after it is reported durable.
struct DiskLog {
    log: Rc<ShardLog>,
    refused: RefCell<Option<String>>,
    window: Duration,
}

impl LogSink for DiskLog {
    fn append(&self, record: Vec<u8>) -> LogSeq {
        match self.log.append(&record) {
            Ok(seq) => seq,
            Err(e) => {
                self.refused.borrow_mut().get_or_insert(e.to_string());
                self.log.last_appended()
            }
        }
    }

    fn commit(&self) -> CommitFuture {
        if let Some(reason) = self.refused.borrow().clone() {
            return Box::pin(async move { Err(LogError::from(reason)) });
        }
        let log = Rc::clone(&self.log);
        let window = self.window;
        Box::pin(async move {
            if !window.is_zero() {
                glommio::timer::sleep(window).await;
            }
            let start = std::time::Instant::now();
            let result = log.commit().await.map_err(|e| Box::new(e) as LogError);
            let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            LOG_SYNC.with(|c| {
                let (n, total) = c.get();
                c.set((n + 1, total.saturating_add(us)));
            });
            result
        })
    }
}

impl Engine {
    /// Opens and locks the data directory, recovers every shard, and starts the executors.
    pub fn start(config: EngineConfig) -> Result<Engine, EngineError> {
        let dir = DataDir::open_as(&config.data_dir, config.shards)?;
        let lock = dir.lock()?;
        let key = dir.master_key()?;
        let n = dir.shards();
        let mut loaded = Vec::with_capacity(usize::from(n));
        let mut reports = Vec::with_capacity(usize::from(n));
        for i in 0..n {
            let (shard, report) = load_shard(&dir, i, config.access.clone(), key, os_seed()?)?;
            loaded.push(Some((shard, dir.shard_dir(i), report.next_seq)));
            reports.push(report);
        }
        let slots = Arc::new(Mutex::new(loaded));
        let window = config.commit_window;
        let runtime_config = RuntimeConfig {
            pin: config.pin,
            spin_before_park: config.spin_before_park,
            ..RuntimeConfig::with_shards(usize::from(n))
        };
        let runtime = Runtime::start_with(runtime_config, move |i| {
            let taken = slots
                .lock()
                .ok()
                .and_then(|mut s| s.get_mut(i).and_then(Option::take));
            async move {
                let (shard, shard_dir, next_seq) = taken
                    .ok_or_else(|| LogError::from(format!("shard {i} was already started")))?;
                let log =
                    ShardLog::create_deferred(&shard_dir, next_seq, ShardLogConfig::default())
                        .map_err(|e| Box::new(e) as LogError)?;
                let sink: Box<dyn LogSink> = Box::new(DiskLog {
                    log: Rc::new(log),
                    refused: RefCell::new(None),
                    window,
                });
                Ok((shard, sink))
            }
        })?;
        let client = EngineClient {
            client: runtime.client(),
            domain: Arc::from(config.access.domain.as_str()),
        };
        Ok(Engine {
            runtime,
            client,
            reports,
            _lock: lock,
        })
    }

    /// A client for in-process requests.
    pub fn client(&self) -> EngineClient {
        self.client.clone()
    }

    /// What recovery found, per shard.
    pub fn recovery(&self) -> &[RecoveryReport] {
        &self.reports
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.runtime.shards()
    }

    /// Stops every executor (the data directory is unlocked when this returns).
    pub fn shutdown(self) -> Result<(), EngineError> {
        self.runtime.shutdown()?;
        Ok(())
    }
}
