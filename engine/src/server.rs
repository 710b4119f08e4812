//! The engine assembled: a data directory, its shards recovered, one pinned executor per
//! shard writing its own group-committed log, and a client that routes requests to the
//! owning shard. Used in-process by tests, benches and the load generator, and by `impsd`.
//!
//! ```text
//!   Engine::start: lock DATA -> recover every shard (snapshot + log tail)
//!                -> Runtime (executor per shard, ShardLog per shard) -> EngineClient
//!                -> per shard: a snapshot every SNAPSHOT_EVERY records (segments pruned)
//! ```
//!
//! A shard whose log fails (full disk, I/O error) answers the requests waiting for
//! durability with errors, refuses requests, and is rebuilt from disk by the same factory
//! that built it (see `runtime::shard`), retrying until the disk accepts writes again.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::AccessConfig;
use crate::core::LogSeq;
use crate::persist::{PersistError, load_shard, load_shards, os_seed, redistribute};
use crate::runtime::{
    Client, CommitFuture, LocalShard, LogError, LogSink, Runtime, RuntimeConfig, RuntimeError,
};
use crate::shard::{Reply, Request, Shard, route};
use crate::storage::{
    DataDir, DirLock, RecoveryReport, ShardLog, ShardLogConfig, StorageError, write_snapshot_async,
};

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
    /// Log records after which a shard writes a snapshot and deletes the segments it
    /// covers (bounds disk use and restart time).
    pub snapshot_every: u64,
    /// The way to the SSP federation desk (see [`crate::peering::desk_channel`]): every
    /// shard is connected to it when built, also when rebuilt after a log failure.
    pub federation: Option<flume::Sender<crate::peering::FederationOut>>,
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
            snapshot_every: default_snapshot_every(),
            federation: None,
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
    /// The executors could not start (or stopped).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A snapshot asked for could not be written.
    #[error("snapshot of shard {shard} failed: {reason}")]
    Snapshot {
        /// The shard.
        shard: usize,
        /// What went wrong.
        reason: String,
    },
}

/// The running engine.
pub struct Engine {
    runtime: Runtime<Shard>,
    client: EngineClient,
    reports: Vec<RecoveryReport>,
    dir: DataDir,
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

