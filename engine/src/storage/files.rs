//! File names and small blocking file-system helpers shared by the storage modules.
//!
//! Names: `log-<first_seq:020>.wal` (a log segment, named by the sequence number of its first
//! record) and `snapshot-<seq:020>.snap` (a snapshot covering records `1..=seq`).
//!
//! Everything here uses `std::fs` and blocks; it is called at startup, by offline tools, or
//! on rare events (snapshots, new segments).

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write as _},
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use super::error::{Result, StorageError};
use crate::core::LogSeq;

const SEGMENT_PREFIX: &str = "log-";
const SEGMENT_SUFFIX: &str = ".wal";
const SNAPSHOT_PREFIX: &str = "snapshot-";
const SNAPSHOT_SUFFIX: &str = ".snap";
/// Suffix given to files set aside because recovery did not use them.
const ORPHAN_SUFFIX: &str = ".orphan";

/// The file name of the segment whose first record is `first`.
pub fn segment_file_name(first: LogSeq) -> String {
    format!("{SEGMENT_PREFIX}{:020}{SEGMENT_SUFFIX}", first.0)
}

/// The file name of the snapshot covering records `1..=seq`.
pub fn snapshot_file_name(seq: LogSeq) -> String {
    format!("{SNAPSHOT_PREFIX}{:020}{SNAPSHOT_SUFFIX}", seq.0)
}

fn parse_numbered(name: &str, prefix: &str, suffix: &str) -> Option<LogSeq> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    (n > 0).then_some(LogSeq(n))
}

/// The first sequence number of a segment file name, if `name` is one.
pub fn parse_segment_file_name(name: &str) -> Option<LogSeq> {
    parse_numbered(name, SEGMENT_PREFIX, SEGMENT_SUFFIX)
}

/// The sequence number of a snapshot file name, if `name` is one.
pub fn parse_snapshot_file_name(name: &str) -> Option<LogSeq> {
    parse_numbered(name, SNAPSHOT_PREFIX, SNAPSHOT_SUFFIX)
}

/// The segments and snapshots of one shard directory, each sorted by sequence number.
#[derive(Debug, Default)]
pub(crate) struct ShardFiles {
    /// `(first seq, path)` of every segment, ascending.
    pub(crate) segments: Vec<(LogSeq, PathBuf)>,
    /// `(seq, path)` of every snapshot, ascending.
    pub(crate) snapshots: Vec<(LogSeq, PathBuf)>,
    /// Temporary files (from an interrupted or ongoing snapshot write).
    pub(crate) temporaries: Vec<PathBuf>,
}

/// Lists a shard directory. A missing directory lists as empty.
pub(crate) fn list_shard_dir(dir: &Path) -> Result<ShardFiles> {
    let mut files = ShardFiles::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(StorageError::io("list", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io("list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(seq) = parse_segment_file_name(name) {
            files.segments.push((seq, entry.path()));
        } else if let Some(seq) = parse_snapshot_file_name(name) {
            files.snapshots.push((seq, entry.path()));
        } else if name.ends_with(".tmp") {
            files.temporaries.push(entry.path());
        }
    }
    files.segments.sort();
    files.snapshots.sort();
    Ok(files)
}

/// Makes the entries of directory `dir` (creations, renames, removals) durable.
pub(crate) fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("fsync directory", dir, e))
}

/// Creates `dir` (and missing parents) with `mode`, then makes the new entry durable in its
/// parent. An existing directory is left as it is.
pub(crate) fn create_dir(dir: &Path, mode: u32) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent, 0o755)?;
    }
    let mut builder = fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(StorageError::io("create directory", dir, e)),
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fsync_dir(parent)
}

/// Writes `parts` to `dir/name.<pid>.tmp` with `mode` and fsyncs it; returns its path.
fn write_temporary(dir: &Path, name: &str, parts: &[&[u8]], mode: u32) -> Result<PathBuf> {
    let tmp = dir.join(format!("{name}.{}.tmp", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| StorageError::io("create", &tmp, e))?;
    for part in parts {
        file.write_all(part)
            .map_err(|e| StorageError::io("write", &tmp, e))?;
    }
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", &tmp, e))?;
    Ok(tmp)
}

/// Atomically replaces `dir/name` with the concatenation of `parts`: temporary file, fsync,
/// rename, fsync of `dir`.
pub(crate) fn replace_file(dir: &Path, name: &str, parts: &[&[u8]], mode: u32) -> Result<PathBuf> {
    let tmp = write_temporary(dir, name, parts, mode)?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).map_err(|e| StorageError::io("rename into place", &path, e))?;
    fsync_dir(dir)?;
    Ok(path)
}

