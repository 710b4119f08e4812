//! Verifying a shard directory without changing it (`impsd check`).
//!
//! Every snapshot file is decoded and its checksum checked; every log record of every
//! segment (up to where the next segment takes over, as recovery reads them) is read,
//! checksum-checked and handed to a payload decoder; and [`recover`](super::recover)'s
//! report says what a server starting now would skip.
//!
//! Damage is classified:
//! - *lost data*: a gap between segments, a damaged snapshot, a record that does not
//!   decode, or a torn or corrupt frame with an intact frame somewhere after it (records
//!   that were written after the damage are unreachable);
//! - *unclean tail*: a torn or corrupt end of the newest segment with nothing intact after
//!   it, which is what a crash in the middle of a write leaves (those records were never
//!   acknowledged, since their sync had not completed) and what recovery cuts off;
//! - zero padding after the last record (a [`ShardLog`](super::ShardLog) that was not
//!   closed) is not damage at all.
//!
//! I/O boundary: reads whole files with blocking `std::fs`; safe to run next to a server
//! (it writes nothing), in which case the newest segment may show an unclean tail that is
//! simply a write in progress.

use std::{fs, path::Path};

use super::{
    error::{Result, StorageError},
    files,
    frame::{FRAME_HEADER, FrameReader, MAX_RECORD},
    recovery::{Damage, DamageKind, RecoverError, recover},
    snapshot::decode_snapshot,
};
use crate::core::LogSeq;

/// What [`check_shard`] found in one shard directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardCheck {
    /// Segment files.
    pub segments: usize,
    /// Snapshot files (every one verified).
    pub snapshots: usize,
    /// Intact snapshot files.
    pub good_snapshots: usize,
    /// Log records read and decoded.
    pub records: u64,
    /// The seq a server starting now would continue at.
    pub next_seq: LogSeq,
    /// Damage that loses (or may lose) acknowledged data; see the module docs.
    pub lost: Vec<String>,
    /// Unclean tails of the newest segment (normal after a crash).
    pub tails: Vec<String>,
}

impl ShardCheck {
    /// No lost data.
    pub fn is_sound(&self) -> bool {
        self.lost.is_empty()
    }
}

/// Whether an intact frame starts anywhere in `bytes` after `offset` (a resynchronising
/// scan: any position whose length fits and whose checksum matches).
fn intact_frame_after(bytes: &[u8], offset: usize) -> bool {
    let mut pos = offset.saturating_add(1);
    while pos + FRAME_HEADER < bytes.len() {
        let word = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(b)
        };
        let len = word(pos) as usize;
        let end = pos + FRAME_HEADER + len;
        if len > 0
            && len <= MAX_RECORD
            && end <= bytes.len()
            && crc32c::crc32c(&bytes[pos + FRAME_HEADER..end]) == word(pos + 4)
        {
            return true;
        }
        pos += 1;
    }
    false
}

/// Checks the shard directory `dir`: `decode_snapshot` and `decode_record` are given every
/// snapshot payload and every record payload and say whether the engine can read it.
/// Fails only if the directory cannot be read.
pub fn check_shard(
    dir: &Path,
    mut decode_snapshot_payload: impl FnMut(&[u8]) -> std::result::Result<(), String>,
    mut decode_record: impl FnMut(&[u8]) -> std::result::Result<(), String>,
) -> Result<ShardCheck> {
    let listing = files::list_shard_dir(dir)?;
    let mut check = ShardCheck {
        segments: listing.segments.len(),
        snapshots: listing.snapshots.len(),
        ..ShardCheck::default()
    };
    for (seq, path) in &listing.snapshots {
        let bytes = fs::read(path).map_err(|e| StorageError::io("read", path, e))?;
        match decode_snapshot(&bytes) {
            Ok((inner, payload)) if inner == *seq => match decode_snapshot_payload(payload) {
                Ok(()) => check.good_snapshots += 1,
                Err(e) => check
                    .lost
                    .push(format!("{}: snapshot does not decode: {e}", path.display())),
            },
            Ok((inner, _)) => check.lost.push(format!(
                "{}: holds the snapshot of seq {}, not {}",
                path.display(),
                inner.0,
                seq.0
            )),
            Err(defect) => check
                .lost
                .push(format!("{}: damaged snapshot ({defect:?})", path.display())),
        }
    }
    for (i, (first, path)) in listing.segments.iter().enumerate() {
        let limit = listing
            .segments
            .get(i + 1)
            .map_or(u64::MAX, |(next, _)| next.0.saturating_sub(1));
        let bytes = fs::read(path).map_err(|e| StorageError::io("read", path, e))?;
        let mut seq = first.0;
        for payload in FrameReader::new(&bytes) {
            if seq > limit {
                break;
            }
            check.records += 1;
            if let Err(e) = decode_record(payload) {
                check.lost.push(format!(
                    "{}: record {seq} does not decode: {e}",
                    path.display()
                ));
            }
            seq = seq.saturating_add(1);
        }
    }
    // What recovery would skip. Its callbacks do nothing: the payloads were checked above.
    let report = recover::<()>(dir, |_, _| Ok(()), |_, _| Ok(())).map_err(|e| match e {
        RecoverError::Storage(s) => s,
        RecoverError::Apply { .. } => StorageError::io(
            "check",
            dir,
            std::io::Error::other("a callback that cannot fail failed"),
        ),
    })?;
    check.next_seq = report.next_seq;
    let newest = listing.segments.last().map(|(_, p)| p.as_path());
    for damage in &report.damage {
        classify(damage, newest, &mut check)?;
    }
    Ok(check)
}

