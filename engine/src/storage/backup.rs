//! A consistent copy of a data directory, taken while a server writes it (`impsd backup`).
//!
//! Why a plain file copy is enough: a shard's durable state is a snapshot plus an
//! append-only log, and the server only ever (a) appends frames to its newest segment,
//! (b) starts a new segment, (c) writes a new snapshot by rename and then deletes the files
//! it covers. So for each shard the copy takes the newest snapshot and every segment after
//! it, in order, then cuts the copy of the newest segment after its last complete frame.
//! The result is the state after some prefix of the shard's records: every record that was
//! durable (acknowledged) when the backup started, and possibly some written after. If a
//! file vanishes during the copy (a snapshot just pruned it), that shard is copied again.
//!
//! Shards are copied one after the other, each at its own moment; shards share no state, so
//! each user's data is consistent. The copy gets the master key and, last of all, its FORMAT
//! file, so an interrupted backup is never mistaken for a data directory. Every file and
//! directory of the copy is fsynced. The copy is verified with [`recover`].
//!
//! The lock: a server holds `DIR/LOCK`; the backup only reads and never takes it from a
//! server. When no server runs, it takes the lock for the duration of the copy so that none
//! starts meanwhile.
//!
//! I/O boundary: blocking `std::fs`; a command-line tool, never on an executor.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use super::{
    datadir::{DataDir, FORMAT_FILE, KEYS_DIR, MASTER_KEY_FILE, format_text, layout_shard_dir},
    error::{Result, StorageError},
    files,
    frame::FrameReader,
    recovery::{RecoverError, recover},
};
use crate::core::LogSeq;

/// How often one shard's copy is restarted because files vanished under it.
const ATTEMPTS: usize = 20;

/// What [`backup`] copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Shards copied.
    pub shards: u16,
    /// Files written to the copy.
    pub files: usize,
    /// Bytes written to the copy.
    pub bytes: u64,
    /// A server was running (the copy was taken online).
    pub online: bool,
    /// Per shard, the last record in the copy (the copy recovers to just after it).
    pub last_seq: Vec<LogSeq>,
}

/// Copies the data directory `src` to `dst` (which must not exist, or be empty), online or
/// not. See the module docs.
pub fn backup(src: &Path, dst: &Path) -> Result<BackupReport> {
    let dir = DataDir::open_read_only(src)?;
    let _lock = match dir.lock() {
        Ok(lock) => Some(lock),
        Err(StorageError::Locked { .. }) => None,
        Err(e) => return Err(e),
    };
    let online = _lock.is_none();
    prepare_target(dst)?;
    let mut report = BackupReport {
        shards: dir.shards(),
        files: 0,
        bytes: 0,
        online,
        last_seq: Vec::new(),
    };
    let keys = dst.join(KEYS_DIR);
    files::create_dir(&keys, 0o700)?;
    let key_src = src.join(KEYS_DIR).join(MASTER_KEY_FILE);
    let key = fs::read(&key_src).map_err(|e| StorageError::io("read", &key_src, e))?;
    files::replace_file(&keys, MASTER_KEY_FILE, &[&key], 0o600)?;
    report.files += 1;
    report.bytes += key.len() as u64;
    for i in 0..dir.shards() {
        let from = dir.shard_dir(i);
        let to = layout_shard_dir(dst, 0, i);
        let (n, bytes) = copy_shard_retrying(&from, &to)?;
        report.files += n;
        report.bytes += bytes;
        let recovered = recover::<()>(&to, |_, _| Ok(()), |_, _| Ok(())).map_err(|e| match e {
            RecoverError::Storage(s) => s,
            RecoverError::Apply { .. } => {
                StorageError::io("verify", &to, io::Error::other("unexpected callback error"))
            }
        })?;
        if recovered.lost_data() {
            return Err(StorageError::io(
                "verify the copy of",
                &to,
                io::Error::other(format!("damaged: {:?}", recovered.damage)),
            ));
        }
        report.last_seq.push(LogSeq(recovered.next_seq.0 - 1));
    }
    let format = format_text(dir.shards(), 0, dir.routing());
    files::replace_file(dst, FORMAT_FILE, &[format.as_bytes()], 0o644)?;
    report.files += 1;
    Ok(report)
}