/// Atomically creates `dir/name` with `bytes` unless it already exists (then the existing
/// file is kept, even if another process created it a moment ago). Returns whether this call
/// created it.
pub(crate) fn create_file_once(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<bool> {
    let tmp = write_temporary(dir, name, &[bytes], mode)?;
    let path = dir.join(name);
    // A hard link never replaces an existing file, unlike rename.
    let linked = fs::hard_link(&tmp, &path);
    let removed = fs::remove_file(&tmp);
    let created = match linked {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(StorageError::io("link into place", &path, e)),
    };
    removed.map_err(|e| StorageError::io("remove", &tmp, e))?;
    fsync_dir(dir)?;
    Ok(created)
}

/// Removes a file; a file that is already gone is fine.
pub(crate) fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::io("remove", path, e)),
    }
}

/// `path` + `.orphan`, or `.orphan.<n>` if that exists already (earlier orphans are kept).
fn orphan_path(path: &Path) -> PathBuf {
    let mut n = 0u32;
    loop {
        let mut to = path.as_os_str().to_os_string();
        to.push(ORPHAN_SUFFIX);
        if n > 0 {
            to.push(format!(".{n}"));
        }
        let to = PathBuf::from(to);
        if !to.exists() {
            return to;
        }
        n += 1;
    }
}

/// The snapshot a temporary file was being written for (`snapshot-<seq>.snap.<pid>.tmp`).
pub(crate) fn temporary_snapshot_seq(path: &Path) -> Option<LogSeq> {
    let name = path.file_name()?.to_str()?;
    let end = SNAPSHOT_PREFIX.len() + 20 + SNAPSHOT_SUFFIX.len();
    parse_snapshot_file_name(name.get(..end)?)
}

/// Prepares `shard_dir` for a new segment starting at `next_seq`: renames to `*.orphan`
/// every segment whose first record is `>= next_seq` and every snapshot at `>= next_seq`.
///
/// Such files belong to a history that recovery did not apply (records after a gap or a
/// damaged record); a new segment at `next_seq` starts a new history, and replaying the old
/// files later would mix the two. They are kept under the new name for inspection. Returns
/// the new paths.
pub(crate) fn set_aside_stale_files(shard_dir: &Path, next_seq: LogSeq) -> Result<Vec<PathBuf>> {
    let files = list_shard_dir(shard_dir)?;
    let stale = files
        .segments
        .iter()
        .chain(files.snapshots.iter())
        .filter(|(seq, _)| *seq >= next_seq);
    let mut moved = Vec::new();
    for (_, path) in stale {
        let to = orphan_path(path);
        fs::rename(path, &to).map_err(|e| StorageError::io("set aside", path, e))?;
        moved.push(to);
    }
    if !moved.is_empty() {
        fsync_dir(shard_dir)?;
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(
            segment_file_name(LogSeq(42)),
            "log-00000000000000000042.wal"
        );
        assert_eq!(
            parse_segment_file_name(&segment_file_name(LogSeq(u64::MAX))),
            Some(LogSeq(u64::MAX))
        );
        assert_eq!(
            parse_snapshot_file_name(&snapshot_file_name(LogSeq(7))),
            Some(LogSeq(7))
        );
        assert_eq!(
            parse_segment_file_name("log-00000000000000000000.wal"),
            None
        );
        assert_eq!(parse_segment_file_name("log-1.wal"), None);
        assert_eq!(
            parse_segment_file_name("log-0000000000000000001x.wal"),
            None
        );
        assert_eq!(
            parse_segment_file_name("log-00000000000000000001.wal.orphan"),
            None
        );
    }

    #[test]
    fn set_aside_keeps_earlier_orphans() {
        let dir = tempfile::tempdir().unwrap();
        let seg = dir.path().join(segment_file_name(LogSeq(5)));
        fs::write(&seg, b"one").unwrap();
        fs::write(dir.path().join(segment_file_name(LogSeq(4))), b"kept").unwrap();
        let moved = set_aside_stale_files(dir.path(), LogSeq(5)).unwrap();
        assert_eq!(moved.len(), 1);
        fs::write(&seg, b"two").unwrap();
        let again = set_aside_stale_files(dir.path(), LogSeq(5)).unwrap();
        assert_ne!(moved, again);
        assert_eq!(fs::read(&moved[0]).unwrap(), b"one");
        assert_eq!(fs::read(&again[0]).unwrap(), b"two");
        let listing = list_shard_dir(dir.path()).unwrap();
        assert_eq!(listing.segments.len(), 1);
        assert_eq!(
            temporary_snapshot_seq(Path::new("snapshot-00000000000000000009.snap.77.tmp")),
            Some(LogSeq(9))
        );
        assert_eq!(temporary_snapshot_seq(Path::new("master.key.1.tmp")), None);
    }

    #[test]
    fn create_file_once_keeps_the_first() {
        let dir = tempfile::tempdir().unwrap();
        assert!(create_file_once(dir.path(), "x", b"one", 0o600).unwrap());
        assert!(!create_file_once(dir.path(), "x", b"two", 0o600).unwrap());
        assert_eq!(fs::read(dir.path().join("x")).unwrap(), b"one");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
