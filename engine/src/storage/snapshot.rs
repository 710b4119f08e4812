//! Snapshots: the whole state of a shard as of one log sequence number, in one file.
//!
//! File `snapshot-<seq:020>.snap`:
//! `[magic "IMPSSNP1"][seq: u64 LE][len: u64 LE][crc32c(seq ++ len ++ payload): u32 LE][payload]`.
//! A snapshot is framed like a log record, but with 64-bit lengths (a shard's state may be
//! larger than [`MAX_RECORD`](super::MAX_RECORD)) and its seq inside the checksum, so a
//! renamed or truncated file is never mistaken for a good one.
//!
//! I/O boundary: [`write_snapshot`] uses blocking `std::fs` (offline tools, tests);
//! [`write_snapshot_async`] runs the same on glommio's blocking-thread pool so a running
//! shard's executor does not stall.

use std::path::{Path, PathBuf};

use super::{
    error::{Result, StorageError},
    files,
};
use crate::core::LogSeq;

const MAGIC: &[u8; 8] = b"IMPSSNP1";
/// Bytes before the payload of a snapshot file.
const HEADER: usize = 8 + 8 + 8 + 4;

fn checksum(seq: u64, len: u64, payload: &[u8]) -> u32 {
    let mut head = [0u8; 16];
    head[..8].copy_from_slice(&seq.to_le_bytes());
    head[8..].copy_from_slice(&len.to_le_bytes());
    crc32c::crc32c_append(crc32c::crc32c(&head), payload)
}

fn encode_header(seq: LogSeq, payload: &[u8]) -> [u8; HEADER] {
    let len = payload.len() as u64;
    let mut header = [0u8; HEADER];
    header[..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&seq.0.to_le_bytes());
    header[16..24].copy_from_slice(&len.to_le_bytes());
    header[24..].copy_from_slice(&checksum(seq.0, len, payload).to_le_bytes());
    header
}

/// Why a snapshot file was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotDefect {
    /// Shorter than its header, or than the payload length it declares.
    Truncated,
    /// Longer than its header says.
    TrailingBytes,
    /// Does not start with the snapshot magic.
    BadMagic,
    /// The checksum does not match.
    Checksum,
    /// The seq inside the file is not the one in its name.
    SeqMismatch,
}

/// Decodes a snapshot file's bytes into its seq and payload. Never panics.
pub(crate) fn decode_snapshot(
    bytes: &[u8],
) -> std::result::Result<(LogSeq, &[u8]), SnapshotDefect> {
    let Some(header) = bytes.get(..HEADER) else {
        return Err(SnapshotDefect::Truncated);
    };
    if &header[..8] != MAGIC {
        return Err(SnapshotDefect::BadMagic);
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&header[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let seq = word(8);
    let len = word(16);
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&header[24..28]);
    let crc = u32::from_le_bytes(crc);
    let payload = &bytes[HEADER..];
    match (payload.len() as u64).cmp(&len) {
        std::cmp::Ordering::Less => return Err(SnapshotDefect::Truncated),
        std::cmp::Ordering::Greater => return Err(SnapshotDefect::TrailingBytes),
        std::cmp::Ordering::Equal => {}
    }
    if checksum(seq, len, payload) != crc {
        return Err(SnapshotDefect::Checksum);
    }
    Ok((LogSeq(seq), payload))
}

/// Writes the snapshot covering records `1..=seq` of the shard in `shard_dir` atomically
/// (temporary file, fsync, rename, fsync of the directory), then deletes what it makes
/// useless: older snapshots and their leftover temporary files, and every segment whose
/// records are all `<= seq` (a segment's last record is the one before the next segment's
/// first; the newest segment is never deleted). Write one snapshot of a shard at a time.
///
/// `seq` must not be ahead of what the log will hold after a crash in a way recovery cannot
/// follow: a snapshot at `seq` makes recovery continue at `seq + 1`.
pub fn write_snapshot(shard_dir: &Path, seq: LogSeq, payload: &[u8]) -> Result<()> {
    if seq.0 == 0 {
        return Err(StorageError::ZeroSeq {
            what: "a snapshot",
            path: shard_dir.to_path_buf(),
        });
    }
    let header = encode_header(seq, payload);
    let name = files::snapshot_file_name(seq);
    let written = files::replace_file(shard_dir, &name, &[&header, payload], 0o644)?;
    prune(shard_dir, seq, &written)
}

/// Deletes the files made useless by the snapshot at `seq` (see [`write_snapshot`]).
fn prune(shard_dir: &Path, seq: LogSeq, keep: &Path) -> Result<()> {
    let listing = files::list_shard_dir(shard_dir)?;
    let mut doomed: Vec<&PathBuf> = Vec::new();
    doomed.extend(
        listing
            .snapshots
            .iter()
            .filter(|(s, p)| *s < seq && p != keep)
            .map(|(_, p)| p),
    );
    // Temporaries of older snapshots are leftovers of interrupted writes.
    doomed.extend(
        listing
            .temporaries
            .iter()
            .filter(|p| files::temporary_snapshot_seq(p).is_some_and(|s| s < seq)),
    );
    for pair in listing.segments.windows(2) {
        let (_, path) = &pair[0];
        let (next_first, _) = pair[1];
        if next_first.0.saturating_sub(1) <= seq.0 {
            doomed.push(path);
        }
    }
    if doomed.is_empty() {
        return Ok(());
    }
    for path in doomed {
        files::remove_file(path)?;
    }
    files::fsync_dir(shard_dir)
}

/// [`write_snapshot`] on glommio's blocking-thread pool, for use inside a running executor
/// (must be called from a glommio executor thread).
pub async fn write_snapshot_async(shard_dir: PathBuf, seq: LogSeq, payload: Vec<u8>) -> Result<()> {
    glommio::executor()
        .spawn_blocking(move || write_snapshot(&shard_dir, seq, &payload))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(seq: LogSeq, payload: &[u8]) -> Vec<u8> {
        let mut v = encode_header(seq, payload).to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn round_trip_and_defects() {
        let bytes = encode(LogSeq(9), b"state");
        assert_eq!(decode_snapshot(&bytes), Ok((LogSeq(9), &b"state"[..])));
        assert_eq!(
            decode_snapshot(&bytes[..bytes.len() - 1]),
            Err(SnapshotDefect::Truncated)
        );
        assert_eq!(decode_snapshot(&bytes[..3]), Err(SnapshotDefect::Truncated));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_snapshot(&longer), Err(SnapshotDefect::TrailingBytes));
        let mut flipped = bytes.clone();
        flipped[HEADER + 1] ^= 1;
        assert_eq!(decode_snapshot(&flipped), Err(SnapshotDefect::Checksum));
        let mut seq = bytes.clone();
        seq[8] ^= 1;
        assert_eq!(decode_snapshot(&seq), Err(SnapshotDefect::Checksum));
        let mut magic = bytes;
        magic[0] = b'X';
        assert_eq!(decode_snapshot(&magic), Err(SnapshotDefect::BadMagic));
        assert_eq!(
            decode_snapshot(&encode(LogSeq(1), b"")),
            Ok((LogSeq(1), &b""[..]))
        );
    }

    #[test]
    fn zero_seq_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            write_snapshot(dir.path(), LogSeq(0), b"x"),
            Err(StorageError::ZeroSeq { .. })
        ));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode_snapshot(&bytes);
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = decode_snapshot(&with_magic);
        }
    }
}
