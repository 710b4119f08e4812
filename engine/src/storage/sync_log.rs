//! A blocking log writer for offline tools (user provisioning while no server runs) and tests.
//!
//! It always starts a new segment named by the first seq it will write, buffers appended
//! frames in memory, and writes + `fdatasync`s them on [`SyncLog::commit`] (or by itself once
//! more than [`SYNC_LOG_BUFFER`] bytes are buffered). Records still buffered when it is
//! dropped are lost: call `commit` first.
//!
//! I/O boundary: blocking `std::fs`.

use std::{
    fs::{File, OpenOptions},
    io::Write as _,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use super::{
    error::{Result, StorageError},
    files,
    frame::encode_frame,
};
use crate::core::LogSeq;

/// Buffered bytes above which [`SyncLog::append`] commits by itself (1 MiB).
pub const SYNC_LOG_BUFFER: usize = 1 << 20;

/// A blocking, buffered writer of one new log segment.
#[derive(Debug)]
pub struct SyncLog {
    path: PathBuf,
    file: File,
    buffer: Vec<u8>,
    /// The seq the next appended record gets.
    next_seq: u64,
    /// The last seq written and synced.
    durable: u64,
    /// The first write or sync failure; after one, nothing more is written.
    failed: Option<String>,
    set_aside: Vec<PathBuf>,
}

impl SyncLog {
    /// Starts a new segment `log-<next_seq>.wal` in `shard_dir` (created if missing).
    ///
    /// `next_seq` must be [`RecoveryReport::next_seq`](super::RecoveryReport::next_seq) of
    /// this directory. Segments and snapshots at or after `next_seq` were not applied by
    /// recovery; they are renamed `*.orphan` first (see [`SyncLog::set_aside`]).
    pub fn create(shard_dir: &Path, next_seq: LogSeq) -> Result<SyncLog> {
        if next_seq.0 == 0 {
            return Err(StorageError::ZeroSeq {
                what: "a new segment",
                path: shard_dir.to_path_buf(),
            });
        }
        files::create_dir(shard_dir, 0o755)?;
        let set_aside = files::set_aside_stale_files(shard_dir, next_seq)?;
        let path = shard_dir.join(files::segment_file_name(next_seq));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
            .map_err(|e| StorageError::io("create", &path, e))?;
        files::fsync_dir(shard_dir)?;
        Ok(SyncLog {
            path,
            file,
            buffer: Vec::new(),
            next_seq: next_seq.0,
            durable: next_seq.0 - 1,
            failed: None,
            set_aside,
        })
    }

    fn check_usable(&self) -> Result<()> {
        match &self.failed {
            Some(reason) => Err(StorageError::LogFailed {
                path: self.path.clone(),
                reason: reason.clone(),
                durable: self.durable,
            }),
            None => Ok(()),
        }
    }

    /// Buffers one record and returns its seq. Commits by itself when the buffer exceeds
    /// [`SYNC_LOG_BUFFER`]. Fails for an empty or oversized payload (nothing is appended) or
    /// if that commit fails.
    pub fn append(&mut self, payload: &[u8]) -> Result<LogSeq> {
        self.check_usable()?;
        encode_frame(payload, &mut self.buffer)?;
        let seq = LogSeq(self.next_seq);
        self.next_seq += 1;
        if self.buffer.len() > SYNC_LOG_BUFFER {
            self.commit()?;
        }
        Ok(seq)
    }

    /// Writes everything buffered and `fdatasync`s it; returns the last durable seq.
    ///
    /// After a failure the log refuses further appends and commits
    /// ([`StorageError::LogFailed`]): what reached the disk is unknown.
    pub fn commit(&mut self) -> Result<LogSeq> {
        self.check_usable()?;
        if self.buffer.is_empty() {
            return Ok(LogSeq(self.durable));
        }
        let result = self
            .file
            .write_all(&self.buffer)
            .map_err(|e| StorageError::io("write", &self.path, e))
            .and_then(|()| {
                self.file
                    .sync_data()
                    .map_err(|e| StorageError::io("fdatasync", &self.path, e))
            });
        match result {
            Ok(()) => {
                self.buffer.clear();
                self.durable = self.next_seq - 1;
                Ok(LogSeq(self.durable))
            }
            Err(e) => {
                self.failed = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// The last seq known to be on disk (`next_seq - 1` right after `create`).
    pub fn durable(&self) -> LogSeq {
        LogSeq(self.durable)
    }

    /// The seq the next appended record will get.
    pub fn next_seq(&self) -> LogSeq {
        LogSeq(self.next_seq)
    }

    /// The segment file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Files that `create` renamed to `*.orphan` (a history recovery did not apply).
    pub fn set_aside(&self) -> &[PathBuf] {
        &self.set_aside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_are_numbered_and_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = SyncLog::create(dir.path(), LogSeq(5)).unwrap();
        assert_eq!(log.durable(), LogSeq(4));
        assert_eq!(log.append(b"a").unwrap(), LogSeq(5));
        assert_eq!(log.append(b"b").unwrap(), LogSeq(6));
        assert_eq!(std::fs::metadata(log.path()).unwrap().len(), 0);
        assert_eq!(log.commit().unwrap(), LogSeq(6));
        assert_eq!(log.durable(), LogSeq(6));
        assert_eq!(log.next_seq(), LogSeq(7));
        assert_eq!(std::fs::metadata(log.path()).unwrap().len(), 18);
        assert!(log.path().ends_with("log-00000000000000000005.wal"));
        assert!(matches!(log.append(b""), Err(StorageError::EmptyRecord)));
        assert_eq!(log.next_seq(), LogSeq(7));
    }

    #[test]
    fn commits_by_itself_past_the_buffer_limit() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = SyncLog::create(dir.path(), LogSeq(1)).unwrap();
        let record = vec![1u8; 64 * 1024];
        // 16 frames of 64 KiB + 8 bytes exceed 1 MiB.
        for _ in 0..15 {
            log.append(&record).unwrap();
        }
        assert_eq!(log.durable(), LogSeq(0));
        log.append(&record).unwrap();
        assert_eq!(log.durable(), LogSeq(16));
        log.append(&record).unwrap();
        assert_eq!(log.durable(), LogSeq(16));
    }

    #[test]
    fn zero_seq_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            SyncLog::create(dir.path(), LogSeq(0)),
            Err(StorageError::ZeroSeq { .. })
        ));
    }
}
