//! A shard's state on disk: loading it from a data directory (snapshot + log tail) and the
//! offline writer used to provision users while no server runs.
//!
//! I/O boundary: blocking `std::fs` through [`crate::storage`]; this runs before serving or
//! in command-line tools, never on a serving executor.

use std::path::Path;

use crate::config::AccessConfig;
use crate::core::{Core, Millis, Output, Token};
use crate::record::{GroupRecord, Profile, Record, ShardImage};
use crate::routing::owner_of_key;
use crate::shard::{Admin, AdminDone, AdminError, Reply, Request, Shard, ShardSetup, route};
use crate::storage::{
    DataDir, DirLock, NewLayout, RecoverError, RecoveryReport, ShardCheck, StorageError, SyncLog,
    check_shard,
};

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
    /// The thread loading a shard panicked.
    #[error("loading shard {0} panicked")]
    LoadPanicked(u16),
    /// A value given to provisioning is not acceptable.
    #[error("refused: {0}")]
    Refused(String),
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

/// Loads every shard of `dir` ([`load_shard`]), several at a time: one thread per core,
/// each taking the next shard not yet loaded. Results in shard order.
pub fn load_shards(
    dir: &DataDir,
    config: &AccessConfig,
    master_key: [u8; 32],
) -> Result<Vec<(Shard, RecoveryReport)>, PersistError> {
    let n = dir.shards();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(usize::from(n))
        .max(1);
    let next = std::sync::atomic::AtomicU16::new(0);
    let loaded = std::sync::Mutex::new(Vec::with_capacity(usize::from(n)));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let result = os_seed()
                        .and_then(|seed| load_shard(dir, i, config.clone(), master_key, seed));
                    if let Ok(mut all) = loaded.lock() {
                        all.push((i, result));
                    }
                }
            });
        }
    });
    let mut all = loaded
        .into_inner()
        .map_err(|_| PersistError::LoadPanicked(0))?;
    all.sort_by_key(|(i, _)| *i);
    let mut shards = Vec::with_capacity(all.len());
    for (expect, (i, result)) in (0..n).zip(all) {
        if i != expect {
            return Err(PersistError::LoadPanicked(expect));
        }
        shards.push(result?);
    }
    if shards.len() != usize::from(n) {
        return Err(PersistError::LoadPanicked(
            u16::try_from(shards.len()).unwrap_or(n),
        ));
    }
    Ok(shards)
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

/// Verifies every snapshot and record of every shard of the data directory at `path` (see
/// [`check_shard`]): checksums, and that each payload decodes as the engine's
/// [`ShardImage`] or [`Record`]. Reads only; a server may be running.
pub fn check_data_dir(path: &Path) -> Result<Vec<ShardCheck>, PersistError> {
    let dir = DataDir::open_read_only(path)?;
    let mut checks = Vec::with_capacity(usize::from(dir.shards()));
    for i in 0..dir.shards() {
        checks.push(check_shard(
            &dir.shard_dir(i),
            |bytes| {
                ShardImage::from_bytes(bytes)
                    .map(drop)
                    .map_err(|e| e.to_string())
            },
            |bytes| {
                Record::from_bytes(bytes)
                    .map(drop)
                    .map_err(|e| e.to_string())
            },
        )?);
    }
    Ok(checks)
}

/// What [`redistribute`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redistribution {
    /// Shards before.
    pub from: u16,
    /// Shards now.
    pub to: u16,
    /// Users moved (all of them).
    pub users: usize,
    /// Damage recovery skipped while loading the old shards (as a startup would).
    pub damage: Vec<String>,
}

