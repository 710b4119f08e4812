//! Recovery of one shard at startup: newest intact snapshot, then the log records after it.
//!
//! Rules:
//! - Snapshots are tried newest first; a damaged one is reported and the next older one tried.
//! - Segments are read in order of their first seq. Records are numbered consecutively from
//!   the segment's first seq; a segment contributes at most up to the record before the next
//!   segment's first seq (a later segment supersedes whatever an older one holds after that;
//!   those bytes are not even examined, so damage there is reported only until a following
//!   segment exists). Segments wholly covered by the snapshot are not read.
//! - A segment ends at its first torn or corrupt frame. The next segment is used only if it
//!   starts exactly at the next expected seq; otherwise recovery stops there, and it and all
//!   later segments are reported as [`DamageKind::Gap`] (records after a gap are not applied).
//!
//! I/O boundary: reads whole files with blocking `std::fs` (recovery runs before serving).
//! Never panics on damaged files.

use std::{
    fmt, fs,
    path::{Path, PathBuf},
};

use super::{
    error::StorageError,
    files,
    frame::{FrameEnd, FrameReader},
    snapshot::{SnapshotDefect, decode_snapshot},
};
use crate::core::LogSeq;

/// What recovery found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The seq of the snapshot loaded, if any.
    pub snapshot_seq: Option<LogSeq>,
    /// How many log records were given to `on_record`.
    pub records_replayed: u64,
    /// The seq the next appended record must get (`LogSeq(1)` for an empty shard). Start the
    /// shard's new segment here.
    pub next_seq: LogSeq,
    /// Everything that was skipped, in the order found.
    pub damage: Vec<Damage>,
}

impl RecoveryReport {
    /// Whether any damage may have lost records (anything but [`DamageKind::Padding`]).
    pub fn lost_data(&self) -> bool {
        self.damage.iter().any(|d| d.kind != DamageKind::Padding)
    }
}

/// A damaged or unusable part of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The file.
    pub path: PathBuf,
    /// Where the unusable bytes start.
    pub offset: u64,
    /// What is wrong.
    pub kind: DamageKind,
    /// How many bytes (from `offset` to the end of the file) were not used.
    pub dropped_bytes: u64,
}

/// What kind of damage was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DamageKind {
    /// An incomplete record at the end of a segment (a crash during a write).
    Torn,
    /// The segment ends with zero bytes and nothing else: the alignment padding a
    /// [`ShardLog`](super::ShardLog) leaves after its last write when it is not closed
    /// cleanly. Holds no records.
    Padding,
    /// A record whose checksum or length is wrong; the rest of the segment is not used.
    Corrupt,
    /// A whole segment that does not start at the expected seq (records are missing before
    /// it), or that follows such a segment; not applied.
    Gap {
        /// The seq recovery needed next.
        expected: LogSeq,
        /// The segment's first seq.
        first: LogSeq,
    },
    /// A snapshot that cannot be used; an older one (or none) was loaded instead.
    Snapshot(SnapshotDefect),
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DamageKind::Torn => "torn record".to_string(),
            DamageKind::Padding => "zero padding".to_string(),
            DamageKind::Corrupt => "corrupt record".to_string(),
            DamageKind::Gap { expected, first } => format!(
                "segment starting at seq {} after a gap (expected seq {})",
                first.0, expected.0
            ),
            DamageKind::Snapshot(defect) => format!("unusable snapshot ({defect:?})"),
        };
        write!(
            f,
            "{}: {what} at offset {}, {} bytes not used",
            self.path.display(),
            self.offset,
            self.dropped_bytes
        )
    }
}

/// Recovery failed: the storage could not be read, or a callback refused a record.
#[derive(Debug)]
pub enum RecoverError<E> {
    /// Reading the shard directory failed.
    Storage(StorageError),
    /// `on_snapshot` or `on_record` returned an error for the record or snapshot `seq`.
    Apply {
        /// The seq being applied.
        seq: LogSeq,
        /// The callback's error.
        error: E,
    },
}

impl<E: fmt::Display> fmt::Display for RecoverError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoverError::Storage(e) => write!(f, "recovery failed: {e}"),
            RecoverError::Apply { seq, error } => {
                write!(f, "recovery could not apply seq {}: {error}", seq.0)
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RecoverError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecoverError::Storage(e) => Some(e),
            RecoverError::Apply { error, .. } => Some(error),
        }
    }
}

