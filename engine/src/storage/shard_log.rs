//! The log a running shard writes, on its glommio executor, with group commit.
//!
//! [`ShardLog::append`] only frames the record into an in-memory buffer and numbers it.
//! [`ShardLog::commit`] writes everything buffered and `fdatasync`s it; concurrent callers
//! share one sync: while a sync is in flight, others wait for it and then sync again only if
//! records they need arrived meanwhile. [`run_group_commit`] drives commits from one task:
//! it waits for appends, lets a short window gather more, commits, and reports durability.
//!
//! I/O: glommio [`DmaFile`] (O_DIRECT through io_uring), chosen over `BufferedFile` so that
//! log writes bypass the page cache and do not compete with it, and over
//! `DmaStreamWriter` because group commit needs to hand out a whole batch and learn exactly
//! when that batch is synced. O_DIRECT needs block-aligned offsets and lengths, so every
//! write starts at the block holding the end of the log, rewrites that block's already
//! durable bytes (kept in memory) followed by the new frames, and pads the last block with
//! zeros. Hence:
//! - after an unclean stop a segment may end with up to one block of zeros, which
//!   [`recover`](super::recover) reports as [`DamageKind::Padding`](super::DamageKind);
//! - when a segment is finished (rotation at [`ShardLogConfig::segment_bytes`], or
//!   [`ShardLog::close`]) it is truncated to its exact length, so it ends cleanly.
//!
//! A leader round first yields once to the executor, so that tasks already woken (typically
//! by the previous round) append before the batch is taken.
//!
//! The constructors also use blocking `std::fs` once, to set aside stale files (startup only).
//! A new segment's directory entry is fsynced before any record in it is reported durable.
//!
//! After any write or sync failure the log is failed for good (what reached the disk is
//! unknown, and Linux may drop dirty state after a failed fsync): later `append`s and
//! `commit`s return [`StorageError::LogFailed`], and nothing after the last successful sync
//! is ever reported durable. The segment is cut back to the length the last successful
//! sync covered (best effort), so a restart does not replay the failed records.

use std::{
    cell::{Cell, RefCell},
    io,
    path::{Path, PathBuf},
    rc::Rc,
    time::Duration,
};

use glommio::io::{Directory, DmaFile, OpenOptions};

use super::{
    error::{Result, StorageError},
    files,
    frame::encode_frame,
    signal::Signal,
};
use crate::core::LogSeq;

/// Largest single DMA write (bigger batches are written in several pieces).
const WRITE_CHUNK: usize = 1 << 20;

/// Settings of a [`ShardLog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardLogConfig {
    /// Once a segment holds this many bytes, the next commit starts a new segment (named by
    /// its first seq) so that snapshots can delete old ones. Default 64 MiB.
    pub segment_bytes: u64,
}

impl Default for ShardLogConfig {
    fn default() -> Self {
        ShardLogConfig {
            segment_bytes: 64 << 20,
        }
    }
}

/// The segment being written.
#[derive(Debug)]
struct Segment {
    file: Rc<DmaFile>,
    path: PathBuf,
    /// Bytes of frames written (without padding).
    len: u64,
    /// The bytes of the last, partially filled block: `[align_down(len), len)`.
    tail: Vec<u8>,
}

#[derive(Debug)]
struct State {
    /// Frames appended but not yet handed to a write.
    pending: Vec<u8>,
    /// The seq the next appended record gets.
    next_seq: u64,
    /// The last seq written and synced.
    durable: u64,
    /// A write + sync round is in flight.
    writing: bool,
    /// The first failure; the log is unusable after it.
    failed: Option<String>,
    /// [`ShardLog::close`] was called.
    closed: bool,
    /// The segment being written; `None` until the first write round opens it (see
    /// [`ShardLog::create_deferred`]).
    segment: Option<Segment>,
    /// The path of the segment being (or about to be) written.
    segment_path: PathBuf,
}

