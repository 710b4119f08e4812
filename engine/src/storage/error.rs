//! The one error type of the storage layer.
//!
//! Every variant names the file or directory involved and, where it helps, the numbers that
//! did not match, so that an operator can act on the message alone. No I/O happens here.

use std::{io, path::PathBuf};

/// Something went wrong while reading or writing a data directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// An operating-system call on `path` failed.
    #[error("could not {op} {}: {source}", .path.display())]
    Io {
        /// What was being done ("create", "read", "fsync", ...).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The data directory was created with another shard count.
    #[error(
        "data directory {} was created with {found} shards, not {requested}; use --shards {found}, or start the server with --shards {requested} to redistribute its data",
        .path.display()
    )]
    ShardCount {
        /// The data directory.
        path: PathBuf,
        /// The shard count recorded in its FORMAT file.
        found: u16,
        /// The shard count asked for.
        requested: u16,
    },

    /// A shard count of zero was asked for.
    #[error("cannot create data directory {} with 0 shards (use 1 or more)", .path.display())]
    ZeroShards {
        /// The data directory.
        path: PathBuf,
    },

    /// The directory has no FORMAT file, so it is not (yet) a data directory.
    #[error(
        "{} is not an imps data directory (it has no FORMAT file); create it first by starting impsd with --shards N",
        .path.display()
    )]
    NotADataDir {
        /// The directory that was opened.
        path: PathBuf,
    },

    /// The FORMAT file exists but cannot be understood.
    #[error("data directory format file {} is not valid: {reason}", .path.display())]
    BadFormat {
        /// The FORMAT file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Another process holds the directory lock.
    #[error(
        "data directory {} is in use by another process (a running impsd?)",
        .path.display()
    )]
    Locked {
        /// The data directory.
        path: PathBuf,
    },

    /// The master key file does not hold exactly 32 bytes.
    #[error("master key {} is {len} bytes long, expected 32; it is damaged (restore it from a backup)", .path.display())]
    BadMasterKey {
        /// The key file.
        path: PathBuf,
        /// Its actual length.
        len: u64,
    },

    /// The operating system could not provide random bytes.
    #[error("could not get random bytes from the operating system: {0}")]
    Random(getrandom::Error),

    /// A log record must hold at least one byte (a zero length marks the end of a log).
    #[error("a log record cannot be empty")]
    EmptyRecord,

    /// A log record is larger than [`MAX_RECORD`](crate::storage::MAX_RECORD).
    #[error("a log record of {len} bytes is larger than the maximum of {max} bytes")]
    RecordTooLarge {
        /// The record's length.
        len: usize,
        /// The maximum.
        max: usize,
    },

    /// Sequence number 0 was given where a record sequence number (1 or more) is needed.
    #[error("log sequence numbers start at 1; 0 is not valid for {what} in {}", .path.display())]
    ZeroSeq {
        /// What the sequence number was for ("a new segment", "a snapshot").
        what: &'static str,
        /// The shard directory.
        path: PathBuf,
    },

    /// A write or sync of the log failed earlier (or the log was closed); nothing more can be
    /// made durable through this log. Restart (and recover) to continue.
    #[error(
        "log segment {} can no longer be written: {reason}; records after seq {durable} are not durable",
        .path.display()
    )]
    LogFailed {
        /// The segment that was being written.
        path: PathBuf,
        /// The first failure.
        reason: String,
        /// The last sequence number known to be durable.
        durable: u64,
    },

    /// The kernel wrote fewer bytes than asked (usually a full disk).
    #[error("short write to {}: {written} of {wanted} bytes at offset {offset} (is the disk full?)", .path.display())]
    ShortWrite {
        /// The file.
        path: PathBuf,
        /// Where the write started.
        offset: u64,
        /// Bytes asked to write.
        wanted: usize,
        /// Bytes written.
        written: usize,
    },
}

impl StorageError {
    /// Wraps an I/O error with what was being done and on which path.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for `Result<T, StorageError>`.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