/// Changes the data directory at `path` to `shards` shards while no server runs: loads
/// every shard (as a startup would), splits the data by owner with the routing of
/// [`owner_of_key`], and switches to the new layout atomically (see
/// [`NewLayout`]: a crash leaves either the old layout or the new one, never a mix).
/// Sessions are not stored, so nothing else moves.
pub fn redistribute(
    path: &Path,
    shards: u16,
    config: AccessConfig,
) -> Result<Redistribution, PersistError> {
    let dir = DataDir::open_existing(path)?;
    let lock = dir.lock()?;
    let from = dir.shards();
    let key = dir.master_key()?;
    let mut parts: Vec<ShardImage> = (0..shards).map(|_| ShardImage::default()).collect();
    let mut damage = Vec::new();
    for i in 0..from {
        let (shard, report) = load_shard(&dir, i, config.clone(), key, os_seed()?)?;
        damage.extend(report.damage.iter().map(ToString::to_string));
        split_image(shard.image(), shards, &mut parts);
    }
    let users = parts.iter().map(|p| p.users.len()).sum();
    let layout = NewLayout::begin(&dir, &lock, shards)?;
    for (j, part) in parts.iter().enumerate() {
        let bytes = part.to_bytes().map_err(|e| PersistError::BadRecord {
            shard: j as u16,
            seq: 1,
            reason: e.to_string(),
        })?;
        layout.write_shard(j as u16, &bytes)?;
    }
    layout.commit()?;
    Ok(Redistribution {
        from,
        to: shards,
        users,
        damage,
    })
}

/// Moves everything in `image` to the part of `parts` (one per new shard) that owns it.
fn split_image(image: ShardImage, shards: u16, parts: &mut [ShardImage]) {
    // Every field is named here on purpose: a new kind of durable state does not compile
    // until it says which shard owns it (rather than being silently dropped).
    let ShardImage {
        users,
        contact_lists,
        attribute_lists,
        grants,
        letters,
        access_lists,
        groups,
        sent_invitations,
        received_invitations,
        invitation_notices,
    } = image;
    let last = parts.len().saturating_sub(1);
    let owner = |id: &str| usize::from(owner_of_key(id, shards).0).min(last);
    for user in users {
        let j = owner(&user.id);
        parts[j].users.push(user);
    }
    for (who, list) in contact_lists {
        let j = owner(&who);
        parts[j].contact_lists.push((who, list));
    }
    for (who, target, names) in attribute_lists {
        let j = owner(&who);
        parts[j].attribute_lists.push((who, target, names));
    }
    for (who, watcher, grant) in grants {
        let j = owner(&who);
        parts[j].grants.push((who, watcher, grant));
    }
    for (recipient, letter) in letters {
        let j = owner(&recipient);
        parts[j].letters.push((recipient, letter));
    }
    for (who, lists) in access_lists {
        let j = owner(&who);
        parts[j].access_lists.push((who, lists));
    }
    for group in groups {
        let j = owner(&group.id);
        parts[j].groups.push(group);
    }
    for (inviter, sent) in sent_invitations {
        let j = owner(&inviter);
        parts[j].sent_invitations.push((inviter, sent));
    }
    for (invitee, received) in received_invitations {
        let j = owner(&invitee);
        parts[j].received_invitations.push((invitee, received));
    }
    for (user, notice) in invitation_notices {
        let j = owner(&user);
        parts[j].invitation_notices.push((user, notice));
    }
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

    /// Creates or replaces a group (a service provider's public group: no owner; its
    /// administrators are members with the Admin role). Durable after
    /// [`Provisioner::finish`]. The GroupID is normalized; an invalid one is refused.
    pub fn put_group(&mut self, mut group: GroupRecord) -> Result<(), PersistError> {
        let id = imps_protocol::types::GroupId::from(group.id.as_str())
            .normalize(&self.domain)
            .map_err(|e| PersistError::Refused(format!("group ID {}: {e}", group.id)))?;
        for (member, _) in &mut group.members {
            *member = imps_protocol::types::UserId::from(member.as_str())
                .normalize(&self.domain)
                .map_err(|e| PersistError::Refused(format!("member {member}: {e}")))?;
        }
        group.id = id;
        let shards = u16::try_from(self.shards.len()).unwrap_or(u16::MAX);
        let s = usize::from(owner_of_key(&group.id, shards).0);
        let record = Record::GroupPut(group);
        let bytes = record
            .to_bytes()
            .map_err(|e| PersistError::Refused(e.to_string()))?;
        self.logs[s].append(&bytes)?;
        self.shards[s].apply(record);
        self.written += 1;
        Ok(())
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