/// A shard's group-committed log (single executor; not `Send`).
#[derive(Debug)]
pub struct ShardLog {
    dir: PathBuf,
    config: ShardLogConfig,
    state: RefCell<State>,
    /// Notified on every append and on close.
    appended: Signal,
    /// Notified whenever a write + sync round ends (well or not).
    settled: Signal,
    syncs: Cell<u64>,
    set_aside: Vec<PathBuf>,
}

fn glommio_io(
    op: &'static str,
    path: &Path,
) -> impl FnOnce(glommio::GlommioError<()>) -> StorageError {
    move |e| StorageError::io(op, path, io::Error::from(e))
}

impl Segment {
    /// Creates the new, empty segment file `log-<first>.wal` and makes its name durable.
    async fn create(dir: &Path, first: LogSeq) -> Result<Segment> {
        let path = dir.join(files::segment_file_name(first));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .dma_open(&path)
            .await
            .map_err(glommio_io("create", &path))?;
        let directory = Directory::open(dir)
            .await
            .map_err(glommio_io("open directory", dir))?;
        directory
            .sync()
            .await
            .map_err(glommio_io("fsync directory", dir))?;
        directory
            .close()
            .await
            .map_err(glommio_io("close directory", dir))?;
        Ok(Segment {
            file: Rc::new(file),
            path,
            len: 0,
            tail: Vec::new(),
        })
    }
}

/// Copies bytes `[start, start + dst.len())` of `a ++ b` into `dst`, zero-filling past the end.
fn copy_concat(dst: &mut [u8], start: usize, a: &[u8], b: &[u8]) {
    let mut filled = 0;
    if start < a.len() {
        let n = (a.len() - start).min(dst.len());
        dst[..n].copy_from_slice(&a[start..start + n]);
        filled = n;
    }
    let b_start = (start + filled).saturating_sub(a.len());
    if filled < dst.len() && b_start < b.len() {
        let n = (b.len() - b_start).min(dst.len() - filled);
        dst[filled..filled + n].copy_from_slice(&b[b_start..b_start + n]);
        filled += n;
    }
    dst[filled..].fill(0);
}

/// Marks the end of a write round. If dropped before [`Round::finish`] (the commit future was
/// cancelled) after the I/O started, the log is failed, since what reached the disk is
/// unknown; before that, the round is just abandoned.
struct Round<'a> {
    log: &'a ShardLog,
    io_started: bool,
    finished: bool,
}

impl Round<'_> {
    fn finish(mut self, outcome: Result<u64>) -> Result<()> {
        self.finished = true;
        let mut st = self.log.state.borrow_mut();
        st.writing = false;
        let result = match outcome {
            Ok(upto) => {
                st.durable = upto;
                self.log.syncs.set(self.log.syncs.get() + 1);
                Ok(())
            }
            Err(e) => {
                st.failed.get_or_insert_with(|| e.to_string());
                Err(e)
            }
        };
        drop(st);
        self.log.settled.notify();
        self.log.appended.notify();
        result
    }
}

impl Drop for Round<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Ok(mut st) = self.log.state.try_borrow_mut() {
            st.writing = false;
            if self.io_started {
                st.failed.get_or_insert_with(|| {
                    "a commit was cancelled in the middle of a write".into()
                });
            }
        }
        self.log.settled.notify();
        self.log.appended.notify();
    }
}

impl ShardLog {
    /// Starts a new segment `log-<next_seq>.wal` in `shard_dir` (created if missing) with
    /// the default [`ShardLogConfig`]. Must run on a glommio executor.
    ///
    /// `next_seq` must be [`RecoveryReport::next_seq`](super::RecoveryReport::next_seq) of
    /// this directory; segments and snapshots at or after it (not applied by recovery) are
    /// renamed `*.orphan` first (see [`ShardLog::set_aside`]).
    pub async fn create(shard_dir: &Path, next_seq: LogSeq) -> Result<ShardLog> {
        Self::create_with(shard_dir, next_seq, ShardLogConfig::default()).await
    }

    /// [`ShardLog::create`] with explicit settings.
    pub async fn create_with(
        shard_dir: &Path,
        next_seq: LogSeq,
        config: ShardLogConfig,
    ) -> Result<ShardLog> {
        let log = Self::create_deferred(shard_dir, next_seq, config)?;
        let segment = Segment::create(shard_dir, next_seq).await?;
        log.state.borrow_mut().segment = Some(segment);
        Ok(log)
    }