impl<E> From<StorageError> for RecoverError<E> {
    fn from(e: StorageError) -> Self {
        RecoverError::Storage(e)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, StorageError> {
    fs::read(path).map_err(|e| StorageError::io("read", path, e))
}

/// Reads the whole file into `buf` (reusing its allocation: segments are read one after the
/// other, and a fresh 64 MiB buffer per segment costs more in page faults than the copy).
fn read_into(path: &Path, buf: &mut Vec<u8>) -> Result<(), StorageError> {
    use std::io::Read as _;
    buf.clear();
    fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map(drop)
        .map_err(|e| StorageError::io("read", path, e))
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Recovers the shard in `shard_dir`: calls `on_snapshot` at most once with the newest intact
/// snapshot, then `on_record` for every following record in order. See the module docs for
/// the rules. A missing or empty directory recovers to `next_seq = LogSeq(1)`.
pub fn recover<E>(
    shard_dir: &Path,
    mut on_snapshot: impl FnMut(LogSeq, &[u8]) -> Result<(), E>,
    mut on_record: impl FnMut(LogSeq, &[u8]) -> Result<(), E>,
) -> Result<RecoveryReport, RecoverError<E>> {
    let listing = files::list_shard_dir(shard_dir)?;
    let mut damage = Vec::new();

    let mut snapshot_seq = None;
    for (seq, path) in listing.snapshots.iter().rev() {
        let bytes = read(path)?;
        let defect = match decode_snapshot(&bytes) {
            Ok((inner, payload)) if inner == *seq => {
                on_snapshot(*seq, payload)
                    .map_err(|error| RecoverError::Apply { seq: *seq, error })?;
                snapshot_seq = Some(*seq);
                break;
            }
            Ok(_) => SnapshotDefect::SeqMismatch,
            Err(defect) => defect,
        };
        damage.push(Damage {
            path: path.clone(),
            offset: 0,
            kind: DamageKind::Snapshot(defect),
            dropped_bytes: bytes.len() as u64,
        });
    }

    let mut expected = snapshot_seq.map_or(1, |s| s.0.saturating_add(1));
    let mut bytes = Vec::new();
    let mut replayed = 0u64;
    let mut broken = false;
    let segments = &listing.segments;
    for (i, (first, path)) in segments.iter().enumerate() {
        let next_first = segments.get(i + 1).map(|(f, _)| f.0);
        if !broken && next_first.is_some_and(|nf| nf <= expected) {
            // Every record this segment may contribute is already covered.
            continue;
        }
        if broken || first.0 > expected {
            broken = true;
            damage.push(Damage {
                path: path.clone(),
                offset: 0,
                kind: DamageKind::Gap {
                    expected: LogSeq(expected),
                    first: *first,
                },
                dropped_bytes: file_len(path),
            });
            continue;
        }
        read_into(path, &mut bytes)?;
        // The last seq this segment may contribute (the next segment supersedes the rest).
        let limit = next_first.map_or(u64::MAX, |nf| nf - 1);
        let mut reader = FrameReader::new(&bytes);
        let mut seq = first.0;
        let mut reached_limit = false;
        loop {
            if seq > limit {
                reached_limit = true;
                break;
            }
            let Some(payload) = reader.next() else { break };
            if seq >= expected {
                on_record(LogSeq(seq), payload).map_err(|error| RecoverError::Apply {
                    seq: LogSeq(seq),
                    error,
                })?;
                replayed += 1;
                expected = seq.saturating_add(1);
            }
            match seq.checked_add(1) {
                Some(s) => seq = s,
                None => {
                    reached_limit = true;
                    break;
                }
            }
        }
        if reached_limit {
            continue;
        }
        let (offset, kind) = match reader.end() {
            Some(FrameEnd::Torn { offset }) => {
                let rest = bytes.get(offset..).unwrap_or_default();
                if rest.iter().all(|&b| b == 0) {
                    (offset, DamageKind::Padding)
                } else {
                    (offset, DamageKind::Torn)
                }
            }
            Some(FrameEnd::Corrupt { offset }) => (offset, DamageKind::Corrupt),
            Some(FrameEnd::Clean) | None => continue,
        };
        damage.push(Damage {
            path: path.clone(),
            offset: offset as u64,
            kind,
            dropped_bytes: bytes.len().saturating_sub(offset) as u64,
        });
    }

    Ok(RecoveryReport {
        snapshot_seq,
        records_replayed: replayed,
        next_seq: LogSeq(expected),
        damage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{SyncLog, snapshot_file_name, write_snapshot};

    #[derive(Debug, Default)]
    struct Replayed {
        snapshots: Vec<(LogSeq, Vec<u8>)>,
        records: Vec<(LogSeq, Vec<u8>)>,
    }

    fn payload(seq: u64) -> Vec<u8> {
        format!("record {seq}").into_bytes()
    }

    fn write_records(dir: &Path, first: u64, last: u64) {
        let mut log = SyncLog::create(dir, LogSeq(first)).unwrap();
        for seq in first..=last {
            log.append(&payload(seq)).unwrap();
        }
        log.commit().unwrap();
    }

    fn recover_all(dir: &Path) -> (RecoveryReport, Replayed) {
        let snapshots = std::cell::RefCell::new(Vec::new());
        let mut records = Vec::new();
        let report = recover::<()>(
            dir,
            |seq, bytes| {
                snapshots.borrow_mut().push((seq, bytes.to_vec()));
                Ok(())
            },
            |seq, bytes| {
                records.push((seq, bytes.to_vec()));
                Ok(())
            },
        )
        .unwrap();
        let snapshots = snapshots.into_inner();
        (report, Replayed { snapshots, records })
    }

    fn assert_records(replayed: &Replayed, first: u64, last: u64) {
        let expected: Vec<(LogSeq, Vec<u8>)> =
            (first..=last).map(|s| (LogSeq(s), payload(s))).collect();
        assert!(
            replayed.records == expected,
            "records {first}..={last} differ"
        );
    }

    #[test]
    fn empty_or_missing_dir_recovers_to_seq_1() {
        let dir = tempfile::tempdir().unwrap();
        let (report, _) = recover_all(dir.path());
        assert_eq!(report.next_seq, LogSeq(1));
        assert_eq!(report.records_replayed, 0);
        let (report, _) = recover_all(&dir.path().join("nope"));
        assert_eq!(report.next_seq, LogSeq(1));
        // An empty segment (created, nothing committed) is fine too.
        SyncLog::create(dir.path(), LogSeq(1)).unwrap();
        let (report, _) = recover_all(dir.path());
        assert_eq!(report.next_seq, LogSeq(1));
        assert!(report.damage.is_empty());
    }

    #[test]
    fn damaged_newest_snapshot_falls_back_to_an_older_one() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 300);
        write_snapshot(dir.path(), LogSeq(100), b"hundred").unwrap();
        // Keep the snapshot at 100 (write_snapshot would delete it): write 200 elsewhere.
        let other = tempfile::tempdir().unwrap();
        write_snapshot(other.path(), LogSeq(200), b"two hundred").unwrap();
        let name = snapshot_file_name(LogSeq(200));
        let mut bytes = fs::read(other.path().join(&name)).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(dir.path().join(&name), &bytes).unwrap();

        let (report, replayed) = recover_all(dir.path());
        assert_eq!(replayed.snapshots, vec![(LogSeq(100), b"hundred".to_vec())]);
        assert_records(&replayed, 101, 300);
        assert_eq!(report.damage.len(), 1);
        assert!(matches!(report.damage[0].kind, DamageKind::Snapshot(_)));

        // A good snapshot file under the wrong name is not used either.
        fs::rename(
            dir.path().join(snapshot_file_name(LogSeq(100))),
            dir.path().join(snapshot_file_name(LogSeq(150))),
        )
        .unwrap();
        let (report, replayed) = recover_all(dir.path());
        assert!(replayed.snapshots.is_empty());
        assert_records(&replayed, 1, 300);
        assert_eq!(report.damage.len(), 2);
    }

    #[test]
    fn a_failing_callback_stops_recovery() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 10);
        let err = recover(
            dir.path(),
            |_, _| Ok(()),
            |seq, _| {
                if seq == LogSeq(4) {
                    Err("bad record")
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert!(matches!(
            err,
            RecoverError::Apply {
                seq: LogSeq(4),
                error: "bad record"
            }
        ));
        assert_eq!(
            err.to_string(),
            "recovery could not apply seq 4: bad record"
        );
    }
}
