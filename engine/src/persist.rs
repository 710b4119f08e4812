//! A shard's state on disk: loading it from a data directory (snapshot + log tail) and the
//! offline writer used to provision users while no server runs.
//!
//! I/O boundary: blocking `std::fs` through [`crate::storage`]; this runs before serving or
//! in command-line tools, never on a serving executor.

use std::path::Path;

use crate::config::AccessConfig;
use crate::core::{Core, Millis, Output, Token};
use crate::record::{Profile, Record, ShardImage};
use crate::shard::{Admin, AdminDone, AdminError, Reply, Request, Shard, ShardSetup, route};
use crate::storage::{DataDir, DirLock, RecoverError, RecoveryReport, StorageError, SyncLog};

/// Why loading or provisioning failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// The data directory could not be used.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A record or snapshot in the log does not decode.
    #[error("shard {shard}: record {seq} does not decode: {reason}")]
    BadRecord {
        /// The shard.
        shard: u16,
        /// The record's sequence number.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// An operation was refused.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The operating system's random generator failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

/// 32 bytes from the operating system's generator.
pub fn os_seed() -> Result<[u8; 32], PersistError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| PersistError::Random(e.to_string()))?;
    Ok(seed)
}

/// Loads shard `i` of `dir`: newest snapshot, then the log tail. The shard's next record
/// continues the log.
pub fn load_shard(
    dir: &DataDir,
    i: u16,
    config: AccessConfig,
    master_key: [u8; 32],
    seed: [u8; 32],
) -> Result<(Shard, RecoveryReport), PersistError> {
    let mut shard = Shard::new(ShardSetup {
        id: usize::from(i),
        shards: usize::from(dir.shards()),
        config,
        master_key,
        seed,
        next_seq: crate::core::LogSeq(1),
    });
    let report = recover_into(&mut shard, &dir.shard_dir(i), i)?;
    shard.resume_log_at(report.next_seq);
    Ok((shard, report))
}

fn recover_into(shard: &mut Shard, path: &Path, i: u16) -> Result<RecoveryReport, PersistError> {
    // Both callbacks change the shard; they are never called at the same time.
    let cell = std::cell::RefCell::new(shard);
    let result = crate::storage::recover(
        path,
        |seq, bytes| {
            let image = ShardImage::from_bytes(bytes).map_err(|e| (seq, e.to_string()))?;
            cell.borrow_mut().restore(image);
            Ok::<(), (crate::core::LogSeq, String)>(())
        },
        |seq, bytes| {
            let record = Record::from_bytes(bytes).map_err(|e| (seq, e.to_string()))?;
            cell.borrow_mut().apply(record);
            Ok(())
        },
    );
    result.map_err(|e| match e {
        RecoverError::Storage(s) => PersistError::Storage(s),
        RecoverError::Apply {
            error: (seq, reason),
            ..
        } => PersistError::BadRecord {
            shard: i,
            seq: seq.0,
            reason,
        },
    })
}

/// Writes users into a data directory while no server runs (the directory is locked).
pub struct Provisioner {
    dir: DataDir,
    _lock: DirLock,
    shards: Vec<Shard>,
    logs: Vec<SyncLog>,
    domain: String,
    written: u64,
    next_token: u64,
}

impl std::fmt::Debug for Provisioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioner")
            .field("dir", &self.dir.path())
            .field("written", &self.written)
            .finish()
    }
}

/// What a provisioning run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionReport {
    /// Users written in this run.
    pub written: u64,
    /// Users in the data directory now.
    pub users: usize,
    /// Shards of the data directory.
    pub shards: u16,
}

impl Provisioner {
    /// Opens the data directory at `path` (see [`DataDir::open_as`] for `shards`) and loads
    /// every shard. Fails when a server holds the directory.
    pub fn open(
        path: &Path,
        shards: Option<u16>,
        config: AccessConfig,
    ) -> Result<Self, PersistError> {
        let dir = DataDir::open_as(path, shards)?;
        let lock = dir.lock()?;
        let key = dir.master_key()?;
        let mut cores = Vec::new();
        let mut logs = Vec::new();
        for i in 0..dir.shards() {
            let (shard, report) = load_shard(&dir, i, config.clone(), key, os_seed()?)?;
            logs.push(SyncLog::create(&dir.shard_dir(i), report.next_seq)?);
            cores.push(shard);
        }
        Ok(Self {
            dir,
            _lock: lock,
            shards: cores,
            logs,
            domain: config.domain,
            written: 0,
            next_token: 1,
        })
    }

    /// Creates or replaces one account (durable after [`Provisioner::finish`]).
    pub fn put_user(
        &mut self,
        user: &str,
        password: &str,
        profile: Profile,
    ) -> Result<(), PersistError> {
        let request = Request::Admin(Admin::PutUser {
            user: user.into(),
            password: password.into(),
            profile,
        });
        let s = route(&request, self.shards.len(), &self.domain);
        let token = Token(self.next_token);
        self.next_token += 1;
        self.shards[s].handle_request(Millis(0), token, request);
        let mut outcome = None;
        while let Some(out) = self.shards[s].poll_output() {
            match out {
                Output::Append(bytes) => {
                    let seq = self.logs[s].append(&bytes)?;
                    // Offline: the record is as good as written; the final commit makes it so.
                    self.shards[s].handle_durable(Millis(0), seq);
                }
                Output::Reply {
                    reply: Reply::Admin(r),
                    ..
                } => outcome = Some(r),
                _ => {}
            }
        }
        match outcome {
            Some(Ok(AdminDone::UserPut)) => {
                self.written += 1;
                Ok(())
            }
            Some(Err(e)) => Err(e.into()),
            _ => Err(AdminError::Record("no answer from the shard".into()).into()),
        }
    }

    /// Syncs every log, writes a snapshot of shards that grew by many records, and reports.
    pub fn finish(mut self) -> Result<ProvisionReport, PersistError> {
        for (i, log) in self.logs.iter_mut().enumerate() {
            let durable = log.commit()?;
            if self.written >= 100_000 {
                let image =
                    self.shards[i]
                        .image()
                        .to_bytes()
                        .map_err(|e| PersistError::BadRecord {
                            shard: i as u16,
                            seq: durable.0,
                            reason: e.to_string(),
                        })?;
                crate::storage::write_snapshot(&self.dir.shard_dir(i as u16), durable, &image)?;
            }
        }
        Ok(ProvisionReport {
            written: self.written,
            users: self.shards.iter().map(Shard::user_count).sum(),
            shards: self.dir.shards(),
        })
    }
}