    /// Like [`ShardLog::create_with`], but without waiting: the new segment file is created
    /// by the first write round (so errors creating it are reported by the first
    /// [`ShardLog::commit`]). For callers that cannot await, such as a synchronous factory
    /// running on the shard's executor thread. Still must be used on a glommio executor.
    pub fn create_deferred(
        shard_dir: &Path,
        next_seq: LogSeq,
        config: ShardLogConfig,
    ) -> Result<ShardLog> {
        if next_seq.0 == 0 {
            return Err(StorageError::ZeroSeq {
                what: "a new segment",
                path: shard_dir.to_path_buf(),
            });
        }
        files::create_dir(shard_dir, 0o755)?;
        let set_aside = files::set_aside_stale_files(shard_dir, next_seq)?;
        Ok(ShardLog {
            dir: shard_dir.to_path_buf(),
            config,
            state: RefCell::new(State {
                pending: Vec::new(),
                next_seq: next_seq.0,
                durable: next_seq.0 - 1,
                writing: false,
                failed: None,
                closed: false,
                segment: None,
                segment_path: shard_dir.join(files::segment_file_name(next_seq)),
            }),
            appended: Signal::default(),
            settled: Signal::default(),
            syncs: Cell::new(0),
            set_aside,
        })
    }

    fn unusable(&self, st: &State) -> Option<StorageError> {
        let reason = match (&st.failed, st.closed) {
            (Some(reason), _) => reason.clone(),
            (None, true) => "the log is closed".to_string(),
            (None, false) => return None,
        };
        Some(StorageError::LogFailed {
            path: st.segment_path.clone(),
            reason,
            durable: st.durable,
        })
    }

    /// Buffers one record and returns its seq; never waits. Nothing is on disk until a
    /// [`ShardLog::commit`] covering it returns. Fails for an empty or oversized payload
    /// (nothing is appended) or when the log is failed or closed.
    pub fn append(&self, payload: &[u8]) -> Result<LogSeq> {
        let mut st = self.state.borrow_mut();
        if let Some(e) = self.unusable(&st) {
            return Err(e);
        }
        encode_frame(payload, &mut st.pending)?;
        let seq = st.next_seq;
        st.next_seq += 1;
        drop(st);
        self.appended.notify();
        Ok(LogSeq(seq))
    }

    /// Makes every record appended before this call durable and returns the last durable seq
    /// (at least that of those records). Concurrent callers share syncs.
    ///
    /// Fails with [`StorageError::LogFailed`] (or the underlying error, for the caller whose
    /// write failed) if a write or sync failed: those records are not durable.
    pub async fn commit(&self) -> Result<LogSeq> {
        let target = self.state.borrow().next_seq - 1;
        loop {
            let seen = self.settled.generation();
            let must_write = {
                let st = self.state.borrow();
                if st.durable >= target {
                    return Ok(LogSeq(st.durable));
                }
                if let Some(reason) = &st.failed {
                    return Err(StorageError::LogFailed {
                        path: st.segment_path.clone(),
                        reason: reason.clone(),
                        durable: st.durable,
                    });
                }
                !st.writing
            };
            if must_write {
                self.write_round().await?;
            } else {
                self.settled.changed_since(seen).await;
            }
        }
    }

    /// One write + sync of everything pending, by the one task doing it.
    async fn write_round(&self) -> Result<()> {
        let mut round = Round {
            log: self,
            io_started: false,
            finished: false,
        };
        self.state.borrow_mut().writing = true;
        // Let tasks that are ready to run (often ones woken by the previous round) append
        // first, so that this round carries their records too; they wait for it meanwhile.
        futures_lite::future::yield_now().await;
        round.io_started = true;
        let (pending, first, upto) = {
            let mut st = self.state.borrow_mut();
            let pending = std::mem::take(&mut st.pending);
            (pending, st.durable + 1, st.next_seq - 1)
        };
        let outcome = self.write_and_sync(&pending, LogSeq(first)).await;
        if outcome.is_err() {
            self.discard_unsynced().await;
        }
        // Reuse the buffer's allocation for the next round.
        let mut pending = pending;
        pending.clear();
        {
            let mut st = self.state.borrow_mut();
            if st.pending.is_empty() && pending.capacity() <= WRITE_CHUNK * 4 {
                st.pending = pending;
            }
        }
        round.finish(outcome.map(|()| upto))
    }

