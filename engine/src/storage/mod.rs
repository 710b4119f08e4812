//! Per-shard storage: append-only logs, snapshots and recovery, payload-agnostic.
//!
//! Records are opaque byte slices (the engine serializes them itself). A data directory:
//!
//! ```text
//! DIR/FORMAT                               "imps-data 1\nshards N\nrouting R\n"
//! DIR/LOCK                                 flock'ed by the process writing the directory
//! DIR/keys/master.key                      32 random bytes, mode 0600
//! DIR/shard-<i>/log-<first_seq:020>.wal    log segments (frames, see `frame`)
//! DIR/shard-<i>/snapshot-<seq:020>.snap    snapshots covering records 1..=seq
//! DIR/layout-<g>/shard-<i>/...             the same, after the shard count was changed
//!                                          (FORMAT then says "layout <g>"; see NewLayout)
//! ```
//!
//! Operations: [`check_shard`] verifies a shard directory without writing to it; [`backup`]
//! copies a data directory consistently while a server writes it; [`NewLayout`] changes
//! the shard count crash-safely.
//!
//! Startup of a shard: [`recover`] its directory, then start a new segment at the reported
//! `next_seq` with [`ShardLog::create`] (running server, glommio) or [`SyncLog::create`]
//! (offline tools). Segments are never appended to after a restart.
//!
//! I/O boundary: this module is all I/O. [`DataDir`], [`recover`], [`SyncLog`] and
//! [`write_snapshot`] use blocking `std::fs` (startup, offline tools, tests); [`ShardLog`],
//! [`run_group_commit`] and [`write_snapshot_async`] run on a glommio executor. The framing
//! ([`encode_frame`], [`FrameReader`]) is pure.

mod backup;
mod check;
mod datadir;
mod error;
mod files;
mod frame;
mod layout;
mod recovery;
mod shard_log;
mod signal;
mod snapshot;
mod sync_log;

pub use backup::{BackupReport, backup};
pub use check::{ShardCheck, check_shard};
pub use datadir::{DataDir, DirLock};
pub use error::{Result, StorageError};
pub use files::{
    parse_segment_file_name, parse_snapshot_file_name, segment_file_name, snapshot_file_name,
};
pub use frame::{FRAME_HEADER, FrameEnd, FrameReader, MAX_RECORD, check_payload, encode_frame};
pub use layout::NewLayout;
pub use recovery::{Damage, DamageKind, RecoverError, RecoveryReport, recover};
pub use shard_log::{ShardLog, ShardLogConfig, run_group_commit};
pub use snapshot::{SnapshotDefect, write_snapshot, write_snapshot_async};
pub use sync_log::{SYNC_LOG_BUFFER, SyncLog};