/// Creates `dst`, or accepts it if it is an empty directory.
fn prepare_target(dst: &Path) -> Result<()> {
    match fs::read_dir(dst) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(StorageError::io(
                    "back up into",
                    dst,
                    io::Error::new(io::ErrorKind::AlreadyExists, "the target is not empty"),
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => files::create_dir(dst, 0o755),
        Err(e) => Err(StorageError::io("open", dst, e)),
    }
}

fn copy_shard_retrying(from: &Path, to: &Path) -> Result<(usize, u64)> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        if to.exists() {
            fs::remove_dir_all(to).map_err(|e| StorageError::io("clear", to, e))?;
        }
        files::create_dir(to, 0o755)?;
        match copy_shard(from, to) {
            Ok(done) => return Ok(done),
            Err(StorageError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                last = Some(source);
            }
            Err(e) => return Err(e),
        }
    }
    Err(StorageError::io(
        "copy (files kept changing)",
        from,
        last.unwrap_or_else(|| io::Error::other("too many attempts")),
    ))
}

/// One attempt at copying a shard: newest snapshot, then the segments recovery would read
/// after it; the newest segment cut after its last complete frame.
fn copy_shard(from: &Path, to: &Path) -> Result<(usize, u64)> {
    let listing = files::list_shard_dir(from)?;
    let snapshot = listing.snapshots.last().cloned();
    let covered = snapshot.as_ref().map_or(0, |(seq, _)| seq.0);
    let mut copied: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if let Some((_, path)) = &snapshot {
        let bytes = fs::read(path).map_err(|e| StorageError::io("read", path, e))?;
        copied.push((path.clone(), bytes));
    }
    let segments = &listing.segments;
    for (i, (_, path)) in segments.iter().enumerate() {
        let next_first = segments.get(i + 1).map(|(f, _)| f.0);
        if next_first.is_some_and(|nf| nf <= covered.saturating_add(1)) {
            // Wholly covered by the snapshot.
            continue;
        }
        let mut bytes = fs::read(path).map_err(|e| StorageError::io("read", path, e))?;
        if next_first.is_none() {
            let mut reader = FrameReader::new(&bytes);
            reader.by_ref().for_each(drop);
            let end = reader.offset();
            bytes.truncate(end);
        }
        copied.push((path.clone(), bytes));
    }
    let mut total = 0;
    for (path, bytes) in &copied {
        let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            StorageError::io("name", path, io::Error::other("not a UTF-8 file name"))
        })?;
        write_durable(to, name, bytes)?;
        total += bytes.len() as u64;
    }
    files::fsync_dir(to)?;
    Ok((copied.len(), total))
}

fn write_durable(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    files::replace_file(dir, name, &[bytes], 0o644).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{SyncLog, write_snapshot};

    #[test]
    fn offline_copy_recovers_the_same_records() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let dir = DataDir::open(&src, 2).unwrap();
        dir.master_key().unwrap();
        let mut log = SyncLog::create(&dir.shard_dir(0), LogSeq(1)).unwrap();
        for i in 0..100u32 {
            log.append(&i.to_le_bytes()).unwrap();
        }
        log.commit().unwrap();
        drop(log);
        write_snapshot(&dir.shard_dir(0), LogSeq(60), b"image").unwrap();
        // A torn tail on the newest segment is cut from the copy.
        let seg = dir.shard_dir(0).join(files::segment_file_name(LogSeq(1)));
        let mut bytes = fs::read(&seg).unwrap();
        bytes.extend_from_slice(&[9, 0, 0, 0, 1]);
        fs::write(&seg, &bytes).unwrap();

        let dst = tmp.path().join("dst");
        let report = backup(&src, &dst).unwrap();
        assert!(!report.online);
        assert_eq!(report.shards, 2);
        assert_eq!(report.last_seq, vec![LogSeq(100), LogSeq(0)]);
        let copy = DataDir::open_existing(&dst).unwrap();
        assert_eq!(copy.master_key().unwrap(), dir.master_key().unwrap());
        let copied = fs::read(copy.shard_dir(0).join(files::segment_file_name(LogSeq(1))));
        assert_eq!(copied.unwrap(), bytes[..bytes.len() - 5]);
        // Not into a non-empty directory; online while a lock is held.
        assert!(backup(&src, &dst).is_err());
        let _held = dir.lock().unwrap();
        let report = backup(&src, &tmp.path().join("dst2")).unwrap();
        assert!(report.online);
    }
}