    async fn write_and_sync(&self, pending: &[u8], first: LogSeq) -> Result<()> {
        let (file, path, len, tail) = self.writable_segment(first).await?;
        let align = file.alignment().max(1);
        let start = file.align_down(len);
        let total = tail.len() + pending.len();
        let padded = file.align_up(total as u64) as usize;
        let mut done = 0;
        while done < padded {
            let n = (padded - done).min(WRITE_CHUNK);
            let mut buf = file.alloc_dma_buffer(n);
            copy_concat(buf.as_bytes_mut(), done, &tail, pending);
            let offset = start + done as u64;
            let written = file
                .write_at(buf, offset)
                .await
                .map_err(glommio_io("write", &path))?;
            if written != n {
                return Err(StorageError::ShortWrite {
                    path,
                    offset,
                    wanted: n,
                    written,
                });
            }
            done += n;
        }
        file.fdatasync()
            .await
            .map_err(glommio_io("fdatasync", &path))?;
        let new_len = start + total as u64;
        let keep_from = (new_len - new_len % align - start) as usize;
        let mut new_tail = vec![0u8; total - keep_from];
        copy_concat(&mut new_tail, keep_from, &tail, pending);
        if let Some(segment) = self.state.borrow_mut().segment.as_mut() {
            segment.len = new_len;
            segment.tail = new_tail;
        }
        Ok(())
    }

    /// The segment the next write goes to, with its length and tail block: the current one,
    /// or a new `log-<first>.wal` if none is open yet or the current one is full (which is
    /// finished first: exact length, synced).
    async fn writable_segment(
        &self,
        first: LogSeq,
    ) -> Result<(Rc<DmaFile>, PathBuf, u64, Vec<u8>)> {
        let current = {
            let st = self.state.borrow();
            st.segment
                .as_ref()
                .map(|s| (s.file.clone(), s.path.clone(), s.len, s.tail.clone()))
        };
        match current {
            Some((_, _, len, _)) if len > 0 && len >= self.config.segment_bytes => {
                drop(current);
                self.finish_segment().await?;
            }
            Some(current) => return Ok(current),
            None => {}
        }
        let segment = Segment::create(&self.dir, first).await?;
        let writable = (segment.file.clone(), segment.path.clone(), 0, Vec::new());
        let old = {
            let mut st = self.state.borrow_mut();
            st.segment_path = segment.path.clone();
            st.segment.replace(segment)
        };
        if let Some(old) = old
            && let Ok(file) = Rc::try_unwrap(old.file)
        {
            file.close().await.map_err(glommio_io("close", &old.path))?;
        }
        Ok(writable)
    }

    /// After a failed round: cuts the segment back to what the last successful sync covered,
    /// so that a later recovery does not find records whose sync failed (their requests were
    /// answered with errors). Best effort: if the truncation fails too, recovery may still
    /// find some of them whole (an error answer means "not acknowledged", not "absent").
    async fn discard_unsynced(&self) {
        let current = {
            let st = self.state.borrow();
            st.segment
                .as_ref()
                .map(|s| (s.file.clone(), s.path.clone(), s.len))
        };
        if let Some((file, path, len)) = current {
            let cut = file.truncate(len).await;
            let synced = match cut {
                Ok(()) => file.fdatasync().await,
                Err(e) => Err(e),
            };
            if let Err(e) = synced {
                eprintln!(
                    "imps-engine storage: could not cut {} back to {len} bytes after a failed \
                     write: {e}",
                    path.display()
                );
            }
        }
    }