    fn is_failed(&self) -> bool {
        self.refused.borrow().is_some() || self.log.is_failed()
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

/// Log records after which a shard writes a snapshot (and deletes the segments it covers),
/// unless the environment variable `IMPS_SNAPSHOT_EVERY` says otherwise.
pub const SNAPSHOT_EVERY: u64 = 1_000_000;
/// How often a shard looks whether a snapshot is due.
const SNAPSHOT_CHECK: Duration = Duration::from_secs(1);
/// How long a snapshot waits for the records it covers to become durable.
const SNAPSHOT_DURABLE_WAIT: Duration = Duration::from_secs(30);

/// The default snapshot interval in records: `IMPS_SNAPSHOT_EVERY` or [`SNAPSHOT_EVERY`].
pub fn default_snapshot_every() -> u64 {
    std::env::var("IMPS_SNAPSHOT_EVERY")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(SNAPSHOT_EVERY)
}

/// Writes a snapshot of the shard whenever `every` records were appended since the last one
/// (`since`): at once after a startup that replayed that many (a missing or old snapshot),
/// then checked every [`SNAPSHOT_CHECK`]. Bounds both the log's disk use and recovery time.
async fn snapshot_loop(local: LocalShard<Shard>, shard_dir: PathBuf, every: u64, since: LogSeq) {
    let mut last = since;
    loop {
        let appended = local.with_core(|s| s.next_log_seq().0.saturating_sub(1));
        if appended.saturating_sub(last.0) >= every {
            match snapshot_now(&local, &shard_dir).await {
                Ok(seq) => last = seq,
                Err(e) => tracing::warn!(shard = local.index(), error = %e, "snapshot failed"),
            }
        }
        glommio::timer::sleep(SNAPSHOT_CHECK).await;
    }
}

/// Snapshots the shard as it is now: its image covers every record appended so far (the
/// runtime hands records to the log as the core produces them), written once all of them
/// are durable, so the snapshot never runs ahead of the log.
async fn snapshot_now(
    local: &LocalShard<Shard>,
    shard_dir: &std::path::Path,
) -> Result<LogSeq, String> {
    let started = std::time::Instant::now();
    let (image, seq) = local.with_core(|s| (s.image().to_bytes(), LogSeq(s.next_log_seq().0 - 1)));
    let image = image.map_err(|e| e.to_string())?;
    if seq.0 == 0 {
        return Ok(seq); // nothing was ever logged: nothing to cover
    }
    // The core knows what is durable, recovered records included.
    while local.with_core(Shard::durable_log_seq) < seq {
        if started.elapsed() > SNAPSHOT_DURABLE_WAIT {
            return Err(format!("records up to {} did not become durable", seq.0));
        }
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
    let bytes = image.len();
    write_snapshot_async(shard_dir.to_path_buf(), seq, image)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        shard = local.index(),
        seq = seq.0,
        bytes,
        ms = started.elapsed().as_millis() as u64,
        "snapshot written; covered log segments deleted"
    );
    Ok(seq)
}

/// What rebuilding a shard from disk needs (after its log failed).
struct Reload {
    dir: DataDir,
    access: AccessConfig,
    key: [u8; 32],
}

impl Reload {
    /// Recovers shard `i` from its directory: the shard, its directory and its next seq.
    fn load(&self, i: usize) -> Result<(Shard, PathBuf, LogSeq), LogError> {
        let index = u16::try_from(i).map_err(|_| LogError::from(format!("no shard {i}")))?;
        let seed = os_seed().map_err(|e| Box::new(e) as LogError)?;
        let (shard, report) = load_shard(&self.dir, index, self.access.clone(), self.key, seed)
            .map_err(|e| Box::new(e) as LogError)?;
        for damage in &report.damage {
            eprintln!("shard {i}: rebuilt past {damage}");
        }
        Ok((shard, self.dir.shard_dir(index), report.next_seq))
    }
}

impl Engine {
    /// Opens and locks the data directory, recovers every shard, and starts the executors.
    pub fn start(mut config: EngineConfig) -> Result<Engine, EngineError> {
        // The shards open their files from their own executors: give them an absolute path
        // (a relative one fails there with EBADF).
        config.data_dir = std::path::absolute(&config.data_dir)
            .map_err(|e| StorageError::io("resolve", &config.data_dir, e))?;
        let dir = match DataDir::open_as(&config.data_dir, config.shards) {
            // Another shard count than the directory has: move the data first.
            Err(StorageError::ShardCount {
                found, requested, ..
            }) => {
                let moved = redistribute(&config.data_dir, requested, config.access.clone())?;
                tracing::info!(
                    from = found,
                    to = requested,
                    users = moved.users,
                    "redistributed the data directory"
                );
                DataDir::open_as(&config.data_dir, config.shards)?
            }
            other => other?,
        };
        // Written under an older ownership rule: place the data by the current one.
        let dir = if dir.routing() < crate::routing::ROUTING_VERSION && dir.shards() > 1 {
            let moved = redistribute(&config.data_dir, dir.shards(), config.access.clone())?;
            tracing::info!(
                routing = crate::routing::ROUTING_VERSION,
                users = moved.users,
                "placed the data directory by the current ownership rule"
            );
            DataDir::open_as(&config.data_dir, config.shards)?
        } else {
            dir
        };
        let lock = dir.lock()?;
        for stale in dir.remove_stale_layouts(&lock)? {
            tracing::info!(path = %stale.display(), "removed a superseded shard directory");
        }
        let key = dir.master_key()?;
        let n = dir.shards();
        let mut loaded = Vec::with_capacity(usize::from(n));
        let mut reports = Vec::with_capacity(usize::from(n));
        for (i, (shard, report)) in (0..n).zip(load_shards(&dir, &config.access, key)?) {
            loaded.push(Some((shard, dir.shard_dir(i), report.next_seq)));
            reports.push(report);
        }
        let slots = Arc::new(Mutex::new(loaded));
        let window = config.commit_window;
        let federation = config.federation.clone();
        let runtime_config = RuntimeConfig {
            pin: config.pin,
            spin_before_park: config.spin_before_park,
            ..RuntimeConfig::with_shards(usize::from(n))
        };
        let reload = Arc::new(Reload {
            dir: dir.clone(),
            access: config.access.clone(),
            key,
        });
        // The runtime's clock starts now: shards turn it into wall time (message dates and
        // expiry of stored messages) with this offset.
        let epoch_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let runtime = Runtime::start_with(runtime_config, move |i| {
            let taken = slots
                .lock()
                .ok()
                .and_then(|mut s| s.get_mut(i).and_then(Option::take));
            let reload = Arc::clone(&reload);
            let federation = federation.clone();
            async move {
                // The first call takes the shard loaded above; a later one (after a log
                // failure) recovers it from disk again.
                let (mut shard, shard_dir, next_seq) = match taken {
                    Some(loaded) => loaded,
                    None => reload.load(i)?,
                };
                shard.set_epoch_ms(epoch_ms);
                shard.set_federation(federation);
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
        let every = config.snapshot_every.max(1);
        let since: Vec<LogSeq> = reports
            .iter()
            .map(|r| r.snapshot_seq.unwrap_or_default())
            .collect();
        let snapshot_dir = dir.clone();
        // The tasks run until the executors stop; nobody waits for their (never) result.
        drop(client.runtime().spawn_on_each(move |local| {
            let i = local.index();
            let shard_dir = snapshot_dir.shard_dir(u16::try_from(i).unwrap_or(u16::MAX));
            snapshot_loop(
                local,
                shard_dir,
                every,
                since.get(i).copied().unwrap_or_default(),
            )
        })?);
        Ok(Engine {
            runtime,
            client,
            reports,
            dir,
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

    /// Writes a snapshot of every shard now (on demand, besides the schedule) and deletes
    /// the log segments it covers; returns, per shard, the last record it covers.
    pub fn snapshot_now(&self) -> Result<Vec<u64>, EngineError> {
        let dir = self.dir.clone();
        let pending = self.client.runtime().spawn_on_each(move |local| {
            let shard_dir = dir.shard_dir(u16::try_from(local.index()).unwrap_or(u16::MAX));
            async move { snapshot_now(&local, &shard_dir).await }
        })?;
        let mut covered = Vec::with_capacity(pending.len());
        for (shard, p) in pending.into_iter().enumerate() {
            match p.wait()? {
                Ok(seq) => covered.push(seq.0),
                Err(reason) => return Err(EngineError::Snapshot { shard, reason }),
            }
        }
        Ok(covered)
    }

    /// Stops every executor (the data directory is unlocked when this returns).
    pub fn shutdown(self) -> Result<(), EngineError> {
        self.runtime.shutdown()?;
        Ok(())
    }
}
