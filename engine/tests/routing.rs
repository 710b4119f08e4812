//! A data directory written under the older ownership rule (routing 1: a private group on
//! the shard of its whole GroupID) is placed by the current rule (the owner's shard) when
//! the engine starts on it, once, crash-safely (through the redistribution machinery).

use imps_engine::config::AccessConfig;
use imps_engine::persist::load_shard;
use imps_engine::record::{GroupRecord, ShardImage};
use imps_engine::routing::{ROUTING_VERSION, owner_of_key, stable_hash};
use imps_engine::server::{Engine, EngineConfig};
use imps_engine::storage::{DataDir, NewLayout};

const SHARDS: u16 = 2;

/// The shard routing 1 gave a key: its whole hash, multiply-shifted.
fn old_owner(key: &str) -> u16 {
    ((u128::from(stable_hash(key.as_bytes())) * u128::from(SHARDS)) >> 64) as u16
}

fn group(id: &str, owner: &str) -> GroupRecord {
    GroupRecord {
        id: id.into(),
        owner: Some(owner.into()),
        properties: vec![("Name".into(), "Room".into())],
        welcome: None,
        members: vec![(owner.into(), 2)],
        reject: Vec::new(),
    }
}

#[test]
fn groups_placed_by_the_old_rule_move_to_their_owners_shard_at_startup() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    // Private groups the old rule put on another shard than their owner's.
    let misplaced: Vec<GroupRecord> = (0..200)
        .map(|i| {
            let owner = format!("wv:user{i}@imps.local");
            group(&format!("wv:user{i}/room@imps.local"), &owner)
        })
        .filter(|g| old_owner(&g.id) != owner_of_key(&g.id, SHARDS).0)
        .take(5)
        .collect();
    assert_eq!(misplaced.len(), 5);
    {
        let dir = DataDir::open(&data, SHARDS).expect("data dir");
        let lock = dir.lock().expect("lock");
        let layout = NewLayout::begin(&dir, &lock, SHARDS).expect("layout");
        let mut images = [ShardImage::default(), ShardImage::default()];
        for g in &misplaced {
            images[usize::from(old_owner(&g.id))].groups.push(g.clone());
        }
        for (i, image) in images.iter().enumerate() {
            let bytes = image.to_bytes().expect("image");
            layout.write_shard(i as u16, &bytes).expect("write");
        }
        layout.commit().expect("commit");
    }
    // As an older build wrote it: no routing line.
    let format = std::fs::read_to_string(data.join("FORMAT")).expect("FORMAT");
    std::fs::write(data.join("FORMAT"), format.replace("routing 2\n", "")).expect("rewrite");
    assert_eq!(DataDir::open_existing(&data).expect("dir").routing(), 1);

    let mut config = EngineConfig::new(&data);
    config.pin = false;
    Engine::start(config)
        .expect("engine starts")
        .shutdown()
        .expect("shutdown");

    let dir = DataDir::open_existing(&data).expect("dir");
    assert_eq!(dir.routing(), ROUTING_VERSION);
    assert_eq!(dir.shards(), SHARDS);
    let key = dir.master_key().expect("master key");
    for i in 0..SHARDS {
        let (shard, report) =
            load_shard(&dir, i, AccessConfig::default(), key, [7; 32]).expect("shard loads");
        assert!(!report.lost_data(), "{report:?}");
        for g in shard.image().groups {
            let owner = g.owner.clone().expect("owner");
            assert_eq!(owner_of_key(&g.id, SHARDS).0, i, "{} is placed", g.id);
            assert_eq!(owner_of_key(&owner, SHARDS).0, i, "with its owner");
        }
    }
    let total: usize = (0..SHARDS)
        .map(|i| {
            load_shard(&dir, i, AccessConfig::default(), key, [7; 32])
                .expect("shard loads")
                .0
                .image()
                .groups
                .len()
        })
        .sum();
    assert_eq!(total, misplaced.len(), "no group lost or doubled");
}