    /// Truncates the current segment (if any) to its exact length, dropping the padding, and
    /// syncs it.
    async fn finish_segment(&self) -> Result<()> {
        let current = {
            let st = self.state.borrow();
            st.segment
                .as_ref()
                .map(|s| (s.file.clone(), s.path.clone(), s.len))
        };
        let Some((file, path, len)) = current else {
            return Ok(());
        };
        file.truncate(len)
            .await
            .map_err(glommio_io("truncate", &path))?;
        file.fdatasync()
            .await
            .map_err(glommio_io("fdatasync", &path))
    }

    /// Commits everything appended, trims the padding from the segment and refuses further
    /// appends. Returns the last durable seq. [`run_group_commit`] returns `Ok` after this.
    pub async fn close(&self) -> Result<LogSeq> {
        self.state.borrow_mut().closed = true;
        self.appended.notify();
        let durable = self.commit().await?;
        if let Err(e) = self.finish_segment().await {
            self.state
                .borrow_mut()
                .failed
                .get_or_insert_with(|| e.to_string());
            return Err(e);
        }
        Ok(durable)
    }

    /// Whether a write or sync failed: nothing more will be made durable through this log.
    pub fn is_failed(&self) -> bool {
        self.state.borrow().failed.is_some()
    }

    /// The last seq known to be on disk.
    pub fn durable(&self) -> LogSeq {
        LogSeq(self.state.borrow().durable)
    }

    /// The seq of the last appended record (`durable()` when nothing is buffered).
    pub fn last_appended(&self) -> LogSeq {
        LogSeq(self.state.borrow().next_seq - 1)
    }

    /// How many write + sync rounds completed (for tests and metrics).
    pub fn syncs(&self) -> u64 {
        self.syncs.get()
    }

    /// The segment file being written (or, before the first write of a deferred log, the
    /// one that will be).
    pub fn segment_path(&self) -> PathBuf {
        self.state.borrow().segment_path.clone()
    }

    /// Files that `create` renamed to `*.orphan` (a history recovery did not apply).
    pub fn set_aside(&self) -> &[PathBuf] {
        &self.set_aside
    }

    /// The shard directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Commits `log` whenever something is appended, forever: waits (without spinning) for an
/// append, sleeps `window` to gather more records (`Duration::ZERO`: commit at once; 1 ms is
/// a good default), commits, and calls `on_durable` with the new durable seq (strictly
/// increasing).
///
/// Returns `Ok(())` once the log is closed and everything is durable, and the error as soon
/// as a commit fails (nothing after the last reported seq is durable then).
pub async fn run_group_commit(
    log: Rc<ShardLog>,
    window: Duration,
    mut on_durable: impl FnMut(LogSeq),
) -> Result<()> {
    let mut reported = log.durable();
    loop {
        loop {
            let seen = log.appended.generation();
            {
                let st = log.state.borrow();
                if let Some(reason) = &st.failed {
                    return Err(StorageError::LogFailed {
                        path: st.segment_path.clone(),
                        reason: reason.clone(),
                        durable: st.durable,
                    });
                }
                if st.next_seq - 1 > st.durable {
                    break;
                }
                if st.closed && !st.writing {
                    return Ok(());
                }
            }
            log.appended.changed_since(seen).await;
        }
        if !window.is_zero() {
            glommio::timer::sleep(window).await;
        }
        let durable = log.commit().await?;
        if durable > reported {
            reported = durable;
            on_durable(durable);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_concat_spans_both_halves_and_pads() {
        let mut dst = [9u8; 6];
        copy_concat(&mut dst, 1, b"ab", b"cde");
        assert_eq!(dst, *b"bcde\0\0");
        let mut dst = [9u8; 2];
        copy_concat(&mut dst, 3, b"ab", b"cde");
        assert_eq!(dst, *b"de");
        let mut dst = [9u8; 3];
        copy_concat(&mut dst, 0, b"", b"x");
        assert_eq!(dst, *b"x\0\0");
        let mut dst = [9u8; 2];
        copy_concat(&mut dst, 7, b"ab", b"cde");
        assert_eq!(dst, [0, 0]);
    }
}
