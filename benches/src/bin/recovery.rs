//! Recovery time and durable write rate of a real data directory.
//!
//! 1. Provisions `USERS` users on 2 shards (the tool writes a snapshot), then appends
//!    `RECORDS` contact-list records (`ContactListPut`, each a whole list of 3 contacts,
//!    4 lists per user, routed to the owner's shard) to the shards' logs.
//! 2. Recovery from the log alone: loads every shard as `Engine::start` does (newest
//!    snapshot, then every record after it; shards in parallel) and reports records/s.
//! 3. Recovery from snapshots: writes a snapshot of each shard (as a running server does
//!    every `SNAPSHOT_EVERY` records) and loads again; then appends almost another
//!    `SNAPSHOT_EVERY` records per shard and loads again (snapshots + tail: the slowest
//!    restart of a server that keeps its default snapshot interval).
//! 4. Durable write rate: starts the engine (group commit at its default window) and has
//!    `WRITERS` threads add users through `Admin::PutUser` (answered once its record is
//!    fsynced) for 5 s; reports writes/s and records per fsync.
//!
//! Run: `cargo run --release -p imps-benches --bin recovery -- [RECORDS] [USERS] [WRITERS]`
//! (defaults 10000000 100000 64). Needs about 170 bytes of disk per record in the
//! temporary directory (`TMPDIR`); removes it at the end.

use std::time::{Duration, Instant};

use imps_engine::config::AccessConfig;
use imps_engine::core::LogSeq;
use imps_engine::persist::{Provisioner, load_shard, load_shards};
use imps_engine::record::{ContactListRecord, ContactRecord, Record};
use imps_engine::routing::owner_of_key;
use imps_engine::server::{Engine, EngineConfig};
use imps_engine::shard::{Admin, Reply, Request};
use imps_engine::storage::{DataDir, SyncLog, recover, write_snapshot};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SHARDS: u16 = 2;
/// Segment size of the server's log (`ShardLogConfig::default`).
const SEGMENT_BYTES: u64 = 64 << 20;

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Loads every shard as `Engine::start` does (several at a time); (seconds, replayed).
fn load_all(dir: &DataDir) -> (f64, u64) {
    let key = dir.master_key().expect("key");
    let start = Instant::now();
    let shards = load_shards(dir, &AccessConfig::default(), key).expect("recovery");
    let secs = start.elapsed().as_secs_f64();
    let mut replayed = 0;
    for (_, report) in &shards {
        assert!(!report.lost_data(), "{:?}", report.damage);
        replayed += report.records_replayed;
    }
    (secs, replayed)
}

/// Appends records `first..first + records` (see the module docs), starting a new segment
/// every [`SEGMENT_BYTES`] as the server's log does; returns the seconds taken.
fn append_records(dir: &DataDir, first: u64, records: u64, users: u64) -> f64 {
    let start = Instant::now();
    let open = |i: u16| {
        let report =
            recover::<()>(&dir.shard_dir(i), |_, _| Ok(()), |_, _| Ok(())).expect("recover");
        SyncLog::create(&dir.shard_dir(i), report.next_seq).expect("log")
    };
    let mut logs: Vec<(SyncLog, u64)> = (0..dir.shards()).map(|i| (open(i), 0)).collect();
    for n in first..first + records {
        let owner = format!("wv:user{}@imps.local", n % users);
        let list = ContactListRecord {
            id: format!("wv:user{}/list{}@imps.local", n % users, n / users % 4),
            display_name: Some(format!("List {n}")),
            default: false,
            contacts: (0..3)
                .map(|c| ContactRecord {
                    user: format!("wv:friend{}@imps.local", (n + c) % 1_000_000),
                    nick: Some(format!("friend {c}")),
                })
                .collect(),
        };
        let shard = owner_of_key(&owner, SHARDS).0;
        let bytes = Record::ContactListPut(owner, list)
            .to_bytes()
            .expect("encode");
        let (log, written) = &mut logs[usize::from(shard)];
        log.append(&bytes).expect("append");
        *written += bytes.len() as u64 + 8;
        if *written >= SEGMENT_BYTES {
            log.commit().expect("commit");
            let next = log.next_seq();
            *log = SyncLog::create(&dir.shard_dir(shard), next).expect("next segment");
            *written = 0;
        }
    }
    for (log, _) in &mut logs {
        log.commit().expect("commit");
    }
    start.elapsed().as_secs_f64()
}