fn classify(damage: &Damage, newest: Option<&Path>, check: &mut ShardCheck) -> Result<()> {
    match damage.kind {
        DamageKind::Padding => {}
        DamageKind::Torn | DamageKind::Corrupt => {
            let bytes =
                fs::read(&damage.path).map_err(|e| StorageError::io("read", &damage.path, e))?;
            let offset = usize::try_from(damage.offset).unwrap_or(usize::MAX);
            if Some(damage.path.as_path()) == newest && !intact_frame_after(&bytes, offset) {
                check
                    .tails
                    .push(format!("{damage} (an unclean end, as a crash leaves)"));
            } else {
                check
                    .lost
                    .push(format!("{damage}; intact records follow it"));
            }
        }
        DamageKind::Gap { .. } | DamageKind::Snapshot(_) => check.lost.push(damage.to_string()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{SyncLog, encode_frame};

    fn ok(_: &[u8]) -> std::result::Result<(), String> {
        Ok(())
    }

    fn write(dir: &Path, first: u64, n: u64) -> std::path::PathBuf {
        let mut log = SyncLog::create(dir, LogSeq(first)).unwrap();
        for i in 0..n {
            log.append(format!("record {}", first + i).as_bytes())
                .unwrap();
        }
        log.commit().unwrap();
        log.path().to_path_buf()
    }

    #[test]
    fn clean_directory_counts_records() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 1, 50);
        crate::storage::write_snapshot(dir.path(), LogSeq(20), b"state").unwrap();
        let c = check_shard(dir.path(), ok, ok).unwrap();
        assert_eq!((c.segments, c.snapshots, c.good_snapshots), (1, 1, 1));
        assert_eq!(c.records, 50);
        assert_eq!(c.next_seq, LogSeq(51));
        assert!(c.is_sound() && c.tails.is_empty(), "{c:?}");
    }

    #[test]
    fn torn_tail_is_a_tail_and_a_middle_flip_is_lost_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), 1, 50);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let c = check_shard(dir.path(), ok, ok).unwrap();
        assert!(c.is_sound(), "{c:?}");
        assert_eq!(c.tails.len(), 1);
        assert_eq!(c.records, 49);

        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x40;
        fs::write(&path, &flipped).unwrap();
        let c = check_shard(dir.path(), ok, ok).unwrap();
        assert!(!c.is_sound(), "{c:?}");
        assert!(c.lost[0].contains("log-00000000000000000001.wal"), "{c:?}");
    }

    #[test]
    fn undecodable_records_and_bad_snapshots_are_lost_data() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 1, 5);
        let refuse = |p: &[u8]| {
            if p == b"record 3" {
                Err("no".to_string())
            } else {
                Ok(())
            }
        };
        let c = check_shard(dir.path(), ok, refuse).unwrap();
        assert_eq!(c.lost.len(), 1);
        assert!(c.lost[0].contains("record 3 does not decode"), "{c:?}");
        fs::write(
            dir.path().join(files::snapshot_file_name(LogSeq(2))),
            b"IMPSSNP1 nope",
        )
        .unwrap();
        let c = check_shard(dir.path(), ok, ok).unwrap();
        assert_eq!(c.good_snapshots, 0);
        assert!(!c.is_sound());
    }

    #[test]
    fn resync_scan_finds_frames_after_garbage() {
        let mut bytes = vec![0xAB; 37];
        assert!(!intact_frame_after(&bytes, 0));
        encode_frame(b"hello", &mut bytes).unwrap();
        assert!(intact_frame_after(&bytes, 0));
        assert!(!intact_frame_after(&bytes, 37));
        assert!(!intact_frame_after(&[], 0));
    }
}
