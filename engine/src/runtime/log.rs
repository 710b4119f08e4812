//! The per-shard log sink the runtime hands [`Output::Append`](crate::core::Output::Append)
//! records to, and an in-memory implementation.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::core::LogSeq;

/// Why a commit failed (any error type converts into it with `?` or `.into()`).
pub type LogError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The future returned by [`LogSink::commit`]: it must not borrow the sink (clone an `Rc`
/// into it), because more records are appended while it is in flight.
pub type CommitFuture = Pin<Box<dyn Future<Output = Result<LogSeq, LogError>>>>;

/// Builds the log sink of one shard; called on that shard's executor thread with the shard
/// index, so the sink may be `!Send` (a glommio file, say).
pub type LogFactory = Arc<dyn Fn(usize) -> Box<dyn LogSink> + Send + Sync + 'static>;

/// Where a shard's log records go.
///
/// The runtime calls [`LogSink::append`] for every `Output::Append`, in output order, and
/// after a drain of outputs that appended anything, [`LogSink::commit`] (one commit at a
/// time: records appended while a commit is in flight go in the next one). When the commit
/// resolves with `Ok(seq)` the core is told [`handle_durable(now, seq)`](crate::core::Core::handle_durable);
/// with `Err` from a sink that [`is_failed`](LogSink::is_failed),
/// [`handle_log_failed`](crate::core::Core::handle_log_failed), and the shard is rebuilt
/// with the factory of [`Runtime::start_with`](super::Runtime::start_with); with `Err` from
/// any other sink, nothing: a later commit covers the records.
///
/// A storage `ShardLog` (glommio DMA file) fits behind this trait with a small adapter that
/// holds it in an `Rc` and clones the `Rc` into the commit future.
pub trait LogSink {
    /// Appends one record (buffered; not durable yet) and returns its sequence number.
    fn append(&self, record: Vec<u8>) -> LogSeq;

    /// Makes every record appended before this call durable; resolves with the sequence
    /// number of the last durable record. Called on the shard's executor; the future is
    /// polled there too.
    fn commit(&self) -> CommitFuture;

    /// After a failed commit: whether the sink is failed for good (it will never make the
    /// records after its last durable one durable: a file log after a failed write or
    /// fsync). Then the core is told and the shard rebuilt; otherwise (the default) the
    /// failure is taken as passing and a later commit covers the records.
    fn is_failed(&self) -> bool {
        false
    }
}

#[derive(Debug, Default)]
struct MemoryLogInner {
    /// Sequence number of the record before the first one kept here.
    base: u64,
    records: Mutex<Vec<Vec<u8>>>,
    /// Last committed sequence number.
    committed: AtomicU64,
    /// Number of commits.
    commits: AtomicU64,
}

/// A [`LogSink`] that keeps records in memory; a commit resolves at once.
///
/// Clones share the same log, so a test can keep one clone and hand another to the runtime
/// (through [`RuntimeConfig::with_log`](super::RuntimeConfig::with_log)) to inspect the
/// records and count commits. It is the runtime's default sink (one fresh log per shard).
#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    inner: Arc<MemoryLogInner>,
}

impl MemoryLog {
    /// An empty log whose first record will be number 1.
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// An empty log whose first record will be number `last.0 + 1` (as after a recovery that
    /// found records up to `last`).
    pub fn starting_after(last: LogSeq) -> MemoryLog {
        MemoryLog {
            inner: Arc::new(MemoryLogInner {
                base: last.0,
                committed: AtomicU64::new(last.0),
                ..MemoryLogInner::default()
            }),
        }
    }

    fn records_locked(&self) -> MutexGuard<'_, Vec<Vec<u8>>> {
        self.inner
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of every record appended so far, in order.
    pub fn records(&self) -> Vec<Vec<u8>> {
        self.records_locked().clone()
    }

    /// Number of records appended so far.
    pub fn len(&self) -> usize {
        self.records_locked().len()
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequence number of the last appended record (the base when empty).
    pub fn last_seq(&self) -> LogSeq {
        LogSeq(self.inner.base + self.len() as u64)
    }

    /// Sequence number covered by the last commit.
    pub fn committed(&self) -> LogSeq {
        LogSeq(self.inner.committed.load(Ordering::Acquire))
    }

    /// Number of commits so far.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Acquire)
    }
}

impl LogSink for MemoryLog {
    fn append(&self, record: Vec<u8>) -> LogSeq {
        let mut records = self.records_locked();
        records.push(record);
        LogSeq(self.inner.base + records.len() as u64)
    }

    fn commit(&self) -> CommitFuture {
        let seq = self.last_seq();
        self.inner.committed.fetch_max(seq.0, Ordering::AcqRel);
        self.inner.commits.fetch_add(1, Ordering::AcqRel);
        Box::pin(std::future::ready(Ok(seq)))
    }
}