fn snapshot_all(dir: &DataDir) -> f64 {
    let key = dir.master_key().expect("key");
    let start = Instant::now();
    for i in 0..dir.shards() {
        let (shard, report) =
            load_shard(dir, i, AccessConfig::default(), key, [3; 32]).expect("recovery");
        let image = shard.image().to_bytes().expect("image");
        write_snapshot(&dir.shard_dir(i), LogSeq(report.next_seq.0 - 1), &image).expect("snap");
    }
    start.elapsed().as_secs_f64()
}

/// Durable writes for `secs` from `writers` threads; (writes, fsyncs).
fn write_rate(path: &std::path::Path, writers: u64, secs: u64) -> (u64, u64) {
    let engine = Engine::start(EngineConfig {
        shards: Some(SHARDS),
        pin: false,
        ..EngineConfig::new(path)
    })
    .expect("engine");
    let client = engine.client();
    let stop = Instant::now() + Duration::from_secs(secs);
    let written: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let client = client.clone();
                s.spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < stop {
                        let request = Request::Admin(Admin::PutUser {
                            user: format!("writer{w}x{n}"),
                            password: "pw".into(),
                            profile: Default::default(),
                        });
                        match client.call(request) {
                            Ok(Reply::Admin(Ok(_))) => n += 1,
                            other => panic!("write failed: {other:?}"),
                        }
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("writer")).sum()
    });
    let mut syncs = 0;
    for i in 0..engine.shards() {
        let pending = client
            .runtime()
            .spawn_on(i, |l| async move { l.stats().commits })
            .expect("stats");
        syncs += pending.wait().expect("stats");
    }
    engine.shutdown().expect("shutdown");
    (written, syncs)
}

fn main() {
    let records = arg(1, 10_000_000);
    let users = arg(2, 100_000).max(1);
    let writers = arg(3, 64).max(1);
    let path = std::env::temp_dir().join(format!("imps-recovery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);

    let start = Instant::now();
    let mut p = Provisioner::open(&path, Some(SHARDS), AccessConfig::default()).expect("dir");
    for i in 0..users {
        p.put_user(&format!("user{i}"), "pass", Default::default())
            .expect("user");
    }
    p.finish().expect("provisioned");
    println!(
        "provisioned {users} users on {SHARDS} shards in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let dir = DataDir::open_existing(&path).expect("dir");
    let secs = append_records(&dir, 0, records, users);
    println!(
        "appended {records} contact-list records in {secs:.1} s ({:.0} records/s, offline, one \
         fsync per MiB)",
        records as f64 / secs
    );

    let (secs, replayed) = load_all(&dir);
    println!(
        "recovery from the log alone: {replayed} records replayed in {secs:.2} s ({:.0} \
         records/s)",
        replayed as f64 / secs
    );
    let secs = snapshot_all(&dir);
    println!("snapshots written in {secs:.2} s (including a load)");
    let (secs, _) = load_all(&dir);
    println!("recovery from the snapshots alone: {secs:.2} s");
    // The worst case the server allows: almost a snapshot interval on every shard.
    let tail = imps_engine::server::SNAPSHOT_EVERY * u64::from(SHARDS) - 1;
    append_records(&dir, records, tail, users);
    let (secs, replayed) = load_all(&dir);
    println!(
        "recovery of {} records as the server keeps them (snapshots + a tail of {replayed} \
         records, just under the snapshot interval of {} records on each shard): {secs:.2} s",
        records + tail,
        imps_engine::server::SNAPSHOT_EVERY
    );

    let (written, syncs) = write_rate(&path, writers, 5);
    println!(
        "durable writes (Admin::PutUser, {writers} writers, group commit at the default \
         window): {:.0}/s, {:.1} records per fsync ({syncs} fsyncs)",
        written as f64 / 5.0,
        written as f64 / syncs.max(1) as f64
    );
    let _ = std::fs::remove_dir_all(&path);
}
